//! ripcmk: util-linux ipcmk. Makes a shared memory segment, a message
//! queue and/or a semaphore array and prints their ids; when one of them
//! cannot be made, the ones made before it are removed again.

use std::ffi::OsString;
use std::io::Write;

use anyhow::Context;
use clap::Parser;
use nix::errno::Errno;

use crate::sysv::{self, Kind};

/// Create various IPC resources.
#[derive(Parser, Debug)]
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
    /// The permission bits of each object.
    pub mode: u32,
}

impl Plan {
    /// Reads the arguments as ipcmk does; `None` when nothing is asked for.
    pub fn new(cli: &Cli) -> anyhow::Result<Option<Plan>> {
        let shm = match &cli.shmem {
            Some(text) => Some(
                common::size::parse_size(text)
                    .map_err(crate::os_error)
                    .with_context(|| format!("failed to parse size: '{text}'"))?,
            ),
            None => None,
        };
        let sem = match &cli.semaphore {
            Some(text) => Some(crate::parse_s32(text, "failed to parse elements")?),
            None => None,
        };
        let mode = match &cli.mode {
            Some(text) => parse_mode(text)
                .map_err(crate::os_error)
                .with_context(|| format!("failed to parse mode: '{text}'"))?,
            None => 0o644,
        };
        if shm.is_none() && sem.is_none() && !cli.queue {
            return Ok(None);
        }
        Ok(Some(Plan {
            shm,
            msg: cli.queue,
            sem,
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

/// Removes what was made unless committed: ipcmk would leave the segment
/// behind when the queue after it fails; we do not.
struct Made(Vec<(Kind, i32)>);

impl Drop for Made {
    fn drop(&mut self) {
        for (kind, id) in self.0.drain(..).rev() {
            if let Err(e) = sysv::remove(kind, id) {
                let _ = writeln!(
                    std::io::stderr(),
                    "ripcmk: cannot remove {} id {id} again: {}",
                    kind.name(),
                    e.desc()
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

/// Makes what the command line asks for and prints the ids.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let Some(plan) = Plan::new(&cli)? else {
        return Ok(crate::usage("ripcmk", "bad usage"));
    };
    let mut made = Made(Vec::new());
    let mut out = String::new();
    if let Some(size) = plan.shm {
        let id = make(Kind::Shm, size, plan.mode)?;
        made.0.push((Kind::Shm, id));
        out += &format!("Shared memory id: {id}\n");
    }
    if plan.msg {
        let id = make(Kind::Msg, 0, plan.mode)?;
        made.0.push((Kind::Msg, id));
        out += &format!("Message queue id: {id}\n");
    }
    if let Some(nsems) = plan.sem {
        // A negative count reaches the kernel as the C int it is.
        let id = make(Kind::Sem, nsems as u64, plan.mode)?;
        made.0.push((Kind::Sem, id));
        out += &format!("Semaphore id: {id}\n");
    }
    made.0.clear();
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
                mode: 0o600
            }
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
