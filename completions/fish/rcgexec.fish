complete -c rcgexec -s g -d 'Join the existing cgroup PATH (from each hierarchy\'s root) of CONTROLLERS (comma-separated; `*` for every hierarchy; empty for cgroup2), as cgexec does. May be repeated' -r
complete -c rcgexec -l memory -d 'Limit memory to SIZE (bytes, or with K, M, G, T: powers of 1024)' -r
complete -c rcgexec -l memory-swap -d 'Limit memory and swap together to SIZE (docker\'s meaning; needs --memory)' -r
complete -c rcgexec -l cpus -d 'Limit CPU time to N CPUs\' worth (0.5: half of one CPU), per 100 ms period' -r
complete -c rcgexec -l cpuset -d 'Run only on the CPUs of LIST (`0-2,4`)' -r
complete -c rcgexec -l pids -d 'Limit the number of tasks (processes and threads) to N' -r
complete -c rcgexec -l name -d 'Name the cgroup NAME (below rcgexec\'s own cgroup; from each hierarchy\'s root when it starts with /); default rcgexec-PID' -r -F
complete -c rcgexec -l monitor -d 'Every SECS seconds while the command runs, print its CPU use, memory and tasks on stderr' -r
complete -c rcgexec -l sticky -d 'Accepted for cgexec\'s scripts; rcgexec never consults cgrulesengd, so the command\'s children stay where they are anyway'
complete -c rcgexec -l keep -d 'Keep the cgroup after the command ends (processes left in it are still killed)'
complete -c rcgexec -l stats -d 'After the command ends, report its CPU time, peak memory, peak number of tasks and OOM kills on stderr'
complete -c rcgexec -s J -l json -d 'Print --stats and --monitor as JSON'
complete -c rcgexec -l best-effort -d 'Run the command even when a limit cannot be enforced (say which, and why)'
complete -c rcgexec -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rcgexec -s V -l version -d 'Print version'
