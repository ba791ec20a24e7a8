complete -c runshare -s m -l mount -d 'Unshare the mount namespace; with FILE, keep it by a bind mount there' -r -F
complete -c runshare -s u -l uts -d 'Unshare the UTS namespace (hostname etc); with FILE, keep it there' -r -F
complete -c runshare -s i -l ipc -d 'Unshare the System V IPC namespace; with FILE, keep it there' -r -F
complete -c runshare -s n -l net -d 'Unshare the network namespace; with FILE, keep it there' -r -F
complete -c runshare -s p -l pid -d 'Unshare the PID namespace; with FILE, keep it there' -r -F
complete -c runshare -s U -l user -d 'Unshare the user namespace; with FILE, keep it there' -r -F
complete -c runshare -s C -l cgroup -d 'Unshare the cgroup namespace; with FILE, keep it there' -r -F
complete -c runshare -s T -l time -d 'Unshare the time namespace; with FILE, keep it there' -r -F
complete -c runshare -l mount-proc -d 'Mount the proc filesystem on DIR (default /proc) first (implies --mount)' -r -F
complete -c runshare -l mount-binfmt -d 'Mount a binfmt_misc filesystem on DIR (default /proc/sys/fs/binfmt_misc, with /proc mounted first) (implies --user and --mount)' -r -F
complete -c runshare -s l -l load-interp -d 'Register the binfmt_misc definition DEF (:name:type:offset:magic:mask:interpreter:flags) in the namespace (implies --mount-binfmt)' -r
complete -c runshare -l propagation -d 'Modify mount propagation in the mount namespace (default private)' -r
complete -c runshare -s R -l root -d 'Run the command with root directory set to DIR' -r -F
complete -c runshare -s w -l wd -d 'Change working directory to DIR (inside the new root: one outside is refused)' -r -F
complete -c runshare -s S -l setuid -d 'Set uid in the entered namespace' -r
complete -c runshare -s G -l setgid -d 'Set gid in the entered namespace (and drop supplementary groups)' -r
complete -c runshare -l map-user -d 'Map the current user to UID (implies --user)' -r
complete -c runshare -l map-group -d 'Map the current group to GID (implies --user)' -r
complete -c runshare -l map-users -d 'Map COUNT users from OUTER to INNER; also OUTER,INNER,COUNT, `auto`, `subids` and `all` (implies --user)' -r
complete -c runshare -l map-groups -d 'Map COUNT groups from OUTER to INNER; also OUTER,INNER,COUNT, `auto`, `subids` and `all` (implies --user)' -r
complete -c runshare -l owner -d 'Make the user namespace owned by UID:GID (numbers or names) of this namespace rather than by the caller: root makes one for another user (implies --user)' -r
complete -c runshare -l kill-child -d 'When runshare dies, kill the forked child with SIGNAL (default SIGKILL; implies --fork)' -r
complete -c runshare -l setgroups -d 'Control the setgroups syscall in user namespaces' -r
complete -c runshare -l whitelist-env -d 'Run the command with only the environment variables named in the comma-separated LIST' -r
complete -c runshare -l monotonic -d 'Set clock monotonic offset (seconds) in time namespaces' -r
complete -c runshare -l boottime -d 'Set clock boottime offset (seconds) in time namespaces' -r
complete -c runshare -s r -l map-root-user -d 'Map the current user and group to root (implies --user)'
complete -c runshare -s c -l map-current-user -d 'Map the current user and group to themselves (implies --user)'
complete -c runshare -l map-auto -d 'Map the first subordinate user and group ranges of /etc/subuid and /etc/subgid (implies --user)'
complete -c runshare -l map-subids -d 'Map the first subordinate user and group ranges of /etc/subuid and /etc/subgid to the same IDs inside (implies --user)'
complete -c runshare -s f -l fork -d 'Fork before launching the command'
complete -c runshare -l forward-signals -d 'Forward SIGTERM and SIGINT to the child (implies --fork)'
complete -c runshare -l keep-caps -d 'Retain capabilities granted in user namespaces'
complete -c runshare -l clear-env -d 'Run the command with an empty environment (the default shell then comes from the passwd entry)'
complete -c runshare -s h -l help -d 'Print help'
complete -c runshare -s V -l version -d 'Print version'
