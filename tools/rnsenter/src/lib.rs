//! rnsenter: util-linux nsenter, plus network namespaces by name
//! (`--net=RED` for iproute2's /run/netns/RED) and errors that say which
//! namespace could not be entered and why.

mod open;

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{CommandFactory, Parser};
use common::ns::Kind;
use common::process::Forked;
use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};

use crate::open::{Joined, Opened};

/// Run a program with namespaces of other processes.
///
/// A namespace option without FILE takes the namespace of the --target
/// process; with FILE, the namespace that file (an nsfs file such as
/// /proc/PID/ns/net or a bind mount of one) stands for. A FILE without a `/`
/// that does not exist in the current directory names a namespace under
/// /run/netns, as `ip netns` makes them: `rnsenter --net=RED`.
#[derive(Parser, Debug)]
#[command(name = "rnsenter", version, infer_long_args = true)]
pub struct Cli {
    /// Enter all namespaces of the target (its user namespace only when it is not ours).
    #[arg(short = 'a', long)]
    pub all: bool,

    /// The target process to get namespaces, root, working directory, environment and ids from.
    #[arg(short = 't', long, value_name = "PID", value_parser = clap::value_parser!(i32).range(1..))]
    pub target: Option<i32>,

    /// Enter the mount namespace (of the target, or of FILE).
    #[arg(short = 'm', long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub mount: Option<Option<PathBuf>>,

    /// Enter the UTS namespace (hostname etc).
    #[arg(short = 'u', long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub uts: Option<Option<PathBuf>>,

    /// Enter the System V IPC namespace.
    #[arg(short = 'i', long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub ipc: Option<Option<PathBuf>>,

    /// Enter the network namespace (FILE may be a name under /run/netns).
    #[arg(short = 'n', long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub net: Option<Option<PathBuf>>,

    /// Enter the PID namespace (the command then runs as a child of rnsenter).
    #[arg(short = 'p', long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub pid: Option<Option<PathBuf>>,

    /// Enter the cgroup namespace.
    #[arg(short = 'C', long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub cgroup: Option<Option<PathBuf>>,

    /// Enter the user namespace.
    #[arg(short = 'U', long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub user: Option<Option<PathBuf>>,

    /// Enter the parent of the target's user namespace (or of the one -U names).
    #[arg(long)]
    pub user_parent: bool,

    /// Enter the time namespace.
    #[arg(short = 'T', long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub time: Option<Option<PathBuf>>,

    /// Set the user ID in the entered namespaces (`follow`: the target's).
    #[arg(short = 'S', long, value_name = "UID", value_parser = parse_id)]
    pub setuid: Option<Id>,

    /// Set the group ID in the entered namespaces (`follow`: the target's).
    #[arg(short = 'G', long, value_name = "GID", value_parser = parse_id)]
    pub setgid: Option<Id>,

    /// Do not touch user and group IDs when entering a user namespace.
    #[arg(long)]
    pub preserve_credentials: bool,

    /// Keep the capabilities granted in the entered user namespace (as ambient ones).
    #[arg(long)]
    pub keep_caps: bool,

    /// Set the root directory (the target's, or DIR).
    #[arg(short = 'r', long, value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub root: Option<Option<PathBuf>>,

    /// Set the working directory (the target's, or DIR).
    #[arg(short = 'w', long = "wd", value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub wd: Option<Option<PathBuf>>,

    /// Set the working directory to DIR as seen inside the entered namespaces.
    #[arg(short = 'W', long = "wdns", value_name = "DIR", num_args = 0..=1,
          require_equals = true, conflicts_with = "wd")]
    pub wdns: Option<Option<PathBuf>>,

    /// Run the command with the environment of the target.
    #[arg(short = 'e', long)]
    pub env: bool,

    /// Do not fork before running the command (even when entering a PID namespace).
    #[arg(short = 'F', long)]
    pub no_fork: bool,

    /// Join the cgroup of the target (cgroup v2 only).
    #[arg(short = 'c', long)]
    pub join_cgroup: bool,

    /// The program to run, with its arguments (default: "$SHELL", as a login shell).
    #[arg(trailing_var_arg = true, value_name = "PROGRAM")]
    pub command: Vec<OsString>,
}

/// A user or group ID to switch to: a number, or the target's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    Follow,
    Fixed(u32),
}

fn parse_id(value: &str) -> Result<Id, String> {
    if value == "follow" {
        return Ok(Id::Follow);
    }
    value
        .parse()
        .map(Id::Fixed)
        .map_err(|_| format!("'{value}' is not a number or 'follow'"))
}

/// nsenter's getopt_long options (`+` first: the program ends them; `X::`:
/// an optional FILE or DIR, attached and taken as given: `-n=x` is the
/// FILE "=x", as to nsenter). The long table is in nsenter's order; the
/// last four are util-linux 2.40's.
pub const GETOPT: common::getopt::Table = {
    use common::getopt::Has::{No, Optional, Required};
    common::getopt::Table {
        short: "+ahVt:m::u::i::n::p::C::U::T::S:G:r::w::W::Fce",
        long: &[
            ("all", No, Some(b'a')),
            ("help", No, Some(b'h')),
            ("version", No, Some(b'V')),
            ("target", Required, Some(b't')),
            ("mount", Optional, Some(b'm')),
            ("uts", Optional, Some(b'u')),
            ("ipc", Optional, Some(b'i')),
            ("net", Optional, Some(b'n')),
            ("pid", Optional, Some(b'p')),
            ("user", Optional, Some(b'U')),
            ("cgroup", Optional, Some(b'C')),
            ("time", Optional, Some(b'T')),
            ("setuid", Required, Some(b'S')),
            ("setgid", Required, Some(b'G')),
            ("root", Optional, Some(b'r')),
            ("wd", Optional, Some(b'w')),
            ("wdns", Optional, Some(b'W')),
            ("no-fork", No, Some(b'F')),
            ("preserve-credentials", No, None),
            ("user-parent", No, None),
            ("keep-caps", No, None),
            ("env", No, Some(b'e')),
            ("join-cgroup", No, Some(b'c')),
        ],
        newer: &["user-parent", "keep-caps", "env", "join-cgroup"],
    }
};

/// Man page text beside the clap definition.
pub fn pages() -> Vec<common::cli::Page> {
    vec![common::cli::Page {
        command: Cli::command(),
        section: "1",
        sections: &[
            (
                "NAMESPACE NAMES",
                "A namespace option's FILE is looked up in this order: a FILE that contains a `/` \
                 is a path and nothing else; a FILE without a `/` is the file of that name in the \
                 current directory when one exists (as nsenter does); otherwise it names \
                 /run/netns/FILE, the bind mount `ip netns add FILE` makes. This applies to every \
                 namespace type, so --net=RED and --mount=RED both look in /run/netns.\n\n\
                 rnsenter --net=RED enters the network namespace only. Unlike `ip netns exec RED`, \
                 it does not unshare a mount namespace, does not remount /sys (so /sys/class/net \
                 still shows the links of the namespace rnsenter started in) and does not bind \
                 /etc/netns/RED/* over /etc.",
            ),
            (
                "NOTES",
                "All namespace files are opened, and checked to be namespace files of the right \
                 type, before any namespace is entered. The user namespace is entered first when \
                 it gives privilege (the others are tried first and those refused are retried \
                 after it) and last otherwise, as nsenter does; a failure ends rnsenter before \
                 the command runs, so nothing runs half inside. Entering a PID namespace forks: \
                 the command runs as a child, and rnsenter passes on its exit status or dies of \
                 the same signal (SIGTERM sent to rnsenter is passed on to it; unlike nsenter, rnsenter does not \
                 stop itself when the child is stopped). The command gets \
                 the caller's descriptors (as with nsenter) and none of rnsenter's own.\n\n\
                 Options are read as getopt_long reads nsenter's: an optional FILE or DIR is \
                 attached (-nFILE, -n=FILE, --net=FILE; a separate word is the program), so -mu \
                 is -m with FILE `u`, not -m -u; long options may be abbreviated. \
                 -Z/--follow-context (SELinux), -N/--net-socket and `=:NSID` values of newer \
                 nsenter releases are not supported.",
            ),
            (
                "EXIT STATUS",
                "1 if rnsenter itself fails (bad options, no namespace specified, a namespace \
                 that cannot be entered), 126 if PROGRAM is found but cannot be run, 127 if it \
                 is not found, else the exit status of PROGRAM (dying of the signal that ended it).",
            ),
            (
                "EXAMPLES",
                "  rnsenter -t 1234 -a ps -ef\n  \
                 rnsenter --net=RED ip address\n  \
                 rnsenter -t 1234 -m -u -i -n -p -e sh",
            ),
            (
                "SEE ALSO",
                "nsenter(1), ip-netns(8), setns(2), namespaces(7), runshare(1), rlsns(8)",
            ),
        ],
    }]
}

/// Where a namespace, root or working directory comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    /// The target process's (/proc/PID/...).
    Target,
    /// A path as given on the command line (a namespace name is resolved when opened).
    Path(PathBuf),
}

/// What rnsenter will do, decided before anything is opened.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub target: Option<i32>,
    /// The namespaces named by options, in command-line option order.
    pub namespaces: Vec<(Kind, From)>,
    /// -a: every other namespace of the target that can be entered.
    pub all: bool,
    pub user_parent: bool,
    pub root: Option<From>,
    pub wd: Option<From>,
    pub wdns: Option<PathBuf>,
    pub env: bool,
    pub uid: Option<Id>,
    pub gid: Option<Id>,
    pub preserve_credentials: bool,
    pub keep_caps: bool,
    pub no_fork: bool,
    pub join_cgroup: bool,
    pub command: Vec<OsString>,
}

fn from(value: Option<PathBuf>) -> From {
    value.map_or(From::Target, From::Path)
}

impl Plan {
    pub fn new(cli: Cli) -> anyhow::Result<Plan> {
        let named = [
            (Kind::Mnt, cli.mount),
            (Kind::Uts, cli.uts),
            (Kind::Ipc, cli.ipc),
            (Kind::Net, cli.net),
            (Kind::Pid, cli.pid),
            (Kind::Cgroup, cli.cgroup),
            (Kind::User, cli.user),
            (Kind::Time, cli.time),
        ];
        let mut namespaces = Vec::new();
        for (kind, value) in named {
            if let Some(value) = value {
                namespaces.push((kind, from(value)));
            }
        }
        // util-linux 2.41: entering nothing is an error, not a plain exec.
        if namespaces.is_empty() && !cli.all && !cli.user_parent {
            bail!("no namespace specified");
        }
        let plan = Plan {
            target: cli.target,
            namespaces,
            all: cli.all,
            user_parent: cli.user_parent,
            root: cli.root.map(from),
            wd: cli.wd.map(from),
            wdns: cli.wdns.flatten(),
            env: cli.env,
            uid: cli.setuid,
            gid: cli.setgid,
            preserve_credentials: cli.preserve_credentials,
            keep_caps: cli.keep_caps,
            no_fork: cli.no_fork,
            join_cgroup: cli.join_cgroup,
            command: cli.command,
        };
        if plan.target.is_none() {
            if let Some(what) = plan.needs_target() {
                bail!("no target PID specified for {what}");
            }
        }
        Ok(plan)
    }

    /// The first thing asked for that only a target process can give.
    fn needs_target(&self) -> Option<String> {
        let user_given = self
            .namespaces
            .iter()
            .any(|(k, f)| *k == Kind::User && *f != From::Target);
        let uses = [
            (self.all, "--all"),
            (self.user_parent && !user_given, "--user-parent"),
            (self.root == Some(From::Target), "--root"),
            (self.wd == Some(From::Target), "--wd"),
            (self.env, "--env"),
            (self.uid == Some(Id::Follow), "--setuid follow"),
            (self.gid == Some(Id::Follow), "--setgid follow"),
            (self.join_cgroup, "--join-cgroup"),
        ];
        self.namespaces
            .iter()
            .find(|(_, f)| *f == From::Target)
            .map(|(k, _)| format!("the {} namespace", k.name()))
            .or_else(|| {
                uses.iter()
                    .find(|(used, _)| *used)
                    .map(|(_, o)| o.to_string())
            })
    }
}

/// Enters the namespaces and runs the command; returns only on failure or,
/// when it forked, with the child's exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let plan = Plan::new(cli)?;
    let opened = Opened::open(&plan)?;
    let user = opened.namespaces.iter().any(|n| n.kind == Kind::User);
    let fork = !plan.no_fork && opened.namespaces.iter().any(|n| n.kind == Kind::Pid);

    let mut uid = plan.uid.map(|id| resolve(id, opened.owner.map(|o| o.0)));
    let mut gid = plan.gid.map(|id| resolve(id, opened.owner.map(|o| o.1)));
    // nsenter: in a user namespace the IDs are always set (0 unless given)
    // and root's groups dropped, before entering and again after.
    let mut groups_failed = false;
    if user && !plan.preserve_credentials {
        uid.get_or_insert(0);
        gid.get_or_insert(0);
        groups_failed = nix::unistd::setgroups(&[]).is_err();
    }

    enter(opened.namespaces)?;
    settle_directories(opened.root, opened.wd, plan.wdns.as_deref())?;
    if let Some(environ) = opened.environ {
        take_environment(&environ)?;
    }
    if let Some(procs) = opened.cgroup_procs {
        nix::unistd::write(&procs, std::process::id().to_string().as_bytes())
            .context("write cgroup.procs failed")?;
    }

    if fork {
        // SIGTERM is passed on so the command does not outlive its supervisor.
        let sigterm = [Signal::SIGTERM];
        if let Forked::Parent(child) = common::process::fork_supervised(&sigterm, &sigterm)? {
            return child.wait();
        }
    }

    if let Some(gid) = gid {
        if let Err(e) = nix::unistd::setgroups(&[]) {
            if groups_failed {
                return Err(e).context("setgroups failed");
            }
        }
        nix::unistd::setgid(Gid::from_raw(gid)).context("setgid() failed")?;
    }
    if let Some(uid) = uid {
        nix::unistd::setuid(Uid::from_raw(uid)).context("setuid() failed")?;
    }
    if plan.keep_caps && user {
        common::caps::permitted_to_ambient()?;
    }
    Err(exec(plan.command))
}

fn resolve(id: Id, owner: Option<u32>) -> u32 {
    match id {
        Id::Fixed(n) => n,
        // Plan::new made sure of a target, and Opened::open of its owner.
        Id::Follow => owner.unwrap_or_default(),
    }
}

/// setns into each namespace in nsenter's order. The user namespace is
/// left out of the first pass: entering the others first works when the
/// user namespace takes privilege away, and those refused are retried after
/// it, for when it is what gives the privilege.
fn enter(namespaces: Vec<Joined>) -> anyhow::Result<()> {
    let mut refused = Vec::new();
    for ns in namespaces {
        if ns.kind == Kind::User || nix::sched::setns(ns.fd.as_fd(), ns.kind.clone_flag()).is_err()
        {
            refused.push(ns);
        }
    }
    for ns in refused {
        nix::sched::setns(ns.fd.as_fd(), ns.kind.clone_flag())
            .with_context(|| format!("cannot enter {}", ns.what))?;
    }
    Ok(())
}

/// chroot and chdir as nsenter does: the root by its descriptor, then the
/// working directory given (-w, or -W as seen inside), else the one rnsenter
/// had when only -r was given.
fn settle_directories(
    root: Option<OwnedFd>,
    wd: Option<OwnedFd>,
    wdns: Option<&Path>,
) -> anyhow::Result<()> {
    let mut wd = wd;
    if root.is_some() && wd.is_none() && wdns.is_none() {
        wd = Some(
            nix::fcntl::open(".", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
                .context("cannot open current working directory")?,
        );
    }
    if let Some(root) = root {
        nix::unistd::fchdir(&root).context("change directory by root file descriptor failed")?;
        nix::unistd::chroot(".").context("chroot failed")?;
        nix::unistd::chdir("/").context("cannot change directory to /")?;
    }
    if let Some(dir) = wdns {
        wd = Some(
            nix::fcntl::open(
                dir,
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .with_context(|| format!("cannot open {}", dir.display()))?,
        );
    }
    if let Some(wd) = wd {
        nix::unistd::fchdir(&wd)
            .context("change directory by working directory file descriptor failed")?;
    }
    Ok(())
}

/// Replaces our environment by the target's (NUL-separated NAME=VALUE).
fn take_environment(environ: &std::fs::File) -> anyhow::Result<()> {
    use std::io::Read;
    let mut bytes = Vec::new();
    (&*environ)
        .read_to_end(&mut bytes)
        .context("failed to get environment variables")?;
    for (name, _) in std::env::vars_os() {
        std::env::remove_var(name);
    }
    for entry in bytes.split(|&b| b == 0) {
        let Some(eq) = entry.iter().position(|&b| b == b'=') else {
            continue;
        };
        if eq == 0 {
            continue;
        }
        let name = std::ffi::OsStr::from_bytes(&entry[..eq]);
        let value = std::ffi::OsStr::from_bytes(&entry[eq + 1..]);
        std::env::set_var(name, value);
    }
    Ok(())
}

/// Runs the command, or the default shell as a login shell (argv[0]
/// `-sh`) when none is given, as nsenter does. Returns only the failure.
fn exec(command: Vec<OsString>) -> anyhow::Error {
    let err = if command.is_empty() {
        common::process::exec_login_shell(common::process::default_shell())
    } else {
        common::process::exec(&command)
    };
    let program = err.program.to_string_lossy().into_owned();
    anyhow::Error::new(err).context(format!("failed to execute {program}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let argv = std::iter::once("rnsenter").chain(args.iter().copied());
        Plan::new(Cli::try_parse_from(
            GETOPT.argv(argv.map(Into::into)).unwrap(),
        )?)
    }

    #[test]
    fn getopt_table_matches_the_options() {
        assert_eq!(GETOPT.differences(Cli::command()), Vec::<String>::new());
    }

    #[test]
    fn options_are_read_as_getopt_reads_them() {
        // `-mu` is -m with FILE "u"; the program ends the options.
        let p = plan(&["-at42", "-mu", "-n/run/x", "ls", "-n"]).unwrap();
        assert_eq!((p.all, p.target), (true, Some(42)));
        assert!(p.namespaces.contains(&(Kind::Mnt, From::Path("u".into()))));
        assert!(p
            .namespaces
            .contains(&(Kind::Net, From::Path("/run/x".into()))));
        assert_eq!(p.command, ["ls", "-n"]);
        // A required value is taken whatever it looks like.
        let err = plan(&["--targ", "7", "-n", "-S", "-1", "true"]).unwrap_err();
        assert!(err.to_string().contains("'-1' is not a number"), "{err}");
    }

    #[test]
    fn options_take_attached_files_only() {
        let p = plan(&["-t", "7", "--net=/run/netns/RED", "-m", "ls", "-l"]).unwrap();
        assert_eq!(
            p.namespaces,
            vec![
                (Kind::Mnt, From::Target),
                (Kind::Net, From::Path("/run/netns/RED".into()))
            ]
        );
        assert_eq!(p.command, ["ls", "-l"]);
        let p = plan(&["-n", "RED"]).unwrap_err();
        assert_eq!(
            p.to_string(),
            "no target PID specified for the net namespace"
        );
    }

    #[test]
    fn nothing_to_enter_is_an_error() {
        let err = plan(&["-t", "1", "true"]).unwrap_err();
        assert_eq!(err.to_string(), "no namespace specified");
        let err = plan(&["-t", "1", "-e", "true"]).unwrap_err();
        assert_eq!(err.to_string(), "no namespace specified");
    }

    #[test]
    fn target_only_options_need_a_target() {
        let err = plan(&["--net=RED", "-r", "true"]).unwrap_err();
        assert_eq!(err.to_string(), "no target PID specified for --root");
        let err = plan(&["--net=RED", "-S", "follow"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no target PID specified for --setuid follow"
        );
        assert!(plan(&["--user=/x", "--user-parent"]).is_ok());
        assert!(plan(&["--net=RED", "-S", "0", "-r=/x"]).is_ok());
    }

    #[test]
    fn ids_are_numbers_or_follow() {
        let p = plan(&["-t", "1", "-U", "-S", "follow", "-G", "5"]).unwrap();
        assert_eq!((p.uid, p.gid), (Some(Id::Follow), Some(Id::Fixed(5))));
        assert!(plan(&["-t", "1", "-U", "-S", "root"]).is_err());
    }

    #[test]
    fn wd_and_wdns_exclude_each_other() {
        assert!(plan(&["-t", "1", "-m", "-w", "-W=/tmp"]).is_err());
        let p = plan(&["-t", "1", "-m", "--wdns=/tmp"]).unwrap();
        assert_eq!(p.wdns, Some(PathBuf::from("/tmp")));
    }

    #[test]
    fn empty_file_is_a_usage_error() {
        let err = Cli::try_parse_from(["rnsenter", "--net=", "true"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
    }
}
