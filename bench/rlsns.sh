#!/usr/bin/env bash
# rlsns against util-linux lsns, paired in one hyperfine run each:
#  1. at the machine's normal process count;
#  2. in a PID namespace of the benchmark's own (so /proc shows only what it
#     starts) with N sleeping processes (default 5000), half of them each in
#     a network and UTS namespace of their own (`unshare -nu sleep`).
# Also prints the peak RSS of both tools (/usr/bin/time -v). Everything it
# starts lives in that PID namespace and dies with its init (this script's
# inner half), which the outer half waits for. lsns 2.38 sometimes exits 1
# when a process vanishes mid-scan (util-linux #2799), hence hyperfine -i.
# Run as root: bash bench/rlsns.sh. BEFORE=/path/to/old/rlsns times an older
# rlsns too; LSNS=/path/to/lsns another lsns (e.g. a newer one built from
# util-linux's source, which reads every descriptor as rlsns does);
# ARGS='|-t net' only these argument sets (|-separated; empty: no arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5000}
RUNS=${RUNS:-5}
BIN=${BIN:-$PWD/target/release/rlsns}
LSNS=${LSNS:-lsns}
ARGS=${ARGS:-|-J|-t net|-p 1}

# One hyperfine run per pair, then peak RSS of each command.
compare() {
    local label=$1
    shift
    echo "== $label"
    hyperfine -N -i --warmup 1 --runs "$RUNS" --style basic "$@" 2>&1 | grep -Ev '^\s*$'
    for c in "$@"; do
        local rss
        rss=$(/usr/bin/time -v $c 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}')
        printf '   peak RSS %-22s %6s KiB\n' "$c" "$rss"
    done
}

# With BEFORE=path/to/an/older/rlsns, each run times it too (before/after).
all_pairs() {
    local b=() sets=()
    IFS='|' read -r -a sets <<<"$ARGS"
    for args in "${sets[@]}"; do
        b=()
        [ -n "${BEFORE:-}" ] && b=("$BEFORE${args:+ $args}")
        compare "${args:-default} ($1)" "$BIN${args:+ $args}" "${b[@]}" "$LSNS${args:+ $args}"
    done
}

if [ "${1:-}" = --inner ]; then
    # PID 1 of the benchmark's PID namespace: everything below dies with it.
    half=$((N / 2))
    for _ in $(seq "$half"); do sleep 1000 & done
    for _ in $(seq $((N - half))); do unshare -nu sleep 1000 & done
    sleep 1
    echo "processes in the PID namespace: $(ls -d /proc/[0-9]* | wc -l)," \
        "namespaces: $("$BIN" -n | wc -l)"
    all_pairs "$N processes"
    exit 0
fi

command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is not installed" >&2; exit 1; }
cargo build --release --quiet --workspace --exclude xtask --bins
echo "processes on the host: $(ls -d /proc/[0-9]* | wc -l)"
all_pairs "host"
unshare -fp --mount-proc bash "$0" --inner
