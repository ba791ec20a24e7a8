//! A command line as getopt_long reads it, rewritten into the form clap
//! reads the same way. getopt takes the optional argument of a short option
//! only attached (`-Tparent`, `-n/run/netns/RED`: `X::` in the option
//! string), while clap's `require_equals` (needed so that a detached word
//! stays an operand) wants `-T=parent`. And getopt takes the argument of an
//! option that requires one whatever it looks like (`-o -x`, `--task -5`),
//! where clap would read a word starting with `-` as another option.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// A tool's getopt_long option table, as far as the rewrite needs it.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Short options whose argument is optional and only attached (`X::`).
    pub optional: &'static [u8],
    /// Short options that require an argument, attached or the next word (`X:`).
    pub required: &'static [u8],
    /// Every long option, for getopt's unambiguous abbreviations.
    pub long: &'static [&'static str],
    /// The long options that require an argument (`required_argument`).
    pub long_required: &'static [&'static str],
    /// Whether options may follow operands (getopt's default, lsns) or end at
    /// the first operand (a leading `+` in the option string, nsenter: the
    /// rest is the program and its arguments).
    pub permute: bool,
}

impl Options {
    /// `args` (argv[0] first) with optional arguments attached by `=`
    /// (`-Tparent` → `-T=parent`; `-T=parent` stays) and required ones too
    /// (`-o -x`, `-o-x` → `-o=-x`; `--task 5` → `--task=5`), so that clap
    /// takes them as getopt does. Short options stay in their cluster
    /// (`-nTx` → `-nT=x`). Nothing changes after `--`, nor after the first
    /// operand unless options permute.
    pub fn rewrite(&self, args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
        let mut args = args.into_iter();
        let mut out: Vec<OsString> = args.next().into_iter().collect();
        while let Some(arg) = args.next() {
            let bytes = arg.as_bytes();
            if bytes == b"--" {
                out.push(arg);
                out.extend(args);
                break;
            }
            if bytes == b"-" || !bytes.starts_with(b"-") {
                out.push(arg);
                if self.permute {
                    continue;
                }
                out.extend(args);
                break;
            }
            if let Some(long) = bytes.strip_prefix(b"--") {
                let value = if long.contains(&b'=') || !self.long_required(long) {
                    None
                } else {
                    args.next()
                };
                out.push(match value {
                    Some(value) => attach(bytes, value.as_bytes()),
                    None => arg,
                });
                continue;
            }
            let mut word = None;
            for (i, &c) in bytes.iter().enumerate().skip(1) {
                let (cluster, rest) = bytes.split_at(i + 1);
                if self.optional.contains(&c) {
                    if !rest.is_empty() {
                        // `-T=parent` means `parent` to the tools, as to clap.
                        word = Some(attach(cluster, rest.strip_prefix(b"=").unwrap_or(rest)));
                    }
                    break;
                }
                if self.required.contains(&c) {
                    if !rest.is_empty() {
                        word = Some(attach(cluster, rest));
                    } else if let Some(value) = args.next() {
                        word = Some(attach(cluster, value.as_bytes()));
                    }
                    break;
                }
            }
            out.push(word.unwrap_or(arg));
        }
        out
    }

    /// How this table differs from clap's definition of the same options
    /// (empty when they agree): a tool's test that its table is complete.
    pub fn differences(&self, mut command: clap::Command) -> Vec<String> {
        command.build();
        let (mut optional, mut required) = (BTreeSet::new(), BTreeSet::new());
        let (mut long, mut long_required) = (BTreeSet::new(), BTreeSet::new());
        for arg in command.get_arguments().filter(|a| !a.is_positional()) {
            let takes = arg.get_action().takes_values();
            let min = arg.get_num_args().map_or(1, |n| n.min_values());
            if let Some(c) = arg.get_short().and_then(|c| u8::try_from(c).ok()) {
                match (takes, min) {
                    (true, 0) => optional.insert(c),
                    (true, _) => required.insert(c),
                    _ => false,
                };
            }
            if let Some(name) = arg.get_long() {
                long.insert(name.to_string());
                if takes && min > 0 {
                    long_required.insert(name.to_string());
                }
            }
        }
        let mut out = Vec::new();
        let mut compare = |what: &str, ours: BTreeSet<String>, clap: BTreeSet<String>| {
            if ours != clap {
                out.push(format!("{what}: table {ours:?}, clap {clap:?}"));
            }
        };
        let chars = |set: &[u8]| set.iter().map(|&c| char::from(c).to_string()).collect();
        let names = |set: &[&str]| set.iter().map(ToString::to_string).collect();
        compare(
            "optional",
            chars(self.optional),
            chars(&Vec::from_iter(optional)),
        );
        compare(
            "required",
            chars(self.required),
            chars(&Vec::from_iter(required)),
        );
        compare("long", names(self.long), long);
        compare("long_required", names(self.long_required), long_required);
        out
    }

    /// Whether `--NAME` (exact, or an unambiguous abbreviation) requires an
    /// argument; an ambiguous or unknown one is left for clap to refuse.
    fn long_required(&self, name: &[u8]) -> bool {
        let mut matches = self.long.iter().filter(|l| l.as_bytes().starts_with(name));
        let chosen = match self.long.iter().find(|l| l.as_bytes() == name) {
            Some(exact) => Some(exact),
            None => matches.next().filter(|_| matches.next().is_none()),
        };
        chosen.is_some_and(|l| self.long_required.contains(l))
    }
}

/// `option=value` as one word: clap drops exactly one `=` and takes the rest
/// as the value, whatever it starts with.
fn attach(option: &[u8], value: &[u8]) -> OsString {
    let mut word = option.to_vec();
    word.push(b'=');
    word.extend_from_slice(value);
    OsString::from_vec(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Like nsenter's table: options end at the program.
    const PLUS: Options = Options {
        optional: b"mnT",
        required: b"tS",
        long: &[
            "all",
            "target",
            "mount",
            "net",
            "setuid",
            "setgid",
            "user",
            "user-parent",
        ],
        long_required: &["target", "setuid", "setgid"],
        permute: false,
    };

    /// Like lsns's table: options anywhere.
    const PERMUTE: Options = Options {
        optional: b"T",
        required: b"opt",
        long: &["output", "output-all", "task", "tree", "type"],
        long_required: &["output", "task", "type"],
        permute: true,
    };

    fn words(options: &Options, line: &str) -> Vec<String> {
        options
            .rewrite(line.split(' ').map(OsString::from))
            .into_iter()
            .map(|w| w.into_string().unwrap())
            .collect()
    }

    #[test]
    fn attached_optional_values_get_an_equals_sign() {
        assert_eq!(
            words(&PLUS, "x -n/run/netns/RED -m=/x -T==y ip a"),
            ["x", "-n=/run/netns/RED", "-m=/x", "-T==y", "ip", "a"]
        );
        // getopt reads `-amu` as -a, then -m with FILE "u", as nsenter does.
        assert_eq!(words(&PLUS, "x -amu true"), ["x", "-am=u", "true"]);
        assert_eq!(
            words(&PERMUTE, "x -Tparent -lT -T p -lT=a"),
            ["x", "-T=parent", "-lT", "-T", "p", "-lT=a"]
        );
    }

    #[test]
    fn required_values_are_attached_whatever_they_look_like() {
        assert_eq!(
            words(
                &PLUS,
                "x -t 42 -at42 -S -1 --target 7 --targ -8 --all -n ls -l"
            ),
            [
                "x",
                "-t=42",
                "-at=42",
                "-S=-1",
                "--target=7",
                "--targ=-8",
                "--all",
                "-n",
                "ls",
                "-l"
            ]
        );
        // The value of a required option is not read as an option.
        assert_eq!(
            words(&PERMUTE, "x -oTx -o -Ty -o=z --output -T --task=1 --ty net"),
            [
                "x",
                "-o=Tx",
                "-o=-Ty",
                "-o==z",
                "--output=-T",
                "--task=1",
                "--ty=net"
            ]
        );
        // A missing value is left for clap to report.
        assert_eq!(words(&PERMUTE, "x -l -o"), ["x", "-l", "-o"]);
        assert_eq!(words(&PERMUTE, "x --task"), ["x", "--task"]);
    }

    #[test]
    fn options_end_at_the_program_or_double_dash() {
        assert_eq!(
            words(&PLUS, "x -t 1 -n sh -nx -t 2"),
            ["x", "-t=1", "-n", "sh", "-nx", "-t", "2"]
        );
        assert_eq!(words(&PLUS, "x -n - -nx"), ["x", "-n", "-", "-nx"]);
        assert_eq!(words(&PLUS, "x -n -- -nx"), ["x", "-n", "--", "-nx"]);
        assert_eq!(
            words(&PLUS, "x --net=/x --all ls"),
            ["x", "--net=/x", "--all", "ls"]
        );
    }

    #[test]
    fn permuted_options_follow_operands_until_double_dash() {
        assert_eq!(
            words(&PERMUTE, "x 42 -Tparent - -o NS -- -Tx -o y"),
            ["x", "42", "-T=parent", "-", "-o=NS", "--", "-Tx", "-o", "y"]
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
            );
        assert_eq!(PERMUTE.differences(command.clone()), Vec::<String>::new());
        let wrong = Options {
            required: b"op",
            long_required: &["output", "task"],
            ..PERMUTE
        };
        assert_eq!(wrong.differences(command).len(), 2);
    }

    #[test]
    fn long_abbreviations_need_to_be_unambiguous() {
        assert!(!PLUS.long_required(b"se"));
        assert!(PLUS.long_required(b"setu"));
        assert!(!PLUS.long_required(b"user"));
        // An exact name wins over the longer names it starts.
        assert!(PERMUTE.long_required(b"output"));
        assert!(!PERMUTE.long_required(b"output-"));
        assert!(!PERMUTE.long_required(b"t"));
        assert!(PERMUTE.long_required(b"ta"));
    }
}
