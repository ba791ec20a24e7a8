#!/usr/bin/env bash
# Lab 7 (notebook 1, FAILED there): a network namespace joined to its host
# by a veth pair, done right.
. "$(dirname "$0")/lib.sh"
lab_start 07 "NET namespace and a veth pair (the notebook's failed lab)" --netns -- "$@"
need rvethpair rnsenter ip ping

say "The lab's own network namespace plays the host. ip netns add guestnet made a" \
    "named namespace; rvethpair netns add makes it the same way (a bind mount under" \
    "/run/netns), with lo already up."
run "rvethpair netns add guestnet"
run "rnsenter --net=guestnet ip link"
look "only lo, and it is UP: the notebook needed a second command for that."
expect_out "lo is up in guestnet" "^1: lo: <LOOPBACK,UP"

say "The notebook gave both ends of the veth pair the same address (1.1.1.1/24) and" \
    "pinged 1.1.1.2, an address nobody had. rvethpair refuses that before it makes" \
    "anything:"
run_fails "rvethpair add host guest --peer-netns guestnet --addr 10.200.7.1/24 --peer-addr 10.200.7.1/24"
expect_out "the reason names the address given to both ends" "10\.200\.7\.1.*both ends"
run_fails "ip link show host"
expect "nothing was made" [ "$RC" != 0 ]

say "Done right: one request makes both ends, each directly in its namespace, with an" \
    "address each in one subnet, both up (moving a link would flush its addresses)."
run "rvethpair add host guest --peer-netns guestnet --addr 10.200.7.1/24 --peer-addr 10.200.7.2/24"
run "ip -br addr show host; rnsenter --net=guestnet ip -br addr show guest"
look "host has 10.200.7.1 and guest 10.200.7.2, both UP."
expect_out "host has its address" "^host@.* UP +10\.200\.7\.1/24"
expect_out "guest has the other" "^guest@.* UP +10\.200\.7\.2/24"

say "Now the notebook's ping works: from the host side to the guest's address, and back."
run "ping -c1 -W5 10.200.7.2"
expect_out "the guest answers" "1 received"
run "rnsenter --net=guestnet ping -c1 -W5 10.200.7.1"
expect_out "the host answers" "1 received"

say "Deleting the namespace deletes its end of the pair, and a veth dies whole (the" \
    "kernel tears a namespace down in the background: a moment later)."
run "rvethpair netns del guestnet; rvethpair netns list"
wait_until "! ip link show host >/dev/null 2>&1"
run "ip -br link"
expect_no_out "guestnet is gone" "^guestnet"
expect_no_out "the host end went with it" "^host@"
lab_done
