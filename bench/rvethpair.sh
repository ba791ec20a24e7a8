#!/usr/bin/env bash
# bench/rvethpair.sh [N]: N (default 100) x (named netns + veth pair with one
# end in it + one /30 address per end + both up), then delete them all, by
# `rvethpair batch` and by `ip -batch` (host side in one file, each
# namespace's side with `ip -n NS -batch`), in one run, with hyperfine.
# The whole job, setup then teardown, is timed as one (the goal: at most
# 0.33 of ip's time); then setup and teardown apart, and the phases they
# are made of: netns creation, link creation, link deletion, netns deletion.
#
# Runs inside `unshare -nm` of its own with a private tmpfs on /run/netns;
# addresses are from 10.200.0.0/16 only. Needs root, ip, hyperfine, python3.
# RUNS=N sets hyperfine's runs per command (default 5); SETTLE=S the pause
# after each reset for the kernel's netns cleanup (default 1 s).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${RVETHPAIR_BENCH_INSIDE:-}" ]; then
    cargo build --release --quiet --workspace --exclude xtask --bins
    exec env RVETHPAIR_BENCH_INSIDE=1 unshare -nm bash "$0" "$@"
fi

# Inside: nothing reaches the host's mounts or network.
mount --make-rprivate /
mkdir -p /run/netns
mount -t tmpfs -o mode=755 tmpfs /run/netns
ip link set lo up

n=${1:-100}
runs=${RUNS:-5}
bin=$PWD/target/release/rvethpair
d=$(mktemp -d /tmp/rvethpair-bench.XXXXXX)
trap 'rm -rf "$d"' EXIT
(( n <= 16384 )) || { echo "at most 16384 pairs fit in 10.200.0.0/16 as /30s" >&2; exit 1; }

# The work, once per tool. Pair i: 10.200.(i/64).(i%64*4+1|2)/30.
mkdir -p "$d/ipns"
for ((i = 0; i < n; i++)); do
    a=10.200.$((i / 64)).$((i % 64 * 4 + 1))/30
    b=10.200.$((i / 64)).$((i % 64 * 4 + 2))/30
    echo "netns add ns$i" >>"$d/ours-nsadd"
    echo "add h$i p$i --peer-netns ns$i --addr $a --peer-addr $b" >>"$d/ours-links"
    echo "del h$i" >>"$d/ours-linkdel"
    echo "netns del ns$i" >>"$d/ours-nsdel"
    echo "netns add ns$i" >>"$d/ip-nsadd"
    printf 'link add h%s type veth peer name p%s netns ns%s\naddr add %s dev h%s\nlink set h%s up\n' \
        "$i" "$i" "$i" "$a" "$i" "$i" >>"$d/ip-links"
    # rvethpair brings lo up in a namespace it makes; ip's side does it here.
    printf 'link set lo up\naddr add %s dev p%s\nlink set p%s up\n' "$b" "$i" "$i" >"$d/ipns/ns$i"
    echo "link del h$i" >>"$d/ip-linkdel"
    echo "netns del ns$i" >>"$d/ip-nsdel"
done
# Setup and teardown as one file each, the same order for both tools: every
# namespace first (ip's namespace sides need them all before they run), and
# each link deleted just before its namespace.
cat "$d/ours-nsadd" "$d/ours-links" >"$d/ours-setup"
paste -d'\n' "$d/ours-linkdel" "$d/ours-nsdel" >"$d/ours-teardown"
cat "$d/ip-nsadd" "$d/ip-links" >"$d/ip-setup"
paste -d'\n' "$d/ip-linkdel" "$d/ip-nsdel" >"$d/ip-teardown"

# Helpers hyperfine runs (bash -c).
cat >"$d/lib.sh" <<LIB
SETTLE=${SETTLE:-1}
bin=$bin; d=$d
# Deleted netns die in a kernel worker: a teardown is done when the links are gone.
gone() { while [ "\$(ip -o link | wc -l)" -gt 1 ]; do sleep 0.005; done; }
# The worker goes on (holding rtnl at times) after the links are gone; a run
# that starts while it works waits for it, so give it a second first.
reset() { ip -all netns delete 2>/dev/null || true; gone; sleep \${SETTLE:-1}; }
ip_ns_sides() { for f in \$d/ipns/*; do ip -n "\${f##*/}" -batch "\$f" || return 1; done; }
ours_setup() { \$bin batch \$d/ours-setup; }
ip_setup() { ip -batch \$d/ip-setup && ip_ns_sides; }
LIB
hf() { # NAME PREPARE_OURS OURS PREPARE_IP IP
    hyperfine --shell bash --runs "$runs" --warmup 1 --style basic \
        --export-json "$d/$1.json" \
        -n "rvethpair $1" --prepare ". $d/lib.sh; $2" ". $d/lib.sh; $3" \
        -n "ip $1" --prepare ". $d/lib.sh; $4" ". $d/lib.sh; $5"
}

echo "== $n pairs, $runs runs each, $(uname -r), $(ip -V)"
# The goal (<= 0.33): the whole job, setup then teardown, in one timing.
hf setup+teardown reset 'ours_setup && $bin batch $d/ours-teardown && gone' \
    reset 'ip_setup && ip -batch $d/ip-teardown && gone'
echo "== where the time goes"
hf setup reset ours_setup reset ip_setup
hf teardown "reset; ours_setup" '$bin batch $d/ours-teardown && gone' \
    "reset; ip_setup" 'ip -batch $d/ip-teardown && gone'
hf netns-add reset '$bin batch $d/ours-nsadd' reset 'ip -batch $d/ip-nsadd'
hf link-add "reset; ip -batch \$d/ip-nsadd" '$bin batch $d/ours-links' \
    "reset; ip -batch \$d/ip-nsadd" 'ip -batch $d/ip-links && ip_ns_sides'
hf link-del "reset; ours_setup" '$bin batch $d/ours-linkdel' \
    "reset; ip_setup" 'ip -batch $d/ip-linkdel'
hf netns-del "reset; ours_setup" '$bin batch $d/ours-nsdel && gone' \
    "reset; ip_setup" 'ip -batch $d/ip-nsdel && gone'
bash -c ". $d/lib.sh; reset"

python3 - "$d" <<'PY'
import json, sys
d = sys.argv[1]
def means(name):
    r = json.load(open(f"{d}/{name}.json"))["results"]
    return [x["mean"] * 1000 for x in r]  # ours, ip (ms)
print(f"\n{'phase':<16}{'rvethpair ms':>14}{'ip -batch ms':>14}{'ratio':>8}")
tot = [0.0, 0.0]
for name in ["setup+teardown", "setup", "teardown", "netns-add", "link-add", "link-del",
             "netns-del"]:
    o, i = means(name)
    if name in ("setup", "teardown"):
        tot[0] += o; tot[1] += i
    print(f"{name:<16}{o:>14.1f}{i:>14.1f}{o / i:>8.3f}")
print(f"{'sum':<16}{tot[0]:>14.1f}{tot[1]:>14.1f}{tot[0] / tot[1]:>8.3f}  (setup + teardown timed apart)")
PY
