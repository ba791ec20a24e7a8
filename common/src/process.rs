//! fork, exec and wait: running the user's command as its caller left
//! things (every descriptor the caller gave, signal dispositions and mask
//! as found at start-up) and passing its end on.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::Context;
use nix::errno::Errno;
use nix::sys::signal::{kill, raise, signal, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

use crate::error::Exec;

/// The signal state this process was started with: what exec(2) handed
/// over from the caller and what the command must get back.
#[derive(Debug, Clone, Copy)]
struct Inherited {
    /// SIGCHLD was ignored: [`save_inherited`] sets it to default for the
    /// tool's own waits, [`exec`] ignores it again for the command.
    sigchld_ignored: bool,
    mask: SigSet,
}

static INHERITED: OnceLock<Inherited> = OnceLock::new();

/// Whether `sig` is ignored now.
fn ignored(sig: libc::c_int) -> bool {
    let mut old = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current one into `old`,
    // which is zeroed and large enough.
    let rc = unsafe { libc::sigaction(sig, std::ptr::null(), old.as_mut_ptr()) };
    // SAFETY: zeroed is a valid sigaction, and sigaction filled it on success.
    let old = unsafe { old.assume_init() };
    rc == 0 && old.sa_sigaction == libc::SIG_IGN
}

/// The signal state now.
fn current() -> Inherited {
    let mut mask = SigSet::empty();
    let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, None, Some(&mut mask));
    Inherited {
        sigchld_ignored: ignored(libc::SIGCHLD),
        mask,
    }
}

/// Records the signal state this process started with, for [`exec`] to
/// give back to the command. [`crate::cli::main`] calls it before the tool
/// runs (the tools skip Rust's start-up, which would ignore SIGPIPE, and
/// exec without std's `Command`, which would set it to default). An ignored
/// SIGCHLD is set to default meanwhile: with it ignored, the kernel reaps
/// children itself and tells no one, so no wait of the tool's would see
/// its child end (util-linux unshare resets it too).
pub fn save_inherited() {
    let inherited = INHERITED.get_or_init(current);
    if inherited.sigchld_ignored {
        // SAFETY: SIG_DFL installs no handler code.
        let _ = unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) };
    }
}

/// Gives this process back the signal state it started with (see
/// [`save_inherited`]): an ignored SIGCHLD ignored again, the start-up
/// signal mask. Async-signal-safe and allocation-free, for a
/// child between fork and exec.
pub fn restore_inherited() -> nix::Result<()> {
    let Inherited {
        sigchld_ignored,
        mask,
    } = INHERITED.get().copied().unwrap_or_else(current);
    if sigchld_ignored {
        // SAFETY: SIG_IGN installs no handler code.
        unsafe { signal(Signal::SIGCHLD, SigHandler::SigIgn) }?;
    }
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&mask), None)
}

/// The command line `args` as C strings for [`execvp`], made before any
/// fork (the child then allocates nothing of its own).
pub fn c_args(args: &[OsString]) -> std::io::Result<Vec<CString>> {
    args.iter().map(|a| c_string(a)).collect()
}

fn c_string(s: &OsStr) -> std::io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "an argument holds a NUL byte",
        )
    })
}

/// Replaces this process by `program` with `argv` (argv[0] first), found
/// through PATH as execvp(3) finds it, after giving back the signal state
/// the caller left ([`restore_inherited`]): a caller's `trap '' PIPE` and
/// its mask reach the command, as exec(2) keeps them for unshare, nsenter
/// and chroot. Descriptors are left alone: the command gets every one the
/// caller gave (the tools open their own close-on-exec). Returns only the
/// error; async-signal-safe, for a child between fork and exec.
pub fn execvp(program: &CStr, argv: &[CString]) -> Errno {
    if let Err(e) = restore_inherited() {
        return e;
    }
    match nix::unistd::execvp(program, argv) {
        Err(e) => e,
        Ok(never) => match never {},
    }
}

/// Replaces this process by `argv` as [`execvp`] does. Returns only on
/// failure, with an [`Exec`] error (126 or 127).
pub fn exec(argv: &[OsString]) -> Exec {
    exec_as(argv.first().cloned().unwrap_or_default(), argv)
}

/// Replaces this process by `shell` as a login shell (argv[0] `-NAME`, as
/// util-linux `exec_shell` runs it), as [`exec`] runs a command. Returns
/// only on failure, with an [`Exec`] error.
pub fn exec_login_shell(shell: OsString) -> Exec {
    let mut arg0 = OsString::from("-");
    arg0.push(Path::new(&shell).file_name().unwrap_or(shell.as_os_str()));
    exec_as(shell, &[arg0])
}

/// [`execvp`] of `program` with `argv`, as an [`Exec`] error.
fn exec_as(program: OsString, argv: &[OsString]) -> Exec {
    let source = match (c_string(&program), c_args(argv)) {
        (Ok(path), Ok(argv)) if !argv.is_empty() => execvp(&path, &argv).into(),
        (Err(e), _) | (_, Err(e)) => e,
        _ => std::io::ErrorKind::InvalidInput.into(),
    };
    Exec { program, source }
}

/// `failed to execute PROGRAM` over the [`Exec`] error, as util-linux
/// words it.
pub fn exec_failed(err: Exec) -> anyhow::Error {
    let program = err.program.to_string_lossy().into_owned();
    anyhow::Error::new(err).context(format!("failed to execute {program}"))
}

/// Replaces this process by `argv`, or by the default shell as a login
/// shell when `argv` is empty (util-linux unshare and nsenter). Returns only
/// on failure: `failed to execute PROGRAM` over the [`Exec`] error.
pub fn exec_or_shell(argv: &[OsString]) -> anyhow::Error {
    exec_failed(if argv.is_empty() {
        exec_login_shell(default_shell())
    } else {
        exec(argv)
    })
}

/// How many CPUs this process may run on (sched_getaffinity(2)), at least
/// 1: the threads worth starting. std's `available_parallelism` would also
/// read cgroup CPU quotas, at 8 KB of code in every binary that calls it.
pub fn cpus() -> usize {
    nix::sched::sched_getaffinity(Pid::from_raw(0)).map_or(1, |set| {
        (0..nix::sched::CpuSet::count())
            .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
            .count()
            .max(1)
    })
}

/// The shell to run when no command is given: `$SHELL` when set and not
/// empty, else the caller's login shell from the passwd database, else
/// /bin/sh (util-linux `ul_default_shell`).
pub fn default_shell() -> OsString {
    std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.shell.into_os_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "/bin/sh".into())
}

/// The parent's hold on a child started by [`spawn_supervised`].
pub struct Supervisor {
    child: Pid,
    /// SIGCHLD and the signals passed on to the child.
    wait_for: SigSet,
}

/// Blocks SIGCHLD and `blocked` (so that they wait in the parent instead of
/// acting), then starts a child that runs `child` with the caller's mask
/// back and ends with the code it returns, unless it execs. The parent gets
/// a [`Supervisor`], which passes each of `forward` (a subset of `blocked`)
/// on to the child while it waits; the others of `blocked` are thereby
/// ignored until the child ends (`unshare -f` and SIGINT, SIGTERM).
///
/// The child shares this process's memory until it execs or ends, and this
/// process waits meanwhile (clone(2) with CLONE_VM and CLONE_VFORK, as
/// posix_spawn(3) starts one): no page table is copied and no page is
/// faulted in again or copied on write, which is most of what a fork costs
/// here. Where that is refused (some kernels refuse it after a new time
/// namespace for children, a seccomp filter may), the child is forked
/// instead.
///
/// So `child` runs as a call whose effects on memory stay, on a stack of
/// its own, ended by `_exit` (no destructor or atexit handler of this
/// process runs in it): what it changes through its captures the parent
/// sees, what it allocates and does not free stays allocated, and what it
/// writes to stdout must be flushed before it ends. Only while
/// single-threaded (the tools run no threads).
pub fn spawn_supervised<F: FnOnce() -> u8>(
    blocked: &[Signal],
    forward: &[Signal],
    child: F,
) -> anyhow::Result<Supervisor> {
    let mut block = SigSet::empty();
    block.add(Signal::SIGCHLD);
    for &sig in blocked {
        block.add(sig);
    }
    let mut old = SigSet::empty();
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&block), Some(&mut old))
        .context("sigprocmask block failed")?;
    let mut wait_for = SigSet::empty();
    wait_for.add(Signal::SIGCHLD);
    for &sig in forward {
        wait_for.add(sig);
    }
    let mut start = Start {
        child: Some(child),
        mask: old,
    };
    let child = match spawn(&mut start) {
        Ok(child) => child,
        // Refused (EINVAL after a new time namespace on some kernels, EPERM
        // from a seccomp filter) or no memory for the stack: a fork's error
        // is the one that counts.
        Err(_) => {
            // SAFETY: the tools are single-threaded, so the child may do anything.
            match unsafe { fork() }.context("fork failed")? {
                ForkResult::Child => start.run(),
                ForkResult::Parent { child } => child,
            }
        }
    };
    Ok(Supervisor { child, wait_for })
}

/// What the child of [`spawn_supervised`] runs, and the mask it restores.
struct Start<F> {
    child: Option<F>,
    mask: SigSet,
}

impl<F: FnOnce() -> u8> Start<F> {
    /// The child's whole life: the caller's mask, `child`, `_exit`.
    fn run(&mut self) -> ! {
        let code = match (
            nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.mask), None),
            self.child.take(),
        ) {
            (Ok(()), Some(child)) => child(),
            _ => 1,
        };
        // SAFETY: _exit ends the child at once: nothing of the parent's
        // (shared memory, stdio buffers, atexit handlers) is touched.
        unsafe { libc::_exit(i32::from(code)) }
    }
}

/// The child's stack size: far more than exec and an error report take;
/// only the pages it touches are ever backed.
const STACK: usize = 1 << 20;

/// clone(2) with CLONE_VM|CLONE_VFORK: `start` runs in the child on a
/// stack mapped for it (a guard page below), while this process waits
/// until the child has exec'd or ended.
fn spawn<F: FnOnce() -> u8>(start: &mut Start<F>) -> nix::Result<Pid> {
    extern "C" fn trampoline<F: FnOnce() -> u8>(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the `&mut Start<F>` that `spawn` passed, alive
        // and not otherwise used while the parent waits (CLONE_VFORK).
        unsafe { &mut *arg.cast::<Start<F>>() }.run()
    }
    let page = 4096;
    // SAFETY: a new private anonymous mapping; no existing memory is touched.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            STACK + page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(nix::errno::Errno::last());
    }
    let unmap = Unmap(base, STACK + page);
    // SAFETY: the lowest page of the mapping just made becomes the guard.
    nix::errno::Errno::result(unsafe { libc::mprotect(base, page, libc::PROT_NONE) })?;
    // SAFETY: the child runs `trampoline` on the new stack (its top, 16-byte
    // aligned) with `start`, sharing memory; this process is suspended until
    // the child execs or ends (CLONE_VFORK), so the stack and `start` outlive
    // its use of them and nothing else runs meanwhile.
    let pid = unsafe {
        libc::clone(
            trampoline::<F>,
            base.cast::<u8>().add(STACK + page).cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            std::ptr::from_mut(start).cast(),
        )
    };
    drop(unmap);
    nix::errno::Errno::result(pid).map(Pid::from_raw)
}

/// A mapping undone on drop.
struct Unmap(*mut libc::c_void, usize);

impl Drop for Unmap {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `spawn` and nothing uses it now.
        unsafe { libc::munmap(self.0, self.1) };
    }
}

impl Supervisor {
    pub fn child(&self) -> Pid {
        self.child
    }

    /// Waits for the child to end, passing signals on; the exit code that
    /// passes its end on ([`exit_code`]).
    pub fn wait(self) -> anyhow::Result<u8> {
        let status = supervise(self.child, &self.wait_for).context("waitpid failed")?;
        Ok(exit_code(status))
    }

    /// Kills the child and reaps it: it must not run on after the parent
    /// failed at its part.
    pub fn kill(self) {
        let _ = kill(self.child, Signal::SIGKILL);
        let _ = waitpid(self.child, None);
    }
}

/// Waits for `child` to end, forwarding every signal of `mask` but SIGCHLD to it.
fn supervise(child: Pid, mask: &SigSet) -> nix::Result<WaitStatus> {
    loop {
        match mask.wait()? {
            Signal::SIGCHLD => match waitpid(child, Some(WaitPidFlag::WNOHANG))? {
                WaitStatus::StillAlive => {}
                end => return Ok(end),
            },
            sig => match kill(child, sig) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(e) => return Err(e),
            },
        }
    }
}

/// The exit code that passes a child's end on, util-linux style: its exit
/// status, or, when it died of a signal, the same signal raised on ourselves
/// (so the calling shell sees 128+N). `128 + N` is returned only when the
/// signal does not end us (it cannot be caught here, but e.g. SIGCHLD-like
/// signals do not terminate).
pub fn exit_code(status: WaitStatus) -> u8 {
    match status {
        WaitStatus::Exited(_, code) => code as u8,
        WaitStatus::Signaled(_, sig, _) => {
            die_by(sig);
            128u8.wrapping_add(sig as u8)
        }
        _ => 1,
    }
}

/// Ends this process by `sig`, as the child it ran ended: default action,
/// unblocked, raised. No core dump of our own is wanted for SIGSEGV and
/// friends, so their core limit is dropped first.
pub fn die_by(sig: Signal) {
    let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0);
    // SAFETY: SIG_DFL installs no handler code.
    let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    let _ = raise(sig);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_of_a_missing_program_is_127() {
        let err = exec(&["/nonexistent/boxutils-test".into()]);
        assert_eq!(err.code(), 127);
    }

    #[test]
    fn exit_status_passes_through() {
        assert_eq!(exit_code(WaitStatus::Exited(Pid::from_raw(1), 3)), 3);
    }
}
