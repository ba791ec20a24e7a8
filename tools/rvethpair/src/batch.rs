//! `batch`: many commands in one process, with one netlink session per
//! namespace. Every line is read and checked before the first one runs.

use std::io::{Read, Write};

use anyhow::Context;
use clap::Parser;

use crate::netlink::Netlink;
use crate::{BatchArgs, Cli, Plan};

fn complain(line: usize, text: &str) {
    let _ = writeln!(std::io::stderr(), "rvethpair: batch line {line}: {text}");
}

/// One line as a plan; `None` for a blank line or a comment.
fn parse_line(line: &str) -> Option<anyhow::Result<Plan>> {
    let code = line.split('#').next().unwrap_or_default();
    let words: Vec<&str> = code.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let cli = match Cli::try_parse_from(std::iter::once("rvethpair").chain(words)) {
        Ok(cli) => cli,
        Err(err) => return Some(Err(anyhow::anyhow!(common::cli::usage_message(&err)))),
    };
    Some(Plan::new(&cli.command))
}

pub async fn run(nl: &mut Netlink, args: &BatchArgs) -> anyhow::Result<u8> {
    let mut text = String::new();
    match args.file.as_deref() {
        Some(path) if path.as_os_str() != "-" => {
            text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read stdin")?;
        }
    }
    let mut failed = false;
    let mut plans = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_line(line) {
            None => {}
            Some(Ok(plan)) => plans.push((i + 1, plan)),
            Some(Err(err)) => {
                complain(i + 1, &common::error::one_line(&err));
                // Nothing has run yet, so nothing is left behind.
                if !args.force {
                    return Ok(1);
                }
                failed = true;
            }
        }
    }
    let total = plans.len();
    // The first line of a run of `del`/`netns del` lines not flushed yet.
    let mut deferred: Option<usize> = None;
    for (done, (line, plan)) in plans.iter().enumerate() {
        if !plan.defers() {
            if let Err(err) = flush(nl, &mut deferred, *line - 1).await {
                complain_flush(&err, &mut failed, args.force, done, total);
                if !args.force {
                    return Ok(1);
                }
            }
        }
        let result = nl.execute(plan).await;
        if plan.defers() && result.is_ok() {
            deferred.get_or_insert(*line);
        }
        if let Err(err) = result {
            failed = true;
            let mut text = common::error::one_line(&err);
            if !args.force {
                // What was done before this line is really done.
                if let Err(err) = flush(nl, &mut deferred, *line - 1).await {
                    complain_flush(&err, &mut failed, true, done, total);
                }
                text.push_str(&format!(
                    " (stopped: {done} of {total} commands done before this line)"
                ));
                complain(*line, &text);
                return Ok(1);
            }
            complain(*line, &text);
        }
    }
    let last = plans.last().map_or(0, |(line, _)| *line);
    if let Err(err) = flush(nl, &mut deferred, last).await {
        complain_flush(&err, &mut failed, true, total, total);
    }
    Ok(u8::from(failed))
}

/// Finishes the deferred run of lines `first..=last`, naming them on error.
async fn flush(nl: &mut Netlink, deferred: &mut Option<usize>, last: usize) -> anyhow::Result<()> {
    let first = deferred.take();
    nl.flush().await.with_context(|| match first {
        Some(first) if first < last => format!("lines {first}-{last}"),
        Some(first) => format!("line {first}"),
        None => "deletions".to_string(),
    })
}

fn complain_flush(err: &anyhow::Error, failed: &mut bool, force: bool, done: usize, total: usize) {
    *failed = true;
    let mut text = format!("rvethpair: batch {}", common::error::one_line(err));
    if !force {
        text.push_str(&format!(
            " (stopped: {done} of {total} commands done before)"
        ));
    }
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_mistakes() {
        assert!(parse_line("   # only a comment").is_none());
        assert!(parse_line("").is_none());
        assert!(matches!(
            parse_line("netns add RED # and a comment"),
            Some(Ok(Plan::NetnsAdd(names))) if names == ["RED"]
        ));
        let err = parse_line("frobnicate x").unwrap().unwrap_err();
        assert_eq!(err.to_string(), "unrecognized subcommand 'frobnicate'");
        assert!(parse_line("batch x").unwrap().is_err(), "no nesting");
        assert!(
            parse_line("add a b --addr 10.200.1.1/24 --peer-addr 10.200.1.1/24")
                .unwrap()
                .is_err()
        );
    }

    /// Generated lines from the batch vocabulary never panic the parser.
    #[test]
    fn any_line_parses_or_is_refused() {
        let words = [
            "add",
            "del",
            "list",
            "netns",
            "batch",
            "-J",
            "--netns",
            "--peer-netns",
            "--addr",
            "--peer-addr",
            "--mtu",
            "--master",
            "--peer-gateway",
            "--down",
            "--force",
            "RED",
            "v0",
            "10.200.1.1/24",
            "fd00:200::1/64",
            "1500",
            "#",
            "-",
            "--",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5_000 {
            let mut line = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for i in 0..(seed % 9) {
                line.push(words[((seed >> (i * 5)) as usize) % words.len()]);
            }
            let _ = parse_line(&line.join(" "));
        }
    }
}
