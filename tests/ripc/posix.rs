//! POSIX shared memory and message queues by name, in a sandbox of their
//! own: made, removed, refused, and rolled back when a later object fails.

use nix::mount::{mount, MsFlags};

use super::{ready, rows, sh};
use crate::harness::{anchor, cmd, in_ipcns, in_mountns, needs_root, run, test_name, unique};

/// Runs `body` with a private /dev/shm (a tmpfs in a fresh mount
/// namespace) and a fresh IPC namespace: POSIX objects made there reach
/// neither the host's /dev/shm nor its message queues.
fn in_posix_sandbox<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    in_mountns(|| {
        mount(
            Some("tmpfs"),
            "/dev/shm",
            Some("tmpfs"),
            MsFlags::empty(),
            Some("mode=1777"),
        )
        .expect("tmpfs on /dev/shm");
        in_ipcns(body)
    })
}

#[test]
fn posix_objects_are_made_and_removed_by_name() {
    if !needs_root!() {
        return;
    }
    let name = format!("/{}", unique("posix"));
    let (made, files, removed, gone, again) = in_posix_sandbox(move || {
        let made = run(cmd("ripcmk").args(["-m", "1K", "-q", "-s", "-n", &name, "-p", "600"]));
        let files = run(anchor("ls").args(["-ln", "/dev/shm"])).stdout;
        let removed = run(cmd("ripcrm").args([
            "--posix-shmem",
            &name,
            "--posix-semaphore",
            &name,
            "--posix-mqueue",
            &name,
        ]));
        let gone = std::fs::read_dir("/dev/shm").unwrap().count();
        let again = run(cmd("ripcrm").args(["--posix-mqueue", &name]));
        (made, files, (removed, name.clone()), gone, again)
    });
    let (removed, name) = removed;
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(
        made.stdout,
        format!(
            "POSIX shared memory name: {name}\nPOSIX message queue name: {name}\n\
             POSIX semaphore name: {name}\n"
        )
    );
    let base = &name[1..];
    assert!(
        files.lines().any(|l| l.starts_with("-rw------- ")
            && l.contains(" 1024 ")
            && l.ends_with(&format!(" {base}"))),
        "{files}"
    );
    assert!(
        files.lines().any(|l| l.ends_with(&format!(" sem.{base}"))),
        "{files}"
    );
    assert_eq!((removed.code, removed.stderr.as_str()), (0, ""));
    assert_eq!(gone, 0);
    assert_eq!(again.code, 1);
    assert_eq!(again.stderr, format!("ripcrm: name `{name}' not found\n"));
}

#[test]
fn nonexistent_posix_name_is_refused() {
    if !ready(test_name!()) {
        return;
    }
    // util-linux 2.38 has no POSIX options (a usage error); 2.41 says
    // "name not found". Both exit 1, and nothing else is touched.
    let args = ["--posix-shmem", "/bxt-nosuch"];
    let (a, b, before, after) = in_posix_sandbox(move || {
        sh("ipcmk -M 10 >/dev/null && touch /dev/shm/keep");
        let before = (rows(), std::fs::read_dir("/dev/shm").unwrap().count());
        let a = run(cmd("ripcrm").args(args));
        let b = run(anchor("ipcrm").args(args));
        (
            a,
            b,
            before,
            (rows(), std::fs::read_dir("/dev/shm").unwrap().count()),
        )
    });
    assert_eq!((a.code, b.code), (1, 1));
    assert_eq!(a.stderr, "ripcrm: name `/bxt-nosuch' not found\n");
    assert_eq!(before, after);
}

#[test]
fn posix_name_in_use_is_refused_and_kept() {
    if !needs_root!() {
        return;
    }
    let name = format!("/{}", unique("inuse"));
    let (first, second, left, size) = in_posix_sandbox(move || {
        let first = run(cmd("ripcmk").args(["-m", "100", "-n", &name]));
        let second = run(cmd("ripcmk").args(["-M", "10", "-m", "200", "-n", &name]));
        let size = std::fs::metadata(format!("/dev/shm{name}")).map(|m| m.len());
        (first, second, rows(), size.ok())
    });
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(second.code, 1);
    assert_eq!(second.stdout, "");
    assert_eq!(
        second.stderr,
        "ripcmk: create POSIX shared memory failed: File exists\n"
    );
    // The existing object keeps its size; the segment made first is gone.
    assert_eq!(size, Some(100));
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn posix_queue_name_without_slash_rolls_back() {
    if !needs_root!() {
        return;
    }
    let (ran, left) = in_posix_sandbox(|| {
        let ran = run(cmd("ripcmk").args(["-M", "10", "-q", "-n", "noslash"]));
        (ran, rows())
    });
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        "ripcmk: create POSIX message queue failed: the name 'noslash' must start with /: Invalid argument\n"
    );
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn ripcmk_removes_what_it_made_when_a_later_object_fails() {
    if !ready(test_name!()) {
        return;
    }
    let (ran, left) = in_ipcns(|| {
        (
            run(cmd("ripcmk").args(["-M", "100", "-Q", "-S", "0"])),
            rows(),
        )
    });
    assert_eq!(ran.code, 1);
    assert_eq!(ran.stdout, "");
    assert!(
        ran.stderr.starts_with("ripcmk: create semaphore failed: "),
        "{}",
        ran.stderr
    );
    assert_eq!(left, Vec::<String>::new());
}
