#!/usr/bin/env bash
# rnsenter against util-linux nsenter, paired in one hyperfine run:
# `-t PID -a /bin/true` into a target this script starts
# (`unshare -fpmuin --mount-proc sleep`) and kills by PID at the end.
# Run as root: bash bench/rnsenter.sh   (RUNS=N to change the count)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet -p rnsenter
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

hyperfine -N --warmup 100 --runs "${RUNS:-2000}" \
    "$ours -t $inner -a /bin/true" \
    "$theirs -t $inner -a /bin/true"

if [ -x /usr/bin/time ]; then
    for tool in "$ours" "$theirs"; do
        printf '%s peak RSS: ' "$(basename "$tool")"
        /usr/bin/time -f '%M KiB' "$tool" -t "$inner" -a /bin/true 2>&1
    done
fi
