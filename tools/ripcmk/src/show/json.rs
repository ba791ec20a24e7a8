//! `-J`: what the other options show, as JSON (ipcs has no -J; the keys
//! are lsipc's and the kernel's names). The object list by default and
//! with `-i`; with `-c`, `-t` or `-p` the objects with only that view's
//! fields; with `-l` and `-u` the limits and usage figures of each kind.

use common::names::Names;
use serde::Serialize;

use super::figures;
use super::{Format, Plan};
use crate::sysv::{self, Perm, SHM_DEST, SHM_LOCKED};

/// One object in `-J` output: its fields, times in seconds since the epoch
/// (`null` when never set).
#[derive(Serialize)]
struct JsonObject {
    key: u32,
    id: i32,
    owner: String,
    perms: String,
    #[serde(flatten)]
    ids: Owners,
    #[serde(flatten)]
    fields: serde_json::Map<String, serde_json::Value>,
}

/// The four owner ids of an object.
#[derive(Serialize)]
struct Owners {
    uid: u32,
    gid: u32,
    cuid: u32,
    cgid: u32,
}

fn json_object(names: &mut Names, p: &Perm, fields: serde_json::Value) -> JsonObject {
    JsonObject {
        key: p.key as u32,
        id: p.id,
        owner: names.owner(p.uid),
        perms: format!("{:o}", p.mode & 0o777),
        ids: Owners {
            uid: p.uid,
            gid: p.gid,
            cuid: p.cuid,
            cgid: p.cgid,
        },
        fields: match fields {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        },
    }
}

/// A time for JSON: `null` when never set.
fn json_time(t: i64) -> Option<i64> {
    (t != 0).then_some(t)
}

/// `-J`: `{"messages": ..., "sharedmemory": ..., "semaphores": ...}`
/// (lsipc's names), only the kinds asked for, in the view asked for.
pub(super) fn json(plan: &Plan, names: &mut Names) -> anyhow::Result<String> {
    let top = match plan.format {
        // ipcs shows an object in detail whatever the view.
        _ if plan.id.is_some() => objects(plan, names)?,
        Format::Limits => figures(
            plan,
            figures::msg_limits(),
            figures::shm_limits(),
            figures::sem_limits(),
        )?,
        Format::Summary => figures(
            plan,
            figures::msg_status(),
            figures::shm_status(),
            figures::sem_status(),
        )?,
        Format::Normal => objects(plan, names)?,
        view => {
            let mut top = objects(plan, names)?;
            for (kind, list) in top.iter_mut() {
                let keep = view_fields(view, kind);
                for object in list.as_array_mut().into_iter().flatten() {
                    if let Some(fields) = object.as_object_mut() {
                        fields.retain(|k, _| keep.contains(&k.as_str()));
                    }
                }
            }
            // ipcs has no PID view of semaphores: they are left out.
            if view == Format::Pid {
                top.remove("semaphores");
            }
            top
        }
    };
    let mut text = serde_json::to_string_pretty(&top)?;
    text.push('\n');
    Ok(text)
}

/// The fields of an object that the view `-c`, `-t` or `-p` shows for
/// `kind` (a key of the top object).
fn view_fields(view: Format, kind: &str) -> &'static [&'static str] {
    match (view, kind) {
        (Format::Creator, _) => &["id", "perms", "owner", "cuid", "cgid", "uid", "gid"],
        (Format::Time, "messages") => &["id", "owner", "stime", "rtime", "ctime"],
        (Format::Time, "sharedmemory") => &["id", "owner", "atime", "dtime", "ctime"],
        (Format::Time, _) => &["id", "owner", "otime", "ctime"],
        (Format::Pid, "messages") => &["id", "owner", "lspid", "lrpid"],
        (Format::Pid, _) => &["id", "owner", "cpid", "lpid"],
        _ => &[],
    }
}

/// `-l` or `-u`: one object of figures per kind asked for, `null` where
/// the kernel gives none.
fn figures(
    plan: &Plan,
    msg: Option<impl Serialize>,
    shm: Option<impl Serialize>,
    sem: Option<impl Serialize>,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let mut top = serde_json::Map::new();
    if plan.msg {
        top.insert("messages".into(), serde_json::to_value(msg)?);
    }
    if plan.shm {
        top.insert("sharedmemory".into(), serde_json::to_value(shm)?);
    }
    if plan.sem {
        top.insert("semaphores".into(), serde_json::to_value(sem)?);
    }
    Ok(top)
}

/// The objects of the kinds asked for, only `-i ID` when given.
fn objects(
    plan: &Plan,
    names: &mut Names,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let wanted = |id: i32| plan.id.is_none_or(|want| want == id);
    let mut top = serde_json::Map::new();
    if plan.msg {
        let list: Vec<JsonObject> = sysv::msgs()?
            .iter()
            .filter(|m| wanted(m.perm.id))
            .map(|m| {
                let fields = serde_json::json!({
                    "used_bytes": m.cbytes, "messages": m.qnum,
                    "qbytes": sysv::msg_qbytes(m.perm.id), "lspid": m.lspid, "lrpid": m.lrpid,
                    "stime": json_time(m.stime), "rtime": json_time(m.rtime),
                    "ctime": json_time(m.ctime),
                });
                json_object(names, &m.perm, fields)
            })
            .collect();
        top.insert("messages".into(), serde_json::to_value(list)?);
    }
    if plan.shm {
        let list: Vec<JsonObject> = sysv::shms()?
            .iter()
            .filter(|s| wanted(s.perm.id))
            .map(|s| {
                let mut status = Vec::new();
                if s.perm.mode & SHM_DEST != 0 {
                    status.push("dest");
                }
                if s.perm.mode & SHM_LOCKED != 0 {
                    status.push("locked");
                }
                let fields = serde_json::json!({
                    "bytes": s.size, "nattch": s.nattch, "status": status,
                    "cpid": s.cpid, "lpid": s.lpid, "atime": json_time(s.atime),
                    "dtime": json_time(s.dtime), "ctime": json_time(s.ctime),
                });
                json_object(names, &s.perm, fields)
            })
            .collect();
        top.insert("sharedmemory".into(), serde_json::to_value(list)?);
    }
    if plan.sem {
        let mut list = Vec::new();
        for s in sysv::sems()?.iter().filter(|s| wanted(s.perm.id)) {
            let mut fields = serde_json::json!({
                "nsems": s.nsems, "otime": json_time(s.otime), "ctime": json_time(s.ctime),
            });
            if plan.id.is_some() {
                fields["values"] = serde_json::to_value(sysv::sem_values(s.perm.id, s.nsems)?)?;
            }
            list.push(json_object(names, &s.perm, fields));
        }
        top.insert("semaphores".into(), serde_json::to_value(list)?);
    }
    Ok(top)
}
