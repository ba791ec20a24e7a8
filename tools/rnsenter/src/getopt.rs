//! nsenter's command line as getopt_long reads it, in the form clap reads:
//! an optional value attached to a short option (`-nFILE`, `-an/run/x`)
//! becomes `-n=FILE`, as `m::` in nsenter's option string means.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Short options whose value is optional and attached (nsenter's `X::`).
const OPTIONAL: &[u8] = b"muinpCUTrwW";
/// Short options whose value is required, attached or the next word.
const REQUIRED: &[u8] = b"tSG";
/// Long options whose value is required (getopt takes the next word).
const LONG_REQUIRED: [&str; 3] = ["target", "setuid", "setgid"];
/// Every long option, for getopt's unambiguous abbreviations.
const LONG: [&str; 23] = [
    "all",
    "target",
    "mount",
    "uts",
    "ipc",
    "net",
    "pid",
    "cgroup",
    "user",
    "user-parent",
    "time",
    "setuid",
    "setgid",
    "preserve-credentials",
    "keep-caps",
    "root",
    "wd",
    "wdns",
    "env",
    "no-fork",
    "join-cgroup",
    "help",
    "version",
];

/// `args` (argv[0] first) with each short option on a word of its own and
/// optional values attached by `=`; options end at `--` or the first word
/// that is not one (the program), as with getopt's `+`.
pub fn rewrite(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args = args.into_iter();
    let mut out: Vec<OsString> = args.next().into_iter().collect();
    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
        if bytes == b"--" || bytes == b"-" || !bytes.starts_with(b"-") {
            out.push(arg);
            out.extend(args);
            break;
        }
        if let Some(long) = bytes.strip_prefix(b"--") {
            let takes_next = !long.contains(&b'=') && long_required(long);
            out.push(arg);
            if takes_next {
                out.extend(args.next());
            }
            continue;
        }
        for (i, &c) in bytes.iter().enumerate().skip(1) {
            let rest = &bytes[i + 1..];
            let mut word = vec![b'-', c];
            if OPTIONAL.contains(&c) {
                if !rest.is_empty() {
                    word.push(b'=');
                    word.extend_from_slice(rest.strip_prefix(b"=").unwrap_or(rest));
                }
                out.push(OsString::from_vec(word));
                break;
            }
            out.push(OsString::from_vec(word));
            if REQUIRED.contains(&c) {
                if rest.is_empty() {
                    out.extend(args.next());
                } else {
                    out.push(std::ffi::OsStr::from_bytes(rest).to_os_string());
                }
                break;
            }
        }
    }
    out
}

/// Whether `--NAME` (exact, or an unambiguous abbreviation) needs a value.
fn long_required(name: &[u8]) -> bool {
    let matches: Vec<&str> = LONG
        .into_iter()
        .filter(|l| l.as_bytes().starts_with(name))
        .collect();
    let chosen = match matches.iter().find(|l| l.as_bytes() == name) {
        Some(exact) => Some(*exact),
        None if matches.len() == 1 => Some(matches[0]),
        None => None,
    };
    chosen.is_some_and(|l| LONG_REQUIRED.contains(&l))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        rewrite(line.split(' ').map(OsString::from))
            .into_iter()
            .map(|w| w.into_string().unwrap())
            .collect()
    }

    #[test]
    fn attached_optional_values_get_an_equals_sign() {
        assert_eq!(
            words("rnsenter -n/run/netns/RED -m=/x ip a"),
            ["rnsenter", "-n=/run/netns/RED", "-m=/x", "ip", "a"]
        );
        // getopt reads `-mu` as -m with FILE "u", as nsenter does.
        assert_eq!(
            words("rnsenter -amu true"),
            ["rnsenter", "-a", "-m=u", "true"]
        );
    }

    #[test]
    fn required_values_are_skipped_attached_or_not() {
        assert_eq!(
            words("rnsenter -t 42 -at42 -S 0 --target 7 --targ 8 -u ls -l"),
            [
                "rnsenter", "-t", "42", "-a", "-t", "42", "-S", "0", "--target", "7", "--targ",
                "8", "-u", "ls", "-l"
            ]
        );
    }

    #[test]
    fn options_end_at_the_program_or_double_dash() {
        assert_eq!(
            words("rnsenter -t 1 -u sh -nx"),
            ["rnsenter", "-t", "1", "-u", "sh", "-nx"]
        );
        assert_eq!(words("rnsenter -u -- -nx"), ["rnsenter", "-u", "--", "-nx"]);
        assert_eq!(
            words("rnsenter --net=/x --all ls"),
            ["rnsenter", "--net=/x", "--all", "ls"]
        );
    }

    #[test]
    fn ambiguous_long_abbreviations_are_left_to_clap() {
        assert!(!long_required(b"se"));
        assert!(long_required(b"setu"));
        assert!(!long_required(b"user"));
    }
}
