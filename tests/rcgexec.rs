//! rcgexec as a user runs it, as root: limits that hold, a job that never
//! leaves its cgroup, nothing left behind (even after SIGKILL of rcgexec),
//! the cgexec form against libcgroup's cgexec. Every cgroup is made below
//! this test process's own cgroup, named `bxt-…`, and removed on drop.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::harness::{anchor, cmd, eventually, have, root, run, skip, unique, Process, Ran};

mod cleanup;
mod forms;
mod limits;
mod nested;

/// A mounted hierarchy and this process's cgroup directory in it.
struct Hierarchy {
    /// The v1 controllers (`memory`, `cpu`, `name=systemd`); empty for cgroup2.
    controllers: Vec<String>,
    mount: PathBuf,
    own: PathBuf,
}

/// Every hierarchy this process is in, read from mountinfo and /proc/self/cgroup.
fn hierarchies() -> Vec<Hierarchy> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut out = Vec::new();
    for line in cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (_, list, path) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let controllers: Vec<String> = list
            .split(',')
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect();
        let mount = mountinfo.lines().find_map(|m| {
            let (left, right) = m.split_once(" - ")?;
            let mut r = right.split(' ');
            let (fstype, _, options) = (r.next()?, r.next()?, r.next()?);
            let matches = match fstype {
                "cgroup2" => controllers.is_empty(),
                "cgroup" => {
                    !controllers.is_empty()
                        && controllers
                            .iter()
                            .all(|c| options.split(',').any(|o| o == c))
                }
                _ => false,
            };
            let l: Vec<&str> = left.split(' ').collect();
            (matches && l[3] == "/").then(|| PathBuf::from(l[4]))
        });
        if let Some(mount) = mount {
            out.push(Hierarchy {
                controllers,
                own: mount.join(path.trim_start_matches('/')),
                mount,
            });
        }
    }
    out
}

/// This process's cgroup directory for `controller` ("" for cgroup2).
fn own(controller: &str) -> Option<PathBuf> {
    hierarchies()
        .into_iter()
        .find(|h| {
            if controller.is_empty() {
                h.controllers.is_empty()
            } else {
                h.controllers.iter().any(|c| c == controller)
            }
        })
        .map(|h| h.own)
}

/// A cgroup name for one test; on drop whatever is left of it in any
/// hierarchy is killed and removed (a test that left it fails first).
struct Name(String);

impl Name {
    fn new(test: &str) -> Name {
        Name(unique(test))
    }

    /// Its directories that exist now.
    fn left(&self) -> Vec<PathBuf> {
        hierarchies()
            .into_iter()
            .map(|h| h.own.join(&self.0))
            .filter(|d| d.exists())
            .collect()
    }

    fn dir(&self, controller: &str) -> PathBuf {
        own(controller).expect("hierarchy").join(&self.0)
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        for dir in self.left() {
            for _ in 0..500 {
                let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                if procs.trim().is_empty() && std::fs::remove_dir(&dir).is_ok() {
                    break;
                }
                for pid in procs.split_whitespace().filter_map(|p| p.parse().ok()) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Root, on a host with cgroups mounted.
fn ready(test: &str) -> bool {
    root(test) && {
        let ok = !hierarchies().is_empty();
        if !ok {
            skip(test, "no cgroup hierarchy is mounted");
        }
        ok
    }
}

/// [`ready`], with v1 memory, pids and cpu hierarchies to set limits in
/// (on a pure cgroup v2 host, this test's own cgroup holds processes, so
/// v2 lets no controller be enabled below it).
fn limits(test: &str) -> bool {
    ready(test) && {
        let ok = ["memory", "pids", "cpu"].iter().all(|c| own(c).is_some());
        if !ok {
            skip(test, "needs v1 memory, pids and cpu hierarchies");
        }
        ok
    }
}

/// Says, where `cargo test` shows it, what a passing test measured.
fn note(test: &str, what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTE {test}: {what}");
}

/// rcgexec ARGS, run to its end.
fn rcgexec(args: &[&str]) -> Ran {
    run(cmd("rcgexec").args(args))
}

/// The JSON object on the last line of `stderr` (--stats -J).
fn stats(stderr: &str) -> serde_json::Value {
    let line = stderr.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("no JSON in {stderr:?}: {e}"))
}

/// The processes whose command line `matches`.
fn processes(matches: impl Fn(&[u8]) -> bool) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| matches(&c)))
        .collect()
}

/// The processes running `sleep ARG`.
fn sleeping(arg: &str) -> Vec<i32> {
    let wanted = format!("sleep\0{arg}\0");
    processes(|c| c == wanted.as_bytes())
}

/// The processes with `marker` on their command line.
fn with_marker(marker: &str) -> Vec<i32> {
    processes(|c| c.windows(marker.len()).any(|w| w == marker.as_bytes()))
}

/// A cgroup made with mkdir below our own, in the memory hierarchy and
/// cgroup2, removed on drop.
struct Made(Vec<PathBuf>);

impl Made {
    fn new(dirs: Vec<PathBuf>) -> Made {
        for d in &dirs {
            std::fs::create_dir(d).unwrap();
        }
        Made(dirs)
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// The path of cgroup `name` below ours from the root of the hierarchy of
/// `controller` ("" for cgroup2), as -g takes it.
fn from_root(controller: &str, name: &str) -> String {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let own = cgroup
        .lines()
        .find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, list, path) = (f.next()?, f.next()?, f.next()?);
            let ok = if controller.is_empty() {
                list.is_empty()
            } else {
                list.split(',').any(|c| c == controller)
            };
            ok.then(|| path.to_string())
        })
        .unwrap();
    format!("{}/{name}", own.trim_end_matches('/'))
}
