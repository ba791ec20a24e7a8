//! `diff`: the changes an upper dir holds, as `docker diff` prints them.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::tree::{self, OPAQUE_MARKER, WHITEOUT_PREFIX};

/// One change: A (added), C (changed) or D (deleted), and its path from
/// the overlay's root.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    pub path: String,
    pub kind: char,
}

/// The changes of `upper` over `lowers` (top first), sorted by path.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> anyhow::Result<Vec<Change>> {
    let mut out = Vec::new();
    walk(upper, Path::new(""), lowers, false, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(
    upper: &Path,
    rel: &Path,
    lowers: &[PathBuf],
    opaque_above: bool,
    out: &mut Vec<Change>,
) -> anyhow::Result<()> {
    let shown = |rel: &Path| format!("/{}", rel.display());
    let lowers_here: &[PathBuf] = if opaque_above { &[] } else { lowers };
    for name in tree::sorted_names(&upper.join(rel))? {
        let rel = rel.join(&name);
        let path = upper.join(&rel);
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("cannot stat {}", path.display()))?;
        let text = name.to_string_lossy();
        if text == OPAQUE_MARKER {
            continue;
        }
        if let Some(deleted) = text.strip_prefix(WHITEOUT_PREFIX) {
            out.push(Change {
                path: shown(&rel.with_file_name(deleted)),
                kind: 'D',
            });
            continue;
        }
        if tree::is_whiteout(&meta) {
            out.push(Change {
                path: shown(&rel),
                kind: 'D',
            });
            continue;
        }
        let existed = tree::in_lowers(lowers_here, &rel).is_some();
        out.push(Change {
            path: shown(&rel),
            kind: if existed { 'C' } else { 'A' },
        });
        if meta.is_dir() {
            let opaque = tree::is_opaque(&path)? || path.join(OPAQUE_MARKER).exists();
            if opaque && existed {
                for old in tree::lower_names(lowers_here, &rel)? {
                    if std::fs::symlink_metadata(path.join(&old)).is_err() {
                        out.push(Change {
                            path: shown(&rel.join(old)),
                            kind: 'D',
                        });
                    }
                }
            }
            walk(upper, &rel, lowers, opaque_above || opaque, out)?;
        }
    }
    Ok(())
}

pub fn diff(upper: &Path, lower: Option<&str>, json: bool) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(upper) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!("upper dir '{}' is not a directory", upper.display()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot open upper dir '{}'", upper.display()))
        }
    }
    let lowers = match lower {
        Some(list) => crate::split_layers(list),
        None => crate::list::with_upper(upper)?.map_or_else(Vec::new, |o| o.lower),
    };
    let changes = changes(upper, &lowers)?;
    let mut out = std::io::stdout().lock();
    if json {
        #[derive(Serialize)]
        struct Doc {
            changes: Vec<Change>,
        }
        serde_json::to_writer_pretty(&mut out, &Doc { changes })?;
        writeln!(out)?;
    } else {
        for c in changes {
            writeln!(out, "{} {}", c.kind, c.path)?;
        }
    }
    Ok(())
}
