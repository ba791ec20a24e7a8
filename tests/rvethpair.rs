//! rvethpair against iproute2: labs 7 and 14, the refusals, rollback,
//! interop with `ip netns`, and the netns lifetime row of SECURITY.md. Every
//! test runs in a fresh network and mount namespace of its own (with a
//! private /run/netns), on 10.200.0.0/16 and fd00:200::/64 only.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{self, Ran};

/// Root, `ip` and `ping` present, and the binary built before any test
/// thread leaves the host's namespaces.
fn ready(test: &str) -> bool {
    if !harness::root(test) || !harness::have(test, "ip") || !harness::have(test, "ping") {
        return false;
    }
    harness::bin("rvethpair");
    true
}

/// `body` in a network and mount namespace of its own, when `ready`.
fn lab(test: &str, body: impl FnOnce() + Send + 'static) {
    if ready(test) {
        harness::in_netns(body);
    }
}

fn rv(args: &[&str]) -> Ran {
    harness::run(harness::cmd("rvethpair").args(args))
}

fn ip(args: &[&str]) -> Ran {
    harness::run(harness::anchor("ip").args(args))
}

#[track_caller]
fn ok(ran: Ran) -> Ran {
    assert_eq!(ran.code, 0, "{ran:?}");
    ran
}

/// A refusal: exit 1 and one line on stderr naming the tool.
#[track_caller]
fn refused(ran: &Ran) {
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(ran.stderr.starts_with("rvethpair: "), "{ran:?}");
    assert_eq!(ran.stderr.lines().count(), 1, "{ran:?}");
    assert_eq!(ran.stdout, "");
}

/// A refusal (as `refused`) with exactly `stderr`.
#[track_caller]
fn refused_with(ran: &Ran, stderr: &str) {
    refused(ran);
    assert_eq!(ran.stderr, stderr);
}

fn json(ran: Ran) -> Value {
    serde_json::from_str(&ok(ran).stdout).expect("JSON")
}

/// `ip -j FLAGS [-n NETNS] REST` as JSON (None: the test's own namespace).
fn ip_json(netns: Option<&str>, flags: &[&str], rest: &[&str]) -> Value {
    let mut args = vec!["-j"];
    args.extend(flags);
    if let Some(ns) = netns {
        args.extend(["-n", ns]);
    }
    args.extend(rest);
    json(ip(&args))
}

/// `rvethpair list -J [--netns NETNS]` as JSON.
fn list_json(netns: Option<&str>) -> Value {
    let mut args = vec!["list", "-J"];
    if let Some(ns) = netns {
        args.extend(["--netns", ns]);
    }
    json(rv(&args))
}

/// The link names of a namespace (None: the test's own), as ip sees them.
fn link_names(netns: Option<&str>) -> Vec<String> {
    ip_json(netns, &[], &["link"])
        .as_array()
        .expect("array")
        .iter()
        .map(|l| l["ifname"].as_str().expect("ifname").to_string())
        .collect()
}

/// `local/prefixlen` of each address of `dev`, as ip sees them.
fn addrs_of(netns: Option<&str>, dev: &str) -> Vec<String> {
    ip_json(netns, &[], &["addr", "show", "dev", dev])[0]["addr_info"]
        .as_array()
        .expect("addr_info")
        .iter()
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect()
}

fn netns_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/run/netns")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Waits (up to 20 s) for something the kernel does in its own time.
#[track_caller]
fn eventually(what: &str, done: impl FnMut() -> bool) {
    assert!(harness::eventually(done), "never: {what}");
}

/// A pair between the test's namespace (NAME) and RED (PEER).
fn pair_to_red(name: &str, peer: &str, addr: &str, peer_addr: &str, extra: &[&str]) {
    pair(name, peer, "RED", addr, peer_addr, extra);
}

/// A pair between the test's namespace (NAME) and `netns` (PEER).
fn pair(name: &str, peer: &str, netns: &str, addr: &str, peer_addr: &str, extra: &[&str]) {
    ok(rv(&pair_args(name, peer, netns, addr, peer_addr, extra)));
}

/// `add NAME PEER --peer-netns NETNS --addr ADDR --peer-addr PEER_ADDR`,
/// then `extra`.
fn pair_args<'a>(
    name: &'a str,
    peer: &'a str,
    netns: &'a str,
    addr: &'a str,
    peer_addr: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "add",
        name,
        peer,
        "--peer-netns",
        netns,
        "--addr",
        addr,
        "--peer-addr",
        peer_addr,
    ];
    args.extend(extra);
    args
}

/// One ping to `to` (from `netns` through `ip netns exec`, else from here)
/// that must be answered.
fn pings(netns: Option<&str>, flags: &[&str], to: &str) {
    let mut ping = match netns {
        Some(ns) => {
            let mut ip = harness::anchor("ip");
            ip.args(["netns", "exec", ns, "ping"]);
            ip
        }
        None => harness::anchor("ping"),
    };
    ping.args(flags);
    // A deadline: one probe a second until a reply (carrier comes up
    // asynchronously).
    ping.args(["-c1", "-w5", to]);
    ok(harness::run(&mut ping));
}

/// A `sleep` inside RED, once it is there.
fn sleeper_in_red() -> harness::Process {
    use std::os::unix::fs::MetadataExt;
    let inside = harness::Process::sleeping(
        Command::new("ip").args(["netns", "exec", "RED", "sleep", "600"]),
        false,
    );
    let pid = inside.pid;
    let key = std::fs::metadata("/run/netns/RED").unwrap();
    eventually("the child entered RED", || {
        std::fs::metadata(format!("/proc/{pid}/ns/net"))
            .is_ok_and(|m| m.ino() == key.ino() && m.dev() == key.dev())
    });
    inside
}

/// `rvethpair ARGS` (a batch) reading `input` on stdin, which succeeds.
fn batch_from_stdin(args: &[&str], input: &[u8]) {
    use std::io::Write;
    let mut child =
        harness::Spawned::new(harness::cmd("rvethpair").args(args).stdin(Stdio::piped()));
    child.stdin.take().unwrap().write_all(input).unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn lab14_red_blue_one_to_one() {
    lab("lab14_red_blue_one_to_one", || {
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
    lab("lab7_same_address_on_both_ends_is_refused", || {
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
    lab("address_in_use_is_refused", || {
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
    lab("ip_netns_exec_enters_ours", || {
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
    lab("ours_works_on_ip_netns_add", || {
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
    lab("netns_list_matches_ip", || {
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

/// The row of `rows` (a JSON array of links) named `ifname`.
#[track_caller]
fn link_named<'a>(rows: &'a Value, ifname: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|l| l["ifname"] == ifname)
        .unwrap()
}

/// The fields `rvethpair list -J` shares with `ip -j addr`.
fn comparable(link: &Value) -> Value {
    let addrs: Vec<Value> = link["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| serde_json::json!([a["family"], a["local"], a["prefixlen"]]))
        .collect();
    serde_json::json!({
        "ifname": link["ifname"],
        "ifindex": link["ifindex"],
        "mtu": link["mtu"],
        "operstate": link["operstate"],
        "link": link["link"],
        "link_index": link["link_index"],
        "link_netnsid": link["link_netnsid"],
        "addr_info": addrs,
    })
}

fn veths_seen_by_ip(netns: Option<&str>) -> Vec<Value> {
    ip_json(netns, &["-d"], &["addr"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["linkinfo"]["info_kind"] == "veth")
        .map(comparable)
        .collect()
}

#[test]
fn list_json_matches_ip() {
    lab("list_json_matches_ip", || {
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
    lab("peer_gateway_is_the_default_route", || {
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
    lab("master_enslaves_to_a_bridge", || {
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
    lab("ipv6_addresses_work", || {
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
    lab("a_failed_step_leaves_no_link", || {
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

#[test]
fn bad_inputs_change_nothing() {
    lab("bad_inputs_change_nothing", || {
        ok(rv(&["netns", "add", "RED"]));
        ok(ip(&["link", "add", "taken", "type", "bridge"]));
        let cases: &[(&[&str], &str)] = &[
            (
                &["add", "a0", "a1", "--addr", "10.200.1/24"],
                "rvethpair: invalid address '10.200.1/24': invalid IP address syntax\n",
            ),
            (
                &["add", "a0", "a1", "--addr", "10.200.1.1/33"],
                "rvethpair: invalid prefix length '33' in '10.200.1.1/33' (0 to 32)\n",
            ),
            (
                &["add", "a0", "a1", "--peer-netns", "NOPE"],
                "rvethpair: cannot add a0/a1: cannot open network namespace \"NOPE\": No such file or directory\n",
            ),
            (
                &["add", "a0123456789abcdef", "a1"],
                "rvethpair: invalid link name 'a0123456789abcdef': longer than 15 bytes\n",
            ),
            (
                &["add", "a/0", "a1"],
                "rvethpair: invalid link name 'a/0': contains '/'\n",
            ),
            (
                &["add", "taken", "a1", "--peer-netns", "RED"],
                "rvethpair: cannot add taken/a1: a link named taken already exists in the current network namespace\n",
            ),
            (
                &["netns", "add", "RED"],
                "rvethpair: cannot create namespace file \"/run/netns/RED\": File exists\n",
            ),
            (
                &["del", "taken"],
                "rvethpair: taken is not a veth link\n",
            ),
        ];
        for (args, stderr) in cases {
            let ran = rv(args);
            if stderr.contains("cannot open network namespace") {
                // ip's status for a namespace it cannot open
                assert_eq!(ran.code, 255, "{ran:?}");
            } else {
                refused(&ran);
            }
            assert_eq!(ran.stderr, *stderr, "{args:?}");
        }
        let dir = harness::tempdir("bad_inputs_change_nothing");
        let file = dir.path().join("batch");
        std::fs::write(&file, "netns add BLUE\nfrobnicate x\n").unwrap();
        let ran = rv(&["batch", file.to_str().unwrap()]);
        refused_with(
            &ran,
            "rvethpair: batch line 2: unrecognized subcommand 'frobnicate'\n",
        );
        assert_eq!(link_names(None), ["lo", "taken"]);
        assert_eq!(link_names(Some("RED")), ["lo"]);
        assert_eq!(netns_files(), ["RED"]);
    });
}

#[test]
fn batch_stops_at_a_failure_unless_forced() {
    lab("batch_stops_at_a_failure_unless_forced", || {
        let dir = harness::tempdir("batch_stops_at_a_failure_unless_forced");
        let file = dir.path().join("batch");
        std::fs::write(
            &file,
            "# one namespace, two pairs, one mistake\n\
             netns add RED\n\
             add a0 a1 --peer-netns RED --addr 10.200.11.1/30 --peer-addr 10.200.11.2/30\n\
             add b0 b1 --peer-netns RED --addr 10.200.11.1/30 --peer-addr 10.200.11.2/30\n\
             add c0 c1 --peer-netns RED --addr 10.200.13.1/30 --peer-addr 10.200.13.2/30\n",
        )
        .unwrap();
        let ran = rv(&["batch", file.to_str().unwrap()]);
        refused_with(&ran, "rvethpair: batch line 4: cannot add b0/b1: address 10.200.11.1 is already in use on a0 in the current network namespace (stopped: 2 of 4 commands done before this line)\n");
        assert_eq!(link_names(None), ["lo", "a0"]);

        ok(rv(&["netns", "del", "RED"]));
        eventually("a0 gone with RED", || link_names(None) == ["lo"]);
        let ran = rv(&["batch", "--force", file.to_str().unwrap()]);
        assert_eq!(ran.code, 1, "{ran:?}");
        assert_eq!(ran.stderr.lines().count(), 1, "{ran:?}");
        assert_eq!(link_names(None), ["lo", "a0", "c0"]);
        assert_eq!(link_names(Some("RED")), ["lo", "a1", "c1"]);

        // From stdin, and del by either end.
        batch_from_stdin(&["batch", "-"], b"del a0\ndel c1 --netns RED\n");
        assert_eq!(link_names(None), ["lo"]);
        assert_eq!(link_names(Some("RED")), ["lo"]);
    });
}

/// `netns del A B MISSING` removes A and B, names MISSING, exits 1 (ip
/// stops at its first name; ours takes several, so a cleanup with `|| true`
/// leaks nothing). The message for MISSING is ip's.
#[test]
fn netns_del_removes_every_name_there_and_names_the_missing() {
    lab("netns_del_removes_every_name_there", || {
        ok(rv(&["netns", "add", "A", "B", "C"]));
        let ran = rv(&["netns", "del", "A", "MISSING", "B", "GONE"]);
        let theirs = ip(&["netns", "del", "MISSING"]);
        assert_eq!((ran.code, theirs.code), (1, 1), "{ran:?}");
        assert_eq!(netns_files(), ["C"]);
        let line = |name: &str| {
            theirs
                .stderr
                .trim_end()
                .replace("MISSING", name)
                .replace("Cannot", "cannot")
        };
        assert_eq!(
            ran.stderr,
            format!("rvethpair: {}; {}\n", line("MISSING"), line("GONE"))
        );
        // A stale file (what a killed add leaves) goes as with ip.
        std::fs::write("/run/netns/STALE", "").unwrap();
        ok(rv(&["netns", "del", "STALE", "C"]));
        assert_eq!(netns_files(), Vec::<String>::new());
    });
}

/// The exit status of the netns and list forms is ip's: 255 for a
/// namespace that cannot be opened, a name ip refuses, an unknown netns
/// command and `netns help`; 1 for a missing or existing name; 0 for the
/// lists (ip ignores extra words after `netns list`).
#[test]
fn netns_and_list_exit_codes_are_ips() {
    lab("netns_and_list_exit_codes_are_ips", || {
        ok(ip(&["netns", "add", "RED"]));
        let long = "n".repeat(300);
        for (ours, theirs) in [
            (
                &["list", "--netns", "NOPE"][..],
                &["-n", "NOPE", "link"][..],
            ),
            (
                &["del", "x", "--netns", "NOPE"],
                &["-n", "NOPE", "link", "del", "x"],
            ),
            (
                &["list", "--netns", "/proc/self/stat"],
                &["-n", "/proc/self/stat", "link"],
            ),
            (&["netns", "bogus"], &["netns", "bogus"]),
            (&["netns", "help"], &["netns", "help"]),
            (&["netns", "add", "a/b"], &["netns", "add", "a/b"]),
            (&["netns", "del", "a/b"], &["netns", "del", "a/b"]),
            (&["netns", "del", ""], &["netns", "del", ""]),
            (&["netns", "add", &long], &["netns", "add", &long]),
            (&["netns", "add", "RED"], &["netns", "add", "RED"]),
            (&["netns", "del", "NOPE"], &["netns", "del", "NOPE"]),
            (&["netns", "del"], &["netns", "del"]),
            (&["netns", "add"], &["netns", "add"]),
            (&["netns", "list"], &["netns", "list"]),
            (&["netns", "list", "extra"], &["netns", "list", "extra"]),
            (&["netns", "s"], &["netns", "s"]),
            (&["netns"], &["netns"]),
            (&["list"], &["link", "show", "type", "veth"]),
        ] {
            let (o, t) = (rv(ours), ip(theirs));
            assert_eq!(o.code, t.code, "{ours:?}: {o:?} / {theirs:?}: {t:?}");
            assert_eq!(o.stderr.is_empty(), t.stderr.is_empty(), "{o:?} / {t:?}");
            if o.code != 0 {
                assert_eq!(o.stderr.lines().count(), 1, "{o:?}");
            }
        }
        assert_eq!(netns_files(), ["RED"]);
    });
}

/// `netns add -- -x` as ip: no word after `netns add` is an option, so
/// `--` and `-x` are names (ip makes only its first name, `--`; ours makes
/// every one), and `netns del` takes them back the same way.
#[test]
fn netns_add_takes_every_word_as_a_name_as_ip_does() {
    lab("netns_add_takes_every_word_as_a_name", || {
        ok(ip(&["netns", "add", "--", "-x"]));
        let by_ip = netns_files();
        ok(ip(&["netns", "del", "--"]));
        ok(rv(&["netns", "add", "--"]));
        assert_eq!(netns_files(), by_ip);
        ok(rv(&["netns", "add", "-x", "--json"]));
        assert_eq!(netns_files(), ["--", "--json", "-x"]);
        ok(ip(&["netns", "exec", "-x", "true"]));
        ok(rv(&["netns", "del", "--", "-x", "--json"]));
        assert_eq!(netns_files(), Vec::<String>::new());
    });
}

#[test]
fn netns_del_with_a_process_inside_warns_with_its_pid() {
    lab("netns_del_with_a_process_inside_warns_with_its_pid", || {
        ok(rv(&["netns", "add", "RED"]));
        pair_to_red("v0", "v1", "10.200.14.1/24", "10.200.14.2/24", &[]);
        let mut inside = sleeper_in_red();
        let pid = inside.pid;
        let ran = ok(rv(&["netns", "del", "RED"]));
        assert_eq!(
            ran.stderr,
            format!("rvethpair: warning: network namespace RED is still used by pid {pid}: it and its links live until they exit\n")
        );
        assert!(netns_files().is_empty());
        // The namespace lives on with its process, and so does the pair.
        assert_eq!(link_names(None), ["lo", "v0"]);
        inside.outer.kill().unwrap();
        inside.outer.wait().unwrap();
        eventually("v0 gone with RED", || link_names(None) == ["lo"]);
    });
}

#[test]
fn list_prints_a_table() {
    lab("list_prints_a_table", || {
        // Down: no link-local address appears, the state holds still.
        ok(rv(&[
            "add",
            "d0",
            "d1",
            "--down",
            "--addr",
            "10.200.15.1/24",
            "--peer-addr",
            "10.200.15.2/24",
        ]));
        // The kernel registers the peer first, so d1 has the lower ifindex.
        assert_eq!(
            ok(rv(&["list"])).stdout,
            "NAME PEER PEER-NETNS STATE MTU  ADDRESSES\n\
             d1   d0   -          DOWN  1500 10.200.15.2/24\n\
             d0   d1   -          DOWN  1500 10.200.15.1/24\n"
        );
    });
}

#[test]
fn batch_deletes_a_run_of_links_together() {
    lab("batch_deletes_a_run_of_links_together", || {
        ok(rv(&["netns", "add", "RED"]));
        ok(ip(&["link", "add", "keep", "type", "bridge"]));
        pair_to_red("a0", "a1", "10.200.16.1/30", "10.200.16.2/30", &[]);
        pair_to_red("c0", "c1", "10.200.16.5/30", "10.200.16.6/30", &[]);
        ok(rv(&["add", "w0", "w1"]));
        batch_from_stdin(&["batch"], b"del a0\ndel c0\ndel w0\n");
        // Only the named pairs went; a link of another kind stays as it was.
        assert_eq!(link_names(None), ["lo", "keep"]);
        assert_eq!(link_names(Some("RED")), ["lo"]);
        let keep = json(ip(&["-j", "link", "show", "keep"]));
        assert_eq!(keep[0]["group"], "default");
    });
}

#[test]
fn batch_del_of_both_ends_fails_as_one_by_one_would() {
    lab("batch_del_of_both_ends_fails_as_one_by_one_would", || {
        ok(rv(&["add", "d0", "d1"]));
        let dir = harness::tempdir("batch_del_of_both_ends");
        let file = dir.path().join("batch");
        std::fs::write(&file, "del d0\ndel d1\n").unwrap();
        let ran = rv(&["batch", file.to_str().unwrap()]);
        refused_with(&ran, "rvethpair: batch line 2: cannot find device \"d1\" in the current network namespace (stopped: 1 of 2 commands done before this line)\n");
        // What came before the failed line is done.
        assert_eq!(link_names(None), ["lo"]);
    });
}

#[test]
fn netns_add_cleans_up_after_an_interrupted_add() {
    lab("netns_add_cleans_up_after_an_interrupted_add", || {
        // What `netns add` leaves when killed between O_EXCL and the bind.
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o000)
            .open("/run/netns/RED")
            .unwrap();
        let ran = ok(rv(&["netns", "add", "RED"]));
        assert_eq!(
            ran.stderr,
            "rvethpair: warning: removed /run/netns/RED: an empty file left by an interrupted netns add\n"
        );
        ok(harness::run(
            harness::anchor("ip").args(["netns", "exec", "RED", "true"]),
        ));
        // A real namespace is never taken for a leftover.
        let again = rv(&["netns", "add", "RED"]);
        refused(&again);
    });
}

#[test]
fn a_namespace_by_pid_or_path() {
    lab("a_namespace_by_pid_or_path", || {
        ok(rv(&["netns", "add", "RED"]));
        let mut inside = sleeper_in_red();
        let pid = inside.pid.to_string();
        pair("v0", "v1", &pid, "10.200.17.1/30", "10.200.17.2/30", &[]);
        pair(
            "w0",
            "w1",
            "/run/netns/RED",
            "10.200.17.5/30",
            "10.200.17.6/30",
            &[],
        );
        assert_eq!(link_names(Some("RED")), ["lo", "v1", "w1"]);
        ok(rv(&["del", "v1", "--netns", &pid]));
        assert_eq!(link_names(Some("RED")), ["lo", "w1"]);
        inside.outer.kill().unwrap();
        inside.outer.wait().unwrap();
    });
}

#[test]
fn ends_in_different_subnets_are_warned_about() {
    lab("ends_in_different_subnets_are_warned_about", || {
        ok(rv(&["netns", "add", "RED"]));
        let ran = rv(&pair_args(
            "v0",
            "v1",
            "RED",
            "10.200.18.1/24",
            "10.200.19.1/24",
            &[],
        ));
        assert_eq!(ran.code, 0, "{ran:?}");
        assert_eq!(
            ran.stderr,
            "rvethpair: warning: 10.200.18.1/24 and 10.200.19.1/24 are in different subnets: the ends cannot reach each other without a route\n"
        );
        assert_eq!(addrs_of(Some("RED"), "v1")[0], "10.200.19.1/24");
    });
}

/// True when the name is a whole namespace: bound, with lo up.
fn whole(name: &str) -> bool {
    let lo = json(ip(&["-j", "-n", name, "link", "show", "lo"]));
    lo[0]["flags"]
        .as_array()
        .unwrap()
        .contains(&Value::from("UP"))
}

#[test]
fn killed_netns_add_leaves_nothing_half_made() {
    lab("killed_netns_add_leaves_nothing_half_made", || {
        use std::os::unix::fs::MetadataExt;
        let names: Vec<String> = (0..6).map(|i| format!("k{i}")).collect();
        for round in 0..20u64 {
            let mut child = harness::Spawned::new(
                harness::cmd("rvethpair")
                    .args(["netns", "add"])
                    .args(&names)
                    .stderr(Stdio::null()),
            );
            std::thread::sleep(Duration::from_micros(round * 300));
            let _ = child.kill();
            child.wait().unwrap();
            for name in netns_files() {
                let meta = std::fs::metadata(format!("/run/netns/{name}")).unwrap();
                if meta.len() == 0 && meta.mode() & 0o7777 == 0 {
                    // Killed before the bind: the next add clears it and says so.
                    let again = ok(rv(&["netns", "add", &name]));
                    assert_eq!(
                        again.stderr,
                        format!("rvethpair: warning: removed /run/netns/{name}: an empty file left by an interrupted netns add\n")
                    );
                }
                assert!(whole(&name), "round {round}: {name} is half made");
            }
            let mut del = vec!["netns", "del"];
            let left = netns_files();
            if !left.is_empty() {
                del.extend(left.iter().map(String::as_str));
                ok(rv(&del));
            }
            assert!(netns_files().is_empty());
        }
    });
}

#[test]
fn killed_add_is_cleared_by_the_next_add() {
    lab("killed_add_is_cleared_by_the_next_add", || {
        ok(rv(&["netns", "add", "RED"]));
        let add = pair_args(
            "v0",
            "v1",
            "RED",
            "10.200.20.1/30",
            "10.200.20.2/30",
            &["--peer-gateway"],
        );
        for round in 0..20u64 {
            let mut child =
                harness::Spawned::new(harness::cmd("rvethpair").args(&add).stderr(Stdio::null()));
            std::thread::sleep(Duration::from_micros(round * 200));
            let _ = child.kill();
            child.wait().unwrap();
            // The same command again: it finds nothing, a whole pair (and
            // refuses), or a half-made one that it removes and says so.
            let again = rv(&add);
            match again.code {
                0 => assert!(
                    again.stderr.is_empty()
                        || again.stderr
                            == "rvethpair: warning: removed v0 in the current network namespace: a pair left by an interrupted add\n",
                    "{again:?}"
                ),
                _ => assert_eq!(
                    again.stderr,
                    "rvethpair: cannot add v0/v1: a link named v0 already exists in the current network namespace\n"
                ),
            }
            // Either way the pair is whole now.
            assert_eq!(addrs_of(None, "v0")[0], "10.200.20.1/30", "round {round}");
            assert_eq!(addrs_of(Some("RED"), "v1")[0], "10.200.20.2/30");
            let route = json(ip(&["-j", "-n", "RED", "route", "show", "default"]));
            assert_eq!(route[0]["gateway"], "10.200.20.1");
            let v0 = json(ip(&["-j", "link", "show", "v0"]));
            assert_eq!(v0[0]["group"], "default");
            ok(rv(&["del", "v0"]));
        }
    });
}

/// Usage as ip takes it: `netns` alone lists, command words may be
/// abbreviated or spelt `delete`/`show`, and a missing word or operand is
/// one line naming what is missing.
#[test]
fn command_words_as_ip_takes_them() {
    lab("command_words_as_ip_takes_them", || {
        ok(ip(&["netns", "add", "RED"]));
        let listed = ok(ip(&["netns", "list"])).stdout;
        assert_eq!(listed, "RED\n");
        for words in [&["netns"][..], &["netns", "show"], &["netns", "l"]] {
            assert_eq!(ok(rv(words)).stdout, ok(ip(words)).stdout, "{words:?}");
        }
        ok(rv(&["a", "v0", "v1"]));
        // The same rows; state and link-local addresses change meanwhile
        // (the pair comes up in its own time), so they are left out.
        let steady = |mut rows: Value| {
            for row in rows.as_array_mut().unwrap() {
                let row = row.as_object_mut().unwrap();
                row.remove("operstate");
                row.remove("addr_info");
            }
            rows
        };
        assert_eq!(
            steady(json(rv(&["show", "-J"]))),
            steady(json(rv(&["list", "-J"])))
        );
        ok(rv(&["delete", "v0"]));
        ok(rv(&["netns", "d", "RED"]));
        assert_eq!(netns_files(), Vec::<String>::new());
        assert_eq!(link_names(None), ["lo"]);
        for (args, stderr) in [
            (
                &[][..],
                "rvethpair: 'rvethpair' requires a subcommand but one was not provided \
                 [subcommands: add, del, delete, list, show, netns, batch]\n",
            ),
            (
                &["add", "v0"],
                "rvethpair: the following required arguments were not provided: <PEER>\n",
            ),
        ] {
            let ran = rv(args);
            assert_eq!(ran.code, 1, "{ran:?}");
            assert_eq!(
                ran.stderr,
                format!("{stderr}Try 'rvethpair --help' for more information.\n"),
                "{args:?}"
            );
        }
    });
}

/// The man page points at no page that is not made (clap_mangen's
/// SUBCOMMANDS section named rvethpair-add(8) and the like).
#[test]
fn man_page_references_only_pages_that_exist() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/rvethpair.8")).unwrap();
    assert!(page.contains(".SH \"COMMANDS\""), "{page}");
    // A reference to a page reads `rvethpair\-SUB(8)` in roff.
    assert!(
        !page.contains("rvethpair\\-"),
        "the page refers to rvethpair-*(8) pages, which are not made"
    );
}

/// A batch file is read as `ip -batch` reads it: comments, blank lines,
/// quoted words (a name with a blank) and `\` continuation lines; the same
/// `netns` lines make the same names with both.
#[test]
fn batch_reads_quotes_and_continuations_as_ip_does() {
    lab("batch_reads_quotes_and_continuations_as_ip_does", || {
        let dir = harness::tempdir("batch_reads_quotes_and_continuations_as_ip_does");
        let add = dir.path().join("add");
        let del = dir.path().join("del");
        std::fs::write(
            &add,
            "# names as ip -batch reads them\n\
             netns add 'RED one' # a comment\n\
             \n\
             netns \\\n\
             \tadd BLUE\n\
             \x20 netns add \"GREEN\"\r\n",
        )
        .unwrap();
        std::fs::write(
            &del,
            "netns del 'RED one'\nnetns del BLUE\nnetns del GREEN\n",
        )
        .unwrap();
        ok(ip(&["-batch", add.to_str().unwrap()]));
        let theirs = ok(ip(&["netns", "list"])).stdout;
        assert_eq!(netns_files(), ["BLUE", "GREEN", "RED one"]);
        ok(ip(&["-batch", del.to_str().unwrap()]));
        assert_eq!(netns_files(), Vec::<String>::new());

        let ran = ok(rv(&["batch", add.to_str().unwrap()]));
        assert_eq!(ran.stderr, "");
        assert_eq!(ok(ip(&["netns", "list"])).stdout, theirs);
        ok(ip(&["netns", "exec", "RED one", "true"]));
        ok(rv(&["batch", del.to_str().unwrap()]));
        assert_eq!(netns_files(), Vec::<String>::new());

        // ip -batch's two reading errors, by line, with nothing done.
        std::fs::write(&add, "netns add A\nnetns add 'B\n").unwrap();
        let ran = rv(&["batch", add.to_str().unwrap()]);
        refused_with(
            &ran,
            "rvethpair: batch line 2: unterminated quoted string\n",
        );
        std::fs::write(&add, "netns add A\nnetns add B \\\n").unwrap();
        let ran = rv(&["batch", add.to_str().unwrap()]);
        refused_with(&ran, "rvethpair: batch line 2: missing continuation line\n");
        assert_eq!(netns_files(), Vec::<String>::new());
    });
}

/// `--mtu` takes what `ip link add … mtu N type veth peer … mtu N` takes
/// (68 to 65535), the value reaching both ends; outside it, a refusal that
/// says the bounds and leaves nothing.
#[test]
fn mtu_bounds_are_ips() {
    lab("mtu_bounds_are_ips", || {
        for mtu in ["67", "68", "1280", "65535", "65536"] {
            let theirs = ip(&[
                "link", "add", "i0", "mtu", mtu, "type", "veth", "peer", "name", "i1", "mtu", mtu,
            ]);
            let ours = rv(&["add", "o0", "o1", "--mtu", mtu]);
            assert_eq!(
                ours.code == 0,
                theirs.code == 0,
                "{mtu}: {ours:?} {theirs:?}"
            );
            if ours.code == 0 {
                let mtus = |names: [&str; 2]| -> Vec<Value> {
                    names
                        .iter()
                        .map(|n| json(ip(&["-j", "link", "show", n]))[0]["mtu"].clone())
                        .collect()
                };
                assert_eq!(mtus(["o0", "o1"]), mtus(["i0", "i1"]), "{mtu}");
                ok(ip(&["link", "del", "i0"]));
                ok(rv(&["del", "o0"]));
            } else {
                refused_with(
                    &ours,
                    &format!("rvethpair: invalid MTU {mtu}: a veth takes 68 to 65535\n"),
                );
            }
            assert_eq!(link_names(None), ["lo"], "{mtu}");
        }
    });
}

/// `--master` to a link that is not a bridge, or to none: ip refuses it and
/// so do we, before anything is made, saying which.
#[test]
fn master_must_be_an_existing_bridge() {
    lab("master_must_be_an_existing_bridge", || {
        ok(ip(&[
            "link", "add", "s0", "type", "veth", "peer", "name", "s1",
        ]));
        for (master, why) in [
            ("s0", "s0 in the current network namespace is not a bridge"),
            ("lo", "lo in the current network namespace is not a bridge"),
            (
                "nobr",
                "cannot find bridge \"nobr\" in the current network namespace",
            ),
        ] {
            let theirs = ip(&[
                "link", "add", "m0", "master", master, "type", "veth", "peer", "name", "m1",
            ]);
            assert_ne!(theirs.code, 0, "{theirs:?}");
            let ours = rv(&["add", "m0", "m1", "--master", master]);
            refused_with(&ours, &format!("rvethpair: cannot add m0/m1: {why}\n"));
            assert_eq!(link_names(None), ["lo", "s1", "s0"], "{master}");
        }
    });
}

/// The refusals about namespace files and devices read as ip's do (the
/// name in double quotes), with exit 1.
#[test]
fn missing_names_are_worded_as_ip_words_them() {
    lab("missing_names_are_worded_as_ip_words_them", || {
        ok(ip(&["netns", "add", "RED"]));
        for (ours, theirs) in [
            (&["netns", "add", "RED"][..], &["netns", "add", "RED"][..]),
            (&["netns", "del", "NOPE"], &["netns", "del", "NOPE"]),
            (&["list", "--netns", "NOPE"], &["-n", "NOPE", "link"]),
            (&["del", "nope"], &["link", "del", "nope"]),
        ] {
            let ours = rv(ours);
            let theirs = ip(theirs);
            // ip's exit status: 1, or 255 for a namespace it cannot open.
            assert_eq!(ours.code, theirs.code, "{ours:?} / {theirs:?}");
            assert_eq!(ours.stderr.lines().count(), 1, "{ours:?}");
            assert!(ours.stderr.starts_with("rvethpair: "), "{ours:?}");
            // ip: `Cannot remove namespace file "/run/netns/NOPE": No such
            // file or directory`; ours adds the namespace where it looked.
            let theirs = theirs.stderr.trim_end().to_lowercase();
            let ours = ours.stderr.trim_end().to_lowercase();
            let theirs = theirs.split(": ").next().unwrap();
            assert!(ours.contains(theirs), "{ours} / {theirs}");
        }
        assert_eq!(netns_files(), ["RED"]);
    });
}

/// `netns add` in a mount namespace where /run/netns does not exist yet
/// (and under umask 0) leaves the same /run/netns as `ip netns add`: the
/// same mode, the same mountinfo lines (a shared bind mount of itself, the
/// name a shared nsfs mount below it) once mount ids and numbers are set
/// aside.
#[test]
fn run_netns_is_made_as_ip_makes_it() {
    if !ready("run_netns_is_made_as_ip_makes_it") || !harness::have("run_netns", "unshare") {
        return;
    }
    let script = |tool: &str| {
        // A mount namespace of its own and an empty /run, for each tool.
        format!(
            "mount -t tmpfs -o mode=755 tmpfs /run && umask 0 && {tool} netns add A && \
             stat -c '%a %n' /run/netns /run/netns/A && grep ' /run/netns' /proc/self/mountinfo"
        )
    };
    let made = move |tool: String| -> Vec<String> {
        let ran = ok(harness::run(harness::anchor("unshare").args([
            "-m",
            "sh",
            "-c",
            &script(&tool),
        ])));
        ran.stdout
            .lines()
            .map(|line| {
                if !line.contains(" - ") {
                    return line.to_string(); // stat's
                }
                line.split(' ')
                    .enumerate()
                    // Mount id, parent id, device: numbers of the moment.
                    .filter(|(i, _)| *i > 2)
                    .map(|(_, f)| match f.split_once(':') {
                        Some((tag @ ("shared" | "master" | "net"), _)) => tag.to_string(),
                        _ => f.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    harness::in_netns(move || {
        let ours = made(harness::bin("rvethpair").display().to_string());
        let theirs = made("ip".to_string());
        assert_eq!(ours, theirs);
        assert!(theirs.contains(&"755 /run/netns".to_string()), "{theirs:?}");
        assert!(
            theirs
                .iter()
                .any(|l| l.starts_with("/netns /run/netns ") && l.contains(" shared - tmpfs ")),
            "{theirs:?}"
        );
    });
}

/// The last step failing (PEER's namespace has a default route already)
/// removes the pair, its addresses with it, and leaves the route there was.
#[test]
fn a_failed_gateway_leaves_no_link() {
    lab("a_failed_gateway_leaves_no_link", || {
        ok(rv(&["netns", "add", "RED"]));
        pair_to_red("d0", "d1", "10.200.9.1/24", "10.200.9.2/24", &[]);
        ok(ip(&[
            "-n",
            "RED",
            "route",
            "add",
            "default",
            "via",
            "10.200.9.1",
        ]));
        let routes = ok(ip(&["-n", "RED", "route"])).stdout;
        let ran = rv(&pair_args(
            "x0",
            "x1",
            "RED",
            "10.200.6.1/24",
            "10.200.6.2/24",
            &["--peer-gateway"],
        ));
        refused_with(&ran, "rvethpair: cannot add x0/x1: cannot add a default route via 10.200.6.1 in network namespace \"RED\": File exists\n");
        assert_eq!(link_names(None), ["lo", "d0"]);
        assert_eq!(link_names(Some("RED")), ["lo", "d1"]);
        assert_eq!(ok(ip(&["-n", "RED", "route"])).stdout, routes);
    });
}

/// The names `ip netns add` refuses, we refuse in its words (exit 1, ip's
/// 255 being no code a script tells apart); a name of 255 bytes is taken.
#[test]
fn netns_names_ip_refuses() {
    lab("netns_names_ip_refuses", || {
        let long = "n".repeat(256);
        for name in ["x/y", ".", "..", "", &long] {
            let theirs = ip(&["netns", "add", name]);
            assert_eq!(theirs.code, 255);
            let ours = rv(&["netns", "add", name]);
            assert_eq!(ours.code, 255, "{ours:?}");
            assert_eq!(
                ours.stderr,
                format!("rvethpair: {}", theirs.stderr.to_lowercase())
            );
        }
        assert_eq!(netns_files(), Vec::<String>::new());
        ok(rv(&["netns", "add", &long[1..]]));
        assert_eq!(
            ok(ip(&["netns", "list"])).stdout,
            format!("{}\n", &long[1..])
        );
        ok(ip(&["netns", "exec", &long[1..], "true"]));
        ok(rv(&["netns", "del", &long[1..]]));
    });
}

/// Every field of `list -J` that `ip -j addr` also has holds what ip's
/// does (peer and peer_netns are ours alone), for ends here and in RED,
/// enslaved or not, with IPv4 and IPv6 addresses.
#[test]
fn list_json_fields_hold_what_ips_do() {
    lab("list_json_fields_hold_what_ips_do", || {
        ok(rv(&["netns", "add", "RED"]));
        ok(ip(&["link", "add", "br0", "type", "bridge"]));
        pair_to_red(
            "v0",
            "v1",
            "10.200.9.1/24",
            "10.200.9.2/24",
            &["--addr", "fd00:200::1/64", "--master", "br0"],
        );
        ok(rv(&[
            "add",
            "w0",
            "w1",
            "--down",
            "--addr",
            "10.200.10.1/30",
        ]));
        // Operstate and link-local addresses follow carrier a moment later.
        eventually("v0 and v1 UP with link-local addresses", || {
            veths_seen_by_ip(None)
                .iter()
                .any(|l| l["operstate"] == "UP")
                && veths_seen_by_ip(Some("RED"))
                    .iter()
                    .all(|l| l["operstate"] == "UP")
                && addrs_of(None, "v0").len() == 3
                && addrs_of(Some("RED"), "v1").len() == 2
        });
        for ns in [None, Some("RED")] {
            let theirs = ip_json(ns, &[], &["addr"]);
            let ours = list_json(ns);
            let ours = ours.as_array().unwrap();
            assert_eq!(ours.len(), if ns.is_none() { 3 } else { 1 }, "{ours:?}");
            for row in ours {
                let link = link_named(&theirs, row["ifname"].as_str().unwrap());
                for (key, value) in row.as_object().unwrap() {
                    match key.as_str() {
                        "peer" | "peer_netns" => {}
                        "addr_info" => {
                            let mine = value.as_array().unwrap();
                            let ips = link["addr_info"].as_array().unwrap();
                            assert_eq!(mine.len(), ips.len(), "{row} / {link}");
                            for (a, b) in mine.iter().zip(ips) {
                                for (k, v) in a.as_object().unwrap() {
                                    assert_eq!(v, &b[k], "{k} of {a} / {b}");
                                }
                            }
                        }
                        _ => assert_eq!(value, &link[key], "{key} of {row} / {link}"),
                    }
                }
            }
        }
        let here = json(rv(&["list", "-J"]));
        let v0 = link_named(&here, "v0");
        assert_eq!(v0["master"], "br0");
        assert_eq!(v0["addr_info"][1]["scope"], "global");
    });
}

/// Before any /run/netns exists, `netns list` prints what ip prints:
/// nothing, even for JSON; with an empty one, `[]`.
#[test]
fn netns_list_without_run_netns_prints_what_ip_does() {
    if !ready("netns_list_without_run_netns_prints_what_ip_does")
        || !harness::have("netns_list_without_run_netns", "unshare")
    {
        return;
    }
    harness::in_netns(|| {
        let ours = harness::bin("rvethpair").display().to_string();
        for (before, json) in [("", "-j"), ("", ""), ("mkdir /run/netns &&", "-j")] {
            // An empty /run in a mount namespace of its own.
            let list = |tool: &str| {
                let words = if tool == "ip" {
                    format!("ip {json} netns list")
                } else {
                    format!("{tool} netns list {}", json.to_uppercase())
                };
                ok(harness::run(harness::anchor("unshare").args([
                    "-m",
                    "sh",
                    "-c",
                    &format!("mount -t tmpfs tmpfs /run && {before} {words}"),
                ])))
                .stdout
            };
            let theirs = list("ip");
            assert_eq!(list(&ours), theirs, "{before} {json}");
            assert_eq!(theirs, if before.is_empty() { "" } else { "[]\n" });
        }
    });
}

/// An all-digit NS that is also a name under /run/netns is the name, as
/// for `ip link add … netns NAME|PID`; else it is a PID.
#[test]
fn a_digit_name_is_a_name_before_a_pid() {
    lab("a_digit_name_is_a_name_before_a_pid", || {
        let mut sleeper = harness::Spawned::new(Command::new("sleep").arg("60"));
        let pid = sleeper.id().to_string();
        ok(ip(&["netns", "add", &pid]));
        ok(ip(&[
            "link", "add", "i0", "type", "veth", "peer", "name", "i1", "netns", &pid,
        ]));
        ok(rv(&["add", "o0", "o1", "--peer-netns", &pid]));
        assert_eq!(link_names(Some(&pid)), ["lo", "i1", "o1"]);
        ok(ip(&["netns", "del", &pid]));
        // The name gone, the same digits are the sleeper's namespace: ours.
        let ran = rv(&["add", "p0", "p1", "--peer-netns", &pid]);
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
        ok(ran);
        // (i0 and o0 go when the kernel has cleaned up the old namespace.)
        let here = link_names(None);
        assert!(
            here.ends_with(&["p1".to_string(), "p0".to_string()]),
            "{here:?}"
        );
    });
}

/// A name that is not UTF-8 (made by `ip netns add`) is listed as ip lists
/// it, not a reason to fail; JSON shows it lossily.
#[test]
fn netns_list_takes_any_name_bytes() {
    lab("netns_list_takes_any_name_bytes", || {
        use std::os::unix::ffi::OsStrExt;
        let odd = std::ffi::OsStr::from_bytes(b"x\xffy");
        ok(harness::run(
            harness::anchor("ip").arg("netns").arg("add").arg(odd),
        ));
        ok(ip(&["netns", "add", "RED"]));
        let raw = |c: &mut Command| c.output().unwrap().stdout;
        let theirs = raw(harness::anchor("ip").args(["netns", "list"]));
        assert_eq!(
            raw(harness::cmd("rvethpair").args(["netns", "list"])),
            theirs
        );
        assert!(theirs.windows(3).any(|w| w == b"x\xffy"));
        assert_eq!(
            json(rv(&["netns", "list", "-J"])),
            serde_json::json!([{"name": "RED"}, {"name": "x\u{fffd}y"}])
        );
        ok(harness::run(
            harness::anchor("ip").arg("netns").arg("del").arg(odd),
        ));
    });
}

/// `--addr CIDR` adds what `ip addr add CIDR dev NAME` adds: the same
/// attributes (no broadcast address unless asked for), IPv4 and IPv6.
#[test]
fn addresses_are_what_ip_addr_add_makes() {
    lab("addresses_are_what_ip_addr_add_makes", || {
        ok(ip(&[
            "link", "add", "i0", "type", "veth", "peer", "name", "i1",
        ]));
        let mut args = vec!["add", "o0", "o1", "--down"];
        for (theirs, ours) in [
            ("10.200.1.1/24", "10.200.11.1/24"),
            ("10.200.2.1/31", "10.200.12.1/31"),
            ("10.200.3.1", "10.200.13.1"),
            ("fd00:200::1/64", "fd00:200::11/64"),
        ] {
            ok(ip(&["addr", "add", theirs, "dev", "i0"]));
            args.extend(["--addr", ours]);
        }
        ok(rv(&args));
        let info = |dev: &str| -> Vec<Value> {
            json(ip(&["-j", "addr", "show", "dev", dev]))[0]["addr_info"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let mut a = a.clone();
                    let a = a.as_object_mut().unwrap();
                    a.remove("local");
                    a.remove("label");
                    Value::Object(a.clone())
                })
                .collect()
        };
        let theirs = info("i0");
        assert_eq!(theirs.len(), 4, "{theirs:?}");
        assert_eq!(info("o0"), theirs);
    });
}

/// The route `--peer-gateway` makes is the one `ip route add default via
/// GW` makes (proto boot, not rtnetlink's static), IPv4 and IPv6.
#[test]
fn peer_gateway_route_is_ips() {
    lab("peer_gateway_route_is_ips", || {
        ok(rv(&["netns", "add", "RED"]));
        for (family, addr, peer_addr, gw) in [
            ("-4", "10.200.5.1/24", "10.200.5.2/24", "10.200.5.1"),
            ("-6", "fd00:200::1/64", "fd00:200::2/64", "fd00:200::1"),
        ] {
            let name = format!("v{family}");
            let peer = format!("p{family}");
            pair_to_red(&name, &peer, addr, peer_addr, &["--peer-gateway"]);
            let show = ["-d", "-j", family, "-n", "RED", "route", "show", "default"];
            let ours = json(ip(&show));
            ok(ip(&["-n", "RED", family, "route", "del", "default"]));
            ok(ip(&[
                "-n", "RED", family, "route", "add", "default", "via", gw,
            ]));
            let theirs = json(ip(&show));
            assert_eq!(ours, theirs);
            assert_eq!(theirs[0]["protocol"], "boot", "{theirs}");
            ok(rv(&["del", &name]));
        }
    });
}

/// `-j` (or `-J`, `--json`) before the command, where ip takes it, gives
/// the JSON of the list commands, in a batch too.
#[test]
fn json_flag_before_the_command_as_ip() {
    lab("json_flag_before_the_command_as_ip", || {
        ok(ip(&["netns", "add", "RED"]));
        ok(rv(&["add", "v0", "v1", "--peer-netns", "RED"]));
        let theirs = ok(ip(&["-j", "netns", "list"])).stdout;
        for flag in ["-j", "-J", "--json"] {
            assert_eq!(ok(rv(&[flag, "netns", "list"])).stdout, theirs, "{flag}");
            assert_eq!(
                json(rv(&[flag, "list"])),
                json(rv(&["list", "-J"])),
                "{flag}"
            );
        }
        let dir = harness::tempdir("json_flag_before_the_command_as_ip");
        let file = dir.path().join("batch");
        std::fs::write(&file, "netns list\n").unwrap();
        assert_eq!(
            ok(rv(&["-j", "batch", file.to_str().unwrap()])).stdout,
            theirs
        );
    });
}

/// ip reads a leading zero as octal ("/024" is /20, "010." is 8.): rather
/// than differ silently, such an address is refused, nothing made.
#[test]
fn leading_zeros_ip_reads_as_octal_are_refused() {
    lab("leading_zeros_ip_reads_as_octal_are_refused", || {
        ok(ip(&[
            "link", "add", "i0", "type", "veth", "peer", "name", "i1",
        ]));
        ok(ip(&["addr", "add", "10.200.3.1/024", "dev", "i0"]));
        assert_eq!(addrs_of(None, "i0"), ["10.200.3.1/20"]);
        for (cidr, why) in [
            (
                "10.200.4.1/024",
                "invalid prefix length '024' in '10.200.4.1/024' (a leading zero is ambiguous)",
            ),
            (
                "010.200.4.1/24",
                "invalid address '010.200.4.1/24': invalid IP address syntax",
            ),
        ] {
            let ran = rv(&["add", "o0", "o1", "--addr", cidr]);
            refused_with(&ran, &format!("rvethpair: {why}\n"));
        }
        assert_eq!(link_names(None), ["lo", "i1", "i0"]);
    });
}

/// An abbreviation of several long options is named as getopt_long names
/// it (util-linux's wording), changing nothing.
#[test]
fn ambiguous_abbreviations_are_worded_as_getopt() {
    lab("ambiguous_abbreviations_are_worded_as_getopt", || {
        let ran = rv(&["add", "v0", "v1", "--peer", "RED"]);
        assert_eq!(ran.code, 1, "{ran:?}");
        assert_eq!(
            ran.stderr,
            "rvethpair: option '--peer' is ambiguous; possibilities: '--peer-netns' '--peer-addr' \
         '--peer-gateway'\nTry 'rvethpair --help' for more information.\n"
        );
        // Unambiguous ones are taken (--peer-n, --peer-a); nothing is made
        // here because the namespace does not exist.
        let ran = rv(&[
            "add",
            "v0",
            "v1",
            "--peer-n",
            "/nonexistent/ns",
            "--peer-a",
            "10.200.1.2/24",
        ]);
        assert_eq!(
        ran.stderr,
        "rvethpair: cannot add v0/v1: cannot open network namespace \"/nonexistent/ns\": No such file or directory\n"
    );
    });
}

/// Link names of exactly 15 bytes (IFNAMSIZ - 1) are taken, 16 refused,
/// as by ip; the 15-byte names come out whole in list and list -J.
#[test]
fn link_names_of_15_bytes_as_ip() {
    lab("link_names_of_15_bytes_as_ip", || {
        let (a15, b15, c16) = ("a23456789012345", "b23456789012345", "c234567890123456");
        let theirs = ip(&["link", "add", c16, "type", "veth", "peer", "name", "x"]);
        assert_ne!(theirs.code, 0);
        refused(&rv(&["add", c16, "x"]));
        refused(&rv(&["add", "x", c16]));
        ok(ip(&[
            "link",
            "add",
            "i23456789012345",
            "type",
            "veth",
            "peer",
            "name",
            "j23456789012345",
        ]));
        ok(rv(&["add", a15, b15, "--addr", "10.200.1.1/24"]));
        let rows = json(rv(&["list", "-J"]));
        let a = link_named(&rows, a15);
        assert_eq!(a["peer"], b15);
        assert!(ok(rv(&["list"])).stdout.contains(&format!("{a15} {b15} ")));
        ok(rv(&["del", b15]));
        assert_eq!(
            link_names(None),
            ["lo", "j23456789012345", "i23456789012345"]
        );
    });
}
