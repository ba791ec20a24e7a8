//! rvethpair against iproute2: labs 7 and 14, the refusals, rollback,
//! interop with `ip netns`, and the netns lifetime row of SECURITY.md. Every
//! test runs in a fresh network and mount namespace of its own (with a
//! private /run/netns), on 10.200.0.0/16 and fd00:200::/64 only.
//!
//! The helpers shared by the jobs are here; the tests are in the modules.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::harness::{self, Ran};

mod commands;
mod forms;
mod likeip;
mod links;

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
