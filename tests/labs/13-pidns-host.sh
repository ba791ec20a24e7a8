#!/usr/bin/env bash
# Lab 13 (notebook 2): a PID namespace seen from inside and from the host.
. "$(dirname "$0")/lib.sh"
lab_start 13 "PID namespace, inside and outside" --mountns -- "$@"
need runshare rnsenter rlsns ps
lab_tmpdir

say "runshare -fp --mount-proc starts a shell as PID 1 of a new PID namespace, with a" \
    "/proc of its own; ps inside sees only that namespace."
run "runshare -fp --mount-proc /bin/sh -c 'ps -ef; exit'"
look "PID 1 is /bin/sh, the only other process is ps itself."
expect_out "PID 1 is /bin/sh" "^root +1 +0 .*/bin/sh"
expect "two processes: sh and ps" [ "$(grep -vc '^UID' <<<"$OUT")" = 2 ]

say "Now a container that stays: a sleeping PID 1, started in the background. From" \
    "the host it is an ordinary process with an ordinary PID."
lab_bg "runshare -fp --mount-proc --kill-child sleep 600 >/dev/null"
lab_child "$LAB_BG" "sleep 600" && init=$LAB_CHILD
run "ps -o pid,ppid,cmd -p $LAB_BG,$init"
look "runshare ($LAB_BG) and its child $init, the container's PID 1, as the host numbers it."
expect "the container's init has a host PID" [ -n "$init" ]

run "rlsns -t pid -p $init"
ns=$(awk 'NR==2 {print $1}' <<<"$OUT")
expect "it is in a PID namespace other than the lab's" [ "$ns" != "$(stat -Lc %i /proc/$$/ns/pid)" ]

say "rnsenter joins the container's PID and mount namespaces: inside, the same" \
    "namespace is PID 1's."
run "rnsenter -t $init -p -m rlsns -t pid -p 1"
look "the NS column names the namespace the host saw for PID $init."
expect "inside, PID 1's namespace is the one the host sees" [ "$(awk 'NR==2 {print $1}' <<<"$OUT")" = "$ns" ]
run "rnsenter -t $init -p -m ps -ef"
expect_out "inside, PID 1 is sleep" "^root +1 +0 .*sleep 600"

say "Killing the container's PID 1 from the host ends the container: every process" \
    "of a PID namespace dies with its init."
run "kill -SIGKILL $init"
{ wait "$LAB_BG"; } 2>/dev/null # quiet: no "Killed" job notice
status=$?
echo "(runshare, which was waiting for it, ended with status $status: killed as its child was)"
expect "runshare ends with its child's signal, as unshare does" [ "$status" = 137 ]
run "rlsns -t pid"
expect_no_out "the namespace is gone" "^ *$ns "
lab_done
