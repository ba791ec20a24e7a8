//! The forms ip takes, taken as ip takes them: command words, batch quoting,
//! MTU bounds, masters, missing names, /run/netns, refused netns names.

use serde_json::Value;

use super::{
    ip, json, lab, link_names, netns_files, ok, pair_args, pair_to_red, ready, refused_with, rv,
};
use crate::harness::{self, test_name};

/// Usage as ip takes it: `netns` alone lists, command words may be
/// abbreviated or spelt `delete`/`show`, and a missing word or operand is
/// one line naming what is missing.
#[test]
fn command_words_as_ip_takes_them() {
    lab(test_name!(), || {
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
    lab(test_name!(), || {
        let dir = harness::tempdir(test_name!());
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    if !ready(test_name!()) || !harness::have("run_netns", "unshare") {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
