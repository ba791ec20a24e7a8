//! What rvethpair prints and makes, field by field as ip's: `list -J`,
//! `netns list`, name bytes, addresses, routes, -j, octal, abbreviations.

use std::process::Command;

use serde_json::Value;

use super::{
    addrs_of, eventually, ip, ip_json, json, lab, link_named, link_names, list_json, ok,
    pair_to_red, ready, refused, refused_with, rv, veths_seen_by_ip,
};
use crate::harness::{self, test_name};

/// Every field of `list -J` that `ip -j addr` also has holds what ip's
/// does (peer and peer_netns are ours alone), for ends here and in RED,
/// enslaved or not, with IPv4 and IPv6 addresses.
#[test]
fn list_json_fields_hold_what_ips_do() {
    lab(test_name!(), || {
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
    if !ready(test_name!()) || !harness::have("netns_list_without_run_netns", "unshare") {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
        let dir = harness::tempdir(test_name!());
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
