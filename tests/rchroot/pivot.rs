//! rchroot --pivot: a root that cannot be climbed out of, what stays
//! mounted, and the docs/SECURITY.md cases (a swapped /proc, /dev as a link, our
//! binary behind /proc/self/exe).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{installed, new_root};
use crate::harness::{bin, cmd, mount_points, needs, needs_root, run, run_in_own_mountns, tempdir};

/// The host (this process's mount namespace) has no mount at or below
/// `path`; other tests' mounts elsewhere do not matter.
fn assert_no_mount_under(path: &Path) {
    let left: Vec<PathBuf> = mount_points()
        .into_iter()
        .filter(|p| p.starts_with(path))
        .collect();
    assert!(left.is_empty(), "left mounted: {left:?}");
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
    if !needs_root!() || !needs!("perl") {
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
    if !needs_root!() {
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
    if !needs_root!() {
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
    if !needs_root!() {
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
    if !needs_root!() {
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
fn proc_self_exe_entry_point_cannot_reach_the_binary() {
    if !needs_root!() {
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
fn mount_proc_never_follows_a_swapped_proc() {
    if !needs_root!() {
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
