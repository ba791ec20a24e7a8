complete -c rlsns -s o -l output -d 'Define which output columns to use (`+LIST` adds to the default ones)' -r
complete -c rlsns -s p -l task -d 'Print the namespaces of process PID' -r
complete -c rlsns -s Q -l filter -d 'Print only the namespaces (lines) that meet the expression, in util-linux\'s filter language (scols-filter(5)), e.g. \'USER != "root" and NPROCS > 1\'' -r
complete -c rlsns -s t -l type -d 'Namespace type (mnt, net, ipc, user, pid, uts, cgroup, time); repeatable' -r
complete -c rlsns -s T -l tree -d 'Use tree format (parent, owner, or process); the value must be attached (-Tparent, --tree=parent)' -r
complete -c rlsns -s J -l json -d 'Use JSON output format'
complete -c rlsns -s l -l list -d 'Use list format output (no tree)'
complete -c rlsns -s n -l noheadings -d 'Don\'t print headings'
complete -c rlsns -l output-all -d 'Output all columns'
complete -c rlsns -s P -l persistent -d 'Only namespaces without processes (held by bind mounts, descriptors or sockets)'
complete -c rlsns -s r -l raw -d 'Use the raw output format'
complete -c rlsns -s u -l notruncate -d 'Don\'t truncate text in columns'
complete -c rlsns -s W -l nowrap -d 'Don\'t use multi-line representation'
complete -c rlsns -s H -l list-columns -d 'List the available columns'
complete -c rlsns -s h -l help -d 'Print help'
complete -c rlsns -s V -l version -d 'Print version'
