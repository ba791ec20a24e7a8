#!/usr/bin/env bash
# The demo of packaging/install.sh: a root made by rchroot --install, and a
# command run in it. Cleans up after itself.
set -euo pipefail
root=$(mktemp -d /tmp/boxutils-demo.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo '$ rchroot NEWROOT /bin/true   # an empty root: the program is missing'
rchroot "$root" /bin/true || echo "(exit $?)"
