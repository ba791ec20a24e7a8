//! Project chores, all derived from the tools' clap definitions:
//!
//! - `cargo xtask man`: renders every tool's man page into man/ and its
//!   bash, zsh and fish completions into completions/ (the committed copies;
//!   a test fails when they are stale);
//! - `cargo xtask man DIR`: only the man pages, into DIR;
//! - `cargo xtask completions DIR`: only the completions, into DIR/SHELL/.
//!
//! The Debian package is cargo-deb's (`cargo deb -p boxutils`), from the
//! root Cargo.toml's `[package.metadata.deb]`, which takes man/ and
//! completions/ as they are committed.
//!
//! No date is written, so the output is stable and the freshness test can
//! compare.

use std::path::{Path, PathBuf};

use anyhow::Context;

mod completions;
mod man;

/// Every page of every tool.
fn pages() -> Vec<common::cli::Page> {
    [
        rchroot::pages(),
        rcgexec::pages(),
        ripcmk::pages(),
        rlsns::pages(),
        rnsenter::pages(),
        roverlay::pages(),
        runshare::pages(),
        rvethpair::pages(),
    ]
    .into_iter()
    .flatten()
    .map(|page| common::cli::Page {
        command: common::help::with_help_flag(page.command),
        ..page
    })
    .collect()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["man"] => {
            write_all(&top().join("man"), man_files()?)?;
            write_all(&top().join("completions"), completion_files())
        }
        ["man", dir] => write_all(Path::new(dir), man_files()?),
        ["completions", dir] => write_all(Path::new(dir), completion_files()),
        _ => anyhow::bail!("usage: cargo xtask man [DIR] | completions DIR"),
    }
}

/// The top of the workspace.
fn top() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every man page: (file name, roff).
fn man_files() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    pages().iter().map(man::render).collect()
}

/// Every completion file: (SHELL/FILE, script), as in completions/
/// (`bash/rlsns`, `zsh/_rlsns`, `fish/rlsns.fish`).
fn completion_files() -> Vec<(String, Vec<u8>)> {
    pages()
        .iter()
        .flat_map(completions::render)
        .map(|(shell, file, script)| (format!("{shell}/{file}"), script))
        .collect()
}

fn write_all(dir: &Path, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `dir` under the top of the workspace must hold exactly `files`.
    fn assert_fresh(dir: &str, files: Vec<(String, Vec<u8>)>) {
        for (name, text) in files {
            let committed = std::fs::read(top().join(dir).join(&name)).unwrap_or_default();
            assert!(
                committed == text,
                "{dir}/{name} is stale: run `cargo xtask man`"
            );
        }
    }

    /// man/ must be what the clap definitions render today.
    #[test]
    fn man_pages_are_fresh() {
        assert_fresh("man", man_files().unwrap());
    }

    /// completions/ likewise.
    #[test]
    fn completions_are_fresh() {
        assert_fresh("completions", completion_files());
    }
}
