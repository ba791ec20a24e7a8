#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (release binaries, man pages,
# bash/zsh/fish completions and copyright, as [package.metadata.deb] of the
# root Cargo.toml lays them out) and installs it with dpkg, as root:
#   bash packaging/install.sh
# Needs cargo, gcc and dpkg-dev (dpkg-shlibdeps computes the package's
# Depends); installs cargo-deb first when it is missing
# (packaging/cargo-deb.sh). Remove with `dpkg --purge boxutils`. The
# package is left in target/debian/.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dpkg-shlibdeps >/dev/null; then
    echo "install.sh: dpkg-shlibdeps is missing (apt-get install dpkg-dev): without it the package has no Depends" >&2
    exit 1
fi
bash packaging/cargo-deb.sh
deb=$(cargo deb --package boxutils | tail -n 1)
dpkg -i "$deb"
