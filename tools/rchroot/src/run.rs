//! Entering NEWROOT and running the command there, as coreutils chroot
//! does; an exec that fails because the interpreter or a library is missing
//! says which.

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::Context;
use common::error::{strerror, Code, Exec};

use crate::{elf, pivot, user, Plan};

/// chroot(2) into NEWROOT, then [`enter`].
pub fn chroot(plan: &Plan, skip_chdir: bool) -> anyhow::Result<u8> {
    let me = own_binary();
    let ids = user::before(plan.userspec.as_deref(), plan.groups.as_deref());
    nix::unistd::chroot(&plan.newroot).with_context(|| {
        format!(
            "cannot change root directory to '{}'",
            plan.newroot.display()
        )
    })?;
    if !skip_chdir {
        // chroot(2) leaves the working directory outside the new root.
        nix::unistd::chdir("/").context("cannot chdir to root directory")?;
    }
    enter(plan, ids, me)
}

/// pivot_root(2) into NEWROOT in a new mount namespace, then [`enter`].
pub fn pivot(plan: &Plan, mount_proc: bool) -> anyhow::Result<u8> {
    let me = own_binary();
    let ids = user::before(plan.userspec.as_deref(), plan.groups.as_deref());
    pivot::pivot(&plan.newroot, mount_proc)?;
    enter(plan, ids, me)
}

/// Inside NEWROOT: switch ids and exec the command; returns only on failure.
fn enter(plan: &Plan, ids: user::Ids, me: Option<(u64, u64)>) -> anyhow::Result<u8> {
    user::apply(ids, plan.userspec.as_deref(), plan.groups.as_deref())?;
    let program = &plan.command[0];
    let failed = || format!("failed to run command '{}'", Path::new(program).display());
    refuse_own_binary(program, me).with_context(failed)?;
    let err = common::process::exec(&plan.command);
    Err(explain(err)).with_context(failed)
}

/// Device and inode of the running binary, read before leaving the host.
fn own_binary() -> Option<(u64, u64)> {
    std::fs::metadata("/proc/self/exe")
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// runc CVE-2019-5736: a NEWROOT whose command is (or whose `#!` names)
/// /proc/self/exe would run this very binary inside, where root in NEWROOT
/// could reopen it through /proc/PID/exe and overwrite it on the host.
fn refuse_own_binary(program: &OsStr, me: Option<(u64, u64)>) -> anyhow::Result<()> {
    let Some(me) = me else { return Ok(()) };
    let mut path = crate::in_path(program);
    for _ in 0..=elf::MAX_SHEBANGS {
        let Some(p) = path else { return Ok(()) };
        if std::fs::metadata(&p).is_ok_and(|m| (m.dev(), m.ino()) == me) {
            return Err(Code(
                126,
                format!(
                    "refusing to run rchroot's own binary inside NEWROOT (via '{}')",
                    p.display()
                ),
            )
            .into());
        }
        path = elf::shebang(&p);
    }
    Ok(())
}

/// The failed exec as an error; for "No such file or directory" on a file
/// that exists, with what the loader would miss.
fn explain(err: Exec) -> anyhow::Error {
    if err.source.kind() == std::io::ErrorKind::NotFound {
        let missing = crate::in_path(&err.program)
            .and_then(|path| elf::closure(&path).ok())
            .map(|c| c.missing)
            .unwrap_or_default();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|(what, _)| what.as_str()).collect();
            return Code(
                127,
                format!(
                    "{} (missing in NEWROOT: {})",
                    strerror(&err.source),
                    names.join(", ")
                ),
            )
            .into();
        }
    }
    err.into()
}
