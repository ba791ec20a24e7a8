//! A command in a cgroup of its own: the hierarchies it needs chosen, a
//! stale cgroup of the same name cleared, the cgroups made, locked, marked
//! and limited, the command run, and everything it left killed and removed.

use std::io::Write as _;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use common::cgroup::{Hierarchy, Layout, Limit, Limits, Usage};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::stat::Mode;

use crate::{report, spawn, Run};

/// How long the processes left behind get to die, and an rmdir to succeed.
const WAIT: Duration = Duration::from_secs(10);

/// The extended attribute that marks a cgroup as rcgexec's (user.*: also
/// for a user in a delegated cgroup2 tree).
const MARK: &std::ffi::CStr = c"user.rcgexec";

pub fn run(plan: Run) -> anyhow::Result<u8> {
    // Blocked from the start: a SIGINT or SIGTERM while the cgroups are
    // made is passed on once the command runs, then cleaned up after.
    let mut waited = SigSet::empty();
    for sig in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGALRM,
    ] {
        waited.add(sig);
    }
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&waited), None)
        .context("cannot block signals")?;

    let argv = common::process::c_args(&plan.command)?;
    let layout = Layout::own()?;
    let name = plan
        .name
        .clone()
        .unwrap_or_else(|| format!("rcgexec-{}", std::process::id()).into());
    let uses = choose(&layout, &plan)?;
    if let Some(cpus) = &plan.limits.cpuset {
        check_cpuset(&layout, cpus)?;
    }
    clear_stale(&layout, &name)?;
    let mut job = Job::make(&uses, &name, &plan)?;

    let procs = job.procs()?;
    let into = job.dirs.iter().position(|d| d.hierarchy.version == 2);
    let into = into.map(|i| (job.dirs[i].lock.as_fd(), i));
    let pid = spawn::start(&argv, &plan.command[0], into, &procs)?;
    drop(procs);
    job.keep = plan.keep;

    let mut monitor = report::Monitor::new(plan.json, plan.limits.memory);
    let status = spawn::supervise(pid, &waited, plan.monitor, || monitor.tick(job.usage()));
    let stopped = job.stop();
    let usage = job.usage();
    let had: Vec<&str> = ["memory", "pids", "cpu", "cpuacct"]
        .into_iter()
        .filter(|c| job.has(c))
        .collect();
    let removed = job.finish();
    let status = status?;
    stopped?;
    removed?;
    report::oom(&plan, &usage, status);
    if plan.stats {
        report::stats(&usage, plan.json, |c| had.contains(&c))?;
    }
    Ok(common::process::exit_code(status))
}

/// One hierarchy the job uses, and the controllers it is used for
/// (cgroup2 on a hybrid host: none, it holds the processes).
struct Use<'a> {
    hierarchy: &'a Hierarchy,
    controllers: Vec<&'static str>,
}

/// The hierarchies of the limits, of --stats and --monitor where mounted,
/// and the one that holds every process: cgroup2, else the v1 freezer.
fn choose<'a>(layout: &'a Layout, plan: &Run) -> anyhow::Result<Vec<Use<'a>>> {
    let mut uses: Vec<Use<'a>> = Vec::new();
    if let Some(v2) = layout.v2() {
        add(&mut uses, v2, None);
    } else if let Some(freezer) = layout.controller("freezer") {
        add(&mut uses, freezer, Some("freezer"));
    }
    for limit in plan.limits.set() {
        let c = limit.controller();
        match layout.controller(c) {
            Some(h) => add(&mut uses, h, Some(c)),
            None => refuse(plan, limit, &format!("no {c} controller is mounted"))?,
        }
    }
    if plan.stats || plan.monitor.is_some() {
        let cpu = if layout.v2().is_some() {
            None
        } else {
            Some("cpuacct")
        };
        for c in ["memory", "pids"].into_iter().chain(cpu) {
            if let Some(h) = layout.controller(c) {
                add(&mut uses, h, Some(c));
            }
        }
    }
    if uses.is_empty() {
        match layout.hierarchies.iter().find(|h| h.version == 1) {
            Some(h) => add(&mut uses, h, None),
            None => bail!("no cgroup hierarchy is mounted"),
        }
    }
    Ok(uses)
}

/// Adds hierarchy `h` to `uses` (once), and `controller` to what it is used for.
fn add<'a>(uses: &mut Vec<Use<'a>>, h: &'a Hierarchy, controller: Option<&'static str>) {
    let i = match uses.iter().position(|u| u.hierarchy.mount == h.mount) {
        Some(i) => i,
        None => {
            uses.push(Use {
                hierarchy: h,
                controllers: Vec::new(),
            });
            uses.len() - 1
        }
    };
    if let Some(c) = controller.filter(|c| !uses[i].controllers.contains(c)) {
        uses[i].controllers.push(c);
    }
}

/// A limit that cannot be enforced: an error, or with --best-effort a
/// warning that says which and why.
fn refuse(plan: &Run, limit: Limit, why: &str) -> anyhow::Result<()> {
    let given = plan
        .given
        .iter()
        .find(|(l, _)| *l == limit)
        .map_or("the limits", |(_, g)| g.as_str());
    if !plan.best_effort {
        bail!("cannot enforce {given}: {why}");
    }
    let _ = writeln!(std::io::stderr(), "rcgexec: not enforcing {given}: {why}");
    Ok(())
}

/// Every CPU of --cpuset must be one rcgexec's own cgroup may use.
fn check_cpuset(layout: &Layout, cpus: &str) -> anyhow::Result<()> {
    let Some(dir) = layout.controller("cpuset").and_then(Hierarchy::own_dir) else {
        return Ok(()); // refused (or not enforced) by choose
    };
    let allowed = [
        "cpuset.effective_cpus",
        "cpuset.cpus.effective",
        "cpuset.cpus",
    ]
    .iter()
    .find_map(|f| std::fs::read_to_string(dir.join(f)).ok())
    .unwrap_or_default();
    let allowed_list = crate::parse::cpu_list(&allowed).unwrap_or_default();
    let wanted = crate::parse::cpu_list(cpus).map_err(anyhow::Error::msg)?;
    if let Some(cpu) = wanted.iter().find(|c| !allowed_list.contains(c)) {
        bail!(
            "--cpuset {cpus}: CPU {cpu} is not available here (only {})",
            allowed.trim()
        );
    }
    Ok(())
}

/// The directory of cgroup `name` in `h` and the one it is made below:
/// rcgexec's own cgroup, or the root for an absolute name.
fn place(h: &Hierarchy, name: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let base = if name.is_absolute() {
        Path::new("/")
    } else {
        &h.own
    };
    let base_dir = h.dir(base).with_context(|| {
        format!(
            "cgroup {} of {} is not visible under {}",
            base.display(),
            h.name(),
            h.mount.display()
        )
    })?;
    let below = name.strip_prefix("/").unwrap_or(name);
    Ok((base_dir.join(below), base_dir))
}

/// A cgroup of NAME left by an rcgexec that could not clean up (killed):
/// its processes are killed and it is removed, and stderr says so. One
/// locked by a running rcgexec, or one with processes that rcgexec did not
/// mark as its own, is refused.
fn clear_stale(layout: &Layout, name: &Path) -> anyhow::Result<()> {
    for h in &layout.hierarchies {
        let Ok((dir, base)) = place(h, name) else {
            continue;
        };
        if dir.is_dir() {
            clear_stale_leaf(h, &dir)?;
        }
        clear_stale_levels(&dir, &base);
    }
    Ok(())
}

/// The cgroup of NAME itself, as [`clear_stale`] says.
fn clear_stale_leaf(h: &Hierarchy, dir: &Path) -> anyhow::Result<()> {
    let lock = lock(dir)?;
    if !marked(&lock) && h.ops().populated(dir) {
        bail!(
            "cgroup {} exists and has processes that rcgexec did not start",
            dir.display()
        );
    }
    common::cgroup::kill_and_remove(h, dir, WAIT)?;
    said_stale(dir);
    Ok(())
}

/// The levels above NAME (`a` of `a/b`) that an rcgexec made and a kill
/// left behind: marked and empty, removed deepest first, and stderr says
/// so. A level rcgexec did not mark, or one that holds another cgroup (in
/// use by another run), stays, and so do the levels above it.
fn clear_stale_levels(dir: &Path, base: &Path) {
    let levels = dir.ancestors().skip(1);
    for level in levels.take_while(|l| *l != base && l.starts_with(base)) {
        let Ok(fd) = open_dir(level) else {
            continue;
        };
        if !marked(&fd) || std::fs::remove_dir(level).is_err() {
            return;
        }
        said_stale(level);
    }
}

fn said_stale(dir: &Path) {
    let _ = writeln!(
        std::io::stderr(),
        "rcgexec: removed stale cgroup {} (left by an earlier run)",
        dir.display()
    );
}

fn open_dir(dir: &Path) -> nix::Result<OwnedFd> {
    nix::fcntl::open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// Opens the cgroup directory `dir` and locks it, refusing one that a
/// running rcgexec holds. A POSIX record lock (not flock): the child does
/// not inherit it, so an rcgexec killed while its child was still joining
/// cgroups leaves its cgroup stale, not "in use".
fn lock(dir: &Path) -> anyhow::Result<OwnedFd> {
    use nix::fcntl::FcntlArg;
    let fd = open_dir(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    let whole = |kind: libc::c_int| libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    // A directory opens read-only, so each run holds a read lock, and a
    // write lock is what would conflict with any of them.
    let mut probe = whole(libc::F_WRLCK);
    nix::fcntl::fcntl(&fd, FcntlArg::F_GETLK(&mut probe))
        .with_context(|| format!("cannot lock {}", dir.display()))?;
    if probe.l_type != libc::F_UNLCK as libc::c_short {
        bail!(
            "cgroup {} is in use by another rcgexec (process {})",
            dir.display(),
            probe.l_pid
        );
    }
    nix::fcntl::fcntl(&fd, FcntlArg::F_SETLK(&whole(libc::F_RDLCK)))
        .with_context(|| format!("cannot lock {}", dir.display()))?;
    Ok(fd)
}

fn marked(dir: &impl AsFd) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: a size query (NULL buffer, 0 bytes) on a descriptor we own.
    let rc = unsafe {
        libc::fgetxattr(
            dir.as_fd().as_raw_fd(),
            MARK.as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    rc >= 0
}

/// Marks a cgroup as rcgexec's. Where cgroupfs has no user xattrs, it
/// stays unmarked: a stale one is then only cleared when empty.
fn mark(dir: &impl AsFd) {
    use std::os::fd::AsRawFd;
    let value = b"1";
    // SAFETY: the name is a C string, the value a live buffer of its length.
    let _ = unsafe {
        libc::fsetxattr(
            dir.as_fd().as_raw_fd(),
            MARK.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
}

/// The job's cgroup in one hierarchy.
struct Dir {
    hierarchy: Hierarchy,
    path: PathBuf,
    /// The levels rcgexec made, top first (the last is `path`).
    made: Vec<PathBuf>,
    /// `path`, open and locked while rcgexec runs.
    lock: OwnedFd,
}

/// The cgroups of the command. Dropped before [`Job::finish`] (on an
/// error), it kills what is in them and removes them.
struct Job {
    /// cgroup2 first: the one that holds every process, and whose figures are exact.
    dirs: Vec<Dir>,
    keep: bool,
    finished: bool,
}

impl Job {
    fn make(uses: &[Use], name: &Path, plan: &Run) -> anyhow::Result<Job> {
        let mut job = Job {
            dirs: Vec::new(),
            keep: false,
            finished: false,
        };
        for u in uses {
            let h = u.hierarchy;
            let (path, base) = place(h, name)?;
            let mut made = Vec::new();
            let mut level = base.clone();
            for part in path.strip_prefix(&base).unwrap_or(&path).components() {
                level.push(part);
                match nix::unistd::mkdir(&level, Mode::from_bits_truncate(0o755)) {
                    Ok(()) => {
                        // A level above NAME, marked so that a run after
                        // a kill knows it for rcgexec's (the last one is
                        // marked once locked).
                        if level != path {
                            if let Ok(fd) = open_dir(&level) {
                                mark(&fd);
                            }
                        }
                        made.push(level.clone());
                    }
                    Err(Errno::EEXIST) if level != path => {}
                    Err(e) => {
                        remove_levels(&made);
                        let why = format!(
                            "cannot create cgroup {}: {}",
                            level.display(),
                            common::error::strerror(&e.into())
                        );
                        refuse_all(plan, u, &why)?;
                        break;
                    }
                }
            }
            if made.last() != Some(&path) {
                continue;
            }
            let lock = match lock(&path) {
                Ok(lock) => lock,
                Err(e) => {
                    remove_levels(&made);
                    return Err(e);
                }
            };
            mark(&lock);
            job.dirs.push(Dir {
                hierarchy: h.clone(),
                path: path.clone(),
                made: made.clone(),
                lock,
            });
            let setup = h.ops().setup(&base, &made, &u.controllers);
            for (c, why) in &setup.refused {
                for limit in plan
                    .limits
                    .set()
                    .into_iter()
                    .filter(|l| l.controller() == c)
                {
                    refuse(plan, limit, why)?;
                }
            }
            for w in &setup.writes {
                w.apply()?;
            }
            // A controller refused (with --best-effort) is not tried again.
            let usable: Vec<&str> = u
                .controllers
                .iter()
                .copied()
                .filter(|c| !setup.refused.iter().any(|(r, _)| r == c))
                .collect();
            let own = subset(&plan.limits, &usable);
            let (writes, refused) = h.ops().limits(&path, &h.controllers, &own);
            for r in refused {
                refuse(plan, r.limit, &r.why)?;
            }
            for w in writes {
                if let Err(e) = w.apply() {
                    refuse(plan, w.limit, &common::error::one_line(&e))?;
                }
            }
        }
        job.dirs.sort_by_key(|d| d.hierarchy.version != 2);
        Ok(job)
    }

    /// cgroup.procs of each cgroup, open for the child to join.
    fn procs(&self) -> anyhow::Result<Vec<(PathBuf, OwnedFd)>> {
        self.dirs
            .iter()
            .map(|d| Ok((d.path.clone(), common::cgroup::open_procs(&d.path)?)))
            .collect()
    }

    /// Whether the job has a cgroup with `controller` (cgroup2: enabled for it).
    fn has(&self, controller: &str) -> bool {
        self.dirs.iter().any(|d| match d.hierarchy.version {
            2 => std::fs::read_to_string(d.path.join("cgroup.controllers"))
                .is_ok_and(|t| t.split_whitespace().any(|c| c == controller)),
            _ => d.hierarchy.has(controller),
        })
    }

    fn usage(&self) -> Usage {
        self.dirs
            .iter()
            .map(|d| d.hierarchy.ops().usage(&d.path))
            .fold(Usage::default(), Usage::or)
    }

    /// Kills every process left, cgroup2's (or the freezer's) first.
    fn stop(&self) -> anyhow::Result<()> {
        for d in &self.dirs {
            common::cgroup::empty(&d.hierarchy, &d.path, WAIT)?;
        }
        Ok(())
    }

    /// Removes the cgroups (unless --keep), with any the command made below.
    fn finish(&mut self) -> anyhow::Result<()> {
        self.finished = true;
        if self.keep {
            return Ok(());
        }
        let mut first = Ok(());
        for d in &self.dirs {
            let below = common::cgroup::below(&d.path);
            for dir in below.iter().chain(d.made.iter().rev()) {
                if let Err(e) = common::cgroup::remove(dir, WAIT) {
                    first = first.and(Err(e));
                }
            }
        }
        first
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.keep = false;
        let stopped = self.stop();
        for e in [stopped, self.finish()].into_iter().filter_map(Result::err) {
            let _ = writeln!(
                std::io::stderr(),
                "rcgexec: {}",
                common::error::one_line(&e)
            );
        }
    }
}

/// rmdir of the levels just made, newest first.
fn remove_levels(made: &[PathBuf]) {
    for dir in made.iter().rev() {
        let _ = std::fs::remove_dir(dir);
    }
}

/// A hierarchy that cannot be used: each limit it was for is refused.
fn refuse_all(plan: &Run, u: &Use, why: &str) -> anyhow::Result<()> {
    let limits: Vec<Limit> = plan
        .limits
        .set()
        .into_iter()
        .filter(|l| u.controllers.contains(&l.controller()))
        .collect();
    if limits.is_empty() && !plan.best_effort {
        bail!("{why}");
    }
    for limit in limits {
        refuse(plan, limit, why)?;
    }
    Ok(())
}

/// The limits that `controllers` enforce.
fn subset(limits: &Limits, controllers: &[&str]) -> Limits {
    let has = |c: &str| controllers.contains(&c);
    Limits {
        memory: limits.memory.filter(|_| has("memory")),
        memory_swap: limits.memory_swap.filter(|_| has("memory")),
        cpu: limits.cpu.filter(|_| has("cpu")),
        cpuset: limits.cpuset.clone().filter(|_| has("cpuset")),
        pids: limits.pids.filter(|_| has("pids")),
    }
}

/// The program's name as messages show it.
pub fn program(plan: &Run) -> String {
    plan.command[0].to_string_lossy().into_owned()
}
