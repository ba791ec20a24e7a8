complete -c ripcrm -s m -l shmem-id -d 'Remove the shared memory segment with this id' -r
complete -c ripcrm -s M -l shmem-key -d 'Remove the shared memory segment with this key' -r
complete -c ripcrm -s q -l queue-id -d 'Remove the message queue with this id' -r
complete -c ripcrm -s Q -l queue-key -d 'Remove the message queue with this key' -r
complete -c ripcrm -s s -l semaphore-id -d 'Remove the semaphore array with this id' -r
complete -c ripcrm -s S -l semaphore-key -d 'Remove the semaphore array with this key' -r
complete -c ripcrm -l posix-shmem -d 'Remove the POSIX shared memory object with this name' -r
complete -c ripcrm -l posix-mqueue -d 'Remove the POSIX message queue with this name' -r
complete -c ripcrm -l posix-semaphore -d 'Remove the POSIX semaphore with this name' -r
complete -c ripcrm -s a -l all -d 'Remove all System V objects, or all of one kind given as --all=KIND or -aKIND (shm, msg, sem, or POSIX pshm, pmsg, psem)' -r
complete -c ripcrm -s v -l verbose -d 'Explain what is being done (for the removals given after it, and -a)'
complete -c ripcrm -s h -l help -d 'Print help'
complete -c ripcrm -s V -l version -d 'Print version'
