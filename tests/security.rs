//! docs/SECURITY.md, rows that hold for every tool: no set-user-ID, set-group-ID
//! or file capabilities on a binary (bubblewrap CVE-2016-8659,
//! CVE-2020-5291), and a tool that finds itself set-user-ID fails closed.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::harness::{bin, have, root, run, tempdir, Ran, TOOLS};

/// Why `path` would run with more privilege than its caller's: the
/// set-user-ID or set-group-ID bit, or file capabilities; None if neither.
pub(crate) fn privileged(path: &Path) -> Option<String> {
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    if mode & 0o6000 != 0 {
        return Some(format!("{} has mode {:o}", path.display(), mode & 0o7777));
    }
    let cpath = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: both strings are NUL-terminated; a null buffer of size 0 only asks for the length.
    let size = unsafe {
        libc::getxattr(
            cpath.as_ptr(),
            c"security.capability".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    let errno = std::io::Error::last_os_error().raw_os_error();
    (size >= 0 || errno != Some(libc::ENODATA))
        .then(|| format!("{} has file capabilities", path.display()))
}

#[test]
fn the_privilege_check_sees_setuid_setgid_and_capabilities() {
    let test = "the_privilege_check_sees_setuid_setgid_and_capabilities";
    if !root(test) || !have(test, "setcap") {
        return;
    }
    let dir = tempdir("privileged");
    for (name, mode) in [("plain", "755"), ("setuid", "4755"), ("setgid", "2755")] {
        let copy = dir.path().join(name);
        let made = run(Command::new("install")
            .args(["-m", mode])
            .arg(bin("rlsns"))
            .arg(&copy));
        assert_eq!(made.code, 0, "{made:?}");
        assert_eq!(privileged(&copy).is_some(), name != "plain", "{name}");
    }
    let caps = dir.path().join("plain");
    let set = run(Command::new("setcap").arg("cap_net_admin+ep").arg(&caps));
    assert_eq!(set.code, 0, "{set:?}");
    assert_eq!(
        privileged(&caps),
        Some(format!("{} has file capabilities", caps.display()))
    );
}

#[test]
fn no_binary_is_setuid_setgid_or_has_file_capabilities() {
    // What the tests run, and every copy of a tool installed on PATH.
    let mut found = Vec::new();
    for (tool, _, _) in TOOLS {
        found.extend(privileged(&bin(tool)));
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let installed = dir.join(tool);
                if installed.is_file() {
                    found.extend(privileged(&installed));
                }
            }
        }
    }
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_setuid_copy_refuses_to_run() {
    if !root("a_setuid_copy_refuses_to_run") || !have("a_setuid_copy_refuses_to_run", "setpriv") {
        return;
    }
    let dir = tempdir("setuid_copy");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for (tool, code, _) in TOOLS {
        let copy = dir.path().join(tool);
        // Copied by a child process: a copy written here would be open for
        // writing in any child that another test thread forks meanwhile,
        // and exec'ing it would fail with ETXTBSY.
        let install = run(Command::new("install")
            .args(["-m", "4755"])
            .arg(bin(tool))
            .arg(&copy));
        assert_eq!(install.code, 0, "{install:?}");
        let ran = run(Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&copy)
            .arg("--help"));
        assert_eq!(ran.code, code, "{tool}: {ran:?}");
        assert_eq!(
            ran.stderr,
            format!("{tool}: refusing to run set-user-ID or set-group-ID\n")
        );
        assert_eq!(
            ran.stdout, "",
            "{tool} printed its help although set-user-ID"
        );
    }
}

/// The session (field 6 of /proc/self/stat) of the command `tool ARGS`
/// runs, printed by `sh -c`.
fn session_of(mut tool: Command) -> Ran {
    run(tool.args(["/bin/sh", "-c", "cut -d' ' -f6 /proc/self/stat"]))
}

#[test]
fn the_command_keeps_the_callers_session_like_the_anchors() {
    // bubblewrap CVE-2017-5226: a command in the caller's session shares
    // its controlling terminal, and TIOCSTI could push keystrokes into the
    // caller's shell. runshare, rchroot and rnsenter keep the session (and
    // so the terminal) as unshare, chroot and nsenter do: they are not
    // sandboxes for untrusted code; docs/SECURITY.md says so, and kernels
    // from 6.2 can refuse TIOCSTI (dev.tty.legacy_tiocsti=0).
    let test = "the_command_keeps_the_callers_session_like_the_anchors";
    if !root(test) || !have(test, "unshare") || !have(test, "chroot") || !have(test, "nsenter") {
        return;
    }
    let own = nix::unistd::getsid(None).unwrap().to_string();
    let me = std::process::id().to_string();
    let pairs: [(Command, Command); 3] = [
        (
            {
                let mut c = crate::harness::cmd("runshare");
                c.arg("-u");
                c
            },
            {
                let mut c = crate::harness::anchor("unshare");
                c.arg("-u");
                c
            },
        ),
        (
            {
                let mut c = crate::harness::cmd("rchroot");
                c.arg("/");
                c
            },
            {
                let mut c = crate::harness::anchor("chroot");
                c.arg("/");
                c
            },
        ),
        (
            {
                let mut c = crate::harness::cmd("rnsenter");
                c.args(["-t", &me, "-u"]);
                c
            },
            {
                let mut c = crate::harness::anchor("nsenter");
                c.args(["-t", &me, "-u"]);
                c
            },
        ),
    ];
    for (ours, theirs) in pairs {
        let what = format!("{ours:?}");
        let (ours, theirs) = (session_of(ours), session_of(theirs));
        assert_eq!(
            (ours.code, theirs.code),
            (0, 0),
            "{what}: {ours:?} {theirs:?}"
        );
        assert_eq!(ours.stdout, format!("{own}\n"), "{what}");
        assert_eq!(ours.stdout, theirs.stdout, "{what}");
    }
}

#[test]
fn pivot_mount_proc_masks_nothing_and_never_binds_dev_null() {
    // runc's masked paths and CVE-2025-31133 (a /dev/null swapped for a
    // link to a host procfs file, then bound over masked paths): rchroot
    // --pivot --mount-proc masks nothing, as unshare --mount-proc does; its
    // proc is plain, nosuid,nodev,noexec, and the root's /dev/null, here a
    // link to the host's core_pattern, is never opened nor bound.
    if !root("pivot_mount_proc_masks_nothing_and_never_binds_dev_null") {
        return;
    }
    let dir = tempdir("masking");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let installed = run(Command::new(bin("rchroot"))
        .arg("--install")
        .arg(dir.path())
        .arg("/bin/cat"));
    assert_eq!(installed.code, 0, "{installed:?}");
    std::fs::create_dir_all(dir.path().join("dev")).unwrap();
    std::fs::create_dir_all(dir.path().join("proc")).unwrap();
    std::os::unix::fs::symlink("/proc/sys/kernel/core_pattern", dir.path().join("dev/null"))
        .unwrap();
    let pattern = std::fs::read("/proc/sys/kernel/core_pattern").unwrap();
    let ran = crate::harness::run_in_own_mountns(
        crate::harness::cmd("rchroot")
            .args(["--pivot", "--mount-proc"])
            .arg(dir.path())
            .args(["/bin/cat", "/proc/self/mountinfo"]),
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    let mounts: Vec<(&str, &str)> = ran
        .stdout
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            Some((*f.get(4)?, *f.get(5)?))
        })
        .collect();
    assert_eq!(mounts.len(), 2, "{}", ran.stdout);
    assert_eq!(mounts[0].0, "/");
    assert_eq!(mounts[1].0, "/proc");
    for flag in ["nosuid", "nodev", "noexec"] {
        assert!(mounts[1].1.split(',').any(|f| f == flag), "{:?}", mounts[1]);
    }
    assert_eq!(
        std::fs::read("/proc/sys/kernel/core_pattern").unwrap(),
        pattern
    );
}

#[test]
fn proc_self_exe_entry_points_never_reach_runshare_or_rnsenter() {
    // runc CVE-2019-5736 for the two tools that exec into a root of the
    // caller's choosing (runshare -R, rnsenter -r): the root's /bin/sh is
    // `#!/proc/self/exe` and the host's /proc is there. The exec fails as it
    // does for unshare and nsenter, and the binary stays as it was.
    let test = "proc_self_exe_entry_points_never_reach_runshare_or_rnsenter";
    if !root(test) || !have(test, "unshare") {
        return;
    }
    crate::harness::in_mountns(|| {
        let dir = tempdir("cve_2019_5736_roots");
        let root_dir = dir.path().join("root");
        std::fs::create_dir_all(root_dir.join("bin")).unwrap();
        std::fs::create_dir_all(root_dir.join("proc")).unwrap();
        crate::harness::write_exe(&root_dir.join("bin/sh"), "#!/proc/self/exe\n");
        let bound = run(Command::new("mount")
            .args(["--rbind", "/proc"])
            .arg(root_dir.join("proc")));
        assert_eq!(bound.code, 0, "{bound:?}");
        // This thread (its private mount namespace holds the bind), by TID.
        let me = nix::unistd::gettid().to_string();
        let root_arg = format!("-r{}", root_dir.display());
        for (tool, args) in [
            (
                "runshare",
                vec!["-R", root_dir.to_str().unwrap(), "/bin/sh"],
            ),
            (
                "rnsenter",
                vec!["-t", me.as_str(), "-m", root_arg.as_str(), "/bin/sh"],
            ),
        ] {
            let before = std::fs::read(bin(tool)).unwrap();
            let ran = run(crate::harness::cmd(tool).args(&args));
            assert_eq!(
                (ran.code, ran.stderr.as_str()),
                (
                    127,
                    format!("{tool}: failed to execute /bin/sh: No such file or directory\n")
                        .as_str()
                ),
                "{tool}"
            );
            assert_eq!(std::fs::read(bin(tool)).unwrap(), before, "{tool} changed");
        }
        let theirs =
            run(Command::new("unshare").args(["-R", root_dir.to_str().unwrap(), "/bin/sh"]));
        assert_eq!(theirs.code, 127, "{theirs:?}");
        let unbound = run(Command::new("umount").arg("-R").arg(root_dir.join("proc")));
        assert_eq!(unbound.code, 0, "{unbound:?}");
    });
}
