//! rlsns: util-linux lsns, the same options and output, from one pass over
//! /proc with hash maps instead of lsns's pairwise searches; it also sees
//! namespaces kept alive only by bind mounts and open descriptors.

mod scan;
mod sys;
mod table;

use std::collections::HashMap;
use std::io::{BufWriter, Write};

use anyhow::bail;
use clap::{CommandFactory, Parser};
use common::ns::Kind;

use scan::{Snapshot, Want};
use table::{Column, Format, Style, Table};

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

    /// Namespaces without processes (held by bind mounts or descriptors).
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
/// is in lsns's order; -P and -H are util-linux 2.40's.
pub const GETOPT: common::getopt::Table = {
    use common::getopt::Has::{No, Optional, Required};
    common::getopt::Table {
        short: "JlPno:p:HruhVt:T::W",
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
        ],
        newer: &["persistent", "list-columns"],
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
                 USER, NETNSID, NSFS (where the namespace is bind-mounted), PNS (parent), ONS \
                 (owner). The default is NS,TYPE,NPROCS,PID,USER,COMMAND, with NETNSID,NSFS \
                 before COMMAND for -t net, and PID,PPID,USER,COMMAND for a namespace argument.",
            ),
            (
                "NOTES",
                "rlsns reads /proc once and indexes namespaces by inode, so it stays fast \
                 with thousands of processes. Besides the namespaces of processes it lists \
                 those held only by bind mounts (nsfs entries of /proc/self/mountinfo, such \
                 as /run/netns/NAME) and by open descriptors (/proc/PID/fd links like \
                 net:[INODE]); -P shows only those. A process that exits during the scan is \
                 skipped. COMMAND is truncated to the terminal's width only when standard \
                 output is a terminal. -p of a PID that does not exist is an error (lsns \
                 2.38 lists nothing and exits 0).",
            ),
            (
                "EXIT STATUS",
                "0 on success (also when nothing matches), 1 on bad input (unknown column or \
                 type, invalid PID or namespace argument, a process or namespace that does \
                 not exist).",
            ),
            (
                "EXAMPLES",
                "  rlsns -p $$\n  rlsns -t net -J\n  rlsns -t pid -o NS,NPROCS,PID,PNS -Tparent\n  rlsns 4026531836",
            ),
            ("SEE ALSO", "lsns(8), nsenter(1), unshare(1), ioctl_ns(2)"),
        ],
    }]
}

/// An output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Ns,
    Type,
    Path,
    Nprocs,
    Pid,
    Ppid,
    Command,
    Uid,
    User,
    Netnsid,
    Nsfs,
    Pns,
    Ons,
}

/// Every column: name, help, JSON number, lsns's width hint.
const COLUMNS: [(Col, &str, &str, bool, usize); 13] = [
    (
        Col::Ns,
        "NS",
        "namespace identifier (inode number)",
        true,
        10,
    ),
    (Col::Type, "TYPE", "kind of namespace", false, 5),
    (Col::Path, "PATH", "path to the namespace", false, 0),
    (
        Col::Nprocs,
        "NPROCS",
        "number of processes in the namespace",
        true,
        5,
    ),
    (Col::Pid, "PID", "lowest PID in the namespace", true, 5),
    (Col::Ppid, "PPID", "PPID of the PID", true, 5),
    (Col::Command, "COMMAND", "command line of the PID", false, 0),
    (Col::Uid, "UID", "UID of the PID", true, 0),
    (Col::User, "USER", "username of the PID", false, 0),
    (
        Col::Netnsid,
        "NETNSID",
        "namespace ID as used by network subsystem",
        false,
        0,
    ),
    (
        Col::Nsfs,
        "NSFS",
        "nsfs mountpoint (usually used network subsystem)",
        false,
        0,
    ),
    (
        Col::Pns,
        "PNS",
        "parent namespace identifier (inode number)",
        true,
        10,
    ),
    (
        Col::Ons,
        "ONS",
        "owner namespace identifier (inode number)",
        true,
        10,
    ),
];

impl Col {
    fn info(self) -> (&'static str, bool, usize) {
        let (_, name, _, number, hint) = COLUMNS[self as usize];
        (name, number, hint)
    }

    fn by_name(name: &str) -> Option<Col> {
        COLUMNS
            .iter()
            .find(|c| c.1.eq_ignore_ascii_case(name))
            .map(|c| c.0)
    }

    /// Right-aligned in tables: the numbers, and NETNSID (lsns's flags).
    fn right(self) -> bool {
        self.info().1 || self == Col::Netnsid
    }
}

/// How namespaces hang together in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    None,
    /// Under the line of the parent process (COMMAND shows the tree).
    Process,
    /// Under the owning user namespace (NS shows the tree).
    Owner,
    /// Under the parent namespace.
    Parent,
}

/// What to list, decided before /proc is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub columns: Vec<Col>,
    pub kinds: [bool; 8],
    pub pid: Option<i32>,
    pub namespace: Option<u64>,
    pub tree: Tree,
    pub persistent: bool,
    pub format: Format,
    pub noheadings: bool,
    pub notruncate: bool,
    pub nowrap: bool,
    pub list_columns: bool,
}

impl Plan {
    pub fn new(cli: Cli) -> anyhow::Result<Plan> {
        if cli.json && cli.raw {
            bail!("mutually exclusive arguments: --json --raw");
        }
        let mut kinds = [false; 8];
        for t in &cli.types {
            match Kind::ALL.iter().position(|k| k.name() == t) {
                Some(i) => kinds[i] = true,
                None => bail!("unknown namespace type: {t}"),
            }
        }
        let net = kinds[1];
        if !kinds.contains(&true) {
            kinds = [true; 8];
        }
        let pid = cli
            .task
            .as_deref()
            .map(|p| common::num::strtos32_or_err(p, "invalid PID argument"))
            .transpose()?
            .filter(|&p| p != 0);
        if cli.persistent && pid.is_some() {
            bail!("mutually exclusive arguments: --persistent --task");
        }
        let mut tree = match cli.tree.as_ref() {
            None => Tree::None,
            Some(rel) => match rel.as_deref().map(|r| r.strip_prefix('=').unwrap_or(r)) {
                None | Some("owner") => Tree::Owner,
                Some("parent") => Tree::Parent,
                Some("process") => Tree::Process,
                Some(other) => bail!("unknown tree type: {other}"),
            },
        };
        let mut columns = Vec::new();
        if cli.output_all {
            columns = COLUMNS.iter().map(|c| c.0).collect();
        }
        let mut namespace = None;
        if let Some(arg) = cli.namespace.first() {
            if pid.is_some() {
                bail!("--task is mutually exclusive with <namespace>");
            }
            namespace = Some(common::num::strtou64_or_err(
                arg,
                "invalid namespace argument",
            )?);
            if tree == Tree::None && !cli.list {
                tree = Tree::Process;
            }
            if columns.is_empty() {
                columns = vec![Col::Pid, Col::Ppid, Col::User, Col::Command];
            }
        }
        if columns.is_empty() {
            columns = vec![Col::Ns, Col::Type, Col::Nprocs, Col::Pid, Col::User];
            if net {
                columns.extend([Col::Netnsid, Col::Nsfs]);
            }
            columns.push(Col::Command);
            if tree == Tree::None && !cli.list {
                tree = Tree::Process;
            }
        }
        if let Some(list) = &cli.output {
            let names = match list.strip_prefix('+') {
                Some(more) => more,
                None => {
                    columns.clear();
                    list
                }
            };
            for name in names.split(',') {
                match Col::by_name(name) {
                    Some(c) => columns.push(c),
                    None => bail!("unknown column: {name}"),
                }
            }
        }
        Ok(Plan {
            columns,
            kinds,
            pid,
            namespace,
            tree,
            persistent: cli.persistent,
            format: if cli.json {
                Format::Json
            } else if cli.raw {
                Format::Raw
            } else {
                Format::Table
            },
            noheadings: cli.noheadings,
            notruncate: cli.notruncate,
            // lsns: raw output never wraps
            nowrap: cli.nowrap || cli.raw,
            list_columns: cli.list_columns,
        })
    }

    fn style(&self) -> Style {
        Style {
            format: self.format,
            noheadings: self.noheadings,
            utf8: utf8_locale(),
            term_width: terminal_width(),
        }
    }

    fn table_columns(&self) -> Vec<Column> {
        self.columns
            .iter()
            .map(|&c| {
                let (name, number, hint) = c.info();
                let ns_tree = c == Col::Ns && matches!(self.tree, Tree::Owner | Tree::Parent);
                Column {
                    name,
                    right: c.right() && !ns_tree,
                    number,
                    trunc: c == Col::Command && !self.notruncate,
                    tree: ns_tree || (c == Col::Command && self.tree == Tree::Process),
                    multiline: c == Col::Nsfs && !self.nowrap,
                    hint,
                }
            })
            .collect()
    }
}

/// The locale's codeset is UTF-8 (libsmartcols then draws trees with
/// box-drawing characters, else with ASCII).
fn utf8_locale() -> bool {
    // SAFETY: called from the main thread before any other thread exists;
    // the argument is a valid C string.
    unsafe { libc::setlocale(libc::LC_ALL, c"".as_ptr()) };
    // SAFETY: nl_langinfo returns a pointer to a NUL-terminated string that
    // stays valid until the next setlocale; it is copied at once.
    let codeset = unsafe { std::ffi::CStr::from_ptr(libc::nl_langinfo(libc::CODESET)) };
    codeset.to_bytes() == b"UTF-8"
}

/// The terminal's width when stdout is a terminal (libsmartcols: the
/// window size, else $COLUMNS, else 80); None otherwise: no truncation.
fn terminal_width() -> Option<usize> {
    // SAFETY: isatty takes an integer.
    if unsafe { libc::isatty(libc::STDOUT_FILENO) } != 1 {
        return None;
    }
    // SAFETY: zeroed winsize is a valid value of this plain C struct.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes one winsize to the pointer, a live local.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    let cols = if rc == 0 { usize::from(ws.ws_col) } else { 0 };
    let cols = if cols > 0 {
        cols
    } else {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    };
    Some(if cols > 0 { cols } else { 80 })
}

/// `-H`: the columns with their JSON types.
fn column_list() -> Table {
    let mut t = Table::new(
        "lsns-columns",
        vec![
            Column {
                name: "HOLDER",
                right: true,
                ..Column::default()
            },
            Column {
                name: "TYPE",
                ..Column::default()
            },
            Column {
                name: "DESCRIPTION",
                ..Column::default()
            },
        ],
    );
    for (_, name, help, number, _) in COLUMNS {
        let kind = if number { "<integer>" } else { "<string>" };
        t.add(
            vec![Some(name.into()), Some(kind.into()), Some(help.into())],
            None,
        );
    }
    t
}

/// Turns the scan into output lines, as lsns's show_namespaces and
/// show_namespace_processes do.
struct Builder<'a> {
    plan: &'a Plan,
    snap: Snapshot,
    table: Table,
    ns_line: Vec<Option<usize>>,
    proc_line: Vec<Option<usize>>,
    nsfs: HashMap<String, Vec<String>>,
    names: common::names::Names,
    netlink: Option<sys::Netlink>,
    netnsids: HashMap<u64, sys::NsId>,
}

impl Builder<'_> {
    fn related(&mut self, ns: usize, which: usize) -> Option<usize> {
        let ino = self.snap.related(ns)[which];
        (ino != 0)
            .then(|| self.snap.by_ino.get(&ino).copied())
            .flatten()
    }

    fn show_namespace(&mut self, ns: usize) {
        match self.plan.tree {
            Tree::Owner => {
                if let Some(o) = self.related(ns, 1).filter(|&o| self.ns_line[o].is_none()) {
                    self.show_namespace(o);
                }
            }
            Tree::Parent => {
                if let Some(p) = self.related(ns, 0) {
                    if self.ns_line[p].is_none() {
                        self.show_namespace(p);
                    }
                } else if let Some(o) = self.related(ns, 1).filter(|&o| self.ns_line[o].is_none()) {
                    self.show_namespace(o);
                }
            }
            _ => {}
        }
        let rep = self.snap.nss[ns].rep;
        self.add_line(ns, rep);
    }

    fn show_process(&mut self, proc: usize, ns: usize) {
        let kind = scan::kind_index(self.snap.nss[ns].kind);
        if self.plan.tree == Tree::Process {
            if let Some(parent) = self.snap.procs[proc].parent {
                if self.proc_line[parent].is_none()
                    && self.snap.procs[parent].ns[kind] == self.snap.procs[proc].ns[kind]
                {
                    self.show_process(parent, ns);
                }
            }
        }
        self.add_line(ns, Some(proc));
    }

    fn add_line(&mut self, ns: usize, proc: Option<usize>) {
        let parent = match self.plan.tree {
            Tree::Process => proc
                .and_then(|p| self.snap.procs[p].parent)
                .and_then(|p| self.proc_line[p]),
            Tree::Parent => self.related(ns, 0).and_then(|p| self.ns_line[p]),
            Tree::Owner => self.related(ns, 1).and_then(|o| self.ns_line[o]),
            Tree::None => None,
        };
        let plan = self.plan;
        let cells = plan
            .columns
            .iter()
            .map(|&c| self.cell(c, ns, proc))
            .collect();
        let line = self.table.add(cells, parent);
        match self.plan.tree {
            Tree::Owner | Tree::Parent => self.ns_line[ns] = Some(line),
            _ => {
                if let Some(p) = proc {
                    self.proc_line[p] = Some(line);
                }
            }
        }
    }

    fn cell(&mut self, col: Col, ns: usize, proc: Option<usize>) -> Option<String> {
        let n = &self.snap.nss[ns];
        let p = proc.map(|p| &self.snap.procs[p]);
        match col {
            Col::Ns => Some(n.ino.to_string()),
            Col::Type => Some(n.kind.name().to_string()),
            Col::Path => p.map(|p| format!("/proc/{}/ns/{}", p.pid, n.kind.name())),
            Col::Nprocs => Some(n.procs.len().to_string()),
            Col::Pid => p.map(|p| p.pid.to_string()),
            Col::Ppid => p.map(|p| p.ppid.to_string()),
            Col::Command => p.and_then(|p| scan::command(p.pid)),
            Col::Uid => Some(p.map_or(n.uid_fallback, |p| p.uid).to_string()),
            Col::User => {
                let uid = p.map_or(n.uid_fallback, |p| p.uid);
                Some(self.names.owner(uid))
            }
            Col::Netnsid => {
                if n.kind != Kind::Net || p.is_none() {
                    return None;
                }
                let ino = n.ino;
                let id = match self.netnsids.get(&ino) {
                    Some(id) => *id,
                    None => {
                        let id = match (&self.netlink, self.snap.open(ns)) {
                            (Some(nl), Some(f)) => nl.nsid(&f),
                            _ => sys::NsId::Unknown,
                        };
                        self.netnsids.insert(ino, id);
                        id
                    }
                };
                match id {
                    sys::NsId::Id(i) => Some(i.to_string()),
                    sys::NsId::Unassigned => Some("unassigned".into()),
                    sys::NsId::Unknown => None,
                }
            }
            Col::Nsfs => {
                let key = format!("{}:[{}]", n.kind.name(), n.ino);
                let sep = if self.plan.nowrap { "," } else { "\n" };
                self.nsfs.get(&key).map(|targets| targets.join(sep))
            }
            Col::Pns => Some(self.snap.related(ns)[0].to_string()),
            Col::Ons => Some(self.snap.related(ns)[1].to_string()),
        }
    }
}

/// Bind-mounted namespaces: `type:[inode]` → mount points, each once.
fn nsfs_mounts(mounts: &[common::mountinfo::Mount]) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for m in mounts {
        if m.fstype != "nsfs" {
            continue;
        }
        let target = m.mount_point.to_string_lossy().into_owned();
        let targets = map
            .entry(m.root.to_string_lossy().into_owned())
            .or_default();
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    map
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
        column_list().print(&mut out, &s)?;
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
        held: plan.pid.is_none() || owner_tree,
    };
    let nsfs_column = plan.columns.contains(&Col::Nsfs);
    // Read once: it names both bind-mounted namespaces and the NSFS column.
    let mounts = if want.held || nsfs_column {
        common::mountinfo::own().unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut snap = Snapshot::scan(want, &mounts)?;
    if owner_tree {
        snap.connect(want);
    }
    let nss = snap.nss.len();
    let procs = snap.procs.len();
    let mut b = Builder {
        plan: &plan,
        snap,
        table: Table::new("namespaces", plan.table_columns()),
        ns_line: vec![None; nss],
        proc_line: vec![None; procs],
        nsfs: if nsfs_column {
            nsfs_mounts(&mounts)
        } else {
            HashMap::new()
        },
        names: common::names::Names::default(),
        netlink: if plan.columns.contains(&Col::Netnsid) {
            sys::Netlink::open()
        } else {
            None
        },
        netnsids: HashMap::new(),
    };
    if let Some(ino) = plan.namespace {
        let Some(&ns) = b.snap.by_ino.get(&ino) else {
            bail!("not found namespace: {ino}");
        };
        for proc in b.snap.nss[ns].procs.clone() {
            if b.proc_line[proc].is_none() {
                b.show_process(proc, ns);
            }
        }
    } else {
        let mut order: Vec<usize> = (0..b.snap.nss.len()).collect();
        order.sort_by_key(|&i| b.snap.nss[i].ino);
        let pid = plan.pid.and_then(|pid| b.snap.by_pid.get(&pid).copied());
        for ns in order {
            let n = &b.snap.nss[ns];
            if plan.pid.is_some()
                && pid.is_none_or(|p| b.snap.procs[p].ns[scan::kind_index(n.kind)] != n.ino)
            {
                continue;
            }
            if plan.persistent && !n.procs.is_empty() {
                continue;
            }
            if b.ns_line[ns].is_none() {
                b.show_namespace(ns);
            }
        }
    }
    b.table.print(&mut out, &style)?;
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let mut argv = vec!["rlsns"];
        argv.extend(args);
        let argv = super::args(argv.into_iter().map(Into::into)).unwrap();
        Plan::new(Cli::try_parse_from(argv).unwrap())
    }

    #[test]
    fn column_table_follows_the_enum() {
        for (i, c) in COLUMNS.iter().enumerate() {
            assert_eq!(c.0 as usize, i);
            assert_eq!(Col::by_name(c.1), Some(c.0));
        }
    }

    #[test]
    fn defaults_as_lsns() {
        let p = plan(&[]).unwrap();
        assert_eq!(
            p.columns,
            [
                Col::Ns,
                Col::Type,
                Col::Nprocs,
                Col::Pid,
                Col::User,
                Col::Command
            ]
        );
        assert_eq!(p.tree, Tree::Process);
        let p = plan(&["-t", "net"]).unwrap();
        assert_eq!(p.columns[5..], [Col::Netnsid, Col::Nsfs, Col::Command]);
        assert_eq!(
            p.kinds,
            [false, true, false, false, false, false, false, false]
        );
        let p = plan(&["-l", "4026531836"]).unwrap();
        assert_eq!(p.columns, [Col::Pid, Col::Ppid, Col::User, Col::Command]);
        assert_eq!((p.tree, p.namespace), (Tree::None, Some(4026531836)));
    }

    #[test]
    fn output_lists_replace_or_add() {
        assert_eq!(
            plan(&["-o", "ns,Type"]).unwrap().columns,
            [Col::Ns, Col::Type]
        );
        assert_eq!(plan(&["-o", "+PNS"]).unwrap().columns.len(), 7);
        assert_eq!(plan(&["--output-all"]).unwrap().columns.len(), 13);
        assert_eq!(plan(&["--output-all"]).unwrap().tree, Tree::None);
    }

    #[test]
    fn tree_argument_is_attached_only() {
        assert_eq!(plan(&["-Tparent"]).unwrap().tree, Tree::Parent);
        assert_eq!(plan(&["--tree=process"]).unwrap().tree, Tree::Process);
        assert_eq!(plan(&["-T"]).unwrap().tree, Tree::Owner);
        let err = plan(&["-T", "parent"]).unwrap_err();
        assert_eq!(err.to_string(), "invalid namespace argument: 'parent'");
    }

    #[test]
    fn getopt_table_matches_the_options() {
        assert_eq!(GETOPT.differences(Cli::command()), Vec::<String>::new());
    }

    #[test]
    fn options_may_follow_the_namespace_and_take_any_value() {
        let p = plan(&["4026531836", "-Tparent", "-r"]).unwrap();
        assert_eq!((p.namespace, p.tree), (Some(4026531836), Tree::Parent));
        let msg = |args: &[&str]| plan(args).unwrap_err().to_string();
        assert_eq!(msg(&["-o", "-x"]), "unknown column: -x");
        assert_eq!(msg(&["--output", "-T"]), "unknown column: -T");
    }

    #[test]
    fn bad_inputs_say_what_lsns_says() {
        let msg = |args: &[&str]| plan(args).unwrap_err().to_string();
        assert_eq!(msg(&["-o", "FOO"]), "unknown column: FOO");
        assert_eq!(msg(&["-t", "foo"]), "unknown namespace type: foo");
        assert_eq!(msg(&["-p", "abc"]), "invalid PID argument: 'abc'");
        assert_eq!(msg(&["-Tfoo"]), "unknown tree type: foo");
        assert_eq!(
            msg(&["-J", "-r"]),
            "mutually exclusive arguments: --json --raw"
        );
        assert_eq!(
            msg(&["-p", "1", "5"]),
            "--task is mutually exclusive with <namespace>"
        );
        assert_eq!(plan(&["-p", "0"]).unwrap().pid, None);
    }
}
