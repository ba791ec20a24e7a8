#!/usr/bin/env bash
# rchroot DIR /bin/true against coreutils chroot DIR /bin/true on the same
# DIR (filled by rchroot --install), paired in one hyperfine run. As root.
#   bash bench/rchroot.sh [hyperfine options...]
# Two builds of rchroot are timed: the release build that packaging/install.sh
# installs (dynamically linked: libgcc_s comes along, and its constructor
# runs cpuid, which is slow in a VM) and the same release build linked
# statically (crt-static), which is what it takes to beat chroot.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --quiet -p rchroot
RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --quiet -p rchroot --target "$target" --target-dir target/static
dynamic=$PWD/target/release/rchroot
static=$PWD/target/static/$target/release/rchroot
dir=$(mktemp -d /tmp/boxutils-bench-rchroot.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$dynamic" --install "$dir" /bin/true
hyperfine -N --warmup 100 --min-runs 2000 "$@" \
    --command-name chroot "chroot $dir /bin/true" \
    --command-name rchroot "$dynamic $dir /bin/true" \
    --command-name rchroot-static "$static $dir /bin/true"
