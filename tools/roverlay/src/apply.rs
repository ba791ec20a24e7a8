//! `apply`: an OCI or docker image layer unpacked into a directory in the
//! form overlay takes as a layer. Every name is resolved below DIR by
//! descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no
//! entry is written through a symbolic link or outside DIR; names with
//! `..`, absolute names, links out of DIR and overlay's own xattrs are
//! refused before anything is written for them.

use std::collections::HashSet;
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use nix::errno::Errno;
use tar::EntryType;

use crate::stage;
use crate::tree::{self, OPAQUE_MARKER, WHITEOUT_PREFIX};

pub fn apply(layer: &Path, dir: &Path) -> anyhow::Result<()> {
    let fail = || format!("cannot apply '{}' to '{}'", layer.display(), dir.display());
    let (parent, name) = stage::split(dir).with_context(fail)?;
    stage::clear_stale(&parent, &name).with_context(fail)?;
    let open = || -> anyhow::Result<Box<dyn Read>> {
        let file = File::open(layer)
            .with_context(|| format!("cannot open layer '{}'", layer.display()))?;
        reader(file).with_context(|| format!("cannot read layer '{}'", layer.display()))
    };
    let userxattr = crate::mount::in_user_namespace();
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(e).context(format!("cannot read '{}'", dir.display())),
    };
    if empty {
        // Built beside DIR and renamed over it when whole: a refused,
        // corrupt or interrupted layer leaves DIR as it was.
        let staging = parent.join(stage::name(&name));
        std::fs::create_dir(&staging)
            .with_context(|| format!("cannot create '{}'", staging.display()))
            .with_context(fail)?;
        let mut guard = common::rollback::Rollback::default();
        let undo = staging.clone();
        guard.push(move || {
            let _ = std::fs::remove_dir_all(undo);
        });
        if let Ok(meta) = std::fs::metadata(dir) {
            use std::os::unix::fs::MetadataExt;
            std::fs::set_permissions(&staging, meta.permissions()).with_context(fail)?;
            std::os::unix::fs::lchown(&staging, Some(meta.uid()), Some(meta.gid()))
                .with_context(fail)?;
        }
        let root = common::mount::open_path(&staging).with_context(fail)?;
        Unpacker::new(root, false, userxattr)
            .run(open()?)
            .with_context(fail)?;
        std::fs::rename(&staging, dir)
            .with_context(|| format!("cannot rename '{}'", staging.display()))
            .with_context(fail)?;
        guard.commit();
    } else {
        // Checked whole first, written second.
        let root = || common::mount::open_path(dir).with_context(fail);
        Unpacker::new(root()?, true, userxattr)
            .run(open()?)
            .with_context(fail)?;
        Unpacker::new(root()?, false, userxattr)
            .run(open()?)
            .with_context(fail)?;
    }
    Ok(())
}

/// The layer's bytes, gunzipped when they start with gzip's magic.
fn reader(file: File) -> std::io::Result<Box<dyn Read>> {
    let mut buf = BufReader::with_capacity(1 << 20, file);
    let head = std::io::BufRead::fill_buf(&mut buf)?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(buf))
    } else {
        Box::new(buf)
    })
}

/// An entry's name as a path below DIR, `.` components dropped; refused
/// when absolute or with a `..` component. Empty for DIR itself.
pub fn inside(name: &[u8]) -> Result<PathBuf, &'static str> {
    if name.starts_with(b"/") {
        return Err("an absolute name");
    }
    let mut rel = PathBuf::new();
    for part in Path::new(OsStr::from_bytes(name)).components() {
        match part {
            Component::Normal(p) => rel.push(p),
            Component::CurDir => {}
            _ => return Err("a '..' component"),
        }
    }
    Ok(rel)
}

/// Whether a symbolic link at `rel` to the relative `target` stays in DIR.
/// An absolute target is read inside the image's root, so it does.
pub fn link_stays_inside(rel: &Path, target: &[u8]) -> bool {
    if target.starts_with(b"/") {
        return true;
    }
    let mut depth = rel.components().count() as isize - 1;
    for part in Path::new(OsStr::from_bytes(target)).components() {
        match part {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// An error as one line, strerror text for system errors.
fn why(e: impl Into<anyhow::Error>) -> String {
    common::error::one_line(&e.into())
}

/// An entry refused or failed: its name and why.
fn refuse(rel: &[u8], why: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("entry '{}': {why}", String::from_utf8_lossy(rel))
}

struct Unpacker {
    root: OwnedFd,
    /// Check only: nothing is written.
    dry: bool,
    userxattr: bool,
    /// Names this layer made (an opaque marker keeps them).
    made: HashSet<PathBuf>,
    /// Names this layer made symbolic links.
    symlinks: HashSet<PathBuf>,
    /// Directory times, set once their content is written.
    dir_times: Vec<(PathBuf, u64)>,
    chown: bool,
}

fn owned(rc: libc::c_long) -> nix::Result<OwnedFd> {
    let fd = Errno::result(rc)? as i32;
    // SAFETY: the syscall returned a new descriptor that only we hold.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The directory `rel` below `root` opened O_PATH, never through a
/// symbolic link nor out of `root` (openat2).
fn beneath(root: BorrowedFd<'_>, rel: &Path) -> nix::Result<OwnedFd> {
    beneath_with(root, rel, libc::O_DIRECTORY)
}

/// `rel` below `root`, as [`beneath`] but not necessarily a directory
/// (a final symbolic link is itself opened).
fn beneath_with(root: BorrowedFd<'_>, rel: &Path, flags: libc::c_int) -> nix::Result<OwnedFd> {
    let path = if rel.as_os_str().is_empty() {
        CString::new(".")
    } else {
        CString::new(rel.as_os_str().as_bytes())
    }
    .map_err(|_| Errno::EINVAL)?;
    // SAFETY: open_how is plain data; all zeroes is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC | flags) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: a valid descriptor, a NUL-terminated path and an open_how
    // of the size given.
    owned(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })
}

/// `/proc/self/fd/DIR/NAME`: NAME in the directory `dir`, for the calls
/// that take only a path (lsetxattr).
fn in_dir(dir: BorrowedFd<'_>, name: &OsStr) -> PathBuf {
    Path::new(&format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name)
}

fn cname(name: &OsStr) -> anyhow::Result<CString> {
    CString::new(name.as_bytes()).context("a NUL byte in a name")
}

impl Unpacker {
    fn new(root: OwnedFd, dry: bool, userxattr: bool) -> Unpacker {
        Unpacker {
            root,
            dry,
            userxattr,
            made: HashSet::new(),
            symlinks: HashSet::new(),
            dir_times: Vec::new(),
            chown: nix::unistd::geteuid().is_root(),
        }
    }

    fn run(mut self, input: Box<dyn Read>) -> anyhow::Result<()> {
        let mut archive = tar::Archive::new(input);
        for entry in archive.entries().context("cannot read the layer")? {
            let entry = entry.context("cannot read the layer")?;
            self.entry(entry)?;
        }
        for (rel, mtime) in self.dir_times.iter().rev() {
            let parent = beneath(self.root.as_fd(), rel.parent().unwrap_or(Path::new("")))?;
            let name = rel.file_name().unwrap_or_default();
            set_times(parent.as_fd(), name, *mtime, libc::AT_SYMLINK_NOFOLLOW)?;
        }
        Ok(())
    }

    /// The directory that holds `rel`, made (0755) when the layer did not
    /// list it; refused when a symbolic link of this layer leads there.
    fn parent(&self, raw: &[u8], rel: &Path) -> anyhow::Result<Option<OwnedFd>> {
        let parent = rel.parent().unwrap_or(Path::new(""));
        for up in parent.ancestors() {
            if self.symlinks.contains(up) {
                bail!(refuse(
                    raw,
                    format!("written through the symbolic link '{}'", up.display())
                ));
            }
        }
        match beneath(self.root.as_fd(), parent) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::ELOOP | Errno::EXDEV) => Err(refuse(raw, "written through a symbolic link")),
            Err(Errno::ENOENT) if self.dry => Ok(None),
            Err(Errno::ENOENT) => {
                let mut fd = beneath(self.root.as_fd(), Path::new(""))?;
                for part in parent.iter() {
                    match nix::sys::stat::mkdirat(
                        fd.as_fd(),
                        part,
                        nix::sys::stat::Mode::from_bits_truncate(0o755),
                    ) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(refuse(raw, why(e))),
                    }
                    fd = common::mount::open_path_at(fd.as_fd(), Path::new(part))
                        .map_err(|e| refuse(raw, why(e)))?;
                }
                Ok(Some(fd))
            }
            Err(Errno::ENOTDIR) => Err(refuse(raw, "a parent is not a directory")),
            Err(e) => Err(refuse(raw, why(e))),
        }
    }

    fn entry(&mut self, mut entry: tar::Entry<'_, Box<dyn Read>>) -> anyhow::Result<()> {
        let raw = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader) {
            return Ok(());
        }
        let rel = inside(&raw).map_err(|why| refuse(&raw, why))?;
        let mut xattrs = Vec::new();
        if let Some(pax) = entry.pax_extensions().map_err(|e| refuse(&raw, e))? {
            for ext in pax {
                let ext = ext.map_err(|e| refuse(&raw, why(e)))?;
                let Some(name) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") else {
                    continue;
                };
                let name = OsStr::from_bytes(name).to_os_string();
                if name.as_bytes().windows(9).any(|w| w == b".overlay.") {
                    bail!(refuse(
                        &raw,
                        format!("xattr '{}' is overlay's own", name.to_string_lossy())
                    ));
                }
                xattrs.push((name, ext.value_bytes().to_vec()));
            }
        }
        let Some(name) = rel.file_name().map(OsStr::to_os_string) else {
            // DIR itself ("./"): its attributes stay DIR's.
            return Ok(());
        };
        let header = entry.header().clone();
        let mode = header.mode().map_err(|e| refuse(&raw, e))? & 0o7777;
        let mtime = header.mtime().unwrap_or(0);
        let link = entry.link_name_bytes().map(|l| l.into_owned());
        let parent = self.parent(&raw, &rel)?;
        if name.as_bytes() == OPAQUE_MARKER.as_bytes() {
            let dir = rel.parent().unwrap_or(Path::new(""));
            return match parent {
                Some(p) if !self.dry => self.opaque(p.as_fd(), dir),
                _ => Ok(()),
            };
        }
        if let Some(deleted) = name.as_bytes().strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
            let deleted = OsStr::from_bytes(deleted);
            let gone = rel.with_file_name(deleted);
            return match parent {
                Some(p) if !self.dry && !self.made.contains(&gone) => {
                    remove(p.as_fd(), deleted).map_err(|e| refuse(&raw, why(e)))?;
                    mknod(p.as_fd(), deleted, libc::S_IFCHR, 0)
                        .map_err(|e| refuse(&raw, why(e)))?;
                    self.made.insert(gone);
                    Ok(())
                }
                _ => Ok(()),
            };
        }
        match kind {
            EntryType::Symlink => {
                let target = link.unwrap_or_default();
                if !link_stays_inside(&rel, &target) {
                    bail!(refuse(
                        &raw,
                        format!(
                            "symbolic link to '{}' leads outside",
                            String::from_utf8_lossy(&target)
                        )
                    ));
                }
                self.symlinks.insert(rel.clone());
            }
            EntryType::Link => {
                let target = link.unwrap_or_default();
                let to = inside(&target).map_err(|_| {
                    refuse(
                        &raw,
                        format!(
                            "hard link to '{}' leads outside",
                            String::from_utf8_lossy(&target)
                        ),
                    )
                })?;
                if let Some(up) = to.ancestors().skip(1).find(|a| self.symlinks.contains(*a)) {
                    bail!(refuse(
                        &raw,
                        format!("hard link through the symbolic link '{}'", up.display())
                    ));
                }
                if !self.made.contains(&to)
                    && beneath_with(self.root.as_fd(), &to, libc::O_NOFOLLOW).is_err()
                {
                    bail!(refuse(
                        &raw,
                        format!(
                            "hard link to '{}', which is not in the directory",
                            to.display()
                        )
                    ));
                }
            }
            _ => {
                // A later entry may replace one this layer made a symlink.
                self.symlinks.remove(&rel);
            }
        }
        let Some(parent) = parent.filter(|_| !self.dry) else {
            self.made.insert(rel);
            return Ok(());
        };
        let p = parent.as_fd();
        let fail = |e: &dyn std::fmt::Display| refuse(&raw, e);
        match kind {
            EntryType::Directory => {
                match nix::sys::stat::mkdirat(
                    p,
                    name.as_os_str(),
                    nix::sys::stat::Mode::from_bits_truncate(0o700),
                ) {
                    Ok(()) => {}
                    Err(Errno::EEXIST) => {
                        let st = nix::sys::stat::fstatat(
                            p,
                            name.as_os_str(),
                            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                        )
                        .map_err(|e| fail(&why(e)))?;
                        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                            remove(p, &name).map_err(|e| fail(&why(e)))?;
                            nix::sys::stat::mkdirat(
                                p,
                                name.as_os_str(),
                                nix::sys::stat::Mode::from_bits_truncate(0o700),
                            )
                            .map_err(|e| fail(&why(e)))?;
                        }
                    }
                    Err(e) => return Err(fail(&why(e))),
                }
                self.dir_times.push((rel.clone(), mtime));
            }
            EntryType::Regular | EntryType::Continuous => {
                remove(p, &name).map_err(|e| fail(&why(e)))?;
                let fd = nix::fcntl::openat(
                    p,
                    name.as_os_str(),
                    nix::fcntl::OFlag::O_WRONLY
                        | nix::fcntl::OFlag::O_CREAT
                        | nix::fcntl::OFlag::O_EXCL
                        | nix::fcntl::OFlag::O_NOFOLLOW
                        | nix::fcntl::OFlag::O_CLOEXEC,
                    nix::sys::stat::Mode::from_bits_truncate(0o600),
                )
                .map_err(|e| fail(&why(e)))?;
                let mut file = File::from(fd);
                std::io::copy(&mut entry, &mut file).map_err(|e| fail(&why(e)))?;
            }
            EntryType::Symlink => {
                remove(p, &name).map_err(|e| fail(&why(e)))?;
                let target = OsString::from(OsStr::from_bytes(
                    &entry.link_name_bytes().unwrap_or_default(),
                ));
                nix::unistd::symlinkat(target.as_os_str(), p, name.as_os_str())
                    .map_err(|e| fail(&why(e)))?;
            }
            EntryType::Link => {
                let target =
                    inside(&entry.link_name_bytes().unwrap_or_default()).map_err(|e| fail(&e))?;
                let from_dir = beneath(self.root.as_fd(), target.parent().unwrap_or(Path::new("")))
                    .map_err(|e| fail(&format!("hard link to '{}': {e}", target.display())))?;
                let from = target.file_name().unwrap_or_default();
                remove(p, &name).map_err(|e| fail(&why(e)))?;
                let (a, b) = (cname(from)?, cname(&name)?);
                // SAFETY: valid descriptors, NUL-terminated names, flags 0
                // (a final symbolic link is linked, not followed).
                let rc = unsafe {
                    libc::linkat(
                        from_dir.as_raw_fd(),
                        a.as_ptr(),
                        p.as_raw_fd(),
                        b.as_ptr(),
                        0,
                    )
                };
                Errno::result(rc)
                    .map_err(|e| fail(&format!("hard link to '{}': {e}", target.display())))?;
                self.made.insert(rel);
                return Ok(());
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let file_type = match kind {
                    EntryType::Char => libc::S_IFCHR,
                    EntryType::Block => libc::S_IFBLK,
                    _ => libc::S_IFIFO,
                };
                let major = header.device_major().ok().flatten().unwrap_or(0);
                let minor = header.device_minor().ok().flatten().unwrap_or(0);
                remove(p, &name).map_err(|e| fail(&why(e)))?;
                mknod(p, &name, file_type, libc::makedev(major, minor))
                    .map_err(|e| fail(&why(e)))?;
            }
            other => bail!(fail(&format!("unsupported entry type {other:?}"))),
        }
        let at = in_dir(p, &name);
        for (xname, value) in &xattrs {
            tree::set_xattr(&at, xname, value).map_err(|e| fail(&format!("{e:#}")))?;
        }
        if self.chown {
            let uid = header.uid().unwrap_or(0) as u32;
            let gid = header.gid().unwrap_or(0) as u32;
            let c = cname(&name)?;
            // SAFETY: a valid descriptor, a NUL-terminated name, integers.
            let rc = unsafe {
                libc::fchownat(
                    p.as_raw_fd(),
                    c.as_ptr(),
                    uid,
                    gid,
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            };
            Errno::result(rc).map_err(|e| fail(&why(e)))?;
        }
        if kind != EntryType::Symlink {
            nix::sys::stat::fchmodat(
                p,
                name.as_os_str(),
                nix::sys::stat::Mode::from_bits_truncate(mode),
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            )
            .map_err(|e| fail(&why(e)))?;
        }
        if kind != EntryType::Directory {
            set_times(p, &name, mtime, libc::AT_SYMLINK_NOFOLLOW).map_err(|e| fail(&why(e)))?;
        }
        self.made.insert(rel);
        Ok(())
    }

    /// `.wh..wh..opq` in `dir` (opened as `fd`): what DIR held there
    /// before this layer goes, and the directory is marked opaque.
    fn opaque(&self, fd: BorrowedFd<'_>, dir: &Path) -> anyhow::Result<()> {
        let shown = || format!("entry '{}'", dir.join(OPAQUE_MARKER).display());
        let listed = nix::fcntl::openat(
            fd,
            ".",
            nix::fcntl::OFlag::O_RDONLY
                | nix::fcntl::OFlag::O_DIRECTORY
                | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .and_then(nix::dir::Dir::from_fd)
        .with_context(shown)?;
        let mut old = Vec::new();
        for entry in listed {
            let entry = entry.with_context(shown)?;
            let child = OsStr::from_bytes(entry.file_name().to_bytes()).to_os_string();
            if child != "." && child != ".." && !self.made.contains(&dir.join(&child)) {
                old.push(child);
            }
        }
        for child in old {
            remove(fd, &child).with_context(shown)?;
        }
        let xattr = tree::OPAQUE_XATTRS[usize::from(self.userxattr)];
        tree::set_xattr(&in_dir(fd, OsStr::new("")), OsStr::new(xattr), b"y").with_context(shown)
    }
}

/// Removes `name` in `dir` if it is there: a directory with what it holds.
fn remove(dir: BorrowedFd<'_>, name: &OsStr) -> nix::Result<()> {
    match nix::unistd::unlinkat(dir, name, nix::unistd::UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(Errno::EISDIR) => {
            let sub = nix::fcntl::openat(
                dir,
                name,
                nix::fcntl::OFlag::O_RDONLY
                    | nix::fcntl::OFlag::O_DIRECTORY
                    | nix::fcntl::OFlag::O_NOFOLLOW
                    | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )?;
            let names: Vec<OsString> =
                nix::dir::Dir::from_fd(sub.try_clone().map_err(|_| Errno::EBADF)?)?
                    .iter()
                    .filter_map(Result::ok)
                    .map(|e| OsStr::from_bytes(e.file_name().to_bytes()).to_os_string())
                    .filter(|n| n != "." && n != "..")
                    .collect();
            for n in names {
                remove(sub.as_fd(), &n)?;
            }
            nix::unistd::unlinkat(dir, name, nix::unistd::UnlinkatFlags::RemoveDir)
        }
        Err(e) => Err(e),
    }
}

/// mknodat(2); `kind` is the file type with its permission bits (a
/// whiteout: `S_IFCHR` and none).
fn mknod(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    kind: libc::mode_t,
    dev: libc::dev_t,
) -> anyhow::Result<()> {
    let c = cname(name)?;
    // SAFETY: a valid descriptor, a NUL-terminated name and integers.
    let rc = unsafe { libc::mknodat(dir.as_raw_fd(), c.as_ptr(), kind, dev) };
    Errno::result(rc).map(drop).map_err(Into::into)
}

fn set_times(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    mtime: u64,
    flags: libc::c_int,
) -> anyhow::Result<()> {
    let c = cname(name)?;
    let t = libc::timespec {
        tv_sec: mtime as libc::time_t,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: a valid descriptor, a NUL-terminated name, two timespecs.
    let rc = unsafe { libc::utimensat(dir.as_raw_fd(), c.as_ptr(), times.as_ptr(), flags) };
    Errno::result(rc).map(drop).map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside() {
        assert_eq!(inside(b"./a//b/./c"), Ok(PathBuf::from("a/b/c")));
        assert_eq!(inside(b"./"), Ok(PathBuf::new()));
        assert_eq!(inside(b"/etc/passwd"), Err("an absolute name"));
        assert_eq!(inside(b"a/../../x"), Err("a '..' component"));
    }

    #[test]
    fn relative_symlinks_may_not_climb_out() {
        assert!(link_stays_inside(Path::new("a/b/l"), b"../c"));
        assert!(link_stays_inside(Path::new("a/l"), b"../c"));
        assert!(!link_stays_inside(Path::new("l"), b"../etc"));
        assert!(!link_stays_inside(Path::new("a/l"), b"x/../../../y"));
        assert!(link_stays_inside(Path::new("l"), b"/etc/passwd"));
    }
}
