//! `commit`: an upper dir written as an OCI image layer. Whiteouts become
//! `.wh.NAME` files (never hard links, though overlay makes them links of
//! one inode), opaque directories get `.wh..wh..opq`, overlay's xattrs stay
//! behind. A `.gz` layer is compressed on every core (`gzip`). The layer
//! is written to an unnamed file (O_TMPFILE) and linked in when whole.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use tar::{Builder, EntryType, Header};

use crate::gzip::{self, ParGzEncoder};
use crate::stage;
use crate::tree::{self, OPAQUE_MARKER, WHITEOUT_PREFIX};

/// Whether a layer's name asks for gzip.
fn gzipped(layer: &Path) -> bool {
    let name = layer.as_os_str().as_bytes();
    name.ends_with(b".gz") || name.ends_with(b".tgz")
}

pub fn commit(upper: &Path, layer: &Path) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(upper) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!("upper dir '{}' is not a directory", upper.display()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot open upper dir '{}'", upper.display()))
        }
    }
    let (parent, name) = stage::split(layer)?;
    let write_fail = || format!("cannot write '{}'", layer.display());
    stage::clear_stale(&parent, &name).with_context(write_fail)?;
    let (file, staged) = open_unnamed(&parent, &name).with_context(write_fail)?;
    // Removes the staging name, if there is one, unless the layer is linked in.
    let mut guard = common::rollback::Rollback::default();
    if let Some(staged) = staged.clone() {
        guard.push(move || {
            let _ = std::fs::remove_file(staged);
        });
    }
    let mut out = BufWriter::with_capacity(1 << 20, file);
    if gzipped(layer) {
        let mut gz = ParGzEncoder::new(&mut out, flate2::Compression::default(), gzip::CHUNK);
        write_tar(&mut gz, upper)?;
        gz.finish().with_context(write_fail)?;
    } else {
        write_tar(&mut out, upper)?;
    }
    let file = out
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(write_fail)?;
    match staged {
        Some(staged) => std::fs::rename(&staged, layer).with_context(write_fail)?,
        None => link_in(&file, &parent, &name, layer).with_context(write_fail)?,
    }
    guard.commit();
    Ok(())
}

/// An unnamed file in `parent` (O_TMPFILE), or where the filesystem has
/// none, a staging name beside the layer.
fn open_unnamed(
    parent: &Path,
    name: &std::ffi::OsString,
) -> anyhow::Result<(File, Option<PathBuf>)> {
    let unnamed = OpenOptions::new()
        .write(true)
        .mode(0o644)
        .custom_flags(libc::O_TMPFILE)
        .open(parent);
    match unnamed {
        Ok(file) => Ok((file, None)),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR)) => {
            let staged = parent.join(stage::name(name));
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&staged)?;
            Ok((file, Some(staged)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Gives the unnamed `file` its name: linked in directly when the name is
/// free, else under a staging name that is then renamed over it.
fn link_in(
    file: &File,
    parent: &Path,
    name: &std::ffi::OsString,
    layer: &Path,
) -> anyhow::Result<()> {
    use std::os::fd::AsRawFd;
    let from = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    let link = |to: &Path| -> std::io::Result<()> {
        let to = CString::new(to.as_os_str().as_bytes())?;
        // SAFETY: NUL-terminated paths and integer flags.
        let rc = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    match link(layer) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let staged = parent.join(stage::name(name));
            link(&staged)?;
            std::fs::rename(&staged, layer).inspect_err(|_| {
                let _ = std::fs::remove_file(&staged);
            })?;
            Ok(())
        }
        other => Ok(other?),
    }
}

/// Writes the layer of `upper` into `out` (one copy of the writer for
/// plain and gzip layers alike: tar writes through `dyn Write` anyway).
fn write_tar(out: &mut dyn Write, upper: &Path) -> anyhow::Result<()> {
    let mut writer = Writer {
        tar: Builder::new(out),
        upper,
        links: HashMap::new(),
    };
    writer.dir(Path::new(""))?;
    writer.tar.finish().context("cannot finish the layer")
}

struct Writer<'a, 'w> {
    tar: Builder<&'w mut dyn Write>,
    upper: &'a Path,
    /// The first name of each multiply-linked file written, by (dev, ino).
    links: HashMap<(u64, u64), PathBuf>,
}

/// A header of `kind` with the mode, owner and time of `meta`.
fn header(kind: EntryType, meta: &Metadata) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(meta.mode() & 0o7777);
    h.set_uid(u64::from(meta.uid()));
    h.set_gid(u64::from(meta.gid()));
    h.set_mtime(meta.mtime().max(0) as u64);
    h.set_size(0);
    h
}

impl Writer<'_, '_> {
    fn dir(&mut self, rel: &Path) -> anyhow::Result<()> {
        for name in tree::sorted_names(&self.upper.join(rel))? {
            let rel = rel.join(&name);
            if name.as_bytes().starts_with(WHITEOUT_PREFIX.as_bytes()) {
                bail!(
                    "cannot write '{}': an OCI layer cannot hold a name beginning with {WHITEOUT_PREFIX}",
                    rel.display()
                );
            }
            self.entry(&rel)?;
        }
        Ok(())
    }

    fn entry(&mut self, rel: &Path) -> anyhow::Result<()> {
        let path = self.upper.join(rel);
        let failed = || format!("cannot add '{}'", path.display());
        let meta = std::fs::symlink_metadata(&path).with_context(failed)?;
        let kind = meta.file_type();
        if tree::is_whiteout(&meta) {
            let mut name = std::ffi::OsString::from(WHITEOUT_PREFIX);
            name.push(rel.file_name().unwrap_or_default());
            let wh = rel.with_file_name(name);
            let mut h = header(EntryType::Regular, &meta);
            h.set_mode(0o644);
            return self
                .tar
                .append_data(&mut h, wh, std::io::empty())
                .with_context(failed);
        }
        self.xattrs(&path)?;
        if kind.is_dir() {
            let mut h = header(EntryType::Directory, &meta);
            self.tar
                .append_data(&mut h, rel, std::io::empty())
                .with_context(failed)?;
            if tree::is_opaque(&path)? {
                let mut h = header(EntryType::Regular, &meta);
                h.set_mode(0o644);
                self.tar
                    .append_data(&mut h, rel.join(OPAQUE_MARKER), std::io::empty())
                    .with_context(failed)?;
            }
            return self.dir(rel);
        }
        if kind.is_file() {
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                if let Some(first) = self.links.get(&key) {
                    let mut h = header(EntryType::Link, &meta);
                    return self
                        .tar
                        .append_link(&mut h, rel, first)
                        .with_context(failed);
                }
                self.links.insert(key, rel.to_path_buf());
            }
            let file = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
                .with_context(failed)?;
            let mut h = header(EntryType::Regular, &meta);
            h.set_size(meta.len());
            return self.tar.append_data(&mut h, rel, file).with_context(failed);
        }
        if kind.is_symlink() {
            let target = std::fs::read_link(&path).with_context(failed)?;
            let mut h = header(EntryType::Symlink, &meta);
            return self
                .tar
                .append_link(&mut h, rel, target)
                .with_context(failed);
        }
        let device = if kind.is_char_device() {
            EntryType::Char
        } else if kind.is_block_device() {
            EntryType::Block
        } else if kind.is_fifo() {
            EntryType::Fifo
        } else {
            // A socket: tar cannot hold one (GNU tar skips it too).
            return Ok(());
        };
        let mut h = header(device, &meta);
        let rdev = meta.rdev();
        h.set_device_major(libc::major(rdev)).with_context(failed)?;
        h.set_device_minor(libc::minor(rdev)).with_context(failed)?;
        self.tar
            .append_data(&mut h, rel, std::io::empty())
            .with_context(failed)
    }

    /// The xattrs of `path` but overlay's own, as a PAX header for the
    /// entry that follows.
    fn xattrs(&mut self, path: &Path) -> anyhow::Result<()> {
        let kept: Vec<(String, Vec<u8>)> = tree::xattrs(path)?
            .into_iter()
            .filter(|(name, _)| !tree::is_overlay_xattr(name))
            .map(|(name, value)| (format!("SCHILY.xattr.{}", name.to_string_lossy()), value))
            .collect();
        if kept.is_empty() {
            return Ok(());
        }
        self.tar
            .append_pax_extensions(kept.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
            .with_context(|| format!("cannot add the xattrs of '{}'", path.display()))
    }
}
