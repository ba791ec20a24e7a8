complete -c ripcmk -s M -l shmem -d 'Create a shared memory segment of SIZE bytes; SIZE may end in K, M, G, T, P, E (powers of 1024, also KiB, MiB, ...) or KB, MB, ... (powers of 1000)' -r
complete -c ripcmk -s S -l semaphore -d 'Create a semaphore array with NUMBER elements' -r
complete -c ripcmk -s m -l posix-shmem -d 'Create a POSIX shared memory object of SIZE bytes named by --name' -r
complete -c ripcmk -s n -l name -d 'The name of the POSIX objects, such as /NAME (needed for -m, -q, -s)' -r
complete -c ripcmk -s p -l mode -d 'Permission for the resource, in octal (default 0644)' -r
complete -c ripcmk -s Q -l queue -d 'Create a message queue'
complete -c ripcmk -s q -l posix-mqueue -d 'Create a POSIX message queue named by --name'
complete -c ripcmk -s s -l posix-semaphore -d 'Create a POSIX named semaphore (value 0) named by --name'
complete -c ripcmk -s h -l help -d 'Print help'
complete -c ripcmk -s V -l version -d 'Print version'
