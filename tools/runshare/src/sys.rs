//! The system calls runshare makes beyond unshare(2) itself: writes to
//! /proc that must reach procfs, a helper process that acts from the
//! parent's namespaces once told to, capabilities kept into the command,
//! the parent watched by `--kill-child`, and why a namespace could not be
//! made.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use anyhow::{anyhow, Context};
use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, getpid, pipe2, ForkResult, Pid};

/// Writes `text` to a file under /proc in one write, refusing a file that
/// is not on procfs (runc CVE-2019-16884: something mounted over /proc
/// would take the write and the namespace would silently stay unmapped).
/// `open_err` and `write_err` are util-linux's words for the two failures.
pub fn write_proc(path: &Path, text: &str, open_err: &str, write_err: &str) -> anyhow::Result<()> {
    let mut file = File::options()
        .write(true)
        .open(path)
        .with_context(|| format!("{open_err} {}", path.display()))?;
    on_procfs(&file, path)?;
    file.write_all(text.as_bytes()).map_err(|e| {
        let why = common::error::strerror(&e);
        match e.raw_os_error() {
            // A map is written once, and an ordinary user may map only
            // their own ID: say so rather than a bare EPERM.
            Some(libc::EPERM) if path.ends_with("uid_map") || path.ends_with("gid_map") => anyhow!(
                "{write_err} {}: {why} (a map can be written only once, and without \
                 CAP_SETUID/CAP_SETGID in the parent namespace only for one's own ID)",
                path.display()
            ),
            _ => anyhow!("{write_err} {}: {why}", path.display()),
        }
    })
}

/// Fails unless `file` lives on procfs.
pub fn on_procfs(file: &impl AsFd, path: &Path) -> anyhow::Result<()> {
    let fs = fstatfs(file).with_context(|| format!("cannot statfs {}", path.display()))?;
    if fs.filesystem_type() != PROC_SUPER_MAGIC {
        anyhow::bail!("{} is not on procfs", path.display());
    }
    Ok(())
}

/// A process forked early that waits, in the namespaces it was forked in,
/// until [`Helper::go`] tells it to act (util-linux `fork_and_wait`): after
/// unshare(2), only a process left outside can bind the new namespaces
/// onto files of the old mount namespace or write the new user namespace's
/// maps with the old namespace's privileges.
pub struct Helper {
    pid: Pid,
    owner: Pid,
    go: Option<OwnedFd>,
}

/// Which side of [`Helper::fork`] this is.
pub enum Side {
    Parent(Helper),
    /// The helper: act when [`Side::wait`] returns true, then end.
    Helper(OwnedFd),
}

impl Helper {
    pub fn fork() -> anyhow::Result<Side> {
        let (rx, tx) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe failed")?;
        let owner = getpid();
        // SAFETY: runshare is single-threaded, so the child may do anything.
        match unsafe { fork() }.context("fork failed")? {
            ForkResult::Parent { child } => Ok(Side::Parent(Helper {
                pid: child,
                owner,
                go: Some(tx),
            })),
            ForkResult::Child => {
                drop(tx);
                Ok(Side::Helper(rx))
            }
        }
    }

    /// Tells the helper to act and waits for it: its exit status (it has
    /// said what failed).
    pub fn go(mut self) -> anyhow::Result<u8> {
        if let Some(tx) = self.go.take() {
            File::from(tx)
                .write_all(&[1])
                .context("cannot wake the helper process")?;
        }
        let status = waitpid(self.pid, None).context("waitpid failed")?;
        self.pid = Pid::from_raw(0);
        Ok(match status {
            WaitStatus::Exited(_, code) => code as u8,
            _ => 1,
        })
    }
}

impl Drop for Helper {
    /// A helper never told to act reads end-of-file and ends; the process
    /// that forked it reaps it, so none is left behind.
    fn drop(&mut self) {
        self.go.take();
        if self.pid.as_raw() > 0 && getpid() == self.owner {
            let _ = waitpid(self.pid, None);
        }
    }
}

impl Side {
    /// In the helper: waits for the word; false when the parent went away
    /// without giving it.
    pub fn wait(rx: OwnedFd) -> bool {
        let mut byte = [0u8];
        matches!(File::from(rx).read(&mut byte), Ok(1))
    }
}

/// unshare(2), with the reason it failed when the system is the reason:
/// user namespaces disabled or exhausted, AppArmor's restriction, or a
/// missing capability.
pub fn unshare(flags: CloneFlags) -> anyhow::Result<()> {
    nix::sched::unshare(flags).map_err(|errno| match cause(flags, errno) {
        Some(why) => anyhow!(
            "unshare failed: {} ({why})",
            common::error::strerror(&errno.into())
        ),
        None => anyhow::Error::new(errno).context("unshare failed"),
    })
}

fn cause(flags: CloneFlags, errno: Errno) -> Option<String> {
    let sysctl = |name: &str| {
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        std::fs::read_to_string(path)
            .ok()
            .map(|v| v.trim().to_string())
    };
    let is = |name: &str, value: &str| sysctl(name).as_deref() == Some(value);
    let user = flags.contains(CloneFlags::CLONE_NEWUSER);
    match errno {
        Errno::ENOSPC | Errno::EUSERS if user => {
            let max = sysctl("user.max_user_namespaces")?;
            Some(match max.as_str() {
                "0" => "user.max_user_namespaces is 0".into(),
                n => format!("user.max_user_namespaces ({n}) reached"),
            })
        }
        Errno::EPERM if user && is("kernel.apparmor_restrict_unprivileged_userns", "1") => {
            Some("kernel.apparmor_restrict_unprivileged_userns is 1".into())
        }
        Errno::EPERM if user && is("kernel.unprivileged_userns_clone", "0") => {
            Some("kernel.unprivileged_userns_clone is 0".into())
        }
        Errno::EPERM if !user => {
            Some("needs CAP_SYS_ADMIN: run as root, or add --user to unshare as a user".into())
        }
        _ => None,
    }
}

/// unshare(2) for a mount namespace that will be bound onto a file.
///
/// Linux 6.18 numbers namespaces from per-CPU batches, so one made later
/// on another CPU can carry a lower id than the binder's, and the bind is
/// then refused as a namespace loop (`mnt_ns_loop`: EINVAL; unshare(1)
/// fails the same way at random). When that happens, the mount namespace
/// is copied again on each CPU in turn until one numbers it above the old.
pub fn unshare_bindable_mnt(flags: CloneFlags) -> anyhow::Result<()> {
    let id = || {
        File::open("/proc/self/ns/mnt")
            .ok()
            .and_then(|f| mnt_ns_id(&f))
    };
    let old = id();
    unshare(flags)?;
    let Some(old) = old else {
        return Ok(()); // no ids before Linux 6.10, and no batches either
    };
    if id().is_some_and(|new| new > old) {
        return Ok(());
    }
    let pid = Pid::from_raw(0);
    let saved = nix::sched::sched_getaffinity(pid).context("sched_getaffinity failed")?;
    for cpu in (0..nix::sched::CpuSet::count()).filter(|&c| saved.is_set(c).unwrap_or(false)) {
        let mut one = nix::sched::CpuSet::new();
        one.set(cpu).context("sched_setaffinity failed")?;
        nix::sched::sched_setaffinity(pid, &one).context("sched_setaffinity failed")?;
        nix::sched::unshare(CloneFlags::CLONE_NEWNS).context("unshare failed")?;
        if id().is_some_and(|new| new > old) {
            break;
        }
    }
    nix::sched::sched_setaffinity(pid, &saved).context("sched_setaffinity failed")
}

/// The id of the mount namespace `file` refers to (NS_GET_MNTNS_ID, Linux
/// 6.10+); None when the kernel has no such ioctl.
fn mnt_ns_id(file: &File) -> Option<u64> {
    const NS_GET_MNTNS_ID: libc::c_ulong = (2 << 30) | (8 << 16) | (0xb7 << 8) | 5;
    let mut id = 0u64;
    // SAFETY: the ioctl writes one u64 into `id`, which outlives the call.
    let rc = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(file),
            NS_GET_MNTNS_ID as _,
            &mut id,
        )
    };
    (rc == 0).then_some(id)
}

/// A pidfd of `pid`, to learn later whether it is still there.
pub fn pidfd_open(pid: Pid) -> nix::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes integers and returns a new descriptor (CLOEXEC).
    let fd =
        nix::errno::Errno::result(unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) })?;
    // SAFETY: the descriptor was just returned to us and is owned by no one else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
}

/// `--kill-child`: asks for `sig` when the parent dies, then checks that
/// the parent did not die before the ask (it would never come).
pub fn parent_gone(sig: libc::c_int, parent: std::os::fd::BorrowedFd) -> anyhow::Result<bool> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number by value; no memory.
    let set = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::c_ulong::try_from(sig)?) };
    nix::errno::Errno::result(set).context("prctl failed")?;
    let mut fds = [libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(&parent),
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: poll reads and writes the one pollfd of `fds`, with no wait.
    let ready = nix::errno::Errno::result(unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) })
        .context("poll parent pidfd failed")?;
    Ok(ready > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Kills and reaps the child on drop, by PID, even when the test fails.
    struct Killed(std::process::Child);

    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn a_second_map_write_says_why_it_failed() {
        if !nix::unistd::geteuid().is_root() {
            // As the integration harness does: visible, and counted by .ci/run.
            let line = "root\ta_second_map_write_says_why_it_failed\tneeds root\n";
            let _ = write!(std::io::stderr(), "SKIP {}", &line[5..]);
            if let Some(log) = std::env::var_os("BOXUTILS_SKIP_LOG") {
                let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
                f.write_all(line.as_bytes()).unwrap();
            }
            return;
        }
        let mut child = Killed(
            std::process::Command::new("unshare")
                .args(["-U", "sleep", "100"])
                .spawn()
                .unwrap(),
        );
        let path = PathBuf::from(format!("/proc/{}/uid_map", child.0.id()));
        // Wait (20 s at most) until the child is in its user namespace (the
        // map is empty).
        let start = std::time::Instant::now();
        while std::fs::read_link(format!("/proc/{}/ns/user", child.0.id())).ok()
            == std::fs::read_link("/proc/self/ns/user").ok()
        {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(20)
                    && child.0.try_wait().unwrap().is_none(),
                "unshare -U did not enter a user namespace"
            );
            std::thread::yield_now();
        }
        let first = write_proc(&path, "0 100000 1", "cannot open", "write failed");
        let second = write_proc(&path, "0 100000 1", "cannot open", "write failed");
        drop(child);
        first.unwrap();
        assert_eq!(
            second.unwrap_err().to_string(),
            format!(
                "write failed {}: Operation not permitted (a map can be written only once, \
                 and without CAP_SETUID/CAP_SETGID in the parent namespace only for one's own ID)",
                path.display()
            )
        );
    }

    #[test]
    fn a_file_off_procfs_is_refused() {
        let file = File::open("/").unwrap();
        let err = on_procfs(&file, Path::new("/")).unwrap_err();
        assert_eq!(err.to_string(), "/ is not on procfs");
        on_procfs(
            &File::open("/proc/self/status").unwrap(),
            Path::new("/proc"),
        )
        .unwrap();
    }
}
