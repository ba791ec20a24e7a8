//! What rnsenter takes for a target as nsenter does, and what it refuses:
//! missing or ended processes, names and files of `ip netns`, files of the
//! wrong kind, foreign user namespaces, usage errors.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{
    pid_mnt_uts, readlink, ready, same_as_nsenter, same_as_nsenter_here, target, target_by,
};
use crate::harness::{self, anchor, cmd, in_mountns, in_netns, needs, run, tempdir, test_name};

#[test]
fn target_that_does_not_exist() {
    if !ready(test_name!()) {
        return;
    }
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id().to_string();
    child.wait().unwrap();
    let ours = same_as_nsenter_here(&["-t", &pid, "-a", "true"]);
    assert_eq!(ours.code, 1);
    assert_eq!(
        ours.stderr,
        format!("rnsenter: cannot enter the namespaces of process {pid}: no such process\n")
    );
}

#[test]
fn target_that_has_exited() {
    if !ready(test_name!()) {
        return;
    }
    // A zombie: its /proc directory is still there, its namespaces are gone.
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    assert!(
        harness::eventually(
            || fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
        ),
        "child did not exit"
    );
    let ours = same_as_nsenter_here(&["-t", &pid.to_string(), "-n", "true"]);
    child.wait().unwrap();
    assert_eq!(ours.code, 1);
    assert_eq!(
        ours.stderr,
        format!(
            "rnsenter: cannot enter the net namespace of process {pid}: process {pid} has exited\n"
        )
    );
}

#[test]
fn net_by_name_from_ip_netns_add() {
    if !ready(test_name!()) {
        return;
    }
    in_netns(|| {
        let ip = run(Command::new("ip").args(["netns", "add", "bxtred"]));
        assert_eq!(ip.code, 0, "{ip:?}");
        let dir = tempdir("net_by_name");
        let ours = run(cmd("rnsenter")
            .args(["--net=bxtred", "readlink", "/proc/self/ns/net"])
            .current_dir(dir.path()));
        let theirs = run(anchor("nsenter").args([
            "--net=/run/netns/bxtred",
            "readlink",
            "/proc/self/ns/net",
        ]));
        assert_eq!(
            (ours.code, &ours.stdout),
            (0, &theirs.stdout),
            "{ours:?} {theirs:?}"
        );
        assert_ne!(ours.stdout, readlink("/proc/thread-self/ns/net"));
        // getopt's attached short form reads the same.
        let short = same_as_nsenter(
            &["-n/run/netns/bxtred", "readlink", "/proc/self/ns/net"],
            dir.path(),
        );
        assert_eq!(short.stdout, ours.stdout);
        let del = run(Command::new("ip").args(["netns", "del", "bxtred"]));
        assert_eq!(del.code, 0, "{del:?}");
    });
}

#[test]
fn a_file_here_comes_before_a_name() {
    if !ready(test_name!()) {
        return;
    }
    in_netns(|| {
        let ip = run(Command::new("ip").args(["netns", "add", "bxtblue"]));
        assert_eq!(ip.code, 0, "{ip:?}");
        let dir = tempdir("file_before_name");
        fs::write(dir.path().join("bxtblue"), "not a namespace").unwrap();
        let ours = same_as_nsenter(&["--net=bxtblue", "true"], dir.path());
        assert_eq!(ours.code, 1);
        assert_eq!(
            ours.stderr,
            "rnsenter: cannot enter the net namespace in bxtblue: not a namespace file\n"
        );
        run(Command::new("ip").args(["netns", "del", "bxtblue"]));
    });
}

#[test]
fn net_from_a_file_made_by_unshare() {
    if !ready(test_name!()) {
        return;
    }
    in_mountns(|| {
        let dir = tempdir("net_file");
        let file = dir.path().join("netns");
        fs::write(&file, "").unwrap();
        let made = run(anchor("unshare")
            .arg(format!("--net={}", file.display()))
            .arg("true"));
        assert_eq!(made.code, 0, "{made:?}");
        let _mounted = harness::Mounted(file.clone());
        let arg = format!("--net={}", file.display());
        let ours = same_as_nsenter_here(&[&arg, "readlink", "/proc/self/ns/net"]);
        assert_eq!(ours.code, 0, "{ours:?}");
        assert!(ours.stdout.starts_with("net:["), "{ours:?}");
        assert_ne!(ours.stdout, readlink("/proc/thread-self/ns/net"));
    });
}

#[test]
fn a_regular_file_is_not_a_namespace() {
    if !ready(test_name!()) {
        return;
    }
    let dir = tempdir("regular_file");
    let file = dir.path().join("plain");
    fs::write(&file, "x").unwrap();
    let ours = same_as_nsenter_here(&[&format!("--net={}", file.display()), "true"]);
    assert_eq!(ours.code, 1);
    assert_eq!(
        ours.stderr,
        format!(
            "rnsenter: cannot enter the net namespace in {}: not a namespace file\n",
            file.display()
        )
    );
}

#[test]
fn a_namespace_of_another_type_is_refused() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let uts = format!("/proc/{}/ns/uts", target.pid);
    let ours = same_as_nsenter_here(&[&format!("--net={uts}"), "true"]);
    assert_eq!(ours.code, 1);
    assert_eq!(
        ours.stderr,
        format!("rnsenter: cannot enter the net namespace in {uts}: it is a uts namespace, not a net namespace\n")
    );
}

#[test]
fn unknown_option_is_a_usage_error() {
    if !needs!("nsenter") {
        return;
    }
    let ours = run(cmd("rnsenter").args(["--bogus", "true"]));
    let theirs = run(anchor("nsenter").args(["--bogus", "true"]));
    assert_eq!((ours.code, &ours.stdout), (theirs.code, &theirs.stdout));
    assert_eq!(ours.code, 1);
    assert_eq!(
        ours.stderr.lines().next(),
        Some("rnsenter: unrecognized option '--bogus'")
    );
}

/// A directory nobody can write to, in a temp dir nobody can reach.
fn nobody_dir(dir: &Path) -> PathBuf {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    let open = dir.join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    open
}

#[test]
fn foreign_user_namespace_is_refused_whole() {
    if !ready(test_name!()) || !needs!("setpriv") {
        return;
    }
    // A user namespace (and a UTS namespace it owns) that root made: nobody
    // may enter neither; their files are bind mounts nobody can open.
    let target = target(&["-U", "-u"], "exec sleep 1000", false);
    in_mountns(move || {
        let dir = tempdir("foreign_userns");
        let open = nobody_dir(dir.path());
        let bind = |kind: &str| {
            let file = dir.path().join(kind);
            fs::write(&file, "").unwrap();
            let ns = format!("/proc/{}/ns/{kind}", target.pid);
            let bound = run(Command::new("mount").arg("--bind").arg(ns).arg(&file));
            assert_eq!(bound.code, 0, "{bound:?}");
            harness::Mounted(file)
        };
        let (user, uts) = (bind("user"), bind("uts"));
        let marker = open.join("ran");
        let user_arg = format!("--user={}", user.0.display());
        let uts_arg = format!("--uts={}", uts.0.display());
        let theirs = run(harness::nobody(Path::new("/usr/bin/nsenter"), &[])
            .args([&user_arg, &uts_arg])
            .arg("touch")
            .arg(&marker));
        assert_eq!(theirs.code, 1, "{theirs:?}");
        let ours = run(harness::nobody(&harness::bin("rnsenter"), &[])
            .args([&user_arg, &uts_arg])
            .arg("touch")
            .arg(&marker));
        assert_eq!((ours.code, &ours.stdout), (theirs.code, &theirs.stdout));
        assert_eq!(
            ours.stderr,
            format!(
                "rnsenter: cannot enter the user namespace in {}: Operation not permitted\n",
                user.0.display()
            )
        );
        assert!(!marker.exists(), "the command ran");
        // By PID: nobody may not even open the namespace files of root's process.
        let ours = run(harness::nobody(&harness::bin("rnsenter"), &[])
            .args(["-t", &target.pid.to_string(), "-U", "touch"])
            .arg(&marker));
        assert_eq!(
            (ours.code, ours.stderr.as_str()),
            (1, format!(
                "rnsenter: cannot enter the user namespace of process {0}: cannot open /proc/{0}/ns/user: Permission denied\n",
                target.pid
            ).as_str())
        );
        assert!(!marker.exists(), "the command ran");
        drop((user, uts));
        drop(target);
    });
}

#[test]
fn user_namespace_first_when_it_gives_privilege() {
    if !ready(test_name!()) || !needs!("setpriv") {
        return;
    }
    // nobody's own user and mount namespaces: nobody may enter the mount
    // namespace only from inside the user namespace that owns it.
    let unshare = harness::nobody(Path::new("/usr/bin/unshare"), &[]);
    let target = target_by(unshare, &["-Urm"], "exec sleep 1000", false);
    let t = target.pid.to_string();
    let args = [
        "-t",
        &t,
        "-m",
        "-U",
        "--preserve-credentials",
        "sh",
        "-c",
        "id -u; readlink /proc/self/ns/mnt",
    ];
    let ours = run(harness::nobody(&harness::bin("rnsenter"), &[]).args(args));
    let theirs = run(harness::nobody(Path::new("/usr/bin/nsenter"), &[]).args(args));
    assert_eq!((ours.code, &ours.stdout), (theirs.code, &theirs.stdout));
    assert_eq!(
        ours.stdout,
        format!("0\n{}", readlink(&format!("/proc/{t}/ns/mnt")))
    );
}

#[test]
fn usage_errors_are_worded_as_nsenter_words_them() {
    if !needs!("nsenter") {
        return;
    }
    // nsenter 2.38's abbreviations: its newer options do not make them
    // ambiguous (`--u` is not also --user-parent).
    for args in [
        &["--u"][..],
        &["--p"],
        &["--s", "1"],
        &["-x"],
        &["-t"],
        &["--setu"],
        &["--all=1", "true"],
        &["-m", "-W"],
        &["--n"],
        &["-t", "1", "-w", "-W", "/"],
    ] {
        crate::harness::same_usage_error("rnsenter", "nsenter", args);
    }
}

#[test]
fn an_attached_file_is_taken_as_given() {
    if !needs!("nsenter") {
        return;
    }
    // getopt keeps the `=` of `-n=FILE`: nsenter opens "=FILE".
    let dir = tempdir(test_name!());
    let file = dir.path().join("none");
    let arg = format!("-n={}", file.display());
    let ours = run(cmd("rnsenter").args([arg.as_str(), "true"]));
    let theirs = run(anchor("nsenter").args([arg.as_str(), "true"]));
    assert_eq!((ours.code, theirs.code), (1, 1));
    let opened = format!("cannot open ={}: No such file or directory", file.display());
    assert!(theirs.stderr.contains(&opened), "{theirs:?}");
    assert!(ours.stderr.contains(&opened), "{ours:?}");
}
