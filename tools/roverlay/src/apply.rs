//! `apply`: an OCI or docker image layer unpacked into a directory in the
//! form overlay takes as a layer. Every name is resolved below DIR by
//! descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no
//! entry is written through a symbolic link or outside DIR; names with
//! `..`, absolute names, links out of DIR and overlay's own xattrs are
//! refused before anything is written for them.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use anyhow::{bail, Context};
use nix::errno::Errno;
use tar::EntryType;

use crate::at::{
    beneath, beneath_with, file_attrs, in_dir, make, remove, set_attrs, set_times, Make,
};
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
        Box::new(crate::gzip::MultiGzReader::new(buf))
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

/// Copies an entry's data in large writes.
fn copy(from: &mut impl Read, to: &mut File, buf: &mut [u8]) -> std::io::Result<()> {
    loop {
        match from.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => std::io::Write::write_all(to, &buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
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
    /// The buffer file data goes through.
    buf: Vec<u8>,
    /// The last parent directory opened (entries come grouped by directory).
    last: Option<(PathBuf, Rc<OwnedFd>)>,
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
            buf: vec![0; 1 << 20],
            last: None,
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
            set_times(parent.as_fd(), name, *mtime)?;
        }
        Ok(())
    }

    /// The directory that holds `rel`, made (0755) when the layer did not
    /// list it; refused when a symbolic link of this layer leads there.
    fn parent(&mut self, raw: &[u8], rel: &Path) -> anyhow::Result<Option<Rc<OwnedFd>>> {
        let parent = rel.parent().unwrap_or(Path::new(""));
        for up in parent.ancestors() {
            if self.symlinks.contains(up) {
                bail!(refuse(
                    raw,
                    format!("written through the symbolic link '{}'", up.display())
                ));
            }
        }
        if let Some((path, fd)) = &self.last {
            if path == parent {
                return Ok(Some(Rc::clone(fd)));
            }
        }
        let fd = self.open_parent(raw, parent)?.map(Rc::new);
        if let Some(fd) = &fd {
            self.last = Some((parent.to_path_buf(), Rc::clone(fd)));
        }
        Ok(fd)
    }

    fn open_parent(&self, raw: &[u8], parent: &Path) -> anyhow::Result<Option<OwnedFd>> {
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
        // What this entry replaces or removes may hold the cached parent.
        let removes = rel
            .file_name()
            .is_some_and(|n| n.as_bytes().starts_with(WHITEOUT_PREFIX.as_bytes()));
        if removes || self.last.as_ref().is_some_and(|(p, _)| p.starts_with(&rel)) {
            self.last = None;
        }
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
                    make(p.as_fd(), deleted, &Make::Node(libc::S_IFCHR, 0))
                        .map_err(|e| refuse(&raw, why(e)))?;
                    self.made.insert(gone);
                    Ok(())
                }
                _ => Ok(()),
            };
        }
        match kind {
            EntryType::Symlink => {
                let target = link.clone().unwrap_or_default();
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
                let target = link.clone().unwrap_or_default();
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
        let from_dir;
        let from_name;
        let what = match kind {
            EntryType::Directory => Make::Dir,
            EntryType::Regular | EntryType::Continuous => Make::File,
            EntryType::Symlink => {
                Make::Symlink(OsStr::from_bytes(link.as_deref().unwrap_or_default()))
            }
            EntryType::Link => {
                let target = inside(link.as_deref().unwrap_or_default()).map_err(|e| fail(&e))?;
                from_dir = Some(
                    beneath(self.root.as_fd(), target.parent().unwrap_or(Path::new(""))).map_err(
                        |e| fail(&format!("hard link to '{}': {}", target.display(), why(e))),
                    )?,
                );
                from_name = target
                    .file_name()
                    .map(OsStr::to_os_string)
                    .unwrap_or_default();
                Make::Link(from_dir.as_ref().map(AsFd::as_fd).unwrap_or(p), &from_name)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let file_type = match kind {
                    EntryType::Char => libc::S_IFCHR,
                    EntryType::Block => libc::S_IFBLK,
                    _ => libc::S_IFIFO,
                };
                let major = header.device_major().ok().flatten().unwrap_or(0);
                let minor = header.device_minor().ok().flatten().unwrap_or(0);
                Make::Node(file_type, libc::makedev(major, minor))
            }
            other => bail!(fail(&format!("unsupported entry type {other:?}"))),
        };
        let mut file = make(p, &name, &what).map_err(|e| fail(&why(e)))?;
        if let Some(file) = &mut file {
            copy(&mut entry, file, &mut self.buf).map_err(|e| fail(&why(e)))?;
        }
        if kind == EntryType::Link {
            self.made.insert(rel);
            return Ok(());
        }
        if kind == EntryType::Directory {
            self.dir_times.push((rel.clone(), mtime));
        }
        if !xattrs.is_empty() {
            let at = in_dir(p, &name);
            for (xname, value) in &xattrs {
                tree::set_xattr(&at, xname, value).map_err(|e| fail(&format!("{e:#}")))?;
            }
        }
        let owner = self.chown.then(|| {
            let id = |v: std::io::Result<u64>| v.unwrap_or(0) as u32;
            (id(header.uid()), id(header.gid()))
        });
        let mode = (kind != EntryType::Symlink).then_some(mode);
        let mtime = (kind != EntryType::Directory).then_some(mtime);
        match &file {
            // A file just written: by its descriptor, no lookups.
            Some(file) => file_attrs(file, owner, mode, mtime),
            None => set_attrs(p, &name, owner, mode, mtime),
        }
        .map_err(|e| fail(&why(e)))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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
