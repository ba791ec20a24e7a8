#!/usr/bin/env bash
# Lab 8 (notebook 1, ABANDONED there): a command under CPU, memory and
# process limits, on cgroup v1 or v2, without mounting anything.
. "$(dirname "$0")/lib.sh"
lab_start 08 "cgroups: limits" --mountns -- "$@"
need rcgexec findmnt

say "The notebook read /proc/cgroups, the kernel's controllers (hierarchy 0: on" \
    "cgroup v2), and mounted a v1 hierarchy by hand before it stopped."
run "cat /proc/cgroups"
expect_out "the memory controller is enabled" "^memory\s.*\s1$"
run "findmnt -t cgroup,cgroup2 -o TARGET,FSTYPE,OPTIONS"
look "the hierarchies are mounted already (v1: one per controller, v2: one tree)."
expect_out "a cgroup file system is mounted" "cgroup"

say "Every process is in a cgroup of each hierarchy; rcgexec makes a new one below" \
    "its own, sets the limits and starts the command inside it."
run "cat /proc/self/cgroup"
name=boxutils-lab08-$$
undo "remove cgroup $name" "cg_remove $name"
lab_bg "rcgexec --name $name --memory 64M --cpus 0.5 --pids 20 -- sleep 600"
lab_child "$LAB_BG" "sleep 600" && pid=$LAB_CHILD
run "cat /proc/$pid/cgroup"
look "the memory, CPU and pids paths end in $name: the same paths as ours, one deeper."
expect_out "sleep is in the new memory cgroup" ":memory:.*/$name$|^0::.*/$name$"
mapfile -t files < <(cg_files "$pid")
run "grep -H . ${files[*]}"
look "64M is 67108864 bytes; 0.5 CPU is 50000 us of every 100000; 20 tasks."
expect_out "memory is limited to 64M" "(memory.limit_in_bytes|memory.max):67108864$"
expect_out "tasks are limited to 20" "pids.max:20$"
expect_out "CPU is limited to half of one" "cpu.cfs_quota_us:50000$|cpu.max:50000 100000$"

say "When the command ends, rcgexec removes its cgroup (and kills anything left in it)."
run "kill $pid"
{ wait "$LAB_BG"; } 2>/dev/null
run_fails "ls -d $(dirname "${files[0]}")"
expect "the cgroup is gone" [ ! -e "$(dirname "${files[0]}")" ]

say "A memory hog under a 32M limit: the kernel kills it, and rcgexec says so."
run_fails "rcgexec --memory 32M -- sh -c 'x=\$(head -c 100000000 /dev/zero | tr \"\\0\" x); echo survived'"
expect_out "rcgexec names the memory limit as the cause" "killed by the memory limit \(32M\)"
expect_no_out "the hog did not survive" "survived"

say "A process limit: 10 tasks, and a shell that tries to start 20 sleeps."
run_fails "rcgexec --pids 10 -- sh -c 'for i in \$(seq 20); do sleep 1 & done; wait'"
expect_out "fork fails once the limit is reached" "[Cc]annot fork|Resource temporarily unavailable"
lab_done
