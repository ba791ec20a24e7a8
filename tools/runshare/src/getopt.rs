//! unshare's command line as glibc getopt_long reads it (option string
//! `+fhVmuinpCTUrR:w:S:G:cl:`, the long table below; `common::getopt` reads
//! it): each option by its long name, given once with the value that
//! counts (unshare's rules below), and the program. `Cli` is filled from
//! that directly, or by clap from its canonical form (`Parsed::argv`:
//! `-R dir` → `--root=dir`, `--ro dir` → `--root=dir`, the program after
//! `--`). Usage errors are glibc's words.
//!
//! unshare's short namespace options take no argument (`-m=x` is `-m`, `-=`:
//! an invalid option), unlike nsenter's; only the long ones take `=FILE`.

use std::ffi::OsString;

use common::getopt::{Has, Parsed, Stop, Table};

/// unshare's options, the long ones in its table's order (glibc lists the
/// possibilities of an ambiguous abbreviation in this order), each with its
/// short letter, if any. The `newer` ones are util-linux 2.39's and later.
pub const GETOPT: Table = Table {
    short: "+fhVmuinpCTUrR:w:S:G:cl:",
    long: &[
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
        ("mount-binfmt", Has::Optional, None),
        ("map-user", Has::Required, None),
        ("map-users", Has::Required, None),
        ("map-group", Has::Required, None),
        ("map-groups", Has::Required, None),
        ("map-root-user", Has::No, Some(b'r')),
        ("map-current-user", Has::No, Some(b'c')),
        ("map-auto", Has::No, None),
        ("map-subids", Has::No, None),
        ("owner", Has::Required, None),
        ("propagation", Has::Required, None),
        ("setgroups", Has::Required, None),
        ("keep-caps", Has::No, None),
        ("clear-env", Has::No, None),
        ("whitelist-env", Has::Required, None),
        ("setuid", Has::Required, Some(b'S')),
        ("setgid", Has::Required, Some(b'G')),
        ("root", Has::Required, Some(b'R')),
        ("wd", Has::Required, Some(b'w')),
        ("monotonic", Has::Required, None),
        ("boottime", Has::Required, None),
        ("load-interp", Has::Required, Some(b'l')),
        ("forward-signals", Has::No, None),
    ],
    newer: &[
        "forward-signals",
        "mount-binfmt",
        "map-subids",
        "owner",
        "load-interp",
        "clear-env",
        "whitelist-env",
    ],
};

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
    /// Run: the options that count, in order, and the program (for
    /// [`crate::Cli`]: directly, or by clap from [`Parsed::argv`]).
    Run(Parsed),
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

/// `args` (argv[0] first) as unshare's getopt reads them, or why not. The
/// values read before getopt stopped are checked in order first, as
/// unshare's loop checks each when getopt returns it.
pub fn canonical(args: impl IntoIterator<Item = OsString>) -> Result<Line, Refusal> {
    let mut parsed = GETOPT.parse(args);
    for (name, value) in &parsed.options {
        if let Some(value) = value {
            // Not UTF-8: no number, name or word of unshare's either.
            crate::checks::check_value(name, &value.to_string_lossy()).map_err(Refusal::Value)?;
        }
    }
    match parsed.stop.take() {
        Some(Stop::Help { .. }) => return Ok(Line::Help),
        Some(Stop::Version) => return Ok(Line::Version),
        Some(Stop::Usage(usage)) => return Err(Refusal::Usage(usage)),
        None => {}
    }
    let mut given = Vec::new();
    for (name, value) in std::mem::take(&mut parsed.options) {
        record(&mut given, name, value);
    }
    parsed.options = given;
    Ok(Line::Run(parsed))
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
            Ok(Line::Run(parsed)) => Ok(parsed
                .argv()
                .unwrap()
                .into_iter()
                .map(|w| w.into_string().unwrap())
                .collect()),
            Ok(other) => Ok(vec![format!("{other:?}")]),
            Err(Refusal::Usage(usage)) => Err(usage),
            Err(Refusal::Value(err)) => Err(format!("value: {err}")),
        }
    }

    #[test]
    fn table_matches_the_clap_definition() {
        assert_eq!(
            GETOPT.differences(crate::Cli::command()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn direct_reading_is_clap_reading() {
        use common::getopt::Direct;
        let read = |words| match canonical(words) {
            Ok(Line::Run(parsed)) => Some(parsed),
            _ => None,
        };
        let operands: &[&[&str]] = &[&[], &["true"], &["sh", "-c", "x"]];
        let (differences, answered) =
            common::getopt::direct_differences::<crate::Cli>(&GETOPT, read, operands);
        assert_eq!(differences, Vec::<String>::new());
        assert!(answered > 1000, "{answered}");
        for line in ["x -fp --mount-proc true", "x -muinpf true"] {
            let Ok(Line::Run(parsed)) = canonical(line.split(' ').map(OsString::from)) else {
                panic!("{line}: not read");
            };
            assert!(crate::Cli::direct(&parsed).is_some(), "{line}");
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
        // Newer options leave 2.38's abbreviations as they were.
        assert_eq!(
            words("x --w /t --mount- --wh=A --c --o 1:2 --l d true").unwrap(),
            [
                "x",
                "--wd=/t",
                "--mount-proc",
                "--whitelist-env=A",
                "--cgroup",
                "--owner=1:2",
                "--load-interp=d",
                "--",
                "true"
            ]
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
        assert_eq!(words("x -hx").unwrap(), ["Help"]);
        assert_eq!(words("x --vers -h").unwrap(), ["Version"]);
        assert_eq!(
            words("x --nope -h").unwrap_err(),
            "unrecognized option '--nope'"
        );
        assert_eq!(words("x true -h").unwrap(), ["x", "--", "true", "-h"]);
    }
}
