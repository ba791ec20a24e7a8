//! ripcs: util-linux ipcs. Lists the System V IPC objects of the caller's
//! IPC namespace in ipcs's exact layout (scripts parse it), shows one object
//! in detail, the namespace's limits and usage, and (beyond ipcs) JSON.

use std::ffi::OsString;
use std::io::Write as _;

use clap::Parser;
use common::names::Names;

mod detail;
mod figures;
mod format;
mod json;
mod sections;

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

    /// JSON output of what the other options show: the objects (every field;
    /// with -c, -t or -p that view's fields), or with -l, -u the figures.
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

/// The binary's whole life, `ripcs` and the multi-call binary's `ripcs` alike
/// (`common::main!`): the command line `args` (`argv[0]` first) read as ipcs
/// reads it ([`GETOPT`]), [`run`], and the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    common::cli::main_getopt::<Cli>("ripcs", 1, GETOPT.argv(args), run)
}

/// Prints what the command line asks for.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let plan = Plan::new(&cli)?;
    let mut names = Names::default();
    let mut out = String::new();
    if plan.json {
        out = json::json(&plan, &mut names)?;
    } else if let Some(id) = plan.id {
        if !detail::detail(&mut out, &plan, id)? {
            let _ = writeln!(std::io::stderr(), "ripcs: id {id} not found");
        }
    } else {
        out.push('\n');
        if plan.msg {
            sections::msg_section(&mut out, &mut names, &plan)?;
            out.push('\n');
        }
        if plan.shm {
            sections::shm_section(&mut out, &mut names, &plan)?;
            out.push('\n');
        }
        if plan.sem {
            sections::sem_section(&mut out, &mut names, &plan)?;
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
}
