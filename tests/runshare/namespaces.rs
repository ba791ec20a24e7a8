//! runshare against unshare on each namespace kind of the labs (pid, uts, ipc,
//! mount, user) and on namespaces kept by bind mounts.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::{as_nobody, as_nobody_possible, both, says_like_unshare, sh, tmpfs_on};
use crate::harness::{
    anchor, cmd, in_mountns, needs, needs_root, run, tempdir, test_name, Mounted,
};

#[test]
fn pid_namespace_makes_the_command_pid_1_like_unshare() {
    if !needs_root!() {
        return;
    }
    let (ours, theirs) = both(&["-fp", "--mount-proc", "ps", "-eo", "pid,comm"]);
    assert_eq!(ours.stdout, "    PID COMMAND\n      1 ps\n");
    assert_eq!(ours, theirs);
}

#[test]
fn without_pid_namespace_host_processes_show() {
    if !needs_root!() {
        return;
    }
    let me = std::process::id().to_string();
    let (ours, theirs) = both(&["-f", "--mount-proc", "ps", "-eo", "pid="]);
    for ran in [&ours, &theirs] {
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        assert!(ran.stdout.lines().any(|l| l.trim() == me), "{}", ran.stdout);
    }
}

#[test]
fn uts_namespace_keeps_the_host_hostname() {
    if !needs_root!() {
        return;
    }
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host_ns = std::fs::read_link("/proc/thread-self/ns/uts").unwrap();
    let script = "hostname bxt-uts && hostname && readlink /proc/self/ns/uts";
    let (ours, theirs) = both(&["-u", "sh", "-c", script]);
    let lines: Vec<&str> = ours.stdout.lines().collect();
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(lines[0], "bxt-uts");
    assert_ne!(Path::new(lines[1]), host_ns);
    assert_eq!(theirs.stdout.lines().next(), Some("bxt-uts"));
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        host_name
    );
}

/// A SysV shared memory segment of the host, removed on drop.
struct Segment(i32);

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: IPC_RMID takes no buffer.
        unsafe { libc::shmctl(self.0, libc::IPC_RMID, std::ptr::null_mut()) };
    }
}

#[test]
fn ipc_namespace_hides_segments_both_ways() {
    if !needs_root!() || !needs!("ipcs") {
        return;
    }
    let key = 0x6278_0000 | (std::process::id() as i32 & 0xffff);
    // SAFETY: shmget takes only integers.
    let id = unsafe { libc::shmget(key, 4096, libc::IPC_CREAT | libc::IPC_EXCL | 0o600) };
    assert!(id >= 0, "shmget: {}", std::io::Error::last_os_error());
    let _segment = Segment(id);
    let host_key = format!("0x{key:08x}");
    assert!(run(anchor("ipcs").arg("-m")).stdout.contains(&host_key));

    let inside = run(cmd("runshare").args([
        "-i",
        "sh",
        "-c",
        "ipcs -m; ipcmk -M 4096 >/dev/null && ipcs -m",
    ]));
    assert_eq!(inside.code, 0, "{}", inside.stderr);
    assert!(!inside.stdout.contains(&host_key), "{}", inside.stdout);
    let made: Vec<&str> = inside
        .stdout
        .lines()
        .filter(|l| l.starts_with("0x"))
        .collect();
    assert_eq!(made.len(), 1, "{}", inside.stdout);
    let inner_key = made[0].split_whitespace().next().unwrap();
    // The host's listing still shows the host's segment: a failed ipcs
    // cannot pass for a hidden one.
    let after = run(anchor("ipcs").arg("-m"));
    assert!(
        after.code == 0 && after.stdout.contains(&host_key) && !after.stdout.contains(inner_key),
        "{after:?}"
    );
}

#[test]
fn mount_namespace_differs_from_the_callers() {
    if !needs_root!() {
        return;
    }
    let mine = std::fs::read_link("/proc/thread-self/ns/mnt").unwrap();
    let (ours, theirs) = both(&["-m", "readlink", "/proc/self/ns/mnt"]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_ne!(Path::new(ours.stdout.trim()), mine);
    assert_ne!(Path::new(theirs.stdout.trim()), mine);
}

#[test]
fn ordinary_user_maps_root_and_stays_itself_on_the_host() {
    if !as_nobody_possible(test_name!()) {
        return;
    }
    let dir = tempdir("lab15");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let made = dir.path().join("made");
    let ran = run(&mut as_nobody(
        &[],
        &[
            "-U",
            "--map-root-user",
            "sh",
            "-c",
            &format!(
                "id -u && touch {} && readlink /proc/self/ns/user",
                made.display()
            ),
        ],
    ));
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!((ran.code, lines[0]), (0, "0"), "{}", ran.stderr);
    let host_ns = std::fs::read_link("/proc/thread-self/ns/user").unwrap();
    assert_ne!(Path::new(lines[1]), host_ns);
    assert_eq!(std::fs::metadata(&made).unwrap().uid(), 65534);
}

#[test]
fn setgroups_is_denied_so_a_group_cannot_be_dropped() {
    // CVE-2014-8989: a file root:G 0604 must stay unreadable to a member of G.
    if !as_nobody_possible(test_name!()) {
        return;
    }
    let group = 40000 + std::process::id() % 20000;
    let dir = tempdir("setgroups");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "secret\n").unwrap();
    std::os::unix::fs::chown(&file, Some(0), Some(group)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
    let file = file.to_str().unwrap();

    let cat = run(&mut as_nobody(
        &[group],
        &["-U", "--map-root-user", "cat", file],
    ));
    assert_eq!(cat.code, 1);
    assert_eq!(cat.stderr, format!("cat: {file}: Permission denied\n"));
    let state = run(&mut as_nobody(
        &[group],
        &["-U", "--map-root-user", "cat", "/proc/self/setgroups"],
    ));
    assert_eq!(state.stdout, "deny\n", "{}", state.stderr);
    let drop = run(&mut as_nobody(
        &[group],
        &[
            "-U",
            "--map-root-user",
            "setpriv",
            "--clear-groups",
            "cat",
            file,
        ],
    ));
    assert_ne!(drop.code, 0);
    assert!(
        drop.stderr.contains("Operation not permitted"),
        "{}",
        drop.stderr
    );
    assert!(!drop.stdout.contains("secret"));
}

#[test]
fn setgroups_allow_with_a_group_map_is_refused_like_unshare() {
    let (ours, _) = says_like_unshare(
        &["-r", "--setgroups", "allow", "true"],
        "runshare: options --setgroups=allow and --map-group are mutually exclusive\n",
    );
    assert_eq!(ours.code, 1);
}

#[test]
fn persistent_uts_namespace_is_entered_by_nsenter() {
    if !needs_root!() || !needs!("nsenter") {
        return;
    }
    let dir = tempdir("persist-uts");
    let file = dir.path().join("uts");
    std::fs::write(&file, "").unwrap();
    let (made, seen) = in_mountns(move || {
        let made = run(cmd("runshare")
            .arg(format!("--uts={}", file.display()))
            .args(["hostname", "bxt-kept"]));
        let _bound = Mounted(file.clone());
        let seen = run(anchor("nsenter")
            .arg(format!("--uts={}", file.display()))
            .arg("hostname"));
        (made, seen)
    });
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(seen.stdout, "bxt-kept\n", "{}", seen.stderr);
}

#[test]
fn persistent_mount_namespace_needs_a_private_mount() {
    if !needs_root!() {
        return;
    }
    let dir = tempdir("persist-mnt");
    let base = dir.path().to_path_buf();
    let (shared, private, entered, before, after) = in_mountns(move || {
        let _tmpfs = tmpfs_on(&base);
        nix::mount::mount(
            None::<&str>,
            &base,
            None::<&str>,
            nix::mount::MsFlags::MS_SHARED,
            None::<&str>,
        )
        .unwrap();
        let file = base.join("mnt");
        std::fs::write(&file, "").unwrap();
        let mounts = || std::fs::read_to_string("/proc/thread-self/mountinfo").unwrap();
        let before = mounts();
        let arg = format!("--mount={}", file.display());
        let shared = run(cmd("runshare").args([arg.as_str(), "true"]));
        let after = mounts();
        nix::mount::mount(
            None::<&str>,
            &base,
            None::<&str>,
            nix::mount::MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .unwrap();
        // Linux 6.18 numbers namespaces per CPU: start runshare on each CPU
        // in turn (then let it run anywhere) so that a namespace numbered
        // below ours is met; every bind must still succeed.
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        for i in 0..2 * cpus {
            let ran = sh(&format!(
                "taskset -c {} sh -c 'taskset -pc 0-{} $$ >/dev/null; exec \"$R\" {arg} true' \
                 && umount {}",
                i % cpus,
                cpus - 1,
                file.display()
            ));
            assert_eq!(ran.code, 0, "start on cpu {}: {}", i % cpus, ran.stderr);
        }
        let private = run(cmd("runshare").args([arg.as_str(), "true"]));
        let _bound = Mounted(file.clone());
        let entered = run(anchor("nsenter")
            .arg(&arg)
            .args(["readlink", "/proc/self/ns/mnt"]));
        (shared, private, entered, before, after)
    });
    assert_eq!(shared.code, 1);
    assert_eq!(shared.stderr.lines().count(), 1, "{}", shared.stderr);
    assert!(shared.stderr.contains("is shared"), "{}", shared.stderr);
    assert_eq!(before, after, "a refused --mount=FILE left a mount");
    assert_eq!(private.code, 0, "{}", private.stderr);
    assert!(entered.stdout.starts_with("mnt:["), "{}", entered.stderr);
}
