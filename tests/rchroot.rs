//! rchroot against coreutils chroot, Lab 1 end to end, --install, --pivot
//! and the security cases of SECURITY.md that touch rchroot.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::harness::{
    anchor, bin, cmd, have, in_mountns, mount_points, root, run, run_in_own_mountns, tempdir,
    Process, Ran,
};

/// A temporary directory others may enter (the command may run as nobody).
fn new_root(test: &str) -> tempfile::TempDir {
    let dir = tempdir(test);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A new root holding `programs` and what they need, by `rchroot --install`.
fn installed(test: &str, programs: &[&str]) -> tempfile::TempDir {
    let dir = new_root(test);
    let ran = run(cmd("rchroot")
        .arg("--install")
        .arg(dir.path())
        .args(programs));
    assert_eq!(
        (ran.code, ran.stderr.as_str()),
        (0, ""),
        "--install {programs:?}"
    );
    dir
}

/// Runs rchroot and coreutils chroot with the same arguments.
fn both(args: &[&std::ffi::OsStr]) -> (Ran, Ran) {
    (
        run(cmd("rchroot").args(args)),
        run(anchor("chroot").args(args)),
    )
}

/// Both tools on `args` fail with `code` and the same one-line message
/// but for the tool's name; rchroot's result.
#[track_caller]
fn fails_like_chroot(args: &[&std::ffi::OsStr], code: i32) -> Ran {
    let (ours, theirs) = both(args);
    assert_eq!(ours.code, code, "{ours:?}");
    assert_eq!(theirs.code, code, "{theirs:?}");
    assert_eq!(ours.stderr, format!("r{}", theirs.stderr));
    assert_eq!(ours.stderr.lines().count(), 1);
    ours
}

/// The host (this process's mount namespace) has no mount at or below
/// `path`; other tests' mounts elsewhere do not matter.
fn assert_no_mount_under(path: &Path) {
    let left: Vec<PathBuf> = mount_points()
        .into_iter()
        .filter(|p| p.starts_with(path))
        .collect();
    assert!(left.is_empty(), "left mounted: {left:?}");
}

/// Every entry below `dir`: relative path, type, size, inode.
fn tree(dir: &Path) -> Vec<(PathBuf, u32, u64, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                todo.push(path.clone());
            }
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            out.push((rel, meta.mode() & 0o170000, meta.size(), meta.ino()));
        }
    }
    out.sort();
    out
}

/// What `ldd` says PROGRAM loads: the library names and the interpreter.
fn ldd(program: &str) -> (Vec<String>, String) {
    let out = run(Command::new("ldd").arg(program));
    assert_eq!(out.code, 0, "ldd {program}: {}", out.stderr);
    let mut libs = Vec::new();
    let mut interp = String::new();
    for line in out.stdout.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" => ") {
            libs.push(name.to_string());
        } else if line.starts_with('/') {
            interp = line.split_whitespace().next().unwrap().to_string();
        }
    }
    (libs, interp)
}

#[test]
fn missing_newroot_fails_like_chroot() {
    if !root("missing_newroot_fails_like_chroot") {
        return;
    }
    let dir = tempdir("missing_newroot");
    let missing = dir.path().join("nope");
    let ours = fails_like_chroot(&[missing.as_os_str(), "/bin/true".as_ref()], 125);
    assert_eq!(
        ours.stderr,
        format!(
            "rchroot: cannot change root directory to '{}': No such file or directory\n",
            missing.display()
        )
    );
}

#[test]
fn newroot_a_file_fails_like_chroot() {
    if !root("newroot_a_file_fails_like_chroot") {
        return;
    }
    let dir = tempdir("newroot_file");
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let ours = fails_like_chroot(&[file.as_os_str(), "/bin/true".as_ref()], 125);
    assert!(
        ours.stderr.ends_with(": Not a directory\n"),
        "{}",
        ours.stderr
    );
}

#[test]
fn missing_command_fails_like_chroot() {
    if !root("missing_command_fails_like_chroot") {
        return;
    }
    let dir = new_root("missing_command");
    let ours = fails_like_chroot(&[dir.path().as_os_str(), "/no-such-command".as_ref()], 127);
    assert_eq!(
        ours.stderr,
        "rchroot: failed to run command '/no-such-command': No such file or directory\n"
    );
}

#[test]
fn non_executable_command_fails_like_chroot() {
    if !root("non_executable_command_fails_like_chroot") {
        return;
    }
    let dir = new_root("non_executable");
    std::fs::write(dir.path().join("data"), "not a program\n").unwrap();
    let ours = fails_like_chroot(&[dir.path().as_os_str(), "/data".as_ref()], 126);
    assert_eq!(
        ours.stderr,
        "rchroot: failed to run command '/data': Permission denied\n"
    );
}

#[test]
fn unknown_user_fails_like_chroot() {
    if !root("unknown_user_fails_like_chroot") {
        return;
    }
    let dir = new_root("unknown_user");
    let spec = "--userspec=bxt-no-such-user:nogroup";
    let ours = fails_like_chroot(
        &[spec.as_ref(), dir.path().as_os_str(), "/bin/true".as_ref()],
        125,
    );
    assert_eq!(ours.stderr, "rchroot: invalid user\n");
}

#[test]
fn unknown_group_fails_like_chroot() {
    if !root("unknown_group_fails_like_chroot") {
        return;
    }
    let dir = new_root("unknown_group");
    let groups = "--groups=bxt-no-such-group";
    let ours = fails_like_chroot(
        &[
            groups.as_ref(),
            dir.path().as_os_str(),
            "/bin/true".as_ref(),
        ],
        125,
    );
    assert_eq!(ours.stderr, "rchroot: invalid group 'bxt-no-such-group'\n");
}

#[test]
fn default_command_is_shell_dash_i_like_chroot() {
    if !root("default_command_is_shell_dash_i_like_chroot") {
        return;
    }
    let dir = installed("default_command", &["/bin/true"]);
    // $SHELL -i: here /bin/true -i, which succeeds; a shell missing in
    // NEWROOT fails the same way in both.
    for shell in ["/bin/true", "/bin/bxt-no-such-shell"] {
        let ours = run(cmd("rchroot").env("SHELL", shell).arg(dir.path()));
        let theirs = run(anchor("chroot").env("SHELL", shell).arg(dir.path()));
        assert_eq!(ours.code, theirs.code, "SHELL={shell}");
        assert_eq!(ours.stderr.replace("rchroot", "chroot"), theirs.stderr);
    }
}

#[test]
fn lab1_names_what_is_missing_and_install_makes_it_work() {
    if !root("lab1_names_what_is_missing_and_install_makes_it_work") || !have("lab1", "ldd") {
        return;
    }
    // The notebook: mkdir -p newroot/{bin,lib64}; cp /bin/bash newroot/bin.
    let dir = new_root("lab1");
    let newroot = dir.path();
    std::fs::create_dir_all(newroot.join("bin")).unwrap();
    std::fs::create_dir_all(newroot.join("lib64")).unwrap();
    crate::harness::copy_exe(Path::new("/bin/bash"), &newroot.join("bin/bash"));
    let args = [
        newroot.as_os_str(),
        "/bin/bash".as_ref(),
        "-c".as_ref(),
        "echo works".as_ref(),
    ];

    let (ours, theirs) = both(&args);
    assert_eq!((ours.code, theirs.code), (127, 127), "{ours:?}");
    let (libs, interp) = ldd("/bin/bash");
    let expected = format!(
        "rchroot: failed to run command '/bin/bash': No such file or directory \
         (missing in NEWROOT: {interp}, {})\n",
        libs.join(", ")
    );
    assert_eq!(ours.stderr, expected);

    let install = run(cmd("rchroot")
        .arg("--install")
        .arg(newroot)
        .arg("/bin/bash"));
    assert_eq!((install.code, install.stderr.as_str()), (0, ""));
    let ran = run(cmd("rchroot").args(args));
    assert_eq!((ran.code, ran.stdout.as_str()), (0, "works\n"), "{ran:?}");

    // ls was never copied: not found, as with chroot, and nothing to explain.
    let ls = [newroot.as_os_str(), "/bin/ls".as_ref(), "/".as_ref()];
    fails_like_chroot(&ls, 127);
    let install = run(cmd("rchroot").arg("--install").arg(newroot).arg("/bin/ls"));
    assert_eq!((install.code, install.stderr.as_str()), (0, ""));
    let (ours, theirs) = both(&ls);
    assert_eq!((ours.code, theirs.code), (0, 0), "{ours:?}");
    assert_eq!(ours.stdout, theirs.stdout);
    assert!(ours.stdout.lines().any(|l| l == "bin"), "{}", ours.stdout);
}

#[test]
fn install_keeps_paths_and_symlinks() {
    if !root("install_keeps_paths_and_symlinks") || !have("install_keeps", "ldd") {
        return;
    }
    let dir = installed("install_keeps", &["ls"]);
    let (libs, interp) = ldd("/bin/ls");
    let ldd_out = run(Command::new("ldd").arg("/bin/ls")).stdout;
    let mut paths: Vec<PathBuf> = ldd_out
        .lines()
        .filter_map(|l| l.split(" => ").nth(1))
        .filter_map(|r| r.split_whitespace().next())
        .map(PathBuf::from)
        .collect();
    assert_eq!(paths.len(), libs.len());
    paths.push(interp.into());
    paths.push(
        run(Command::new("sh").args(["-c", "command -v ls"]))
            .stdout
            .trim()
            .into(),
    );
    for host in &paths {
        let inside = dir.path().join(host.strip_prefix("/").unwrap());
        let (h, i) = (
            std::fs::symlink_metadata(host).unwrap(),
            std::fs::symlink_metadata(&inside)
                .unwrap_or_else(|e| panic!("{}: {e}", inside.display())),
        );
        assert_eq!(
            h.file_type().is_symlink(),
            i.file_type().is_symlink(),
            "{}",
            host.display()
        );
        if h.file_type().is_symlink() {
            assert_eq!(
                std::fs::read_link(host).unwrap(),
                std::fs::read_link(&inside).unwrap()
            );
        }
        assert_eq!(
            std::fs::read(host).unwrap(),
            std::fs::read(&inside).unwrap()
        );
    }
}

#[test]
fn install_twice_changes_nothing() {
    if !root("install_twice_changes_nothing") {
        return;
    }
    let dir = installed("install_twice", &["/bin/sh", "/bin/ls"]);
    let before = tree(dir.path());
    let again = run(cmd("rchroot")
        .arg("--install")
        .arg(dir.path())
        .args(["/bin/sh", "/bin/ls"]));
    assert_eq!((again.code, again.stderr.as_str()), (0, ""));
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn install_of_a_missing_program_changes_nothing() {
    if !root("install_of_a_missing_program_changes_nothing") {
        return;
    }
    let dir = new_root("install_missing");
    for (program, why) in [
        ("bxt-no-such-program", "command not found in PATH"),
        ("/bxt/no/such/program", "No such file or directory"),
    ] {
        let ran = run(cmd("rchroot")
            .arg("--install")
            .arg(dir.path())
            .args(["/bin/sh", program]));
        assert_eq!(ran.code, 125);
        assert_eq!(
            ran.stderr,
            format!("rchroot: cannot install '{program}': {why}\n")
        );
        assert!(tree(dir.path()).is_empty());
    }
}

#[test]
fn install_into_a_read_only_root_changes_nothing() {
    if !root("install_into_a_read_only_root_changes_nothing") {
        return;
    }
    let dir = new_root("install_ro");
    let newroot = dir.path().to_path_buf();
    let ran = in_mountns(move || {
        let ro = run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", "ro,mode=755", "bxt-ro"])
            .arg(&newroot));
        assert_eq!(ro.code, 0, "{}", ro.stderr);
        let ran = run(cmd("rchroot").arg("--install").arg(&newroot).arg("/bin/ls"));
        assert!(tree(&newroot).is_empty());
        ran
    });
    assert_eq!(ran.code, 125);
    assert_eq!(ran.stderr.lines().count(), 1);
    assert!(
        ran.stderr.starts_with("rchroot: cannot create '"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.ends_with("': Read-only file system\n"),
        "{}",
        ran.stderr
    );
}

#[test]
fn install_failing_half_way_removes_what_it_copied() {
    if !root("install_failing_half_way_removes_what_it_copied") {
        return;
    }
    // usr/lib as a file: the program and its links get copied, then the
    // libraries' directory cannot be made.
    let dir = new_root("install_rollback");
    std::fs::create_dir(dir.path().join("usr")).unwrap();
    std::fs::write(dir.path().join("usr/lib"), "in the way\n").unwrap();
    let before = tree(dir.path());
    let ran = run(cmd("rchroot")
        .arg("--install")
        .arg(dir.path())
        .arg("/usr/bin/id"));
    assert_eq!(ran.code, 125, "{ran:?}");
    assert_eq!(ran.stderr.lines().count(), 1);
    assert!(
        ran.stderr
            .starts_with("rchroot: cannot install '/usr/lib': '"),
        "{}",
        ran.stderr
    );
    assert_eq!(tree(dir.path()), before);
}

/// `id ARG` run as `spec` by rchroot and by chroot, in a root holding id.
fn id_as(test: &str, spec: &[&str], arg: &str) -> (Ran, Ran) {
    let dir = installed(test, &["/usr/bin/id"]);
    let mut args: Vec<&std::ffi::OsStr> = spec.iter().map(|s| s.as_ref()).collect();
    args.extend([dir.path().as_os_str(), "/usr/bin/id".as_ref(), arg.as_ref()]);
    both(&args)
}

#[test]
fn userspec_sets_uid_and_gid() {
    if !root("userspec_sets_uid_and_gid") {
        return;
    }
    for (arg, want) in [("-u", "65534\n"), ("-g", "65533\n")] {
        let (ours, theirs) = id_as("userspec", &["--user=65534:65533"], arg);
        assert_eq!((ours.code, ours.stdout.as_str()), (0, want), "{ours:?}");
        assert_eq!(ours, theirs);
    }
}

#[test]
fn groups_sets_supplementary_groups() {
    if !root("groups_sets_supplementary_groups") {
        return;
    }
    let (ours, theirs) = id_as(
        "groups",
        &["--userspec=65534:65534", "--groups=12,+4321"],
        "-G",
    );
    assert_eq!(ours.code, 0, "{ours:?}");
    let mut groups: Vec<&str> = ours.stdout.split_whitespace().collect();
    groups.sort();
    assert_eq!(groups, ["12", "4321", "65534"]);
    assert_eq!(ours, theirs);
}

/// The classic chroot escape, in perl (only built-ins: no modules needed):
/// mkdir x; chroot x; chdir .. many times; chroot . — then is NEWROOT's
/// marker still at /?
const ESCAPE: &str = r#"mkdir "/x"; chroot "/x" or die "chroot: $!\n";
chdir ".." for 1..64; chroot "." or die "chroot .: $!\n";
print -e "/bxt-marker" ? "jailed\n" : "escaped\n";
"#;

#[test]
fn pivot_cannot_be_escaped_but_chroot_can() {
    if !root("pivot_cannot_be_escaped_but_chroot_can") || !have("pivot_escape", "perl") {
        return;
    }
    let dir = installed("pivot_escape", &["perl"]);
    std::fs::write(dir.path().join("bxt-marker"), "").unwrap();
    std::fs::write(dir.path().join("probe.pl"), ESCAPE).unwrap();
    let perl = run(Command::new("sh").args(["-c", "command -v perl"])).stdout;
    let probe = [perl.trim(), "/probe.pl"];
    let plain = run(cmd("rchroot").arg(dir.path()).args(probe));
    assert_eq!(
        (plain.code, plain.stdout.as_str()),
        (0, "escaped\n"),
        "{plain:?}"
    );
    std::fs::remove_dir(dir.path().join("x")).unwrap();
    let pivoted = run_in_own_mountns(cmd("rchroot").arg("--pivot").arg(dir.path()).args(probe));
    assert_eq!(
        (pivoted.code, pivoted.stdout.as_str()),
        (0, "jailed\n"),
        "{pivoted:?}"
    );
    assert_no_mount_under(dir.path());
}

#[test]
fn pivot_leaves_only_newroot_and_proc_mounted() {
    if !root("pivot_leaves_only_newroot_and_proc_mounted") {
        return;
    }
    let dir = installed("pivot_mounts", &["/bin/cat"]);
    std::fs::create_dir(dir.path().join("proc")).unwrap();
    let ran = run_in_own_mountns(
        cmd("rchroot")
            .args(["--pivot", "--mount-proc"])
            .arg(dir.path())
            .args(["/bin/cat", "/proc/self/mountinfo"]),
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    let points: Vec<&str> = ran
        .stdout
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .collect();
    assert_eq!(points, ["/", "/proc"]);
    assert_no_mount_under(dir.path());
}

#[test]
fn pivot_refuses_the_old_root() {
    if !root("pivot_refuses_the_old_root") {
        return;
    }
    let on_root = || {
        mount_points()
            .iter()
            .filter(|p| *p == Path::new("/"))
            .count()
    };
    let before = on_root();
    let ran = run_in_own_mountns(cmd("rchroot").args(["--pivot", "/", "/bin/true"]));
    assert_eq!(ran.code, 125);
    assert_eq!(
        ran.stderr,
        "rchroot: --pivot needs a NEWROOT other than '/'\n"
    );
    assert_eq!(on_root(), before);
}

#[test]
fn pivot_mount_proc_refuses_a_proc_symlink() {
    if !root("pivot_mount_proc_refuses_a_proc_symlink") {
        return;
    }
    let dir = installed("proc_symlink", &["/bin/true"]);
    std::os::unix::fs::symlink("/proc", dir.path().join("proc")).unwrap();
    let ran = run_in_own_mountns(
        cmd("rchroot")
            .args(["--pivot", "--mount-proc"])
            .arg(dir.path())
            .arg("/bin/true"),
    );
    assert_eq!(ran.code, 125);
    assert_eq!(
        ran.stderr,
        format!(
            "rchroot: cannot mount proc on '{}/proc': must be a directory\n",
            dir.path().display()
        )
    );
    assert_no_mount_under(dir.path());
}

#[test]
fn pivot_with_a_dev_symlink_stays_in_root() {
    if !root("pivot_with_a_dev_symlink_stays_in_root") {
        return;
    }
    let victim = tempdir("dev_victim");
    let dir = installed("dev_symlink", &["/bin/sh", "/bin/mkdir"]);
    std::os::unix::fs::symlink(victim.path(), dir.path().join("dev")).unwrap();
    let ran = run_in_own_mountns(
        cmd("rchroot")
            .arg("--pivot")
            .arg(dir.path())
            .args([
                "/bin/sh",
                "-c",
                r#"/bin/mkdir -p "$0" && : > /dev/ptmx && echo done"#,
            ])
            .arg(victim.path()),
    );
    assert_eq!((ran.code, ran.stdout.as_str()), (0, "done\n"), "{ran:?}");
    assert!(std::fs::read_dir(victim.path()).unwrap().next().is_none());
    // The link was followed inside NEWROOT.
    let inside = dir.path().join(victim.path().strip_prefix("/").unwrap());
    assert!(inside.join("ptmx").exists());
}

#[test]
fn command_gets_only_fds_0_1_2_and_cwd_in_root() {
    if !root("command_gets_only_fds_0_1_2_and_cwd_in_root") {
        return;
    }
    let dir = installed("fds", &["/bin/sleep"]);
    for mode in [&[][..], &["--pivot"][..]] {
        // Started by a shell that leaves descriptors 7 and 8 open to it.
        let mut sleeper = Process::sleeping(
            Command::new("bash")
                .args(["-c", r#"exec 7</dev/null 8<&7; exec "$0" "$@""#])
                .arg(bin("rchroot"))
                .args(mode)
                .arg(dir.path())
                .args(["/bin/sleep", "60"]),
            false,
        );
        let proc_dir = PathBuf::from(format!("/proc/{}", sleeper.pid));
        let exe = std::fs::read_link(proc_dir.join("exe")).unwrap_or_default();
        let mut fds: Vec<String> = std::fs::read_dir(proc_dir.join("fd"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        fds.sort();
        let cwd = std::fs::read_link(proc_dir.join("cwd")).unwrap();
        sleeper.outer.kill().unwrap();
        drop(sleeper);
        assert!(exe.ends_with("sleep"), "{mode:?}: {}", exe.display());
        assert_eq!(fds, ["0", "1", "2"], "{mode:?}");
        if mode.is_empty() {
            // chroot(2) moved the root; the working directory followed.
            assert_eq!(cwd, dir.path(), "{mode:?}");
        } else {
            // After pivot_root the root is no longer a path of the host.
            assert_eq!(cwd, Path::new("/"), "{mode:?}");
        }
    }
}

#[test]
fn proc_self_exe_entry_point_cannot_reach_the_binary() {
    if !root("proc_self_exe_entry_point_cannot_reach_the_binary") {
        return;
    }
    // runc CVE-2019-5736: /bin/sh is `#!/proc/self/exe`, so exec'ing it
    // would run our binary inside NEWROOT, open to the root user there.
    let tools = new_root("cve_2019_5736_bin");
    let copy = tools.path().join("rchroot");
    crate::harness::copy_exe(&bin("rchroot"), &copy);
    let original = std::fs::read(&copy).unwrap();
    let dir = new_root("cve_2019_5736");
    std::fs::create_dir_all(dir.path().join("bin")).unwrap();
    std::fs::create_dir(dir.path().join("proc")).unwrap();
    std::fs::write(dir.path().join("bin/sh"), "#!/proc/self/exe\n").unwrap();
    std::fs::set_permissions(
        dir.path().join("bin/sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let ran = run_in_own_mountns(
        Command::new(&copy)
            .env("LC_ALL", "C")
            .args(["--pivot", "--mount-proc"])
            .arg(dir.path())
            .arg("/bin/sh"),
    );
    assert_eq!(ran.code, 126, "{ran:?}");
    assert_eq!(
        ran.stderr,
        "rchroot: failed to run command '/bin/sh': refusing to run rchroot's own binary \
         inside NEWROOT (via '/proc/self/exe')\n"
    );
    assert_eq!(std::fs::read(&copy).unwrap(), original);
}

#[test]
fn install_brings_a_changed_copy_up_to_date() {
    if !root("install_brings_a_changed_copy_up_to_date") {
        return;
    }
    let dir = installed("install_update", &["/bin/ls"]);
    let copy = dir.path().join("bin/ls");
    std::fs::write(&copy, "stale\n").unwrap();
    let again = run(cmd("rchroot")
        .arg("--install")
        .arg(dir.path())
        .arg("/bin/ls"));
    assert_eq!((again.code, again.stderr.as_str()), (0, ""));
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read("/bin/ls").unwrap()
    );
    let leftovers: Vec<_> = tree(dir.path())
        .into_iter()
        .filter(|(p, ..)| p.to_string_lossy().contains(".rchroot-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn mount_proc_never_follows_a_swapped_proc() {
    if !root("mount_proc_never_follows_a_swapped_proc") {
        return;
    }
    // runc CVE-2021-30465: NEWROOT/proc keeps changing between a directory
    // and a link to a host directory while rchroot mounts proc on it.
    let victim = tempdir("proc_victim");
    let dir = installed("proc_swap", &["/bin/cat"]);
    let (proc_dir, link) = (dir.path().join("proc"), dir.path().join("proc-link"));
    std::fs::create_dir(&proc_dir).unwrap();
    std::os::unix::fs::symlink(victim.path(), &link).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Stops the swapping on every way out, a failed assertion included.
    struct Stop(std::sync::Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let _stop = Stop(stop.clone());
    let swapper = {
        let (stop, a, b) = (stop.clone(), proc_dir.clone(), link.clone());
        std::thread::spawn(move || {
            let cwd = nix::fcntl::AT_FDCWD;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                nix::fcntl::renameat2(cwd, &a, cwd, &b, nix::fcntl::RenameFlags::RENAME_EXCHANGE)
                    .unwrap();
            }
        })
    };
    let mut outcomes = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let ran = run_in_own_mountns(
            cmd("rchroot")
                .args(["--pivot", "--mount-proc"])
                .arg(dir.path())
                .args(["/bin/cat", "/proc/self/mountinfo"]),
        );
        if ran.code == 0 {
            // Whatever the name the directory has by now, proc is on it,
            // inside NEWROOT.
            let points: Vec<&str> = ran
                .stdout
                .lines()
                .filter_map(|l| l.split(' ').nth(4))
                .collect();
            assert_eq!(points.len(), 2, "{}", ran.stdout);
            assert_eq!(points[0], "/");
            assert!(["/proc", "/proc-link"].contains(&points[1]), "{points:?}");
        } else if ran.code == 125 {
            assert!(ran.stderr.ends_with(": must be a directory\n"), "{ran:?}");
        } else if ran.code == 1 {
            // proc went on the directory under its other name: cat finds
            // no /proc/self inside (the link's target is not in NEWROOT).
            assert_eq!(
                ran.stderr,
                "/bin/cat: /proc/self/mountinfo: No such file or directory\n"
            );
        }
        outcomes.insert(ran.code);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(std::fs::read_dir(victim.path()).unwrap().next().is_none());
    assert_no_mount_under(dir.path());
    assert_no_mount_under(victim.path());
    assert!(
        outcomes.iter().all(|c| [0, 1, 125].contains(c)),
        "{outcomes:?}"
    );
}

#[test]
fn command_status_passes_through_like_chroot() {
    if !root("command_status_passes_through_like_chroot") {
        return;
    }
    let dir = installed("status", &["/bin/sh"]);
    let args = [
        dir.path().as_os_str(),
        "/bin/sh".as_ref(),
        "-c".as_ref(),
        "kill -TERM $$; exit 7".as_ref(),
    ];
    let (ours, theirs) = both(&args);
    assert_eq!(ours.code, 128 + libc::SIGTERM, "{ours:?}");
    assert_eq!(ours, theirs);
    let args = [
        dir.path().as_os_str(),
        "/bin/sh".as_ref(),
        "-c".as_ref(),
        "exit 7".as_ref(),
    ];
    let (ours, theirs) = both(&args);
    assert_eq!(ours.code, 7, "{ours:?}");
    assert_eq!(ours, theirs);
}

#[test]
fn scripts_name_a_missing_interpreter_and_install_brings_it() {
    if !root("scripts_name_a_missing_interpreter_and_install_brings_it") {
        return;
    }
    let dir = new_root("script");
    let script = dir.path().join("hello.sh");
    crate::harness::write_exe(&script, "#!/bin/sh\necho hello from a script\n");
    let args = [dir.path().as_os_str(), "/hello.sh".as_ref()];
    let (ours, theirs) = both(&args);
    assert_eq!((ours.code, theirs.code), (127, 127));
    assert_eq!(
        ours.stderr,
        "rchroot: failed to run command '/hello.sh': No such file or directory \
         (missing in NEWROOT: /bin/sh)\n"
    );
    // Installing the script brings its interpreter along (the script lands
    // at its own host path inside NEWROOT).
    let install = run(cmd("rchroot").arg("--install").arg(dir.path()).arg(&script));
    assert_eq!((install.code, install.stderr.as_str()), (0, ""));
    let ran = run(cmd("rchroot").args(args));
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (0, "hello from a script\n"),
        "{ran:?}"
    );
}

#[test]
fn install_killed_anywhere_is_finished_by_the_next_run() {
    if !root("install_killed_anywhere_is_finished_by_the_next_run") {
        return;
    }
    let programs = ["/bin/sh", "/bin/ls"];
    let reference = installed("install_reference", &programs);
    let shape = |dir: &Path| -> Vec<(PathBuf, u32, u64)> {
        tree(dir)
            .into_iter()
            .map(|(p, kind, size, _)| (p, kind, size))
            .collect()
    };
    let dir = new_root("install_killed");
    // SIGKILL at spread-out moments of the copy; no undo runs then.
    for i in 0..30u64 {
        let mut child = crate::harness::Spawned::new(
            cmd("rchroot")
                .arg("--install")
                .arg(dir.path())
                .args(programs)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        std::thread::sleep(std::time::Duration::from_micros(i * 300));
        let _ = child.kill();
        child.wait().unwrap();
        // Every replaced file is back in place by the next complete run.
        if i % 10 == 9 {
            let again = run(cmd("rchroot")
                .arg("--install")
                .arg(dir.path())
                .args(programs));
            assert_eq!((again.code, again.stderr.as_str()), (0, ""));
            assert_eq!(shape(dir.path()), shape(reference.path()));
        }
    }
}

/// Both tools on `args`: the same exit code and output, and stderr the same
/// but for the tool's name.
fn assert_same_as_chroot(args: &[&std::ffi::OsStr]) -> Ran {
    let (ours, theirs) = both(args);
    assert_eq!(
        (
            ours.code,
            &ours.stdout,
            ours.stderr.replace("rchroot", "chroot")
        ),
        (theirs.code, &theirs.stdout, theirs.stderr.clone()),
        "{args:?}"
    );
    ours
}

#[test]
fn usage_errors_are_worded_like_chroot() {
    if !have("usage_errors_are_worded_like_chroot", "chroot") {
        return;
    }
    let dir = new_root("usage_errors");
    let d = dir.path().as_os_str();
    let cases: [&[&std::ffi::OsStr]; 8] = [
        &[],
        &["--bxt-nope".as_ref()],
        &["--bxt-nope=1".as_ref(), d],
        &["-x".as_ref(), d],
        &["--userspec".as_ref()],
        &["--user=".as_ref()],
        &["--skip-chdir".as_ref(), d, "true".as_ref()],
        &["--skip-chdir=1".as_ref(), "/".as_ref(), "true".as_ref()],
    ];
    for args in cases {
        let ours = assert_same_as_chroot(args);
        assert_eq!(ours.code, 125);
        assert_eq!(ours.stderr.lines().count(), 2, "{args:?}: {}", ours.stderr);
        assert!(ours
            .stderr
            .ends_with("\nTry 'rchroot --help' for more information.\n"));
    }
}

#[test]
fn options_end_at_newroot_like_chroot() {
    if !root("options_end_at_newroot_like_chroot") || !have("options_end", "chroot") {
        return;
    }
    let dir = installed("options_end", &["/bin/echo"]);
    let d = dir.path().as_os_str();
    // What follows NEWROOT is the command, even when it looks like an option.
    for word in ["--help", "--version", "--", "-l", "--userspec=nobody"] {
        let ours = assert_same_as_chroot(&[d, word.as_ref(), "/bin/echo".as_ref()]);
        assert_eq!(ours.code, 127, "{word}");
        assert_eq!(
            ours.stderr,
            format!("rchroot: failed to run command '{word}': No such file or directory\n")
        );
    }
    let ours = assert_same_as_chroot(&[
        "--user".as_ref(),
        "0".as_ref(),
        d,
        "/bin/echo".as_ref(),
        "-n".as_ref(),
        "--groups=x".as_ref(),
    ]);
    assert_eq!((ours.code, ours.stdout.as_str()), (0, "--groups=x"));
    // An option's value is taken whatever it looks like: here a user name.
    let ours = assert_same_as_chroot(&[
        "--userspec".as_ref(),
        "--groups=0".as_ref(),
        d,
        "/bin/echo".as_ref(),
    ]);
    assert_eq!(
        (ours.code, ours.stderr.as_str()),
        (125, "rchroot: invalid user\n")
    );
}

#[test]
fn every_invalid_group_and_user_dot_group_like_chroot() {
    if !root("every_invalid_group_and_user_dot_group_like_chroot") || !have("dot_group", "chroot") {
        return;
    }
    let dir = installed("dot_group", &["/bin/id"]);
    let d = dir.path().as_os_str();
    let ours = assert_same_as_chroot(&[
        "--groups=bxt-no-a,0,bxt-no-b".as_ref(),
        d,
        "/bin/id".as_ref(),
    ]);
    assert_eq!(ours.code, 125);
    assert_eq!(
        ours.stderr,
        "rchroot: invalid group 'bxt-no-a'\nrchroot: invalid group 'bxt-no-b'\n"
    );
    // The old USER.GROUP form works, with a warning.
    let ours = assert_same_as_chroot(&["--userspec=nobody.0".as_ref(), d, "/bin/id".as_ref()]);
    assert_eq!(ours.code, 0);
    assert_eq!(ours.stderr, "rchroot: warning: '.' should be ':'\n");
    assert!(ours.stdout.starts_with("uid=65534"), "{}", ours.stdout);
}

#[test]
fn usage_errors_are_worded_as_chroot_words_them() {
    if !have("usage_errors_are_worded_as_chroot_words_them", "chroot") {
        return;
    }
    for args in [
        &["--nope", "/"][..],
        &["--u"],
        &["--groups"],
        &["--skip-chdir=1", "/"],
        &["-x", "/"],
        &["-h"],
        &["-V"],
    ] {
        crate::harness::same_usage_error("rchroot", "chroot", args);
    }
}

#[test]
fn the_last_userspec_counts() {
    if !root("the_last_userspec_counts") {
        return;
    }
    let args = ["--userspec=nobody", "--userspec", "0:0", "/", "id", "-u"];
    let ours = run(cmd("rchroot").args(args));
    let theirs = run(anchor("chroot").args(args));
    assert_eq!((ours.code, ours.stdout.as_str()), (0, "0\n"));
    assert_eq!((ours.code, &ours.stdout), (theirs.code, &theirs.stdout));
}
