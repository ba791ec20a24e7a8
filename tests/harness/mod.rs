//! What every integration test needs: the built binaries, root-only skips,
//! fresh namespaces, unique names, guards that undo on drop, and processes
//! to point the tools at, killed by PID when the test ends.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

mod machine;
mod skip;
pub use machine::{in_sandbox, Machine};
pub use skip::{have, root, say, skip};
pub(crate) use skip::{needs, needs_root, test_name};

/// The binary `name` under test (see [`bin_dir`]).
pub fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// The directory of the binaries under test: `BOXUTILS_BIN_DIR` (an
/// installed package), else this build's target directory, where every
/// binary of the workspace is built on first use (`cargo test` builds no
/// other member's binaries), before any test hides the workspace.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BOXUTILS_BIN_DIR") {
        return PathBuf::from(dir);
    }
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // tests/…/target/debug/deps/tests-HASH → target/debug
            let exe = std::env::current_exe().expect("test executable path");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("target/PROFILE directory");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let target_dir = profile_dir.parent().expect("target directory");
            let mut build = Command::new(cargo);
            build
                .args(["build", "--quiet", "--workspace", "--bins", "--target-dir"])
                .arg(target_dir);
            build
                .arg("--manifest-path")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
            if profile_dir.file_name() == Some(OsStr::new("release")) {
                build.arg("--release");
            }
            let status = build.status().expect("cannot run cargo build");
            assert!(status.success(), "cargo build --workspace --bins failed");
            profile_dir.to_path_buf()
        })
        .clone()
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

/// Every binary of the workspace: its name, the exit code of its own
/// failures, and its anchor tool ("" where none has the same options). One
/// list for every test that walks all tools; `packaging::tools_list_is_every_binary`
/// fails when it is not the workspace's.
pub const TOOLS: [(&str, i32, &str); 10] = [
    ("rcgexec", 1, ""),
    ("rchroot", 125, "chroot"),
    ("ripcmk", 1, "ipcmk"),
    ("ripcrm", 1, "ipcrm"),
    ("ripcs", 1, "ipcs"),
    ("rlsns", 1, "lsns"),
    ("rnsenter", 1, "nsenter"),
    ("roverlay", 1, ""),
    ("runshare", 1, "unshare"),
    ("rvethpair", 1, ""),
];

/// How long one command may run before [`run`] kills it by PID and fails
/// the test: no test waits without a bound.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Runs `c` to its end with stdin closed and collects what it did; a
/// command still running after [`RUN_LIMIT`] is killed and the test fails.
pub fn run(c: &mut Command) -> Ran {
    run_within(c, RUN_LIMIT)
}

/// [`run`] with stdout sent to `stdout` (then [`Ran::stdout`] is empty).
pub fn run_into(c: &mut Command, stdout: std::fs::File) -> Ran {
    bounded(c, Some(stdout), RUN_LIMIT)
}

/// [`run`] with a bound of `limit`: the command is killed by PID (before
/// it is reaped, so the PID is still its own) when it runs longer, and the
/// test fails; so it does when a process the command left behind keeps its
/// stdout or stderr open past the bound.
pub fn run_within(c: &mut Command, limit: Duration) -> Ran {
    bounded(c, None, limit)
}

fn bounded(c: &mut Command, stdout: Option<std::fs::File>, limit: Duration) -> Ran {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::sync::mpsc;
    let deadline = Instant::now() + limit;
    let mut child = c
        .stdin(Stdio::null())
        .stdout(stdout.map_or_else(Stdio::piped, Stdio::from))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"));
    let pid = Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    let out_pipe = child
        .stdout
        .take()
        .map(|p| (true, Box::new(p) as Box<dyn Read + Send>));
    let err_pipe = child
        .stderr
        .take()
        .map(|p| (false, Box::new(p) as Box<dyn Read + Send>));
    let mut ends = 1;
    for (is_out, mut pipe) in [out_pipe, err_pipe].into_iter().flatten() {
        let tx = tx.clone();
        ends += 1;
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(Ended::Output(is_out, bytes));
        });
    }
    std::thread::spawn(move || {
        let _ = tx.send(Ended::Status(child.wait()));
    });
    let (mut status, mut out, mut err) = (None, Vec::new(), Vec::new());
    let mut killed = false;
    for _ in 0..ends {
        let next = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(next) => next,
            Err(_) if status.is_none() && !killed => {
                // Not reaped yet (its waiter would have sent the status):
                // the PID is still the command's.
                let _ = kill(pid, Signal::SIGKILL);
                killed = true;
                rx.recv().expect("the waiter sends the status")
            }
            Err(_) => panic!("{c:?}: a process it left keeps its output open past {limit:?}"),
        };
        match next {
            Ended::Status(s) => status = Some(s.unwrap_or_else(|e| panic!("wait {c:?}: {e}"))),
            Ended::Output(true, bytes) => out = bytes,
            Ended::Output(false, bytes) => err = bytes,
        }
    }
    let status = status.expect("the waiter sends the status");
    assert!(
        !killed,
        "{c:?} ran longer than {limit:?} and was killed: {}",
        String::from_utf8_lossy(&err)
    );
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ran {
        code,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

/// What one of [`run_within`]'s helper threads saw end.
enum Ended {
    Status(std::io::Result<std::process::ExitStatus>),
    /// All of stdout (true) or stderr (false).
    Output(bool, Vec<u8>),
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
        unshare_private(flags);
        body()
    });
    joined(thread)
}

/// Unshares `flags` and a mount namespace for the calling thread, and makes
/// its `/` private.
fn unshare_private(flags: CloneFlags) {
    // CLONE_FS first: threads share one root and cwd, and a mount
    // namespace can only be unshared by a thread with its own.
    unshare(CloneFlags::CLONE_FS | CloneFlags::CLONE_NEWNS | flags).expect("unshare");
    // systemd makes / shared: without this, mounts would reach the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .expect("make / private");
}

/// [`run`] from a thread in a private mount namespace of its own (for
/// `--pivot` and other commands that mount): whatever the command does
/// wrong, no mount reaches the host; and the test fails when the command
/// changed the mounts of its caller's namespace (it must make its own).
pub fn run_in_own_mountns(c: &mut Command) -> Ran {
    std::thread::scope(|scope| {
        let thread = scope.spawn(|| {
            unshare_private(CloneFlags::empty());
            let mounts =
                || std::fs::read_to_string("/proc/thread-self/mountinfo").expect("mountinfo");
            let before = mounts();
            let ran = run(c);
            assert_eq!(
                mounts(),
                before,
                "{c:?} changed its caller's mounts: {ran:?}"
            );
            ran
        });
        match thread.join() {
            Ok(ran) => ran,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Detaches a mount on drop.
pub struct Mounted(pub PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Err(e) = umount2(&self.0, MntFlags::MNT_DETACH) {
            say(&format!("cleanup: cannot detach {}: {e}", self.0.display()));
        }
    }
}

/// `program` run by setpriv as the unprivileged user nobody (uid and gid
/// 65534) with no supplementary groups but `groups`, for the rows about an
/// ordinary user. The locale is clean and PATH one nobody may search (no
/// /root/.cargo/bin: EACCES would mask ENOENT).
pub fn nobody(program: &Path, groups: &[u32]) -> Command {
    let mut c = anchor("setpriv");
    c.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    c.args(["--reuid=65534", "--regid=65534"]);
    if groups.is_empty() {
        c.arg("--clear-groups");
    } else {
        let list: Vec<String> = groups.iter().map(u32::to_string).collect();
        c.arg(format!("--groups={}", list.join(",")));
    }
    c.arg(program);
    c
}

/// Waits (up to 20 s) until `done` holds, for what the kernel or another
/// process does in its own time; false if it never did.
pub fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The children of `pid` (its main thread's).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// A process the test started, usually in namespaces of its own, for the
/// tools to look at or enter; killed by PID on drop (the process, then the
/// command that started it).
pub struct Process {
    /// The command started (`unshare ...`); the process itself unless it
    /// forks.
    pub outer: Child,
    /// The host PID of the process.
    pub pid: i32,
}

impl Process {
    /// Starts `command`, stdin and stdout closed, and waits until the
    /// process runs `sleep` and sleeps: `command` itself (which execs it), or with
    /// `forks` its first child (`unshare -f`, `sh -c 'sleep & wait'`).
    /// stderr is shown only if the command ends early: `unshare -f`
    /// complains when its child is killed, which is noise.
    pub fn sleeping(command: &mut Command, forks: bool) -> Process {
        let mut process = Process::spawn(command.stderr(Stdio::piped()));
        let outer = process.outer.id();
        let started = eventually(|| {
            let pid = if forks {
                children(outer).first().copied()
            } else {
                Some(outer)
            };
            if let Some(pid) = pid.filter(|&p| asleep_in_sleep(p)) {
                process.pid = pid as i32;
                return true;
            }
            if let Ok(Some(status)) = process.outer.try_wait() {
                let mut why = String::new();
                if let Some(mut err) = process.outer.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut err, &mut why);
                }
                panic!("{command:?} ended early: {status}: {why}");
            }
            false
        });
        assert!(started, "{command:?} did not start sleep");
        process
    }

    /// Starts `command` with stdin and stdout closed; the process is the
    /// command.
    pub fn spawn(command: &mut Command) -> Process {
        let outer = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
        let pid = outer.id() as i32;
        Process { outer, pid }
    }
}

/// A child that a test starts by hand (to signal it, feed it, read it):
/// killed by PID on drop unless it was reaped, so a failing test leaves no
/// process behind; [`Spawned::wait`] has a bound. Derefs to the [`Child`].
pub struct Spawned(pub Child);

impl Spawned {
    /// Starts `command` as it is set up.
    pub fn new(command: &mut Command) -> Spawned {
        Spawned(
            command
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}")),
        )
    }

    /// Waits for the end of the child, [`RUN_LIMIT`] at most: then it is
    /// killed (still unreaped, so by its own PID) and the test fails.
    pub fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait()? {
                return Ok(status);
            }
            if start.elapsed() > RUN_LIMIT {
                let _ = self.0.kill();
                let _ = self.0.wait();
                panic!("a child ran longer than {RUN_LIMIT:?} and was killed");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl std::ops::Deref for Spawned {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Whether `pid` runs `sleep` and sleeps. Its name changes in the middle
/// of execve, before close-on-exec descriptors are closed; asleep ('S'), it
/// is past execve.
fn asleep_in_sleep(pid: u32) -> bool {
    sleep_state(pid) == Some('S')
}

/// The state of `pid` (R, S, Z, ...) when it runs `sleep`.
fn sleep_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.split_once(" (")?;
    let (comm, rest) = rest.rsplit_once(") ")?;
    (comm == "sleep").then(|| rest.chars().next()).flatten()
}

impl Drop for Process {
    fn drop(&mut self) {
        // Once the test has reaped the command, its PID and those of its
        // children may be reused: kill the process only while it still is
        // a sleep, and the command only while it is ours to reap.
        let reaped = matches!(self.outer.try_wait(), Ok(Some(_)));
        let outer = self.outer.id() as i32;
        if self.pid != outer && (!reaped || sleep_state(self.pid as u32).is_some()) {
            let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
        }
        if !reaped {
            let _ = kill(Pid::from_raw(outer), Signal::SIGKILL);
            let _ = self.outer.wait();
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

/// Copies the executable `from` to `to`, mode included, in a child process
/// (`cp`): a file written by this process would stay open for writing, for
/// an instant, in each child that another test thread forks meanwhile, and
/// exec'ing it could then fail with ETXTBSY.
pub fn copy_exe(from: &Path, to: &Path) {
    let cp = run(Command::new("cp").arg("--preserve=mode").arg(from).arg(to));
    assert_eq!(
        cp.code,
        0,
        "cp {} {}: {}",
        from.display(),
        to.display(),
        cp.stderr
    );
}

/// Writes an executable script at `path`, through [`copy_exe`].
pub fn write_exe(path: &Path, text: &str) {
    let draft = path.with_extension("draft");
    std::fs::write(&draft, text).expect("write a script");
    std::fs::set_permissions(&draft, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod a script");
    copy_exe(&draft, path);
    std::fs::remove_file(&draft).expect("remove a draft");
}

/// `tool ARGS` is refused as `anchor_tool ARGS` is: the same exit code, no
/// output, the same stderr but for the tool's name (a usage error, so
/// nothing is done). For getopt's words, the same for every tool.
pub fn same_usage_error(tool: &str, anchor_tool: &str, args: &[&str]) {
    let ours = run(cmd(tool).args(args));
    let theirs = run(anchor(anchor_tool).args(args));
    assert_ne!(theirs.code, 0, "{anchor_tool} {args:?} is not refused");
    assert_eq!(
        (
            ours.code,
            ours.stdout.as_str(),
            ours.stderr.replace(tool, anchor_tool)
        ),
        (theirs.code, "", theirs.stderr),
        "{tool} {args:?}"
    );
}

/// The descriptors a command spawned by this test process inherits (those
/// without close-on-exec: 0, 1, 2 and whatever the test runner was given)
/// with `extra` added, as names sorted as `ls /proc/PID/fd` sorts them.
/// The tools pass every one on to their command, as their anchors do.
pub fn inherited_fds(extra: &[i32]) -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().unwrap().parse().ok())
        // SAFETY: F_GETFD only reads the flags of a descriptor number.
        .filter(|&fd: &i32| unsafe { libc::fcntl(fd, libc::F_GETFD) } == 0)
        .chain(extra.iter().copied())
        .map(|fd| fd.to_string())
        .collect();
    fds.sort();
    fds.dedup();
    fds
}
