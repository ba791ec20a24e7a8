//! `--pivot`: NEWROOT becomes the root mount of a new private mount
//! namespace and the old root is detached, so that no `..` leads above it
//! (chroot(2) can be climbed out of by root; pivot_root(2) cannot).
//!
//! NEWROOT is opened once and every mount is made through descriptors
//! (open_tree/move_mount, /proc/self/fd): a path swapped for a symbolic link
//! meanwhile cannot redirect a mount (runc CVE-2021-30465, bubblewrap
//! CVE-2024-42472).

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
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
    let tree = common::mount::open_tree_clone(dir.as_fd()).with_context(fail)?;
    common::mount::move_mount(tree.as_fd(), dir.as_fd()).with_context(fail)?;
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
