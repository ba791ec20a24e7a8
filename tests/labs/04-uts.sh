#!/usr/bin/env bash
# Lab 4 (notebook 1): a UTS namespace has a host name of its own.
. "$(dirname "$0")/lib.sh"
lab_start 04 "UTS namespace" -- "$@"
need runshare hostname

host_name=$(hostname)
say "unshare -u /bin/bash: a shell with a UTS namespace of its own, where hostname" \
    "changes only the inside."
run "hostname; readlink /proc/\$\$/ns/uts"
outer_uts=$(tail -1 <<<"$OUT")
run "runshare -u /bin/sh -c 'hostname happy.test.com; hostname; readlink /proc/\$\$/ns/uts'"
look "the new name, and a uts:[...] inode other than the host's ($outer_uts)."
expect_out "inside, the name is happy.test.com" "^happy\.test\.com$"
expect "the UTS namespace inside is another one" [ "$(tail -1 <<<"$OUT")" != "$outer_uts" ]

say "After the shell exits, the host's name is unchanged."
run "hostname"
expect "the host is still $host_name" [ "$OUT" = "$host_name" ]
lab_done
