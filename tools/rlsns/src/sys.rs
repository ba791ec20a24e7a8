//! What the kernel says about one namespace file: its type, owner, parent
//! and owner's UID (ioctl_ns(2)), and its id in the network subsystem
//! (RTM_GETNSID over NETLINK_ROUTE, as lsns asks for it).

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use common::ns::Kind;

// <linux/nsfs.h>: _IO(0xb7, 4)
const NS_GET_OWNER_UID: libc::c_ulong = 0xb704;

/// The namespace above `ns`: its parent (pid and user namespaces) or its
/// owning user namespace. None when there is none we may see (EPERM at the
/// top of the hierarchy).
pub fn related(ns: &File, parent: bool) -> Option<(File, u64)> {
    let fd = if parent {
        common::ns::parent_of(ns)
    } else {
        common::ns::owner_of(ns)
    };
    let file = File::from(fd.ok()?);
    let ino = file.metadata().ok()?.ino();
    Some((file, ino))
}

/// The kind of the namespace `ns` refers to.
pub fn kind(ns: &File) -> Option<Kind> {
    common::ns::kind_of(ns).ok().flatten()
}

/// The UID owning the user namespace that owns `ns`.
pub fn owner_uid(ns: &File) -> Option<u32> {
    let mut uid: libc::uid_t = 0;
    // SAFETY: NS_GET_OWNER_UID writes one uid_t to the pointer it is given,
    // which points to a live local.
    let rc = unsafe { libc::ioctl(ns.as_raw_fd(), NS_GET_OWNER_UID as _, &mut uid) };
    (rc == 0).then_some(uid)
}

/// A pidfd of process `pid` (pidfd_open(2)), None when it is gone or the
/// kernel is older than 5.3.
pub fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: the descriptor was just returned to us and nobody else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

// <linux/sockios.h>: the network namespace of a socket.
const SIOCGSKNS: libc::c_ulong = 0x894c;

/// The network namespace of the socket that is descriptor `fd` of the
/// process behind `pidfd` (a copy of it taken with pidfd_getfd(2), which
/// needs the right to ptrace the process), and its inode.
pub fn socket_netns(pidfd: &OwnedFd, fd: i32) -> Option<(File, u64)> {
    // SAFETY: pidfd_getfd takes a pidfd, a descriptor number and flags and
    // returns a new descriptor (CLOEXEC) or -1.
    let copy = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    let copy = i32::try_from(copy).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: the descriptor was just returned to us and nobody else owns it.
    let socket = unsafe { OwnedFd::from_raw_fd(copy) };
    // SAFETY: SIOCGSKNS takes no argument and returns a new descriptor.
    let ns = unsafe { libc::ioctl(socket.as_raw_fd(), SIOCGSKNS as _) };
    if ns < 0 {
        return None;
    }
    // SAFETY: the descriptor was just returned to us and nobody else owns it.
    let file = File::from(unsafe { OwnedFd::from_raw_fd(ns) });
    let ino = file.metadata().ok()?.ino();
    Some((file, ino))
}

/// A NETLINK_ROUTE socket for asking network namespace ids.
pub struct Netlink(OwnedFd);

// <linux/rtnetlink.h>, <linux/net_namespace.h>
const RTM_NEWNSID: u16 = 88;
const RTM_GETNSID: u16 = 90;
const NETNSA_NSID: u16 = 1;
const NETNSA_FD: u16 = 3;

/// The answer for one network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NsId {
    Id(i32),
    /// NETNSA_NSID_NOT_ASSIGNED: the namespace has no id in ours.
    Unassigned,
    /// No answer (lsns leaves the cell empty).
    Unknown,
}

impl Netlink {
    pub fn open() -> Option<Netlink> {
        // SAFETY: socket(2) takes only integers and returns a new fd or -1.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        // SAFETY: a non-negative `fd` is new and ours alone.
        (fd >= 0).then(|| Netlink(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The id of the network namespace `ns` as seen from ours.
    pub fn nsid(&self, ns: &File) -> NsId {
        // nlmsghdr (16) + rtgenmsg padded (4) + rtattr NETNSA_FD (8)
        let mut req = [0u8; 28];
        req[0..4].copy_from_slice(&28u32.to_ne_bytes());
        req[4..6].copy_from_slice(&RTM_GETNSID.to_ne_bytes());
        req[6..8].copy_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
        req[20..22].copy_from_slice(&8u16.to_ne_bytes());
        req[22..24].copy_from_slice(&NETNSA_FD.to_ne_bytes());
        req[24..28].copy_from_slice(&ns.as_raw_fd().to_ne_bytes());
        // SAFETY: the buffer is valid for its whole length.
        let sent = unsafe { libc::send(self.0.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
        if sent < 0 {
            return NsId::Unknown;
        }
        let mut res = [0u8; 256];
        // SAFETY: the buffer is valid and writable for its whole length.
        let got = unsafe { libc::recv(self.0.as_raw_fd(), res.as_mut_ptr().cast(), res.len(), 0) };
        if got < 28 {
            return NsId::Unknown;
        }
        let u16_at = |at: usize| u16::from_ne_bytes([res[at], res[at + 1]]);
        if u16_at(4) != RTM_NEWNSID || u16_at(22) != NETNSA_NSID {
            return NsId::Unknown;
        }
        match i32::from_ne_bytes([res[24], res[25], res[26], res[27]]) {
            -1 => NsId::Unassigned,
            id if id >= 0 => NsId::Id(id),
            _ => NsId::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_namespaces_have_a_kind() {
        // Every Linux this runs on has network namespaces.
        let f = File::open("/proc/self/ns/net").unwrap();
        assert_eq!(kind(&f), Some(Kind::Net));
    }

    #[test]
    fn own_network_namespace_answers_netlink() {
        let nl = Netlink::open().expect("a NETLINK_ROUTE socket");
        let f = File::open("/proc/self/ns/net").unwrap();
        assert_ne!(nl.nsid(&f), NsId::Unknown);
    }
}
