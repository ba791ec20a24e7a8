//! The scan turned into output lines, as lsns's show_namespaces and
//! show_namespace_processes do: one line per namespace (or per process of
//! one namespace), hung under its parent line in the trees.

use std::collections::HashMap;

use common::ns::Kind;

use crate::columns::Col;
use crate::plan::{Plan, Tree};
use crate::scan::{self, Snapshot};
use crate::sys;
use crate::table::Table;

/// The lines of the listing `plan` asks for, from `snap`; `mounts` are
/// the mount table's entries (for NSFS).
pub fn table(
    plan: &Plan,
    snap: Snapshot,
    mounts: &[common::mountinfo::Mount],
) -> anyhow::Result<Table> {
    let nss = snap.nss.len();
    let procs = snap.procs.len();
    let mut b = Builder {
        plan,
        snap,
        table: Table::new("namespaces", plan.table_columns()),
        ns_line: vec![None; nss],
        proc_line: vec![None; procs],
        nsfs: if plan.needs(Col::Nsfs) {
            nsfs_mounts(mounts)
        } else {
            HashMap::new()
        },
        names: common::names::Names::default(),
        netlink: if plan.needs(Col::Netnsid) {
            sys::Netlink::open()
        } else {
            None
        },
        netnsids: HashMap::new(),
    };
    if let Some(ino) = plan.namespace {
        let Some(&ns) = b.snap.by_ino.get(&ino) else {
            anyhow::bail!("not found namespace: {ino}");
        };
        for proc in b.snap.nss[ns].procs.clone() {
            if b.proc_line[proc].is_none() {
                b.show_process(proc, ns)?;
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
                b.show_namespace(ns)?;
            }
        }
    }
    Ok(b.table)
}

/// Turns the scan into output lines, as lsns's show_namespaces and
/// show_namespace_processes do.
struct Builder<'a> {
    plan: &'a Plan,
    snap: Snapshot,
    table: Table,
    /// Per namespace (trees by owner and parent) and per process (the
    /// others), once it has been shown: the line its children hang under,
    /// its own, or when `-Q` left it out, its nearest shown ancestor's.
    ns_line: Vec<Option<Option<usize>>>,
    proc_line: Vec<Option<Option<usize>>>,
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

    fn show_namespace(&mut self, ns: usize) -> anyhow::Result<()> {
        match self.plan.tree {
            Tree::Owner => {
                if let Some(o) = self.related(ns, 1).filter(|&o| self.ns_line[o].is_none()) {
                    self.show_namespace(o)?;
                }
            }
            Tree::Parent => {
                if let Some(p) = self.related(ns, 0) {
                    if self.ns_line[p].is_none() {
                        self.show_namespace(p)?;
                    }
                } else if let Some(o) = self.related(ns, 1).filter(|&o| self.ns_line[o].is_none()) {
                    self.show_namespace(o)?;
                }
            }
            _ => {}
        }
        let rep = self.snap.nss[ns].rep;
        self.add_line(ns, rep)
    }

    fn show_process(&mut self, proc: usize, ns: usize) -> anyhow::Result<()> {
        let kind = scan::kind_index(self.snap.nss[ns].kind);
        if self.plan.tree == Tree::Process {
            if let Some(parent) = self.snap.procs[proc].parent {
                if self.proc_line[parent].is_none()
                    && self.snap.procs[parent].ns[kind] == self.snap.procs[proc].ns[kind]
                {
                    self.show_process(parent, ns)?;
                }
            }
        }
        self.add_line(ns, Some(proc))
    }

    fn add_line(&mut self, ns: usize, proc: Option<usize>) -> anyhow::Result<()> {
        let parent = match self.plan.tree {
            Tree::Process => proc
                .and_then(|p| self.snap.procs[p].parent)
                .and_then(|p| self.proc_line[p].flatten()),
            Tree::Parent => self.related(ns, 0).and_then(|p| self.ns_line[p].flatten()),
            Tree::Owner => self.related(ns, 1).and_then(|o| self.ns_line[o].flatten()),
            Tree::None => None,
        };
        let plan = self.plan;
        let cells: Vec<Option<String>> = plan
            .columns
            .iter()
            .map(|&c| self.cell(c, ns, proc))
            .collect();
        let shown = match &plan.filter {
            None => true,
            Some(filter) => {
                // The columns the filter reads that are not printed.
                let more: Vec<(Col, Option<String>)> = filter
                    .columns
                    .iter()
                    .filter(|c| !plan.columns.contains(c))
                    .map(|&c| (c, self.cell(c, ns, proc)))
                    .collect();
                filter.accepts(&|c| match plan.columns.iter().position(|&p| p == c) {
                    Some(i) => cells[i].clone(),
                    None => more.iter().find(|m| m.0 == c).and_then(|m| m.1.clone()),
                })?
            }
        };
        let hang = if shown {
            Some(self.table.add(cells, parent))
        } else {
            parent
        };
        match self.plan.tree {
            Tree::Owner | Tree::Parent => self.ns_line[ns] = Some(hang),
            _ => {
                if let Some(p) = proc {
                    self.proc_line[p] = Some(hang);
                }
            }
        }
        Ok(())
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
                if n.kind != Kind::Net {
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
