//! runshare against unshare as an ordinary user and on the options that
//! set ids, propagation, root and directory, and kept namespaces of every kind.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

use super::{
    as_nobody, as_nobody_possible, as_unshare, assert_like_unshare, both, ended, says_like_unshare,
    succeeds_like_unshare, tmpfs_on,
};
use crate::harness::{
    anchor, children, cmd, eventually, in_mountns, needs, needs_root, nobody, run, tempdir,
    test_name,
};

#[test]
fn ordinary_user_without_user_namespace_is_told_why() {
    if !as_nobody_possible(test_name!()) {
        return;
    }
    let ran = run(&mut as_nobody(&[], &["-n", "true"]));
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        "runshare: unshare failed: Operation not permitted (needs CAP_SYS_ADMIN: \
         run as root, or add --user to unshare as a user)\n"
    );
}

#[test]
fn setuid_and_setgid_like_unshare() {
    if !needs_root!() {
        return;
    }
    let ours = succeeds_like_unshare(&["-S", "65534", "-G", "65534", "id"], "");
    assert!(ours.stdout.starts_with("uid=65534"), "{}", ours.stdout);
    says_like_unshare(
        &["-S", "abc", "true"],
        "runshare: failed to parse uid: 'abc'\n",
    );
}

#[test]
fn propagation_like_unshare() {
    if !needs_root!() || !needs!("findmnt") {
        return;
    }
    for mode in ["private", "slave", "shared", "unchanged"] {
        let args = [
            "-m",
            "--propagation",
            mode,
            "findmnt",
            "-no",
            "PROPAGATION",
            "/",
        ];
        succeeds_like_unshare(&args, &format!("{mode}: "));
    }
    says_like_unshare(
        &["--propagation", "bogus", "true"],
        "runshare: unsupported propagation mode: bogus\n",
    );
}

#[test]
fn new_root_and_directory_like_unshare() {
    if !needs_root!() || !needs!("busybox") {
        return;
    }
    let dir = tempdir("newroot");
    std::fs::create_dir_all(dir.path().join("bin")).unwrap();
    std::fs::create_dir_all(dir.path().join("proc")).unwrap();
    crate::harness::copy_exe(Path::new("/bin/busybox"), &dir.path().join("bin/busybox"));
    let newroot = dir.path().to_str().unwrap();
    let (ours, theirs) = both(&["-R", newroot, "-w", "/bin", "/bin/busybox", "pwd"]);
    assert_eq!(
        (ours.code, ours.stdout.as_str()),
        (0, "/bin\n"),
        "{}",
        ours.stderr
    );
    assert_eq!(ours, theirs);
    let args = [
        "-R",
        newroot,
        "-fp",
        "--mount-proc",
        "/bin/busybox",
        "ps",
        "-o",
        "pid,comm",
    ];
    let ours = succeeds_like_unshare(&args, "");
    assert!(
        ours.stdout.contains("1 busybox") || ours.stdout.contains("1 ps"),
        "{}",
        ours.stdout
    );
}

#[test]
fn default_command_is_the_shell_like_unshare() {
    // SHELL=/bin/echo: the "shell" prints its arguments (none) and exits.
    let ours = run(cmd("runshare").env("SHELL", "/bin/echo"));
    let theirs = run(anchor("unshare").env("SHELL", "/bin/echo"));
    assert_eq!((ours.code, ours.stdout.as_str()), (0, "\n"));
    assert_eq!(ours, theirs);
}

#[test]
fn ordinary_user_maps_own_ids_from_outside() {
    // An own-ID range needs no newuidmap: written from the parent
    // namespace, setgroups denied first for the gid map.
    if !as_nobody_possible(test_name!()) {
        return;
    }
    let ran = run(&mut as_nobody(
        &[],
        &[
            "--map-users=0:65534:1",
            "--map-groups=65534,0,1",
            "sh",
            "-c",
            "id -u; id -g; cat /proc/self/setgroups",
        ],
    ));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.stdout, "0\n0\ndeny\n");
}

#[test]
fn ordinary_user_wider_ranges_go_through_newuidmap() {
    if !as_nobody_possible(test_name!()) {
        return;
    }
    if Path::new("/usr/bin/newuidmap").exists() {
        crate::harness::skip("wide", "newuidmap is installed: the refusal is not reached");
        return;
    }
    let dir = tempdir("wide");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let marker = dir.path().join("ran");
    let ran = run(&mut as_nobody(
        &[],
        &["--map-users=0:100000:10", "touch", marker.to_str().unwrap()],
    ));
    assert_eq!(ran.code, 127);
    assert_eq!(
        ran.stderr,
        "runshare: failed to execute newuidmap: No such file or directory\n"
    );
    assert!(!marker.exists());
    // The same in the form unshare 2.38 reads, compared.
    let args = ["--map-users=100000,0,10", "true"];
    let ours = run(&mut as_nobody(&[], &args));
    let theirs = run(nobody(Path::new("unshare"), &[]).args(args));
    assert_eq!(ours.code, theirs.code);
    assert_eq!(as_unshare(&ours.stderr), theirs.stderr);
}

#[test]
fn every_namespace_kind_is_kept_and_entered() {
    if !needs_root!() || !needs!("nsenter") {
        return;
    }
    let dir = tempdir("persist-all");
    let base = dir.path().to_path_buf();
    let (made, seen, kept) = in_mountns(move || {
        let _tmpfs = tmpfs_on(&base);
        let kinds = [
            "user", "cgroup", "ipc", "uts", "net", "pid", "mount", "time",
        ];
        let mut made = cmd("runshare");
        made.current_dir(&base);
        for kind in kinds {
            std::fs::write(base.join(kind), "").unwrap();
            made.arg(format!("--{kind}={kind}"));
        }
        let made = run(made.args(["-f", "-r", "--monotonic=50", "hostname", "bxt-all"]));
        let kept = run(anchor("findmnt")
            .args(["-n", "-o", "FSTYPE", "-R"])
            .arg(&base))
        .stdout;
        let seen = run(anchor("nsenter")
            .current_dir(&base)
            .args(["--user=user", "--uts=uts", "--mount=mount", "--time=time"])
            .args([
                "sh",
                "-c",
                "hostname; cat /proc/self/uid_map /proc/self/timens_offsets",
            ]));
        (made, seen, kept)
    });
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(kept.matches("nsfs").count(), 8, "{kept}");
    let words: Vec<&str> = seen.stdout.split_whitespace().collect();
    assert_eq!(
        words[..6],
        ["bxt-all", "0", "0", "1", "monotonic", "50"],
        "{}",
        seen.stderr
    );
}

#[test]
fn sigkill_of_pid_1_from_the_host_ends_the_container() {
    if !needs_root!() {
        return;
    }
    use std::os::unix::process::ExitStatusExt;
    let mut tool = crate::harness::Spawned::new(
        cmd("runshare")
            .args([
                "-fp",
                "--mount-proc",
                "sh",
                "-c",
                "sleep 1000 & echo up; wait",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    );
    let mut up = [0u8; 3];
    std::io::Read::read_exact(tool.stdout.as_mut().unwrap(), &mut up).unwrap();
    let init = children(tool.id())[0];
    let sleeper = children(init)[0];
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(init as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(tool.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(
        eventually(|| ended(sleeper)),
        "{sleeper} outlived its PID 1"
    );
}

#[test]
fn map_user_and_group_by_name_like_unshare() {
    if !needs_root!() {
        return;
    }
    let args = [
        "--map-user=nobody",
        "--map-group=65534",
        "cat",
        "/proc/self/uid_map",
        "/proc/self/gid_map",
        "/proc/self/setgroups",
    ];
    let (ours, theirs) = both(&args);
    let words: Vec<&str> = ours.stdout.split_whitespace().collect();
    assert_eq!(
        words,
        ["65534", "0", "1", "65534", "0", "1", "deny"],
        "{}",
        ours.stderr
    );
    assert_eq!(ours, theirs);
    says_like_unshare(
        &["--map-user=bxt-nosuchuser", "true"],
        "runshare: failed to parse uid: 'bxt-nosuchuser'\n",
    );
}

#[test]
fn usage_errors_are_getopts_like_unshare() {
    if !needs!("unshare") {
        return;
    }
    // unshare's short namespace options take no argument: `-m=x` is -m and
    // an invalid `-=`. Each line: same words, exit 1, nothing run.
    for line in [
        "-m=x true",
        "-m/tmp true",
        "-fx true",
        "--nope true",
        "--nope=1 true",
        "--m true",
        "--m=x true",
        "--k true",
        "--fork=1 true",
        "--wd",
        "-R",
        "-fS",
        "--nope -h",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        let (ours, theirs) = both(&args);
        assert_eq!(ours.code, 1, "{line}: {}", ours.stderr);
        assert_like_unshare(&ours, &theirs, line);
    }
}
