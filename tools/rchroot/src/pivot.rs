//! `--pivot`: NEWROOT becomes the root mount of a new private mount
//! namespace and the old root is detached, so that no `..` leads above it
//! (chroot(2) can be climbed out of by root; pivot_root(2) cannot).
//!
//! NEWROOT is opened once and every mount is made through descriptors
//! (open_tree/move_mount, /proc/self/fd): a path swapped for a symbolic link
//! meanwhile cannot redirect a mount (runc CVE-2021-30465, bubblewrap
//! CVE-2024-42472).

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use anyhow::{bail, Context};
use nix::fcntl::{open, openat, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::stat::{fstat, Mode, SFlag};

/// Pivots this process into `newroot`; the working directory becomes `/`.
pub fn pivot(newroot: &Path, mount_proc: bool) -> anyhow::Result<()> {
    let fail = || format!("cannot change root directory to '{}'", newroot.display());
    unshare(CloneFlags::CLONE_NEWNS).context("cannot unshare the mount namespace")?;
    // Opened in the new namespace: open_tree clones only mounts of our own.
    let dir = open(
        newroot,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(fail)?;
    // systemd makes / shared: without this our mounts would reach the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .context("cannot make / private")?;
    // pivot_root needs NEWROOT to be a mount point: bind it onto itself
    // (with what is mounted below it).
    let tree = open_tree(&dir).with_context(fail)?;
    move_mount(&tree, &dir).with_context(fail)?;
    if mount_proc {
        mount_proc_in(&tree, newroot)?;
    }
    nix::unistd::fchdir(&tree).with_context(fail)?;
    // pivot_root(".", "."): the old root ends up stacked on the new one,
    // where it can be detached without a directory to park it in.
    nix::unistd::pivot_root(".", ".").with_context(fail)?;
    umount2(".", MntFlags::MNT_DETACH).context("cannot detach the old root")?;
    nix::unistd::chdir("/").context("cannot chdir to root directory")?;
    Ok(())
}

/// A fresh proc on `proc` of the mounted tree; it must be a directory of
/// NEWROOT itself, not a link that could point anywhere (runc CVE-2019-16884).
fn mount_proc_in(tree: &OwnedFd, newroot: &Path) -> anyhow::Result<()> {
    let shown = newroot.join("proc");
    let fail = || format!("cannot mount proc on '{}'", shown.display());
    let target = openat(
        tree,
        "proc",
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(fail)?;
    let st = fstat(&target).with_context(fail)?;
    if st.st_mode & SFlag::S_IFMT.bits() != SFlag::S_IFDIR.bits() {
        bail!("{}: must be a directory", fail());
    }
    mount(
        Some("proc"),
        format!("/proc/self/fd/{}", target.as_raw_fd()).as_str(),
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .with_context(fail)
}

const EMPTY: &CStr = c"";

/// A detached copy of the mount tree at `dir` (open_tree(2) OPEN_TREE_CLONE).
fn open_tree(dir: &OwnedFd) -> nix::Result<OwnedFd> {
    let flags = libc::OPEN_TREE_CLONE
        | libc::OPEN_TREE_CLOEXEC
        | libc::AT_RECURSIVE as libc::c_uint
        | libc::AT_EMPTY_PATH as libc::c_uint;
    // SAFETY: a valid descriptor, a NUL-terminated path and integer flags;
    // the returned descriptor is new and owned by nobody else.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, dir.as_raw_fd(), EMPTY.as_ptr(), flags) };
    let fd = nix::errno::Errno::result(fd)? as RawFd;
    // SAFETY: open_tree returned a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Attaches the detached `tree` on top of `dir` (move_mount(2)).
fn move_mount(tree: &OwnedFd, dir: &OwnedFd) -> nix::Result<()> {
    let flags = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: valid descriptors, NUL-terminated paths and integer flags.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            EMPTY.as_ptr(),
            dir.as_raw_fd(),
            EMPTY.as_ptr(),
            flags,
        )
    };
    nix::errno::Errno::result(rc).map(drop)
}
