#!/usr/bin/env bash
# Lab 16: the whole container from our parts (README: "The whole container").
. "$(dirname "$0")/lib.sh"
lab_start 16 "the whole container" --netns -- "$@"
need roverlay runshare rchroot rvethpair rcgexec rlsns perl
lab_tmpdir
cg=boxutils-lab16-$$

say "The image: busybox and perl (for the escape probe), no download; /init runs as PID 1."
{ make_rootfs image && rchroot --install image perl >/dev/null; } || lab_fail "cannot build the image"
cat >image/init <<'INIT'
hostname box16; echo "PID 1: $(tr '\0' ' ' </proc/1/cmdline); host name: $(hostname)"
ps -o pid,comm >/ps; echo "processes: $(tail -n +2 /ps | xargs)"; echo "mounts: $(cut -d' ' -f5 /proc/self/mountinfo | xargs)"
perl /probe
for i in $(seq 300); do grep -q eth0 /proc/net/route && break; sleep 0.1; done
ping -c1 -w5 10.200.16.1 >/dev/null && echo "ping 10.200.16.1 (the host end): answered"
sh -c 'echo 1000 >/proc/self/oom_score_adj; x=$(head -c 100000000 /dev/zero | tr "\0" x)'; echo "memory hog: exit $?"
INIT
# The chroot escape (perl -e would need /dev/null): into a subdir, up by "..", chroot there.
printf '%s\n' 'mkdir "/x"; chroot "/x"; chdir ".." for 1..64; chroot "."; print -e "/init" ? "escape probe: still inside\n" : "escape probe: OUT\n"' >image/probe

say "A read-only lower (the image) and a writable upper: the container's root."
run "mkdir upper work root && roverlay mount --lower image --upper upper --work work root"
lab_mounted root
say "rcgexec: limits; runshare: mount, UTS, IPC, PID, net and cgroup namespaces;" \
    "rchroot --pivot: the overlay becomes / and the old root is detached."
undo "remove cgroup $cg" "cg_remove $cg"
lab_bg "rcgexec --name $cg --memory 32M --cpus 1 --pids 64 -- runshare -muipnC -f --kill-child rchroot --pivot --mount-proc root /bin/sh /init >log 2>&1"
lab_child "$LAB_BG" "runshare *" && lab_child "$LAB_CHILD" "/bin/sh /init" && init=$LAB_CHILD

say "From the host, while it runs: its namespaces and its cgroup's limits."
run "rlsns -p $init -o NS,TYPE,PID,COMMAND"
expect "six namespaces other than the host's" [ "$(ns_other "$init" mnt uts ipc pid net cgroup)" = 6 ]
mapfile -t limits < <(cg_files "$init")
run "grep -H . ${limits[*]}"
expect_out "32M of memory" "(memory.limit_in_bytes|memory.max):33554432$"
expect_out "64 tasks" "pids.max:64$"

say "A veth pair, one end in the container (found by its PID), an address on each."
run "rvethpair add veth16 eth0 --peer-netns $init --addr 10.200.16.1/24 --peer-addr 10.200.16.2/24"
{ wait "$LAB_BG"; } 2>/dev/null
run "cat log"
look "the container's own view, and rcgexec's word on the memory hog."
expect_out "PID 1 is the container's init" "^PID 1: /bin/sh /init ; host name: box16$"
expect_out "only its own processes" "^processes: 1 sh [0-9]+ ps$"
expect_out "only its own mounts" "^mounts: / /proc$"
expect_out "the old root is out of reach" "^escape probe: still inside$"
expect_out "the host end answers" "answered$"
expect_out "the hog was killed" "^memory hog: exit 137$"
expect_out "rcgexec says so" "the memory limit \(32M\) killed [0-9]+ process"

say "After it: no cgroup, no mount of it, no veth on the host."
wait_until "! ip link show veth16 >/dev/null 2>&1" # the kernel ends a netns in its own time
run "roverlay umount root; find /sys/fs/cgroup -name $cg; ip -br link"
expect "the cgroups are gone" [ -z "$(find /sys/fs/cgroup -name "$cg")" ]
expect_no_out "the host end went with the container" "^veth16"
lab_done
