#!/usr/bin/env bash
# runshare against util-linux unshare, paired in one hyperfine run each:
#   -fp --mount-proc /bin/true   (fork into a PID namespace with its own /proc)
#   -muinpf /bin/true            (five namespaces; -n makes an empty netns)
# each under LC_ALL=C (unshare loads no locale) and under C.UTF-8.
# Means are shown by hyperfine; on a shared machine the medians printed
# after each pair are the steadier figure.
# Run as root from the top of the workspace: bash bench/runshare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --workspace --exclude xtask --bins
R=$PWD/target/release/runshare
U=$(command -v unshare)
json=$(mktemp)
trap 'rm -f "$json"' EXIT
for args in "-fp --mount-proc" "-muinpf"; do for locale in C C.UTF-8; do
    LC_ALL=$locale hyperfine -N --warmup 50 --runs "${RUNS:-1000}" --export-json "$json" \
        -n "runshare $args LC_ALL=$locale" "$R $args /bin/true" \
        -n "unshare $args LC_ALL=$locale" "$U $args /bin/true"
    python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"  {x['command']}: median {x['median'] * 1e3:.3f} ms, min {x['min'] * 1e3:.3f} ms")
print(f"  median ratio runshare/unshare: {r[0]['median'] / r[1]['median']:.3f}")
PY
done; done
