//! cgroups on v1, v2 and hybrid hosts: the layout read from
//! /proc/self/mountinfo and /proc/PID/cgroup (nothing is mounted, no path
//! is assumed), the cgroup directories of a process, and what differs
//! between the two versions behind one small interface ([`Version`]):
//! limit writes in the order the kernel needs, killing every process of a
//! cgroup, and reading what it used.

pub mod v1;
pub mod v2;

use std::fs::File;
use std::io::{self, Write as _};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use crate::mountinfo::Mount;

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// 1 or 2.
    pub version: u8,
    /// v1: the controllers of its mount options (`cpu`, `cpuacct`, and
    /// `name=systemd` for a named one); v2: the controllers this process's
    /// cgroup offers to its children (its `cgroup.controllers`).
    pub controllers: Vec<String>,
    /// Where it is mounted.
    pub mount: PathBuf,
    /// The cgroup the mount shows at its mount point (`/` unless a cgroup
    /// namespace or a bind mount shows only a subtree).
    pub mount_root: PathBuf,
    /// This process's cgroup in it, from the hierarchy's root (as
    /// /proc/self/cgroup says).
    pub own: PathBuf,
}

impl Hierarchy {
    /// The directory of cgroup `path` (from the hierarchy's root), if the
    /// mount shows it.
    pub fn dir(&self, path: &Path) -> Option<PathBuf> {
        let below = path.strip_prefix(&self.mount_root).ok()?;
        Some(self.mount.join(below))
    }

    /// The directory of this process's cgroup.
    pub fn own_dir(&self) -> Option<PathBuf> {
        self.dir(&self.own)
    }

    /// Whether `controller` is bound to this hierarchy.
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }

    /// How messages name it: `memory`, `cpu,cpuacct`, `cgroup2`.
    pub fn name(&self) -> String {
        match self.version {
            2 => "cgroup2".to_string(),
            _ => self.controllers.join(","),
        }
    }

    /// The code for its version.
    pub fn ops(&self) -> &'static dyn Version {
        match self.version {
            2 => &v2::V2,
            _ => &v1::V1,
        }
    }
}

/// Which versions a host mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    V1,
    V2,
    /// v1 controllers plus a cgroup2 mount (systemd's "hybrid" mode).
    Hybrid,
}

/// The cgroup hierarchies this process sees, and its place in each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub hierarchies: Vec<Hierarchy>,
}

impl Layout {
    /// The layout of this process: /proc/self/mountinfo and /proc/self/cgroup,
    /// with the cgroup2 controllers read from its own cgroup.
    pub fn own() -> anyhow::Result<Layout> {
        let mounts = crate::mountinfo::own()?;
        let cgroup = read("/proc/self/cgroup")?;
        let mut layout = Layout::parse(&mounts, &cgroup);
        for h in layout.hierarchies.iter_mut().filter(|h| h.version == 2) {
            if let Some(dir) = h.own_dir() {
                let text = read(dir.join("cgroup.controllers")).unwrap_or_default();
                h.controllers = text.split_whitespace().map(str::to_string).collect();
            }
        }
        Ok(layout)
    }

    /// The hierarchies of `mounts` that `proc_cgroup` (the text of
    /// /proc/PID/cgroup) has a line for, in its order; the first mount of
    /// each. v2 controllers are left empty (they are read from files).
    pub fn parse(mounts: &[Mount], proc_cgroup: &str) -> Layout {
        let mut hierarchies = Vec::new();
        for line in proc_cgroup.lines() {
            let mut fields = line.splitn(3, ':');
            let (Some(_id), Some(list), Some(path)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let controllers: Vec<String> = list
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            let of_it = |m: &&Mount| match m.fstype.as_str() {
                "cgroup2" => list.is_empty(),
                "cgroup" => {
                    !controllers.is_empty()
                        && controllers
                            .iter()
                            .all(|c| m.super_options.split(',').any(|o| o == c))
                }
                _ => false,
            };
            // A mount that shows our cgroup, where there are several
            // (bind mounts of subtrees, as container runtimes make).
            let mount = mounts
                .iter()
                .filter(of_it)
                .find(|m| Path::new(path).starts_with(&m.root))
                .or_else(|| mounts.iter().find(of_it));
            let Some(mount) = mount else { continue };
            hierarchies.push(Hierarchy {
                version: if list.is_empty() { 2 } else { 1 },
                controllers,
                mount: mount.mount_point.clone(),
                mount_root: mount.root.clone(),
                own: PathBuf::from(path),
            });
        }
        Layout { hierarchies }
    }

    /// v1, v2 or hybrid; None when no cgroup hierarchy is mounted.
    pub fn kind(&self) -> Option<Kind> {
        let v1 = self.hierarchies.iter().any(|h| h.version == 1);
        match (v1, self.v2().is_some()) {
            (true, true) => Some(Kind::Hybrid),
            (true, false) => Some(Kind::V1),
            (false, true) => Some(Kind::V2),
            (false, false) => None,
        }
    }

    /// The cgroup2 hierarchy, if mounted.
    pub fn v2(&self) -> Option<&Hierarchy> {
        self.hierarchies.iter().find(|h| h.version == 2)
    }

    /// The hierarchy `controller` is bound to: a v1 one that has it, else
    /// cgroup2 when it offers it. `name=NAME` finds a named v1 hierarchy.
    pub fn controller(&self, controller: &str) -> Option<&Hierarchy> {
        let v1 = self.hierarchies.iter().filter(|h| h.version == 1);
        v1.clone()
            .find(|h| h.has(controller))
            .or_else(|| self.v2().filter(|h| h.has(controller)))
    }

    /// The cgroup directory of process `pid` in each hierarchy this layout
    /// has (those the mounts show), from /proc/PID/cgroup.
    pub fn dirs_of(&self, pid: u32) -> anyhow::Result<Vec<(&Hierarchy, PathBuf)>> {
        let text = read(format!("/proc/{pid}/cgroup"))?;
        let mut dirs = Vec::new();
        for line in text.lines() {
            let mut fields = line.splitn(3, ':');
            let (Some(_), Some(list), Some(path)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let first = list.split(',').next().unwrap_or_default();
            let h = self.hierarchies.iter().find(|h| {
                (list.is_empty() && h.version == 2) || (!list.is_empty() && h.has(first))
            });
            if let Some(h) = h {
                if let Some(dir) = h.dir(Path::new(path)) {
                    dirs.push((h, dir));
                }
            }
        }
        Ok(dirs)
    }
}

/// Opens `dir`/cgroup.procs for writing a PID into (close-on-exec).
pub fn open_procs(dir: &Path) -> anyhow::Result<OwnedFd> {
    let path = dir.join("cgroup.procs");
    nix::fcntl::open(&path, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Moves the process writing into `procs` (an [`open_procs`] descriptor)
/// into that cgroup: the kernel takes `0` as "the writer", so a child can
/// join before it execs with no PID to format.
pub fn join(procs: impl AsFd) -> nix::Result<()> {
    nix::unistd::write(procs, b"0").map(drop)
}

/// A name for a cgroup below another, as a user gives it: relative, with
/// no `.` or `..` or empty component. Returns the name's components.
pub fn relative_name(name: &Path) -> Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for c in name.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::RootDir => {}
            _ => return Err(format!("'{}' must not contain '.' or '..'", name.display())),
        }
    }
    let text = name.as_os_str().as_encoded_bytes();
    if out.as_os_str().is_empty() || text.windows(2).any(|w| w == b"//") || text.ends_with(b"/.") {
        return Err(format!("'{}' is not a cgroup name", name.display()));
    }
    Ok(out)
}

/// One value written to one file of a cgroup, for a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub limit: Limit,
    pub path: PathBuf,
    pub value: String,
}

impl Write {
    /// Writes the value (no create, no truncate: cgroupfs files exist).
    pub fn apply(&self) -> anyhow::Result<()> {
        File::options()
            .write(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(self.value.as_bytes()))
            .with_context(|| format!("cannot write {} to {}", self.value, self.path.display()))
    }
}

/// The limits a cgroup can be given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// Bytes of memory.
    pub memory: Option<u64>,
    /// Bytes of memory and swap together (v1 `memsw`; docker's --memory-swap).
    pub memory_swap: Option<u64>,
    /// CPU time per period: (quota, period) in microseconds.
    pub cpu: Option<(u64, u64)>,
    /// The CPUs, a list as the kernel writes it (`0-2,4`).
    pub cpuset: Option<String>,
    /// Tasks (processes and threads).
    pub pids: Option<u64>,
}

/// Which limit a write or a refusal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Memory,
    MemorySwap,
    Cpu,
    Cpuset,
    Pids,
    /// Enabling controllers or copying settings the limits need.
    Setup,
}

impl Limit {
    /// The controller that enforces it.
    pub fn controller(self) -> &'static str {
        match self {
            Limit::Memory | Limit::MemorySwap => "memory",
            Limit::Cpu => "cpu",
            Limit::Cpuset => "cpuset",
            Limit::Pids => "pids",
            Limit::Setup => "",
        }
    }
}

impl Limits {
    /// The limits set, in the order they are written.
    pub fn set(&self) -> Vec<Limit> {
        let all = [
            (Limit::Cpuset, self.cpuset.is_some()),
            (Limit::Memory, self.memory.is_some()),
            (Limit::MemorySwap, self.memory_swap.is_some()),
            (Limit::Cpu, self.cpu.is_some()),
            (Limit::Pids, self.pids.is_some()),
        ];
        all.into_iter()
            .filter(|(_, s)| *s)
            .map(|(l, _)| l)
            .collect()
    }
}

/// A limit that cannot be enforced, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub limit: Limit,
    pub why: String,
}

/// The writes [`Version::setup`] found, and the controllers it cannot give
/// (`(controller, why)`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Setup {
    pub writes: Vec<Write>,
    pub refused: Vec<(String, String)>,
}

/// What a cgroup used. `None`: the hierarchies at hand do not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub cpu_usec: Option<u64>,
    pub cpu_user_usec: Option<u64>,
    pub cpu_system_usec: Option<u64>,
    pub memory: Option<u64>,
    pub memory_peak: Option<u64>,
    pub tasks: Option<u64>,
    pub tasks_peak: Option<u64>,
    pub oom_kills: Option<u64>,
}

impl Usage {
    /// Each figure from `self`, else from `other`.
    pub fn or(self, other: Usage) -> Usage {
        Usage {
            cpu_usec: self.cpu_usec.or(other.cpu_usec),
            cpu_user_usec: self.cpu_user_usec.or(other.cpu_user_usec),
            cpu_system_usec: self.cpu_system_usec.or(other.cpu_system_usec),
            memory: self.memory.or(other.memory),
            memory_peak: self.memory_peak.or(other.memory_peak),
            tasks: self.tasks.or(other.tasks),
            tasks_peak: self.tasks_peak.or(other.tasks_peak),
            oom_kills: self.oom_kills.or(other.oom_kills),
        }
    }
}

/// What differs between cgroup v1 and v2, for a cgroup directory.
pub trait Version {
    /// The writes that make the new levels `made` (top first, each a
    /// directory just created below `base`, the last the cgroup itself)
    /// usable for `controllers`: v1 cpuset copies `cpus` and `mems` from the
    /// parent (an empty cpuset refuses tasks); v2 enables the controllers in
    /// `cgroup.subtree_control` from `base` down. Also the controllers that
    /// cannot be had, and why (v2: not offered, or "no internal processes").
    fn setup(&self, base: &Path, made: &[PathBuf], controllers: &[&str]) -> Setup;

    /// The writes that set `limits` in `dir` (those of the controllers this
    /// hierarchy has, `controllers`), in the order the kernel accepts them,
    /// and the limits that cannot be enforced here.
    fn limits(
        &self,
        dir: &Path,
        controllers: &[String],
        limits: &Limits,
    ) -> (Vec<Write>, Vec<Refused>);

    /// Kills every process in `dir` and below, once.
    fn kill(&self, dir: &Path) -> anyhow::Result<()>;

    /// Whether any process is in `dir` or below.
    fn populated(&self, dir: &Path) -> bool;

    /// What `dir` used, as far as this hierarchy tells.
    fn usage(&self, dir: &Path) -> Usage;
}

/// The processes in `dir`/cgroup.procs (none when it cannot be read).
pub fn procs(dir: &Path) -> Vec<i32> {
    read(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Sends SIGKILL to every process in `dir` and the cgroups below it.
pub fn kill_each(dir: &Path) {
    for d in below(dir).iter().chain([&dir.to_path_buf()]) {
        for pid in procs(d) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// The cgroups below `dir`, deepest first.
pub fn below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(below(&entry.path()));
                out.push(entry.path());
            }
        }
    }
    out
}

/// Kills what is in `dir` (the hierarchy's way) until it is empty; fails
/// when processes are still there after `wait`.
pub fn empty(h: &Hierarchy, dir: &Path, wait: Duration) -> anyhow::Result<()> {
    let ops = h.ops();
    let start = Instant::now();
    while ops.populated(dir) {
        ops.kill(dir)
            .with_context(|| format!("cannot kill the processes in {}", dir.display()))?;
        if start.elapsed() > wait {
            anyhow::bail!("cannot empty cgroup {}: processes are left", dir.display());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// [`empty`], then removes `dir` and the cgroups below it.
pub fn kill_and_remove(h: &Hierarchy, dir: &Path, wait: Duration) -> anyhow::Result<()> {
    empty(h, dir, wait)?;
    for sub in below(dir).iter().chain([&dir.to_path_buf()]) {
        remove(sub, wait)?;
    }
    Ok(())
}

/// rmdir of an empty cgroup, retried while the kernel still counts tasks
/// that have exited (EBUSY for a moment).
pub fn remove(dir: &Path, wait: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove {}", dir.display()));
            }
        }
    }
}

/// `key value` lines (cpu.stat, memory.events, memory.oom_control): the value of `key`.
pub fn keyed(dir: &Path, file: &str, key: &str) -> Option<u64> {
    read(dir.join(file)).ok()?.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// A file holding one number.
pub fn number(dir: &Path, file: &str) -> Option<u64> {
    read(dir.join(file)).ok()?.trim().parse().ok()
}

fn read(path: impl AsRef<Path>) -> anyhow::Result<String> {
    let path = path.as_ref();
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    fn mounts(text: &str) -> Vec<Mount> {
        text.lines().filter_map(Mount::parse).collect()
    }

    #[test]
    fn hybrid_layout_is_read_from_mountinfo_and_proc_cgroup() {
        let cgroup = "9:name=systemd:/\n4:memory:/a/b\n2:cpu,cpuacct:/\n0::/user.slice\n";
        let layout = Layout::parse(&mounts(HYBRID), cgroup);
        assert_eq!(layout.kind(), Some(Kind::Hybrid));
        let memory = layout.controller("memory").unwrap();
        assert_eq!(
            memory.own_dir().unwrap(),
            Path::new("/sys/fs/cgroup/memory/a/b")
        );
        // cpu,cpuacct is the co-mounted hierarchy, not the lone cpu one.
        let cpu = layout.controller("cpuacct").unwrap();
        assert_eq!(cpu.mount, Path::new("/sys/fs/cgroup/cpu,cpuacct"));
        assert_eq!(cpu.name(), "cpu,cpuacct");
        assert!(layout.controller("name=systemd").is_some());
        let v2 = layout.v2().unwrap();
        assert_eq!(
            v2.own_dir().unwrap(),
            Path::new("/sys/fs/cgroup/unified/user.slice")
        );
        assert!(layout.controller("pids").is_none());
    }

    #[test]
    fn the_mount_that_shows_our_cgroup_is_taken() {
        let text = "\
60 1 0:32 /other /mnt/other rw - cgroup cgroup rw,memory
61 1 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
";
        let layout = Layout::parse(&mounts(text), "4:memory:/a\n");
        let memory = layout.controller("memory").unwrap();
        assert_eq!(
            memory.own_dir().unwrap(),
            Path::new("/sys/fs/cgroup/memory/a")
        );
    }

    #[test]
    fn pure_layouts_and_a_mount_of_a_subtree() {
        let v2 = "50 1 0:40 /ns /cg rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let layout = Layout::parse(&mounts(v2), "0::/ns/job\n");
        assert_eq!(layout.kind(), Some(Kind::V2));
        assert_eq!(
            layout.v2().unwrap().own_dir().unwrap(),
            Path::new("/cg/job")
        );
        // A cgroup the mount does not show has no directory.
        assert_eq!(layout.v2().unwrap().dir(Path::new("/other")), None);
        let v1 = Layout::parse(&mounts(HYBRID), "4:memory:/\n");
        assert_eq!(v1.kind(), Some(Kind::V1));
        assert_eq!(Layout::parse(&[], "0::/\n").kind(), None);
    }

    /// This process's directories, found from /proc/self/cgroup as from
    /// the layout's own record of it.
    #[test]
    fn dirs_of_this_process_are_its_own() {
        let layout = Layout::own().unwrap();
        let dirs = layout.dirs_of(std::process::id()).unwrap();
        assert_eq!(dirs.len(), layout.hierarchies.len());
        for (h, dir) in dirs {
            assert_eq!(Some(dir), h.own_dir());
        }
    }

    #[test]
    fn names_are_relative_without_dot_dot() {
        assert_eq!(relative_name(Path::new("a/b")).unwrap(), Path::new("a/b"));
        assert_eq!(relative_name(Path::new("/a")).unwrap(), Path::new("a"));
        for bad in ["", "..", "a/../b", "./a", "a//b", "/", "a/."] {
            assert!(relative_name(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn usage_takes_each_figure_from_the_first_that_has_it() {
        let a = Usage {
            cpu_usec: Some(5),
            ..Usage::default()
        };
        let b = Usage {
            cpu_usec: Some(9),
            tasks_peak: Some(3),
            ..Usage::default()
        };
        let both = a.or(b);
        assert_eq!(
            (both.cpu_usec, both.tasks_peak, both.memory),
            (Some(5), Some(3), None)
        );
    }
}
