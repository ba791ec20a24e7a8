#!/usr/bin/env bash
# Lab 16, rootless: the whole container made by an ordinary user, as bwrap
# and rootless podman users expect; what needs host privilege is skipped.
. "$(dirname "$0")/lib.sh"
lab_start 16r "the whole container, rootless" --rootless -- "$@"
need roverlay runshare rchroot rlsns perl
lab_tmpdir

say "The image, as in lab 16; /init waits for a line on stdin, so the host can look first."
{ make_rootfs image && rchroot --install image perl >/dev/null; } || lab_fail "cannot build the image"
cat >image/init <<'INIT'
read -r go; hostname box16; echo "PID 1: $(tr '\0' ' ' </proc/1/cmdline); host name: $(hostname); id: $(id -u)"
ps -o pid,comm >/ps; echo "processes: $(tail -n +2 /ps | xargs)"; echo "mounts: $(cut -d' ' -f5 /proc/self/mountinfo | xargs)"
perl /probe
INIT
# The chroot escape (perl -e would need /dev/null): into a subdir, up by "..", chroot there.
printf '%s\n' 'mkdir "/x"; chroot "/x"; chdir ".." for 1..64; chroot "."; print -e "/init" ? "escape probe: still inside\n" : "escape probe: OUT\n"' >image/probe
mkdir upper work root && mkfifo go && exec 3<>go

say "A user namespace first (-U --map-root-user: root inside is us outside), then the" \
    "mount, UTS, IPC, PID, net and cgroup namespaces; the overlay is mounted inside the" \
    "user namespace (userxattr: its whiteouts are user.* xattrs), then --pivot."
lab_bg "runshare -U --map-root-user -muipnC -f --kill-child /bin/sh -c 'roverlay mount -o userxattr --lower image --upper upper --work work root && exec rchroot --pivot --mount-proc root /bin/sh /init' <&3 >log 2>&1"
lab_child "$LAB_BG" "/bin/sh /init" && init=$LAB_CHILD
run "rlsns -p $init -o NS,TYPE,PID,USER,COMMAND"
expect "seven namespaces other than the host's (user too)" [ "$(ns_other "$init" user mnt uts ipc pid net cgroup)" = 7 ]
run "ps -o user,pid,comm -p $init"
expect "on the host, the container's root is $(id -un)" [ "$(ps -o uid= -p "$init" | tr -d ' ')" = "$(id -u)" ]

say "Skipped, with the reason (lab 16 as root does them):"
echo "  veth to the host: needs CAP_NET_ADMIN in the host's network namespace"
echo "  cgroup limits: $(id -un) has no delegated cgroup (systemd-run --user --scope -p Delegate=yes gives one)"

echo go >&3
{ wait "$LAB_BG"; } 2>/dev/null
run "cat log"
expect_out "PID 1 is the container's init, root inside" "^PID 1: /bin/sh /init ; host name: box16; id: 0$"
expect_out "only its own processes" "^processes: 1 sh [0-9]+ ps$"
expect_out "only its own mounts" "^mounts: / /proc$"
expect_out "the old root is out of reach" "^escape probe: still inside$"
run "ls -ln upper"
expect_out "its writes are ours on the host" " $(id -u) +$(id -g) .* ps$"
lab_done
