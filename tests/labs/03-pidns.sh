#!/usr/bin/env bash
# Lab 3 (notebook 1): a PID namespace, with and without -p.
. "$(dirname "$0")/lib.sh"
lab_start 03 "PID namespace" --mountns -- "$@"
need runshare ps

say "unshare -f -p --mount-proc /bin/sh: the shell is PID 1 of a new PID namespace," \
    "and a /proc of its own shows only that namespace's processes."
run "runshare -f -p --mount-proc /bin/sh -c 'ps -ef; exit'"
look "two lines: /bin/sh as PID 1, and ps -ef itself."
expect_out "PID 1 is /bin/sh" "^root +1 +0 .*/bin/sh"
expect "only sh and ps are listed" [ "$(grep -vc '^UID' <<<"$OUT")" = 2 ]

say "Without -p the shell stays in the host's PID namespace: ps -ef shows the whole" \
    "host, from its PID 1 (systemd or init) on."
run "runshare -f /bin/sh -c 'ps -ef; exit'"
look "PID 1 is the host's init, and every process of the host is listed."
expect_no_out "PID 1 is not our shell" "^root +1 +0 .*/bin/sh -c ps"
expect "many more processes than two" [ "$(grep -vc '^UID' <<<"$OUT")" -gt 2 ]

say "The PID namespace of a process is a link in /proc/PID/ns: the inner one differs."
run "readlink /proc/self/ns/pid; runshare -fp readlink /proc/self/ns/pid"
expect "the two namespaces differ" [ "$(sort -u <<<"$OUT" | grep -c '^pid:')" = 2 ]
lab_done
