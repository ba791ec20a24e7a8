//! The new mount API (open_tree, move_mount, fsopen, fsconfig, fsmount),
//! by descriptor: a directory is opened once and every mount goes through
//! that descriptor, so a path swapped for a symbolic link meanwhile cannot
//! redirect a mount (runc CVE-2021-30465, bubblewrap CVE-2024-42472).
//! nix has none of these calls; they are libc syscalls here.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{open, openat, OFlag};
use nix::sys::stat::Mode;

const EMPTY: &CStr = c"";

/// `path` opened `O_PATH|O_NOFOLLOW|O_CLOEXEC`: the object itself, never
/// what a final symbolic link points at.
pub fn open_path(path: &Path) -> nix::Result<OwnedFd> {
    open(
        path,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// `name` below `dir` opened as [`open_path`] opens a path.
pub fn open_path_at(dir: BorrowedFd<'_>, name: &Path) -> nix::Result<OwnedFd> {
    openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// A new descriptor returned by a syscall, or its errno.
fn owned(rc: libc::c_long) -> nix::Result<OwnedFd> {
    let fd = Errno::result(rc)? as RawFd;
    // SAFETY: the syscall returned a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A detached copy of the mount tree at `dir`, with what is mounted below
/// it (open_tree(2) `OPEN_TREE_CLONE | AT_RECURSIVE`).
pub fn open_tree_clone(dir: BorrowedFd<'_>) -> nix::Result<OwnedFd> {
    let flags = libc::OPEN_TREE_CLONE
        | libc::OPEN_TREE_CLOEXEC
        | libc::AT_RECURSIVE as libc::c_uint
        | libc::AT_EMPTY_PATH as libc::c_uint;
    // SAFETY: a valid descriptor, a NUL-terminated path and integer flags.
    owned(unsafe { libc::syscall(libc::SYS_open_tree, dir.as_raw_fd(), EMPTY.as_ptr(), flags) })
}

/// Attaches the detached mount `tree` on top of the directory `target`
/// (move_mount(2), both by descriptor).
pub fn move_mount(tree: BorrowedFd<'_>, target: BorrowedFd<'_>) -> nix::Result<()> {
    let flags = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: valid descriptors, NUL-terminated paths and integer flags.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            EMPTY.as_ptr(),
            target.as_raw_fd(),
            EMPTY.as_ptr(),
            flags,
        )
    };
    Errno::result(rc).map(drop)
}

/// A filesystem context (fsopen(2)) being configured. A refusal carries
/// the text the kernel logged into the context, which says more than the
/// errno ("workdir and upperdir must reside under the same mount").
pub struct FsContext(OwnedFd);

/// An fsconfig(2) or fsmount(2) refusal: the errno and what the kernel said.
#[derive(Debug)]
pub struct Refused {
    pub errno: Errno,
    pub said: Option<String>,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = crate::error::strerror(&std::io::Error::from(self.errno));
        match &self.said {
            Some(said) => write!(f, "{said} ({text})"),
            None => f.write_str(&text),
        }
    }
}

impl std::error::Error for Refused {}

fn cstring(s: &str) -> Result<CString, Refused> {
    CString::new(s).map_err(|_| Refused {
        errno: Errno::EINVAL,
        said: Some(format!("'{s}' holds a NUL byte")),
    })
}

impl FsContext {
    /// A new context for a filesystem type (`overlay`).
    pub fn open(fstype: &str) -> Result<FsContext, Refused> {
        let name = cstring(fstype)?;
        // SAFETY: a NUL-terminated name and integer flags.
        let fd =
            owned(unsafe { libc::syscall(libc::SYS_fsopen, name.as_ptr(), libc::FSOPEN_CLOEXEC) })
                .map_err(|errno| Refused { errno, said: None })?;
        Ok(FsContext(fd))
    }

    fn config(
        &self,
        cmd: libc::c_uint,
        key: Option<&CStr>,
        value: *const libc::c_void,
        aux: libc::c_int,
    ) -> Result<(), Refused> {
        // SAFETY: our context descriptor, a NUL-terminated key or NULL, a
        // value that fits `cmd` (NULL, a NUL-terminated string) and an integer.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                self.0.as_raw_fd(),
                cmd,
                key.map_or(std::ptr::null(), CStr::as_ptr),
                value,
                aux,
            )
        };
        Errno::result(rc)
            .map(drop)
            .map_err(|errno| self.refused(errno))
    }

    /// `key` without a value (`FSCONFIG_SET_FLAG`: `volatile`, `userxattr`).
    pub fn set_flag(&self, key: &str) -> Result<(), Refused> {
        let key = cstring(key)?;
        self.config(libc::FSCONFIG_SET_FLAG, Some(&key), std::ptr::null(), 0)
    }

    /// `key=value` (`FSCONFIG_SET_STRING`); the kernel takes at most 255
    /// bytes of value.
    pub fn set_string(&self, key: &str, value: &str) -> Result<(), Refused> {
        let (key, value) = (cstring(key)?, cstring(value)?);
        self.config(
            libc::FSCONFIG_SET_STRING,
            Some(&key),
            value.as_ptr().cast(),
            0,
        )
    }

    /// `key` given a descriptor (`FSCONFIG_SET_FD`).
    pub fn set_fd(&self, key: &str, fd: BorrowedFd<'_>) -> Result<(), Refused> {
        let key = cstring(key)?;
        self.config(
            libc::FSCONFIG_SET_FD,
            Some(&key),
            std::ptr::null(),
            fd.as_raw_fd(),
        )
    }

    /// Makes the superblock (`FSCONFIG_CMD_CREATE`) and a detached mount
    /// of it with the `MOUNT_ATTR_*` flags `attrs` (fsmount(2)).
    pub fn mount(&self, attrs: u64) -> Result<OwnedFd, Refused> {
        self.config(libc::FSCONFIG_CMD_CREATE, None, std::ptr::null(), 0)?;
        // SAFETY: our context descriptor and integer flags.
        owned(unsafe {
            libc::syscall(
                libc::SYS_fsmount,
                self.0.as_raw_fd(),
                libc::FSMOUNT_CLOEXEC,
                attrs,
            )
        })
        .map_err(|errno| self.refused(errno))
    }

    /// `errno` with the last message the kernel logged into the context
    /// (lines `e overlay: ...`; reading takes them out).
    fn refused(&self, errno: Errno) -> Refused {
        let mut said = None;
        let mut buf = [0u8; 1024];
        while let Ok(n) = nix::unistd::read(self.0.as_fd(), &mut buf) {
            if n == 0 {
                break;
            }
            let line = String::from_utf8_lossy(&buf[..n]);
            let line = line.trim_end();
            said = Some(line.get(2..).unwrap_or(line).to_string());
        }
        Refused { errno, said }
    }
}
