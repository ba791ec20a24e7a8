#!/usr/bin/env bash
# Builds the tools in release mode and installs them with their man pages:
#   bash packaging/install.sh [PREFIX]        (default /usr/local; DESTDIR honoured)
# The binaries are the pages in man/: one page per binary.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
cargo build --release --workspace --bins
for page in man/*.[18]; do
    name=$(basename "$page"); tool=${name%.*}; section=${name##*.}
    install -Dm755 "target/release/$tool" "${DESTDIR:-}$prefix/bin/$tool"
    install -Dm644 "$page" "${DESTDIR:-}$prefix/share/man/man$section/$name"
    echo "installed $prefix/bin/$tool and man$section/$name"
done
