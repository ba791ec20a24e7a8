#!/usr/bin/env bash
# Lab 1 (notebook 1): chroot by hand, why it fails, and rchroot's way.
. "$(dirname "$0")/lib.sh"
lab_start 01 "chroot by hand" -- "$@"
need rchroot ldd
lab_tmpdir

say "A new root needs more than the program: the notebook copied /bin/bash into" \
    "newroot and chroot said \"No such file or directory\" although the file was there."
run "mkdir -p newroot/bin newroot/lib64 && cp /bin/bash newroot/bin/"
run_fails "rchroot newroot /bin/bash -c 'echo hello'"
look "the file exists; what is missing is its ELF interpreter and libraries, and rchroot names them."
expect "exit 127, as chroot's for a command it cannot find" [ "$RC" = 127 ]
expect_out "the missing interpreter is named" "missing in NEWROOT: .*ld-linux"
expect_out "the missing libraries are named" "libc\.so"

say "ldd lists what the dynamic loader would load; the notebook copied each by hand."
run "ldd /bin/bash"
look "the interpreter (ld-linux) and libc, the same files rchroot named."

say "rchroot --install copies a program with its interpreter and every library, in one command."
run "rchroot --install newroot /bin/bash"
run "find newroot -type f | sort"
expect_out "the interpreter was copied" "ld-linux"
expect_out "libc was copied" "/libc\.so"
run "rchroot newroot /bin/bash -c 'echo hello from \$PWD'"
expect_out "bash runs inside, in /" "^hello from /$"

say "Only what was copied exists in the new root: the notebook's \`ls\` was \"command not found\"."
run_fails "rchroot newroot /bin/bash -c ls"
expect_out "ls is not found inside" "ls: command not found"
run "rchroot --install newroot ls && rchroot newroot /bin/bash -c 'ls /'"
expect_out "now ls runs and lists the new root" "^bin$"
expect_no_out "the host's directories stay out of sight" "^(home|etc|var)$"

say "Plain chroot(2) is a view, not a jail: root can climb out of it (see lab 16 for" \
    "rchroot --pivot, which cannot be climbed out of)."
lab_done
