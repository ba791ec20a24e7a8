//! `batch`: many commands in one process, with one netlink session per
//! namespace. Every line is read and checked before the first one runs.

use std::ffi::OsString;
use std::io::{Read, Write};

use anyhow::{bail, Context};
use clap::{CommandFactory, Parser};

use crate::netlink::Netlink;
use crate::{BatchArgs, Cli, Plan};

fn complain(line: usize, text: &str) {
    let _ = writeln!(std::io::stderr(), "rvethpair: batch line {line}: {text}");
}

/// The commands of a batch file as `ip -batch` reads them: `#` ends a
/// line (even inside quotes), a line ending in `\` goes on on the next,
/// and words are split on blanks, a word that starts with `'` or `"` running
/// to the same quote (getcmdline() and makeargs() of iproute2). Each command
/// comes with the number of its first line; a blank one is left out.
fn commands(text: &str) -> Vec<(usize, anyhow::Result<Vec<String>>)> {
    let mut out = Vec::new();
    let mut lines = text.split_inclusive('\n').enumerate();
    while let Some((i, line)) = lines.next() {
        let mut code = uncomment(line);
        while let Some(head) = code.strip_suffix("\\\n") {
            let mut joined = head.to_string();
            match lines.next() {
                Some((_, next)) => {
                    joined.push_str(&uncomment(next));
                    code = joined;
                }
                None => {
                    out.push((i + 1, Err(anyhow::anyhow!("missing continuation line"))));
                    return out;
                }
            }
        }
        match words(&code) {
            Ok(words) if words.is_empty() => {}
            result => out.push((i + 1, result)),
        }
    }
    out
}

/// A line without its comment (which takes the newline with it, so a `\`
/// before a comment continues nothing, as in ip).
fn uncomment(line: &str) -> String {
    line.split('#').next().unwrap_or_default().to_string()
}

fn words(code: &str) -> anyhow::Result<Vec<String>> {
    let blank = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut rest = code;
    loop {
        rest = rest.trim_start_matches(blank);
        let Some(first) = rest.chars().next() else {
            return Ok(words);
        };
        if first == '\'' || first == '"' {
            let Some((word, after)) = rest[1..].split_once(first) else {
                bail!("unterminated quoted string");
            };
            words.push(word.to_string());
            rest = after;
        } else {
            let end = rest.find(blank).unwrap_or(rest.len());
            words.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
}

/// One command's words as a plan (`json`: the batch was given `-j`).
fn plan(words: &[String], json: bool) -> anyhow::Result<Plan> {
    let args: Vec<OsString> = std::iter::once("rvethpair")
        .chain(words.iter().map(String::as_str))
        .map(OsString::from)
        .collect();
    let cli = Cli::try_parse_from(&args).map_err(|err| {
        anyhow::anyhow!(common::cli::getopt_message(&err, &Cli::command(), &args))
    })?;
    Plan::of(&cli, json)
}

pub async fn run(nl: &mut Netlink, args: &BatchArgs, json: bool) -> anyhow::Result<u8> {
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
    for (line, words) in commands(&text) {
        match words.and_then(|words| plan(&words, json)) {
            Ok(plan) => plans.push((line, plan)),
            Err(err) => {
                complain(line, &common::error::one_line(&err));
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

    /// The plan of a one-command text; None when it holds no command.
    fn parse_line(line: &str) -> Option<anyhow::Result<Plan>> {
        let mut found = commands(line);
        assert!(found.len() <= 1, "{line:?}");
        found
            .pop()
            .map(|(_, words)| words.and_then(|w| plan(&w, false)))
    }

    /// Quotes, continuations and comments as ip -batch reads them.
    #[test]
    fn words_as_ip_batch_splits_them() {
        let found: Vec<(usize, Vec<String>)> = commands(
            "netns add 'a b' c#d\n\
             \n\
             add v0 \\\n\
             \tv1 --mtu 1400 # \\\n\
             netns del x\\\n\
             # continued by a comment line\n\
             netns add 'y'z \"\"\r\n",
        )
        .into_iter()
        .map(|(line, words)| (line, words.unwrap()))
        .collect();
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            found,
            [
                (1, words(&["netns", "add", "a b", "c"])),
                (3, words(&["add", "v0", "v1", "--mtu", "1400"])),
                (5, words(&["netns", "del", "x"])),
                (7, words(&["netns", "add", "y", "z", ""])),
            ]
        );
        let err = |text: &str| {
            let mut found = commands(text);
            common::error::one_line(&found.pop().unwrap().1.unwrap_err())
        };
        assert_eq!(err("netns add 'RED\n"), "unterminated quoted string");
        assert_eq!(err("netns add \"R#ED\"\n"), "unterminated quoted string");
        assert_eq!(err("netns add RED \\\n"), "missing continuation line");
    }

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
        let err = parse_line("add a b --peer x").unwrap().unwrap_err();
        assert_eq!(
            err.to_string(),
            "option '--peer' is ambiguous; possibilities: '--peer-netns' '--peer-addr' '--peer-gateway'"
        );
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

/// Property tests (docs/SECURITY.md, "Parsers"): a batch file of any shape is
/// split into commands or refused line by line with a message, never a
/// panic; words written out plainly or quoted read back.
#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_splits_into_numbered_commands(text in "\\PC{0,120}|[a-z0-9 \\\\#'\"\n\t]{0,120}") {
            let lines = text.split_inclusive('\n').count();
            let mut last = 0;
            for (line, words) in commands(&text) {
                prop_assert!(line > last && line <= lines, "line {line} of {lines}");
                last = line;
                match words {
                    Ok(words) => {
                        prop_assert!(!words.is_empty());
                        // Every command is planned or refused, with one line.
                        if let Err(e) = plan(&words, false) {
                            prop_assert!(!common::error::one_line(&e).contains('\n'));
                        }
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        prop_assert!(msg == "unterminated quoted string" || msg == "missing continuation line", "{}", msg);
                    }
                }
            }
        }

        #[test]
        fn words_read_back(words in proptest::collection::vec("[a-z0-9./-]{1,8}|'[a-z #\"]{0,6}'|\"[a-z ']{0,6}\"", 1..6)) {
            let text = format!("{}\n", words.join(" "));
            let want: Vec<String> = words
                .iter()
                .map(|w| match w.chars().next() {
                    Some('\'' | '"') => w[1..w.len() - 1].to_string(),
                    _ => w.to_string(),
                })
                .collect();
            // A quoted `#` still ends the line, as in ip.
            let cut = text.find('#');
            let got = commands(&text);
            if cut.is_none() {
                prop_assert_eq!(got.len(), 1);
                prop_assert_eq!(got[0].1.as_ref().unwrap(), &want);
            }
        }
    }
}
