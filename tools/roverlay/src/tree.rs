//! What an upper dir's entries mean to overlay (whiteouts, opaque
//! directories) and OCI (`.wh.` names), and extended attributes by path.

use std::ffi::{CString, OsStr, OsString};
use std::fs::Metadata;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use nix::errno::Errno;

/// OCI's prefix of a deleted name, and its name for "opaque directory".
pub const WHITEOUT_PREFIX: &str = ".wh.";
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Overlay's xattr of an opaque directory, trusted or (userxattr) user.
pub const OPAQUE_XATTRS: [&str; 2] = ["trusted.overlay.opaque", "user.overlay.opaque"];

/// Overlay's whiteout: a character device 0/0.
pub fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// Overlay's own extended attributes, never carried in a layer.
pub fn is_overlay_xattr(name: &OsStr) -> bool {
    let name = name.as_bytes();
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}

/// Whether the directory `path` is opaque (`*.overlay.opaque` = y).
pub fn is_opaque(path: &Path) -> anyhow::Result<bool> {
    for name in OPAQUE_XATTRS {
        if get_xattr(path, OsStr::new(name))?.as_deref() == Some(b"y") {
            return Ok(true);
        }
    }
    Ok(false)
}

fn cpath(path: &Path) -> anyhow::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .with_context(|| format!("{}: a NUL byte in the name", path.display()))
}

/// Calls `f(buf, len)` with a buffer that grows until the value fits.
fn sized(mut f: impl FnMut(*mut libc::c_char, usize) -> isize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; 256];
    loop {
        match Errno::result(f(buf.as_mut_ptr().cast(), buf.len())) {
            Ok(n) => {
                buf.truncate(n as usize);
                return Ok(buf);
            }
            Err(Errno::ERANGE) => {
                let need = Errno::result(f(std::ptr::null_mut(), 0))? as usize;
                buf.resize(need.max(buf.len() * 2), 0);
            }
            Err(e) => return Err(e),
        }
    }
}

/// The extended attributes of `path` (not followed), names and values.
pub fn xattrs(path: &Path) -> anyhow::Result<Vec<(OsString, Vec<u8>)>> {
    let c = cpath(path)?;
    // SAFETY: a NUL-terminated path and a buffer of the length given.
    let names = match sized(|buf, len| unsafe { libc::llistxattr(c.as_ptr(), buf, len) }) {
        Ok(names) => names,
        Err(Errno::ENOTSUP) => return Ok(Vec::new()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot list xattrs of {}", path.display()))
        }
    };
    let mut out = Vec::new();
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = OsString::from_vec(name.to_vec());
        if let Some(value) = get_xattr(path, &name)? {
            out.push((name, value));
        }
    }
    Ok(out)
}

/// One extended attribute of `path` (not followed); None when absent.
pub fn get_xattr(path: &Path, name: &OsStr) -> anyhow::Result<Option<Vec<u8>>> {
    let c = cpath(path)?;
    let n = CString::new(name.as_bytes()).context("an xattr name with a NUL byte")?;
    // SAFETY: NUL-terminated path and name and a buffer of the length given.
    match sized(|buf, len| unsafe { libc::lgetxattr(c.as_ptr(), n.as_ptr(), buf.cast(), len) }) {
        Ok(v) => Ok(Some(v)),
        Err(Errno::ENODATA | Errno::ENOTSUP) => Ok(None),
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot read xattr {} of {}",
                name.to_string_lossy(),
                path.display()
            )
        }),
    }
}

/// Sets an extended attribute of `path` (not followed).
pub fn set_xattr(path: &Path, name: &OsStr, value: &[u8]) -> anyhow::Result<()> {
    let c = cpath(path)?;
    let n = CString::new(name.as_bytes()).context("an xattr name with a NUL byte")?;
    // SAFETY: NUL-terminated path and name, a value of the length given.
    let rc = unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    Errno::result(rc).map(drop).with_context(|| {
        format!(
            "cannot set xattr {} on {}",
            name.to_string_lossy(),
            path.display()
        )
    })
}

/// The names in directory `dir`, sorted (byte order, as tar and docker diff).
pub fn sorted_names(dir: &Path) -> anyhow::Result<Vec<OsString>> {
    let read = || format!("cannot read directory {}", dir.display());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(read)? {
        names.push(entry.with_context(read)?.file_name());
    }
    names.sort();
    Ok(names)
}

/// What the lower dirs (top first) hold at `rel`, as overlay merges them:
/// the first that has the name decides, a whiteout there means nothing.
pub fn in_lowers(lowers: &[PathBuf], rel: &Path) -> Option<Metadata> {
    for lower in lowers {
        if let Ok(meta) = std::fs::symlink_metadata(lower.join(rel)) {
            return (!is_whiteout(&meta)).then_some(meta);
        }
    }
    None
}

/// The names the lower dirs (top first) show in directory `rel`: the
/// union down to the first opaque one, whiteouts taken out.
pub fn lower_names(lowers: &[PathBuf], rel: &Path) -> anyhow::Result<Vec<OsString>> {
    let mut names = std::collections::BTreeSet::new();
    let mut hidden = std::collections::BTreeSet::new();
    for lower in lowers {
        let dir = lower.join(rel);
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            // A file or whiteout here hides the layers below.
            Ok(_) => break,
            Err(_) => continue,
        }
        for name in sorted_names(&dir)? {
            let meta = std::fs::symlink_metadata(dir.join(&name));
            if meta.as_ref().is_ok_and(is_whiteout) {
                hidden.insert(name);
            } else if !hidden.contains(&name) {
                names.insert(name);
            }
        }
        if is_opaque(&dir)? {
            break;
        }
    }
    Ok(names.into_iter().collect())
}
