//! rnsenter: util-linux nsenter, plus network namespaces by name
//! (`--net=RED` for iproute2's /run/netns/RED) and errors that say which
//! namespace could not be entered and why.

mod open;
mod plan;

pub use plan::{From, Plan};

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{CommandFactory, Parser};
use common::ns::Kind;
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
#[command(
    name = "rnsenter",
    version,
    infer_long_args = true,
    args_override_self = true
)]
pub struct Cli {
    /// Enter all namespaces of the target (its user namespace only when it is not ours).
    #[arg(short = 'a', long)]
    pub all: bool,

    /// The target process to get namespaces, root, working directory, environment and ids from
    /// (given twice, the last one counts).
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

    /// Enter the network namespace of the socket FD of the target (util-linux 2.41).
    #[arg(short = 'N', long, value_name = "FD", value_parser = clap::value_parser!(i32).range(0..))]
    pub net_socket: Option<i32>,

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

    /// Set the working directory to DIR as seen inside the entered namespaces
    /// (-W DIR, -WDIR, --wdns=DIR).
    #[arg(short = 'W', long = "wdns", value_name = "DIR", num_args = 0..=1,
          require_equals = true)]
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

    /// Run the command in the SELinux context of the target (nothing to do without SELinux).
    #[arg(short = 'Z', long)]
    pub follow_context: bool,

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
/// FILE "=x", as to nsenter). `-W` takes its DIR as 2.38 does, attached or
/// the next word (`W:`), while --wdns takes it attached only. The long
/// table is in nsenter's order (util-linux 2.41); `newer` are those 2.38
/// lacks.
pub const GETOPT: common::getopt::Table = {
    use common::getopt::Has::{No, Optional, Required};
    common::getopt::Table {
        short: "+ahVt:m::u::i::n::N:p::C::U::T::S:G:r::w::W:ecFZ",
        long: &[
            ("all", No, Some(b'a')),
            ("help", No, Some(b'h')),
            ("version", No, Some(b'V')),
            ("target", Required, Some(b't')),
            ("mount", Optional, Some(b'm')),
            ("uts", Optional, Some(b'u')),
            ("ipc", Optional, Some(b'i')),
            ("net", Optional, Some(b'n')),
            ("net-socket", Required, Some(b'N')),
            ("pid", Optional, Some(b'p')),
            ("user", Optional, Some(b'U')),
            ("cgroup", Optional, Some(b'C')),
            ("time", Optional, Some(b'T')),
            ("setuid", Required, Some(b'S')),
            ("setgid", Required, Some(b'G')),
            ("root", Optional, Some(b'r')),
            ("wd", Optional, Some(b'w')),
            ("wdns", Optional, Some(b'W')),
            ("env", No, Some(b'e')),
            ("no-fork", No, Some(b'F')),
            ("join-cgroup", No, Some(b'c')),
            ("preserve-credentials", No, None),
            ("keep-caps", No, None),
            ("user-parent", No, None),
            ("follow-context", No, Some(b'Z')),
        ],
        newer: &[
            "net-socket",
            "env",
            "join-cgroup",
            "keep-caps",
            "user-parent",
        ],
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
                 stop itself when the child is stopped).\n\n\
                 The command gets the file descriptors rnsenter was given (exec 5<FILE; rnsenter \
                 ... reaches the command with its 5) and none of rnsenter's own: every namespace \
                 file, /proc directory and socket copy it opens is close-on-exec.\n\n\
                 rnsenter is a superset of nsenter from util-linux 2.38 to the newest: a command \
                 line that one of them runs, rnsenter runs. With no namespace to enter (only -r, -w, \
                 -e, or nothing at all) it runs the command as 2.38 does, where 2.41 refuses with \
                 \"no namespace specified\". A repeated option counts as given last (-t 1 -t 2 \
                 targets process 2).\n\n\
                 --net-socket=FD (util-linux 2.41) enters the network namespace of the socket the \
                 target holds as descriptor FD, which needs the right to ptrace the target \
                 (pidfd_getfd(2)). -Z/--follow-context runs the command in the SELinux context of \
                 the target; without SELinux (no selinuxfs mounted) it does nothing, as in \
                 nsenter.\n\n\
                 Options are read as getopt_long reads nsenter's: an optional FILE or DIR is \
                 attached (-nFILE, -n=FILE, --net=FILE; a separate word is the program), so -mu \
                 is -m with FILE `u`, not -m -u; long options may be abbreviated. -W takes its DIR \
                 attached or as the next word (-W DIR), as in 2.38; -w=DIR and -W=DIR drop the \
                 `=` as 2.41 does. `=:NSID` values (namespaces by ID, Linux 6.19) are not \
                 supported.",
            ),
            (
                "EXIT STATUS",
                "1 if rnsenter itself fails (bad options, a target or namespace file \
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

/// The binary's whole life, `rnsenter` and the multi-call binary's `rnsenter`
/// alike (`common::main!`): the command line `args` (`argv[0]` first) read as
/// nsenter reads it ([`GETOPT`]), [`run`], and the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    common::cli::main_getopt::<Cli>("rnsenter", 1, GETOPT.argv(args), run)
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

    if let Some(context) = &opened.context {
        // setexeccon(3), before /proc may be another PID namespace's.
        std::fs::write("/proc/thread-self/attr/exec", context).with_context(|| {
            format!(
                "failed to set exec context to '{}'",
                String::from_utf8_lossy(context)
            )
        })?;
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

    let become_and_exec = || -> anyhow::Result<u8> {
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
        Err(common::process::exec_or_shell(&plan.command))
    };
    if fork {
        // SIGTERM is passed on so the command does not outlive its
        // supervisor. The child shares this process's memory until it
        // execs (common::process::spawn_supervised).
        let sigterm = [Signal::SIGTERM];
        return common::process::spawn_supervised(&sigterm, &sigterm, || {
            common::error::report("rnsenter", 1, become_and_exec())
        })?
        .wait();
    }
    become_and_exec()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getopt_table_matches_the_options() {
        // The one difference on purpose: nsenter 2.38's -W DIR, --wdns[=DIR].
        assert_eq!(
            GETOPT.differences(Cli::command()),
            ["-W: takes Required, --wdns takes Optional"]
        );
    }
}
