//! The command gets exactly the descriptors rnsenter was given (as with
//! nsenter: `exec 5<FILE` in the calling shell reaches it) and none of
//! those rnsenter opens itself (namespace files, /proc directories, the
//! target's environ, pidfds and socket copies), looked at from outside
//! through /proc/PID/fd while the command runs (runc CVE-2024-21626).

use std::ffi::OsStr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::pid_mnt_uts;
use crate::harness::{bin, in_netns, inherited_fds, needs_root, tempdir, Process};

/// The descriptors of `pid` and what each one is.
fn fds_of(pid: i32) -> Vec<(String, PathBuf)> {
    let dir = PathBuf::from(format!("/proc/{pid}/fd"));
    let mut fds: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let target = std::fs::read_link(e.path()).unwrap_or_default();
            (e.file_name().into_string().unwrap(), target)
        })
        .collect();
    fds.sort();
    fds
}

/// Starts `PROGRAM sleep 1000` from a shell that opened FILE as descriptor
/// 5, and returns the descriptors of the sleeping command.
fn command_fds(program: &[&OsStr], forks: bool, file: &Path) -> Vec<(String, PathBuf)> {
    let mut sleeper = Process::sleeping(
        Command::new("bash")
            .args(["-c", r#"exec 5<"$0"; exec "$@""#])
            .arg(file)
            .args(program)
            .args(["sleep", "1000"]),
        forks,
    );
    let fds = fds_of(sleeper.pid);
    sleeper.outer.kill().unwrap();
    drop(sleeper);
    fds
}

/// The command run by `rnsenter ARGS` has the descriptors the shell
/// passes on: its 5 (FILE) and whatever the test itself was given.
#[track_caller]
fn gets_the_callers_fds(args: &[&str], forks: bool, file: &Path) {
    let rnsenter = bin("rnsenter");
    let mut program = vec![rnsenter.as_os_str()];
    program.extend(args.iter().map(OsStr::new));
    let fds = command_fds(&program, forks, file);
    let numbers: Vec<String> = fds.iter().map(|(fd, _)| fd.clone()).collect();
    assert_eq!(numbers, inherited_fds(&[5]), "{args:?}: {fds:?}");
    assert!(
        fds.contains(&("5".to_string(), file.to_path_buf())),
        "{fds:?}"
    );
}

#[test]
fn the_command_gets_the_callers_fds_and_none_of_rnsenters() {
    if !needs_root!() {
        return;
    }
    let dir = tempdir("rnsenter_fds");
    let file = dir.path().join("passed");
    std::fs::write(&file, "x").unwrap();
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let net = format!("--net=/proc/{t}/ns/net");
    // Without a fork and with one (-p): namespace files by PID and by path,
    // the target's root, cwd and environ, -a's eight namespace files.
    for (args, forks) in [
        (&["-t", &t, "-u"][..], false),
        (&["-t", &t, "-u", &net, "-r", "-w", "-e"], false),
        (&["-t", &t, "-a"], true),
        (&["-t", &t, "-p", "-m", "-W", "/"], true),
    ] {
        gets_the_callers_fds(args, forks, &file);
    }
}

#[test]
fn net_socket_leaves_no_pidfd_or_socket_to_the_command() {
    if !needs_root!() {
        return;
    }
    let socket = in_netns(|| std::os::unix::net::UnixDatagram::unbound().unwrap());
    let dir = tempdir("rnsenter_fds_socket");
    let file = dir.path().join("passed");
    std::fs::write(&file, "x").unwrap();
    let me = std::process::id().to_string();
    let fd = socket.as_raw_fd().to_string();
    gets_the_callers_fds(&["-t", &me, "-N", &fd], false, &file);
    drop(socket);
}
