#!/usr/bin/env bash
# The multi-call binary (multicall/, `boxutils`) started through a link
# named as the tool, against the anchor, and the tool's own binary against
# the same anchor in the same run, each pair in one hyperfine call, under
# LC_ALL=C:
#   rchroot / /bin/true                  vs chroot
#   runshare -fp --mount-proc /bin/true  vs unshare
# The links are in a temp dir, so each command still starts with the
# tool's name (bench/run.sh's "ours"). As root, from anywhere:
#   bash bench/multicall.sh [hyperfine options...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --workspace --exclude xtask --bins
release=$PWD/target/release
links=$(mktemp -d /tmp/boxutils-bench-multicall.XXXXXX)
trap 'rm -rf "$links"' EXIT
ln -s "$release/boxutils" "$links/rchroot"
ln -s "$release/boxutils" "$links/runshare"
export LC_ALL=C
for tool in "$links" "$release"; do
    what=$([ "$tool" = "$links" ] && echo "multi-call link" || echo "own binary")
    hyperfine -N --warmup 50 --runs "${RUNS:-500}" "$@" \
        -n "rchroot ($what)" "$tool/rchroot / /bin/true" \
        -n "chroot" "$(command -v chroot) / /bin/true"
    hyperfine -N --warmup 50 --runs "${RUNS:-500}" "$@" \
        -n "runshare -fp --mount-proc ($what)" "$tool/runshare -fp --mount-proc /bin/true" \
        -n "unshare -fp --mount-proc" "$(command -v unshare) -fp --mount-proc /bin/true"
done
