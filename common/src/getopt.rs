//! A command line read as glibc's getopt_long reads it, then handed to clap
//! in a form clap reads the same way: every option long and whole
//! (`-Tparent` → `--tree=parent`, `-o -x` → `--output=-x`, `--ro dir` →
//! `--root=dir`), in the order given, then `--` and the operands. So clap
//! never guesses: it neither takes a detached word as an optional argument
//! nor a value starting with `-` as an option, nor reads the words of a
//! program as options. Usage errors are glibc's, word for word (scripts
//! match them): `unrecognized option '--foo'`, `invalid option -- 'x'`,
//! `option '--s' is ambiguous; possibilities: ...`, `option '--wd' requires
//! an argument`, `option requires an argument -- 'R'`, `option '--fork'
//! doesn't allow an argument`.
//!
//! A tool declares its [`Table`] once, as its C anchor declares its option
//! string and `struct option` array, and checks it against its clap
//! definition with [`Table::differences`] in a unit test. A repeated option
//! is given to clap as often as it was given: `args_override_self` makes
//! the last one win, as in the C tools; a tool with other rules for repeats
//! edits [`Parsed::options`] first.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// glibc getopt_long's usage messages, word for word (scripts match them);
/// clap's errors are reworded into them by `common::cli`. `option` is the
/// option as the message shows it, dashes and all (`--wd`, `--no=pe`).
pub mod says {
    pub fn unrecognized(option: &str) -> String {
        format!("unrecognized option '{option}'")
    }

    pub fn invalid(letter: char) -> String {
        format!("invalid option -- '{letter}'")
    }

    /// `names`: the long options it abbreviates, without dashes.
    pub fn ambiguous<'a>(option: &str, names: impl IntoIterator<Item = &'a str>) -> String {
        let list: Vec<String> = names.into_iter().map(|l| format!("'--{l}'")).collect();
        format!(
            "option '{option}' is ambiguous; possibilities: {}",
            list.join(" ")
        )
    }

    pub fn requires_argument(option: &str) -> String {
        format!("option '{option}' requires an argument")
    }

    pub fn letter_requires_argument(letter: char) -> String {
        format!("option requires an argument -- '{letter}'")
    }

    pub fn no_argument(option: &str) -> String {
        format!("option '{option}' doesn't allow an argument")
    }
}

/// What an option takes, as `struct option`'s `has_arg` (and `:`, `::` in
/// the option string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Has {
    No,
    /// Attached (`-Rdir`, `--root=dir`) or the next word, whatever it is.
    Required,
    /// Attached only (`-Tparent`, `--tree=parent`); a next word is an operand.
    Optional,
}

/// A tool's getopt_long options.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// The option string: a leading `+` when options end at the first
    /// operand (the rest is a program and its arguments, or NEWROOT's
    /// command), else they may follow operands (getopt permutes); each
    /// letter followed by `:` (argument required) or `::` (optional).
    pub short: &'static str,
    /// The `struct option` array in the anchor's order (glibc lists the
    /// possibilities of an ambiguous abbreviation in that order): the name,
    /// what it takes, and the short letter that is the same option.
    pub long: &'static [(&'static str, Has, Option<u8>)],
    /// Long options the anchor (util-linux 2.38 here) lacks: an
    /// abbreviation that the anchor reads as one of its own options stays
    /// that option, as a script written for it means (`--fo`: --fork, not
    /// also --forward-signals).
    pub newer: &'static [&'static str],
}

/// Why getopt stopped before the end of the command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// `-h`/`--help` was reached: the C tools print their help and exit.
    /// `short`: as `-h`, which is clap's short help (`--help` its long one).
    Help { short: bool },
    /// `-V`/`--version` was reached.
    Version,
    /// A usage error, in getopt's words (the line after `TOOL: `).
    Usage(String),
}

/// A command line as getopt read it.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    pub argv0: OsString,
    /// Each option read, by long name, with its argument, in order; only
    /// those before [`Parsed::stop`].
    pub options: Vec<(&'static str, Option<OsString>)>,
    /// The operands, in order (after `--`, after the first one with `+`,
    /// or between options).
    pub operands: Vec<OsString>,
    pub stop: Option<Stop>,
}

impl Parsed {
    /// The command line for clap (`argv[0]` first): `-h`, `--help` or
    /// `--version` alone when getopt stopped there, else each option as `--NAME` or
    /// `--NAME=VALUE`, `--`, the operands. `Err`: the usage error.
    pub fn argv(self) -> Result<Vec<OsString>, String> {
        let mut out = vec![self.argv0];
        match self.stop {
            Some(Stop::Usage(usage)) => return Err(usage),
            Some(Stop::Help { short }) => out.push(if short { "-h" } else { "--help" }.into()),
            Some(Stop::Version) => out.push("--version".into()),
            None => {
                out.extend(self.options.into_iter().map(|(name, value)| {
                    let mut word = OsString::from(format!("--{name}"));
                    if let Some(value) = value {
                        word.push("=");
                        word.push(value);
                    }
                    word
                }));
                out.push("--".into());
                out.extend(self.operands);
            }
        }
        Ok(out)
    }
}

/// A tool's clap struct filled straight from getopt's reading, without
/// clap. Building clap's command, matching and filling cost rchroot 70,000
/// instructions and a dozen page faults at start-up, more than chroot's
/// whole start; the lines a tool is run with most are read this way. clap
/// stays the one definition of the options (help, man pages, completions)
/// and reads every line `direct` leaves to it.
pub trait Direct: Sized {
    /// What clap would fill from `parsed` (read to the end: no help,
    /// version or usage error), or `None` to leave the line to clap: an
    /// option under a rule clap checks (conflicts, requirements), a value
    /// clap converts or refuses. A tool's unit test checks it against clap
    /// with [`direct_differences`].
    fn direct(parsed: &Parsed) -> Option<Self>;
}

/// A value as clap reads it into a `String`; `None` when it is not UTF-8,
/// which clap refuses.
pub fn text(value: &OsStr) -> Option<String> {
    value.to_str().map(str::to_string)
}

/// For a tool's unit test of its [`Direct`]: the command lines where
/// `direct` answers other than clap, and how many lines it answered. The
/// lines are each option of `table` alone and after each other one (help
/// and version aside), with sample values where it takes one (a number, a
/// word, a path, a negative number, nothing, bytes that are not UTF-8),
/// before each list of `operands`. `read` reads a line as the tool's `main`
/// does (getopt, and the tool's rules for repeated options), `None` when it
/// refuses it.
pub fn direct_differences<T>(
    table: &Table,
    read: impl Fn(Vec<OsString>) -> Option<Parsed>,
    operands: &[&[&str]],
) -> (Vec<String>, usize)
where
    T: clap::Parser + Direct + PartialEq + std::fmt::Debug,
{
    let samples: [OsString; 6] = [
        "1".into(),
        "a".into(),
        "/x".into(),
        "-2".into(),
        "".into(),
        OsString::from_vec(b"\xff".to_vec()),
    ];
    let forms = |values: &[OsString]| -> Vec<OsString> {
        let mut words = Vec::new();
        let options = table.long.iter();
        for &(name, has, _) in options.filter(|(n, _, _)| !matches!(*n, "help" | "version")) {
            if has != Has::Required {
                words.push(OsString::from(format!("--{name}")));
            }
            if has != Has::No {
                for value in values {
                    let mut word = OsString::from(format!("--{name}="));
                    word.push(value);
                    words.push(word);
                }
            }
        }
        words
    };
    let mut lines: Vec<Vec<OsString>> = forms(&samples).into_iter().map(|w| vec![w]).collect();
    let firsts = forms(&samples[..1]);
    for a in &firsts {
        lines.extend(firsts.iter().map(|b| vec![a.clone(), b.clone()]));
    }
    let (mut differences, mut answered) = (Vec::new(), 0);
    for line in lines {
        for &operands in operands {
            let mut words = vec![OsString::from("tool")];
            words.extend(line.iter().cloned());
            words.extend(operands.iter().map(OsString::from));
            let Some(parsed) = read(words.clone()) else {
                continue;
            };
            if parsed.stop.is_some() {
                continue;
            }
            let Some(direct) = T::direct(&parsed) else {
                continue;
            };
            answered += 1;
            let clap = parsed
                .argv()
                .map(|argv| T::try_parse_from(argv).map_err(|e| e.kind()));
            if !matches!(&clap, Ok(Ok(c)) if *c == direct) {
                differences.push(format!("{words:?}: direct {direct:?}, clap {clap:?}"));
            }
        }
    }
    (differences, answered)
}

impl Table {
    /// `args` (`argv[0]` first) as getopt_long reads them with this table.
    /// Reading stops at the first usage error, help or version, as the C
    /// tools act on each option when getopt returns it.
    pub fn parse(&self, args: impl IntoIterator<Item = OsString>) -> Parsed {
        let mut args = args.into_iter();
        let mut parsed = Parsed {
            argv0: args.next().unwrap_or_default(),
            options: Vec::new(),
            operands: Vec::new(),
            stop: None,
        };
        let permute = !self.short.starts_with('+');
        while let Some(arg) = args.next() {
            let bytes = arg.as_bytes();
            if bytes == b"--" {
                parsed.operands.extend(args);
                break;
            }
            if bytes == b"-" || !bytes.starts_with(b"-") {
                parsed.operands.push(arg);
                if permute {
                    continue;
                }
                parsed.operands.extend(args);
                break;
            }
            let long = bytes.strip_prefix(b"--");
            let read = match long {
                Some(long) => self.long_option(long, &mut args).map(|o| vec![o]),
                None => self.short_options(&bytes[1..], &mut args),
            };
            let found = match read {
                Ok(found) => found,
                Err(usage) => {
                    parsed.stop = Some(Stop::Usage(usage));
                    break;
                }
            };
            for (name, value) in found {
                match name {
                    "help" => {
                        let short = long.is_none();
                        parsed.stop = Some(Stop::Help { short });
                    }
                    "version" => parsed.stop = Some(Stop::Version),
                    _ => parsed.options.push((name, value)),
                }
                if parsed.stop.is_some() {
                    return parsed;
                }
            }
        }
        parsed
    }

    /// The command line for clap ([`Parsed::argv`] of [`Table::parse`]).
    pub fn argv(&self, args: impl IntoIterator<Item = OsString>) -> Result<Vec<OsString>, String> {
        self.parse(args).argv()
    }

    /// `--NAME`, `--NAME=VALUE` or `--NAME VALUE`, NAME exact or an
    /// unambiguous abbreviation.
    fn long_option(
        &self,
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
        let mut candidates: Vec<_> = self
            .long
            .iter()
            .filter(|(long, _, _)| long.as_bytes().starts_with(name))
            .collect();
        if candidates
            .iter()
            .any(|(long, _, _)| !self.newer.contains(long))
        {
            candidates.retain(|(long, _, _)| !self.newer.contains(long));
        }
        let exact = self
            .long
            .iter()
            .find(|(long, _, _)| long.as_bytes() == name);
        let &(long, has, _) = match (exact, candidates.as_slice()) {
            (Some(exact), _) => exact,
            (None, []) => return Err(says::unrecognized(&format!("--{shown}"))),
            (None, [one]) => one,
            (None, many) => {
                let names = many.iter().map(|(l, _, _)| *l);
                return Err(says::ambiguous(&format!("--{shown}"), names));
            }
        };
        match (has, attached) {
            (Has::No, Some(_)) => Err(says::no_argument(&format!("--{long}"))),
            (Has::Required, None) => match rest.next() {
                Some(value) => Ok((long, Some(value))),
                None => Err(says::requires_argument(&format!("--{long}"))),
            },
            (_, value) => Ok((long, value)),
        }
    }

    /// A cluster `-abc`, `-Rdir`, `-R dir` or `-Tparent` (without its `-`).
    fn short_options(
        &self,
        cluster: &[u8],
        rest: &mut impl Iterator<Item = OsString>,
    ) -> Result<Vec<(&'static str, Option<OsString>)>, String> {
        let mut found = Vec::new();
        for (i, &c) in cluster.iter().enumerate() {
            let (Some(has), Some(&(long, _, _))) = (
                self.short_has(c),
                self.long.iter().find(|(_, _, short)| *short == Some(c)),
            ) else {
                let shown = String::from_utf8_lossy(&cluster[i..]);
                let first = shown.chars().next().unwrap_or('?');
                return Err(says::invalid(first));
            };
            let attached = &cluster[i + 1..];
            let value = match has {
                // getopt returns each letter before it looks at the next:
                // `-hx` is help, not an invalid option.
                Has::No if matches!(long, "help" | "version") => {
                    found.push((long, None));
                    break;
                }
                Has::No => {
                    found.push((long, None));
                    continue;
                }
                Has::Optional if attached.is_empty() => None,
                Has::Required if attached.is_empty() => Some(
                    rest.next()
                        .ok_or_else(|| says::letter_requires_argument(char::from(c)))?,
                ),
                _ => Some(OsString::from_vec(attached.to_vec())),
            };
            found.push((long, value));
            break;
        }
        Ok(found)
    }

    /// What the short option `c` takes, if the option string has it.
    fn short_has(&self, c: u8) -> Option<Has> {
        let string = self.short.trim_start_matches('+').as_bytes();
        let i = string.iter().position(|&s| s == c && s != b':')?;
        Some(match &string[i + 1..] {
            [b':', b':', ..] => Has::Optional,
            [b':', ..] => Has::Required,
            _ => Has::No,
        })
    }

    /// How this table differs from clap's definition of the same options
    /// (empty when they agree): a tool's unit test that its table is
    /// complete. Each clap option must be a long option of the table with
    /// the same `has_arg` and short letter, and each short letter must be in
    /// the option string; a short option may take less than its long one
    /// (unshare's `-m` takes no FILE, `--mount=FILE` does).
    pub fn differences(&self, command: clap::Command) -> Vec<String> {
        let mut command = crate::help::with_help_flag(command);
        command.build();
        let mut clap = BTreeMap::new();
        for arg in command.get_arguments().filter(|a| !a.is_positional()) {
            let (min, max) = arg
                .get_num_args()
                .map_or((1, 1), |n| (n.min_values(), n.max_values()));
            // `num_args = 0` with a value parser: a flag that is numbered.
            let has = match (arg.get_action().takes_values(), min, max) {
                (false, _, _) | (_, _, 0) => Has::No,
                (true, 0, _) => Has::Optional,
                (true, _, _) => Has::Required,
            };
            let short = arg.get_short().and_then(|c| u8::try_from(c).ok());
            let name = arg.get_long().unwrap_or_else(|| arg.get_id().as_str());
            clap.insert(name.to_string(), (has, short));
        }
        let ours: BTreeMap<String, (Has, Option<u8>)> = self
            .long
            .iter()
            .map(|&(name, has, short)| (name.to_string(), (has, short)))
            .collect();
        let mut out = Vec::new();
        for name in clap
            .keys()
            .chain(ours.keys().filter(|n| !clap.contains_key(*n)))
        {
            let (theirs, mine) = (clap.get(name), ours.get(name));
            if theirs != mine {
                out.push(format!("--{name}: table {mine:?}, clap {theirs:?}"));
            }
        }
        for &(name, has, short) in self.long {
            let Some(c) = short else { continue };
            match self.short_has(c) {
                None => out.push(format!(
                    "-{}: --{name}'s letter is not in the option string",
                    char::from(c)
                )),
                Some(takes) if takes != has && (takes, has) != (Has::No, Has::Optional) => {
                    out.push(format!(
                        "-{}: takes {takes:?}, --{name} takes {has:?}",
                        char::from(c)
                    ));
                }
                _ => {}
            }
        }
        let letters = self.short.trim_start_matches('+').bytes();
        for c in letters.filter(|&c| c != b':') {
            if !self.long.iter().any(|(_, _, short)| *short == Some(c)) {
                out.push(format!("-{}: no long option", char::from(c)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Like nsenter's table: options end at the program.
    const PLUS: Table = Table {
        short: "+at:m::n::T::S:h",
        long: &[
            ("all", Has::No, Some(b'a')),
            ("help", Has::No, Some(b'h')),
            ("target", Has::Required, Some(b't')),
            ("mount", Has::Optional, Some(b'm')),
            ("net", Has::Optional, Some(b'n')),
            ("user", Has::Optional, None),
            ("time", Has::Optional, Some(b'T')),
            ("setuid", Has::Required, Some(b'S')),
            ("setgid", Has::Required, None),
            ("user-parent", Has::No, None),
        ],
        newer: &["user-parent"],
    };

    /// Like lsns's table: options anywhere.
    const PERMUTE: Table = Table {
        short: "lo:p:t:T::V",
        long: &[
            ("task", Has::Required, Some(b'p')),
            ("output", Has::Required, Some(b'o')),
            ("output-all", Has::No, None),
            ("version", Has::No, Some(b'V')),
            ("list", Has::No, Some(b'l')),
            ("type", Has::Required, Some(b't')),
            ("tree", Has::Optional, Some(b'T')),
        ],
        newer: &[],
    };

    fn words(table: &Table, line: &str) -> Result<Vec<String>, String> {
        let argv = table.argv(line.split(' ').map(OsString::from))?;
        Ok(argv.into_iter().map(|w| w.into_string().unwrap()).collect())
    }

    #[test]
    fn optional_values_are_attached_only_and_kept_as_given() {
        // getopt does not drop a `=` after a short option: `-m=/x` is the
        // FILE "=/x" to nsenter (lsns drops it itself).
        assert_eq!(
            words(&PLUS, "x -n/run/netns/RED -m=/x -T==y ip a").unwrap(),
            [
                "x",
                "--net=/run/netns/RED",
                "--mount==/x",
                "--time===y",
                "--",
                "ip",
                "a"
            ]
        );
        // getopt reads `-amu` as -a, then -m with FILE "u", as nsenter does.
        assert_eq!(
            words(&PLUS, "x -amu true").unwrap(),
            ["x", "--all", "--mount=u", "--", "true"]
        );
        assert_eq!(
            words(&PERMUTE, "x -Tparent -lT -T p -lT=a").unwrap(),
            [
                "x",
                "--tree=parent",
                "--list",
                "--tree",
                "--tree",
                "--list",
                "--tree==a",
                "--",
                "p"
            ]
        );
    }

    #[test]
    fn required_values_are_taken_whatever_they_look_like() {
        assert_eq!(
            words(
                &PLUS,
                "x -t 42 -at42 -S -1 --target 7 --targ -8 --all -n ls -l"
            )
            .unwrap(),
            [
                "x",
                "--target=42",
                "--all",
                "--target=42",
                "--setuid=-1",
                "--target=7",
                "--target=-8",
                "--all",
                "--net",
                "--",
                "ls",
                "-l"
            ]
        );
        assert_eq!(
            words(&PERMUTE, "x -oTx -o -Ty -o=z --output -T --task=1 --ty net").unwrap(),
            [
                "x",
                "--output=Tx",
                "--output=-Ty",
                "--output==z",
                "--output=-T",
                "--task=1",
                "--type=net",
                "--"
            ]
        );
        assert_eq!(
            words(&PERMUTE, "x -l -o").unwrap_err(),
            "option requires an argument -- 'o'"
        );
        assert_eq!(
            words(&PERMUTE, "x --ta").unwrap_err(),
            "option '--task' requires an argument"
        );
    }

    #[test]
    fn options_end_at_the_program_or_double_dash() {
        assert_eq!(
            words(&PLUS, "x -t 1 -n sh -nx -t 2").unwrap(),
            ["x", "--target=1", "--net", "--", "sh", "-nx", "-t", "2"]
        );
        assert_eq!(
            words(&PLUS, "x -n - -nx").unwrap(),
            ["x", "--net", "--", "-", "-nx"]
        );
        assert_eq!(
            words(&PLUS, "x -n -- -nx").unwrap(),
            ["x", "--net", "--", "-nx"]
        );
        assert_eq!(
            words(&PLUS, "x --net=/x --all ls").unwrap(),
            ["x", "--net=/x", "--all", "--", "ls"]
        );
    }

    #[test]
    fn permuted_options_follow_operands_until_double_dash() {
        assert_eq!(
            words(&PERMUTE, "x 42 -Tparent - -o NS -- -Tx -o y").unwrap(),
            [
                "x",
                "--tree=parent",
                "--output=NS",
                "--",
                "42",
                "-",
                "-Tx",
                "-o",
                "y"
            ]
        );
    }

    #[test]
    fn usage_errors_are_glibcs() {
        let err = |table: &Table, line: &str| words(table, line).unwrap_err();
        assert_eq!(err(&PLUS, "x --nope"), "unrecognized option '--nope'");
        assert_eq!(err(&PLUS, "x --no=pe"), "unrecognized option '--no=pe'");
        assert_eq!(err(&PLUS, "x -ax"), "invalid option -- 'x'");
        // A letter with no long option is not one of the tool's.
        assert_eq!(err(&PERMUTE, "x -H"), "invalid option -- 'H'");
        assert_eq!(
            err(&PLUS, "x --se=1"),
            "option '--se=1' is ambiguous; possibilities: '--setuid' '--setgid'"
        );
        assert_eq!(
            err(&PERMUTE, "x --t"),
            "option '--t' is ambiguous; possibilities: '--task' '--type' '--tree'"
        );
        assert_eq!(err(&PLUS, "x -S"), "option requires an argument -- 'S'");
        assert_eq!(
            err(&PLUS, "x --al=1"),
            "option '--all' doesn't allow an argument"
        );
        // Nothing after the first error counts, not even help.
        assert_eq!(err(&PLUS, "x --nope -h"), "unrecognized option '--nope'");
    }

    #[test]
    fn help_and_version_end_the_reading() {
        assert_eq!(words(&PLUS, "x -ah --nope").unwrap(), ["x", "-h"]);
        assert_eq!(words(&PLUS, "x --he -h").unwrap(), ["x", "--help"]);
        assert_eq!(words(&PLUS, "x -hx").unwrap(), ["x", "-h"]);
        assert_eq!(
            words(&PERMUTE, "x 1 --vers -x").unwrap(),
            ["x", "--version"]
        );
        assert_eq!(
            words(&PLUS, "x true -h").unwrap(),
            ["x", "--", "true", "-h"]
        );
        let parsed = PLUS.parse(["x", "-a", "-h"].map(OsString::from));
        assert_eq!(
            (parsed.options, parsed.stop),
            (vec![("all", None)], Some(Stop::Help { short: true }))
        );
    }

    #[test]
    fn long_abbreviations_need_to_be_unambiguous() {
        // An exact name wins over the longer names it starts.
        assert_eq!(
            words(&PERMUTE, "x --output=a --output-").unwrap(),
            ["x", "--output=a", "--output-all", "--"]
        );
        assert_eq!(
            words(&PLUS, "x --setu=1 --us").unwrap(),
            ["x", "--setuid=1", "--user", "--"]
        );
        // A newer option does not make an old abbreviation ambiguous, and
        // is reached by its own.
        assert_eq!(
            words(&PLUS, "x --u --user-").unwrap(),
            ["x", "--user", "--user-parent", "--"]
        );
    }

    #[test]
    fn differences_from_clap_are_named() {
        let command = clap::Command::new("x")
            .disable_help_flag(true)
            .arg(clap::Arg::new("output").short('o').long("output"))
            .arg(clap::Arg::new("task").short('p').long("task"))
            .arg(clap::Arg::new("type").short('t').long("type"))
            .arg(
                clap::Arg::new("tree")
                    .short('T')
                    .long("tree")
                    .num_args(0..=1)
                    .require_equals(true),
            )
            .arg(
                clap::Arg::new("output-all")
                    .long("output-all")
                    .action(clap::ArgAction::SetTrue),
            )
            .arg(
                clap::Arg::new("list")
                    .short('l')
                    .long("list")
                    .action(clap::ArgAction::SetTrue),
            )
            .arg(clap::Arg::new("ns"));
        let command = command.version("1");
        assert_eq!(PERMUTE.differences(command.clone()), Vec::<String>::new());
        let wrong = Table {
            short: "lo:pt:T::VZ",
            long: &[
                ("task", Has::Required, Some(b'p')),
                ("output", Has::Required, Some(b'o')),
                ("version", Has::No, Some(b'V')),
                ("list", Has::Optional, Some(b'l')),
                ("type", Has::Required, Some(b't')),
                ("tree", Has::Optional, Some(b'T')),
            ],
            newer: &[],
        };
        assert_eq!(
            wrong.differences(command),
            [
                "--list: table Some((Optional, Some(108))), clap Some((No, Some(108)))",
                "--output-all: table None, clap Some((No, None))",
                "-p: takes No, --task takes Required",
                "-Z: no long option",
            ]
            .map(String::from)
        );
    }
}
