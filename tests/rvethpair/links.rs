//! rvethpair's pairs against ip's: labs 14 and 7, addresses in use, interop
//! with `ip netns`, `list -J` against ip, gateways, bridges, IPv6, rollback.

use serde_json::Value;

use super::{
    addrs_of, comparable, eventually, ip, ip_json, json, lab, link_named, link_names, list_json,
    netns_files, ok, pair, pair_args, pair_to_red, pings, refused, refused_with, rv,
    veths_seen_by_ip,
};
use crate::harness::{self, test_name};

#[test]
fn lab14_red_blue_one_to_one() {
    lab(test_name!(), || {
        ok(rv(&["netns", "add", "RED", "BLUE"]));
        let added = ok(rv(&[
            "add",
            "veth0",
            "veth1",
            "--netns",
            "RED",
            "--peer-netns",
            "BLUE",
            "--addr",
            "10.200.1.1/24",
            "--peer-addr",
            "10.200.1.2/24",
        ]));
        assert_eq!(added.stderr, "");
        assert_eq!(link_names(Some("RED")), ["lo", "veth0"]);
        assert_eq!(link_names(Some("BLUE")), ["lo", "veth1"]);
        assert_eq!(addrs_of(Some("RED"), "veth0")[0], "10.200.1.1/24");
        assert_eq!(
            addrs_of(Some("RED"), "veth0")
                .iter()
                .filter(|a| !a.starts_with("fe80:"))
                .count(),
            1
        );
        // The test's own namespace got neither end.
        assert_eq!(link_names(None), ["lo"]);
        pings(Some("RED"), &[], "10.200.1.2");
        let deleted = ok(rv(&["netns", "del", "RED", "BLUE"]));
        assert_eq!(deleted.stderr, "", "nothing kept them alive");
        assert!(netns_files().is_empty());
        assert_eq!(ok(ip(&["netns", "list"])).stdout, "");
    });
}

#[test]
fn lab7_same_address_on_both_ends_is_refused() {
    lab(test_name!(), || {
        ok(rv(&["netns", "add", "guestnet"]));
        let ran = rv(&pair_args(
            "host",
            "guest",
            "guestnet",
            "10.200.7.1/24",
            "10.200.7.1/24",
            &[],
        ));
        refused(&ran);
        assert_eq!(ran.stderr, "rvethpair: 10.200.7.1 given to both ends\n");
        assert_eq!(link_names(None), ["lo"]);
        assert_eq!(link_names(Some("guestnet")), ["lo"]);
        // The lab done right: the ping crosses.
        pair(
            "host",
            "guest",
            "guestnet",
            "10.200.7.1/24",
            "10.200.7.2/24",
            &[],
        );
        pings(None, &[], "10.200.7.2");
    });
}

#[test]
fn address_in_use_is_refused() {
    lab(test_name!(), || {
        ok(rv(&["netns", "add", "RED"]));
        pair_to_red("a0", "a1", "10.200.2.1/24", "10.200.2.2/24", &[]);
        let ran = rv(&pair_args(
            "b0",
            "b1",
            "RED",
            "10.200.3.1/24",
            "10.200.2.2/24",
            &[],
        ));
        refused_with(&ran, "rvethpair: cannot add b0/b1: address 10.200.2.2 is already in use on a1 in network namespace \"RED\"\n");
        assert_eq!(link_names(None), ["lo", "a0"]);
        assert_eq!(link_names(Some("RED")), ["lo", "a1"]);
    });
}

#[test]
fn ip_netns_exec_enters_ours() {
    lab(test_name!(), || {
        ok(rv(&["netns", "add", "RED"]));
        let inside = json(harness::run(
            harness::anchor("ip").args(["netns", "exec", "RED", "ip", "-j", "link"]),
        ));
        let inside = inside.as_array().unwrap();
        assert_eq!(inside.len(), 1, "{inside:?}");
        assert_eq!(inside[0]["ifname"], "lo");
        let flags = inside[0]["flags"].as_array().unwrap();
        assert!(flags.contains(&Value::from("UP")), "lo is up: {flags:?}");
        // Another namespace: the file is a namespace of its own.
        let ours = ok(harness::run(harness::anchor("ip").args([
            "netns",
            "exec",
            "RED",
            "readlink",
            "/proc/self/ns/net",
        ])));
        let host = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
        assert_ne!(ours.stdout.trim(), host.to_str().unwrap());
    });
}

#[test]
fn ours_works_on_ip_netns_add() {
    lab(test_name!(), || {
        ok(ip(&["netns", "add", "RED"]));
        pair_to_red("v0", "v1", "10.200.4.1/24", "10.200.4.2/24", &[]);
        assert_eq!(addrs_of(Some("RED"), "v1")[0], "10.200.4.2/24");
        pings(None, &[], "10.200.4.2");
        let deleted = ok(rv(&["netns", "del", "RED"]));
        assert_eq!(deleted.stderr, "");
        assert_eq!(ok(ip(&["netns", "list"])).stdout, "");
    });
}

#[test]
fn netns_list_matches_ip() {
    lab(test_name!(), || {
        ok(rv(&["netns", "add", "RED", "BLUE"]));
        ok(ip(&["netns", "add", "GREEN"]));
        // A pair across assigns RED an nsid here: both print it.
        pair_to_red("v0", "v1", "10.200.8.1/24", "10.200.8.2/24", &[]);
        let ours = ok(rv(&["netns", "list"])).stdout;
        assert_eq!(ours, ok(ip(&["netns", "list"])).stdout);
        assert!(ours.contains("RED (id: "), "{ours}");
        assert_eq!(
            json(rv(&["netns", "list", "-J"])),
            json(ip(&["-j", "netns", "list"]))
        );
    });
}

#[test]
fn list_json_matches_ip() {
    lab(test_name!(), || {
        ok(rv(&["netns", "add", "RED"]));
        pair_to_red(
            "v0",
            "v1",
            "10.200.9.1/24",
            "10.200.9.2/24",
            &["--mtu", "1400"],
        );
        ok(rv(&[
            "add",
            "w0",
            "w1",
            "--addr",
            "10.200.10.1/30",
            "--peer-addr",
            "10.200.10.2/30",
        ]));
        // Operstate follows carrier a moment later (linkwatch); hold still first.
        eventually("every end UP", || {
            [None, Some("RED")]
                .iter()
                .all(|ns| veths_seen_by_ip(*ns).iter().all(|l| l["operstate"] == "UP"))
        });
        for ns in [None, Some("RED")] {
            let ours = list_json(ns);
            let ours: Vec<Value> = ours.as_array().unwrap().iter().map(comparable).collect();
            assert_eq!(ours, veths_seen_by_ip(ns), "in {ns:?}");
        }
        let here = json(rv(&["list", "-J"]));
        let v0 = link_named(&here, "v0");
        assert_eq!(v0["peer"], "v1");
        assert_eq!(v0["peer_netns"], "RED");
        assert_eq!(v0["mtu"], 1400);
        let w0 = link_named(&here, "w0");
        assert_eq!(w0["peer"], "w1");
        assert_eq!(w0["peer_netns"], Value::Null);
    });
}

#[test]
fn peer_gateway_is_the_default_route() {
    lab(test_name!(), || {
        ok(rv(&["netns", "add", "RED"]));
        pair_to_red(
            "v0",
            "v1",
            "10.200.5.1/24",
            "10.200.5.2/24",
            &["--peer-gateway"],
        );
        let routes = json(ip(&["-j", "-n", "RED", "route", "show", "default"]));
        assert_eq!(routes.as_array().unwrap().len(), 1, "{routes}");
        assert_eq!(routes[0]["gateway"], "10.200.5.1");
        assert_eq!(routes[0]["dev"], "v1");
    });
}

#[test]
fn master_enslaves_to_a_bridge() {
    lab(test_name!(), || {
        ok(ip(&["link", "add", "br0", "type", "bridge"]));
        ok(rv(&["netns", "add", "RED"]));
        ok(rv(&[
            "add",
            "v0",
            "v1",
            "--peer-netns",
            "RED",
            "--master",
            "br0",
        ]));
        let v0 = json(ip(&["-j", "link", "show", "v0"]));
        assert_eq!(v0[0]["master"], "br0");
        let refused_ran = rv(&["add", "x0", "x1", "--master", "br9"]);
        refused_with(&refused_ran, "rvethpair: cannot add x0/x1: cannot find bridge \"br9\" in the current network namespace\n");
    });
}

/// True once no address of `dev` is tentative (IPv6 DAD done).
fn dad_done(netns: Option<&str>, dev: &str) -> bool {
    ip_json(netns, &["-6"], &["addr", "show", "dev", dev])[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a.get("tentative").is_none())
}

#[test]
fn ipv6_addresses_work() {
    lab(test_name!(), || {
        ok(rv(&["netns", "add", "RED"]));
        pair_to_red(
            "v0",
            "v1",
            "fd00:200::1/64",
            "fd00:200::2/64",
            &["--peer-gateway"],
        );
        assert!(addrs_of(None, "v0").contains(&"fd00:200::1/64".to_string()));
        assert!(addrs_of(Some("RED"), "v1").contains(&"fd00:200::2/64".to_string()));
        eventually("DAD done", || {
            dad_done(None, "v0") && dad_done(Some("RED"), "v1")
        });
        pings(Some("RED"), &["-6"], "fd00:200::1");
        let routes = json(ip(&["-j", "-6", "-n", "RED", "route", "show", "default"]));
        assert_eq!(routes[0]["gateway"], "fd00:200::1");
    });
}

#[test]
fn a_failed_step_leaves_no_link() {
    lab(test_name!(), || {
        ok(rv(&["netns", "add", "RED"]));
        // The kernel refuses a multicast address, after the pair exists.
        let ran = rv(&pair_args(
            "x0",
            "x1",
            "RED",
            "10.200.6.1/24",
            "ff02::1/64",
            &[],
        ));
        refused_with(
            &ran,
            "rvethpair: cannot add x0/x1: cannot add address ff02::1/64 to x1: Invalid argument\n",
        );
        assert_eq!(link_names(None), ["lo"]);
        assert_eq!(link_names(Some("RED")), ["lo"]);
    });
}
