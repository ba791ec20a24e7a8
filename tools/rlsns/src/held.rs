//! Namespaces that processes hold without being in them: open namespace
//! descriptors and the network namespaces of sockets, from /proc/PID/fd,
//! as lsns 2.41+ finds them in its default listing. Kept cheap: one stat
//! per descriptor tells a namespace (nsfs's device) or a socket from the
//! rest; a namespace's link (`net:[INODE]`) names its type, so types not
//! listed are passed over; sockets are looked at only when network
//! namespaces are listed, and one is copied out of its process
//! (pidfd_getfd) only when the kernel's own per-namespace socket tables do
//! not already show it in the process's network namespace.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, Mutex};

use common::ns::Kind;
use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode};

use crate::scan::{kind_index, parse_ns_link, Held, Want};
use crate::sys;

/// What the scanning threads share: the device of nsfs, and the socket
/// inodes of each network namespace (by inode) as its /proc/PID/net tables
/// list them.
#[derive(Debug, Default)]
pub struct Sockets {
    nsfs_dev: Option<u64>,
    tables: Mutex<HashMap<u64, Arc<HashSet<u64>>>>,
}

/// /proc/PID/net tables and the field (from 0) that holds the socket inode.
/// Each lists only sockets of the network namespace the directory belongs
/// to; sockets of other families (or unbound TCP/UDP ones) are not in them
/// and are asked about one by one.
const TABLES: [(&str, usize); 9] = [
    ("unix", 6),
    ("netlink", 9),
    ("packet", 8),
    ("tcp", 9),
    ("tcp6", 9),
    ("udp", 9),
    ("udp6", 9),
    ("raw", 9),
    ("raw6", 9),
];

impl Sockets {
    pub fn new() -> Sockets {
        Sockets {
            nsfs_dev: nix::sys::stat::stat("/proc/self/ns/net")
                .ok()
                .map(|st| st.st_dev),
            tables: Mutex::default(),
        }
    }

    /// The sockets of network namespace `netns`, the one of the process
    /// whose /proc directory is `dir`; None when that cannot be proven
    /// (the process moved to another namespace while its tables were read).
    fn of(&self, dir: &OwnedFd, netns: u64) -> Option<Arc<HashSet<u64>>> {
        let mut known = self.tables.lock().ok()?;
        if let Some(set) = known.get(&netns) {
            return Some(Arc::clone(set));
        }
        // The directory is bound to the process's namespace when opened:
        // every table read through it is of that one namespace, which is
        // `netns` if the process is still in it after the open.
        let net = openat(
            dir,
            "net",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let now = readlinkat(dir, "ns/net").ok()?;
        if parse_ns_link(now.as_bytes()).map(|(_, ino)| ino) != Some(netns) {
            return None;
        }
        let mut set = HashSet::new();
        let mut text = String::new();
        for (table, field) in TABLES {
            let Ok(fd) = openat(
                &net,
                table,
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            ) else {
                continue;
            };
            text.clear();
            if std::fs::File::from(fd).read_to_string(&mut text).is_err() {
                continue;
            }
            set.extend(
                text.lines()
                    .skip(1)
                    .filter_map(|l| l.split_ascii_whitespace().nth(field)?.parse::<u64>().ok()),
            );
        }
        let set = Arc::new(set);
        known.insert(netns, Arc::clone(&set));
        Some(set)
    }
}

/// Namespaces open as descriptors of the process (links like `net:[INODE]`)
/// that it is not a member of, and the network namespaces of its sockets
/// (links like `socket:[INODE]`) other than its own, as lsns 2.41+ finds
/// them.
pub fn read_held(
    dir: &OwnedFd,
    pid: i32,
    ns: &[u64; 8],
    want: Want,
    sockets: &Sockets,
    held: &mut Vec<(Held, u64)>,
) {
    let Ok(fd_dir) = openat(
        dir,
        "fd",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) else {
        return;
    };
    let net = kind_index(Kind::Net);
    let mut name = String::with_capacity(16);
    let mut pidfd = None;
    let mut own: Option<Option<Arc<HashSet<u64>>>> = None;
    for fd in fd_numbers(&fd_dir) {
        use std::fmt::Write;
        name.clear();
        let _ = write!(name, "{fd}");
        // One stat tells a namespace (nsfs's device) and a socket (its
        // inode is the socket's) from the rest; a readlink would not: a
        // namespace opened through a bind mount reads as a path (the mount
        // point, or `/` once unmounted).
        let st = match fstatat(&fd_dir, name.as_str(), AtFlags::empty()) {
            Ok(st) => st,
            // Refused by the ptrace check, which is the same for every
            // descriptor of the process: the others are refused too.
            Err(Errno::EACCES | Errno::EPERM) => break,
            Err(_) => continue,
        };
        if Some(st.st_dev) == sockets.nsfs_dev {
            let ino = st.st_ino;
            // Opened through /proc/PID/ns, the link names the type: other
            // types than those listed are passed over here.
            let kind = readlinkat(&fd_dir, name.as_str())
                .ok()
                .and_then(|l| parse_ns_link(l.as_bytes()))
                .filter(|&(_, i)| i == ino);
            if !ns.contains(&ino) && kind.is_none_or(|(k, _)| want.kinds[kind_index(k)]) {
                held.push((Held::Path(format!("/proc/{pid}/fd/{fd}").into()), ino));
            }
            continue;
        }
        if !want.kinds[net] || st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
            continue;
        }
        let socket = st.st_ino;
        // In the process's own namespace, listed with the process anyway.
        let own =
            own.get_or_insert_with(|| (ns[net] != 0).then(|| sockets.of(dir, ns[net])).flatten());
        if own.as_ref().is_some_and(|set| set.contains(&socket)) {
            continue;
        }
        let pidfd = pidfd.get_or_insert_with(|| sys::pidfd_open(pid));
        if let Some((file, ino)) = pidfd.as_ref().and_then(|p| sys::socket_netns(p, fd)) {
            if ino != ns[net] && !held.iter().any(|(_, i)| *i == ino) {
                held.push((Held::Open(file), ino));
            }
        }
    }
}

/// The descriptor numbers listed in an open /proc/PID/fd, read with
/// getdents64 directly: glibc's opendir would add an fstat, two fcntl and a
/// final empty read per process. procfs fills the buffer with every entry it
/// can, so a reply that leaves room for more entries is the last.
fn fd_numbers(dir: &OwnedFd) -> Vec<i32> {
    let mut numbers = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: getdents64 writes at most `buf.len()` bytes into `buf`,
        // which is valid and writable for that long; `dir` is an open fd.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                dir.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        let Ok(n) = usize::try_from(n) else {
            return numbers;
        };
        // struct linux_dirent64: ino u64, off i64, reclen u16, type u8, name
        let mut at = 0;
        while at + 19 < n {
            let reclen = usize::from(u16::from_ne_bytes([buf[at + 16], buf[at + 17]]));
            if reclen < 20 || at + reclen > n {
                return numbers;
            }
            let name = &buf[at + 19..at + reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            if let Some(fd) = std::str::from_utf8(name).ok().and_then(|t| t.parse().ok()) {
                numbers.push(fd);
            }
            at += reclen;
        }
        if n == 0 || n + 512 < buf.len() {
            return numbers;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_sockets_are_in_the_tables_of_their_namespace() {
        use std::os::unix::fs::MetadataExt;
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let socket = std::fs::metadata(format!("/proc/self/fd/{}", a.as_raw_fd()))
            .unwrap()
            .ino();
        let netns = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
        let dir = openat(
            nix::fcntl::AT_FDCWD,
            "/proc/self",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        let sockets = Sockets::new();
        let set = sockets.of(&dir, netns).unwrap();
        assert!(set.contains(&socket));
        assert!(sockets.of(&dir, netns + 1).is_none());
    }

    #[test]
    fn fd_numbers_of_this_process() {
        let dir = openat(
            nix::fcntl::AT_FDCWD,
            "/proc/self/fd",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        let numbers = fd_numbers(&dir);
        assert!(numbers.contains(&0) && numbers.contains(&dir.as_raw_fd()));
        assert_eq!(
            numbers.len(),
            std::fs::read_dir("/proc/self/fd").unwrap().count() - 1
        );
    }
}
