//! /proc/PID/mountinfo, parsed (proc(5)); paths with their octal escapes undone.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// One line of mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub id: u32,
    pub parent: u32,
    /// `major:minor` of the filesystem.
    pub dev: String,
    /// The root of the mount within its filesystem.
    pub root: PathBuf,
    pub mount_point: PathBuf,
    pub options: String,
    /// Optional fields: `shared:N`, `master:N`, `propagate_from:N`, `unbindable`.
    pub optional: Vec<String>,
    pub fstype: String,
    pub source: OsString,
    pub super_options: String,
}

impl Mount {
    /// Parses one line; None when it does not have the mountinfo shape.
    pub fn parse(line: &str) -> Option<Mount> {
        let (left, right) = line.split_once(" - ")?;
        let mut l = left.split(' ');
        let id = l.next()?.parse().ok()?;
        let parent = l.next()?.parse().ok()?;
        let dev = l.next()?.to_string();
        let root = unescape(l.next()?).into();
        let mount_point = unescape(l.next()?).into();
        let options = l.next()?.to_string();
        let optional = l.filter(|f| !f.is_empty()).map(str::to_string).collect();
        let mut r = right.splitn(3, ' ');
        let fstype = r.next()?.to_string();
        let source = unescape(r.next()?);
        let super_options = r.next().unwrap_or_default().to_string();
        Some(Mount {
            id,
            parent,
            dev,
            root,
            mount_point,
            options,
            optional,
            fstype,
            source,
            super_options,
        })
    }

    /// The peer group of a shared mount, if it is one.
    pub fn shared(&self) -> Option<u32> {
        self.optional
            .iter()
            .find_map(|f| f.strip_prefix("shared:")?.parse().ok())
    }
}

/// The mounts of `/proc/self/mountinfo`.
pub fn own() -> anyhow::Result<Vec<Mount>> {
    read(Path::new("/proc/self/mountinfo"))
}

/// The mounts listed in a mountinfo file.
pub fn read(path: &Path) -> anyhow::Result<Vec<Mount>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text.lines().filter_map(Mount::parse).collect())
}

/// The kernel writes space, tab, newline and backslash in paths as `\ooo`.
pub fn unescape(field: &str) -> OsString {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // `\ooo` up to \377 (a byte); a larger one is kept as written.
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d[0] <= b'3' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    OsString::from_vec(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_line_with_optional_fields_and_escapes() {
        let line = r"36 35 98:0 /mnt1 /mnt\040two rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue";
        let m = Mount::parse(line).unwrap();
        assert_eq!((m.id, m.parent, m.dev.as_str()), (36, 35, "98:0"));
        assert_eq!(m.root, PathBuf::from("/mnt1"));
        assert_eq!(m.mount_point, PathBuf::from("/mnt two"));
        assert_eq!(m.optional, vec!["master:1", "shared:7"]);
        assert_eq!(m.shared(), Some(7));
        assert_eq!(
            (m.fstype.as_str(), m.source.to_str()),
            ("ext3", Some("/dev/root"))
        );
        assert_eq!(m.super_options, "rw,errors=continue");
    }

    #[test]
    fn rejects_what_is_not_mountinfo() {
        assert_eq!(Mount::parse("garbage"), None);
        assert_eq!(Mount::parse("x y - z"), None);
    }

    #[test]
    fn own_mountinfo_has_a_root() {
        assert!(own()
            .unwrap()
            .iter()
            .any(|m| m.mount_point == Path::new("/")));
    }
}
