//! rlsns: util-linux lsns, the same options and output, from one pass over
//! /proc with hash maps instead of lsns's pairwise searches; like lsns
//! 2.41+ it also sees namespaces kept alive only by bind mounts, open
//! descriptors and sockets.

mod columns;
mod filter;
mod held;
mod lines;
mod plan;
mod scan;
mod sys;
mod table;

use std::io::{BufWriter, Write};

use clap::{CommandFactory, Parser};

pub use columns::Col;
pub use plan::{Plan, Tree};
use scan::{Snapshot, Want};

/// List system namespaces.
#[derive(Parser, Debug)]
#[command(
    name = "rlsns",
    version,
    infer_long_args = true,
    args_override_self = true
)]
pub struct Cli {
    /// Use JSON output format.
    #[arg(short = 'J', long)]
    pub json: bool,

    /// Use list format output (no tree).
    #[arg(short, long)]
    pub list: bool,

    /// Don't print headings.
    #[arg(short, long)]
    pub noheadings: bool,

    /// Define which output columns to use (`+LIST` adds to the default ones).
    #[arg(short, long, value_name = "list")]
    pub output: Option<String>,

    /// Output all columns.
    #[arg(long)]
    pub output_all: bool,

    /// Only namespaces without processes (held by bind mounts, descriptors or sockets).
    #[arg(short = 'P', long)]
    pub persistent: bool,

    /// Print the namespaces of process PID.
    #[arg(
        short = 'p',
        long = "task",
        value_name = "pid",
        allow_hyphen_values = true
    )]
    pub task: Option<String>,

    /// Print only the namespaces (lines) that meet the expression, in
    /// util-linux's filter language (scols-filter(5)), e.g. 'USER != "root"
    /// and NPROCS > 1'.
    #[arg(short = 'Q', long, value_name = "expr", allow_hyphen_values = true)]
    pub filter: Option<String>,

    /// Use the raw output format.
    #[arg(short, long)]
    pub raw: bool,

    /// Don't truncate text in columns.
    #[arg(short = 'u', long)]
    pub notruncate: bool,

    /// Don't use multi-line representation.
    #[arg(short = 'W', long)]
    pub nowrap: bool,

    /// Namespace type (mnt, net, ipc, user, pid, uts, cgroup, time); repeatable.
    #[arg(short = 't', long = "type", value_name = "name", action = clap::ArgAction::Append)]
    pub types: Vec<String>,

    /// Use tree format (parent, owner, or process); the value must be attached (-Tparent, --tree=parent).
    #[arg(short = 'T', long, value_name = "rel", num_args = 0..=1, require_equals = true)]
    pub tree: Option<Option<String>>,

    /// List the available columns.
    #[arg(short = 'H', long)]
    pub list_columns: bool,

    /// A namespace inode: list its processes.
    #[arg(value_name = "namespace")]
    pub namespace: Vec<String>,
}

/// lsns's getopt_long options: `-T`'s argument is optional and attached
/// (`-Tparent`), options may follow the namespace operand. The long table
/// is in lsns's order; -P, -H and -Q are newer util-linux's.
pub const GETOPT: common::getopt::Table = {
    use common::getopt::Has::{No, Optional, Required};
    common::getopt::Table {
        short: "JlPno:p:HrQ:uhVt:T::W",
        long: &[
            ("json", No, Some(b'J')),
            ("task", Required, Some(b'p')),
            ("help", No, Some(b'h')),
            ("output", Required, Some(b'o')),
            ("output-all", No, None),
            ("persistent", No, Some(b'P')),
            ("notruncate", No, Some(b'u')),
            ("version", No, Some(b'V')),
            ("noheadings", No, Some(b'n')),
            ("nowrap", No, Some(b'W')),
            ("list", No, Some(b'l')),
            ("raw", No, Some(b'r')),
            ("type", Required, Some(b't')),
            ("tree", Optional, Some(b'T')),
            ("list-columns", No, Some(b'H')),
            ("filter", Required, Some(b'Q')),
        ],
        newer: &["persistent", "list-columns", "filter"],
    }
};

/// The command line as clap reads it (see [`GETOPT`]), or getopt's usage
/// error. lsns drops one `=` before `-T`'s argument (`-T=parent`), getopt
/// does not.
pub fn args(
    argv: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Vec<std::ffi::OsString>, String> {
    use std::os::unix::ffi::OsStrExt;
    let mut parsed = GETOPT.parse(argv);
    for (name, value) in &mut parsed.options {
        if let (&mut "tree", Some(value)) = (name, value) {
            if let Some(rest) = value.as_bytes().strip_prefix(b"=") {
                *value = std::ffi::OsStr::from_bytes(rest).to_os_string();
            }
        }
    }
    parsed.argv()
}

/// Man page text beside the clap definition.
pub fn pages() -> Vec<common::cli::Page> {
    vec![common::cli::Page {
        command: Cli::command(),
        section: "8",
        sections: &[
            (
                "COLUMNS",
                "NS, TYPE, PATH, NPROCS, PID (the lowest in the namespace), PPID, COMMAND, UID, \
                 USER, NETNSID (also of a namespace without processes, as lsns 2.42), NSFS \
                 (where the namespace is bind-mounted), PNS (parent), ONS \
                 (owner). The default is NS,TYPE,NPROCS,PID,USER,COMMAND, with NETNSID,NSFS \
                 before COMMAND for -t net, and PID,PPID,USER,COMMAND for a namespace argument.",
            ),
            (
                "NOTES",
                "rlsns reads /proc once and indexes namespaces by inode, so it stays fast \
                 with thousands of processes. Besides the namespaces of processes it lists \
                 those held only by bind mounts (nsfs entries of /proc/self/mountinfo, such \
                 as /run/netns/NAME) and, as util-linux 2.41 and newer, those held only by \
                 a process's descriptors (/proc/PID/fd): namespace files it keeps open, and \
                 the network namespaces of its sockets. One stat per descriptor tells \
                 a namespace (nsfs's device, whether opened through /proc/PID/ns or through \
                 a bind mount, even one since removed) or a socket from the rest; a \
                 namespace of a type -t does not list is passed over, and sockets are looked \
                 at only when network namespaces are listed. A socket's \
                 namespace is asked of the kernel (SIOCGSKNS on a copy of the socket \
                 taken with pidfd_getfd, which needs the right to ptrace the process) \
                 only when the socket is not in the process's own namespace's socket \
                 tables (/proc/PID/net/unix, netlink, packet, tcp, tcp6, udp, udp6, raw, \
                 raw6, read once per namespace): sockets of other families, unbound TCP \
                 and UDP sockets and those of other namespaces are asked about. -p reads \
                 no descriptors: a namespace a process only holds is not one it is in. -P \
                 shows only the namespaces without processes. \
                 A process that exits during the scan is skipped.\n\n\
                 With -T (owner) and -Tparent the user namespaces that own, and the \
                 namespaces that are parents of, the listed ones are shown as their parent \
                 lines whatever -t says, as lsns does. Control characters in a command line \
                 (a newline too) are printed as \\xHH, as lsns does; JSON keeps them as \
                 JSON escapes.\n\n\
                 -Q EXPR (newer util-linux) prints only the lines for which EXPR holds. EXPR \
                 is in libsmartcols's filter language (scols-filter(5)): column names (any \
                 column, printed or not), numbers (10, 1.5, 4K, 4KiB: powers of 1024), \
                 strings in double or single quotes, true and false; the operators == != < \
                 <= > >= and their words eq ne lt le gt ge; =~ and !~ against a POSIX \
                 extended regular expression in quotes (regex(7), as the C library's \
                 regcomp reads it; it may match anywhere in the text); ! or not, && or \
                 and, || or or, and parentheses. Words are all lower or all upper \
                 case. Loosest first: or, and, \
                 == and !=, the other comparisons and regexes, not (so not A == B is (not \
                 A) == B). The number columns compare as numbers, the others as text \
                 (as numbers when both sides read as one); an empty cell equals only an \
                 empty cell and is neither less nor greater than anything. In a tree, a \
                 line left out hands its children to its nearest shown ancestor. A mistake \
                 in EXPR is \"failed to parse filter: ...\", exit 1. COMMAND is truncated to the terminal's width only when standard \
                 output is a terminal. -p of a PID that does not exist is an error (lsns \
                 2.38 lists nothing and exits 0).",
            ),
            (
                "EXIT STATUS",
                "0 on success (also when nothing matches), 1 on bad input (unknown column or \
                 type, invalid PID or namespace argument, a filter that cannot be parsed, a \
                 process or namespace that does not exist).",
            ),
            (
                "EXAMPLES",
                "  rlsns -p $$\n  rlsns -t net -J\n  rlsns -t pid -o NS,NPROCS,PID,PNS -Tparent\n  rlsns 4026531836\n  rlsns -Q 'USER != \"root\" and NPROCS > 1'\n  rlsns -P -t net",
            ),
            ("SEE ALSO", "lsns(8), scols-filter(5), regex(7), nsenter(1), unshare(1), ioctl_ns(2), pidfd_getfd(2)"),
        ],
    }]
}

/// The binary's whole life, `rlsns` and the multi-call binary's `rlsns` alike
/// (`common::main!`): the command line `args` (`argv[0]` first) read as lsns
/// reads it ([`args`]), [`run`], and the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    common::cli::main_getopt::<Cli>("rlsns", 1, self::args(args), run)
}

/// Lists the namespaces as the plan says.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let plan = Plan::new(cli)?;
    let style = plan.style();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if plan.list_columns {
        let mut s = style;
        s.noheadings = true;
        columns::column_list().print(&mut out, &s)?;
        out.flush()?;
        return Ok(0);
    }
    // lsns 2.38 lists nothing for a PID that does not exist and exits 0,
    // which reads as "no namespaces"; a PID that is not there is bad input.
    if let Some(pid) = plan.pid {
        if std::fs::symlink_metadata(format!("/proc/{pid}"))
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            let gone = std::io::Error::from(nix::errno::Errno::ESRCH);
            return Err(anyhow::Error::new(gone).context(format!("cannot find process {pid}")));
        }
    }
    let owner_tree = matches!(plan.tree, Tree::Owner | Tree::Parent);
    let want = Want {
        kinds: plan.kinds,
        // Namespaces without processes cannot hold the PID asked for, so
        // `-p` skips looking for them unless a tree needs their relatives.
        mounts: plan.pid.is_none() || owner_tree,
        // Every listing but `-p` shows namespaces held by descriptors and
        // sockets, as lsns 2.41+ does.
        fds: plan.pid.is_none(),
    };
    // Read once: it names both bind-mounted namespaces and the NSFS column.
    let mounts = if want.mounts || plan.needs(Col::Nsfs) {
        common::mountinfo::own().unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut snap = Snapshot::scan(want, &mounts)?;
    if owner_tree {
        snap.connect(want);
    }
    let table = lines::table(&plan, snap, &mounts)?;
    table.print(&mut out, &style)?;
    out.flush()?;
    Ok(0)
}
