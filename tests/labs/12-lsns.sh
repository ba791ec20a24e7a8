#!/usr/bin/env bash
# Lab 12 (notebook 2): the namespaces of a process, listed.
. "$(dirname "$0")/lib.sh"
lab_start 12 "namespaces listed" --mountns -- "$@"
need runshare rlsns lsns

say "After unshare -m, lsns -p \$\$ lists the shell's namespaces: the mnt one is new," \
    "with NPROCS counting only the processes in it."
run "runshare -m /bin/sh -c 'rlsns -p \$\$'"
look "columns NS, TYPE, NPROCS, PID, USER, COMMAND; the mnt row's PID is the shell."
expect_out "the columns of lsns" "^ +NS TYPE +NPROCS +PID USER +COMMAND$"
inner_mnt=$(awk '$2 == "mnt" {print $1}' <<<"$OUT")
expect "a new mnt namespace, not the lab's" [ "$inner_mnt" != "$(stat -Lc %i /proc/$$/ns/mnt)" ]
expect "the other seven are the lab's" [ "$(awk '$2 != "mnt" && $2 != "TYPE" {print $1}' <<<"$OUT" | sort)" = "$(for t in cgroup ipc net pid time user uts; do stat -Lc %i /proc/$$/ns/$t; done | sort)" ]
expect "two processes in the new mnt namespace: the shell and rlsns" [ "$(awk '$2 == "mnt" {print $3}' <<<"$OUT")" = 2 ]

say "The same question to util-linux's lsns, to compare: same rows, same PIDs (NPROCS moves with the host, so it is left out)."
run "runshare -m /bin/sh -c 'rlsns -p \$\$ -o NS,TYPE,PID,USER | sort; lsns -p \$\$ -o NS,TYPE,PID,USER | sort'"
half=$(($(wc -l <<<"$OUT") / 2))
expect "rlsns and lsns agree" [ "$(head -n $half <<<"$OUT")" = "$(tail -n $half <<<"$OUT")" ]
lab_done
