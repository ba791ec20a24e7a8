#!/usr/bin/env bash
# rnsenter against util-linux nsenter, paired in one hyperfine run per locale:
# `-t PID -a /bin/true` into a target this script starts
# (`unshare -fpmuin --mount-proc sleep`) and kills by PID at the end.
# Run as root: bash bench/rnsenter.sh   (RUNS=N to change the count)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --workspace --exclude xtask --bins
ours=${BOXUTILS_BIN_DIR:-$PWD/target/release}/rnsenter
theirs=$(command -v nsenter)

unshare -fpmuin --mount-proc sleep 1000 &
outer=$!
inner=
cleanup() {
    if [ -n "$inner" ]; then kill -KILL "$inner" 2>/dev/null || true; fi
    kill -KILL "$outer" 2>/dev/null || true
    wait "$outer" 2>/dev/null || true
}
trap cleanup EXIT

# The sleeping process is unshare's child (-f); wait until it runs sleep.
for _ in $(seq 400); do
    inner=$(awk '{print $1}' "/proc/$outer/task/$outer/children" 2>/dev/null || true)
    if [ -n "$inner" ] && [ "$(cat "/proc/$inner/comm" 2>/dev/null)" = sleep ]; then
        break
    fi
    inner=
    sleep 0.05
done
[ -n "$inner" ] || { echo "bench: the target did not start" >&2; exit 1; }

# Both must enter the same namespaces before they are timed.
for ns in mnt uts ipc net pid; do
    a=$("$ours" -t "$inner" -a readlink "/proc/self/ns/$ns")
    b=$("$theirs" -t "$inner" -a readlink "/proc/self/ns/$ns")
    [ "$a" = "$b" ] || { echo "bench: $ns differs: $a vs $b" >&2; exit 1; }
done

json=$(mktemp)
trap 'cleanup; rm -f "$json"' EXIT
# Under LC_ALL=C (nsenter loads no locale) and under C.UTF-8.
for locale in C C.UTF-8; do
    LC_ALL=$locale hyperfine -N --warmup 100 --runs "${RUNS:-2000}" --export-json "$json" \
        -n "rnsenter -t PID -a /bin/true LC_ALL=$locale" "$ours -t $inner -a /bin/true" \
        -n "nsenter -t PID -a /bin/true LC_ALL=$locale" "$theirs -t $inner -a /bin/true"
    # The same figures in microseconds (hyperfine rounds to 0.1 ms here).
    python3 - "$json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
for r in results:
    print(f"{r['command']:40} mean {r['mean'] * 1e6:7.1f} us  "
          f"median {r['median'] * 1e6:7.1f} us  min {r['min'] * 1e6:7.1f} us")
print(f"ratio of means rnsenter/nsenter: {results[0]['mean'] / results[1]['mean']:.3f}")
PY
done

# hyperfine runs one command's batch after the other's, so load that
# changes meanwhile (other builds) skews the ratio: time them interleaved too.
python3 - "${RUNS:-2000}" "$ours -t $inner -a /bin/true" "$theirs -t $inner -a /bin/true" <<'PY'
import os, statistics, sys, time
runs, commands = int(sys.argv[1]), [c.split() for c in sys.argv[2:]]
times = [[] for _ in commands]
quiet = [(os.POSIX_SPAWN_DUP2, os.open("/dev/null", os.O_WRONLY), 1)]
for _ in range(runs):
    for command, spent in zip(commands, times):
        start = time.perf_counter_ns()
        os.waitpid(os.posix_spawn(command[0], command, os.environ, file_actions=quiet), 0)
        spent.append(time.perf_counter_ns() - start)
medians = [statistics.median(t) / 1e3 for t in times]
for command, median in zip(commands, medians):
    print(f"interleaved {os.path.basename(command[0]):9} median {median:7.1f} us")
print(f"interleaved ratio of medians rnsenter/nsenter: {medians[0] / medians[1]:.3f}")
PY

if [ -x /usr/bin/time ]; then
    for tool in "$ours" "$theirs"; do
        printf '%s peak RSS: ' "$(basename "$tool")"
        /usr/bin/time -f '%M KiB' "$tool" -t "$inner" -a /bin/true 2>&1
    done
fi
