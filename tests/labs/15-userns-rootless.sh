#!/usr/bin/env bash
# Lab 15 (notebook 2): a user namespace made by an ordinary user.
. "$(dirname "$0")/lib.sh"
lab_start 15 "USER namespace, as an ordinary user" --rootless -- "$@"
need runshare rnsenter ps
lab_tmpdir

say "Outside, an ordinary user (here nobody):"
run "id"
me=$(id -u)
expect "not root" [ "$me" != 0 ]

say "unshare -U --map-root-user /bin/sh: inside, the same user is uid 0."
run "runshare -U --map-root-user /bin/sh -c 'id; readlink /proc/\$\$/ns/user'"
look "uid=0(root) inside, and a user namespace other than the host's."
expect_out "root inside" "^uid=0\(root\) gid=0\(root\)"
expect "another user namespace" [ "$(tail -1 <<<"$OUT")" != "$(readlink /proc/$$/ns/user)" ]

say "The host sees the process as the ordinary user it is: root only inside."
lab_bg "runshare -U --map-root-user sleep 600"
for _ in $(seq 100); do [ "$(cat /proc/$LAB_BG/comm)" = sleep ] && break; sleep 0.05; done
run "ps -o user,uid,pid,cmd -p $LAB_BG"
expect "the host sees uid $me" [ "$(ps -o uid= -p $LAB_BG | tr -d ' ')" = "$me" ]
run "readlink /proc/\$\$/ns/user /proc/$LAB_BG/ns/user"
expect "two different user namespaces" [ "$(sort -u <<<"$OUT" | wc -l)" = 2 ]
run "rnsenter -t $LAB_BG -U --preserve-credentials id -u"
expect_out "entered, the same user is root" "^0$"

say "A file made as root inside belongs to the user outside."
run "runshare -U --map-root-user touch made && stat -c '%u %U' made"
expect_out "owned by uid $me on the host" "^$me "
lab_done
