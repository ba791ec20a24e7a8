//! What to list, decided from the command line before /proc is read, and
//! the output style (locale, terminal width) it is printed in.

use anyhow::bail;
use common::ns::Kind;

use crate::columns::{Col, COLUMNS};
use crate::filter::Filter;
use crate::table::{Column, Format, Style};
use crate::Cli;

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
#[derive(Debug)]
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
    /// `-Q`: only the lines that pass.
    pub filter: Option<Filter>,
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
            filter: cli.filter.as_deref().map(Filter::parse).transpose()?,
        })
    }

    /// Whether `col` is printed or read by the filter.
    pub fn needs(&self, col: Col) -> bool {
        self.columns.contains(&col)
            || self
                .filter
                .as_ref()
                .is_some_and(|f| f.columns.contains(&col))
    }

    pub(crate) fn style(&self) -> Style {
        Style {
            format: self.format,
            noheadings: self.noheadings,
            utf8: utf8_locale(),
            term_width: terminal_width(),
        }
    }

    pub(crate) fn table_columns(&self) -> Vec<Column> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GETOPT;
    use clap::{CommandFactory, Parser};

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let mut argv = vec!["rlsns"];
        argv.extend(args);
        let argv = crate::args(argv.into_iter().map(Into::into)).unwrap();
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
