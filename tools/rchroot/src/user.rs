//! --userspec and --groups, resolved the way coreutils chroot does: once
//! with the host's databases before entering NEWROOT (which also loads the
//! NSS modules), then again inside, where NEWROOT's /etc decides; the inside
//! answer wins, the outside one is the fallback for supplementary groups.

use std::ffi::CString;

use anyhow::Context;
use common::error::Code;

use crate::quote::quote;
use nix::unistd::{Gid, Group, Uid, User};

/// The ids a command will run with; `None` keeps the current one.
#[derive(Debug, Default, Clone)]
pub struct Ids {
    uid: Option<Uid>,
    gid: Option<Gid>,
    /// The login name of `uid`, for its supplementary groups.
    user: Option<String>,
    groups: Vec<Gid>,
}

/// The lookups done before entering NEWROOT; failures are ignored there.
pub fn before(userspec: Option<&str>, groups: Option<&str>) -> Ids {
    let mut ids = Ids::default();
    if let Some(Ok(((uid, gid), _))) = userspec.map(parse_spec_warn) {
        (ids.uid, ids.gid) = (uid, gid);
    }
    let _ = login(&mut ids, groups);
    match groups {
        Some(list) if !list.is_empty() => ids.groups = parse_groups(list).unwrap_or_default(),
        None => ids.groups = login_groups(&ids).unwrap_or_default(),
        Some(_) => {}
    }
    ids
}

/// Inside NEWROOT: redoes the lookups and switches to the ids, supplementary
/// groups first (they need the privilege that setuid drops).
pub fn apply(outside: Ids, userspec: Option<&str>, groups: Option<&str>) -> anyhow::Result<()> {
    let mut ids = Ids {
        groups: Vec::new(),
        ..outside.clone()
    };
    if let Some(spec) = userspec {
        // gnulib: what the spec leaves out keeps its earlier value.
        let ((uid, gid), dotted) = parse_spec_warn(spec).map_err(|e| Code(125, e.into()))?;
        if dotted {
            common::error::warn("rchroot", "'.' should be ':'");
        }
        ids.uid = uid.or(ids.uid);
        ids.gid = gid.or(ids.gid);
    }
    if let Err(uid) = login(&mut ids, groups) {
        if ids.gid.is_none() {
            anyhow::bail!("no group specified for unknown uid: {uid}");
        }
    }
    match groups {
        Some(list) if !list.is_empty() => {
            ids.groups = match parse_groups(list) {
                Ok(gids) => gids,
                // coreutils: the lookup outside worked, go with it.
                Err(_) if !outside.groups.is_empty() => outside.groups,
                // coreutils names every invalid group, one line each.
                Err(mut bad) => {
                    let last = bad.pop().unwrap_or_default();
                    for line in bad {
                        eprintln!("rchroot: {line}");
                    }
                    return Err(Code(125, last).into());
                }
            }
        }
        None if ids.gid.is_some() && ids.user.is_some() => {
            ids.groups = match login_groups(&ids) {
                Ok(gids) if !gids.is_empty() => gids,
                _ if !outside.groups.is_empty() => outside.groups,
                Ok(_) => anyhow::bail!("failed to get supplemental groups"),
                Err(e) => return Err(e).context("failed to get supplemental groups"),
            }
        }
        _ => {}
    }
    if ids.uid.is_some() || groups.is_some() {
        nix::unistd::setgroups(&ids.groups).context("failed to set supplemental groups")?;
    }
    if let Some(gid) = ids.gid {
        nix::unistd::setgid(gid).context("failed to set group-ID")?;
    }
    if let Some(uid) = ids.uid {
        nix::unistd::setuid(uid).context("failed to set user-ID")?;
    }
    Ok(())
}

/// Fills in the login name and, unless given, the primary group of the uid
/// (only when there is a uid and no group list, or no gid yet); the uid
/// back when it has no passwd entry.
fn login(ids: &mut Ids, groups: Option<&str>) -> Result<(), Uid> {
    let Some(uid) = ids.uid else { return Ok(()) };
    if groups.is_some() && ids.gid.is_some() {
        return Ok(());
    }
    match User::from_uid(uid) {
        Ok(Some(pw)) => {
            ids.gid = ids.gid.or(Some(pw.gid));
            ids.user = Some(pw.name);
            Ok(())
        }
        _ => Err(uid),
    }
}

/// getgrouplist(3) of the login name with the primary group.
fn login_groups(ids: &Ids) -> anyhow::Result<Vec<Gid>> {
    let (Some(name), Some(gid)) = (&ids.user, ids.gid) else {
        return Ok(Vec::new());
    };
    let name = CString::new(name.as_str())?;
    Ok(nix::unistd::getgrouplist(&name, gid)?)
}

/// The user and group of a --userspec; `None` keeps the current one.
type Spec = (Option<Uid>, Option<Gid>);

/// gnulib parse_user_spec: `USER`, `USER:GROUP` or `:GROUP`, names looked
/// up first, numbers otherwise; a leading `+` means "a number, no lookup".
fn parse_spec(spec: &str) -> Result<Spec, &'static str> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (Some(u).filter(|u| !u.is_empty()), Some(g)),
        None => (Some(spec), None),
    };
    let mut uid = None;
    let mut gid = None;
    if let Some(u) = user {
        match lookup(u, |n| User::from_name(n).map(|o| o.map(|p| (p.uid, p.gid)))) {
            Some(Ok((found, login_gid))) => {
                uid = Some(found);
                // `USER:` asks for the login group.
                if group == Some("") {
                    gid = Some(login_gid);
                }
            }
            Some(Err(n)) => uid = Some(Uid::from_raw(n)),
            None => return Err("invalid user"),
        }
    }
    if let Some(g) = group.filter(|g| !g.is_empty()) {
        gid = Some(
            match lookup(g, |n| Group::from_name(n).map(|o| o.map(|g| g.gid))) {
                Some(Ok(found)) => found,
                Some(Err(n)) => Gid::from_raw(n),
                None => return Err("invalid group"),
            },
        );
    }
    Ok((uid, gid))
}

/// gnulib parse_user_spec_warn: a spec without `:` that is no user may be
/// the old `USER.GROUP` form, which works with a warning (`true`).
fn parse_spec_warn(spec: &str) -> Result<(Spec, bool), &'static str> {
    match parse_spec(spec) {
        Err(e) if !spec.contains(':') => match spec.split_once('.') {
            Some((user, group)) => parse_spec(&format!("{user}:{group}"))
                .map(|ids| (ids, true))
                .map_err(|_| e),
            None => Err(e),
        },
        ids => ids.map(|ids| (ids, false)),
    }
}

/// A name found in the database (`Ok`), else a number (`Err(n)`), else None.
fn lookup<T>(name: &str, find: impl Fn(&str) -> nix::Result<Option<T>>) -> Option<Result<T, u32>> {
    if !name.starts_with('+') {
        if let Ok(Some(found)) = find(name) {
            return Some(Ok(found));
        }
    }
    number(name).map(Err)
}

/// xstrtoul: blanks, an optional `+`, decimal digits; -1 is not an id.
fn number(text: &str) -> Option<u32> {
    let digits = text.trim_start();
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&n| n != u32::MAX)
}

/// coreutils parse_additional_groups: names, or numbers when no group has
/// that name (a leading `+` skips the lookup); empty items are skipped.
/// Fails with a message for each invalid group, as coreutils reports them.
fn parse_groups(list: &str) -> Result<Vec<Gid>, Vec<String>> {
    let mut gids = Vec::new();
    let mut bad = Vec::new();
    for item in list.split(',').filter(|i| !i.is_empty()) {
        match lookup(item, |n| {
            Group::from_name(n.trim_start()).map(|o| o.map(|g| g.gid))
        }) {
            Some(Ok(gid)) => gids.push(gid),
            Some(Err(n)) => gids.push(Gid::from_raw(n)),
            None => bad.push(format!("invalid group {}", quote(item))),
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    if gids.is_empty() {
        return Err(vec![format!("invalid group list {}", quote(list))]);
    }
    Ok(gids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_by_number_and_name() {
        assert_eq!(
            parse_spec("+65534:+65533"),
            Ok((Some(Uid::from_raw(65534)), Some(Gid::from_raw(65533))))
        );
        assert_eq!(parse_spec(":7"), Ok((None, Some(Gid::from_raw(7)))));
        assert_eq!(parse_spec("root"), Ok((Some(Uid::from_raw(0)), None)));
        assert_eq!(
            parse_spec("root:"),
            Ok((Some(Uid::from_raw(0)), Some(Gid::from_raw(0))))
        );
        assert_eq!(parse_spec("no-such-user-bxt"), Err("invalid user"));
        assert_eq!(parse_spec("0:no-such-group-bxt"), Err("invalid group"));
        assert_eq!(parse_spec("4294967295"), Err("invalid user"));
        assert_eq!(
            parse_spec_warn("root.0"),
            Ok(((Some(Uid::from_raw(0)), Some(Gid::from_raw(0))), true))
        );
        assert_eq!(parse_spec_warn("no-such.0"), Err("invalid user"));
        assert_eq!(parse_spec_warn("0:0.x"), Err("invalid group"));
    }

    #[test]
    fn group_lists() {
        assert_eq!(
            parse_groups("0,,+12").unwrap(),
            [Gid::from_raw(0), Gid::from_raw(12)]
        );
        assert_eq!(
            parse_groups("no-such-group-bxt,0,no-such-bxt").unwrap_err(),
            [
                format!("invalid group {}", quote("no-such-group-bxt")),
                format!("invalid group {}", quote("no-such-bxt"))
            ]
        );
        assert_eq!(
            parse_groups(",").unwrap_err(),
            [format!("invalid group list {}", quote(","))]
        );
    }
}
