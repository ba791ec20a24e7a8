#!/usr/bin/env bash
# Installs cargo-deb, which builds the Debian package from the root
# Cargo.toml's [package.metadata.deb], at the version the package is made
# and tested with, unless that version is already there:
#   bash packaging/cargo-deb.sh
# packaging/install.sh and .ci/run use it. Needs cargo and gcc (cargo-deb
# builds liblzma itself when liblzma-dev is missing).
set -euo pipefail
version=3.8.0
if [ "$(cargo deb --version 2>/dev/null)" != "cargo-deb $version" ]; then
    cargo install --locked --quiet cargo-deb --version "$version"
fi
