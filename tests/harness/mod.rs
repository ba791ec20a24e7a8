//! What every integration test needs: the built binaries, root-only skips,
//! fresh namespaces, unique names and guards that undo on drop.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

/// The directory of the binaries under test: `BOXUTILS_BIN_DIR` (an
/// installed package), else this build's target directory, where the tool
/// is built on first use (`cargo test` builds no other member's binaries).
pub fn bin(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("BOXUTILS_BIN_DIR") {
        return Path::new(&dir).join(name);
    }
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    // tests/…/target/debug/deps/tests-HASH → target/debug
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/PROFILE directory");
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let target_dir = profile_dir.parent().expect("target directory");
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "--bin", name, "--target-dir"])
            .arg(target_dir);
        build
            .arg("--manifest-path")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
        if profile_dir.file_name() == Some(OsStr::new("release")) {
            build.arg("--release");
        }
        let status = build.status().expect("cannot run cargo build");
        assert!(status.success(), "cargo build --bin {name} failed");
        built.push(name.to_string());
    }
    profile_dir.join(name)
}

/// A command for the tool `name`, with a clean locale so messages compare.
pub fn cmd(name: &str) -> Command {
    let mut c = Command::new(bin(name));
    c.env("LC_ALL", "C");
    c
}

/// A command for an anchor tool (`chroot`, `unshare`, `ip`, …).
pub fn anchor(name: &str) -> Command {
    let mut c = Command::new(name);
    c.env("LC_ALL", "C");
    c
}

/// What a command did: exit code (128+N for a signal), stdout, stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `c` to its end with stdin closed and collects what it did.
pub fn run(c: &mut Command) -> Ran {
    use std::os::unix::process::ExitStatusExt;
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"));
    let code = out
        .status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
    Ran {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// True when root; else writes `SKIP test: needs root` where libtest shows it.
pub fn root(test: &str) -> bool {
    let is_root = nix::unistd::geteuid().is_root();
    if !is_root {
        skip(test, "needs root");
    }
    is_root
}

/// True when `program` is on PATH; else a visible skip.
pub fn have(test: &str, program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if !found {
        skip(test, &format!("{program} is not installed"));
    }
    found
}

/// Says, where `cargo test` shows it, that a test did not run and why.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {why}");
}

/// A name nobody else uses: `bxt-`, test name, PID and a counter (the CI
/// sweep removes what carries `bxt-`).
pub fn unique(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "bxt-{test}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temporary directory removed on drop (with everything in it).
pub fn tempdir(test: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("boxutils-{test}-"))
        .tempdir()
        .expect("temp dir")
}

/// Runs `body` on a thread of its own in fresh mount and network namespaces:
/// every mount, named netns (under a private /run/netns) and link it makes
/// dies with the thread, even when it panics. `lo` is up. Commands started
/// from the body run in these namespaces.
pub fn in_netns<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    on_thread(
        CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS,
        move || {
            std::fs::create_dir_all("/run/netns").expect("mkdir /run/netns");
            mount(
                Some("tmpfs"),
                "/run/netns",
                Some("tmpfs"),
                MsFlags::empty(),
                Some("mode=755"),
            )
            .expect("tmpfs on /run/netns");
            let lo = run(Command::new("ip").args(["link", "set", "lo", "up"]));
            assert_eq!(lo.code, 0, "ip link set lo up: {}", lo.stderr);
            body()
        },
    )
}

/// Runs `body` on a thread of its own in a fresh private mount namespace:
/// its mounts never reach the host and vanish with the thread.
pub fn in_mountns<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    on_thread(CloneFlags::CLONE_NEWNS, body)
}

/// Runs `body` on a thread of its own in a fresh IPC namespace: the System
/// V objects and POSIX message queues it (or a command it starts) makes,
/// and the IPC limits it sets (kernel.shmmax, ...), never reach the host
/// and vanish with the namespace.
pub fn in_ipcns<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    joined(std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWIPC).expect("unshare CLONE_NEWIPC");
        body()
    }))
}

/// The value of a thread, or its panic passed on.
fn joined<T>(thread: std::thread::JoinHandle<T>) -> T {
    match thread.join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn on_thread<T: Send + 'static>(flags: CloneFlags, body: impl FnOnce() -> T + Send + 'static) -> T {
    let thread = std::thread::spawn(move || {
        // CLONE_FS first: threads share one root and cwd, and a mount
        // namespace can only be unshared by a thread with its own.
        unshare(CloneFlags::CLONE_FS | flags).expect("unshare");
        // systemd makes / shared: without this, mounts would reach the host.
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .expect("make / private");
        body()
    });
    joined(thread)
}

/// Detaches a mount on drop.
pub struct Mounted(pub PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Err(e) = umount2(&self.0, MntFlags::MNT_DETACH) {
            skip(
                "cleanup",
                &format!("cannot detach {}: {e}", self.0.display()),
            );
        }
    }
}

/// The mount points of the host's (this process's) mount namespace.
pub fn mount_points() -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(PathBuf::from)
        .collect()
}

#[test]
fn in_netns_gives_fresh_namespaces_and_leaves_nothing() {
    if !root("in_netns_gives_fresh_namespaces_and_leaves_nothing") {
        return;
    }
    let host_net = std::fs::read_link("/proc/self/ns/net").unwrap();
    let before = mount_points();
    let (inner_net, inner_mounts) = in_netns(|| {
        let ns = run(Command::new("readlink").arg("/proc/self/ns/net")).stdout;
        let mounts = run(Command::new("cat").arg("/proc/self/mountinfo")).stdout;
        (ns, mounts)
    });
    assert_ne!(inner_net.trim(), host_net.to_str().unwrap());
    assert!(inner_mounts.contains(" /run/netns "), "{inner_mounts}");
    assert_eq!(mount_points(), before);
}
