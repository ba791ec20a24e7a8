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
    for (done, (line, plan)) in plans.iter().enumerate() {
        if let Err(err) = nl.execute(plan).await {
            failed = true;
            let mut text = common::error::one_line(&err);
            if !args.force {
                text.push_str(&format!(
                    " (stopped: {done} of {total} commands done before this line)"
                ));
                complain(*line, &text);
                return Ok(1);
            }
            complain(*line, &text);
        }
    }
    Ok(u8::from(failed))
}
