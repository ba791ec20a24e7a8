#!/usr/bin/env bash
# runshare against util-linux unshare, paired in one hyperfine run each:
#   -fp --mount-proc /bin/true   (fork into a PID namespace with its own /proc)
#   -muinpf /bin/true            (five namespaces; -n makes an empty netns)
# Run as root from the top of the workspace: bash bench/runshare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p runshare
R=$PWD/target/release/runshare
U=$(command -v unshare)
hyperfine -N --warmup 50 --runs "${RUNS:-1000}" \
    -n "runshare -fp --mount-proc" "$R -fp --mount-proc /bin/true" \
    -n "unshare -fp --mount-proc" "$U -fp --mount-proc /bin/true"
hyperfine -N --warmup 50 --runs "${RUNS:-1000}" \
    -n "runshare -muinpf" "$R -muinpf /bin/true" \
    -n "unshare -muinpf" "$U -muinpf /bin/true"
