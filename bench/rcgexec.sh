#!/usr/bin/env bash
# rcgexec against libcgroup and against plain shell writes, each pair in a
# hyperfine run of its own (a row each in bench/run.sh's table): a command
# under a 64M memory, 64 task and half-a-CPU limit, from a new cgroup to
# its removal:
#   ours:      rcgexec --memory 64M --pids 64 --cpus 0.5 -- /bin/true
#   libcgroup: cgcreate, cgset (x2), cgexec, cgdelete
#   shell:     mkdir, echo the limits, sh -c 'echo $$ > cgroup.procs ... && exec true', rmdir
# Every cgroup is made below this script's own cgroup in each hierarchy and
# named bxt-bench-*; needs v1 memory, pids and cpu hierarchies (v1 or
# hybrid hosts, as libcgroup's cgset -r names v1 files).
# Run as root: bash bench/rcgexec.sh   (RUNS=N to change the count, 20)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --workspace --exclude xtask --bins
ours=${BOXUTILS_BIN_DIR:-$PWD/target/release}/rcgexec
runs=${RUNS:-20}
for tool in cgcreate cgset cgexec cgdelete hyperfine; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (cgroup-tools, hyperfine)" >&2; exit 1; }
done

# This process's cgroup (from the hierarchy's root) and its directory, per controller.
own() { awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup; }
mountpoint_of() { awk -v c="$1" '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $5 }' /proc/self/mountinfo | head -1; }
declare -A path dir
for c in memory pids cpu; do
    m=$(mountpoint_of "$c")
    [ -n "$m" ] || { echo "bench: no v1 $c hierarchy" >&2; exit 1; }
    path[$c]=$(own "$c" | sed 's|/$||')
    dir[$c]=$m${path[$c]}
done

# cgroup2 (hybrid hosts), where rcgexec also makes the cgroup that holds the job.
v2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
[ -z "$v2" ] || v2=$v2$(awk -F: '$1 == 0 {print $3}' /proc/self/cgroup | sed 's|/$||')

name=bxt-bench-$$
lc=$name-lc
raw=$name-raw
cleanup() {
    for d in "${dir[memory]}" "${dir[pids]}" "${dir[cpu]}" $v2; do
        for n in "$name" "$lc" "$raw"; do
            if [ -d "$d/$n" ]; then rmdir "$d/$n" || true; fi
        done
    done
    rm -f "${json:-}"
}
trap cleanup EXIT

theirs="cgcreate -g memory:${path[memory]}/$lc -g pids:${path[pids]}/$lc -g cpu:${path[cpu]}/$lc \
&& cgset -r memory.limit_in_bytes=64M ${path[memory]}/$lc \
&& cgset -r pids.max=64 -r cpu.cfs_period_us=100000 -r cpu.cfs_quota_us=50000 ${path[pids]}/$lc \
&& cgexec -g memory:${path[memory]}/$lc -g pids:${path[pids]}/$lc -g cpu:${path[cpu]}/$lc /bin/true \
&& cgdelete -g memory:${path[memory]}/$lc -g pids:${path[pids]}/$lc -g cpu:${path[cpu]}/$lc"
m=${dir[memory]}/$raw p=${dir[pids]}/$raw u=${dir[cpu]}/$raw
shell="mkdir $m $p $u && echo 67108864 > $m/memory.limit_in_bytes && echo 64 > $p/pids.max \
&& echo 100000 > $u/cpu.cfs_period_us && echo 50000 > $u/cpu.cfs_quota_us \
&& sh -c 'echo \$\$ > $m/cgroup.procs && echo \$\$ > $p/cgroup.procs && echo \$\$ > $u/cgroup.procs && exec /bin/true' \
&& rmdir $m $p $u"
mine="$ours --memory 64M --pids 64 --cpus 0.5 --name $name -- /bin/true"

# rcgexec and libcgroup must set the same limits before they are timed.
limits() { cat "${dir[memory]}/$1/memory.limit_in_bytes" "${dir[pids]}/$1/pids.max" "${dir[cpu]}/$1/cpu.cfs_quota_us"; }
"$ours" --keep --memory 64M --pids 64 --cpus 0.5 --name "$name" -- /bin/true
a=$(limits "$name")
rmdir "${dir[memory]}/$name" "${dir[pids]}/$name" "${dir[cpu]}/$name"
[ -z "$v2" ] || rmdir "$v2/$name"
bash -c "${theirs%%&& cgexec*}"
b=$(limits "$lc")
cgdelete -g "memory:${path[memory]}/$lc" -g "pids:${path[pids]}/$lc" -g "cpu:${path[cpu]}/$lc"
[ "$a" = "$(printf '67108864\n64\n50000')" ] && [ "$a" = "$b" ] || { echo "bench: limits differ: $a vs $b" >&2; exit 1; }

json=$(mktemp)
# rcgexec against ANCHOR (its name) running COMMAND, in one hyperfine call;
# GOAL is the ratio of the means aimed at (bench/run.sh's GOALS say the same).
pair() {
    local anchor=$1 command=$2 goal=$3
    hyperfine --warmup 3 --runs "$runs" --export-json "$json" \
        -n "rcgexec (vs $anchor)" "$mine" -n "$anchor" "$command"
    python3 - "$json" "$anchor" "$goal" <<'PY'
import json, sys
ours, anchor = json.load(open(sys.argv[1]))["results"]
for x in (ours, anchor):
    print(f"{x['command']:21} mean {x['mean'] * 1e3:7.2f} ms  median {x['median'] * 1e3:7.2f} ms")
print(f"rcgexec/{sys.argv[2]} {ours['mean'] / anchor['mean']:.3f}  (goal <= {sys.argv[3]})")
PY
}
pair libcgroup "$theirs" 0.5
pair shell "$shell" 1.0

# hyperfine runs one command's batch after the other's: time the three
# interleaved too, each cycle all three in turn, each through `sh -c`.
python3 - "$runs" "$mine" "$theirs" "$shell" <<'PY'
import os, statistics, subprocess, sys, time
runs, commands = int(sys.argv[1]), sys.argv[2:]
names = ["rcgexec", "libcgroup", "shell"]
times = [[] for _ in commands]
for _ in range(runs):
    for command, spent in zip(commands, times):
        start = time.perf_counter_ns()
        subprocess.run(["sh", "-c", command], check=True, stdout=subprocess.DEVNULL)
        spent.append(time.perf_counter_ns() - start)
medians = [statistics.median(t) / 1e6 for t in times]
for name, median in zip(names, medians):
    print(f"interleaved {name:10} median {median:7.2f} ms")
print(f"interleaved rcgexec/libcgroup {medians[0] / medians[1]:.3f}, rcgexec/shell {medians[0] / medians[2]:.3f}")
PY
