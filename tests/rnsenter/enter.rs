//! Entering each namespace kind of a target as nsenter does: uts, mount,
//! pid (with the fork), user, cgroup, and what the command then has: exit
//! status, environment, root and working directory, ids, capabilities.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{pid_mnt_uts, readlink, ready, same_as_nsenter, same_as_nsenter_here, target, MARK};
use crate::harness::{anchor, cmd, in_mountns, needs_root, run, tempdir, test_name, unique};

#[test]
fn all_namespaces_of_the_target() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let kinds = ["mnt", "uts", "pid", "ipc", "net", "cgroup", "user", "time"];
    let links: Vec<String> = kinds.iter().map(|k| format!("/proc/self/ns/{k}")).collect();
    let mut args = vec!["-t", &t, "-a", "readlink"];
    args.extend(links.iter().map(String::as_str));
    let ours = same_as_nsenter_here(&args);
    assert_eq!(ours.code, 0, "{ours:?}");
    let expected: String = kinds
        .iter()
        .map(|k| readlink(&format!("/proc/{t}/ns/{k}")))
        .collect();
    assert_eq!(ours.stdout, expected);
}

#[test]
fn uts_namespace_hostname() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let ours = same_as_nsenter_here(&["-t", &target.pid.to_string(), "-u", "hostname"]);
    assert_eq!(ours.stdout, "bxt-rnsenter\n");
}

#[test]
fn mount_namespace_sees_the_targets_proc() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let ours = same_as_nsenter_here(&["-t", &target.pid.to_string(), "-m", "cat", "/proc/1/comm"]);
    assert_eq!(ours.stdout, "sleep\n");
}

#[test]
fn pid_namespace_forks_into_it() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let ours = same_as_nsenter_here(&["-t", &t, "-p", "readlink", "/proc/self/ns/pid"]);
    assert_eq!(ours.stdout, readlink(&format!("/proc/{t}/ns/pid")));
    // With its /proc: PID 1 is the target, the command is a child of rnsenter.
    let ours = same_as_nsenter_here(&[
        "-t",
        &t,
        "-p",
        "-m",
        "sh",
        "-c",
        "cat /proc/1/comm; [ $$ -gt 1 ]",
    ]);
    assert_eq!((ours.code, ours.stdout.as_str()), (0, "sleep\n"));
}

#[test]
fn exit_status_and_signal_pass_through_the_fork() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let ours = same_as_nsenter_here(&["-t", &t, "-p", "sh", "-c", "exit 7"]);
    assert_eq!(ours.code, 7);
    let ours = same_as_nsenter_here(&["-t", &t, "-p", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(ours.code, 128 + libc::SIGTERM);
    // -F: no fork, the shell itself ends rnsenter's process.
    let ours = same_as_nsenter_here(&["-t", &t, "-p", "-F", "sh", "-c", "exit 9"]);
    assert_eq!(ours.code, 9);
}

#[test]
fn exec_failures_are_126_and_127() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let dir = tempdir("exec_failures");
    let not_executable = dir.path().join("plain");
    fs::write(&not_executable, "#!/bin/sh\n").unwrap();
    let not_executable = not_executable.to_str().unwrap();
    for (program, code) in [("/nonexistent/bxt", 127), (not_executable, 126)] {
        let args = ["-t", &t, "-u", program];
        let ours = same_as_nsenter_here(&args);
        let theirs = run(anchor("nsenter").args(args));
        assert_eq!(ours.code, code);
        assert_eq!(ours.stderr, theirs.stderr.replace("nsenter:", "rnsenter:"));
    }
}

#[test]
fn env_is_the_targets() {
    if !needs_root!() {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let environ = fs::read(format!("/proc/{t}/environ")).unwrap();
    let expected: String = environ
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| format!("{}\n", String::from_utf8_lossy(e)))
        .collect();
    assert!(expected.contains(&format!("{MARK}=marker-")), "{expected}");
    // Our own environment differs from the target's: env_clear + one other.
    let ours = run(cmd("rnsenter")
        .env_clear()
        .env("BXT_ONLY_HERE", "1")
        .args(["-t", &t, "-u", "-e", "env"]));
    assert_eq!((ours.code, ours.stdout), (0, expected));
}

#[test]
fn user_namespace_with_root_mapped() {
    if !ready(test_name!()) {
        return;
    }
    let target = target(&["-U", "--map-root-user"], "exec sleep 1000", false);
    let t = target.pid.to_string();
    let ours = same_as_nsenter_here(&[
        "-t",
        &t,
        "-U",
        "sh",
        "-c",
        "id -u; readlink /proc/self/ns/user",
    ]);
    assert_eq!(
        ours.stdout,
        format!("0\n{}", readlink(&format!("/proc/{t}/ns/user")))
    );
    let ours = same_as_nsenter_here(&["-t", &t, "-a", "readlink", "/proc/self/ns/user"]);
    assert_eq!(ours.stdout, readlink(&format!("/proc/{t}/ns/user")));
}

#[test]
fn user_parent_is_the_owner_of_the_targets_user_namespace() {
    if !needs_root!() {
        return;
    }
    // sh in a user namespace; its child sleep in a user namespace below it.
    let target = target(
        &["-U", "--map-root-user"],
        "unshare -U sleep 1000 & wait",
        true,
    );
    let parent = readlink(&format!("/proc/{}/ns/user", target.outer.id()));
    assert_ne!(parent, readlink(&format!("/proc/{}/ns/user", target.pid)));
    let ours = run(cmd("rnsenter").args([
        "-t",
        &target.pid.to_string(),
        "--user-parent",
        "readlink",
        "/proc/self/ns/user",
    ]));
    assert_eq!((ours.code, ours.stdout), (0, parent), "{}", ours.stderr);
}

#[test]
fn root_and_working_directories() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let cwd = std::env::current_dir().unwrap();
    let ours = same_as_nsenter(&["-t", &t, "-m", "-r", "-w", "pwd"], &cwd);
    assert_eq!(ours.stdout, format!("{}\n", cwd.display()));
    let ours = same_as_nsenter_here(&[
        "-t",
        &t,
        "-m",
        "--wdns=/proc/1",
        "sh",
        "-c",
        "pwd; cat comm",
    ]);
    assert_eq!(ours.stdout, "/proc/1\nsleep\n");
}

#[test]
fn setuid_and_setgid() {
    if !ready(test_name!()) {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let ours = same_as_nsenter_here(&[
        "-t",
        &t,
        "-u",
        "-S",
        "65534",
        "-G",
        "65534",
        "sh",
        "-c",
        "id -u; id -g; id -G",
    ]);
    assert_eq!(ours.stdout, "65534\n65534\n65534\n");
}

#[test]
fn join_cgroup_is_cgroup_v2_only() {
    if !needs_root!() {
        return;
    }
    let target = pid_mnt_uts();
    let t = target.pid.to_string();
    let v2 = nix::sys::statfs::statfs("/sys/fs/cgroup")
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC);
    if !v2 {
        let ours = run(cmd("rnsenter").args(["-t", &t, "-u", "-c", "cat", "/proc/self/cgroup"]));
        assert_eq!(
            (ours.code, ours.stdout.as_str(), ours.stderr.as_str()),
            (
                1,
                "",
                "rnsenter: --join-cgroup is only supported in cgroup v2\n"
            )
        );
    }
    // The join itself, where /sys/fs/cgroup is cgroup v2 (mounted so in a
    // mount namespace of the test's own on other hosts): the target moves
    // to a cgroup of its own below ours, so a join that moved nothing fails.
    in_mountns(move || {
        if !v2 {
            let mounted =
                run(Command::new("mount").args(["-t", "cgroup2", "none", "/sys/fs/cgroup"]));
            assert_eq!(mounted.code, 0, "{mounted:?}");
        }
        let v2_line = |text: &str| {
            text.lines()
                .find(|l| l.starts_with("0::"))
                .map(str::to_string)
                .expect("a cgroup v2 line")
        };
        let own = v2_line(&fs::read_to_string("/proc/self/cgroup").unwrap());
        let parent = Path::new("/sys/fs/cgroup").join(own.trim_start_matches("0::/"));
        let dir = parent.join(unique("join"));
        fs::create_dir(&dir).unwrap();
        /// Takes the target back to our cgroup and removes its own, on
        /// every way out (before the target is killed).
        struct Moved(PathBuf, PathBuf, String);
        impl Drop for Moved {
            fn drop(&mut self) {
                let _ = fs::write(self.0.join("cgroup.procs"), &self.2);
                let _ = fs::remove_dir(&self.1);
            }
        }
        let _moved = Moved(parent, dir.clone(), t.clone());
        fs::write(dir.join("cgroup.procs"), &t).unwrap();
        let theirs = v2_line(&fs::read_to_string(format!("/proc/{t}/cgroup")).unwrap());
        assert!(
            theirs.ends_with(dir.file_name().unwrap().to_str().unwrap()),
            "{theirs}"
        );
        let ours = run(cmd("rnsenter").args(["-t", &t, "-u", "-c", "cat", "/proc/self/cgroup"]));
        assert_eq!(ours.code, 0, "{ours:?}");
        assert_eq!(v2_line(&ours.stdout), theirs);
    });
}

#[test]
fn keep_caps_makes_them_ambient() {
    if !needs_root!() {
        return;
    }
    let target = target(&["-U", "--map-root-user"], "exec sleep 1000", false);
    let t = target.pid.to_string();
    let status = |extra: &[&str]| {
        let ran = run(cmd("rnsenter")
            .args(["-t", &t, "-U"])
            .args(extra)
            .args(["cat", "/proc/self/status"]));
        assert_eq!(ran.code, 0, "{ran:?}");
        let field = |name: &str| {
            ran.stdout
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
                .unwrap()
        };
        (field("CapPrm:"), field("CapAmb:"))
    };
    let (permitted, ambient) = status(&[]);
    assert_eq!(ambient, 0);
    assert_ne!(permitted, 0);
    assert_eq!(status(&["--keep-caps"]), (permitted, permitted));
}
