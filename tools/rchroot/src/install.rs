//! `rchroot --install NEWROOT PROGRAM...`: copy programs with everything the
//! loader needs into NEWROOT, at the paths the host uses, symbolic links
//! kept as links. Every name inside NEWROOT is resolved with openat2
//! RESOLVE_IN_ROOT, so a link in NEWROOT (even `bin -> /usr/bin`) never leads
//! the copy out of it; files are written under a temporary name and renamed.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use anyhow::{bail, Context};
use common::rollback::Rollback;
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, renameat, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fchmod, fstat, mkdirat, Mode, SFlag};
use nix::unistd::{symlinkat, unlinkat, UnlinkatFlags};

use crate::elf;
use crate::quote::quote_file;

/// Installs `programs` into `newroot`; all or nothing.
pub fn install(newroot: &Path, programs: &[OsString]) -> anyhow::Result<u8> {
    // Everything is found before NEWROOT is touched: bad input changes nothing.
    let mut files = Vec::new();
    for program in programs {
        let path = find_program(program)?;
        let closure = elf::closure(&path)?;
        if let Some((what, by)) = closure.missing.first() {
            bail!(
                "cannot install {}: {} needed by {} is not found",
                quote_file(&path),
                quote_file(what),
                quote_file(by)
            );
        }
        files.extend(closure.files);
    }
    let mut copier = Copier {
        root: Root::open(newroot)?,
        rollback: Rollback::default(),
        placed: HashSet::new(),
        backups: Vec::new(),
    };
    for file in &files {
        copier.place(&lexical(file))?;
    }
    copier.commit();
    Ok(0)
}

/// A program as execvp would find it: a path when it has a slash, else the
/// first executable file of that name in PATH. Relative paths are made
/// absolute, so they land at the same place in NEWROOT.
fn find_program(program: &OsStr) -> anyhow::Result<PathBuf> {
    let shown = quote_file(program);
    let found = crate::in_path(program)
        .with_context(|| format!("cannot install {shown}: command not found in PATH"))?;
    let path = std::path::absolute(found).with_context(|| format!("cannot install {shown}"))?;
    let meta = std::fs::metadata(&path).with_context(|| format!("cannot install {shown}"))?;
    if !meta.is_file() {
        bail!("cannot install {shown}: not a regular file");
    }
    // What is copied is what runs: a file exec(2) would refuse, or run
    // with nothing --install knows to bring along, is no program to install.
    if meta.mode() & 0o111 == 0 {
        bail!("cannot install {shown}: not an executable program (no execute permission)");
    }
    if !elf::is_program(&path).with_context(|| format!("cannot install {shown}"))? {
        bail!("cannot install {shown}: not an executable program (neither ELF nor a #! script)");
    }
    Ok(path)
}

/// `.` and `..` taken out without looking at the file system (the paths
/// given here are absolute and their directories already resolved).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
            _ => {}
        }
    }
    out
}

/// NEWROOT, opened once; names inside are resolved as if it were `/`.
struct Root {
    fd: OwnedFd,
    /// NEWROOT as given, for messages.
    shown: PathBuf,
    /// NEWROOT's real path, to turn /proc/self/fd links into inside paths.
    real: PathBuf,
}

impl Root {
    fn open(path: &Path) -> anyhow::Result<Root> {
        let fail = || format!("cannot open NEWROOT {}", quote_file(path));
        let fd = nix::fcntl::open(
            path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .with_context(fail)?;
        let real =
            std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).with_context(fail)?;
        Ok(Root {
            fd,
            shown: path.to_path_buf(),
            real,
        })
    }

    /// Opens `path` (absolute, inside NEWROOT).
    fn at(&self, path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        openat2(&self.fd, path, how)
    }

    /// The type of `path` itself (a final link is not followed), if it exists.
    fn kind(&self, path: &Path) -> anyhow::Result<Option<SFlag>> {
        match self.at(path, OFlag::O_PATH | OFlag::O_NOFOLLOW) {
            Ok(fd) => {
                let st = fstat(&fd).with_context(|| self.fail("cannot stat", path))?;
                Ok(Some(SFlag::from_bits_truncate(
                    st.st_mode & SFlag::S_IFMT.bits(),
                )))
            }
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(e).with_context(|| self.fail("cannot stat", path)),
        }
    }

    /// The directory holding `path`, opened, and the last name.
    fn parent<'p>(&self, path: &'p Path) -> anyhow::Result<(Rc<OwnedFd>, &'p OsStr)> {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            bail!("{}: not a file name", self.show(path).display());
        };
        let fd = self
            .at(dir, OFlag::O_PATH | OFlag::O_DIRECTORY)
            .with_context(|| self.fail("cannot open", dir))?;
        Ok((Rc::new(fd), name))
    }

    /// Where `path` really is inside NEWROOT, links resolved.
    fn canonical(&self, path: &Path) -> anyhow::Result<PathBuf> {
        let fd = self
            .at(path, OFlag::O_PATH)
            .with_context(|| self.fail("cannot open", path))?;
        let real = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .with_context(|| self.fail("cannot resolve", path))?;
        let inside = real
            .strip_prefix(&self.real)
            .with_context(|| self.fail("cannot resolve", path))?;
        Ok(Path::new("/").join(inside))
    }

    fn show(&self, path: &Path) -> PathBuf {
        self.shown.join(path.strip_prefix("/").unwrap_or(path))
    }

    fn fail(&self, what: &str, path: &Path) -> String {
        format!("{what} {}", quote_file(self.show(path)))
    }
}

/// Copies files into a [`Root`], registering the undo of each change.
struct Copier {
    root: Root,
    rollback: Rollback,
    /// Paths already handled in this run (also stops link loops).
    placed: HashSet<PathBuf>,
    /// Files that were replaced, kept until the run succeeds.
    backups: Vec<(Rc<OwnedFd>, OsString)>,
}

impl Copier {
    /// Makes `path` (absolute) exist in NEWROOT as on the host: missing
    /// directories made, links copied as links (and what they point to
    /// placed too), the file itself copied or brought up to date. What
    /// NEWROOT already has on the way (a directory, its own link) is kept.
    fn place(&mut self, path: &Path) -> anyhow::Result<()> {
        if !self.placed.insert(path.to_path_buf()) {
            return Ok(());
        }
        let names: Vec<&OsStr> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n),
                _ => None,
            })
            .collect();
        let mut dir = PathBuf::from("/");
        for (i, name) in names.iter().enumerate() {
            let here = dir.join(name);
            let last = i + 1 == names.len();
            match self.root.kind(&here)? {
                Some(SFlag::S_IFLNK) => {
                    let fail = || self.root.fail("cannot read link", &here);
                    let fd = self
                        .root
                        .at(&here, OFlag::O_PATH | OFlag::O_NOFOLLOW)
                        .with_context(fail)?;
                    let target = nix::fcntl::readlinkat(&fd, "").with_context(fail)?;
                    let target = self.link_target(&dir, Path::new(&target))?;
                    self.place(&target)?;
                }
                Some(SFlag::S_IFREG) if last => self.update(&here)?,
                Some(_) => {}
                None => self.create(&dir, &here, last)?,
            }
            dir = here;
        }
        Ok(())
    }

    /// Makes `here`, missing in NEWROOT, as the host has it.
    fn create(&mut self, dir: &Path, here: &Path, last: bool) -> anyhow::Result<()> {
        let meta = std::fs::symlink_metadata(here)
            .with_context(|| format!("cannot install {}", quote_file(here)))?;
        let kind = meta.file_type();
        let (parent, name) = self.root.parent(here)?;
        let fail = || self.root.fail("cannot create", here);
        if kind.is_symlink() {
            let target = std::fs::read_link(here)
                .with_context(|| format!("cannot read link {}", quote_file(here)))?;
            symlinkat(&target, parent.as_fd(), name).with_context(fail)?;
            self.undo_unlink(parent, name, UnlinkatFlags::NoRemoveDir);
            let target = self.link_target(dir, &target)?;
            self.place(&target)
        } else if kind.is_dir() {
            mkdirat(parent.as_fd(), name, mode(meta.mode())).with_context(fail)?;
            self.undo_unlink(parent, name, UnlinkatFlags::RemoveDir);
            Ok(())
        } else if kind.is_file() && last {
            self.copy(here, &parent, name, meta.mode())?;
            self.undo_unlink(parent.clone(), name, UnlinkatFlags::NoRemoveDir);
            // A run killed while replacing the file left the old one aside.
            let stale = hidden(name, "old");
            let _ = unlinkat(
                parent.as_fd(),
                stale.as_os_str(),
                UnlinkatFlags::NoRemoveDir,
            );
            Ok(())
        } else {
            bail!(
                "cannot install {}: not a regular file, directory or symbolic link",
                quote_file(here)
            )
        }
    }

    /// A regular file NEWROOT already has: left alone when it is the same
    /// as the host's, else replaced (the old one kept until commit).
    fn update(&mut self, here: &Path) -> anyhow::Result<()> {
        let meta =
            std::fs::metadata(here).with_context(|| format!("cannot read {}", quote_file(here)))?;
        if !meta.is_file() {
            bail!(
                "cannot install {}: {} is in the way",
                quote_file(here),
                quote_file(self.root.show(here))
            );
        }
        let host =
            std::fs::read(here).with_context(|| format!("cannot read {}", quote_file(here)))?;
        let fd = self
            .root
            .at(here, OFlag::O_RDONLY | OFlag::O_NOFOLLOW)
            .with_context(|| self.root.fail("cannot open", here))?;
        let st = fstat(&fd).with_context(|| self.root.fail("cannot stat", here))?;
        let mut inside = Vec::new();
        File::from(fd)
            .read_to_end(&mut inside)
            .with_context(|| self.root.fail("cannot read", here))?;
        if inside == host && Mode::from_bits_truncate(st.st_mode) == mode(meta.mode()) {
            return Ok(());
        }
        let (parent, name) = self.root.parent(here)?;
        let backup = hidden(name, "old");
        let fail = || self.root.fail("cannot replace", here);
        renameat(parent.as_fd(), name, parent.as_fd(), backup.as_os_str()).with_context(fail)?;
        let restore = (parent.clone(), name.to_os_string(), backup.clone());
        self.rollback.push(move || {
            let (dir, name, backup) = restore;
            let _ = renameat(
                dir.as_fd(),
                backup.as_os_str(),
                dir.as_fd(),
                name.as_os_str(),
            );
        });
        self.backups.push((parent.clone(), backup));
        self.copy(here, &parent, name, meta.mode())
    }

    /// Writes the host file `here` as `name` in `parent`, through a
    /// temporary name, so that no half-written file is ever seen.
    fn copy(
        &self,
        here: &Path,
        parent: &OwnedFd,
        name: &OsStr,
        host_mode: u32,
    ) -> anyhow::Result<()> {
        let fail = || self.root.fail("cannot create", here);
        let mut source =
            File::open(here).with_context(|| format!("cannot read {}", quote_file(here)))?;
        let temp = hidden(name, "new");
        // A leftover of a killed run.
        let _ = unlinkat(parent.as_fd(), temp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        let fd = openat(
            parent.as_fd(),
            temp.as_os_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .with_context(fail)?;
        let mut target = File::from(fd);
        let written = std::io::copy(&mut source, &mut target)
            .map(drop)
            .and_then(|()| fchmod(&target, mode(host_mode)).map_err(Into::into))
            .and_then(|()| {
                renameat(parent.as_fd(), temp.as_os_str(), parent.as_fd(), name).map_err(Into::into)
            });
        if let Err(e) = written {
            let _ = unlinkat(parent.as_fd(), temp.as_os_str(), UnlinkatFlags::NoRemoveDir);
            return Err(anyhow::Error::new(e)).with_context(fail);
        }
        Ok(())
    }

    /// Where a link found in `dir` points, as a path inside NEWROOT.
    fn link_target(&self, dir: &Path, target: &Path) -> anyhow::Result<PathBuf> {
        if target.is_absolute() {
            return Ok(lexical(target));
        }
        Ok(lexical(&self.root.canonical(dir)?.join(target)))
    }

    fn undo_unlink(&mut self, dir: Rc<OwnedFd>, name: &OsStr, flags: UnlinkatFlags) {
        let name = name.to_os_string();
        self.rollback.push(move || {
            let _ = unlinkat(dir.as_fd(), name.as_os_str(), flags);
        });
    }

    /// Keeps what was done and drops the replaced files.
    fn commit(self) {
        for (dir, backup) in &self.backups {
            let _ = unlinkat(dir.as_fd(), backup.as_os_str(), UnlinkatFlags::NoRemoveDir);
        }
        self.rollback.commit();
    }
}

/// Permission bits to give a copy: no set-user-ID or set-group-ID, ever.
fn mode(host: u32) -> Mode {
    Mode::from_bits_truncate(host & 0o1777)
}

/// `.NAME.rchroot-WHAT`: a name beside NAME for a file being written or kept.
fn hidden(name: &OsStr, what: &str) -> OsString {
    let mut hidden = OsString::from(".");
    hidden.push(name);
    hidden.push(format!(".rchroot-{what}"));
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_paths() {
        assert_eq!(
            lexical(Path::new("/usr/lib64/../lib/./x")),
            Path::new("/usr/lib/x")
        );
        assert_eq!(lexical(Path::new("/../x")), Path::new("/x"));
    }

    #[test]
    fn bare_names_are_found_in_path() {
        assert!(find_program(OsStr::new("sh")).unwrap().is_absolute());
        let err = find_program(OsStr::new("no-such-program-bxt")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot install 'no-such-program-bxt': command not found in PATH"
        );
    }
}
