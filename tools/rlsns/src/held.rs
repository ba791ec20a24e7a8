//! Namespaces that processes hold without being in them: open namespace
//! descriptors and the network namespaces of sockets, from /proc/PID/fd.
//! Read only when asked (`-P`): it costs more than the rest of the scan.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use common::ns::Kind;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::Mode;

use crate::scan::{kind_index, parse_ns_link, Held, Want};
use crate::sys;

/// Namespaces open as descriptors of the process (links like `net:[INODE]`)
/// that it is not a member of, and the network namespaces of its sockets
/// (links like `socket:[INODE]`) other than its own, as lsns 2.41 finds
/// them.
pub fn read_held(dir: &OwnedFd, pid: i32, ns: &[u64; 8], want: Want, held: &mut Vec<(Held, u64)>) {
    let Ok(fd_dir) = openat(
        dir,
        "fd",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) else {
        return;
    };
    let numbers = fd_numbers(&fd_dir);
    drop(fd_dir);
    let mut name = String::with_capacity(16);
    let mut pidfd = None;
    let net = kind_index(Kind::Net);
    for fd in numbers {
        use std::fmt::Write;
        name.clear();
        let _ = write!(name, "fd/{fd}");
        let Ok(link) = readlinkat(dir, name.as_str()) else {
            continue;
        };
        if let Some((kind, ino)) = parse_ns_link(link.as_bytes()) {
            if want.kinds[kind_index(kind)] && !ns.contains(&ino) {
                held.push((Held::Path(format!("/proc/{pid}/fd/{fd}").into()), ino));
            }
        } else if want.kinds[net] && link.as_bytes().starts_with(b"socket:[") {
            let pidfd = pidfd.get_or_insert_with(|| sys::pidfd_open(pid));
            if let Some((file, ino)) = pidfd.as_ref().and_then(|p| sys::socket_netns(p, fd)) {
                if ino != ns[net] && !held.iter().any(|(_, i)| *i == ino) {
                    held.push((Held::Open(file), ino));
                }
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
