#!/usr/bin/env bash
# The demo of packaging/install.sh, run as root after it: Lab 1 of the
# notebooks with rchroot. Cleans up after itself.
set -euo pipefail
root=$(mktemp -d /tmp/boxutils-demo.XXXXXX)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
say() { printf '\n$ %s\n' "$*"; }

echo '== Lab 1: chroot by hand, and why it fails =='
say "mkdir -p NEWROOT/bin; cp /bin/sh NEWROOT/bin/"
mkdir -p "$root/bin"
cp /bin/sh "$root/bin/"
say "rchroot NEWROOT /bin/sh -c 'echo hello'   # the file is there, its loader is not"
if rchroot "$root" /bin/sh -c 'echo hello' 2>&1; then
    echo "unexpected: a root with only /bin/sh worked" >&2
    exit 1
else
    echo "(exit $?)"
fi

say "rchroot --install NEWROOT /bin/sh /bin/ls   # with the interpreter and every library"
rchroot --install "$root" /bin/sh /bin/ls
(cd "$root" && find . -mindepth 1 | sort | sed 's/^/  /')

say "rchroot NEWROOT /bin/ls /"
rchroot "$root" /bin/ls /

say "rchroot NEWROOT /bin/sh -c 'echo inside: \$(/bin/ls /)'"
rchroot "$root" /bin/sh -c 'echo inside: $(/bin/ls /)'

echo
echo '== A root that cannot be climbed out of: --pivot =='
mkdir -p "$root/proc"
echo "this is NEWROOT" >"$root/marker"
say "rchroot --pivot --mount-proc NEWROOT /bin/sh -c 'read m </marker; echo \$m; /bin/ls /; while read -r l; do echo \"  \$l\"; done </proc/self/mountinfo'"
rchroot --pivot --mount-proc "$root" /bin/sh -c \
    'read m </marker; echo "$m"; /bin/ls /; while read -r l; do echo "  $l"; done </proc/self/mountinfo'
if grep -qF " $root " /proc/self/mountinfo; then
    echo "unexpected: a mount of NEWROOT was left on the host" >&2
    exit 1
fi
echo
echo "no mount left on the host"

echo
echo '== Namespaces: runshare, rlsns, rnsenter, ripcmk/ripcs =='
say "runshare -fp --mount-proc ps -o pid,comm   # PID 1 is the command"
runshare -fp --mount-proc ps -o pid,comm
say "runshare -u sh -c 'hostname demo.box; hostname'; hostname   # the host keeps its name"
runshare -u sh -c 'hostname demo.box; hostname'
hostname
say "runshare -m rlsns -p \$\$ -o NS,TYPE,NPROCS,PID,COMMAND   # a new mnt namespace"
runshare -m sh -c 'rlsns -p $$ -o NS,TYPE,NPROCS,PID,COMMAND'
say "runshare -i sh -c 'ripcmk -M 100; ripcs -m'   # an IPC namespace of its own"
runshare -i sh -c 'ripcmk -M 100; ripcs -m'

echo
echo '== Lab 14: two named network namespaces joined by a veth pair (in a network namespace of its own) =='
# Everything below lives in a fresh network and mount namespace, so the host's
# network is never touched; 10.200.0.0/16 only.
runshare -nm sh -euc '
    mount -t tmpfs tmpfs /run/netns 2>/dev/null || { mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; }
    say() { printf "\n$ %s\n" "$*"; }
    say rvethpair netns add RED BLUE
    rvethpair netns add RED BLUE
    say rvethpair add veth0 veth1 --netns RED --peer-netns BLUE --addr 10.200.1.1/24 --peer-addr 10.200.1.2/24
    rvethpair add veth0 veth1 --netns RED --peer-netns BLUE --addr 10.200.1.1/24 --peer-addr 10.200.1.2/24
    say rvethpair add bad0 bad1 --netns RED --peer-netns BLUE --addr 10.200.2.1/24 --peer-addr 10.200.2.1/24
    rvethpair add bad0 bad1 --netns RED --peer-netns BLUE --addr 10.200.2.1/24 --peer-addr 10.200.2.1/24 || echo "(exit $?: the notebook'"'"'s mistake, refused)"
    say rnsenter --net=RED ip -br addr
    rnsenter --net=RED ip -br addr
    say rnsenter --net=RED ping -c1 -w5 10.200.1.2
    rnsenter --net=RED ping -c1 -w5 10.200.1.2 | head -2
    say rvethpair netns del RED BLUE
    rvethpair netns del RED BLUE
    rvethpair netns list
'

echo
echo '== Lab 16: the whole container, from these parts (tests/labs/16-container.sh) =='
# The lab in check mode; shown here: the container's own view, then the host.
lab16=$(dirname "$(readlink -f "$0")")/16-container.sh
set +e
out=$(bash "$lab16" --check 2>&1)
rc=$?
set -e
if [ "$rc" = 77 ]; then
    echo "(skipped: $(grep -o 'SKIP: .*' <<<"$out"))"
elif [ "$rc" != 0 ]; then
    printf '%s\n' "$out" >&2
    exit 1
else
    echo "inside the container:"
    sed -n '/^\$ cat log$/,/^  look:/p' <<<"$out" | sed '1d;$d;s/^/  /'
    cg=$(grep -m1 -o 'boxutils-lab16-[0-9]*' <<<"$out")
    if grep -q boxutils-lab16 /proc/self/mountinfo || [ -n "$(find /sys/fs/cgroup -name "$cg")" ] ||
        compgen -G '/tmp/boxutils-lab16.*' >/dev/null; then
        echo "unexpected: lab 16 left something on the host" >&2
        exit 1
    fi
    echo "nothing left on the host: no mount, cgroup, veth or temp dir of it"
fi
echo
echo "demo done"
