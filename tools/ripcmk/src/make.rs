//! ripcmk: util-linux ipcmk. Makes a shared memory segment, a message
//! queue and/or a semaphore array and prints their ids, and (as util-linux
//! 2.41) POSIX objects by name; when one of them cannot be made, the ones
//! made before it are removed again.

use std::ffi::OsString;
use std::io::Write;

use anyhow::Context;
use clap::Parser;
use common::getopt::{text, Direct, Parsed};
use nix::errno::Errno;

use crate::posix;
use crate::sysv::{self, Kind};

/// Create various IPC resources.
#[derive(Parser, Debug, Default, PartialEq)]
#[command(
    name = "ripcmk",
    version,
    infer_long_args = true,
    args_override_self = true,
    allow_negative_numbers = true
)]
pub struct Cli {
    /// Create a shared memory segment of SIZE bytes; SIZE may end in K, M,
    /// G, T, P, E (powers of 1024, also KiB, MiB, ...) or KB, MB, ... (powers of 1000).
    #[arg(short = 'M', long = "shmem", value_name = "SIZE")]
    pub shmem: Option<String>,

    /// Create a semaphore array with NUMBER elements.
    #[arg(short = 'S', long = "semaphore", value_name = "NUMBER")]
    pub semaphore: Option<String>,

    /// Create a message queue.
    #[arg(short = 'Q', long = "queue")]
    pub queue: bool,

    /// Create a POSIX shared memory object of SIZE bytes named by --name.
    #[arg(short = 'm', long = "posix-shmem", value_name = "SIZE")]
    pub posix_shmem: Option<String>,

    /// Create a POSIX message queue named by --name.
    #[arg(short = 'q', long = "posix-mqueue")]
    pub posix_mqueue: bool,

    /// Create a POSIX named semaphore (value 0) named by --name.
    #[arg(short = 's', long = "posix-semaphore")]
    pub posix_semaphore: bool,

    /// The name of the POSIX objects, such as /NAME (needed for -m, -q, -s).
    #[arg(short = 'n', long = "name", value_name = "NAME")]
    pub name: Option<String>,

    /// Permission for the resource, in octal (default 0644).
    #[arg(short = 'p', long = "mode", value_name = "MODE")]
    pub mode: Option<String>,

    /// Ignored, as ipcmk ignores them.
    #[arg(hide = true)]
    pub rest: Vec<OsString>,
}

/// What ripcmk will make, every argument read and checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// The size of the segment to make, if any.
    pub shm: Option<u64>,
    /// Whether to make a message queue.
    pub msg: bool,
    /// The number of semaphores of the array to make, if any.
    pub sem: Option<i32>,
    /// The size of the POSIX shared memory object to make, if any.
    pub pshm: Option<u64>,
    /// Whether to make a POSIX message queue.
    pub pmsg: bool,
    /// Whether to make a POSIX semaphore.
    pub psem: bool,
    /// The name of the POSIX objects.
    pub name: String,
    /// The permission bits of each object.
    pub mode: u32,
}

/// A size as ipcmk reads it, or `failed to parse size: 'TEXT': why`.
fn size(text: &str) -> anyhow::Result<u64> {
    crate::size::parse_size(text)
        .map_err(crate::os_error)
        .with_context(|| format!("failed to parse size: '{text}'"))
}

impl Plan {
    /// Reads the arguments as ipcmk does; `None` when nothing is asked for.
    pub fn new(cli: &Cli) -> anyhow::Result<Option<Plan>> {
        let shm = cli.shmem.as_deref().map(size).transpose()?;
        let pshm = cli.posix_shmem.as_deref().map(size).transpose()?;
        let sem = match &cli.semaphore {
            Some(text) => Some(common::num::strtos32_or_err(
                text,
                "failed to parse elements",
            )?),
            None => None,
        };
        let mode = match &cli.mode {
            Some(text) => parse_mode(text)
                .map_err(crate::os_error)
                .with_context(|| format!("failed to parse mode: '{text}'"))?,
            None => 0o644,
        };
        let posix = pshm.is_some() || cli.posix_mqueue || cli.posix_semaphore;
        if shm.is_none() && sem.is_none() && !cli.queue && !posix {
            return Ok(None);
        }
        let name = match (&cli.name, posix) {
            (Some(name), _) => name.clone(),
            (None, false) => String::new(),
            (None, true) => anyhow::bail!("a name is needed for POSIX IPC objects (--name)"),
        };
        Ok(Some(Plan {
            shm,
            msg: cli.queue,
            sem,
            pshm,
            pmsg: cli.posix_mqueue,
            psem: cli.posix_semaphore,
            name,
            mode,
        }))
    }
}

/// An octal mode as C `strtoul(text, &end, 8)` reads it, all of the text.
/// Only the permission bits are kept: higher bits would be IPC flags.
fn parse_mode(text: &str) -> Result<u32, Errno> {
    let trimmed = text.trim_start();
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(Errno::EINVAL);
    }
    let value = u64::from_str_radix(digits, 8).map_err(|_| Errno::ERANGE)?;
    let value = if negative {
        value.wrapping_neg()
    } else {
        value
    };
    Ok((value & 0o777) as u32)
}

/// One object made, to be removed again if a later one fails.
enum Undo {
    Sysv(Kind, i32),
    Posix(Kind, String),
}

/// Removes what was made unless committed: ipcmk would leave the segment
/// behind when the queue after it fails; we do not.
struct Made(Vec<Undo>);

impl Drop for Made {
    fn drop(&mut self) {
        for undo in self.0.drain(..).rev() {
            let (result, what) = match &undo {
                Undo::Sysv(kind, id) => {
                    (sysv::remove(*kind, *id), format!("{} id {id}", kind.name()))
                }
                Undo::Posix(kind, name) => (
                    posix::unlink(*kind, name),
                    format!("{} {name}", posix::what(*kind)),
                ),
            };
            if let Err(e) = result {
                let _ = writeln!(
                    std::io::stderr(),
                    "ripcmk: cannot remove {what} again: {}",
                    crate::os_error(e)
                );
            }
        }
    }
}

/// Makes one object under a fresh random key, trying another key if that
/// one is taken (ipcmk would silently return the existing object).
fn make(kind: Kind, arg: u64, mode: u32) -> anyhow::Result<i32> {
    loop {
        match sysv::create(kind, sysv::random_key()?, arg, mode) {
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(explain(kind, arg, e)),
            Ok(id) => return Ok(id),
        }
    }
}

/// The failure in ipcmk's words, with the limit that was hit when the
/// kernel refused a size or count (the limits are per IPC namespace).
fn explain(kind: Kind, arg: u64, err: Errno) -> anyhow::Error {
    let what = match kind {
        Kind::Shm => "create share memory failed",
        Kind::Msg => "create message queue failed",
        Kind::Sem => "create semaphore failed",
    };
    let why = match (kind, err) {
        (Kind::Shm, Errno::EINVAL) if arg == 0 => {
            Some("size 0 is below the minimum of 1 byte".to_string())
        }
        (Kind::Shm, Errno::EINVAL) => sysv::kernel_limit::<u64>("shmmax")
            .filter(|max| arg > *max)
            .map(|max| format!("size {arg} exceeds kernel.shmmax ({max})")),
        (Kind::Sem, Errno::EINVAL) => sysv::sem_limits().map(|[semmsl, ..]| {
            format!(
                "{} semaphores are outside 1..{semmsl} (kernel.sem SEMMSL)",
                arg as i64
            )
        }),
        _ => None,
    };
    let err = crate::os_error(err);
    match why {
        Some(why) => err.context(why).context(what),
        None => err.context(what),
    }
}

/// ipcmk's getopt_long options, in its order; the POSIX ones are util-linux
/// 2.41's.
pub const GETOPT: common::getopt::Table = {
    use common::getopt::Has::{No, Required};
    common::getopt::Table {
        short: "hM:QS:p:Vm:qsn:",
        long: &[
            ("shmem", Required, Some(b'M')),
            ("semaphore", Required, Some(b'S')),
            ("queue", No, Some(b'Q')),
            ("mode", Required, Some(b'p')),
            ("version", No, Some(b'V')),
            ("help", No, Some(b'h')),
            ("posix-shmem", Required, Some(b'm')),
            ("posix-mqueue", No, Some(b'q')),
            ("posix-semaphore", No, Some(b's')),
            ("name", Required, Some(b'n')),
        ],
        newer: &["posix-shmem", "posix-mqueue", "posix-semaphore", "name"],
    }
};

/// Every line ipcmk's getopt reads, read without clap (the values are
/// checked by [`Plan::new`]); only a value that is not UTF-8 is left to it.
impl Direct for Cli {
    fn direct(parsed: &Parsed) -> Option<Cli> {
        let mut cli = Cli::default();
        for (name, value) in &parsed.options {
            match (*name, value) {
                ("shmem", Some(value)) => cli.shmem = Some(text(value)?),
                ("semaphore", Some(value)) => cli.semaphore = Some(text(value)?),
                ("queue", None) => cli.queue = true,
                ("posix-shmem", Some(value)) => cli.posix_shmem = Some(text(value)?),
                ("posix-mqueue", None) => cli.posix_mqueue = true,
                ("posix-semaphore", None) => cli.posix_semaphore = true,
                ("name", Some(value)) => cli.name = Some(text(value)?),
                ("mode", Some(value)) => cli.mode = Some(text(value)?),
                _ => return None,
            }
        }
        cli.rest = parsed.operands.clone();
        Some(cli)
    }
}

/// The binary's whole life, `ripcmk` and the multi-call binary's `ripcmk`
/// alike (`common::main!`): the command line `args` (`argv[0]` first) read as
/// ipcmk reads it ([`GETOPT`]), [`run`], and the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    common::cli::main_direct::<Cli>("ripcmk", 1, GETOPT.parse(args), run)
}

/// Makes what the command line asks for and prints the ids.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let Some(plan) = Plan::new(&cli)? else {
        return Err(crate::Usage("bad usage".into()).into());
    };
    let mut made = Made(Vec::new());
    let mut out = String::new();
    // ipcmk's order: each System V object, then its POSIX counterpart.
    let sysv_objects = [
        (Kind::Shm, plan.shm, "Shared memory id"),
        (Kind::Msg, plan.msg.then_some(0), "Message queue id"),
        // A negative count reaches the kernel as the C int it is.
        (Kind::Sem, plan.sem.map(|n| n as u64), "Semaphore id"),
    ];
    let posix_objects = [plan.pshm, plan.pmsg.then_some(0), plan.psem.then_some(0)];
    for ((kind, arg, label), posix_arg) in sysv_objects.into_iter().zip(posix_objects) {
        if let Some(arg) = arg {
            let id = make(kind, arg, plan.mode)?;
            made.0.push(Undo::Sysv(kind, id));
            out += &format!("{label}: {id}\n");
        }
        if let Some(size) = posix_arg {
            posix::create(kind, &plan.name, size, plan.mode).map_err(|e| {
                let err = crate::os_error(e);
                // glibc's mq_open refuses a name without its leading slash.
                let err = match (kind, e) {
                    (Kind::Msg, Errno::EINVAL) if !plan.name.starts_with('/') => {
                        err.context(format!("the name '{}' must start with /", plan.name))
                    }
                    _ => err,
                };
                err.context(format!("create {} failed", posix::what(kind)))
            })?;
            made.0.push(Undo::Posix(kind, plan.name.clone()));
            out += &format!("{} name: {}\n", posix::what(kind), plan.name);
        }
    }
    made.0.clear();
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // The objects stay (as with ipcmk): say which, so that they can be
        // found and removed although their ids were not printed.
        let what: Vec<String> = out.lines().map(|l| l.replacen(": ", " ", 1)).collect();
        return Err(anyhow::Error::new(err)
            .context("write error")
            .context(format!("made {}, not printed", what.join(", "))));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_is_taken_whatever_it_looks_like() {
        // ipcmk -p -M 1: the mode "-M", and an operand.
        let argv = GETOPT
            .argv(["r", "-p", "-M", "1"].map(OsString::from))
            .unwrap();
        let cli = Cli::try_parse_from(argv).unwrap();
        assert_eq!((cli.mode.as_deref(), cli.shmem), (Some("-M"), None));
    }

    #[test]
    fn direct_reading_is_clap_reading() {
        let read = |words| Some(GETOPT.parse(words));
        let operands: &[&[&str]] = &[&[], &["x", "-y"]];
        let (differences, answered) =
            common::getopt::direct_differences::<Cli>(&GETOPT, read, operands);
        assert_eq!(differences, Vec::<String>::new());
        assert!(answered > 50, "{answered}");
        let parsed = GETOPT.parse(["ripcmk", "-M", "4096"].map(OsString::from));
        assert!(Cli::direct(&parsed).is_some());
    }

    fn plan(args: &[&str]) -> anyhow::Result<Option<Plan>> {
        Plan::new(&Cli::try_parse_from(args).unwrap())
    }

    #[test]
    fn sizes_counts_and_modes_are_read_as_ipcmk_reads_them() {
        let p = plan(&["ripcmk", "-M", "1.5K", "-Q", "-S", "3", "-p", "0600"])
            .unwrap()
            .unwrap();
        assert_eq!(
            p,
            Plan {
                shm: Some(1536),
                msg: true,
                sem: Some(3),
                pshm: None,
                pmsg: false,
                psem: false,
                name: String::new(),
                mode: 0o600
            }
        );
    }

    #[test]
    fn posix_objects_need_a_name() {
        let p = plan(&["ripcmk", "-m", "1K", "-q", "-s", "-n", "/x"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.pshm, p.pmsg, p.psem, p.name.as_str()),
            (Some(1024), true, true, "/x")
        );
        let err = plan(&["ripcmk", "-q"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a name is needed for POSIX IPC objects (--name)"
        );
    }

    #[test]
    fn nothing_asked_is_none() {
        assert!(plan(&["ripcmk"]).unwrap().is_none());
        assert!(plan(&["ripcmk", "-p", "600"]).unwrap().is_none());
    }

    #[test]
    fn bad_arguments_say_which() {
        let err = plan(&["ripcmk", "-M", "abc"]).unwrap_err();
        assert_eq!(
            common::error::one_line(&err),
            "failed to parse size: 'abc': Invalid argument"
        );
        let err = plan(&["ripcmk", "-S", "x"]).unwrap_err();
        assert_eq!(
            common::error::one_line(&err),
            "failed to parse elements: 'x'"
        );
        let err = plan(&["ripcmk", "-Q", "-p", "999"]).unwrap_err();
        assert_eq!(
            common::error::one_line(&err),
            "failed to parse mode: '999': Invalid argument"
        );
    }

    #[test]
    fn modes_keep_permission_bits_only() {
        assert_eq!(parse_mode("0777777"), Ok(0o777));
        assert_eq!(parse_mode(" 640"), Ok(0o640));
        assert_eq!(parse_mode("64x"), Err(Errno::EINVAL));
        assert_eq!(parse_mode(""), Err(Errno::EINVAL));
    }
}
