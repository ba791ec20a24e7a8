//! ripcs: util-linux ipcs. Lists the System V IPC objects of the caller's
//! IPC namespace in ipcs's exact layout (scripts parse it), shows one object
//! in detail, the namespace's limits and usage, and (beyond ipcs) JSON.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;

use clap::Parser;
use common::names::Names;
use serde::Serialize;

use crate::sysv::{self, Msg, Perm, Sem, Shm, SHM_DEST, SHM_LOCKED};

/// Show information on IPC facilities.
#[derive(Parser, Debug)]
#[command(
    name = "ripcs",
    version,
    infer_long_args = true,
    args_override_self = true,
    allow_negative_numbers = true
)]
pub struct Cli {
    /// Print details on the resource identified by ID (with one of -m, -q, -s).
    #[arg(short = 'i', long = "id", value_name = "ID")]
    pub id: Option<String>,

    /// Shared memory segments.
    #[arg(short = 'm', long = "shmems")]
    pub shmems: bool,

    /// Message queues.
    #[arg(short = 'q', long = "queues")]
    pub queues: bool,

    /// Semaphores.
    #[arg(short = 's', long = "semaphores")]
    pub semaphores: bool,

    /// All resources (the default).
    #[arg(short = 'a', long = "all")]
    pub all: bool,

    /// Show attach, detach and change times.
    #[arg(short = 't', long = "time", overrides_with_all = ["pid", "creator", "limits", "summary"])]
    pub time: bool,

    /// Show PIDs of creator and last operator.
    #[arg(short = 'p', long = "pid", overrides_with_all = ["time", "creator", "limits", "summary"])]
    pub pid: bool,

    /// Show creator and owner.
    #[arg(short = 'c', long = "creator", overrides_with_all = ["time", "pid", "limits", "summary"])]
    pub creator: bool,

    /// Show resource limits.
    #[arg(short = 'l', long = "limits", overrides_with_all = ["time", "pid", "creator", "summary"])]
    pub limits: bool,

    /// Show status summary.
    #[arg(short = 'u', long = "summary", overrides_with_all = ["time", "pid", "creator", "limits"])]
    pub summary: bool,

    /// Show sizes in human-readable format.
    #[arg(long = "human", overrides_with = "bytes")]
    pub human: bool,

    /// Show sizes in bytes.
    #[arg(short = 'b', long = "bytes", overrides_with = "human")]
    pub bytes: bool,

    /// List the objects as JSON (every field, numbers as numbers).
    #[arg(short = 'J', long = "json")]
    pub json: bool,

    /// Ignored, as ipcs ignores them.
    #[arg(hide = true)]
    pub rest: Vec<OsString>,
}

/// What the rows show (the last of -t -p -c -l -u wins, as in ipcs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Normal,
    Time,
    Pid,
    Creator,
    Limits,
    Summary,
}

/// How sizes are written; `Kb` only where ipcs uses it for defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Default,
    Bytes,
    Kb,
    Human,
}

impl Unit {
    /// This unit, or `default` where none was asked for.
    fn or(self, default: Unit) -> Unit {
        if self == Unit::Default {
            default
        } else {
            self
        }
    }
}

/// What ripcs will print, every argument read.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub msg: bool,
    pub shm: bool,
    pub sem: bool,
    pub id: Option<i32>,
    pub format: Format,
    pub unit: Unit,
    pub json: bool,
}

impl Plan {
    pub fn new(cli: &Cli) -> anyhow::Result<Plan> {
        let id = match &cli.id {
            Some(text) => Some(common::num::strtos32_or_err(
                text,
                "failed to parse id argument",
            )?),
            None => None,
        };
        let (mut msg, mut shm, mut sem) = (
            cli.queues || cli.all,
            cli.shmems || cli.all,
            cli.semaphores || cli.all,
        );
        if id.is_some() && [msg, shm, sem].iter().filter(|b| **b).count() != 1 {
            anyhow::bail!("when using an ID, a single resource must be specified");
        }
        if !msg && !shm && !sem {
            (msg, shm, sem) = (true, true, true);
        }
        let format = [
            (cli.time, Format::Time),
            (cli.pid, Format::Pid),
            (cli.creator, Format::Creator),
            (cli.limits, Format::Limits),
            (cli.summary, Format::Summary),
        ]
        .into_iter()
        .find_map(|(on, f)| on.then_some(f))
        .unwrap_or(Format::Normal);
        let unit = match (cli.human, cli.bytes) {
            (true, _) => Unit::Human,
            (_, true) => Unit::Bytes,
            _ => Unit::Default,
        };
        Ok(Plan {
            msg,
            shm,
            sem,
            id,
            format,
            unit,
            json: cli.json,
        })
    }
}

/// `ctime(3)` without its newline: `Mon Nov 23 11:37:41 2026`, local time.
fn ctime(t: i64) -> String {
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
fn short_time(t: i64) -> String {
    if t == 0 {
        return format!("{:<20}", "Not set");
    }
    let full = ctime(t);
    format!("{:<20.16}", full.get(4..).unwrap_or(&full))
}

/// A time as `-i` and the semaphore `-t` columns show it (`%-26.24s`).
fn long_time(t: i64) -> String {
    if t == 0 {
        format!("{:<26}", "Not set")
    } else {
        format!("{:<26.24}", ctime(t))
    }
}

/// ipcutils' `ipc_print_size`: an optional label, the size in `unit`,
/// right-aligned to `width` (left when negative), then `end`.
fn size(out: &mut String, unit: Unit, label: Option<&str>, bytes: u64, end: &str, width: isize) {
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
fn id_owner(out: &mut String, names: &mut Names, id: i32, uid: u32, id_width: usize) {
    let _ = match names.user(uid) {
        Some(name) => write!(out, "{id:<id_width$} {name:<10.10}"),
        None => write!(out, "{id:<id_width$} {uid:<10}"),
    };
}

/// The `-c` row: id, perms, creator and owner names (uncut).
fn creator_row(out: &mut String, names: &mut Names, p: &Perm) {
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
fn header(out: &mut String, title: &str, columns: &[(&str, usize)]) {
    let _ = writeln!(out, "------ {title} --------");
    let line: Vec<String> = columns.iter().map(|(c, w)| format!("{c:<w$}")).collect();
    let _ = writeln!(out, "{}", line.join(" "));
}

/// The `-c` header: the id column, perms, creator and owner.
fn creator_header(out: &mut String, title: &str, id: &str) {
    let columns = [id, "perms", "cuid", "cgid", "uid", "gid"].map(|c| (c, 10));
    header(out, title, &columns);
}

/// The `-t` row of segments and queues: id, owner, three short times.
fn times_row(out: &mut String, names: &mut Names, p: &Perm, id_width: usize, times: [i64; 3]) {
    id_owner(out, names, p.id, p.uid, id_width);
    let [a, b, c] = times.map(short_time);
    let _ = writeln!(out, " {a} {b} {c}");
}

/// The header of a plain table: key, the id column, owner, perms, then
/// `rest`, as `key_row_start` starts its rows.
fn plain_header(out: &mut String, title: &str, id: &str, rest: &[(&str, usize)]) {
    let mut columns = vec![("key", 10), (id, 10), ("owner", 10), ("perms", 10)];
    columns.extend_from_slice(rest);
    header(out, title, &columns);
}

/// The start of a plain row: key, id, owner, perms and the space after.
fn key_row_start(out: &mut String, names: &mut Names, p: &Perm) {
    let _ = write!(out, "0x{:08x} ", p.key as u32);
    id_owner(out, names, p.id, p.uid, 10);
    let _ = write!(out, " {:<10o} ", p.mode & 0o777);
}

/// A size column of a plain row: human sizes are 6 wide, right-aligned,
/// then `human_pad`; the others fill `width`, left-aligned.
fn column_size(out: &mut String, unit: Unit, bytes: u64, human_pad: &str, width: isize) {
    if unit == Unit::Human {
        size(out, unit, None, bytes, human_pad, 6);
    } else {
        size(out, unit, None, bytes, "", -width);
    }
}

/// ipcs's shared memory section.
fn shm_section(out: &mut String, names: &mut Names, plan: &Plan) -> anyhow::Result<()> {
    let unit = plan.unit;
    match plan.format {
        Format::Limits => {
            let (Some(shmall), Some(shmmax), Some(shmmni)) = (
                sysv::kernel_limit::<u64>("shmall"),
                sysv::kernel_limit::<u64>("shmmax"),
                sysv::kernel_limit::<u64>("shmmni"),
            ) else {
                out.push_str("unable to fetch shared memory limits\n");
                return Ok(());
            };
            let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
                .ok()
                .flatten()
                .map_or(4096, |p| p as u64);
            out.push_str("------ Shared Memory Limits --------\n");
            let _ = writeln!(out, "max number of segments = {shmmni}");
            size(
                out,
                unit.or(Unit::Kb),
                Some("max seg size"),
                shmmax,
                "\n",
                0,
            );
            // ipcs: on overflow print the largest multiple, not a wrapped value.
            if unit == Unit::Default {
                let per = page / 1024;
                let total = shmall.checked_mul(per).unwrap_or(u64::MAX - u64::MAX % per);
                size(
                    out,
                    Unit::Default,
                    Some("max total shared memory (kbytes)"),
                    total,
                    "\n",
                    0,
                );
            } else {
                let total = shmall
                    .checked_mul(page)
                    .unwrap_or(u64::MAX - u64::MAX % page);
                size(out, unit, Some("max total shared memory"), total, "\n", 0);
            }
            size(out, unit.or(Unit::Bytes), Some("min seg size"), 1, "\n", 0);
            return Ok(());
        }
        Format::Summary => {
            let Ok((_, info)) = sysv::shm_info() else {
                out.push_str("kernel not configured for shared memory\n");
                return Ok(());
            };
            out.push_str("------ Shared Memory Status --------\n");
            let _ = write!(
                out,
                "segments allocated {}\npages allocated {}\npages resident  {}\npages swapped   {}\n\
                 Swap performance: {} attempts\t {} successes\n",
                info.used_ids,
                info.shm_tot,
                info.shm_rss,
                info.shm_swp,
                info.swap_attempts,
                info.swap_successes
            );
            return Ok(());
        }
        Format::Creator => creator_header(out, "Shared Memory Segment Creators/Owners", "shmid"),
        Format::Time => header(
            out,
            "Shared Memory Attach/Detach/Change Times",
            &[
                ("shmid", 10),
                ("owner", 10),
                ("attached", 20),
                ("detached", 20),
                ("changed", 20),
            ],
        ),
        Format::Pid => header(
            out,
            "Shared Memory Creator/Last-op PIDs",
            &[("shmid", 10), ("owner", 10), ("cpid", 10), ("lpid", 10)],
        ),
        Format::Normal => plain_header(
            out,
            "Shared Memory Segments",
            "shmid",
            &[
                (if unit == Unit::Human { "size" } else { "bytes" }, 10),
                ("nattch", 10),
                ("status", 12),
            ],
        ),
    }
    for s in sysv::shms()? {
        let p = &s.perm;
        match plan.format {
            Format::Creator => creator_row(out, names, p),
            Format::Time => times_row(out, names, p, 10, [s.atime, s.dtime, s.ctime]),
            Format::Pid => {
                id_owner(out, names, p.id, p.uid, 10);
                let _ = writeln!(out, " {:<10} {:<10}", s.cpid, s.lpid);
            }
            _ => {
                key_row_start(out, names, p);
                column_size(out, unit, s.size, "    ", 10);
                let _ = writeln!(
                    out,
                    " {:<10} {:<6} {:<6}",
                    s.nattch,
                    if p.mode & SHM_DEST != 0 { "dest" } else { " " },
                    if p.mode & SHM_LOCKED != 0 {
                        "locked"
                    } else {
                        " "
                    }
                );
            }
        }
    }
    Ok(())
}

/// ipcs's message queue section.
fn msg_section(out: &mut String, names: &mut Names, plan: &Plan) -> anyhow::Result<()> {
    let unit = plan.unit;
    match plan.format {
        Format::Limits => {
            let (Some(msgmni), Some(msgmnb), Some(msgmax)) = (
                sysv::kernel_limit::<i32>("msgmni"),
                sysv::kernel_limit::<i32>("msgmnb"),
                sysv::kernel_limit::<u64>("msgmax"),
            ) else {
                out.push_str("unable to fetch message limits\n");
                return Ok(());
            };
            out.push_str("------ Messages Limits --------\n");
            let _ = writeln!(out, "max queues system wide = {msgmni}");
            let u = unit.or(Unit::Bytes);
            size(out, u, Some("max size of message"), msgmax, "\n", 0);
            // msgmnb is an int in ipcs; a negative one prints as it wraps.
            size(
                out,
                u,
                Some("default max size of queue"),
                msgmnb as u64,
                "\n",
                0,
            );
            return Ok(());
        }
        Format::Summary => {
            let Ok((_, info)) = sysv::msg_info() else {
                out.push_str("kernel not configured for message queues\n");
                return Ok(());
            };
            out.push_str("------ Messages Status --------\n");
            let _ = writeln!(out, "allocated queues = {}", info.msgpool);
            let _ = writeln!(out, "used headers = {}", info.msgmap);
            let end = if unit == Unit::Default {
                " bytes\n"
            } else {
                "\n"
            };
            size(out, unit, Some("used space"), info.msgtql as u64, end, 0);
            return Ok(());
        }
        Format::Creator => creator_header(out, "Message Queues Creators/Owners", "msqid"),
        Format::Time => header(
            out,
            "Message Queues Send/Recv/Change Times",
            &[
                ("msqid", 8),
                ("owner", 10),
                ("send", 20),
                ("recv", 20),
                ("change", 20),
            ],
        ),
        Format::Pid => header(
            out,
            "Message Queues PIDs",
            &[("msqid", 10), ("owner", 10), ("lspid", 10), ("lrpid", 10)],
        ),
        Format::Normal => plain_header(
            out,
            "Message Queues",
            "msqid",
            &[
                (
                    if unit == Unit::Human {
                        "size"
                    } else {
                        "used-bytes"
                    },
                    12,
                ),
                ("messages", 12),
            ],
        ),
    }
    for m in sysv::msgs()? {
        let p = &m.perm;
        match plan.format {
            Format::Creator => creator_row(out, names, p),
            Format::Time => times_row(out, names, p, 8, [m.stime, m.rtime, m.ctime]),
            Format::Pid => {
                id_owner(out, names, p.id, p.uid, 8);
                let _ = writeln!(out, "  {:5}     {:5}", m.lspid, m.lrpid);
            }
            _ => {
                key_row_start(out, names, p);
                column_size(out, unit, m.cbytes, "      ", 12);
                let _ = writeln!(out, " {:<12}", m.qnum);
            }
        }
    }
    Ok(())
}

/// ipcs's semaphore section.
fn sem_section(out: &mut String, names: &mut Names, plan: &Plan) -> anyhow::Result<()> {
    match plan.format {
        Format::Limits => {
            let Some([semmsl, semmns, semopm, semmni]) = sysv::sem_limits() else {
                out.push_str("unable to fetch semaphore limits\n");
                return Ok(());
            };
            out.push_str("------ Semaphore Limits --------\n");
            let _ = write!(
                out,
                "max number of arrays = {semmni}\nmax semaphores per array = {semmsl}\n\
                 max semaphores system wide = {semmns}\nmax ops per semop call = {semopm}\n\
                 semaphore max value = 32767\n"
            );
            return Ok(());
        }
        Format::Summary => {
            let Ok((_, info)) = sysv::sem_info() else {
                out.push_str("kernel not configured for semaphores\n");
                return Ok(());
            };
            out.push_str("------ Semaphore Status --------\n");
            let _ = writeln!(out, "used arrays = {}", info.semusz);
            let _ = writeln!(out, "allocated semaphores = {}", info.semaem);
            return Ok(());
        }
        // ipcs has no PID view of semaphores: nothing at all.
        Format::Pid => return Ok(()),
        Format::Creator => creator_header(out, "Semaphore Arrays Creators/Owners", "semid"),
        Format::Time => header(
            out,
            "Semaphore Operation/Change Times",
            &[
                ("semid", 8),
                ("owner", 10),
                ("last-op", 26),
                ("last-changed", 26),
            ],
        ),
        Format::Normal => plain_header(out, "Semaphore Arrays", "semid", &[("nsems", 10)]),
    }
    for s in sysv::sems()? {
        let p = &s.perm;
        match plan.format {
            Format::Creator => creator_row(out, names, p),
            Format::Time => {
                id_owner(out, names, p.id, p.uid, 8);
                let _ = writeln!(out, "  {} {}", long_time(s.otime), long_time(s.ctime));
            }
            _ => {
                key_row_start(out, names, p);
                let _ = writeln!(out, "{:<10}", s.nsems);
            }
        }
    }
    Ok(())
}

/// C's `%#o`: octal with a leading 0, except for 0 itself.
fn alt_octal(n: u32) -> String {
    if n == 0 {
        "0".into()
    } else {
        format!("0{n:o}")
    }
}

/// `ipcs -m -i ID`.
fn shm_detail(out: &mut String, unit: Unit, s: &Shm) {
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
fn msg_detail(out: &mut String, unit: Unit, m: &Msg) {
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
fn sem_detail(out: &mut String, s: &Sem) -> anyhow::Result<()> {
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

/// `-J`: `{"messages": [...], "sharedmemory": [...], "semaphores": [...]}`
/// (lsipc's names), only the kinds asked for, only `-i ID` when given.
fn json(plan: &Plan, names: &mut Names) -> anyhow::Result<String> {
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
    let mut text = serde_json::to_string_pretty(&top)?;
    text.push('\n');
    Ok(text)
}

/// `-i ID`: the one object, or a warning (exit 0, as ipcs) when absent.
fn detail(out: &mut String, plan: &Plan, id: i32) -> anyhow::Result<bool> {
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

/// ipcs's getopt_long options, in its order; -J is util-linux 2.40's.
pub const GETOPT: common::getopt::Table = {
    use common::getopt::Has::{No, Required};
    common::getopt::Table {
        short: "i:aqsmtcpluhVbJ",
        long: &[
            ("id", Required, Some(b'i')),
            ("queues", No, Some(b'q')),
            ("shmems", No, Some(b'm')),
            ("semaphores", No, Some(b's')),
            ("all", No, Some(b'a')),
            ("time", No, Some(b't')),
            ("pid", No, Some(b'p')),
            ("creator", No, Some(b'c')),
            ("limits", No, Some(b'l')),
            ("summary", No, Some(b'u')),
            ("human", No, None),
            ("bytes", No, Some(b'b')),
            ("version", No, Some(b'V')),
            ("help", No, Some(b'h')),
            ("json", No, Some(b'J')),
        ],
        newer: &["json"],
    }
};

/// Prints what the command line asks for.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let plan = Plan::new(&cli)?;
    let mut names = Names::default();
    let mut out = String::new();
    if plan.json {
        out = json(&plan, &mut names)?;
    } else if let Some(id) = plan.id {
        if !detail(&mut out, &plan, id)? {
            let _ = writeln!(std::io::stderr(), "ripcs: id {id} not found");
        }
    } else {
        out.push('\n');
        if plan.msg {
            msg_section(&mut out, &mut names, &plan)?;
            out.push('\n');
        }
        if plan.shm {
            shm_section(&mut out, &mut names, &plan)?;
            out.push('\n');
        }
        if plan.sem {
            sem_section(&mut out, &mut names, &plan)?;
            out.push('\n');
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_taken_whatever_it_looks_like() {
        // ipcs -i -m: the ID "-m", which is not a number.
        let argv = GETOPT.argv(["r", "-i", "-m"].map(OsString::from)).unwrap();
        let cli = Cli::try_parse_from(argv).unwrap();
        assert_eq!((cli.id.as_deref(), cli.shmems), (Some("-m"), false));
    }

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        Plan::new(&Cli::try_parse_from(args).unwrap())
    }

    #[test]
    fn the_last_output_option_wins() {
        assert_eq!(plan(&["ripcs", "-t", "-p"]).unwrap().format, Format::Pid);
        assert_eq!(plan(&["ripcs", "-u", "-l"]).unwrap().format, Format::Limits);
        assert_eq!(plan(&["ripcs", "-b", "--human"]).unwrap().unit, Unit::Human);
        assert_eq!(plan(&["ripcs", "--human", "-b"]).unwrap().unit, Unit::Bytes);
    }

    #[test]
    fn no_resource_means_all() {
        let p = plan(&["ripcs"]).unwrap();
        assert!(p.msg && p.shm && p.sem);
    }

    #[test]
    fn an_id_needs_exactly_one_resource() {
        for args in [&["ripcs", "-i", "0"][..], &["ripcs", "-a", "-i", "0"]] {
            let err = plan(args).unwrap_err();
            assert_eq!(
                err.to_string(),
                "when using an ID, a single resource must be specified"
            );
        }
        assert_eq!(plan(&["ripcs", "-m", "-i", "7"]).unwrap().id, Some(7));
        let err = plan(&["ripcs", "-m", "-i", "x"]).unwrap_err();
        assert_eq!(
            common::error::one_line(&err),
            "failed to parse id argument: 'x'"
        );
    }

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
