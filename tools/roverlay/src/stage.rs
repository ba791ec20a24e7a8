//! Staging names beside a result (`.roverlay-NAME.PID`): what commit and
//! apply build before it replaces the result whole, and what a killed run
//! leaves, which the next run for the same result removes and names.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// The directory holding `path` and its last name.
pub fn split(path: &Path) -> anyhow::Result<(PathBuf, OsString)> {
    let Some(name) = path.file_name() else {
        bail!("'{}' names no file", path.display());
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_os_string()))
}

/// This run's staging name for `name`.
pub fn name(name: &OsString) -> OsString {
    let mut s = OsString::from(".roverlay-");
    s.push(name);
    s.push(format!(".{}", std::process::id()));
    s
}

/// Removes staging names for `name` in `parent` whose run has ended, and
/// says so on stderr.
pub fn clear_stale(parent: &Path, name: &OsString) -> anyhow::Result<()> {
    let mut prefix = OsString::from(".roverlay-");
    prefix.push(name);
    prefix.push(".");
    let prefix = prefix.as_encoded_bytes().to_vec();
    let read = || format!("cannot read directory '{}'", parent.display());
    for entry in std::fs::read_dir(parent).with_context(read)? {
        let entry = entry.with_context(read)?;
        let file = entry.file_name();
        let Some(pid) = file.as_encoded_bytes().strip_prefix(&prefix[..]) else {
            continue;
        };
        let Some(pid) = std::str::from_utf8(pid)
            .ok()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        if alive {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("cannot remove '{}'", path.display()))?;
        let _ = writeln!(
            std::io::stderr(),
            "roverlay: removed '{}', left by an interrupted run",
            path.display()
        );
    }
    Ok(())
}
