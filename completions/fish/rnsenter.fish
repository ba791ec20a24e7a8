complete -c rnsenter -s t -l target -d 'The target process to get namespaces, root, working directory, environment and ids from (given twice, the last one counts)' -r
complete -c rnsenter -s m -l mount -d 'Enter the mount namespace (of the target, or of FILE)' -r -F
complete -c rnsenter -s u -l uts -d 'Enter the UTS namespace (hostname etc)' -r -F
complete -c rnsenter -s i -l ipc -d 'Enter the System V IPC namespace' -r -F
complete -c rnsenter -s n -l net -d 'Enter the network namespace (FILE may be a name under /run/netns)' -r -F
complete -c rnsenter -s N -l net-socket -d 'Enter the network namespace of the socket FD of the target (util-linux 2.41)' -r
complete -c rnsenter -s p -l pid -d 'Enter the PID namespace (the command then runs as a child of rnsenter)' -r -F
complete -c rnsenter -s C -l cgroup -d 'Enter the cgroup namespace' -r -F
complete -c rnsenter -s U -l user -d 'Enter the user namespace' -r -F
complete -c rnsenter -s T -l time -d 'Enter the time namespace' -r -F
complete -c rnsenter -s S -l setuid -d 'Set the user ID in the entered namespaces (`follow`: the target\'s)' -r
complete -c rnsenter -s G -l setgid -d 'Set the group ID in the entered namespaces (`follow`: the target\'s)' -r
complete -c rnsenter -s r -l root -d 'Set the root directory (the target\'s, or DIR)' -r -F
complete -c rnsenter -s w -l wd -d 'Set the working directory (the target\'s, or DIR)' -r -F
complete -c rnsenter -s W -l wdns -d 'Set the working directory to DIR as seen inside the entered namespaces (-W DIR, -WDIR, --wdns=DIR)' -r -F
complete -c rnsenter -s a -l all -d 'Enter all namespaces of the target (its user namespace only when it is not ours)'
complete -c rnsenter -l user-parent -d 'Enter the parent of the target\'s user namespace (or of the one -U names)'
complete -c rnsenter -l preserve-credentials -d 'Do not touch user and group IDs when entering a user namespace'
complete -c rnsenter -l keep-caps -d 'Keep the capabilities granted in the entered user namespace (as ambient ones)'
complete -c rnsenter -s e -l env -d 'Run the command with the environment of the target'
complete -c rnsenter -s F -l no-fork -d 'Do not fork before running the command (even when entering a PID namespace)'
complete -c rnsenter -s c -l join-cgroup -d 'Join the cgroup of the target (cgroup v2 only)'
complete -c rnsenter -s Z -l follow-context -d 'Run the command in the SELinux context of the target (nothing to do without SELinux)'
complete -c rnsenter -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rnsenter -s V -l version -d 'Print version'
