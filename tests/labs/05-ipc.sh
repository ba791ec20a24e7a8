#!/usr/bin/env bash
# Lab 5 (notebook 1): an IPC namespace has System V objects of its own.
. "$(dirname "$0")/lib.sh"
lab_start 05 "IPC namespace" --ipcns -- "$@"
need runshare ripcmk ripcs ipcs

say "The notebook made segments in the host's IPC namespace; this lab runs in an" \
    "IPC namespace of its own, which plays the host here, so nothing is left behind."
say "Outside (the lab's \"host\"), a 200-byte segment as the notebook's second terminal made:"
run "ripcmk -M 200"
outer_id=$(grep -o '[0-9]*$' <<<"$OUT")
expect_out "ripcmk names the new segment, as ipcmk does" "^Shared memory id: [0-9]+$"

say "unshare -i: a shell with an IPC namespace of its own; ipcmk -M 100 makes a" \
    "100-byte segment there, and ipcs -m inside lists only it."
run "runshare -i /bin/sh -c 'ripcmk -M 100; ripcs -m'"
look "one segment: 100 bytes; the 200-byte one outside is not listed."
expect "exactly one segment inside" [ "$(grep -Ec '^0x[0-9a-f]+ ' <<<"$OUT")" = 1 ]
expect_out "it is the 100-byte one" "^0x[0-9a-f]+ +[0-9]+ +root +644 +100 "
expect_no_out "the outside segment is not seen" " 200 +0"

say "Outside, ipcs (util-linux, to look) lists the outside segment, not the inner one:" \
    "that one went with its namespace."
run "ipcs -m"
expect "the outside segment is listed" grep -Eq "^0x[0-9a-f]+ +$outer_id +root +644 +200 " <<<"$OUT"
expect_no_out "the inner segment is not" " 100 +0"
lab_done
