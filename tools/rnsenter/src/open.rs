//! Opening everything before entering anything: the namespace files (each
//! checked to be an nsfs file of the right type), the root and working
//! directories, the environment and the cgroup of the target.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use common::ns::Kind;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use crate::{From, Id, Plan};

/// nsenter's order of entry: user first (or last, see `enter`), mount late
/// because it changes what paths mean, time last.
const ORDER: [Kind; 8] = [
    Kind::User,
    Kind::Cgroup,
    Kind::Ipc,
    Kind::Uts,
    Kind::Net,
    Kind::Pid,
    Kind::Mnt,
    Kind::Time,
];

/// A namespace ready to be entered.
pub struct Joined {
    pub kind: Kind,
    /// `the net namespace of process 42`, for errors.
    pub what: String,
    pub fd: OwnedFd,
}

/// Everything rnsenter needs from the target and the files named, opened.
pub struct Opened {
    /// In order of entry.
    pub namespaces: Vec<Joined>,
    pub root: Option<OwnedFd>,
    pub wd: Option<OwnedFd>,
    pub environ: Option<File>,
    pub cgroup_procs: Option<OwnedFd>,
    /// The target's user and group IDs (for `-S follow`, `-G follow`).
    pub owner: Option<(u32, u32)>,
    /// -Z with SELinux on: the target's security context, for the command.
    pub context: Option<Vec<u8>>,
}

/// The target process: its /proc directory, opened once so that every file
/// comes from the same process even if its PID is reused meanwhile.
struct Target {
    pid: i32,
    dir: OwnedFd,
}

impl Target {
    fn open(pid: i32, plan: &Plan) -> anyhow::Result<Target> {
        let path = format!("/proc/{pid}");
        match nix::fcntl::open(
            path.as_str(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(dir) => Ok(Target { pid, dir }),
            Err(Errno::ENOENT) => {
                let what = match plan.namespaces.as_slice() {
                    [(kind, From::Target)] if !plan.all => format!("the {} namespace", kind.name()),
                    _ => "the namespaces".to_string(),
                };
                bail!("cannot enter {what} of process {pid}: no such process")
            }
            Err(e) => Err(e).with_context(|| format!("cannot open {path}")),
        }
    }

    /// `/proc/PID/NAME`, opened with `flags`.
    fn openat(&self, name: &str, flags: OFlag) -> nix::Result<OwnedFd> {
        nix::fcntl::openat(&self.dir, name, flags | OFlag::O_CLOEXEC, Mode::empty())
    }

    /// Why `/proc/PID/NAME` could not be opened; a target gone meanwhile says so.
    fn failed(&self, name: &str, errno: Errno) -> anyhow::Error {
        match errno {
            Errno::ENOENT | Errno::ESRCH => anyhow!("process {} has exited", self.pid),
            e => anyhow::Error::new(e).context(format!("cannot open /proc/{}/{name}", self.pid)),
        }
    }

    fn open_file(&self, name: &str, flags: OFlag) -> anyhow::Result<OwnedFd> {
        self.openat(name, flags).map_err(|e| self.failed(name, e))
    }

    fn what(&self, kind: Kind) -> String {
        format!("the {} namespace of process {}", kind.name(), self.pid)
    }

    /// -N: the network namespace of the target's socket `socket`, found as
    /// nsenter 2.41 finds it: a copy of the descriptor by pidfd_getfd(2),
    /// then its namespace by SIOCGSKNS. Both descriptors are close-on-exec.
    fn socket_namespace(&self, socket: i32) -> anyhow::Result<Joined> {
        let what = format!(
            "the net namespace of socket {socket} of process {}",
            self.pid
        );
        let fd = socket_netns(self.pid, socket).with_context(|| format!("cannot enter {what}"))?;
        Ok(Joined {
            kind: Kind::Net,
            what,
            fd,
        })
    }

    /// -Z: the target's SELinux context, as getpidcon(3) reads it.
    fn selinux_context(&self) -> anyhow::Result<Vec<u8>> {
        let file = File::from(self.open_file("attr/current", OFlag::O_RDONLY)?);
        let mut context = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut context)
            .with_context(|| format!("failed to get {} SELinux context", self.pid))?;
        while context.last().is_some_and(|&b| b == 0 || b == b'\n') {
            context.pop();
        }
        Ok(context)
    }

    fn namespace(&self, kind: Kind) -> anyhow::Result<Joined> {
        let what = self.what(kind);
        let fd = self
            .open_file(&format!("ns/{}", kind.name()), OFlag::O_RDONLY)
            .with_context(|| format!("cannot enter {what}"))?;
        Ok(Joined { kind, what, fd })
    }
}

impl Opened {
    pub fn open(plan: &Plan) -> anyhow::Result<Opened> {
        let target = plan.target.map(|pid| Target::open(pid, plan)).transpose()?;
        let mut namespaces = Vec::with_capacity(ORDER.len());
        for (kind, from) in &plan.namespaces {
            namespaces.push(match (from, &target) {
                (From::Target, Some(t)) => t.namespace(*kind)?,
                (From::Path(given), _) => open_named(*kind, given)?,
                (From::Target, None) => unreachable_target()?,
            });
        }
        if let (true, Some(t)) = (plan.all, &target) {
            all_others(t, &mut namespaces)?;
        }
        if let Some(socket) = plan.net_socket {
            let t = target.as_ref().map_or_else(unreachable_target, Ok)?;
            // nsenter 2.41: the socket's namespace replaces any other net one.
            namespaces.retain(|n| n.kind != Kind::Net);
            namespaces.push(t.socket_namespace(socket)?);
        }
        namespaces.sort_by_key(|n| ORDER.iter().position(|k| *k == n.kind));
        if plan.user_parent {
            user_parent(&mut namespaces, target.as_ref())?;
        }

        let target_dir = |from: &Option<From>, name: &str| -> anyhow::Result<Option<OwnedFd>> {
            let flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
            match (from, &target) {
                (None, _) => Ok(None),
                (Some(From::Target), Some(t)) => t.open_file(name, flags).map(Some),
                (Some(From::Path(dir)), _) => {
                    nix::fcntl::open(dir.as_path(), flags | OFlag::O_CLOEXEC, Mode::empty())
                        .map(Some)
                        .with_context(|| format!("cannot open {}", dir.display()))
                }
                (Some(From::Target), None) => unreachable_target(),
            }
        };
        let root = target_dir(&plan.root, "root")?;
        let wd = target_dir(&plan.wd, "cwd")?;

        // nsenter: without SELinux, -Z does nothing and needs no target.
        let mut context = None;
        if plan.follow_context && selinux_enabled() {
            let t = target
                .as_ref()
                .context("no target PID specified for --follow-context")?;
            context = Some(t.selinux_context()?);
        }
        let (mut environ, mut cgroup_procs, mut owner) = (None, None, None);
        if let Some(t) = &target {
            if plan.env {
                environ = Some(File::from(t.open_file("environ", OFlag::O_RDONLY)?));
            }
            if plan.uid == Some(Id::Follow) || plan.gid == Some(Id::Follow) {
                let st = nix::sys::stat::fstat(&t.dir)
                    .with_context(|| format!("can not get the owner of process {}", t.pid))?;
                owner = Some((st.st_uid, st.st_gid));
            }
            if plan.join_cgroup {
                cgroup_procs = Some(cgroup_procs_of(t)?);
            }
        }
        Ok(Opened {
            namespaces,
            root,
            wd,
            environ,
            cgroup_procs,
            owner,
            context,
        })
    }
}

/// Plan::new refuses what needs a target when none is given.
fn unreachable_target<T>() -> anyhow::Result<T> {
    bail!("no target PID specified")
}

/// -a: the target's namespaces not named otherwise, as nsenter picks them:
/// those this kernel has, and its user namespace only when it is not ours
/// (setns refuses to re-enter one's own user namespace).
fn all_others(target: &Target, namespaces: &mut Vec<Joined>) -> anyhow::Result<()> {
    for kind in ORDER {
        if namespaces.iter().any(|n| n.kind == kind) {
            continue;
        }
        let what = target.what(kind);
        let name = format!("ns/{}", kind.name());
        let fd = match target.openat(&name, OFlag::O_RDONLY) {
            Ok(fd) => fd,
            // Asked only on failure (it costs a path walk per kind): is it
            // the kernel that lacks the kind, or the target that is gone?
            Err(Errno::ENOENT) if !kind.proc_path(None).exists() => continue,
            Err(e) => return Err(target.failed(&name, e)).context(format!("cannot enter {what}")),
        };
        if kind == Kind::User {
            let ours = nix::sys::stat::stat(&kind.proc_path(None))
                .context("cannot stat /proc/self/ns/user")?;
            let theirs =
                nix::sys::stat::fstat(&fd).with_context(|| format!("cannot enter {what}"))?;
            if theirs.st_ino == ours.st_ino {
                continue;
            }
        }
        namespaces.push(Joined { kind, what, fd });
    }
    Ok(())
}

/// The network namespace of descriptor `socket` of process `pid`.
fn socket_netns(pid: i32, socket: i32) -> anyhow::Result<OwnedFd> {
    // SAFETY: pidfd_open takes integers and returns a new descriptor
    // (always close-on-exec) or -1.
    let pidfd = Errno::result(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })
        .context("pidfd_open failed")?;
    // SAFETY: the descriptor was just made for us and nobody else owns it.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as RawFd) };
    // SAFETY: pidfd_getfd takes integers and returns a new descriptor
    // (always close-on-exec) or -1.
    let copy = Errno::result(unsafe {
        libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), socket, 0)
    })
    .with_context(|| format!("cannot get its descriptor {socket}"))?;
    // SAFETY: as above, a new descriptor of ours.
    let copy = unsafe { OwnedFd::from_raw_fd(copy as RawFd) };
    // SAFETY: SIOCGSKNS takes no argument and returns a new descriptor
    // (opened close-on-exec by the kernel) or -1.
    match Errno::result(unsafe { libc::ioctl(copy.as_raw_fd(), libc::SIOCGSKNS) }) {
        // SAFETY: as above, a new descriptor of ours.
        Ok(ns) => Ok(unsafe { OwnedFd::from_raw_fd(ns) }),
        Err(Errno::ENOTTY) => bail!("descriptor {socket} is not a socket"),
        Err(e) => Err(e).context("ioctl SIOCGSKNS failed"),
    }
}

/// Whether SELinux is on, as libselinux's is_selinux_enabled() tells:
/// its file system is mounted.
fn selinux_enabled() -> bool {
    use nix::sys::statfs::{statfs, FsType};
    statfs("/sys/fs/selinux")
        .is_ok_and(|fs| fs.filesystem_type() == FsType(libc::SELINUX_MAGIC as _))
}

/// A FILE given to a namespace option: a path when it has a `/` or exists
/// here, else a name under /run/netns. Refused unless it is an nsfs file of
/// the namespace type asked for.
fn open_named(kind: Kind, given: &Path) -> anyhow::Result<Joined> {
    let path = resolve_name(given);
    let what = format!("the {} namespace in {}", kind.name(), path.display());
    let fd = nix::fcntl::open(
        path.as_path(),
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("cannot open {}", path.display()))
    .with_context(|| format!("cannot enter {what}"))?;
    check_type(&fd, kind).with_context(|| format!("cannot enter {what}"))?;
    Ok(Joined { kind, what, fd })
}

/// The precedence documented in the man page (NAMESPACE NAMES).
pub fn resolve_name(given: &Path) -> PathBuf {
    let bytes = given.as_os_str().as_encoded_bytes();
    if bytes.contains(&b'/') || given.symlink_metadata().is_ok() {
        return given.to_path_buf();
    }
    common::netns::named(&given.to_string_lossy())
}

/// Refuses a descriptor that is not a namespace of `kind`.
fn check_type(fd: &OwnedFd, kind: Kind) -> anyhow::Result<()> {
    let fs = nix::sys::statfs::fstatfs(fd).context("cannot stat its file system")?;
    if fs.filesystem_type() != nix::sys::statfs::NSFS_MAGIC {
        bail!("not a namespace file");
    }
    let actual = common::ns::kind_of(fd).context("cannot get the namespace type")?;
    if actual != Some(kind) {
        let actual = actual.map_or("another kind of", Kind::name);
        bail!(
            "it is a {actual} namespace, not a {} namespace",
            kind.name()
        );
    }
    Ok(())
}

/// --user-parent: the user namespace that owns the target's (or the one -U
/// names) takes the place of the user namespace to enter.
fn user_parent(namespaces: &mut Vec<Joined>, target: Option<&Target>) -> anyhow::Result<()> {
    let (child, child_what) = match namespaces.iter().position(|n| n.kind == Kind::User) {
        Some(i) => {
            let joined = namespaces.remove(i);
            (joined.fd, joined.what)
        }
        None => {
            let joined = target
                .map_or_else(unreachable_target, Ok)?
                .namespace(Kind::User)?;
            (joined.fd, joined.what)
        }
    };
    let what = format!("the parent of {child_what}");
    let fd = common::ns::owner_of(&child)
        .context("failed to open parent namespace")
        .with_context(|| format!("cannot enter {what}"))?;
    namespaces.insert(
        0,
        Joined {
            kind: Kind::User,
            what,
            fd,
        },
    );
    Ok(())
}

/// --join-cgroup: the target's cgroup.procs (cgroup v2 only, as nsenter).
fn cgroup_procs_of(target: &Target) -> anyhow::Result<OwnedFd> {
    let fs = nix::sys::statfs::statfs("/sys/fs/cgroup").context("statfs /sys/fs/cgroup failed")?;
    if fs.filesystem_type() != nix::sys::statfs::CGROUP2_SUPER_MAGIC {
        bail!("--join-cgroup is only supported in cgroup v2");
    }
    let file = File::from(target.open_file("cgroup", OFlag::O_RDONLY)?);
    let text = std::io::read_to_string(file).context("failed to get cgroup path")?;
    // The v2 line, `0::PATH`: on a host that also has v1 hierarchies the
    // first line is one of theirs.
    let path = text
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .context("failed to get cgroup path")?;
    let procs = format!("/sys/fs/cgroup/{path}/cgroup.procs");
    nix::fcntl::open(
        procs.as_str(),
        OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("failed to open {procs}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_run_netns_unless_a_path_or_here() {
        assert_eq!(
            resolve_name(Path::new("bxt-no-such-name")),
            PathBuf::from("/run/netns/bxt-no-such-name")
        );
        assert_eq!(resolve_name(Path::new("./RED")), PathBuf::from("./RED"));
        // Cargo runs unit tests in the crate directory, which has Cargo.toml.
        assert_eq!(
            resolve_name(Path::new("Cargo.toml")),
            PathBuf::from("Cargo.toml")
        );
    }

    #[test]
    fn a_regular_file_is_not_a_namespace() {
        let file = File::open("Cargo.toml").unwrap();
        let err = check_type(&OwnedFd::from(file), Kind::Net).unwrap_err();
        assert_eq!(err.to_string(), "not a namespace file");
    }

    #[test]
    fn a_namespace_of_another_type_is_refused() {
        let file = File::open("/proc/self/ns/uts").unwrap();
        let fd = OwnedFd::from(file);
        assert!(check_type(&fd, Kind::Uts).is_ok());
        let err = check_type(&fd, Kind::Net).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it is a uts namespace, not a net namespace"
        );
    }
}
