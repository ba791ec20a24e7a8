//! unshare's command line as glibc getopt_long reads it (option string
//! `+fhVmuinpCTUrR:w:S:G:c`, the long table below), turned into one clap
//! reads the same way: every option long and whole (`-R dir` → `--root=dir`,
//! `--ro dir` → `--root=dir`), each given once with the value that counts
//! (getopt's last one wins, where clap would refuse a repeated option), the
//! program after `--`. Usage errors are glibc's words.
//!
//! unshare's short namespace options take no argument (`-m=x` is `-m`, `-=`:
//! an invalid option), unlike nsenter's; only the long ones take `=FILE`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// What an option takes, as in `struct option`'s `has_arg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Has {
    No,
    Required,
    Optional,
}

/// unshare's long options in its table's order (glibc lists the
/// possibilities of an ambiguous abbreviation in this order), each with its
/// short letter, if any. `forward-signals` is util-linux 2.42's.
const LONG: [(&str, Has, Option<u8>); 30] = [
    ("help", Has::No, Some(b'h')),
    ("version", Has::No, Some(b'V')),
    ("mount", Has::Optional, Some(b'm')),
    ("uts", Has::Optional, Some(b'u')),
    ("ipc", Has::Optional, Some(b'i')),
    ("net", Has::Optional, Some(b'n')),
    ("pid", Has::Optional, Some(b'p')),
    ("user", Has::Optional, Some(b'U')),
    ("cgroup", Has::Optional, Some(b'C')),
    ("time", Has::Optional, Some(b'T')),
    ("fork", Has::No, Some(b'f')),
    ("kill-child", Has::Optional, None),
    ("mount-proc", Has::Optional, None),
    ("map-user", Has::Required, None),
    ("map-users", Has::Required, None),
    ("map-group", Has::Required, None),
    ("map-groups", Has::Required, None),
    ("map-root-user", Has::No, Some(b'r')),
    ("map-current-user", Has::No, Some(b'c')),
    ("map-auto", Has::No, None),
    ("propagation", Has::Required, None),
    ("setgroups", Has::Required, None),
    ("keep-caps", Has::No, None),
    ("setuid", Has::Required, Some(b'S')),
    ("setgid", Has::Required, Some(b'G')),
    ("root", Has::Required, Some(b'R')),
    ("wd", Has::Required, Some(b'w')),
    ("monotonic", Has::Required, None),
    ("boottime", Has::Required, None),
    ("forward-signals", Has::No, None),
];

/// Options beyond util-linux 2.38: an abbreviation 2.38 reads as one of
/// its own options stays that option.
const NEWER: [&str; 1] = ["forward-signals"];

/// The namespace options: a later one without FILE keeps an earlier FILE
/// (unshare only sets the flag then).
const NAMESPACES: [&str; 8] = [
    "mount", "uts", "ipc", "net", "pid", "user", "cgroup", "time",
];

/// Repeatable: each one adds ranges (util-linux 2.40).
const APPEND: [&str; 2] = ["map-users", "map-groups"];

/// Each sets the inside uid, gid or both, the last one winning for each.
const OWN_MAPS: [&str; 4] = ["map-root-user", "map-current-user", "map-user", "map-group"];

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// Run: the arguments (argv[0] first) in the canonical form.
    Run(Vec<OsString>),
    /// `-h` or `-V` was reached: print that and do nothing else.
    Help,
    Version,
}

/// Why the command line was refused.
#[derive(Debug)]
pub enum Refusal {
    /// getopt's complaint (the line after `TOOL: `; a usage error).
    Usage(String),
    /// A value unshare's getopt loop refuses as it reads it.
    Value(anyhow::Error),
}

impl From<String> for Refusal {
    fn from(usage: String) -> Refusal {
        Refusal::Usage(usage)
    }
}

/// `args` (argv[0] first) as unshare's getopt reads them, or why not.
pub fn canonical(args: impl IntoIterator<Item = OsString>) -> Result<Line, Refusal> {
    let mut args = args.into_iter();
    let argv0 = args.next().unwrap_or_else(|| "runshare".into());
    let mut given: Vec<(&'static str, Option<OsString>)> = Vec::new();
    let mut program = Vec::new();
    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
        if bytes == b"--" {
            program.extend(args);
            break;
        }
        if bytes == b"-" || !bytes.starts_with(b"-") {
            // `+`: options end at the program.
            program.push(arg);
            program.extend(args);
            break;
        }
        let mut found = Vec::new();
        if let Some(long) = bytes.strip_prefix(b"--") {
            found.push(long_option(long, &mut args)?);
        } else {
            short_options(&bytes[1..], &mut args, &mut found)?;
        }
        for (name, value) in found {
            // getopt hands these over at once: unshare prints and exits.
            match name {
                "help" => return Ok(Line::Help),
                "version" => return Ok(Line::Version),
                _ => {}
            }
            if let Some(value) = &value {
                // Not UTF-8: no number, name or word of unshare's either.
                crate::check_value(name, &value.to_string_lossy()).map_err(Refusal::Value)?;
            }
            record(&mut given, name, value);
        }
    }
    let mut out = vec![argv0];
    for (name, value) in given {
        let mut word = OsString::from(format!("--{name}"));
        if let Some(value) = value {
            word.push("=");
            word.push(value);
        }
        out.push(word);
    }
    out.push("--".into());
    out.extend(program);
    Ok(Line::Run(out))
}

/// `--NAME`, `--NAME=VALUE` or `--NAME VALUE`, NAME exact or an
/// unambiguous abbreviation.
fn long_option(
    text: &[u8],
    rest: &mut impl Iterator<Item = OsString>,
) -> Result<(&'static str, Option<OsString>), String> {
    let (name, attached) = match text.iter().position(|&b| b == b'=') {
        Some(i) => (
            &text[..i],
            Some(OsStr::from_bytes(&text[i + 1..]).to_os_string()),
        ),
        None => (text, None),
    };
    // glibc names the word as given, `=VALUE` and all, when it finds no
    // one option for it.
    let shown = String::from_utf8_lossy(text);
    let mut candidates: Vec<_> = LONG
        .iter()
        .filter(|(long, _, _)| long.as_bytes().starts_with(name))
        .collect();
    if candidates.iter().any(|(long, _, _)| !NEWER.contains(long)) {
        // `--fo` is --fork to unshare 2.38, as a script written for it means.
        candidates.retain(|(long, _, _)| !NEWER.contains(long));
    }
    let option = match LONG.iter().find(|(long, _, _)| long.as_bytes() == name) {
        Some(exact) => exact,
        None => match candidates.as_slice() {
            [] => return Err(format!("unrecognized option '--{shown}'")),
            [one] => one,
            many => {
                let list: Vec<String> = many.iter().map(|(l, _, _)| format!("'--{l}'")).collect();
                return Err(format!(
                    "option '--{shown}' is ambiguous; possibilities: {}",
                    list.join(" ")
                ));
            }
        },
    };
    let (long, has, _) = *option;
    match (has, attached) {
        (Has::No, Some(_)) => Err(format!("option '--{long}' doesn't allow an argument")),
        (Has::Required, None) => match rest.next() {
            Some(value) => Ok((long, Some(value))),
            None => Err(format!("option '--{long}' requires an argument")),
        },
        (_, value) => Ok((long, value)),
    }
}

/// A cluster `-abc`, `-Rdir` or `-R dir`.
fn short_options(
    cluster: &[u8],
    rest: &mut impl Iterator<Item = OsString>,
    found: &mut Vec<(&'static str, Option<OsString>)>,
) -> Result<(), String> {
    for (i, &c) in cluster.iter().enumerate() {
        let Some((long, has, _)) = LONG.iter().find(|(_, _, short)| *short == Some(c)) else {
            let shown = String::from_utf8_lossy(&cluster[i..]);
            let first = shown.chars().next().unwrap_or('?');
            return Err(format!("invalid option -- '{first}'"));
        };
        if *has == Has::Required {
            let attached = &cluster[i + 1..];
            let value = if attached.is_empty() {
                rest.next()
                    .ok_or_else(|| format!("option requires an argument -- '{}'", char::from(c)))?
            } else {
                OsString::from_vec(attached.to_vec())
            };
            found.push((long, Some(value)));
            return Ok(());
        }
        // unshare's short options never take an optional argument.
        found.push((long, None));
    }
    Ok(())
}

/// Adds one option to those given, as unshare's getopt loop would let it
/// count: the last value wins, except as the consts above say.
fn record(
    given: &mut Vec<(&'static str, Option<OsString>)>,
    name: &'static str,
    value: Option<OsString>,
) {
    if APPEND.contains(&name) {
        given.push((name, value));
        return;
    }
    if NAMESPACES.contains(&name) && value.is_none() && given.iter().any(|(n, _)| *n == name) {
        return;
    }
    // -r and -c set both IDs: an earlier --map-user/--map-group no longer
    // counts; a later one overrides one of them (Plan applies -r, -c, then
    // --map-user and --map-group).
    let overrides: &[&str] = match name {
        "map-root-user" | "map-current-user" => &OWN_MAPS,
        _ => &[name],
    };
    given.retain(|(n, _)| !overrides.contains(n));
    given.push((name, value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn words(line: &str) -> Result<Vec<String>, String> {
        match canonical(line.split(' ').map(OsString::from)) {
            Ok(Line::Run(v)) => Ok(v.into_iter().map(|w| w.into_string().unwrap()).collect()),
            Ok(other) => Ok(vec![format!("{other:?}")]),
            Err(Refusal::Usage(usage)) => Err(usage),
            Err(Refusal::Value(err)) => Err(format!("value: {err}")),
        }
    }

    #[test]
    fn table_matches_the_clap_definition() {
        let mut cmd = crate::Cli::command();
        cmd.build();
        for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
            let long = arg.get_long().unwrap();
            let (_, has, short) = LONG.iter().find(|(l, _, _)| *l == long).unwrap();
            assert_eq!(arg.get_short().map(|c| c as u8), *short, "{long}");
            let min = arg.get_num_args().map_or(1, |n| n.min_values());
            let want = match (arg.get_action().takes_values(), min) {
                (false, _) => Has::No,
                (true, 0) => Has::Optional,
                (true, _) => Has::Required,
            };
            assert_eq!(want, *has, "{long}");
        }
    }

    #[test]
    fn short_options_are_spelt_long_and_take_no_optional_value() {
        assert_eq!(
            words("x -muR/r -w d -S0 ls -l").unwrap(),
            [
                "x",
                "--mount",
                "--uts",
                "--root=/r",
                "--wd=d",
                "--setuid=0",
                "--",
                "ls",
                "-l"
            ]
        );
        assert_eq!(words("x -m=y true").unwrap_err(), "invalid option -- '='");
        assert_eq!(words("x -m/t true").unwrap_err(), "invalid option -- '/'");
        assert_eq!(
            words("x -fR").unwrap_err(),
            "option requires an argument -- 'R'"
        );
    }

    #[test]
    fn long_options_abbreviate_as_getopt_does() {
        assert_eq!(
            words("x --ro / --mount-p --mount=/f --kill=TERM --").unwrap(),
            [
                "x",
                "--root=/",
                "--mount-proc",
                "--mount=/f",
                "--kill-child=TERM",
                "--"
            ]
        );
        assert_eq!(
            words("x --k").unwrap_err(),
            "option '--k' is ambiguous; possibilities: '--kill-child' '--keep-caps'"
        );
        assert_eq!(
            words("x --nope").unwrap_err(),
            "unrecognized option '--nope'"
        );
        assert_eq!(
            words("x --fo --forw true").unwrap(),
            ["x", "--fork", "--forward-signals", "--", "true"]
        );
        assert_eq!(
            words("x --fork=1").unwrap_err(),
            "option '--fork' doesn't allow an argument"
        );
        assert_eq!(
            words("x --wd").unwrap_err(),
            "option '--wd' requires an argument"
        );
    }

    #[test]
    fn the_last_one_counts() {
        assert_eq!(
            words("x -R a -f --root=b -f --mount=/p -m -p=").unwrap_err(),
            "invalid option -- '='"
        );
        assert_eq!(
            words("x -R a -f --root=b -f --mount=/p -m true").unwrap(),
            ["x", "--root=b", "--fork", "--mount=/p", "--", "true"]
        );
        assert_eq!(
            words("x --map-user=5 -r --map-group=7 --map-users=0:1:1 --map-users=all").unwrap(),
            [
                "x",
                "--map-root-user",
                "--map-group=7",
                "--map-users=0:1:1",
                "--map-users=all",
                "--"
            ]
        );
    }

    #[test]
    fn values_are_checked_in_order_as_read() {
        assert_eq!(
            words("x -S a --propagation=b").unwrap_err(),
            "value: failed to parse uid: 'a'"
        );
        assert_eq!(
            words("x --propagation=b -S a").unwrap_err(),
            "value: unsupported propagation mode: b"
        );
        assert_eq!(
            words("x --kill-child=nope -h").unwrap_err(),
            "value: unknown signal: nope"
        );
        assert_eq!(words("x -h --kill-child=nope").unwrap(), ["Help"]);
    }

    #[test]
    fn help_wins_only_when_reached() {
        assert_eq!(words("x -fh --nope").unwrap(), ["Help"]);
        assert_eq!(words("x --vers -h").unwrap(), ["Version"]);
        assert_eq!(
            words("x --nope -h").unwrap_err(),
            "unrecognized option '--nope'"
        );
        assert_eq!(words("x true -h").unwrap(), ["x", "--", "true", "-h"]);
    }
}
