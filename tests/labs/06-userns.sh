#!/usr/bin/env bash
# Lab 6 (notebook 1): does this kernel have user namespaces?
. "$(dirname "$0")/lib.sh"
lab_start 06 "USER namespace support" -- "$@"
need runshare setpriv

say "The notebook grepped /boot/config-\$(uname -r) for CONFIG_USER_NS; that file may" \
    "be absent. /proc tells too: every process has a user namespace link, and the" \
    "kernel's limit on them is a sysctl."
config=/boot/config-$(uname -r)
if [ -r "$config" ]; then
    run "grep CONFIG_USER_NS= $config"
    expect_out "CONFIG_USER_NS is on" "^CONFIG_USER_NS=y$"
else
    echo "($config is absent here)"
fi
run "readlink /proc/self/ns/user; cat /proc/sys/user/max_user_namespaces"
expect_out "this process has a user namespace" "^user:\[[0-9]+\]$"
expect "more than zero user namespaces are allowed" [ "$(tail -1 <<<"$OUT")" -gt 0 ]

say "And the proof: an ordinary user (nobody, by setpriv) makes one. Inside it is" \
    "uid 0, which the map ties to its own uid outside."
run "setpriv --reuid 65534 --regid 65534 --clear-groups runshare -U --map-root-user /bin/sh -c 'id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user'"
expect_out "root inside" "^0$"
expect_out "uid 0 inside is uid 65534 outside" "^ +0 +65534 +1$"
expect "another user namespace" [ "$(tail -1 <<<"$OUT")" != "$(readlink /proc/self/ns/user)" ]
lab_done
