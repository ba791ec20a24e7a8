#!/usr/bin/env bash
# rchroot DIR /bin/true against coreutils chroot DIR /bin/true on the same
# DIR (filled by rchroot --install), paired in one hyperfine run, under
# LC_ALL=C (chroot loads no locale) and under C.UTF-8. As root.
#   bash bench/rchroot.sh [hyperfine options...]
# The release build is the one packaging/install.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --workspace --exclude xtask --bins
rchroot=$PWD/target/release/rchroot
dir=$(mktemp -d /tmp/boxutils-bench-rchroot.XXXXXX)
json=$(mktemp)
trap 'rm -rf "$dir" "$json"' EXIT
"$rchroot" --install "$dir" /bin/true
for locale in C C.UTF-8; do
    LC_ALL=$locale hyperfine -N --warmup 100 --min-runs 2000 --export-json "$json" "$@" \
        --command-name "chroot LC_ALL=$locale" "chroot $dir /bin/true" \
        --command-name "rchroot LC_ALL=$locale" "$rchroot $dir /bin/true"
    python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"  {x['command']}: mean {x['mean'] * 1e6:.0f} us, median {x['median'] * 1e6:.0f} us")
print(f"  ratio rchroot/chroot: mean {r[1]['mean'] / r[0]['mean']:.3f}, median {r[1]['median'] / r[0]['median']:.3f}")
PY
done
