#!/usr/bin/env bash
# ripcmk/ripcs against util-linux ipcmk/ipcs, paired in one hyperfine run
# each, inside a private IPC namespace (`unshare -i`): nothing reaches the
# host's objects, and every segment made here dies with the namespace.
#   1. ripcmk -M 4096 vs ipcmk -M 4096 (segments removed between runs)
#   2. ripcs -a vs ipcs -a with 1,000 segments
# Usage: bench/ripc.sh [hyperfine options...]   (run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --workspace --exclude xtask --bins
export BIN="$PWD/target/release" LC_ALL=C
exec unshare -i bash -euo pipefail -c '
    hyperfine -N --warmup 20 --prepare "ipcrm --all=shm" "$@" \
        "$BIN/ripcmk -M 4096" "ipcmk -M 4096"
    ipcrm -a
    perl -e "for (1..1000) { defined shmget(0, 4096, 01644) or die \"shmget: \$!\" }"
    test "$(ipcs -m | grep -c ^0x)" = 1000
    test "$("$BIN/ripcs" -a | md5sum)" = "$(ipcs -a | md5sum)"
    hyperfine -N --warmup 10 "$@" "$BIN/ripcs -a" "ipcs -a"
' bench "$@"
