#!/usr/bin/env bash
# Lab 10 (notebook 1, a heading without text there): what a command in a
# cgroup used, and watching it while it runs.
. "$(dirname "$0")/lib.sh"
lab_start 10 "resource monitoring" --mountns -- "$@"
need rcgexec

say "rcgexec --stats reports, after the command, what its cgroup used: CPU time," \
    "peak memory, the most tasks at once, and OOM kills. The command here keeps a" \
    "CPU busy for a moment, holds 20 MB, and runs a few processes."
job="sh -c 'i=0; while [ \$i -lt 100000 ]; do i=\$((i+1)); done; x=\$(head -c 20000000 /dev/zero | tr \"\\0\" x); sleep 0.1 & sleep 0.1 & wait'"
run "rcgexec --stats -- $job"
look "cpu user is the busy loop; memory peak counts the 20 MB string; tasks peak the sleeps."
expect_out "CPU time is reported" "^rcgexec: cpu user: [0-9.]+s$"
peak=$(sed -n 's/^rcgexec: memory peak: .*(\([0-9]*\) bytes)$/\1/p' <<<"$OUT")
expect "the peak memory is at least 20 MB" [ "${peak:-0}" -ge 20000000 ]
tasks=$(sed -n 's/^rcgexec: tasks peak: //p' <<<"$OUT")
expect "at least 3 tasks ran at once (sh and two sleeps)" [ "${tasks:-0}" -ge 3 ]
expect_out "no OOM kill" "^rcgexec: oom kills: 0$"

say "The same as JSON, for a program to read:"
run "rcgexec --stats -J -- $job"
expect_out "JSON with the same fields" '^\{.*"cpu_seconds":.*"memory_peak_bytes":.*"tasks_peak":'

say "rcgexec --monitor SECS prints one line every SECS seconds while the command runs:" \
    "here a busy loop limited to half a CPU, for 2.5 seconds."
run "rcgexec --cpus 0.5 --monitor 1 -- sh -c 'sh -c \"while :; do :; done\" & sleep 2.5; kill \$!'"
look "about 50% CPU each second: the limit at work."
expect "two lines or more" [ "$(grep -c '^rcgexec: .* cpu .*%' <<<"$OUT")" -ge 2 ]
cpu=$(sed -n 's/^rcgexec: 2\.[0-9]s cpu \([0-9]*\)\..*/\1/p' <<<"$OUT")
expect "the CPU use stays near the limit (at most 70%)" [ "${cpu:-100}" -le 70 ]
lab_done
