#!/usr/bin/env bash
# Lab 9 (notebook 1): image layers made real: a base layer, an "app" layer
# made by running a step in a container, both applied elsewhere and run as
# the lower stack of a new container.
. "$(dirname "$0")/lib.sh"
lab_start 09 "layers" --mountns -- "$@"
need roverlay rchroot tar
lab_tmpdir

say "Every Dockerfile instruction makes a read-only layer. FROM: a base root file" \
    "system, here busybox (no download), committed as an OCI layer (a tar)."
make_rootfs base || lab_fail "cannot build the base root"
run "roverlay commit base base.tar && tar tf base.tar | sed -n 1,5p"
expect "the base layer exists" [ -s base.tar ]

say "RUN: a step runs in a container whose root is the base plus an empty upper dir;" \
    "everything it changes lands in the upper dir, which becomes the next layer."
run "mkdir -p app work merged && roverlay mount --lower base --upper app --work work merged"
lab_mounted merged
run "rchroot --pivot --mount-proc merged /bin/sh -c 'mkdir /app && echo \"echo hello from the app layer\" >/app/run.sh && rm /bin/vi'"
run "roverlay diff app && roverlay umount merged"
look "A added, C changed (bin: one entry fewer), D deleted; base itself did not change."
expect_out "the new file is in the layer" "^A /app/run\.sh$"
expect_out "so is the deletion" "^D /bin/vi$"
expect "base still has vi" [ -e base/bin/vi ]
run "roverlay commit app app.tar.gz && tar tzf app.tar.gz"
look "the deletion travels as an OCI whiteout file, .wh.vi."
expect_out "a whiteout for vi" "^(\./)?bin/\.wh\.vi$"

say "Elsewhere (another host, say): apply both layers, then run them as the lower" \
    "stack of a new container, app above base, with an upper dir of its own."
run "mkdir -p elsewhere/base elsewhere/app && roverlay apply base.tar elsewhere/base && roverlay apply app.tar.gz elsewhere/app"
run "cd elsewhere && mkdir -p upper work root && roverlay mount --lower app:base --upper upper --work work root"
lab_mounted elsewhere/root
run "rchroot --pivot --mount-proc elsewhere/root /bin/sh -c 'sh /app/run.sh; ls /bin/vi; echo data >/new'"
expect_out "the app layer's file runs" "^hello from the app layer$"
expect_out "the deletion holds in the stack" "/bin/vi: No such file or directory"
expect "the container's writes go to its own upper dir" [ -f elsewhere/upper/new ] 
expect "the layers stay as they were" [ ! -e elsewhere/app/new ]
run "roverlay umount elsewhere/root"
lab_done
