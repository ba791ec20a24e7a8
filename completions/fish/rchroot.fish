complete -c rchroot -l userspec -d 'Specify user and group (ID or name) to use' -r
complete -c rchroot -l groups -d 'Specify supplementary groups as g1,g2,..,gN' -r
complete -c rchroot -l skip-chdir -d 'Do not change the working directory to / (only with NEWROOT = /)'
complete -c rchroot -l pivot -d 'Enter a new private mount namespace and pivot_root(2) into NEWROOT, detaching the old root: nothing above NEWROOT stays reachable'
complete -c rchroot -l mount-proc -d 'With --pivot: mount a fresh proc on NEWROOT/proc, which must be a directory'
complete -c rchroot -l install -d 'Copy each PROGRAM (searched in PATH when it has no slash) with its ELF interpreter and every shared library it needs into NEWROOT'
complete -c rchroot -l help -d 'Print help'
complete -c rchroot -l version -d 'Print version'
