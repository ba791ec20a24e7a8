//! rlsns against util-linux lsns, always about processes and namespaces the
//! test itself starts and holds still (`-p PID`, a namespace inode), never
//! the whole machine, which other tests change meanwhile.

use std::os::unix::fs::MetadataExt;
use std::process::Command;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::harness::{
    anchor, cmd, have, in_netns, needs, needs_root, root, run, test_name, unique, Process, Ran,
};

/// Starts `argv` and waits until its sleeper runs `sleep`; with `forks`
/// (`unshare -fp sleep`) the sleeper is the command's child.
fn sleeper(argv: &[&str], forks: bool) -> Process {
    Process::sleeping(Command::new(argv[0]).args(&argv[1..]), forks)
}

/// The inode of one of the namespaces of `process`.
fn ns(process: &Process, kind: &str) -> u64 {
    std::fs::metadata(format!("/proc/{}/ns/{kind}", process.pid))
        .unwrap()
        .ino()
}

/// A sleeper in new namespaces of every kind, so that every row about it
/// holds still while other tests run.
fn private_sleeper() -> Process {
    sleeper(
        &[
            "unshare",
            "-U",
            "-m",
            "-n",
            "-u",
            "-i",
            "-C",
            "-T",
            "-f",
            "-p",
            "--mount-proc",
            "sleep",
            "1000",
        ],
        true,
    )
}

fn ours(args: &[&str]) -> Ran {
    run(cmd("rlsns").args(args))
}

/// lsns, asked again when it fails silently: 2.38 gives up with exit 1 and
/// no message when any process on the machine exits during its scan
/// (util-linux #2799, fixed in 2.40.3), which other tests cause all the time.
fn theirs(args: &[&str]) -> Ran {
    let mut ran = run(anchor("lsns").args(args));
    for _ in 0..10 {
        if !(ran.code == 1 && ran.stdout.is_empty() && ran.stderr.is_empty()) {
            break;
        }
        ran = run(anchor("lsns").args(args));
    }
    ran
}

/// Same stdout, exit code and message (after the program name) as lsns.
fn same_as_lsns(args: &[&str]) -> Ran {
    let (o, t) = (ours(args), theirs(args));
    assert_eq!(o.stdout, t.stdout, "stdout of {args:?}");
    assert_eq!(o.code, t.code, "exit code of {args:?}");
    assert_eq!(
        o.stderr,
        t.stderr.replacen("lsns:", "rlsns:", 1),
        "stderr of {args:?}"
    );
    o
}

fn ready(test: &str) -> bool {
    root(test) && have(test, "lsns") && have(test, "unshare")
}

#[test]
fn default_output_matches_lsns() {
    if !ready(test_name!()) {
        return;
    }
    let s = private_sleeper();
    let pid = s.pid.to_string();
    let out = same_as_lsns(&["-p", &pid]);
    assert_eq!(out.stdout.lines().count(), 9, "{}", out.stdout);
    assert!(out.stdout.contains(&format!("{} pid ", ns(&s, "pid"))));
}

#[test]
fn json_matches_lsns() {
    if !ready(test_name!()) {
        return;
    }
    let s = private_sleeper();
    let pid = s.pid.to_string();
    for args in [
        vec!["-J", "-p", &pid],
        vec!["-J", "--output-all", "-p", &pid],
    ] {
        let (o, t) = (ours(&args), theirs(&args));
        assert_eq!((o.code, t.code), (0, 0), "{}", o.stderr);
        let ov: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        let tv: serde_json::Value = serde_json::from_str(&t.stdout).unwrap();
        assert_eq!(ov, tv, "{args:?}");
        assert_eq!(o.stdout, t.stdout, "{args:?} byte for byte");
    }
    let o = ours(&["-J", "-l", "-p", &pid]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let rows = v["namespaces"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    assert!(rows
        .iter()
        .all(|r| r["ns"].is_u64() && r["type"].is_string()));
}

#[test]
fn raw_matches_lsns() {
    if !ready(test_name!()) {
        return;
    }
    let s = private_sleeper();
    let pid = s.pid.to_string();
    let out = same_as_lsns(&["-r", "-p", &pid]);
    assert!(out.stdout.contains("sleep\\x201000"), "{}", out.stdout);
    same_as_lsns(&["-r", "--output-all", "-p", &pid]);
}

#[test]
fn chosen_columns_without_headings_match_lsns() {
    if !ready(test_name!()) {
        return;
    }
    let s = private_sleeper();
    let pid = s.pid.to_string();
    let out = same_as_lsns(&["-n", "-o", "NS,TYPE,NPROCS,PID", "-p", &pid]);
    assert!(!out.stdout.contains("NS"));
    same_as_lsns(&["-o", "+PPID,PATH,UID,PNS,ONS", "-p", &pid]);
    same_as_lsns(&["-u", "-W", "-l", "-p", &pid]);
}

#[test]
fn net_type_matches_lsns() {
    if !ready(test_name!()) {
        return;
    }
    let s = private_sleeper();
    let pid = s.pid.to_string();
    let out = same_as_lsns(&["-t", "net", "-p", &pid]);
    assert!(
        out.stdout.starts_with("        NS TYPE NPROCS"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("NETNSID NSFS COMMAND"));
    same_as_lsns(&["-t", "net", "-t", "uts", "-J", "-p", &pid]);
}

#[test]
fn pid_type_matches_lsns() {
    if !ready(test_name!()) {
        return;
    }
    let s = private_sleeper();
    let pid = s.pid.to_string();
    let out = same_as_lsns(&["-t", "pid", "-p", &pid]);
    assert!(out.stdout.contains(&ns(&s, "pid").to_string()));
    // The owner tree reaches the host's user namespace, whose process count
    // moves meanwhile: leave NPROCS out.
    let tree = same_as_lsns(&[
        "-t",
        "pid",
        "-t",
        "user",
        "-T",
        "-o",
        "NS,TYPE,PID",
        "-p",
        &pid,
    ]);
    assert!(tree.stdout.contains("  `-"), "{}", tree.stdout);
}

#[test]
fn namespace_argument_lists_its_processes_like_lsns() {
    if !ready(test_name!()) {
        return;
    }
    let s = private_sleeper();
    let mnt = ns(&s, "mnt").to_string();
    let out = same_as_lsns(&[&mnt]);
    // unshare and its sleeping child, drawn as a tree
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    assert!(out.stdout.contains("`-sleep 1000"), "{}", out.stdout);
    same_as_lsns(&["-l", "-J", &mnt]);
}

#[test]
fn after_unshare_m_the_new_mount_namespace_is_listed() {
    if !ready(test_name!()) {
        return;
    }
    let s = sleeper(&["unshare", "-m", "sleep", "1000"], false);
    let pid = s.pid.to_string();
    // The other rows are the host's, whose process counts move meanwhile.
    same_as_lsns(&["-p", &pid, "-o", "NS,TYPE,PID,USER,COMMAND"]);
    let out = ours(&["-p", &pid]);
    let row = out
        .stdout
        .lines()
        .find(|l| l.contains(" mnt "))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        row,
        format!("{} mnt 1 {pid} root sleep 1000", ns(&s, "mnt"))
    );
}

/// Lab 13: the PID namespace seen from inside and from the host.
#[test]
fn pid_namespace_is_the_same_inside_and_outside() {
    if !ready(test_name!()) || !needs!("nsenter") {
        return;
    }
    let mut s = sleeper(&["unshare", "-fp", "--mount-proc", "sleep", "1000"], true);
    let host_pid = s.pid.to_string();
    let rlsns = crate::harness::bin("rlsns");
    let inside = run(anchor("nsenter")
        .args(["-t", &host_pid, "-p", "-m", "--"])
        .arg(&rlsns)
        .args(["-t", "pid", "-p", "1", "-n", "-o", "NS"]));
    let outside = ours(&["-t", "pid", "-p", &host_pid, "-n", "-o", "NS"]);
    assert_eq!(inside.code, 0, "{}", inside.stderr);
    assert_eq!(inside.stdout, outside.stdout);
    assert_eq!(outside.stdout.trim(), ns(&s, "pid").to_string());
    let lsns_inside = run(anchor("nsenter")
        .args(["-t", &host_pid, "-p", "-m", "lsns"])
        .args(["-t", "pid", "-p", "1", "-n", "-o", "NS"]));
    assert_eq!(inside.stdout, lsns_inside.stdout);
    // Killing the host PID ends the container: unshare sees its child die.
    kill(Pid::from_raw(s.pid), Signal::SIGKILL).unwrap();
    let status = s.outer.wait().unwrap();
    assert!(!status.success());
    assert!(ours(&["-t", "pid", "-p", &host_pid]).stdout.is_empty());
}

#[test]
fn persistent_netns_shows_its_nsfs_path() {
    if !ready(test_name!()) || !needs!("ip") {
        return;
    }
    let name = unique("lsns");
    in_netns(move || {
        let add = run(Command::new("ip").args(["netns", "add", &name]));
        assert_eq!(add.code, 0, "{}", add.stderr);
        let path = format!("/run/netns/{name}");
        let ino = std::fs::metadata(&path).unwrap().ino();
        // Without processes: listed by default and by -P (lsns 2.38 lists
        // it only with processes; 2.41+ as here), NETNSID included, which
        // the filter compares with a quoted number as text.
        let set = run(Command::new("ip").args(["netns", "set", &name, "7"]));
        assert_eq!(set.code, 0, "{}", set.stderr);
        let cols = ["-n", "-r", "-o", "NS,NPROCS,NETNSID,NSFS"];
        for args in [&["-P", "-t", "net"][..], &["-t", "net"], &[]] {
            let held = ours(&[args, &cols].concat());
            assert!(
                held.stdout
                    .lines()
                    .any(|l| l == format!("{ino} 0 7 {path}")),
                "{args:?}: {}",
                held.stdout
            );
        }
        let q = ours(&[&cols[..], &["-Q", "NETNSID == '7'"]].concat());
        assert_eq!(q.stdout, format!("{ino} 0 7 {path}\n"));
        let q = ours(&[&cols[..], &["-Q", &format!("NS == '{ino}'")]].concat());
        assert_eq!(q.stdout, format!("{ino} 0 7 {path}\n"));
        // With a process in it: the same line as lsns, NETNSID included.
        {
            let s = sleeper(&["ip", "netns", "exec", &name, "sleep", "1000"], false);
            let pid = s.pid.to_string();
            let out = same_as_lsns(&["-t", "net", "-p", &pid]);
            assert!(
                out.stdout.contains(&format!(" 7 {path} ")),
                "{}",
                out.stdout
            );
            same_as_lsns(&["-t", "net", "-p", &pid, "-J"]);
        }
        let del = run(Command::new("ip").args(["netns", "del", &name]));
        assert_eq!(del.code, 0, "{}", del.stderr);
    });
}

/// Whether `rlsns ARGS -n -r -o NS,NPROCS,TYPE` lists `line`.
fn lists(args: &[&str], line: &str) -> bool {
    let out = ours(&[args, &["-n", "-r", "-o", "NS,NPROCS,TYPE"]].concat());
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout.lines().any(|l| l == line)
}

/// A namespace held only by a descriptor opened through /proc/PID/ns is in
/// the default listing (lsns 2.41+), in its type's, and not in another's.
#[test]
fn namespace_held_by_a_descriptor_is_listed() {
    if !ready(test_name!()) {
        return;
    }
    let owner = sleeper(&["unshare", "-n", "sleep", "1000"], false);
    let ino = ns(&owner, "net");
    let net = format!("/proc/{}/ns/net", owner.pid);
    let script = format!("exec 3<{net}; exec sleep 1000");
    let holder = sleeper(&["sh", "-c", &script], false);
    drop(owner);
    let line = format!("{ino} 0 net");
    assert!(lists(&["-P", "-t", "net"], &line));
    assert!(lists(&["-t", "net"], &line));
    assert!(lists(&[], &line));
    assert!(!lists(&["-t", "uts"], &line));
    // -p lists the namespaces the process is in, not those it holds.
    assert!(!lists(&["-p", &holder.pid.to_string()], &line));
    drop(holder);
}

/// A descriptor opened through a bind mount that was then removed reads as
/// `/`, not as `net:[INODE]`: still listed (util-linux's lsns/filedesc).
#[test]
fn namespace_held_by_a_descriptor_of_a_removed_mount_is_listed() {
    if !ready(test_name!()) || !needs!("ip") {
        return;
    }
    let name = unique("lsns");
    in_netns(move || {
        let add = run(Command::new("ip").args(["netns", "add", &name]));
        assert_eq!(add.code, 0, "{}", add.stderr);
        let path = format!("/run/netns/{name}");
        let ino = std::fs::metadata(&path).unwrap().ino();
        let script = format!("exec 3<{path}; exec sleep 1000");
        let holder = sleeper(&["sh", "-c", &script], false);
        let del = run(Command::new("ip").args(["netns", "del", &name]));
        assert_eq!(del.code, 0, "{}", del.stderr);
        let link = std::fs::read_link(format!("/proc/{}/fd/3", holder.pid)).unwrap();
        assert_eq!(link, std::path::Path::new("/"));
        let out = ours(&[
            "-n",
            "-r",
            "-o",
            "TYPE,NPROCS,USER",
            "-Q",
            &format!("NS == {ino}"),
        ]);
        assert_eq!(out.stdout, "net 0 root\n", "{}", out.stderr);
        assert!(!lists(&["-t", "mnt"], &format!("{ino} 0 net")));
        drop(holder);
    });
}

#[test]
fn bad_inputs_fail_like_lsns() {
    if !ready(test_name!()) {
        return;
    }
    for args in [
        vec!["-o", "NS,BOGUS"],
        vec!["-t", "bogus"],
        vec!["-T", "parent"],
        vec!["-Tbogus"],
        vec!["-p", "abc"],
        vec!["-J", "-r"],
        vec!["-p", "1", "4026531836"],
        vec!["18446744073709551615"],
        // strtos32_or_err / strtou64_or_err (common::num): blanks before,
        // nothing after, a negative namespace is out of range.
        vec!["-p", " 5x"],
        vec!["-p", "99999999999"],
        vec!["-p", "5 "],
        vec!["--", "-5"],
        vec!["5 "],
        vec!["18446744073709551616"],
    ] {
        let out = same_as_lsns(&args);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        ours(&["-T", "parent"]).stderr,
        "rlsns: invalid namespace argument: 'parent'\n"
    );
}

#[test]
fn a_pid_that_does_not_exist_is_an_error() {
    if !ready(test_name!()) {
        return;
    }
    // A PID beyond pid_max never exists, nor does a negative one (lsns 2.38
    // prints nothing and exits 0 for both: issue 5 wants one line and 1).
    for (args, pid) in [
        (&["-p", "2147483647"][..], "2147483647"),
        (&["-J", "-p", "2147483647"][..], "2147483647"),
        (&["-p", "-5"][..], "-5"),
    ] {
        let out = ours(args);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr),
            (
                1,
                "",
                format!("rlsns: cannot find process {pid}: No such process\n")
            ),
            "{args:?}"
        );
    }
}

#[test]
fn list_columns_names_every_column() {
    let out = ours(&["-H"]);
    assert_eq!(out.code, 0);
    let names: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "NS", "TYPE", "PATH", "NPROCS", "PID", "PPID", "COMMAND", "UID", "USER", "NETNSID",
            "NSFS", "PNS", "ONS"
        ]
    );
    assert!(out.stdout.contains("<integer>"));
}

#[test]
fn processes_exiting_during_the_scan_are_skipped() {
    if !ready(test_name!()) {
        return;
    }
    let churn = Process::spawn(Command::new("sh").args(["-c", "while :; do /bin/true; done"]));
    for _ in 0..20 {
        let out = ours(&["-r"]);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
        assert!(out.stdout.starts_with("NS TYPE NPROCS PID USER COMMAND\n"));
    }
    drop(churn);
}

#[test]
fn command_is_cut_to_the_terminal_only_on_a_terminal() {
    if !ready(test_name!()) || !needs!("script") {
        return;
    }
    let s = private_sleeper();
    let pid = s.pid.to_string();
    let rlsns = crate::harness::bin("rlsns");
    // script(1) gives the tool a terminal 50 columns wide.
    let on_tty = |tool: &str| {
        let line = format!("stty cols 50; {tool} -p {pid}");
        run(anchor("script").args(["-qc", &line, "/dev/null"]))
    };
    let (o, t) = (on_tty(rlsns.to_str().unwrap()), on_tty("lsns"));
    assert_eq!(o.stdout, t.stdout);
    assert!(
        o.stdout.lines().all(|l| l.trim_end().chars().count() <= 50),
        "{}",
        o.stdout
    );
    // Piped, nothing is cut.
    let piped = ours(&["-p", &pid]);
    assert!(
        piped.stdout.contains("--mount-proc sleep 1000"),
        "{}",
        piped.stdout
    );
}

#[test]
fn usage_errors_are_worded_as_lsns_words_them() {
    if !needs!("lsns") {
        return;
    }
    // Ambiguous abbreviations list lsns's table order; `=VALUE` is shown.
    for args in [
        &["--n"][..],
        &["--no=x"],
        &["--t"],
        &["--nope"],
        &["-Jx"],
        &["-o"],
        &["--task"],
        &["--json=1"],
        &["--nope", "-h"],
    ] {
        crate::harness::same_usage_error("rlsns", "lsns", args);
    }
}

/// A newline, a tab and an escape in a command line are escaped as lsns
/// escapes them (a row stays one line), in table, raw and JSON output and
/// in a UTF-8 locale too.
#[test]
fn control_characters_in_a_command_are_escaped_as_lsns_does() {
    if !ready("control_characters_in_a_command_are_escaped") || !needs!("bash") {
        return;
    }
    let script = r#"exec -a "$(printf 'a\nb\tc\033[31m\\x')" sleep 1000"#;
    let s = sleeper(&["unshare", "-u", "bash", "-c", script], false);
    let pid = s.pid.to_string();
    let args = ["-p", &pid, "-t", "uts", "-o", "NS,TYPE,COMMAND"];
    let out = same_as_lsns(&args);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert!(
        out.stdout.contains(r"a\x0ab\x09c\x1b[31m\x5cx 1000"),
        "{}",
        out.stdout
    );
    for flag in ["-r", "-J"] {
        let mut with = args.to_vec();
        with.push(flag);
        same_as_lsns(&with);
    }
    let utf8 = |tool: Command| {
        let mut tool = tool;
        run(tool.env("LC_ALL", "C.UTF-8").args(args)).stdout
    };
    assert_eq!(utf8(cmd("rlsns")), utf8(anchor("lsns")));
}

/// `-T` and `-Tparent` hang the listed namespaces under their owning and
/// parent namespaces whatever their type, as lsns does (`-t net -T`
/// shows the user namespaces that own the network namespaces).
#[test]
fn trees_show_owners_and_parents_of_any_type_as_lsns_does() {
    if !ready("trees_show_owners_and_parents_of_any_type") {
        return;
    }
    // A user namespace in a user namespace, owning the sleeper's others.
    let s = sleeper(
        &[
            "unshare", "-U", "-r", "unshare", "-U", "-r", "-n", "-u", "-f", "-p", "sleep", "1000",
        ],
        true,
    );
    let pid = s.pid.to_string();
    for args in [
        &["-T", "-t", "net"][..],
        &["-T", "-t", "uts", "-t", "net"],
        &["-Tparent", "-t", "pid"],
        &["-Tparent", "-t", "net"],
        &["--tree=owner", "-t", "pid"],
    ] {
        let mut args = args.to_vec();
        args.extend(["-p", &pid, "-o", "NS,TYPE,PNS,ONS"]);
        let out = same_as_lsns(&args);
        assert!(out.stdout.contains("`-"), "{args:?}: {}", out.stdout);
        if args[0] != "-Tparent" {
            // The sleeper's own namespace hangs two user namespaces deep.
            assert!(out.stdout.contains(" user "), "{args:?}: {}", out.stdout);
            assert!(out.stdout.contains("    `-"), "{args:?}: {}", out.stdout);
        }
    }
}

/// `-Q` keeps the lines whose cells meet the expression (documented:
/// scols-filter(5)); the lines kept are lsns's lines for the same
/// namespaces, and a column the filter reads need not be printed.
#[test]
fn filter_keeps_the_lines_that_meet_the_expression() {
    if !ready(test_name!()) {
        return;
    }
    let s = private_sleeper();
    let pid = s.pid.to_string();
    let cols = ["-o", "NS,TYPE,PID,COMMAND", "-p", &pid];
    let lsns = theirs(&[&["-t", "net", "-t", "uts"][..], &cols].concat());
    for expr in [
        r#"TYPE == "net" || TYPE eq 'uts'"#,
        r#"(TYPE =~ "^(net|uts)$") and NPROCS >= 1"#,
        r#"TYPE =~ "^[[:lower:]]{3}$" && TYPE !~ 'm|i|p'"#,
        r#"not (TYPE != "net" && TYPE NE "uts")"#,
    ] {
        let ours = ours(&[&["-Q", expr][..], &cols].concat());
        assert_eq!(
            (ours.code, ours.stdout.as_str()),
            (0, lsns.stdout.as_str()),
            "{expr}"
        );
    }
    // A column not printed; numbers with a size suffix.
    let net = ns(&s, "net").to_string();
    let one = ours(&[
        "-p",
        &pid,
        "-n",
        "-o",
        "TYPE",
        "-Q",
        &format!("NS == {net}"),
    ]);
    assert_eq!(one.stdout, "net\n");
    let none = ours(&["-p", &pid, "-Q", "NPROCS > 1K"]);
    assert_eq!((none.code, none.stdout.as_str()), (0, ""));
    for (expr, message) in [
        ("NOPE == 1", "rlsns: unknown column: NOPE\n"),
        (
            "NPROCS =",
            "rlsns: failed to parse filter: unexpected '='\n",
        ),
        (
            "TYPE =~ \"(\"",
            "rlsns: failed to parse filter: invalid regular expression '(': Unmatched ( or \\(\n",
        ),
    ] {
        let bad = ours(&["-Q", expr]);
        assert_eq!((bad.code, bad.stderr.as_str()), (1, message), "{expr}");
    }
}

/// A network namespace kept alive only by a socket (util-linux 2.41 finds
/// it with SIOCGSKNS) is listed by default, by `-t net` and by -P, not by
/// `-t uts`; a socket in the process's own namespace adds no line.
#[test]
fn network_namespace_of_a_socket_is_listed() {
    if !needs_root!() {
        return;
    }
    use std::os::fd::AsRawFd;
    // A thread enters a new network namespace, opens a socket there and
    // comes back: the socket alone holds the namespace.
    let (socket, ino) = std::thread::spawn(|| {
        let home = std::fs::File::open("/proc/thread-self/ns/net").unwrap();
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let ino = std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino();
        nix::sched::setns(&home, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        (socket, ino)
    })
    .join()
    .unwrap();
    let home = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert!(socket.as_raw_fd() > 2 && home.as_raw_fd() > 2);
    let line = format!("{ino} 0 net");
    assert!(lists(&["-P", "-t", "net"], &line));
    assert!(lists(&["-P"], &line));
    assert!(lists(&["-t", "net"], &line));
    assert!(lists(&[], &line));
    assert!(!lists(&["-t", "uts"], &line));
    drop(socket);
    assert!(!lists(&["-t", "net"], &line));
    drop(home);
}
