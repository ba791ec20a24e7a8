//! rnsenter against util-linux nsenter: the same command line into
//! namespaces the test makes itself gives the same stdout and exit code.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{
    self, anchor, cmd, have, in_mountns, in_netns, root, run, tempdir, unique, Process, Ran,
};

mod fds;
mod forms;

/// The environment variable the target carries, for `-e`.
const MARK: &str = "BXT_RNSENTER_MARK";

/// A target: `unshare ARGS sh -c SCRIPT`, where SCRIPT ends in `sleep`;
/// `forks` says whether the sleeping process is a child of the one started.
fn target(args: &[&str], script: &str, forks: bool) -> Process {
    target_by(anchor("unshare"), args, script, forks)
}

/// [`target`] with `unshare` run by `unshare` (e.g. setpriv).
fn target_by(mut unshare: Command, args: &[&str], script: &str, forks: bool) -> Process {
    unshare
        .args(args)
        .args(["sh", "-c", script])
        .env(MARK, format!("marker-{}", std::process::id()));
    Process::sleeping(&mut unshare, forks)
}

/// Root, and nsenter to compare with.
fn ready(test: &str) -> bool {
    root(test) && have(test, "nsenter")
}

/// `sleep` as PID 1 of new PID, mount and UTS namespaces, hostname set.
fn pid_mnt_uts() -> Process {
    target(
        &["-fpmu", "--mount-proc"],
        "hostname bxt-rnsenter && exec sleep 1000",
        true,
    )
}

/// Runs `rnsenter ARGS` and `nsenter ARGS` from `dir` and checks that they
/// print the same and end the same; returns rnsenter's run.
fn same_as_nsenter(args: &[&str], dir: &Path) -> Ran {
    let ours = run(cmd("rnsenter").args(args).current_dir(dir));
    let theirs = run(anchor("nsenter").args(args).current_dir(dir));
    assert_eq!(
        (ours.code, &ours.stdout),
        (theirs.code, &theirs.stdout),
        "rnsenter {args:?}: {ours:?}\nnsenter: {theirs:?}"
    );
    ours
}

fn same_as_nsenter_here(args: &[&str]) -> Ran {
    same_as_nsenter(args, Path::new("/"))
}

fn readlink(path: &str) -> String {
    format!("{}\n", fs::read_link(path).unwrap().display())
}

#[test]
fn all_namespaces_of_the_target() {
    if !ready("all_namespaces_of_the_target") {
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
    if !ready("uts_namespace_hostname") {
        return;
    }
    let target = pid_mnt_uts();
    let ours = same_as_nsenter_here(&["-t", &target.pid.to_string(), "-u", "hostname"]);
    assert_eq!(ours.stdout, "bxt-rnsenter\n");
}

#[test]
fn mount_namespace_sees_the_targets_proc() {
    if !ready("mount_namespace_sees_the_targets_proc") {
        return;
    }
    let target = pid_mnt_uts();
    let ours = same_as_nsenter_here(&["-t", &target.pid.to_string(), "-m", "cat", "/proc/1/comm"]);
    assert_eq!(ours.stdout, "sleep\n");
}

#[test]
fn pid_namespace_forks_into_it() {
    if !ready("pid_namespace_forks_into_it") {
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
    if !ready("exit_status_and_signal_pass_through_the_fork") {
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
    if !ready("exec_failures_are_126_and_127") {
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
    if !root("env_is_the_targets") {
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
    if !ready("user_namespace_with_root_mapped") {
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
    if !root("user_parent_is_the_owner_of_the_targets_user_namespace") {
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
    if !ready("root_and_working_directories") {
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
    if !ready("setuid_and_setgid") {
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
    if !root("join_cgroup_is_cgroup_v2_only") {
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
    if !root("keep_caps_makes_them_ambient") {
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

#[test]
fn target_that_does_not_exist() {
    if !ready("target_that_does_not_exist") {
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
    if !ready("target_that_has_exited") {
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
    if !ready("net_by_name_from_ip_netns_add") {
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
    if !ready("a_file_here_comes_before_a_name") {
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
    if !ready("net_from_a_file_made_by_unshare") {
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
    if !ready("a_regular_file_is_not_a_namespace") {
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
    if !ready("a_namespace_of_another_type_is_refused") {
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
    if !have("unknown_option", "nsenter") {
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
    if !ready("foreign_user_namespace_is_refused_whole")
        || !have("foreign_user_namespace_is_refused_whole", "setpriv")
    {
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
    if !ready("user_namespace_first_when_it_gives_privilege")
        || !have("user_namespace_first_when_it_gives_privilege", "setpriv")
    {
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
    if !have("usage_errors_are_worded_as_nsenter_words_them", "nsenter") {
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
    if !have("an_attached_file_is_taken_as_given", "nsenter") {
        return;
    }
    // getopt keeps the `=` of `-n=FILE`: nsenter opens "=FILE".
    let dir = tempdir("an_attached_file_is_taken_as_given");
    let file = dir.path().join("none");
    let arg = format!("-n={}", file.display());
    let ours = run(cmd("rnsenter").args([arg.as_str(), "true"]));
    let theirs = run(anchor("nsenter").args([arg.as_str(), "true"]));
    assert_eq!((ours.code, theirs.code), (1, 1));
    let opened = format!("cannot open ={}: No such file or directory", file.display());
    assert!(theirs.stderr.contains(&opened), "{theirs:?}");
    assert!(ours.stderr.contains(&opened), "{ours:?}");
}
