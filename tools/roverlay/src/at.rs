//! Making things below a root directory by descriptor: every name is
//! resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), and each
//! call takes a directory descriptor and a single name.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use nix::errno::Errno;

pub fn owned(rc: libc::c_long) -> nix::Result<OwnedFd> {
    let fd = Errno::result(rc)? as i32;
    // SAFETY: the syscall returned a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The directory `rel` below `root` opened O_PATH, never through a
/// symbolic link nor out of `root` (openat2).
pub fn beneath(root: BorrowedFd<'_>, rel: &Path) -> nix::Result<OwnedFd> {
    beneath_with(root, rel, libc::O_DIRECTORY)
}

/// `rel` below `root`, as [`beneath`] but not necessarily a directory
/// (a final symbolic link is itself opened).
pub fn beneath_with(root: BorrowedFd<'_>, rel: &Path, flags: libc::c_int) -> nix::Result<OwnedFd> {
    let path = if rel.as_os_str().is_empty() {
        CString::new(".")
    } else {
        CString::new(rel.as_os_str().as_bytes())
    }
    .map_err(|_| Errno::EINVAL)?;
    // SAFETY: open_how is plain data; all zeroes is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC | flags) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: a valid descriptor, a NUL-terminated path and an open_how
    // of the size given.
    owned(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })
}

/// `/proc/self/fd/DIR/NAME`: NAME in the directory `dir`, for the calls
/// that take only a path (lsetxattr).
pub fn in_dir(dir: BorrowedFd<'_>, name: &OsStr) -> PathBuf {
    Path::new(&format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name)
}

pub fn cname(name: &OsStr) -> anyhow::Result<CString> {
    CString::new(name.as_bytes()).context("a NUL byte in a name")
}

/// Removes `name` in `dir` if it is there: a directory with what it holds.
pub fn remove(dir: BorrowedFd<'_>, name: &OsStr) -> nix::Result<()> {
    match nix::unistd::unlinkat(dir, name, nix::unistd::UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(Errno::EISDIR) => {
            let sub = nix::fcntl::openat(
                dir,
                name,
                nix::fcntl::OFlag::O_RDONLY
                    | nix::fcntl::OFlag::O_DIRECTORY
                    | nix::fcntl::OFlag::O_NOFOLLOW
                    | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )?;
            let names: Vec<OsString> =
                nix::dir::Dir::from_fd(sub.try_clone().map_err(|_| Errno::EBADF)?)?
                    .iter()
                    .filter_map(Result::ok)
                    .map(|e| OsStr::from_bytes(e.file_name().to_bytes()).to_os_string())
                    .filter(|n| n != "." && n != "..")
                    .collect();
            for n in names {
                remove(sub.as_fd(), &n)?;
            }
            nix::unistd::unlinkat(dir, name, nix::unistd::UnlinkatFlags::RemoveDir)
        }
        Err(e) => Err(e),
    }
}

/// mknodat(2); `kind` is the file type with its permission bits (a
/// whiteout: `S_IFCHR` and none).
fn mknod(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    kind: libc::mode_t,
    dev: libc::dev_t,
) -> anyhow::Result<()> {
    let c = cname(name)?;
    // SAFETY: a valid descriptor, a NUL-terminated name and integers.
    let rc = unsafe { libc::mknodat(dir.as_raw_fd(), c.as_ptr(), kind, dev) };
    Errno::result(rc).map(drop).map_err(Into::into)
}

/// Sets the access and modification times of `name` in `dir` (not followed).
pub fn set_times(dir: BorrowedFd<'_>, name: &OsStr, mtime: u64) -> anyhow::Result<()> {
    let c = cname(name)?;
    let t = libc::timespec {
        tv_sec: mtime as libc::time_t,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: a valid descriptor, a NUL-terminated name, two timespecs.
    let rc = unsafe {
        libc::utimensat(
            dir.as_raw_fd(),
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    Errno::result(rc).map(drop).map_err(Into::into)
}

/// What [`make`] makes.
pub enum Make<'a> {
    Dir,
    File,
    Symlink(&'a OsStr),
    /// A hard link to a name in a directory.
    Link(BorrowedFd<'a>, &'a OsStr),
    /// A device or fifo: file type and device number.
    Node(libc::mode_t, libc::dev_t),
}

/// Makes `name` in `dir` (a regular file comes back open for writing),
/// replacing what was there, except that a directory stays a directory.
pub fn make(dir: BorrowedFd<'_>, name: &OsStr, what: &Make<'_>) -> anyhow::Result<Option<File>> {
    let once = || -> anyhow::Result<Option<File>> {
        match what {
            Make::Dir => {
                nix::sys::stat::mkdirat(dir, name, nix::sys::stat::Mode::from_bits_truncate(0o700))?
            }
            Make::File => {
                let fd = nix::fcntl::openat(
                    dir,
                    name,
                    nix::fcntl::OFlag::O_WRONLY
                        | nix::fcntl::OFlag::O_CREAT
                        | nix::fcntl::OFlag::O_EXCL
                        | nix::fcntl::OFlag::O_NOFOLLOW
                        | nix::fcntl::OFlag::O_CLOEXEC,
                    nix::sys::stat::Mode::from_bits_truncate(0o600),
                )?;
                return Ok(Some(File::from(fd)));
            }
            Make::Symlink(target) => nix::unistd::symlinkat(*target, dir, name)?,
            Make::Link(from_dir, from) => {
                let (a, b) = (cname(from)?, cname(name)?);
                // SAFETY: valid descriptors, NUL-terminated names, flags 0
                // (a final symbolic link is linked, not followed).
                let rc = unsafe {
                    libc::linkat(
                        from_dir.as_raw_fd(),
                        a.as_ptr(),
                        dir.as_raw_fd(),
                        b.as_ptr(),
                        0,
                    )
                };
                Errno::result(rc)?;
            }
            Make::Node(kind, dev) => mknod(dir, name, *kind, *dev)?,
        }
        Ok(None)
    };
    match once() {
        Err(e) if e.downcast_ref::<Errno>() == Some(&Errno::EEXIST) => {
            if matches!(what, Make::Dir) {
                let st =
                    nix::sys::stat::fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)?;
                if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                    return Ok(None);
                }
            }
            remove(dir, name)?;
            once()
        }
        other => other,
    }
}

/// Owner, then mode (chown clears set-user-ID bits), then modification
/// time of `name` in `dir`, each only when given; a symbolic link is not
/// followed.
pub fn set_attrs(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    mtime: Option<u64>,
) -> anyhow::Result<()> {
    if let Some((uid, gid)) = owner {
        let c = cname(name)?;
        // SAFETY: a valid descriptor, a NUL-terminated name, integers.
        let rc = unsafe {
            libc::fchownat(
                dir.as_raw_fd(),
                c.as_ptr(),
                uid,
                gid,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        Errno::result(rc)?;
    }
    if let Some(mode) = mode {
        nix::sys::stat::fchmodat(
            dir,
            name,
            nix::sys::stat::Mode::from_bits_truncate(mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )?;
    }
    if let Some(mtime) = mtime {
        set_times(dir, name, mtime)?;
    }
    Ok(())
}

/// [`set_attrs`] for a file open for writing, by its descriptor.
pub fn file_attrs(
    file: &File,
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    mtime: Option<u64>,
) -> anyhow::Result<()> {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(file, Some(uid), Some(gid))?;
    }
    if let Some(mode) = mode {
        nix::sys::stat::fchmod(file, nix::sys::stat::Mode::from_bits_truncate(mode))?;
    }
    if let Some(mtime) = mtime {
        let t = nix::sys::time::TimeSpec::new(mtime as libc::time_t, 0);
        nix::sys::stat::futimens(file, &t, &t)?;
    }
    Ok(())
}
