//! Man pages: each tool's clap definition rendered with clap_mangen, then
//! the hand-written sections that follow OPTIONS.

use std::io::Write;

/// The file name and roff text of one page.
pub fn render(page: &common::cli::Page) -> anyhow::Result<(String, Vec<u8>)> {
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

    #[test]
    fn escape_makes_roff_literal() {
        assert_eq!(escape(".x -y \\z"), "\\&.x \\-y \\ez");
    }
}
