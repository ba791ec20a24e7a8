//! runshare's command line read as unshare reads it: getopt usage errors,
//! repeats and abbreviations, values, empty paths, --help and --version.

use super::{as_unshare, assert_like_unshare, both};
use crate::harness::{anchor, cmd, have, needs_root, root, run, run_into, tempdir};

#[test]
fn repeated_options_and_abbreviations_count_like_unshare() {
    if !needs_root!() {
        return;
    }
    // getopt lets the last one win where clap would refuse a repeat; the
    // last of -r, -c, --map-user, --map-group sets each ID.
    for line in [
        "-f -f -R / -R / --wd=/tmp pwd",
        "--ro / --w /tmp --fo --mount-p -m pwd",
        "--map-user=5 -r cat /proc/self/uid_map /proc/self/gid_map",
        "-r --map-user=5 cat /proc/self/uid_map /proc/self/gid_map",
        "-c -r --map-group=7 cat /proc/self/uid_map /proc/self/gid_map",
        "-r -c cat /proc/self/uid_map",
        "--mount-proc=/proc --mount-proc -fp ps -o pid= -p 1",
        "-S 0 -- id -u",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        let (ours, theirs) = both(&args);
        assert_eq!(
            (ours.code, ours.stdout.as_str()),
            (theirs.code, theirs.stdout.as_str()),
            "{line}: {}",
            ours.stderr
        );
        assert!(!ours.stdout.is_empty(), "{line}");
    }
}

#[test]
fn values_are_read_like_unshare() {
    if !needs_root!() {
        return;
    }
    // strtoul_or_err (blanks, signs, wrap to uid_t, ERANGE), -1 as "no
    // map", signame_to_signum (aliases, real-time signals, no numbers),
    // strtos64_or_err, and "setuid failed" as unshare words it.
    for args in [
        &["-S", " 1", "id", "-u"][..],
        &["-S", "-4294967295", "id", "-u"],
        &["-S", "-1", "true"],
        &["-G", "-1", "true"],
        &["-S", "99999999999999999999999", "true"],
        &["-S", "1x", "true"],
        &["--map-group=-1", "cat", "/proc/self/gid_map"],
        &["--kill-child=CLD", "echo", "ok"],
        &["--kill-child=rtmin+1", "echo", "ok"],
        &["--kill-child=SIGRTMAX-2", "echo", "ok"],
        &["--kill-child=15", "echo", "ok"],
        &["--kill-child=rtmin", "echo", "ok"],
        &["-T", "--monotonic", " -5", "true"],
        &["-T", "--boottime=99999999999999999999", "true"],
    ] {
        let (ours, theirs) = both(args);
        assert_like_unshare(&ours, &theirs, &format!("{args:?}"));
    }
}

#[test]
fn relative_mount_proc_is_below_the_current_directory_like_unshare() {
    let test = "relative_mount_proc_is_below_the_current_directory_like_unshare";
    if !root(test) {
        return;
    }
    let dir = tempdir(test);
    std::fs::create_dir(dir.path().join("p")).unwrap();
    let line = ["--mount-proc=p", "-f", "cat", "p/self/comm"];
    let ours = run(cmd("runshare").args(line).current_dir(dir.path()));
    let theirs = run(anchor("unshare").args(line).current_dir(dir.path()));
    assert_eq!(
        (ours.code, ours.stdout.as_str()),
        (0, "cat\n"),
        "{}",
        ours.stderr
    );
    assert_eq!(ours, theirs);
    // The mount was in the namespace only.
    assert!(std::fs::read_dir(dir.path().join("p"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn empty_paths_fail_where_unshare_fails() {
    if !needs_root!() {
        return;
    }
    // An empty DIR is the system call's to refuse, not a usage error.
    for args in [
        &["--root=", "true"][..],
        &["-R", "", "true"],
        &["-w", "", "true"],
        &["--mount-proc=", "-f", "true"],
    ] {
        let (ours, theirs) = both(args);
        assert_eq!(ours.code, 1, "{args:?}");
        assert_like_unshare(&ours, &theirs, &format!("{args:?}"));
    }
}

#[test]
fn help_and_version_that_cannot_be_written_fail_like_unshare() {
    if !have(
        "help_and_version_that_cannot_be_written_fail_like_unshare",
        "unshare",
    ) {
        return;
    }
    for arg in ["--help", "-V", "-fh"] {
        let full = || {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap()
        };
        let ours = run_into(cmd("runshare").arg(arg), full());
        let theirs = run_into(anchor("unshare").arg(arg), full());
        assert_eq!(ours.code, 1, "{arg}");
        assert_eq!(
            (ours.code, as_unshare(&ours.stderr)),
            (theirs.code, theirs.stderr),
            "{arg}"
        );
    }
    // Written, they go to stdout with exit 0.
    let ours = run(cmd("runshare").arg("--he"));
    assert_eq!((ours.code, ours.stderr.as_str()), (0, ""));
    assert!(ours.stdout.contains("--mount"));
}

#[test]
fn bad_values_are_named_in_command_line_order_like_unshare() {
    if !have(
        "bad_values_are_named_in_command_line_order_like_unshare",
        "unshare",
    ) {
        return;
    }
    // unshare checks a value as getopt hands it over: the first bad one is
    // named, before a later usage error or --help.
    for line in [
        "-S a --propagation=b true",
        "--propagation=b -S a true",
        "--kill-child=nope -h",
        "--setgroups=x --nope",
        "--monotonic=x --boottime=y",
        "-G x --map-user=nosuch",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        let (ours, theirs) = both(&args);
        assert_eq!(ours.code, 1, "{line}");
        assert_like_unshare(&ours, &theirs, line);
    }
}
