//! One pass over /proc: every process with its namespaces, and the
//! namespaces held only by open descriptors or bind mounts (nsfs entries of
//! mountinfo), indexed by inode in hash maps, so the work grows linearly
//! with the number of processes (lsns compares every pair).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fstat, Mode};

use anyhow::Context;
use common::mountinfo::Mount;
use common::ns::Kind;

use crate::held::Sockets;
use crate::sys;

/// What one thread read: processes, and descriptors holding namespaces.
type Part = (Vec<Proc>, Vec<(Held, u64)>);

/// A namespace a process holds without being in it.
#[derive(Debug)]
pub enum Held {
    /// A descriptor of the namespace itself: /proc/PID/fd/N.
    Path(PathBuf),
    /// The network namespace of a socket (SIOCGSKNS), opened.
    Open(File),
}

/// Below this many processes one thread reads them all.
const PARALLEL_FROM: usize = 512;

/// One process.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub uid: u32,
    /// Namespace inode per kind (in `Kind::ALL` order); 0 when not read.
    pub ns: [u64; 8],
    /// The index of the parent process, when it was seen.
    pub parent: Option<usize>,
}

/// Where a namespace file can be opened again.
#[derive(Debug, Clone)]
pub enum Source {
    /// /proc/PID/ns/TYPE of its lowest process.
    Procs,
    /// A path: /proc/PID/fd/N or a bind mount.
    Path(PathBuf),
    /// Open since the scan (the namespace of a socket).
    Open(std::sync::Arc<File>),
    /// Reached from another namespace only.
    Ghost,
}

/// One namespace.
#[derive(Debug, Clone)]
pub struct Ns {
    pub ino: u64,
    pub kind: Kind,
    /// Its processes, in /proc order.
    pub procs: Vec<usize>,
    /// Its process with the lowest PID.
    pub rep: Option<usize>,
    /// Parent and owner inodes (0: none), once asked for.
    pub related: Option<[u64; 2]>,
    /// The owner's UID, for a namespace without processes.
    pub uid_fallback: u32,
    pub source: Source,
}

/// What to read.
#[derive(Debug, Clone, Copy)]
pub struct Want {
    pub kinds: [bool; 8],
    /// Look for namespaces held only by bind mounts (mountinfo, cheap).
    pub mounts: bool,
    /// Look for namespaces held only by descriptors and sockets: every
    /// process's /proc/PID/fd is read.
    pub fds: bool,
}

/// Processes and namespaces as one scan saw them.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub procs: Vec<Proc>,
    pub nss: Vec<Ns>,
    pub by_ino: HashMap<u64, usize>,
    pub by_pid: HashMap<i32, usize>,
}

/// The index of `kind` in `Kind::ALL` (and in `Proc::ns`).
pub fn kind_index(kind: Kind) -> usize {
    Kind::ALL
        .iter()
        .position(|&k| k == kind)
        .unwrap_or_default()
}

/// `pid` and `ppid` from /proc/PID/stat; the name may hold ')' and spaces.
fn parse_stat(text: &str) -> Option<Stat> {
    let pid = text.split(' ').next()?.parse().ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    // pgrp, session, tty_nr, tpgid, then flags (proc(5))
    let flags: u64 = fields.nth(4).and_then(|f| f.parse().ok()).unwrap_or(0);
    Some(Stat {
        pid,
        ppid,
        kernel_thread: flags & PF_KTHREAD != 0,
    })
}

/// <linux/sched.h>: the task is a kernel thread.
const PF_KTHREAD: u64 = 0x0020_0000;

/// What /proc/PID/stat tells.
#[derive(Debug, PartialEq, Eq)]
struct Stat {
    pid: i32,
    ppid: i32,
    kernel_thread: bool,
}

/// `net:[4026531840]` → (net, 4026531840).
pub(crate) fn parse_ns_link(link: &[u8]) -> Option<(Kind, u64)> {
    let text = std::str::from_utf8(link).ok()?;
    let (name, rest) = text.split_once(":[")?;
    let ino = rest.strip_suffix(']')?.parse().ok()?;
    Some((Kind::from_name(name)?, ino))
}

impl Snapshot {
    /// Reads /proc once. Only failing to list /proc itself is an error.
    pub fn scan(want: Want, mounts: &[Mount]) -> anyhow::Result<Snapshot> {
        let mut snap = Snapshot::default();
        let proc_dir = File::open("/proc").context("cannot open /proc")?;
        let pids: Vec<String> = fs::read_dir("/proc")
            .context("cannot open /proc")?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        // procfs lookups run in parallel in the kernel: with many processes,
        // a thread per CPU (up to 4) reads a slice of /proc each.
        let threads = if pids.len() < PARALLEL_FROM {
            1
        } else {
            common::process::cpus().min(4)
        };
        let chunk = pids.len().div_ceil(threads).max(1);
        let sockets = Sockets::new();
        let parts: Vec<Part> = std::thread::scope(|scope| {
            let handles: Vec<_> = pids
                .chunks(chunk)
                .skip(1)
                .map(|part| scope.spawn(|| read_processes(proc_dir.as_fd(), part, want, &sockets)))
                .collect();
            let first = read_processes(
                proc_dir.as_fd(),
                pids.chunks(chunk).next().unwrap_or_default(),
                want,
                &sockets,
            );
            std::iter::once(first)
                .chain(handles.into_iter().map(|h| h.join().unwrap_or_default()))
                .collect()
        });
        let mut held = Vec::new();
        for (procs, h) in parts {
            for proc in procs {
                snap.by_pid.insert(proc.pid, snap.procs.len());
                snap.procs.push(proc);
            }
            held.extend(h);
        }
        for i in 0..snap.procs.len() {
            snap.procs[i].parent = snap.by_pid.get(&snap.procs[i].ppid).copied();
            for k in 0..8 {
                let ino = snap.procs[i].ns[k];
                if ino == 0 {
                    continue;
                }
                let idx = *snap.by_ino.entry(ino).or_insert_with(|| {
                    snap.nss.push(Ns {
                        ino,
                        kind: Kind::ALL[k],
                        procs: Vec::new(),
                        rep: None,
                        related: None,
                        uid_fallback: 0,
                        source: Source::Procs,
                    });
                    snap.nss.len() - 1
                });
                let ns = &mut snap.nss[idx];
                ns.procs.push(i);
                if ns.rep.is_none_or(|r| snap.procs[r].pid > snap.procs[i].pid) {
                    ns.rep = Some(i);
                }
            }
        }
        for (held, ino) in held {
            match held {
                Held::Path(path) => snap.add_file(&path, ino, want),
                Held::Open(file) => {
                    if !snap.by_ino.contains_key(&ino) {
                        let file = std::sync::Arc::new(file);
                        let source = Source::Open(std::sync::Arc::clone(&file));
                        snap.add_open(&file, ino, source, want);
                    }
                }
            }
        }
        if want.mounts {
            snap.add_mounted(mounts, want);
        }
        Ok(snap)
    }

    /// Namespaces bind-mounted somewhere (`ip netns add`, `unshare --net=FILE`).
    fn add_mounted(&mut self, mounts: &[Mount], want: Want) {
        for m in mounts.iter().filter(|m| m.fstype == "nsfs") {
            let root = m.root.to_string_lossy();
            let Some((_, ino)) = parse_ns_link(root.as_bytes()) else {
                continue;
            };
            self.add_file(&m.mount_point, ino, want);
        }
    }

    /// Adds the namespace file at `path` unless it is known already.
    fn add_file(&mut self, path: &std::path::Path, ino: u64, want: Want) {
        if self.by_ino.contains_key(&ino) {
            return;
        }
        if let Ok(file) = File::open(path) {
            self.add_open(&file, ino, Source::Path(path.to_path_buf()), want);
        }
    }

    /// Adds an open namespace with what the kernel says about it, then its
    /// parent and owner when those are not known yet (lsns
    /// add_namespace_for_nsfd).
    fn add_open(&mut self, file: &File, ino: u64, source: Source, want: Want) -> Option<usize> {
        let kind = sys::kind(file)?;
        if !want.kinds[kind_index(kind)] {
            return None;
        }
        let parent = matches!(kind, Kind::Pid | Kind::User)
            .then(|| sys::related(file, true))
            .flatten();
        let owner = sys::related(file, false);
        let idx = self.nss.len();
        self.nss.push(Ns {
            ino,
            kind,
            procs: Vec::new(),
            rep: None,
            related: Some([
                parent.as_ref().map_or(0, |p| p.1),
                owner.as_ref().map_or(0, |o| o.1),
            ]),
            uid_fallback: sys::owner_uid(file).unwrap_or(0),
            source,
        });
        self.by_ino.insert(ino, idx);
        for (f, rel) in [parent, owner].into_iter().flatten() {
            if rel != ino && !self.by_ino.contains_key(&rel) {
                self.add_open(&f, rel, Source::Ghost, want);
            }
        }
        Some(idx)
    }

    /// Opens namespace `idx` again.
    pub fn open(&self, idx: usize) -> Option<File> {
        let ns = &self.nss[idx];
        match &ns.source {
            Source::Procs => {
                let pid = self.procs[ns.rep?].pid;
                File::open(format!("/proc/{pid}/ns/{}", ns.kind.name())).ok()
            }
            Source::Path(p) => File::open(p).ok(),
            Source::Open(f) => f.try_clone().ok(),
            Source::Ghost => None,
        }
    }

    /// Parent and owner of namespace `idx` (0 where none), asked once.
    pub fn related(&mut self, idx: usize) -> [u64; 2] {
        if let Some(r) = self.nss[idx].related {
            return r;
        }
        let kind = self.nss[idx].kind;
        let r = match self.open(idx) {
            Some(f) => [
                if matches!(kind, Kind::Pid | Kind::User) {
                    sys::related(&f, true).map_or(0, |p| p.1)
                } else {
                    0
                },
                sys::related(&f, false).map_or(0, |o| o.1),
            ],
            None => [0, 0],
        };
        self.nss[idx].related = Some(r);
        r
    }

    /// For the trees by owner and parent: asks every namespace for its
    /// relatives and adds those that no process or file showed (lsns
    /// interpolate_missing_namespaces), whatever their type: `-t net -T`
    /// shows the owning user namespaces as parent rows, as lsns does.
    pub fn connect(&mut self, want: Want) {
        let want = Want {
            kinds: [true; 8],
            ..want
        };
        let mut i = 0;
        while i < self.nss.len() {
            let r = self.related(i);
            for (which, rel) in r.into_iter().enumerate() {
                if rel == 0 || self.by_ino.contains_key(&rel) {
                    continue;
                }
                let found = self
                    .open(i)
                    .and_then(|f| sys::related(&f, which == 0))
                    .filter(|(_, ino)| *ino == rel);
                if let Some((f, ino)) = found {
                    self.add_open(&f, ino, Source::Ghost, want);
                }
            }
            i += 1;
        }
    }
}

/// One process, or None when it vanished or cannot be read. Every file is
/// opened relative to /proc/PID, so the kernel looks the process up once.
fn read_process(
    proc_dir: BorrowedFd,
    pid: &str,
    want: Want,
    sockets: &Sockets,
    held: &mut Vec<(Held, u64)>,
) -> Option<Proc> {
    let dir = openat(
        proc_dir,
        pid,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let uid = fstat(&dir).map_or(0, |st| st.st_uid);
    let stat = openat(
        &dir,
        "stat",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut buf = [0u8; 1024];
    let len = nix::unistd::read(&stat, &mut buf).ok()?;
    drop(stat);
    let Stat {
        pid,
        ppid,
        kernel_thread,
    } = parse_stat(std::str::from_utf8(&buf[..len]).ok()?)?;
    let mut ns = [0u64; 8];
    for k in 0..Kind::ALL.len() {
        // Gone (ENOENT, ESRCH) or not ours (EACCES): the process stays,
        // without this namespace, as in lsns. The link's text `net:[INODE]`
        // names the inode a stat would return, for a third of the cost.
        if want.kinds[k] {
            if let Ok(link) = readlinkat(&dir, NS_FILES[k]) {
                ns[k] = parse_ns_link(link.as_bytes()).map_or(0, |(_, ino)| ino);
            }
        }
    }
    // Kernel threads (two thirds of an idle machine) open no files.
    if want.fds && !kernel_thread {
        crate::held::read_held(&dir, pid, &ns, want, sockets, held);
    }
    Some(Proc {
        pid,
        ppid,
        uid,
        ns,
        parent: None,
    })
}

/// /proc/PID/ns/TYPE relative to /proc/PID, in `Kind::ALL` order.
const NS_FILES: [&str; 8] = [
    "ns/mnt",
    "ns/net",
    "ns/pid",
    "ns/uts",
    "ns/ipc",
    "ns/user",
    "ns/cgroup",
    "ns/time",
];

/// Reads the processes named `pids` (in /proc order).
fn read_processes(proc_dir: BorrowedFd, pids: &[String], want: Want, sockets: &Sockets) -> Part {
    let mut procs = Vec::with_capacity(pids.len());
    let mut held = Vec::new();
    for pid in pids {
        if let Some(p) = read_process(proc_dir, pid, want, sockets, &mut held) {
            procs.push(p);
        }
    }
    (procs, held)
}

/// The command line of `pid` as lsns shows it: up to 8 KiB of
/// /proc/PID/cmdline with NULs as spaces and the last byte dropped, else
/// the name from /proc/PID/comm (kernel threads).
pub fn command(pid: i32) -> Option<String> {
    let read = |name: &str| -> Option<String> {
        let mut bytes = Vec::with_capacity(256);
        File::open(format!("/proc/{pid}/{name}"))
            .ok()?
            .take(8192)
            .read_to_end(&mut bytes)
            .ok()?;
        bytes.pop()?;
        for b in &mut bytes {
            if *b == 0 {
                *b = b' ';
            }
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    };
    read("cmdline").or_else(|| read("comm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_parens_and_spaces_in_the_name() {
        let stat = |pid, ppid, kernel_thread| Stat {
            pid,
            ppid,
            kernel_thread,
        };
        assert_eq!(
            parse_stat("42 (a) b) S 7 42 42 0"),
            Some(stat(42, 7, false))
        );
        assert_eq!(
            parse_stat("2 (kthreadd) S 0 0 0 0 -1 2129984 0"),
            Some(stat(2, 0, true))
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn parsers_never_panic_on_generated_input() {
        let alphabet = b"0123456789 ()[]:Snetmu\\x\n\0\xff";
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut bytes = Vec::new();
            for _ in 0..(seed % 24) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                bytes.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            let _ = parse_ns_link(&bytes);
            let _ = parse_stat(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn ns_links() {
        assert_eq!(
            parse_ns_link(b"net:[4026531840]"),
            Some((Kind::Net, 4026531840))
        );
        assert_eq!(parse_ns_link(b"socket:[12]"), None);
        assert_eq!(parse_ns_link(b"/dev/null"), None);
    }

    #[test]
    fn ns_files_follow_kind_order() {
        for (k, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(NS_FILES[k], format!("ns/{}", kind.name()));
        }
    }

    #[test]
    fn scan_sees_this_process() {
        let snap = Snapshot::scan(
            Want {
                kinds: [true; 8],
                mounts: false,
                fds: false,
            },
            &[],
        )
        .unwrap();
        let me = snap.by_pid[&(std::process::id() as i32)];
        assert_eq!(snap.procs[me].ppid, nix::unistd::getppid().as_raw());
        use std::os::unix::fs::MetadataExt;
        let net = fs::metadata("/proc/self/ns/net").unwrap().ino();
        assert!(snap.nss[snap.by_ino[&net]].procs.contains(&me));
    }
}
