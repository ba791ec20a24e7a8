//! fork, exec and wait: running the user's command and passing its end on.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::sys::signal::{kill, raise, signal, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::Exec;

/// Replaces this process by `argv`, found through PATH as execvp does.
/// Returns only on failure, with an [`Exec`] error (126 or 127).
///
/// `Command::exec` is used (not execvp) because it restores SIGPIPE and the
/// signal mask the command expects. Every descriptor above 2 is marked
/// close-on-exec first, so the command gets only 0, 1 and 2 (runc
/// CVE-2024-21626: a leaked descriptor is a way out of the container).
pub fn exec(argv: &[OsString]) -> Exec {
    let Some((program, args)) = argv.split_first() else {
        return Exec {
            program: OsString::new(),
            source: std::io::ErrorKind::InvalidInput.into(),
        };
    };
    if let Err(errno) = cloexec_from(3) {
        return Exec {
            program: program.clone(),
            source: errno.into(),
        };
    }
    let source = Command::new(program).args(args).exec();
    Exec {
        program: program.clone(),
        source,
    }
}

/// Replaces this process by `shell` as a login shell (argv[0] `-NAME`, as
/// util-linux `exec_shell` runs it), with only descriptors 0, 1 and 2 as
/// [`exec`] gives them. Returns only on failure, with an [`Exec`] error.
pub fn exec_login_shell(shell: OsString) -> Exec {
    let mut arg0 = OsString::from("-");
    arg0.push(Path::new(&shell).file_name().unwrap_or(shell.as_os_str()));
    let source = match cloexec_from(3) {
        Ok(()) => Command::new(&shell).arg0(arg0).exec(),
        Err(errno) => errno.into(),
    };
    Exec {
        program: shell,
        source,
    }
}

/// Marks every descriptor from `first` on close-on-exec.
pub fn cloexec_from(first: u32) -> nix::Result<()> {
    // SAFETY: close_range takes only integers and changes only descriptor flags.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    nix::errno::Errno::result(rc).map(drop)
}

/// Blocks `signals` (and SIGCHLD) in this thread, so that a supervising
/// parent can take them one by one with [`supervise`]. Call before fork; the
/// child must call [`unblock`] with the returned set before it execs (exec
/// keeps the mask; `Command::exec` resets it, but a child that does more
/// first should not run with them blocked).
pub fn block(signals: &[Signal]) -> nix::Result<SigSet> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    for &sig in signals {
        mask.add(sig);
    }
    mask.thread_block()?;
    Ok(mask)
}

/// Unblocks the signals [`block`] blocked.
pub fn unblock(mask: &SigSet) -> nix::Result<()> {
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(mask), None)
}

/// Waits for `child` to end, forwarding every signal of `mask` but SIGCHLD to it.
pub fn supervise(child: Pid, mask: &SigSet) -> nix::Result<WaitStatus> {
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
