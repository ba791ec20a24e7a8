//! The command lines of every nsenter release from 2.38 on: the forms 2.38
//! runs and later releases refuse or read otherwise, and 2.41's options.

use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;

use super::{pid_mnt_uts, readlink, ready, same_as_nsenter, same_as_nsenter_here};
use crate::harness::{cmd, in_netns, needs_root, run, skip, tempdir, test_name};

#[test]
fn root_and_wd_without_a_namespace_run_as_2_38() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let dir = tempdir("root_and_wd_without_a_namespace");
    // The target's cwd is this test's, rnsenter's the temp dir: -w takes
    // the target's.
    let ours = same_as_nsenter(&["-t", &t, "-r", "-w", "pwd"], dir.path());
    let here = std::env::current_dir().unwrap();
    assert_eq!(
        (ours.code, ours.stdout),
        (0, format!("{}\n", here.display()))
    );
    // -r alone keeps rnsenter's own working directory.
    let ours = same_as_nsenter(&["-t", &t, "-r", "pwd"], dir.path());
    assert_eq!(ours.stdout, format!("{}\n", dir.path().display()));
    // Nothing to enter at all: the command runs where rnsenter is.
    let ours = same_as_nsenter_here(&["-t", &t, "readlink", "/proc/self/ns/uts"]);
    assert_eq!(ours.stdout, readlink("/proc/self/ns/uts"));
    let ours = same_as_nsenter_here(&["sh", "-c", "exit 3"]);
    assert_eq!(ours.code, 3);
}

#[test]
fn wdns_takes_the_next_word_as_2_38() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    // /proc/1 inside the target's mount namespace is the target itself.
    for w in [&["-W", "/proc/1"][..], &["-W/proc/1"]] {
        let mut args = vec!["-t", &t, "-m"];
        args.extend(w);
        args.extend(["sh", "-c", "pwd; cat comm"]);
        let ours = same_as_nsenter_here(&args);
        assert_eq!((ours.code, ours.stdout.as_str()), (0, "/proc/1\nsleep\n"));
    }
}

#[test]
fn wdns_and_wd_drop_an_equals_sign_as_2_41() {
    if !needs_root!() {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let ran = run(cmd("rnsenter").args(["-t", &t, "-m", "-W=/proc/1", "cat", "comm"]));
    assert_eq!((ran.code, ran.stdout.as_str()), (0, "sleep\n"), "{ran:?}");
    let ran = run(cmd("rnsenter").args(["-t", &t, "-u", "-w=/proc", "pwd"]));
    assert_eq!((ran.code, ran.stdout.as_str()), (0, "/proc\n"), "{ran:?}");
}

#[test]
fn the_last_target_counts() {
    if !ready(test_name!()) {
        return;
    }
    let first = pid_mnt_uts();
    let last = pid_mnt_uts();
    let (f, l) = (first.pid.to_string(), last.pid.to_string());
    let ours = same_as_nsenter_here(&[
        "-t",
        &f,
        "--target",
        &l,
        "-u",
        "readlink",
        "/proc/self/ns/uts",
    ]);
    assert_eq!(ours.stdout, readlink(&format!("/proc/{l}/ns/uts")));
    assert_ne!(ours.stdout, readlink(&format!("/proc/{f}/ns/uts")));
}

#[test]
fn follow_context_does_nothing_without_selinux() {
    if !ready(test_name!()) {
        return;
    }
    if Path::new("/sys/fs/selinux/enforce").exists() {
        skip(
            "follow_context_does_nothing_without_selinux",
            "SELinux is on",
        );
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    for z in ["-Z", "--follow-context", "--fol"] {
        let ours = same_as_nsenter_here(&[z, "-t", &t, "-u", "hostname"]);
        assert_eq!((ours.code, ours.stdout.as_str()), (0, "bxt-rnsenter\n"));
    }
    // Without a target too, as nsenter when SELinux is off.
    let ours = same_as_nsenter_here(&["-Z", "true"]);
    assert_eq!(ours.code, 0);
}

#[test]
fn net_socket_enters_the_namespace_of_the_targets_socket() {
    if !needs_root!() {
        return;
    }
    // A socket made in a network namespace of its own, held by this test
    // process after the thread that made it (and the namespace) is gone.
    let (socket, netns) = in_netns(|| {
        let socket = std::os::unix::net::UnixDatagram::unbound().unwrap();
        (socket, readlink("/proc/thread-self/ns/net"))
    });
    assert_ne!(netns, readlink("/proc/thread-self/ns/net"));
    let me = std::process::id().to_string();
    let fd = socket.as_raw_fd().to_string();
    for args in [
        &["-t", &me, "-N", &fd][..],
        &["--target", &me, "--net-socket", &fd],
    ] {
        let ran = run(cmd("rnsenter")
            .args(args)
            .args(["readlink", "/proc/self/ns/net"]));
        assert_eq!(
            (ran.code, &ran.stdout, ran.stderr.as_str()),
            (0, &netns, "")
        );
    }
    // It takes the place of the target's own network namespace (-a, -n).
    let ran =
        run(cmd("rnsenter").args(["-t", &me, "-n", "-N", &fd, "readlink", "/proc/self/ns/net"]));
    assert_eq!((ran.code, &ran.stdout), (0, &netns), "{ran:?}");
    // A descriptor that is no socket, or none at all.
    let file = std::fs::File::open("/dev/null").unwrap();
    let not_socket = file.as_raw_fd().to_string();
    let ran = run(cmd("rnsenter").args(["-t", &me, "-N", &not_socket, "true"]));
    assert_eq!(
        (ran.code, ran.stderr),
        (1, format!("rnsenter: cannot enter the net namespace of socket {not_socket} of process {me}: descriptor {not_socket} is not a socket\n"))
    );
    let ran = run(cmd("rnsenter").args(["-t", &me, "-N", "99999", "true"]));
    assert_eq!(
        (ran.code, ran.stderr),
        (1, format!("rnsenter: cannot enter the net namespace of socket 99999 of process {me}: cannot get its descriptor 99999: Bad file descriptor\n"))
    );
    drop(socket);
}

#[test]
fn net_socket_needs_a_target() {
    let ran = run(cmd("rnsenter").args(["-N", "3", "true"]));
    assert_eq!(
        (ran.code, ran.stdout.as_str(), ran.stderr.as_str()),
        (
            1,
            "",
            "rnsenter: no target PID specified for --net-socket\n"
        )
    );
    let ran = run(Command::new(crate::harness::bin("rnsenter")).args(["-t", "1", "-N", "x"]));
    assert_eq!(ran.code, 1, "{ran:?}");
}
