//! `list`: the overlay mounts of this mount namespace and their layers,
//! read from mountinfo, whether made with lowerdir+ or by mount(8).

use std::io::Write;
use std::path::{Path, PathBuf};

use common::mountinfo::Mount;
use serde::Serialize;

/// One overlay mount.
#[derive(Debug, PartialEq, Serialize)]
pub struct Overlay {
    pub target: PathBuf,
    /// Top first.
    pub lower: Vec<PathBuf>,
    pub upper: Option<PathBuf>,
    pub work: Option<PathBuf>,
    /// The other overlay options.
    pub options: Vec<String>,
}

impl Overlay {
    /// The overlay a mountinfo line describes; None for other filesystems.
    pub fn of(mount: &Mount) -> Option<Overlay> {
        if mount.fstype != "overlay" {
            return None;
        }
        let mut overlay = Overlay {
            target: mount.mount_point.clone(),
            lower: Vec::new(),
            upper: None,
            work: None,
            options: Vec::new(),
        };
        // Commas and spaces in paths are octal escapes (\054) in
        // mountinfo, so a plain split is safe; what is left are
        // overlay's own backslash escapes (`\:` in lowerdir, mount(8)'s `\,`).
        for word in mount.super_options.split(',') {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            let value = common::mountinfo::unescape(value)
                .to_string_lossy()
                .into_owned();
            match key {
                "lowerdir" => overlay.lower.extend(crate::split_layers(&value)),
                "lowerdir+" => overlay.lower.push(unbackslash(&value)),
                "upperdir" => overlay.upper = Some(unbackslash(&value)),
                "workdir" => overlay.work = Some(unbackslash(&value)),
                "rw" | "ro" => {}
                _ => overlay.options.push(word.to_string()),
            }
        }
        // mount(8) keeps relative layer names as typed; they were relative
        // to a directory nobody knows now, so they are shown as they are.
        Some(overlay)
    }
}

fn unbackslash(value: &str) -> PathBuf {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    PathBuf::from(out)
}

/// The overlays of this mount namespace, in mount order.
pub fn overlays() -> anyhow::Result<Vec<Overlay>> {
    Ok(common::mountinfo::own()?
        .iter()
        .filter_map(Overlay::of)
        .collect())
}

/// The overlay whose upper dir is `upper` (same device and inode), if any.
pub fn with_upper(upper: &Path) -> anyhow::Result<Option<Overlay>> {
    use std::os::unix::fs::MetadataExt;
    let Ok(want) = std::fs::metadata(upper) else {
        return Ok(None);
    };
    Ok(overlays()?.into_iter().find(|o| {
        o.upper
            .as_deref()
            .and_then(|u| std::fs::metadata(u).ok())
            .is_some_and(|m| (m.dev(), m.ino()) == (want.dev(), want.ino()))
    }))
}

pub fn list(json: bool) -> anyhow::Result<()> {
    let overlays = overlays()?;
    let mut out = std::io::stdout().lock();
    if json {
        #[derive(Serialize)]
        struct Doc<'a> {
            overlays: &'a [Overlay],
        }
        serde_json::to_writer_pretty(
            &mut out,
            &Doc {
                overlays: &overlays,
            },
        )?;
        writeln!(out)?;
        return Ok(());
    }
    let shown = |p: &Option<PathBuf>| {
        p.as_ref()
            .map_or_else(|| "-".to_string(), |p| p.display().to_string())
    };
    let rows: Vec<[String; 5]> = overlays
        .iter()
        .map(|o| {
            let lower: Vec<String> = o
                .lower
                .iter()
                .map(|l| l.display().to_string().replace(':', "\\:"))
                .collect();
            [
                o.target.display().to_string(),
                o.lower.len().to_string(),
                shown(&o.upper),
                shown(&o.work),
                lower.join(":"),
            ]
        })
        .collect();
    let header = ["TARGET", "LAYERS", "UPPER", "WORK", "LOWER"].map(String::from);
    let mut widths = [0; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let [t, n, u, w, l] = row;
        writeln!(
            out,
            "{t:<0$} {n:>1$} {u:<2$} {w:<3$} {l}",
            widths[0], widths[1], widths[2], widths[3]
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Overlay {
        Overlay::of(&Mount::parse(line).unwrap()).unwrap()
    }

    #[test]
    fn lowerdir_plus_mounts_list_each_layer_unescaped() {
        let o = parsed(
            r"69 46 0:40 / /tmp/m rw,relatime - overlay overlay rw,lowerdir+=/tmp/l1,lowerdir+=/tmp/l\0402\054x,upperdir=/tmp/u,workdir=/tmp/w,uuid=on",
        );
        assert_eq!(o.target, PathBuf::from("/tmp/m"));
        assert_eq!(o.lower, [PathBuf::from("/tmp/l1"), "/tmp/l 2,x".into()]);
        assert_eq!(o.upper, Some("/tmp/u".into()));
        assert_eq!(o.work, Some("/tmp/w".into()));
        assert_eq!(o.options, ["uuid=on"]);
    }

    #[test]
    fn mount8_lowerdir_lists_are_split_and_unescaped() {
        let o = parsed(
            r"73 69 0:42 / /m rw - overlay overlay ro,lowerdir=l1:l\0402\134\054x:a\134:b,xino=off",
        );
        assert_eq!(o.lower, [PathBuf::from("l1"), "l 2,x".into(), "a:b".into()]);
        assert_eq!((o.upper, o.work), (None, None));
        assert_eq!(o.options, ["xino=off"]);
    }

    /// Any super options, however odd, give an overlay and no panic.
    #[test]
    fn odd_options_never_panic() {
        let pieces = [
            "lowerdir=",
            "lowerdir+=",
            "upperdir=",
            ",",
            ":",
            "\\",
            "\\:",
            "\\0",
            "\\054",
            "=",
            "x",
            "ro",
        ];
        let mut seed = 7u64;
        for _ in 0..2000 {
            let mut opts = String::new();
            for _ in 0..12 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                opts.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let line = format!("1 0 0:1 / /m rw - overlay overlay {opts}");
            let m = Mount::parse(&line).unwrap();
            assert!(Overlay::of(&m).is_some(), "{line}");
        }
    }

    #[test]
    fn other_filesystems_are_not_overlays() {
        let m = Mount::parse("1 0 0:1 / / rw - ext4 /dev/sda rw").unwrap();
        assert_eq!(Overlay::of(&m), None);
    }
}
