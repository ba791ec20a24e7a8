//! Starting the command inside its cgroups, and waiting for it.
//!
//! The child is born in the cgroup2 cgroup (clone3 with CLONE_INTO_CGROUP)
//! and moves itself into each v1 cgroup before it executes the command, so
//! nothing the command does happens outside (no fork-then-move window).
//! It keeps the caller's descriptors (all of rcgexec's own are
//! close-on-exec), signal dispositions and mask. A failure before the
//! command runs comes back through a close-on-exec pipe, so rcgexec reports
//! it once, cleans up and exits 1, 126 or 127.

use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use anyhow::Context;
use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// The command's exec failed with `errno`: `failed to execute PROGRAM`
/// (exit 127 when not found, else 126).
pub fn exec_error(program: &OsString, errno: Errno) -> anyhow::Error {
    common::process::exec_failed(common::error::Exec {
        program: program.clone(),
        source: errno.into(),
    })
}

/// What the child reports through the pipe when it fails: the step and errno.
const JOIN_FAILED: u8 = 1;
const EXEC_FAILED: u8 = 2;

/// `struct clone_args` of clone3(2), up to `cgroup` (Linux 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Starts `argv` as a child born in the cgroup2 directory `into` (its
/// descriptor, and its index in `procs`) if there is one, that joins each
/// other cgroup of `procs` (directories and cgroup.procs descriptors)
/// itself, restores the signal mask `mask` and executes. Returns its PID
/// once it runs the command.
pub fn start(
    argv: &[CString],
    program: &OsString,
    into: Option<(BorrowedFd, usize)>,
    procs: &[(std::path::PathBuf, OwnedFd)],
) -> anyhow::Result<Pid> {
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("cannot make a pipe")?;
    let (pid, born_inside) = match into.map(|(dir, _)| clone_into(dir)) {
        Some(Ok(pid)) => (pid, true),
        // No clone3 (old kernel, seccomp): fork, and join cgroup2 too.
        Some(Err(Errno::ENOSYS | Errno::EPERM | Errno::E2BIG | Errno::EINVAL)) | None => {
            // SAFETY: rcgexec has one thread; the child only writes to
            // descriptors, sets its mask and executes.
            match unsafe { nix::unistd::fork() }.context("fork failed")? {
                nix::unistd::ForkResult::Parent { child } => (child, false),
                nix::unistd::ForkResult::Child => child(argv, procs, None, &write_end),
            }
        }
        Some(Err(e)) => return Err(e).context("clone3 into the cgroup failed"),
    };
    if pid.as_raw() == 0 {
        let born_in = into.map(|(_, i)| i).filter(|_| born_inside);
        child(argv, procs, born_in, &write_end);
    }
    drop(write_end);
    let mut report = [0u8; 9];
    let n = loop {
        match nix::unistd::read(&read_end, &mut report) {
            Err(Errno::EINTR) => continue,
            other => break other.context("cannot read from the child")?,
        }
    };
    if n == 0 {
        return Ok(pid);
    }
    let _ = waitpid(pid, None);
    let index = u32::from_ne_bytes([report[1], report[2], report[3], report[4]]) as usize;
    let errno = Errno::from_raw(i32::from_ne_bytes([
        report[5], report[6], report[7], report[8],
    ]));
    match report[0] {
        JOIN_FAILED => {
            let dir = procs
                .get(index)
                .map(|(d, _)| d.display().to_string())
                .unwrap_or_default();
            Err(anyhow::Error::new(errno).context(format!("cannot join cgroup {dir}")))
        }
        _ => Err(exec_error(program, errno)),
    }
}

/// clone3 with CLONE_INTO_CGROUP: the child starts in the cgroup `dir`.
/// Returns 0 in the child, as fork does.
fn clone_into(dir: BorrowedFd) -> Result<Pid, Errno> {
    let args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: dir.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: without CLONE_VM or a stack, clone3 is fork: the child gets a
    // copy of this single-threaded process. It runs only `child`, which
    // calls no glibc function that relies on the thread's cached TID (no
    // locks held across it, no raise): writes, sigprocmask, execvp, _exit.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    Errno::result(rc).map(|pid| Pid::from_raw(pid as i32))
}

/// The child: join each cgroup but the one it was born in, restore the
/// caller's signal state, execute. On failure, tell the parent and exit.
fn child(
    argv: &[CString],
    procs: &[(std::path::PathBuf, OwnedFd)],
    born_in: Option<usize>,
    report: &OwnedFd,
) -> ! {
    let tell = |step: u8, index: usize, errno: Errno| -> ! {
        let mut msg = [step, 0, 0, 0, 0, 0, 0, 0, 0];
        msg[1..5].copy_from_slice(&(index as u32).to_ne_bytes());
        msg[5..9].copy_from_slice(&(errno as i32).to_ne_bytes());
        let _ = nix::unistd::write(report.as_fd(), &msg);
        // SAFETY: _exit ends the process without running anything of the parent's.
        unsafe { libc::_exit(127) }
    };
    for (i, (_, fd)) in procs.iter().enumerate() {
        if Some(i) != born_in {
            if let Err(e) = common::cgroup::join(fd) {
                tell(JOIN_FAILED, i, e);
            }
        }
    }
    let errno = common::process::execvp(&argv[0], argv);
    tell(EXEC_FAILED, 0, errno)
}

/// Waits for `child` to end, passing SIGINT and SIGTERM on and calling
/// `tick` every `every` (SIGALRM from a timer) while it runs. The signals
/// of `waited` must be blocked.
pub fn supervise(
    child: Pid,
    waited: &SigSet,
    every: Option<Duration>,
    mut tick: impl FnMut(),
) -> anyhow::Result<WaitStatus> {
    let _timer = every.map(interval).transpose()?;
    loop {
        match waited.wait().context("cannot wait for signals")? {
            Signal::SIGCHLD => match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => {}
                Ok(end @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => return Ok(end),
                Ok(_) => {}
                Err(e) => return Err(e).context("cannot wait for the command"),
            },
            Signal::SIGALRM => tick(),
            sig => match kill(child, sig) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(e) => return Err(e).context("cannot pass the signal on"),
            },
        }
    }
}

/// A timer that sends SIGALRM every `every` (deleted on drop; not inherited).
fn interval(every: Duration) -> anyhow::Result<nix::sys::timer::Timer> {
    use nix::sys::signal::{SigEvent, SigevNotify};
    use nix::sys::timer::{Expiration, Timer, TimerSetTimeFlags};
    use nix::time::ClockId;
    let event = SigEvent::new(SigevNotify::SigevSignal {
        signal: Signal::SIGALRM,
        si_value: 0,
    });
    let mut timer = Timer::new(ClockId::CLOCK_MONOTONIC, event).context("cannot make a timer")?;
    timer
        .set(
            Expiration::Interval(every.into()),
            TimerSetTimeFlags::empty(),
        )
        .context("cannot set a timer")?;
    Ok(timer)
}
