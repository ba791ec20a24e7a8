//! Command-line parsing the util-linux way, and the man page text that sits
//! beside each tool's clap definition.

use std::io::Write;

use clap::error::ErrorKind;
use clap::Parser;

use crate::getopt::{Direct, Parsed};

/// Parses the command line `args` of `tool` (the first is the program
/// name). Help and version go to stdout with exit 0 ([`print_help`]); a usage error prints
/// `tool: message` and `Try 'tool --help' for more information.` and exits
/// with `usage_code` (util-linux: 1, coreutils chroot: 125), not clap's 2. A tool that finds itself set-user-ID or
/// set-group-ID refuses to run (fail closed: boxutils is never setuid).
pub fn parse_from<T: Parser>(
    tool: &str,
    usage_code: i32,
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> T {
    refuse_setid(tool, usage_code);
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let mut command = crate::help::with_help_flag(T::command());
    let parsed = command
        .try_get_matches_from_mut(&args)
        .and_then(|mut matches| T::from_arg_matches_mut(&mut matches));
    match parsed {
        Ok(cli) => cli,
        Err(err) if err.kind() == ErrorKind::DisplayHelp => {
            let command = crate::help::find(command, &args);
            let text = crate::help::render(&command, asks_long_help(&args));
            std::process::exit(print_help(tool, usage_code, &text))
        }
        Err(err) if err.kind() == ErrorKind::DisplayVersion => {
            std::process::exit(print_help(tool, usage_code, &err.render().to_string()))
        }
        Err(err) => {
            let usage = getopt_message(&err, &T::command(), &args);
            std::process::exit(usage_error(tool, usage_code, usage))
        }
    }
}

/// Whether the help asked for in `args` is the long one: `--help` (or an
/// abbreviation of it) came before any `-h`, as clap tells them apart.
fn asks_long_help(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .take_while(|a| *a != "--")
        .find_map(|a| match a.strip_prefix("--") {
            Some(long) => (!long.is_empty() && "help".starts_with(long)).then_some(true),
            None => (a.starts_with('-') && a.contains('h')).then_some(false),
        })
        .unwrap_or(true)
}

/// Writes a help or version text to stdout: exit code 0, or `code` with
/// util-linux's `write error` when it cannot be written (`--help
/// >/dev/full`, as the C tools' close_stdout reports it).
pub fn print_help(tool: &str, code: i32, text: &str) -> i32 {
    let written = std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map(|()| 0)
        .map_err(crate::error::write_error);
    let code = u8::try_from(code).unwrap_or(1);
    i32::from(crate::error::report(tool, code, written))
}

/// Exits with `code` if this process is set-user-ID or set-group-ID (fail
/// closed: boxutils is never setuid), before the command line is read.
pub fn refuse_setid(tool: &str, code: i32) {
    // AT_SECURE, from the kernel at exec, is 0 unless the exec changed ids
    // or gave capabilities: then the ids are compared (no system call in
    // the common case).
    // SAFETY: getauxval reads the auxiliary vector; no pointers involved.
    let secure = unsafe { libc::getauxval(libc::AT_SECURE) } != 0;
    if secure
        && (nix::unistd::getuid() != nix::unistd::geteuid()
            || nix::unistd::getgid() != nix::unistd::getegid())
    {
        let _ = writeln!(
            std::io::stderr(),
            "{tool}: refusing to run set-user-ID or set-group-ID"
        );
        std::process::exit(code);
    }
}

/// Reports a usage error (a [`crate::error::Usage`]) as util-linux does,
/// `tool: message` and `Try 'tool --help' for more information.`; `code`.
pub fn usage_error(tool: &str, code: i32, message: String) -> i32 {
    let code = u8::try_from(code).unwrap_or(1);
    let usage = anyhow::Error::new(crate::error::Usage(message));
    i32::from(crate::error::report(tool, code, Err(usage)))
}

/// Defines the C `main` of a binary whose `main.rs` says
/// `#![cfg_attr(not(test), no_main)]` (a test build keeps libtest's main):
/// `common::main!(rlsns)` calls `rlsns::main` with the command line and
/// exits with what it returns. That `main` in the tool's library is the
/// binary's whole life (parse with [`main()`] or, the command line read by
/// getopt first, [`main_getopt`]; run; report), so the multi-call binary
/// `boxutils` runs each tool as its own binary does.
///
/// Rust's own start-up is skipped on purpose: its main-thread stack-guard
/// probe (`pthread_getattr_np`, which parses /proc/self/maps) is a third of
/// what a small tool costs, and these tools are benchmarked against C tools
/// run thousands of times from scripts. Arguments and environment still work
/// (glibc hands them to std). SIGPIPE keeps the disposition we inherited, as
/// for util-linux: `rlsns | head -1` ends quietly, like `lsns | head -1`.
#[macro_export]
macro_rules! main {
    ($($module:ident)::+) => {
        #[cfg(not(test))]
        #[unsafe(no_mangle)]
        pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
            $($module)::+::main(std::env::args_os())
        }
    };
}

/// The body of a tool's `main` ([`main!`]): parse, run, report.
pub fn main<T: Parser>(
    tool: &'static str,
    code: u8,
    args: impl IntoIterator<Item = std::ffi::OsString>,
    run: fn(T) -> anyhow::Result<u8>,
) -> i32 {
    let cli = parse_from::<T>(tool, i32::from(code), args);
    run_reported(tool, code, cli, run)
}

/// [`main()`] for a tool whose clap struct getopt's reading fills directly
/// ([`Direct`]): clap reads only the lines that [`Direct::direct`] leaves
/// to it (help, version, usage errors among them), as [`main_getopt`].
pub fn main_direct<T: Parser + Direct>(
    tool: &'static str,
    code: u8,
    parsed: Parsed,
    run: fn(T) -> anyhow::Result<u8>,
) -> i32 {
    match parsed.stop.is_none().then(|| T::direct(&parsed)).flatten() {
        Some(cli) => {
            refuse_setid(tool, i32::from(code));
            run_reported(tool, code, cli, run)
        }
        None => main_getopt(tool, code, parsed.argv(), run),
    }
}

/// Runs the tool on its read command line and reports the outcome: the
/// exit code.
fn run_reported<T>(tool: &'static str, code: u8, cli: T, run: fn(T) -> anyhow::Result<u8>) -> i32 {
    crate::process::save_inherited();
    report_panics(tool, code);
    i32::from(crate::error::report(tool, code, run(cli)))
}

/// A panic, in any thread, is a bug: reported as other failures are, in one
/// line (`TOOL: internal error (a bug): MESSAGE at FILE:LINE:COL`), and the
/// process exits with `code` (release builds abort on panic rather than
/// unwind, and would otherwise die of SIGABRT). Guards do not run: what was
/// made is left as after a SIGKILL, for the next run to recover.
fn report_panics(tool: &'static str, code: u8) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("panic");
        let place = info
            .location()
            .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let message = message.replace('\n', " ");
        let _ = writeln!(
            std::io::stderr(),
            "{tool}: internal error (a bug): {message}{place}"
        );
        std::process::exit(i32::from(code));
    }));
}

/// [`main()`] for a command line that getopt read first: `args` is what it
/// gives clap, or its usage error, which is reported as [`parse_from`]
/// reports clap's (exit `code`).
pub fn main_getopt<T: Parser>(
    tool: &'static str,
    code: u8,
    args: Result<Vec<std::ffi::OsString>, String>,
    run: fn(T) -> anyhow::Result<u8>,
) -> i32 {
    match args {
        Ok(args) => main(tool, code, args, run),
        Err(usage) => {
            refuse_setid(tool, i32::from(code));
            usage_error(tool, i32::from(code), usage)
        }
    }
}

/// clap's error as one line, without its `error: ` prefix and usage block.
pub fn usage_message(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // What is missing is on the indented lines that follow ("the following
    // required arguments were not provided:\n  <PEER>"); tips come after a
    // blank line and are left out.
    for line in lines.take_while(|l| l.starts_with("  ")) {
        message.push(' ');
        message.push_str(line.trim());
    }
    message
}

/// The (sub)command whose options were being read when clap stopped at
/// `word`: the words before it that name a subcommand (or abbreviate one:
/// clap took such a word as the subcommand, or would have failed on it
/// rather than at `word`) are followed down from `command`.
fn subcommand_at<'a>(
    command: &'a clap::Command,
    args: &[std::ffi::OsString],
    word: &str,
) -> &'a clap::Command {
    let mut cmd = command;
    for arg in args.iter().skip(1).filter_map(|a| a.to_str()) {
        if arg == word {
            break;
        }
        let exact = cmd
            .get_subcommands()
            .find(|s| s.get_name() == arg || s.get_all_aliases().any(|a| a == arg));
        let inferred = || {
            let mut starting = cmd
                .get_subcommands()
                .filter(|s| s.get_name().starts_with(arg));
            starting.next().filter(|_| starting.next().is_none())
        };
        if let Some(sub) = exact.or_else(inferred) {
            cmd = sub;
        }
    }
    cmd
}

/// A usage error worded as glibc's getopt_long words it (util-linux and
/// coreutils print that, and scripts match it): `unrecognized option
/// '--foo'`, `invalid option -- 'x'`, `option '--s' is ambiguous;
/// possibilities: ...`, `option '--user' requires an argument`, `option
/// requires an argument -- 'm'`, `option '--flag' doesn't allow an
/// argument`. Other errors (bad values, conflicts) keep clap's wording.
/// `args` is the command line (`argv[0]` first) that `command` refused.
pub fn getopt_message(
    err: &clap::Error,
    command: &clap::Command,
    args: &[std::ffi::OsString],
) -> String {
    use crate::getopt::says;
    use clap::error::{ContextKind, ContextValue};
    let invalid = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.as_str(),
        _ => "",
    };
    // In a subcommand (`rvethpair add --peer`), its options are the ones.
    let command = subcommand_at(command, args, invalid);
    let longs = || {
        command
            .get_arguments()
            .filter_map(clap::Arg::get_long)
            .chain(["help", "version"])
    };
    match err.kind() {
        ErrorKind::UnknownArgument => {
            if let Some(name) = invalid.strip_prefix("--") {
                let name = name.split('=').next().unwrap_or_default();
                let matching: Vec<&str> = longs().filter(|l| l.starts_with(name)).collect();
                if matching.len() > 1 {
                    return says::ambiguous(&format!("--{name}"), matching);
                }
                // glibc names the whole word, `--foo=bar`; clap only `--foo`.
                let word = args
                    .iter()
                    .map(|a| a.to_string_lossy())
                    .find(|a| a.strip_prefix(invalid).is_some_and(|v| v.starts_with('=')));
                return says::unrecognized(word.as_deref().unwrap_or(invalid));
            }
            match invalid.strip_prefix('-').and_then(|s| s.chars().next()) {
                Some(c) => says::invalid(c),
                None => usage_message(err),
            }
        }
        // A value is missing: the option is the last word of the command line.
        ErrorKind::InvalidValue if invalid.starts_with('-') => {
            let last = args.last().map(|a| a.to_string_lossy()).unwrap_or_default();
            match (last.strip_prefix("--"), last.strip_prefix('-')) {
                (Some(_), _) => {
                    says::requires_argument(invalid.split(' ').next().unwrap_or_default())
                }
                (None, Some(cluster)) if !cluster.is_empty() => {
                    says::letter_requires_argument(cluster.chars().last().unwrap_or_default())
                }
                _ => usage_message(err),
            }
        }
        ErrorKind::TooManyValues | ErrorKind::NoEquals if invalid.starts_with("--") => {
            says::no_argument(invalid)
        }
        _ => usage_message(err),
    }
}

/// One man page: the clap command and the hand-written sections that follow
/// OPTIONS (EXIT STATUS, EXAMPLES, SEE ALSO, ...), rendered by `cargo xtask man`.
pub struct Page {
    pub command: clap::Command,
    /// The manual section: 8 for system administration tools, else 1.
    pub section: &'static str,
    /// `(HEADING, body)`; the body is plain text, paragraphs split by blank
    /// lines, and lines starting with two spaces kept as written (examples).
    pub sections: &'static [(&'static str, &'static str)],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    #[command(name = "t")]
    struct Cli {
        #[arg(long)]
        flag: bool,
    }

    #[test]
    fn usage_error_is_one_line() {
        let err = Cli::try_parse_from(["t", "--nope"]).unwrap_err();
        assert_eq!(usage_message(&err), "unexpected argument '--nope' found");
    }

    /// The options of the subcommand in effect are the ones getopt_message
    /// looks at.
    #[test]
    fn ambiguous_abbreviations_name_the_possibilities() {
        use clap::CommandFactory;
        #[derive(Parser, Debug)]
        #[command(name = "t", infer_long_args = true, infer_subcommands = true)]
        struct Top {
            #[arg(long)]
            verbose: bool,
            #[command(subcommand)]
            command: Sub,
        }
        #[derive(clap::Subcommand, Debug)]
        enum Sub {
            Add {
                #[arg(long)]
                peer_netns: Option<String>,
                #[arg(long)]
                peer_addr: Option<String>,
                #[arg(long)]
                mtu: Option<u32>,
            },
        }
        let words = |w: &[&str]| -> Vec<std::ffi::OsString> { w.iter().map(Into::into).collect() };
        for (args, expected) in [
            (
                &["t", "add", "--peer", "x"][..],
                "option '--peer' is ambiguous; possibilities: '--peer-netns' '--peer-addr'",
            ),
            (
                &["t", "a", "--pe=x"],
                "option '--pe' is ambiguous; possibilities: '--peer-netns' '--peer-addr'",
            ),
            (&["t", "add", "--nope"], "unrecognized option '--nope'"),
        ] {
            let args = words(args);
            let err = Top::try_parse_from(&args).unwrap_err();
            assert_eq!(
                getopt_message(&err, &Top::command(), &args),
                expected,
                "{args:?}"
            );
        }
        let args = words(&["t", "add", "--peer-n", "x", "--m", "9"]);
        assert!(Top::try_parse_from(&args).is_ok());
    }

    #[test]
    fn usage_error_names_what_is_missing() {
        #[derive(Parser, Debug)]
        #[command(name = "t")]
        struct Two {
            first: String,
            second: String,
        }
        let err = Two::try_parse_from(["t", "a"]).unwrap_err();
        assert_eq!(
            usage_message(&err),
            "the following required arguments were not provided: <SECOND>"
        );
    }

    #[test]
    fn usage_errors_are_worded_as_getopt_words_them() {
        #[derive(Parser, Debug)]
        #[command(name = "t", infer_long_args = true)]
        struct Opts {
            #[arg(short = 'm', long)]
            shmem: Option<String>,
            #[arg(long)]
            shmid: bool,
        }
        let message = |words: &[&str]| {
            let args: Vec<std::ffi::OsString> = words.iter().map(Into::into).collect();
            let err = Opts::try_parse_from(&args).unwrap_err();
            getopt_message(&err, &<Opts as clap::CommandFactory>::command(), &args)
        };
        assert_eq!(message(&["t", "--nope"]), "unrecognized option '--nope'");
        assert_eq!(message(&["t", "--no=pe"]), "unrecognized option '--no=pe'");
        assert_eq!(message(&["t", "-x"]), "invalid option -- 'x'");
        assert_eq!(
            message(&["t", "--sh"]),
            "option '--sh' is ambiguous; possibilities: '--shmem' '--shmid'"
        );
        assert_eq!(
            message(&["t", "--shme"]),
            "option '--shmem' requires an argument"
        );
        assert_eq!(message(&["t", "-m"]), "option requires an argument -- 'm'");
        assert_eq!(
            message(&["t", "--shmi=1"]),
            "option '--shmid' doesn't allow an argument"
        );
    }
}
