//! The refusals made before anything is touched: each value as unshare's
//! getopt loop checks it (in command-line order, see `getopt`), a
//! persistence FILE, a `--mount-proc` target.

use std::path::Path;

use anyhow::{bail, Context};
use common::ns::Kind;
use nix::mount::MsFlags;

use crate::idmap::Spec;
use crate::parse;
use crate::plan::Setgroups;

/// A persistence FILE must exist; for a mount namespace the mount holding
/// it must not be shared, or the kernel refuses the bind (EINVAL) after
/// the namespace was made.
pub fn check_persist(kind: Kind, file: &Path) -> anyhow::Result<()> {
    let what = || {
        format!(
            "cannot keep the {} namespace on {}",
            kind.name(),
            file.display()
        )
    };
    let full = std::fs::canonicalize(file).with_context(what)?;
    if kind == Kind::Mnt {
        let mounts = common::mountinfo::own()?;
        let holder = mounts
            .iter()
            .filter(|m| full.starts_with(&m.mount_point))
            .max_by_key(|m| m.mount_point.as_os_str().len());
        if let Some(m) = holder.filter(|m| m.shared().is_some()) {
            bail!(
                "{}: the mount {} is shared; make it private first \
                 (mount --bind DIR DIR; mount --make-private DIR)",
                what(),
                m.mount_point.display()
            );
        }
    }
    Ok(())
}

/// `--mount-proc` mounts on DIR after the chroot and chdir; refuse now a
/// DIR that is not a directory there.
pub fn check_proc_target(dir: &Path, root: Option<&Path>, wd: Option<&Path>) -> anyhow::Result<()> {
    let in_root = |p: &Path| match root {
        Some(r) => r.join(p.strip_prefix("/").unwrap_or(p)),
        None => p.to_path_buf(),
    };
    let target = if dir.is_absolute() {
        in_root(dir)
    } else if let Some(wd) = wd {
        in_root(wd).join(dir)
    } else if root.is_some() {
        // The chroot changes directory to the new root.
        in_root(Path::new("/")).join(dir)
    } else {
        // Relative to the directory runshare runs in.
        dir.to_path_buf()
    };
    let meta =
        std::fs::metadata(&target).with_context(|| format!("mount {} failed", dir.display()))?;
    if !meta.is_dir() {
        return Err(std::io::Error::from_raw_os_error(libc::ENOTDIR))
            .with_context(|| format!("mount {} failed", dir.display()));
    }
    Ok(())
}

/// `--setgroups allow|deny`.
pub fn setgroups_named(s: &str) -> anyhow::Result<Setgroups> {
    match s {
        "allow" => Ok(Setgroups::Allow),
        "deny" => Ok(Setgroups::Deny),
        _ => bail!("unsupported --setgroups argument '{s}'"),
    }
}

/// `--propagation`: the flags for `/`, empty for `unchanged`.
pub fn propagation_named(s: &str) -> anyhow::Result<MsFlags> {
    Ok(match s {
        "private" => MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        "slave" => MsFlags::MS_REC | MsFlags::MS_SLAVE,
        "shared" => MsFlags::MS_REC | MsFlags::MS_SHARED,
        "unchanged" => MsFlags::empty(),
        _ => bail!("unsupported propagation mode: {s}"),
    })
}

/// The value of `--OPTION` checked as unshare's getopt loop checks it, if
/// it does: getopt.rs calls this in command-line order, so the first bad
/// value is the one named, and before a later `--help`.
pub fn check_value(option: &str, value: &str) -> anyhow::Result<()> {
    match option {
        "setuid" => parse::id(value, "failed to parse uid").map(drop),
        "setgid" => parse::id(value, "failed to parse gid").map(drop),
        "map-user" => user_id(value).map(drop),
        "map-group" => group_id(value).map(drop),
        "map-users" | "map-groups" => Spec::parse(value).map(drop),
        "kill-child" => parse::signal(value).map(drop),
        "owner" => owner_named(value).map(drop),
        "propagation" => propagation_named(value).map(drop),
        "setgroups" => setgroups_named(value).map(drop),
        "monotonic" => parse::offset(value, "failed to parse monotonic offset").map(drop),
        "boottime" => parse::offset(value, "failed to parse boottime offset").map(drop),
        _ => Ok(()),
    }
}

/// A user name, else a number (`--map-user`; util-linux `get_user`).
pub fn user_id(s: &str) -> anyhow::Result<u32> {
    match nix::unistd::User::from_name(s).ok().flatten() {
        Some(user) => Ok(user.uid.as_raw()),
        None => parse::id(s, "failed to parse uid"),
    }
}

/// A group name, else a number (`--map-group`; util-linux `get_group`).
pub fn group_id(s: &str) -> anyhow::Result<u32> {
    match nix::unistd::Group::from_name(s).ok().flatten() {
        Some(group) => Ok(group.gid.as_raw()),
        None => parse::id(s, "failed to parse gid"),
    }
}

/// `--owner UID:GID`, each a number or a name.
pub fn owner_named(s: &str) -> anyhow::Result<(u32, u32)> {
    let Some((user, group)) = s.split_once(':') else {
        bail!("invalid owner '{s}': UID:GID expected");
    };
    Ok((user_id(user)?, group_id(group)?))
}
