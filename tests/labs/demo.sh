#!/usr/bin/env bash
# The demo of packaging/install.sh, run as root after it: Lab 1 of the
# notebooks with rchroot. Cleans up after itself.
set -euo pipefail
root=$(mktemp -d /tmp/boxutils-demo.XXXXXX)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
say() { printf '\n$ %s\n' "$*"; }

echo '== Lab 1: chroot by hand, and why it fails =='
say "mkdir -p NEWROOT/bin; cp /bin/sh NEWROOT/bin/"
mkdir -p "$root/bin"
cp /bin/sh "$root/bin/"
say "rchroot NEWROOT /bin/sh -c 'echo hello'   # the file is there, its loader is not"
if rchroot "$root" /bin/sh -c 'echo hello' 2>&1; then
    echo "unexpected: a root with only /bin/sh worked" >&2
    exit 1
else
    echo "(exit $?)"
fi

say "rchroot --install NEWROOT /bin/sh /bin/ls   # with the interpreter and every library"
rchroot --install "$root" /bin/sh /bin/ls
(cd "$root" && find . -mindepth 1 | sort | sed 's/^/  /')

say "rchroot NEWROOT /bin/ls /"
rchroot "$root" /bin/ls /

say "rchroot NEWROOT /bin/sh -c 'echo inside: \$(/bin/ls /)'"
rchroot "$root" /bin/sh -c 'echo inside: $(/bin/ls /)'

echo
echo '== A root that cannot be climbed out of: --pivot =='
mkdir -p "$root/proc"
echo "this is NEWROOT" >"$root/marker"
say "rchroot --pivot --mount-proc NEWROOT /bin/sh -c 'read m </marker; echo \$m; /bin/ls /; while read -r l; do echo \"  \$l\"; done </proc/self/mountinfo'"
rchroot --pivot --mount-proc "$root" /bin/sh -c \
    'read m </marker; echo "$m"; /bin/ls /; while read -r l; do echo "  $l"; done </proc/self/mountinfo'
if grep -qF " $root " /proc/self/mountinfo; then
    echo "unexpected: a mount of NEWROOT was left on the host" >&2
    exit 1
fi
echo
echo "no mount left on the host; demo done"
