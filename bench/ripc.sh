#!/usr/bin/env bash
# ripcmk/ripcrm/ripcs against util-linux ipcmk/ipcrm/ipcs, paired in one
# hyperfine run each, under LC_ALL=C (the anchors load no locale) and under
# C.UTF-8, inside a private IPC namespace (`unshare -i`): nothing reaches
# the host's objects, and every segment made here dies with the namespace.
#   1. ripcmk -M 4096 vs ipcmk -M 4096 (segments removed between runs)
#   2. ripcrm -M KEY vs ipcrm -M KEY (the segment made before each run)
#   3. ripcs -a vs ipcs -a with 1,000 segments
# Usage: bench/ripc.sh [hyperfine options...]   (run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --workspace --exclude xtask --bins
export BIN="$PWD/target/release"
exec unshare -i bash -euo pipefail -c '
    key=0x5eed
    for locale in C C.UTF-8; do
        export LC_ALL=$locale
        ipcrm -a
        hyperfine -N --warmup 20 --prepare "ipcrm --all=shm" "$@" \
            -n "ripcmk -M 4096 LC_ALL=$locale" "$BIN/ripcmk -M 4096" \
            -n "ipcmk -M 4096 LC_ALL=$locale" "ipcmk -M 4096"
        ipcrm -a
        hyperfine -N --warmup 20 \
            --prepare "perl -e \"defined shmget($key, 4096, 01644) or die\"" "$@" \
            -n "ripcrm -M KEY LC_ALL=$locale" "$BIN/ripcrm -M $key" \
            -n "ipcrm -M KEY LC_ALL=$locale" "ipcrm -M $key"
        ipcrm -a
        perl -e "for (1..1000) { defined shmget(0, 4096, 01644) or die \"shmget: \$!\" }"
        test "$(ipcs -m | grep -c ^0x)" = 1000
        test "$("$BIN/ripcs" -a | md5sum)" = "$(ipcs -a | md5sum)"
        hyperfine -N --warmup 10 "$@" \
            -n "ripcs -a LC_ALL=$locale" "$BIN/ripcs -a" \
            -n "ipcs -a LC_ALL=$locale" "ipcs -a"
    done
' bench "$@"
