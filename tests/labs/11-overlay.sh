#!/usr/bin/env bash
# Lab 11 (notebook 2): an overlay of two lower dirs and an upper dir.
. "$(dirname "$0")/lib.sh"
lab_start 11 "overlay file system" --mountns -- "$@"
need roverlay rchroot findmnt stat
lab_tmpdir

say "Lower dir 1, myroot: bin/{ls,ps,sh} with their libraries, and the notebook's" \
    "escape_chroot file (rchroot --install puts each at its path: usr/bin)." \
    "Lower dir 2, tools: a copy of which."
run "mkdir myroot && rchroot --install myroot ls ps sh && echo 'a file of myroot' >myroot/escape_chroot"
run "mkdir -p tools/usr/bin && cp /usr/bin/which tools/usr/bin/"
say "container is the upper (writable) layer, work is overlay's own, merge the view."
run "mkdir -p rootfs/container rootfs/work rootfs/merge"
run "roverlay mount --lower tools:myroot --upper rootfs/container --work rootfs/work rootfs/merge"
lab_mounted rootfs/merge
look "lower dirs top first, as mount -t overlay -o lowerdir=tools:myroot,... takes them."
run "findmnt -n -o FSTYPE,OPTIONS rootfs/merge"
expect_out "an overlay is mounted on merge" "^overlay .*upperdir="
run "roverlay list"
expect_out "roverlay lists it with its two layers" "/rootfs/merge +2 "

say "The merged view has both layers: one usr/bin with myroot's ls, ps and sh and" \
    "tools' which."
run "ls myroot/usr/bin tools/usr/bin rootfs/merge/usr/bin"
expect "which comes from tools" [ -f rootfs/merge/usr/bin/which ]
expect "ls comes from myroot" [ -f rootfs/merge/usr/bin/ls ]
run "rchroot rootfs/merge /usr/bin/ls /"
expect_out "a command runs on the merged root" "^usr$"

say "Copy on write: deleting merge/escape_chroot leaves myroot's file alone and puts a" \
    "whiteout, a 0/0 character device, into the upper dir."
run "rm rootfs/merge/escape_chroot; ls rootfs/merge; ls myroot"
expect "myroot still has it" [ -f myroot/escape_chroot ]
expect "merge has it no more" [ ! -e rootfs/merge/escape_chroot ]
run "stat -c '%n: %F %t,%T' rootfs/container/escape_chroot"
expect_out "the upper dir holds a whiteout" "character special file 0,0$"
say "A change copies the file up first; the lower stays as it was."
run "chmod 700 rootfs/merge/usr/bin/ls; stat -c '%a %n' myroot/usr/bin/ls rootfs/container/usr/bin/ls"
expect_out "the lower ls keeps its mode" "^755 myroot/usr/bin/ls$"
expect_out "the upper has its own copy" "^700 rootfs/container/usr/bin/ls$"
run "roverlay diff rootfs/container"
look "docker diff's words: C changed, D deleted (A: added)."
expect_out "the deletion is listed" "^D /escape_chroot$"
expect_out "the change is listed" "^C /usr/bin/ls$"

say "umount rootfs/merge: the layers stay, the view goes."
run "roverlay umount rootfs/merge"
run_fails "findmnt rootfs/merge"
expect "nothing is mounted on merge" [ "$RC" != 0 ]
lab_done
