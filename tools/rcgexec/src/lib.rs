//! rcgexec: libcgroup's cgexec (join existing cgroups, then exec), and a
//! command run in a cgroup of its own under memory, CPU, cpuset and
//! process-count limits on cgroup v1, v2 and hybrid hosts, with what it
//! used reported after it ends or while it runs.

mod job;
mod join;
pub mod parse;
mod report;
mod spawn;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{CommandFactory, Parser};
use common::cgroup::Limits;

/// Run a command in control groups.
///
/// With -g, the command joins existing cgroups, as libcgroup's cgexec runs
/// it. Otherwise rcgexec makes a cgroup for it below its own cgroup in every
/// hierarchy it needs, sets the limits given, starts the command inside it
/// (it never runs outside, not even for an instant), and when the command
/// ends kills whatever it left behind and removes the cgroup.
#[derive(Parser, Debug)]
#[command(name = "rcgexec", version, infer_long_args = true)]
pub struct Cli {
    /// Join the existing cgroup PATH (from each hierarchy's root) of CONTROLLERS (comma-separated; `*` for every hierarchy; empty for cgroup2), as cgexec does. May be repeated.
    #[arg(short = 'g', value_name = "CONTROLLERS:PATH")]
    pub group: Vec<String>,

    /// Accepted for cgexec's scripts; rcgexec never consults cgrulesengd, so the command's children stay where they are anyway.
    #[arg(long)]
    pub sticky: bool,

    /// Limit memory to SIZE (bytes, or with K, M, G, T: powers of 1024).
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,

    /// Limit memory and swap together to SIZE (docker's meaning; needs --memory).
    #[arg(long, value_name = "SIZE")]
    pub memory_swap: Option<String>,

    /// Limit CPU time to N CPUs' worth (0.5: half of one CPU), per 100 ms period.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub cpus: Option<String>,

    /// Run only on the CPUs of LIST (`0-2,4`).
    #[arg(long, value_name = "LIST")]
    pub cpuset: Option<String>,

    /// Limit the number of tasks (processes and threads) to N.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub pids: Option<String>,

    /// Name the cgroup NAME (below rcgexec's own cgroup; from each hierarchy's root when it starts with /); default rcgexec-PID.
    #[arg(long, value_name = "NAME")]
    pub name: Option<PathBuf>,

    /// Keep the cgroup after the command ends (processes left in it are still killed).
    #[arg(long)]
    pub keep: bool,

    /// After the command ends, report its CPU time, peak memory, peak number of tasks and OOM kills on stderr.
    #[arg(long)]
    pub stats: bool,

    /// Every SECS seconds while the command runs, print its CPU use, memory and tasks on stderr.
    #[arg(long, value_name = "SECS")]
    pub monitor: Option<String>,

    /// Print --stats and --monitor as JSON.
    #[arg(short = 'J', long)]
    pub json: bool,

    /// Run the command even when a limit cannot be enforced (say which, and why).
    #[arg(long)]
    pub best_effort: bool,

    /// The command to run, with its arguments (found through PATH).
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// Man page text beside the clap definition.
pub fn pages() -> Vec<common::cli::Page> {
    vec![common::cli::Page {
        command: Cli::command(),
        section: "1",
        sections: &[
            (
                "CGROUP LAYOUT",
                "rcgexec reads where the cgroup hierarchies are mounted from /proc/self/mountinfo and \
                 its own place in each from /proc/self/cgroup; it mounts nothing and assumes no \
                 path. It works on cgroup v1 (a hierarchy per controller), cgroup v2 (one tree) and \
                 hybrid hosts (v1 controllers plus a cgroup2 tree without controllers).\n\n\
                 A relative NAME is made below rcgexec's own cgroup in each hierarchy used: the \
                 ones of the controllers the limits need (memory for --memory and --memory-swap, \
                 cpu for --cpus, cpuset for --cpuset, pids for --pids), memory and pids for \
                 --stats and --monitor when mounted (and cpuacct without cgroup2), and cgroup2 \
                 when mounted (else the v1 freezer), which holds every process of the command. On cgroup v2 the \
                 controllers are enabled in cgroup.subtree_control from rcgexec's cgroup down; \
                 v2 allows that only in a cgroup without processes of its own (the root \
                 excepted), so under v2 rcgexec usually runs from a cgroup delegated for it.\n\n\
                 The command is started inside the cgroups: with clone3(CLONE_INTO_CGROUP) where \
                 there is a cgroup2 tree, and the child moves itself into each v1 cgroup before \
                 it executes the command, so nothing the command starts is ever outside. Limits \
                 are written in the order the kernel accepts (v1: memory before memory+swap, \
                 unless memory is raised above it; a new v1 cpuset takes its parent's CPUs and \
                 memory nodes first).",
            ),
            (
                "CLEANUP",
                "When the command ends, every process left in its cgroup is killed (cgroup.kill, \
                 or freeze, kill and thaw) and the cgroups are removed unless --keep is given. \
                 SIGINT and SIGTERM sent to rcgexec are passed on to the command, then the same \
                 cleanup runs. rcgexec holds a lock on its cgroups and marks them (the \
                 user.rcgexec extended attribute): if it was killed and could not clean up, the \
                 next run with the same --name kills what is left, removes the stale cgroup, \
                 and the levels above it of a nested --name that rcgexec made and that hold no \
                 other cgroup, and says so on stderr; a cgroup of that name still in use by another rcgexec, or \
                 one with processes that rcgexec did not make, is refused.",
            ),
            (
                "STATISTICS",
                "A command killed by the memory limit is reported (`rcgexec: COMMAND was killed \
                 by the memory limit (64M)`), read from the oom_kill count of memory.events (v2) \
                 or memory.oom_control (v1). --stats reports CPU user and system time, peak \
                 memory, peak number of tasks and OOM kills from the kernel's own counters \
                 (memory.peak or memory.max_usage_in_bytes, pids.peak); a figure the kernel does \
                 not give is reported as unavailable (null in JSON), never as 0. --monitor \
                 prints a line every SECS seconds with the CPU use over the last interval (100% \
                 is one CPU), the memory and the number of tasks, as docker stats shows them.",
            ),
            (
                "EXIT STATUS",
                "1 if rcgexec itself fails (bad options, a limit that cannot be enforced, a \
                 cgroup that cannot be made or joined), 126 if COMMAND is found but cannot be \
                 run, 127 if it is not found, else the exit status of COMMAND; when COMMAND dies \
                 of a signal, rcgexec dies of the same signal (a shell shows 128+N, 137 for an \
                 OOM kill). libcgroup's cgexec returns its own error codes (50000-based values \
                 truncated to 8 bits, 255 when the exec fails) where rcgexec returns 1, 126 and \
                 127.",
            ),
            (
                "EXAMPLES",
                "  rcgexec --memory 64M --pids 64 --cpus 0.5 -- make -j4\n  \
                 rcgexec --stats -J --cpuset 0 -- ./benchmark\n  \
                 rcgexec --monitor 1 --name build -- make\n  \
                 rcgexec -g memory,pids:/batch/job1 -g :/batch/job1 ./job.sh",
            ),
            (
                "SEE ALSO",
                "cgexec(1), systemd-run(1), cgroups(7), runshare(1), rnsenter(1)",
            ),
        ],
    }]
}

/// What rcgexec will do, decided before anything is read or touched.
#[derive(Debug, PartialEq)]
pub enum Plan {
    /// The cgexec form: join these cgroups, then exec.
    Join(Join),
    /// A cgroup of the command's own, under limits.
    Run(Run),
}

/// `-g CONTROLLERS:PATH...`: each group's controllers (`*` alone for all,
/// none for cgroup2) and its path from the hierarchy's root.
#[derive(Debug, PartialEq)]
pub struct Join {
    pub groups: Vec<(Vec<String>, PathBuf)>,
    pub command: Vec<OsString>,
}

/// A command in a cgroup of its own.
#[derive(Debug, PartialEq)]
pub struct Run {
    pub limits: Limits,
    /// The options that set each limit, as given (`--memory 64M`), for messages.
    pub given: Vec<(common::cgroup::Limit, String)>,
    /// The cgroup's name, checked; absolute when it starts with `/`.
    pub name: Option<PathBuf>,
    pub keep: bool,
    pub stats: bool,
    pub monitor: Option<Duration>,
    pub json: bool,
    pub best_effort: bool,
    pub command: Vec<OsString>,
}

impl Plan {
    pub fn new(cli: Cli) -> anyhow::Result<Plan> {
        if cli.command.is_empty() {
            bail!("no command specified");
        }
        if !cli.group.is_empty() {
            let own = [
                ("--memory", cli.memory.is_some()),
                ("--memory-swap", cli.memory_swap.is_some()),
                ("--cpus", cli.cpus.is_some()),
                ("--cpuset", cli.cpuset.is_some()),
                ("--pids", cli.pids.is_some()),
                ("--name", cli.name.is_some()),
                ("--keep", cli.keep),
                ("--stats", cli.stats),
                ("--monitor", cli.monitor.is_some()),
                ("--json", cli.json),
                ("--best-effort", cli.best_effort),
            ];
            if let Some((option, _)) = own.iter().find(|(_, given)| *given) {
                bail!("-g cannot be combined with {option}");
            }
            let mut groups = Vec::new();
            for g in &cli.group {
                let Some((controllers, path)) = g.split_once(':') else {
                    bail!("'{g}' is not CONTROLLERS:PATH");
                };
                let controllers = controllers
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect();
                // cgexec takes PATH from the hierarchy's root, with or without a leading /.
                let path = match path.trim_matches('/') {
                    "" => PathBuf::from("/"),
                    _ => PathBuf::from("/").join(
                        common::cgroup::relative_name(std::path::Path::new(path))
                            .map_err(anyhow::Error::msg)?,
                    ),
                };
                groups.push((controllers, path));
            }
            return Ok(Plan::Join(Join {
                groups,
                command: cli.command,
            }));
        }
        let mut limits = Limits::default();
        let mut given = Vec::new();
        use common::cgroup::Limit;
        if let Some(text) = &cli.memory {
            limits.memory = Some(parse::size(text).map_err(anyhow::Error::msg)?);
            given.push((Limit::Memory, format!("--memory {text}")));
        }
        if let Some(text) = &cli.memory_swap {
            let total = parse::size(text).map_err(anyhow::Error::msg)?;
            match limits.memory {
                None => bail!("--memory-swap needs --memory"),
                Some(m) if total < m => {
                    bail!("--memory-swap {text} is less than --memory (it counts memory and swap together)")
                }
                _ => {}
            }
            limits.memory_swap = Some(total);
            given.push((Limit::MemorySwap, format!("--memory-swap {text}")));
        }
        if let Some(text) = &cli.cpus {
            limits.cpu = Some(parse::cpus(text).map_err(anyhow::Error::msg)?);
            given.push((Limit::Cpu, format!("--cpus {text}")));
        }
        if let Some(text) = &cli.cpuset {
            parse::cpu_list(text).map_err(anyhow::Error::msg)?;
            limits.cpuset = Some(text.trim().to_string());
            given.push((Limit::Cpuset, format!("--cpuset {text}")));
        }
        if let Some(text) = &cli.pids {
            limits.pids = Some(parse::count("--pids", text).map_err(anyhow::Error::msg)?);
            given.push((Limit::Pids, format!("--pids {text}")));
        }
        let name = match &cli.name {
            None => None,
            Some(n) => {
                let checked = common::cgroup::relative_name(n)
                    .map_err(|e| anyhow::anyhow!("invalid --name: {e}"))?;
                Some(if n.is_absolute() {
                    PathBuf::from("/").join(checked)
                } else {
                    checked
                })
            }
        };
        let monitor = match &cli.monitor {
            Some(text) => Some(parse::seconds(text).map_err(anyhow::Error::msg)?),
            None => None,
        };
        Ok(Plan::Run(Run {
            limits,
            given,
            name,
            keep: cli.keep,
            stats: cli.stats,
            monitor,
            json: cli.json,
            best_effort: cli.best_effort,
            command: cli.command,
        }))
    }
}

/// The binary's whole life, `rcgexec` and the multi-call binary's `rcgexec`
/// alike (`common::main!`): the command line `args` (`argv[0]` first) read by
/// clap, [`run`], and the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    common::cli::main::<Cli>("rcgexec", 1, args, run)
}

/// Joins the cgroups and execs (-g), or runs the command in a cgroup of
/// its own and returns its exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match Plan::new(cli)? {
        Plan::Join(plan) => join::run(plan),
        Plan::Run(plan) => job::run(plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let argv = std::iter::once("rcgexec").chain(args.iter().copied());
        Plan::new(Cli::try_parse_from(argv)?)
    }

    fn run_plan(args: &[&str]) -> Run {
        match plan(args).unwrap() {
            Plan::Run(r) => r,
            Plan::Join(j) => panic!("{j:?}"),
        }
    }

    #[test]
    fn limits_are_parsed_and_remembered_as_given() {
        let r = run_plan(&[
            "--memory", "64M", "--pids", "20", "--cpus", "0.5", "--", "true", "-x",
        ]);
        assert_eq!(r.limits.memory, Some(64 << 20));
        assert_eq!(r.limits.pids, Some(20));
        assert_eq!(r.limits.cpu, Some((50_000, 100_000)));
        assert_eq!(r.given[0].1, "--memory 64M");
        assert_eq!(r.command, ["true", "-x"]);
        // getopt-style abbreviations, and the command ends the options.
        let r = run_plan(&["--memory=1G", "--stat", "sh", "--memory", "2"]);
        assert_eq!((r.limits.memory, r.stats), (Some(1 << 30), true));
        assert_eq!(r.command, ["sh", "--memory", "2"]);
    }

    #[test]
    fn bad_values_are_refused_with_one_line() {
        for (args, message) in [
            (&["--memory", "12Q", "true"][..], "invalid size '12Q'"),
            (&["--pids", "0", "true"], "--pids 0: must be at least 1"),
            (&["--pids", "-5", "true"], "--pids -5: must be at least 1"),
            (&["--cpus", "0", "true"], "--cpus 0: must be at least 0.01"),
            (
                &["--cpus", "-1", "true"],
                "--cpus -1: must be at least 0.01",
            ),
            (&["--cpuset", "", "true"], "invalid CPU list ''"),
            (
                &["--name", "a/../b", "true"],
                "invalid --name: 'a/../b' must not contain '.' or '..'",
            ),
            (
                &["--memory-swap", "1G", "true"],
                "--memory-swap needs --memory",
            ),
            (&["--memory", "1G"], "no command specified"),
            (
                &["-g", "memory:/x", "--pids", "3", "true"],
                "-g cannot be combined with --pids",
            ),
            (
                &["-g", "memory", "true"],
                "'memory' is not CONTROLLERS:PATH",
            ),
        ] {
            let err = plan(args).unwrap_err();
            assert_eq!(err.to_string(), message, "{args:?}");
        }
    }

    #[test]
    fn the_cgexec_form() {
        let p = plan(&["-g", "memory,pids:/a/b", "-g", ":x", "--sticky", "ls", "-l"]).unwrap();
        assert_eq!(
            p,
            Plan::Join(Join {
                groups: vec![
                    (vec!["memory".into(), "pids".into()], "/a/b".into()),
                    (vec![], "/x".into()),
                ],
                command: vec!["ls".into(), "-l".into()],
            })
        );
        let Plan::Join(j) = plan(&["-g", "*:/", "true"]).unwrap() else {
            panic!()
        };
        assert_eq!(j.groups, [(vec!["*".to_string()], PathBuf::from("/"))]);
        assert!(plan(&["-g", "cpu:/a/../..", "true"]).is_err());
    }

    #[test]
    fn names_relative_and_absolute() {
        assert_eq!(
            run_plan(&["--name", "a/b", "true"]).name,
            Some("a/b".into())
        );
        assert_eq!(
            run_plan(&["--name", "/top", "true"]).name,
            Some("/top".into())
        );
    }
}
