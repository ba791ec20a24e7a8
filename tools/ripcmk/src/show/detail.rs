//! `ipcs -i ID`: one object in detail.

use std::fmt::Write as _;

use super::format::{ctime, long_time, size};
use super::{Plan, Unit};
use crate::sysv::{self, Msg, Sem, Shm};

/// C's `%#o`: octal with a leading 0, except for 0 itself.
fn alt_octal(n: u32) -> String {
    if n == 0 {
        "0".into()
    } else {
        format!("0{n:o}")
    }
}

/// `ipcs -m -i ID`.
pub(super) fn shm_detail(out: &mut String, unit: Unit, s: &Shm) {
    let p = &s.perm;
    let _ = write!(
        out,
        "\nShared memory Segment shmid={}\nuid={}\tgid={}\tcuid={}\tcgid={}\n\
         mode={}\taccess_perms={}\n",
        p.id,
        p.uid,
        p.gid,
        p.cuid,
        p.cgid,
        alt_octal(p.mode),
        alt_octal(p.mode & 0o777)
    );
    let label = if unit == Unit::Human {
        "size="
    } else {
        "bytes="
    };
    size(out, unit, Some(label), s.size, "\t", 0);
    let _ = write!(
        out,
        "lpid={}\tcpid={}\tnattch={}\natt_time={}\ndet_time={}\nchange_time={}\n\n",
        s.lpid,
        s.cpid,
        s.nattch,
        long_time(s.atime),
        long_time(s.dtime),
        format_args!("{:<26.24}", ctime(s.ctime))
    );
}

/// `ipcs -q -i ID`.
pub(super) fn msg_detail(out: &mut String, unit: Unit, m: &Msg) {
    let p = &m.perm;
    let _ = write!(
        out,
        "\nMessage Queue msqid={}\nuid={}\tgid={}\tcuid={}\tcgid={}\tmode={}\n",
        p.id,
        p.uid,
        p.gid,
        p.cuid,
        p.cgid,
        alt_octal(p.mode)
    );
    let human = unit == Unit::Human;
    size(
        out,
        unit,
        Some(if human { "csize=" } else { "cbytes=" }),
        m.cbytes,
        "\t",
        0,
    );
    let qbytes = sysv::msg_qbytes(p.id).unwrap_or(0);
    size(
        out,
        unit,
        Some(if human { "qsize=" } else { "qbytes=" }),
        qbytes,
        "\t",
        0,
    );
    let _ = write!(
        out,
        "qnum={}\tlspid={}\tlrpid={}\nsend_time={}\nrcv_time={}\nchange_time={}\n\n",
        m.qnum,
        m.lspid,
        m.lrpid,
        long_time(m.stime),
        long_time(m.rtime),
        long_time(m.ctime)
    );
}

/// `ipcs -s -i ID`.
pub(super) fn sem_detail(out: &mut String, s: &Sem) -> anyhow::Result<()> {
    let p = &s.perm;
    let values = sysv::sem_values(p.id, s.nsems)?;
    let _ = write!(
        out,
        "\nSemaphore Array semid={}\nuid={}\t gid={}\t cuid={}\t cgid={}\n\
         mode={}, access_perms={}\nnsems = {}\notime = {}\nctime = {:<26.24}\n",
        p.id,
        p.uid,
        p.gid,
        p.cuid,
        p.cgid,
        alt_octal(p.mode),
        alt_octal(p.mode & 0o777),
        s.nsems,
        long_time(s.otime),
        ctime(s.ctime)
    );
    let _ = writeln!(
        out,
        "{:<10} {:<10} {:<10} {:<10} {:<10}",
        "semnum", "value", "ncount", "zcount", "pid"
    );
    for (n, v) in values.iter().enumerate() {
        let _ = writeln!(
            out,
            "{n:<10} {:<10} {:<10} {:<10} {:<10}",
            v.value, v.ncount, v.zcount, v.pid
        );
    }
    out.push('\n');
    Ok(())
}

/// `-i ID`: the one object, or a warning (exit 0, as ipcs) when absent.
pub(super) fn detail(out: &mut String, plan: &Plan, id: i32) -> anyhow::Result<bool> {
    if plan.msg {
        if let Some(m) = sysv::msgs()?.iter().find(|m| m.perm.id == id) {
            msg_detail(out, plan.unit, m);
            return Ok(true);
        }
    } else if plan.shm {
        if let Some(s) = sysv::shms()?.iter().find(|s| s.perm.id == id) {
            shm_detail(out, plan.unit, s);
            return Ok(true);
        }
    } else if let Some(s) = sysv::sems()?.iter().find(|s| s.perm.id == id) {
        sem_detail(out, s)?;
        return Ok(true);
    }
    Ok(false)
}
