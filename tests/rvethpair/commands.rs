//! rvethpair's commands and their failures: bad input, batches, `netns add`,
//! `netns del` and `list` with ip's exit codes, interrupted and killed adds.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use super::{
    addrs_of, batch_from_stdin, eventually, ip, json, lab, link_names, netns_files, ok, pair,
    pair_args, pair_to_red, refused, refused_with, rv, sleeper_in_red,
};
use crate::harness::{self, test_name};

#[test]
fn bad_inputs_change_nothing() {
    lab(test_name!(), || {
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
        let dir = harness::tempdir(test_name!());
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
    lab(test_name!(), || {
        let dir = harness::tempdir(test_name!());
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
    lab(test_name!(), || {
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
