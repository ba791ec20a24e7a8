//! Entering NEWROOT and running the command there, as coreutils chroot
//! does; an exec that fails because the interpreter or a library is missing
//! says which.

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::Context;
use common::error::{strerror, Code, Exec};
use nix::errno::Errno;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag, AT_FDCWD};

use crate::quote::{quote, quote_file};
use crate::{elf, user, Plan};

/// Runs the command of `plan` in NEWROOT, entered by `enter_root`;
/// returns only on failure. Users and groups are looked up before and
/// after entering (coreutils), the command is checked and exec'd inside.
pub fn command(plan: &Plan, enter_root: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<u8> {
    let me = own_binary();
    let ids = user::before(plan.userspec.as_deref(), plan.groups.as_deref());
    enter_root()?;
    user::apply(ids, plan.userspec.as_deref(), plan.groups.as_deref())?;
    let program = &plan.command[0];
    let failed = || format!("failed to run command {}", quote(program));
    refuse_own_binary(program, me).with_context(failed)?;
    let err = common::process::exec(&plan.command);
    Err(explain(err)).with_context(failed)
}

/// chroot(2) into `newroot`, as coreutils chroot does.
pub fn chroot(newroot: &Path, skip_chdir: bool) -> anyhow::Result<()> {
    nix::unistd::chroot(newroot)
        .with_context(|| format!("cannot change root directory to {}", quote_file(newroot)))?;
    if !skip_chdir {
        // chroot(2) leaves the working directory outside the new root.
        nix::unistd::chdir("/").context("cannot chdir to root directory")?;
    }
    Ok(())
}

/// Device and inode of the running binary, read before leaving the host.
fn own_binary() -> Option<(u64, u64)> {
    std::fs::metadata("/proc/self/exe")
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// runc CVE-2019-5736: a command in NEWROOT that is (or whose `#!` names)
/// /proc/self/exe, /proc/PID/exe or another /proc magic link would run
/// this very binary inside, where root in NEWROOT could reopen it through
/// /proc/PID/exe and overwrite it on the host. Reaching it by an ordinary
/// path (`rchroot / rchroot / cmd`, or a copy bound into NEWROOT) opens
/// nothing the command could not open already, and is allowed.
fn refuse_own_binary(program: &OsStr, me: Option<(u64, u64)>) -> anyhow::Result<()> {
    let Some(me) = me else { return Ok(()) };
    let mut path = crate::in_path(program);
    for _ in 0..=elf::MAX_SHEBANGS {
        let Some(p) = path else { return Ok(()) };
        let ours = std::fs::metadata(&p).is_ok_and(|m| (m.dev(), m.ino()) == me);
        if ours && through_magic_link(&p) {
            return Err(Code(
                126,
                format!(
                    "refusing to run rchroot's own binary inside NEWROOT (via {})",
                    quote_file(&p)
                ),
            )
            .into());
        }
        path = elf::shebang(&p);
    }
    Ok(())
}

/// Whether resolving `path` passes a /proc magic link (openat2 with
/// RESOLVE_NO_MAGICLINKS refuses those with ELOOP). A kernel without
/// openat2 (before 5.6) cannot tell: the answer is yes, so that the binary
/// is refused rather than exposed.
fn through_magic_link(path: &Path) -> bool {
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_NO_MAGICLINKS);
    matches!(
        openat2(AT_FDCWD, path, how),
        Err(Errno::ELOOP | Errno::ENOSYS)
    )
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
