//! Network namespaces as files: resolving an NS argument, and named
//! namespaces made and removed exactly as iproute2's ipnetns.c does, so that
//! `ip netns` and rvethpair work on each other's.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use common::error::Code;
use common::netns::{named, RUN_DIR};
use common::ns::Kind;

/// A network namespace by its nsfs file: the same namespace always has the
/// same key, whatever path or PID named it.
pub type Key = (u64, u64);

/// An open network namespace and how the user named it.
#[derive(Debug)]
pub struct Ns {
    pub label: String,
    pub fd: OwnedFd,
    pub key: Key,
}

impl Ns {
    /// Opens the namespace `spec` names: a path if it has a `/`, else a
    /// name under /run/netns, else a PID if it is all digits (`ip link …
    /// netns NAME|PID` tries the name first too).
    pub fn open(spec: &str) -> anyhow::Result<Ns> {
        let digits = !spec.is_empty() && spec.bytes().all(|b| b.is_ascii_digit());
        let path = if spec.contains('/') {
            PathBuf::from(spec)
        } else if digits && named(spec).symlink_metadata().is_err() {
            PathBuf::from(format!("/proc/{spec}/ns/net"))
        } else {
            named(spec)
        };
        Ns::open_path(spec, &path)
    }

    /// Opens the namespace named `name` under /run/netns.
    pub fn open_named(name: &OsStr) -> anyhow::Result<Ns> {
        Ns::open_path(&name.to_string_lossy(), &Path::new(RUN_DIR).join(name))
    }

    /// The namespace this thread is in now.
    pub fn current() -> anyhow::Result<Ns> {
        Ns::open_path(
            "the current namespace",
            Path::new("/proc/thread-self/ns/net"),
        )
    }

    /// A namespace that cannot be opened ends with 255, as `ip -n NS`.
    fn open_path(label: &str, path: &Path) -> anyhow::Result<Ns> {
        let what = || format!("cannot open network namespace \"{label}\"");
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| Code(255, common::error::strerror(&e)))
            .with_context(what)?;
        // NS_GET_NSTYPE tells an nsfs file from any other (a stale name
        // under /run/netns is an empty file, not a namespace).
        if common::ns::kind_of(&file) != Ok(Some(Kind::Net)) {
            return Err(Code(255, "not a network namespace".into())).with_context(what);
        }
        let meta = file.metadata().with_context(what)?;
        Ok(Ns {
            label: label.to_string(),
            fd: file.into(),
            key: (meta.dev(), meta.ino()),
        })
    }

    /// Moves this thread into the namespace.
    pub fn enter(&self) -> anyhow::Result<()> {
        setns(self.fd.as_fd(), CloneFlags::CLONE_NEWNET)
            .with_context(|| format!("cannot enter network namespace \"{}\"", self.label))
    }

    pub fn raw(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Makes /run/netns a shared mount point, as iproute2 does before the first
/// name: a namespace bound under it then shows in every mount namespace
/// that shares it, and `ip netns exec` finds it.
pub fn prepare_run_dir() -> anyhow::Result<()> {
    // 0755 less the umask, as ip's mkdir(NETNS_RUN_DIR, 0755): under umask
    // 0 a 0777 /run/netns would let anyone plant names.
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(RUN_DIR)
        .with_context(|| format!("cannot create {RUN_DIR}"))?;
    let share = || {
        mount(
            Some(""),
            RUN_DIR,
            Some("none"),
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        )
    };
    match share() {
        // Not a mount point yet: bind it onto itself, once, then share it.
        Err(Errno::EINVAL) => {
            mount(
                Some(RUN_DIR),
                RUN_DIR,
                Some("none"),
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .with_context(|| format!("cannot bind {RUN_DIR} onto itself"))?;
            share()
        }
        other => other,
    }
    .with_context(|| format!("cannot make {RUN_DIR} a shared mount"))
}

/// Creates the file a namespace will be bound onto; an existing name is an
/// error, never reused.
pub fn create_file(name: &str) -> anyhow::Result<PathBuf> {
    let path = named(name);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o000)
        .custom_flags(libc::O_CLOEXEC)
        .open(&path)
        .with_context(|| format!("cannot create namespace file \"{}\"", path.display()))?;
    Ok(path)
}

/// True for what a killed `netns add` (ours or iproute2's) leaves: the
/// empty mode-0 file made before the bind. A bound name shows the nsfs
/// inode instead (mode 0444).
pub fn is_leftover(meta: &fs::Metadata) -> bool {
    meta.is_file() && meta.len() == 0 && meta.mode() & 0o7777 == 0
}

/// Moves this thread into a new network namespace.
pub fn unshare_net() -> anyhow::Result<()> {
    unshare(CloneFlags::CLONE_NEWNET).context("cannot create a network namespace")
}

/// Binds the network namespace of this thread onto `path`, as iproute2
/// does (`/proc/thread-self`: other threads may be elsewhere).
pub fn bind_current(path: &Path) -> anyhow::Result<()> {
    mount(
        Some("/proc/thread-self/ns/net"),
        path,
        Some("none"),
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .with_context(|| format!("cannot bind a network namespace onto {}", path.display()))
}

/// Removes a name: detach lazily (processes inside keep the namespace),
/// then unlink.
pub fn remove(path: &Path) -> anyhow::Result<()> {
    // ip netns del ignores this failure too: a stale file is not a mount.
    let _ = umount2(path, MntFlags::MNT_DETACH);
    fs::remove_file(path)
        .with_context(|| format!("cannot remove namespace file \"{}\"", path.display()))
}

/// The processes in each of the network namespaces `keys` (as `ip netns
/// pids`), from one scan of /proc.
pub fn pids(keys: &[Key]) -> anyhow::Result<HashMap<Key, Vec<u32>>> {
    let mut pids: HashMap<Key, Vec<u32>> = HashMap::new();
    for entry in fs::read_dir("/proc").context("cannot list /proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        // A process that exits mid-scan, or is not ours to see, is skipped.
        match fs::metadata(format!("/proc/{pid}/ns/net")) {
            Ok(meta) if keys.contains(&(meta.dev(), meta.ino())) => {
                pids.entry((meta.dev(), meta.ino())).or_default().push(pid);
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOENT | libc::ESRCH | libc::EACCES)
                ) => {}
            Err(e) => return Err(e).context(format!("cannot stat /proc/{pid}/ns/net")),
        }
    }
    // /proc lists in pid order already; sorted anyway for a stable report.
    for list in pids.values_mut() {
        list.sort_unstable();
    }
    Ok(pids)
}

/// The names under /run/netns in directory order (as `ip netns list`);
/// None when there is no /run/netns.
/// Names are bytes, as for ip: one that is not UTF-8 is listed, not refused.
pub fn names() -> anyhow::Result<Option<Vec<OsString>>> {
    let dir = match fs::read_dir(RUN_DIR) {
        Ok(dir) => dir,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).context(format!("cannot open {RUN_DIR}")),
    };
    let mut names = Vec::new();
    for entry in dir {
        let entry = entry.with_context(|| format!("cannot read {RUN_DIR}"))?;
        names.push(entry.file_name());
    }
    Ok(Some(names))
}
