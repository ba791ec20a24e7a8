//! `cargo xtask man [DIR]`: renders every tool's man page from its clap
//! definition into DIR (default: man/ at the top of the workspace). No date
//! is written, so the output is stable and the freshness test can compare.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

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
    .collect()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["man"] => write_all(&man_dir()),
        ["man", dir] => write_all(Path::new(dir)),
        _ => anyhow::bail!("usage: cargo xtask man [DIR]"),
    }
}

fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../man")
}

fn write_all(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for page in pages() {
        let (name, text) = render(&page)?;
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

/// The file name and roff text of one page.
fn render(page: &common::cli::Page) -> anyhow::Result<(String, Vec<u8>)> {
    let name = format!("{}.{}", page.command.get_name(), page.section);
    let man = clap_mangen::Man::new(page.command.clone()).section(page.section);
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    // No SUBCOMMANDS section: clap_mangen would point at NAME-SUB(N) pages,
    // and one page is made per binary; a tool describes its subcommands in a
    // section of its own (rvethpair: COMMANDS).
    for (heading, body) in page.sections {
        render_section(&mut out, heading, body)?;
    }
    Ok((name, out))
}

/// A hand-written section: blank lines split paragraphs; lines indented by
/// two spaces are examples, kept as written.
fn render_section(out: &mut Vec<u8>, heading: &str, body: &str) -> std::io::Result<()> {
    writeln!(out, ".SH \"{heading}\"")?;
    let mut in_example = false;
    for line in body.lines() {
        let example = line.starts_with("  ");
        if example != in_example {
            writeln!(out, "{}", if example { ".PP\n.nf" } else { ".fi" })?;
            in_example = example;
        }
        if line.trim().is_empty() {
            writeln!(out, ".PP")?;
        } else {
            writeln!(
                out,
                "{}",
                escape(if example { &line[2..] } else { line.trim() })
            )?;
        }
    }
    if in_example {
        writeln!(out, ".fi")?;
    }
    Ok(())
}

/// roff: backslashes doubled, a leading dot or quote made literal, dashes kept as hyphen-minus.
fn escape(line: &str) -> String {
    let text = line.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// man/ must be what the clap definitions render today.
    #[test]
    fn man_pages_are_fresh() {
        for page in pages() {
            let (name, text) = render(&page).unwrap();
            let path = man_dir().join(&name);
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == text,
                "man/{name} is stale: run `cargo xtask man`"
            );
        }
    }

    #[test]
    fn escape_makes_roff_literal() {
        assert_eq!(escape(".x -y \\z"), "\\&.x \\-y \\ez");
    }
}
