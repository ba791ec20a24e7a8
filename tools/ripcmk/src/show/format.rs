//! ipcs's ways of writing times, sizes, owners and the headers and starts
//! of rows, shared by its sections and details.

use std::fmt::Write as _;

use common::names::Names;

use super::Unit;
use crate::sysv::Perm;

/// `ctime(3)` without its newline: `Mon Nov 23 11:37:41 2026`, local time.
pub(super) fn ctime(t: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let time = t as libc::time_t;
    // SAFETY: tm is plain integers and a pointer; all zeros is valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r reads our time_t and writes only into our tm.
    if unsafe { libc::localtime_r(&time, &mut tm) }.is_null() {
        return t.to_string();
    }
    format!(
        "{} {}{:3} {:02}:{:02}:{:02} {}",
        DAYS[tm.tm_wday.rem_euclid(7) as usize],
        MONTHS[tm.tm_mon.rem_euclid(12) as usize],
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        i64::from(tm.tm_year) + 1900
    )
}

/// A time as the `-t` columns show it (`%-20.16s` of ctime + 4).
pub(super) fn short_time(t: i64) -> String {
    if t == 0 {
        return format!("{:<20}", "Not set");
    }
    let full = ctime(t);
    format!("{:<20.16}", full.get(4..).unwrap_or(&full))
}

/// A time as `-i` and the semaphore `-t` columns show it (`%-26.24s`).
pub(super) fn long_time(t: i64) -> String {
    if t == 0 {
        format!("{:<26}", "Not set")
    } else {
        format!("{:<26.24}", ctime(t))
    }
}

/// ipcutils' `ipc_print_size`: an optional label, the size in `unit`,
/// right-aligned to `width` (left when negative), then `end`.
pub(super) fn size(
    out: &mut String,
    unit: Unit,
    label: Option<&str>,
    bytes: u64,
    end: &str,
    width: isize,
) {
    match label {
        None => {}
        Some(l) if l.ends_with('=') => out.push_str(l),
        Some(l) if unit == Unit::Bytes => {
            let _ = write!(out, "{l} (bytes) = ");
        }
        Some(l) if unit == Unit::Kb => {
            let _ = write!(out, "{l} (kbytes) = ");
        }
        Some(l) => {
            let _ = write!(out, "{l} = ");
        }
    }
    let text = match unit {
        Unit::Default | Unit::Bytes => bytes.to_string(),
        Unit::Kb => (bytes / 1024).to_string(),
        Unit::Human => crate::size::human(bytes),
    };
    let w = width.unsigned_abs();
    let _ = if width < 0 {
        write!(out, "{text:<w$}")
    } else {
        write!(out, "{text:>w$}")
    };
    out.push_str(end);
}

/// `id owner` as the rows start: the name cut to 10, else the uid.
pub(super) fn id_owner(out: &mut String, names: &mut Names, id: i32, uid: u32, id_width: usize) {
    let _ = match names.user(uid) {
        Some(name) => write!(out, "{id:<id_width$} {name:<10.10}"),
        None => write!(out, "{id:<id_width$} {uid:<10}"),
    };
}

/// The `-c` row: id, perms, creator and owner names (uncut).
pub(super) fn creator_row(out: &mut String, names: &mut Names, p: &Perm) {
    let _ = write!(out, "{:<10} {:<10o}", p.id, p.mode & 0o777);
    for (n, user) in [
        (p.cuid, true),
        (p.cgid, false),
        (p.uid, true),
        (p.gid, false),
    ] {
        let name = if user { names.user(n) } else { names.group(n) };
        let _ = match name {
            Some(name) => write!(out, " {name:<10}"),
            None => write!(out, " {n:<10}"),
        };
    }
    out.push('\n');
}

/// The two header lines of a table.
pub(super) fn header(out: &mut String, title: &str, columns: &[(&str, usize)]) {
    let _ = writeln!(out, "------ {title} --------");
    let line: Vec<String> = columns.iter().map(|(c, w)| format!("{c:<w$}")).collect();
    let _ = writeln!(out, "{}", line.join(" "));
}

/// The `-c` header: the id column, perms, creator and owner.
pub(super) fn creator_header(out: &mut String, title: &str, id: &str) {
    let columns = [id, "perms", "cuid", "cgid", "uid", "gid"].map(|c| (c, 10));
    header(out, title, &columns);
}

/// The `-t` row of segments and queues: id, owner, three short times.
pub(super) fn times_row(
    out: &mut String,
    names: &mut Names,
    p: &Perm,
    id_width: usize,
    times: [i64; 3],
) {
    id_owner(out, names, p.id, p.uid, id_width);
    let [a, b, c] = times.map(short_time);
    let _ = writeln!(out, " {a} {b} {c}");
}

/// The header of a plain table: key, the id column, owner, perms, then
/// `rest`, as `key_row_start` starts its rows.
pub(super) fn plain_header(out: &mut String, title: &str, id: &str, rest: &[(&str, usize)]) {
    let mut columns = vec![("key", 10), (id, 10), ("owner", 10), ("perms", 10)];
    columns.extend_from_slice(rest);
    header(out, title, &columns);
}

/// The start of a plain row: key, id, owner, perms and the space after.
pub(super) fn key_row_start(out: &mut String, names: &mut Names, p: &Perm) {
    let _ = write!(out, "0x{:08x} ", p.key as u32);
    id_owner(out, names, p.id, p.uid, 10);
    let _ = write!(out, " {:<10o} ", p.mode & 0o777);
}

/// A size column of a plain row: human sizes are 6 wide, right-aligned,
/// then `human_pad`; the others fill `width`, left-aligned.
pub(super) fn column_size(out: &mut String, unit: Unit, bytes: u64, human_pad: &str, width: isize) {
    if unit == Unit::Human {
        size(out, unit, None, bytes, human_pad, 6);
    } else {
        size(out, unit, None, bytes, "", -width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_as_ipc_print_size() {
        let mut out = String::new();
        size(&mut out, Unit::Bytes, Some("max seg size"), 2048, "\n", 0);
        size(&mut out, Unit::Kb, Some("max seg size"), 2048, "\n", 0);
        size(&mut out, Unit::Human, Some("max seg size"), 2048, "\n", 0);
        size(&mut out, Unit::Default, None, 5, "|", -4);
        size(&mut out, Unit::Human, None, 5000, "|", 6);
        size(&mut out, Unit::Human, Some("size="), 5000, "\t", 0);
        assert_eq!(
            out,
            "max seg size (bytes) = 2048\nmax seg size (kbytes) = 2\nmax seg size = 2K\n\
             5   |  4.9K|size=4.9K\t"
        );
    }

    #[test]
    fn unset_times_say_so() {
        assert_eq!(short_time(0), "Not set             ");
        assert_eq!(long_time(0).len(), 26);
        assert_eq!(ctime(86400 * 365).len(), 24);
    }
}
