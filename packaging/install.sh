#!/usr/bin/env bash
# Builds the Debian package (release binaries, man pages, bash/zsh/fish
# completions, from `cargo xtask deb`) and installs it with dpkg, as root:
#   bash packaging/install.sh
# Needs cargo, gcc and dpkg-dev (dpkg-shlibdeps). Remove with
# `dpkg --purge boxutils`. The package is left in target/debian/.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(cargo xtask deb | tail -n 1)
dpkg -i "$deb"
