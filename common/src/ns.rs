//! Namespace kinds: their clone flags, their names in /proc/PID/ns and on
//! the command line of unshare, nsenter and lsns; and what the kernel says
//! about a namespace file (ioctl_ns(2)).

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sched::CloneFlags;

/// CLONE_NEWTIME is missing from nix.
pub const CLONE_NEWTIME: CloneFlags = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);

/// A kind of namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Mnt,
    Net,
    Pid,
    Uts,
    Ipc,
    User,
    Cgroup,
    Time,
}

impl Kind {
    /// All kinds, in the order lsns lists its types.
    pub const ALL: [Kind; 8] = [
        Kind::Mnt,
        Kind::Net,
        Kind::Pid,
        Kind::Uts,
        Kind::Ipc,
        Kind::User,
        Kind::Cgroup,
        Kind::Time,
    ];

    /// The name of the file in /proc/PID/ns and of the lsns TYPE.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Mnt => "mnt",
            Kind::Net => "net",
            Kind::Pid => "pid",
            Kind::Uts => "uts",
            Kind::Ipc => "ipc",
            Kind::User => "user",
            Kind::Cgroup => "cgroup",
            Kind::Time => "time",
        }
    }

    /// The kind named `name`, as lsns -t and /proc/PID/ns spell it.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn clone_flag(self) -> CloneFlags {
        match self {
            Kind::Mnt => CloneFlags::CLONE_NEWNS,
            Kind::Net => CloneFlags::CLONE_NEWNET,
            Kind::Pid => CloneFlags::CLONE_NEWPID,
            Kind::Uts => CloneFlags::CLONE_NEWUTS,
            Kind::Ipc => CloneFlags::CLONE_NEWIPC,
            Kind::User => CloneFlags::CLONE_NEWUSER,
            Kind::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            Kind::Time => CLONE_NEWTIME,
        }
    }

    /// `/proc/PID/ns/NAME`; `pid` None means `self`.
    pub fn proc_path(self, pid: Option<i32>) -> std::path::PathBuf {
        match pid {
            Some(pid) => format!("/proc/{pid}/ns/{}", self.name()).into(),
            None => format!("/proc/self/ns/{}", self.name()).into(),
        }
    }
}

/// The kind of the namespace `ns` (an nsfs file) is, by NS_GET_NSTYPE;
/// `Ok(None)` for a kind not in [`Kind::ALL`].
pub fn kind_of(ns: impl AsFd) -> nix::Result<Option<Kind>> {
    // SAFETY: NS_GET_NSTYPE takes no argument and only returns an integer.
    let flag = Errno::result(unsafe { libc::ioctl(ns.as_fd().as_raw_fd(), libc::NS_GET_NSTYPE) })?;
    Ok(Kind::ALL
        .into_iter()
        .find(|k| k.clone_flag().bits() == flag))
}

/// The user namespace that owns `ns` (NS_GET_USERNS); EPERM when it is
/// outside what we may see.
pub fn owner_of(ns: impl AsFd) -> nix::Result<OwnedFd> {
    related(ns, libc::NS_GET_USERNS)
}

/// The parent of the pid or user namespace `ns` (NS_GET_PARENT); EPERM at
/// the top of what we may see, EINVAL for other kinds.
pub fn parent_of(ns: impl AsFd) -> nix::Result<OwnedFd> {
    related(ns, libc::NS_GET_PARENT)
}

fn related(ns: impl AsFd, request: libc::Ioctl) -> nix::Result<OwnedFd> {
    // SAFETY: these ioctls take no argument and return a new descriptor.
    let fd = Errno::result(unsafe { libc::ioctl(ns.as_fd().as_raw_fd(), request) })?;
    // SAFETY: the descriptor was just returned to us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(Kind::from_name("mount"), None);
    }

    #[test]
    fn our_namespaces_tell_their_kind_and_owner() {
        for kind in Kind::ALL {
            let Ok(file) = std::fs::File::open(kind.proc_path(None)) else {
                continue; // a kind this kernel does not have
            };
            assert_eq!(kind_of(&file), Ok(Some(kind)));
            let owner = owner_of(&file).map(kind_of);
            // At the top of the hierarchy the owner may be out of sight.
            assert!(
                matches!(owner, Ok(Ok(Some(Kind::User))) | Err(Errno::EPERM)),
                "{owner:?}"
            );
        }
        let net = std::fs::File::open(Kind::Net.proc_path(None)).unwrap();
        assert_eq!(parent_of(&net).err(), Some(Errno::EINVAL));
        let proc_file = std::fs::File::open("/proc/self/stat").unwrap();
        assert_eq!(kind_of(&proc_file).err(), Some(Errno::ENOTTY));
    }
}
