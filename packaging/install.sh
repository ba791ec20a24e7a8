#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (release binaries, man pages,
# bash/zsh/fish completions and copyright, as [package.metadata.deb] of the
# root Cargo.toml lays them out) and installs it with dpkg, as root:
#   bash packaging/install.sh [--multi-call]
# --multi-call: the same package with one multi-call binary instead of the
# ten, /usr/bin/boxutils, and each tool a symlink to it where its own
# binary would go (rchroot in /usr/sbin), as busybox installs its applets
# ([package.metadata.deb.variants.multi-call]).
# Needs cargo, gcc and dpkg-dev (dpkg-shlibdeps computes the package's
# Depends); installs cargo-deb first when it is missing
# (packaging/cargo-deb.sh). Remove with `dpkg --purge boxutils`. The
# package is left in target/debian/.
set -euo pipefail
cd "$(dirname "$0")/.."
case "$*" in
    "" | --multi-call) ;;
    *) echo "usage: bash packaging/install.sh [--multi-call]" >&2; exit 2 ;;
esac
if ! command -v dpkg-shlibdeps >/dev/null; then
    echo "install.sh: dpkg-shlibdeps is missing (apt-get install dpkg-dev): without it the package has no Depends" >&2
    exit 1
fi
bash packaging/cargo-deb.sh
variant=()
[ "$*" = "" ] || variant=(--variant multi-call)
deb=$(cargo deb --package boxutils "${variant[@]}" | tail -n 1)
dpkg -i "$deb"
