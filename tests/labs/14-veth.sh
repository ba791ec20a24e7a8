#!/usr/bin/env bash
# Lab 14 (notebook 2): two named network namespaces joined by a veth pair.
. "$(dirname "$0")/lib.sh"
lab_start 14 "network, one to one" --netns -- "$@"
need rvethpair rnsenter ip ping

say "Two named network namespaces, RED and BLUE (ip netns add RED; ip netns add BLUE)."
run "rvethpair netns add RED BLUE"
run "ls /run/netns; rvethpair netns list"
expect_out "both are there" "^BLUE$"

say "The notebook made veth0/veth1 in the host, moved each end, brought each up and" \
    "gave each an address: six commands. One request does it, each end made directly" \
    "in its namespace:"
run "rvethpair add veth0 veth1 --netns RED --peer-netns BLUE --addr 10.200.14.2/24 --peer-addr 10.200.14.3/24"
run "ip -br link"
expect_no_out "no veth in the host (the lab's) namespace" "^veth"

say "nsenter --net=/var/run/netns/RED: a shell in RED sees only RED's links and routes."
run "rnsenter --net=RED ip a"
look "lo and veth0 (its peer in BLUE: link-netns), with 10.200.14.2/24; no eth0."
expect_out "veth0 has its address" "inet 10\.200\.14\.2/24 .*veth0"
expect_no_out "BLUE's end is not here" "veth1:"
run "rnsenter --net=/var/run/netns/RED ip route"
expect "one route, RED's subnet" [ "$OUT" = "10.200.14.0/24 dev veth0 proto kernel scope link src 10.200.14.2 " ] 
run "rnsenter --net=RED ping -c1 -W5 10.200.14.3"
expect_out "BLUE answers RED" "1 received"

say "ip netns del RED BLUE removes the namespaces, and the veth pair with them."
run "rvethpair netns del RED BLUE"
run "ls /run/netns; rvethpair netns list"
expect "no namespace is left" [ -z "$OUT" ]
lab_done
