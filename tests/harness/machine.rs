//! What a tool may change on the machine, snapshotted so a test can say
//! "nothing changed": mounts, named netns, links, cgroup directories, System
//! V and POSIX IPC objects, and the files under /tmp; and a sandbox in
//! which all of these are the test's own, so that the snapshot sees only
//! what the test's commands did (other tests run at the same time).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::mount::{mount, MsFlags};
use nix::sched::CloneFlags;

use std::os::fd::AsFd;

use super::{bin_dir, on_thread, run};

/// The state of the machine as seen from the calling thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// `/proc/thread-self/mountinfo`, without the mount ids (a remount
    /// gets a new one; the rest must stay).
    pub mounts: Vec<String>,
    /// The files of /run/netns.
    pub netns: BTreeSet<String>,
    /// The links of the thread's network namespace.
    pub links: BTreeSet<String>,
    /// Directories below this process's own cgroup, in every hierarchy
    /// (v1 and v2), named `bxt-MINE...`: the names a test gives the tools.
    /// (Other directories come and go with other work on the machine: at a
    /// root cgroup, with every other test and service.)
    pub cgroups: BTreeSet<PathBuf>,
    /// System V objects of the thread's IPC namespace: kind, key and id.
    pub sysv: BTreeSet<String>,
    /// POSIX message queues (/dev/mqueue) and shared memory (/dev/shm).
    pub posix: BTreeSet<PathBuf>,
    /// Every path under /tmp with its type, mode and size.
    pub tmp: BTreeSet<String>,
}

impl Machine {
    /// The machine now; `mine` is the name part (after `bxt-`) of the
    /// cgroups that the calling test makes.
    pub fn now(mine: &str) -> Machine {
        let mounts = std::fs::read_to_string("/proc/thread-self/mountinfo")
            .expect("mountinfo")
            .lines()
            .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_string())
            .collect();
        let netns = names(Path::new("/run/netns"));
        let links = std::fs::read_to_string("/proc/thread-self/net/dev")
            .expect("/proc/thread-self/net/dev")
            .lines()
            .skip(2)
            .filter_map(|l| Some(l.split_once(':')?.0.trim().to_string()))
            .collect();
        let sysv = ["shm", "msg", "sem"]
            .iter()
            .flat_map(|kind| {
                std::fs::read_to_string(format!("/proc/sysvipc/{kind}"))
                    .unwrap_or_default()
                    .lines()
                    .skip(1)
                    .map(|l| {
                        let f: Vec<&str> = l.split_whitespace().collect();
                        format!("{kind} key {} id {}", f[0], f[1])
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let posix = ["/dev/mqueue", "/dev/shm"]
            .iter()
            .flat_map(|dir| {
                names(Path::new(dir))
                    .into_iter()
                    .map(|n| Path::new(dir).join(n))
            })
            .collect();
        let mut tmp = BTreeSet::new();
        walk(Path::new("/tmp"), &mut tmp);
        Machine {
            mounts,
            netns,
            links,
            cgroups: cgroups(mine),
            sysv,
            posix,
            tmp,
        }
    }

    /// What changed since `self` was taken, if anything did.
    pub fn changes(&self, mine: &str) -> Result<(), String> {
        let now = Machine::now(mine);
        if *self == now {
            return Ok(());
        }
        let diff = |name: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
            let (a, b) = (format!("{a:#?}"), format!("{b:#?}"));
            (a != b).then(|| format!("{name}: before {a}\nafter {b}"))
        };
        let changed: Vec<String> = [
            diff("mounts", &self.mounts, &now.mounts),
            diff("named netns", &self.netns, &now.netns),
            diff("links", &self.links, &now.links),
            diff("cgroups", &self.cgroups, &now.cgroups),
            diff("System V IPC", &self.sysv, &now.sysv),
            diff("POSIX IPC", &self.posix, &now.posix),
            diff("/tmp", &self.tmp, &now.tmp),
        ]
        .into_iter()
        .flatten()
        .collect();
        Err(changed.join("\n"))
    }
}

/// The names in `dir` (none if it is missing).
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Every path below `dir` with its type, mode and size; not across mounts
/// it does not own (a test's mounts there are in [`Machine::mounts`]).
fn walk(dir: &Path, out: &mut BTreeSet<String>) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let size = if meta.is_dir() { 0 } else { meta.size() };
        out.insert(format!("{} {:o} {size}", path.display(), meta.mode()));
        if meta.is_dir() {
            walk(&path, out);
        }
    }
}

/// Directories below this process's cgroup in each hierarchy mounted here.
fn cgroups(mine: &str) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for top in own_cgroups() {
        below(&top, mine, &mut out);
    }
    out
}

/// This process's cgroup directory in each hierarchy mounted here.
fn own_cgroups() -> Vec<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").expect("/proc/self/cgroup");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let mut out = Vec::new();
    for line in own.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        for m in mountinfo.lines() {
            let Some((left, right)) = m.split_once(" - ") else {
                continue;
            };
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            let fits = match (r.first(), controllers) {
                (Some(&"cgroup2"), "") => true,
                (Some(&"cgroup"), c) if !c.is_empty() => {
                    let opts: Vec<&str> = r.get(2).unwrap_or(&"").split(',').collect();
                    c.split(',').all(|c| opts.contains(&c))
                }
                _ => false,
            };
            if !fits || l.len() < 5 {
                continue;
            }
            let inside = Path::new(path)
                .strip_prefix(l[3])
                .unwrap_or(Path::new(""))
                .to_path_buf();
            out.push(Path::new(l[4]).join(inside));
        }
    }
    out
}

fn below(dir: &Path, mine: &str, out: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        below(&path, mine, out);
        if name.starts_with(&format!("bxt-{mine}")) {
            out.insert(path);
        }
    }
}

/// Runs `body` on a thread of its own in fresh mount, network and IPC
/// namespaces, with its own /run/netns, /tmp, /dev/shm and /dev/mqueue
/// (empty tmpfs and mqueue mounts), `lo` up: all a tool can make there,
/// but cgroups, dies with the thread, and [`Machine::now`] taken there sees
/// only what the body's commands did.
pub fn in_sandbox<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    on_thread(
        CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWIPC,
        move || {
            // The binaries under test (the workspace, or a checkout under
            // /tmp) stay visible through the private /tmp: a copy of their
            // mount tree is taken first and put back at the same path.
            let keep = bin_dir();
            let kept = common::mount::open_path(&keep)
                .and_then(|dir| common::mount::open_tree_clone(dir.as_fd()))
                .unwrap_or_else(|e| panic!("open_tree {}: {e}", keep.display()));
            for (fstype, dir, options) in [
                ("tmpfs", "/run/netns", Some("mode=755")),
                ("tmpfs", "/tmp", Some("mode=1777")),
                ("tmpfs", "/dev/shm", Some("mode=1777")),
                ("mqueue", "/dev/mqueue", None),
            ] {
                std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {dir}: {e}"));
                mount(Some(fstype), dir, Some(fstype), MsFlags::empty(), options)
                    .unwrap_or_else(|e| panic!("{fstype} on {dir}: {e}"));
            }
            if keep.starts_with("/tmp") {
                std::fs::create_dir_all(&keep).unwrap();
                let target = common::mount::open_path(&keep).unwrap();
                common::mount::move_mount(kept.as_fd(), target.as_fd())
                    .unwrap_or_else(|e| panic!("move_mount {}: {e}", keep.display()));
            }
            let lo = run(Command::new("ip").args(["link", "set", "lo", "up"]));
            assert_eq!(lo.code, 0, "ip link set lo up: {}", lo.stderr);
            body()
        },
    )
}

#[test]
fn a_snapshot_sees_every_kind_of_change() {
    if !super::root("a_snapshot_sees_every_kind_of_change") {
        return;
    }
    in_sandbox(|| {
        let cgroup = own_cgroups()
            .first()
            .expect("a cgroup hierarchy")
            .join("bxt-machine-seen");
        let sh = |script: &str| {
            let r = run(Command::new("sh").args(["-c", script]));
            assert_eq!(r.code, 0, "{script}: {}", r.stderr);
        };
        let kinds: [(&str, String); 7] = [
            ("mounts", "mkdir /tmp/m && mount -t tmpfs x /tmp/m".into()),
            ("named netns", "ip netns add bxtseen".into()),
            (
                "links",
                "ip link add bxtseen type veth peer name bxtseen1".into(),
            ),
            ("cgroups", format!("mkdir {}", cgroup.display())),
            ("System V IPC", "ipcmk -Q".into()),
            ("POSIX IPC", "touch /dev/shm/bxt-seen".into()),
            ("/tmp", "touch /tmp/bxt-seen".into()),
        ];
        for (kind, script) in kinds {
            let before = Machine::now("machine");
            sh(&script);
            let seen = before.changes("machine");
            if kind == "cgroups" {
                let _ = std::fs::remove_dir(&cgroup);
            }
            let changed = seen.expect_err(&script);
            assert!(
                changed.contains(&format!("{kind}: before")),
                "{script}: {changed}"
            );
        }
    });
}
