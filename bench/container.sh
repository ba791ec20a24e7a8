#!/usr/bin/env bash
# Issue 14's benchmark: time from start to a container's first command
# (/bin/true) having run, on one busybox root, with mount, UTS, IPC, PID,
# network and cgroup namespaces and no network step:
#   ours       rcgexec -- runshare -muipnC -f rchroot --pivot --mount-proc ROOT /bin/true
#   ours+overlay  the same on an overlay of ROOT, mounted and unmounted each
#              time (roverlay): lab 16's container without its network step
#   ours-nocg  the same without rcgexec (no cgroup made, as bwrap)
#   crun       crun run, config from `crun spec` (+ cgroup namespace)
#   runc       runc run, same config (when runc is installed)
#   bwrap      bwrap --unshare-{ipc,pid,net,uts,cgroup} --bind ROOT / --proc /proc
# Runs are paired: each round runs every contender once, in turn, so that
# the machine's load falls on all alike. crun and runc refuse hybrid cgroup
# hosts, so everything runs in a mount namespace where the controller-less
# cgroup2 mount (/sys/fs/cgroup/unified) is detached.
#
# Usage, as root: bench/container.sh [ROUNDS]   (default 200)
# Our binaries: BOXUTILS_BIN_DIR (a release build, e.g. target/release), else PATH.
set -euo pipefail
rounds=${1:-200}
here=$(dirname "$(readlink -f "$0")")
[ -n "${BOXUTILS_BIN_DIR:-}" ] && PATH=$BOXUTILS_BIN_DIR:$PATH
for t in rcgexec roverlay runshare rchroot crun bwrap; do
    command -v "$t" >/dev/null || { echo "container.sh: $t is not installed" >&2 && exit 1; }
done

if [ -z "${BENCH_INSIDE:-}" ]; then
    export BENCH_INSIDE=1
    exec runshare -m bash "$0" "$@"
fi
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi

# make_rootfs: the labs' busybox root, built without download.
# shellcheck source=../tests/labs/lib.sh
. "$here/../tests/labs/lib.sh"
dir=$(mktemp -d /tmp/boxutils-bench.XXXXXX)
trap 'rm -rf --one-file-system "$dir"' EXIT
cd "$dir"
mkdir bundle && make_rootfs bundle/rootfs
root=$dir/bundle/rootfs
(cd bundle && crun spec)
# No terminal, /bin/true, and a cgroup namespace too (crun spec has none).
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"\/bin\/true"/; s/"type": "mount"/"type": "mount"\n\t\t\t},\n\t\t\t{\n\t\t\t\t"type": "cgroup"/' bundle/config.json
{ grep -q '"type": "cgroup"' bundle/config.json && grep -q '"/bin/true"' bundle/config.json; } ||
    { echo "container.sh: cannot adapt crun's config" >&2 && exit 1; }

mkdir upper work merged
declare -A cmd=(
    [ours]="rcgexec -- runshare -muipnC -f rchroot --pivot --mount-proc $root /bin/true"
    [ours+overlay]="roverlay mount --lower $root --upper upper --work work merged && rcgexec -- runshare -muipnC -f rchroot --pivot --mount-proc merged /bin/true; roverlay umount merged"
    [ours-nocg]="runshare -muipnC -f rchroot --pivot --mount-proc $root /bin/true"
    [crun]="crun run --bundle $dir/bundle bxt-bench-crun-\$i"
    [runc]="runc run --bundle $dir/bundle bxt-bench-runc-\$i"
    [bwrap]="bwrap --unshare-ipc --unshare-pid --unshare-net --unshare-uts --unshare-cgroup --bind $root / --proc /proc /bin/true"
)
names=(ours ours+overlay ours-nocg crun bwrap)
command -v runc >/dev/null && names+=(runc)
for n in "${names[@]}"; do
    i=check
    eval "${cmd[$n]}" >/dev/null || { echo "container.sh: $n does not run: ${cmd[$n]}" >&2 && exit 1; }
    : >"times.$n"
done

# shellcheck disable=SC2034 # i names crun's and runc's containers
for i in $(seq "$rounds"); do
    for n in "${names[@]}"; do
        t0=$EPOCHREALTIME
        eval "${cmd[$n]}" >/dev/null
        t1=$EPOCHREALTIME
        echo "$t0 $t1" | awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' >>"times.$n"
    done
done

median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mean() { awk '{ s += $1 } END { printf "%.3f", s / NR }' "$1"; }
echo "container start to /bin/true done, $rounds paired rounds, ms ($(nproc) CPUs, $(uname -r))"
printf '%-13s %8s %8s\n' "" median mean
for n in "${names[@]}"; do
    printf '%-13s %8.2f %8.2f\n' "$n" "$(median "times.$n")" "$(mean "times.$n")"
done
for base in crun bwrap runc; do
    [ -s "times.$base" ] || continue
    for n in ours ours+overlay ours-nocg; do
        printf '%s / %s (median): %.2fx\n' "$n" "$base" \
            "$(echo "$(median "times.$n") $(median "times.$base")" | awk '{ print $1 / $2 }')"
    done
done
