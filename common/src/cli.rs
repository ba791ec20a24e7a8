//! Command-line parsing the util-linux way, and the man page text that sits
//! beside each tool's clap definition.

use std::io::Write;
use std::panic::AssertUnwindSafe;

use clap::error::ErrorKind;
use clap::Parser;

/// Parses the command line `args` of `tool` (the first is the program
/// name). Help and version go to stdout with exit 0; a usage error prints `tool: message` and `Try 'tool --help' for
/// more information.` and exits with `usage_code` (util-linux: 1, coreutils
/// chroot: 125), not clap's 2. A tool that finds itself set-user-ID or
/// set-group-ID refuses to run (fail closed: boxutils is never setuid).
pub fn parse_from<T: Parser>(
    tool: &str,
    usage_code: i32,
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> T {
    if nix::unistd::getuid() != nix::unistd::geteuid()
        || nix::unistd::getgid() != nix::unistd::getegid()
    {
        let _ = writeln!(
            std::io::stderr(),
            "{tool}: refusing to run set-user-ID or set-group-ID"
        );
        std::process::exit(usage_code);
    }
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    match T::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            err.exit()
        }
        Err(err) => {
            let _ = writeln!(
                std::io::stderr(),
                "{tool}: {}\nTry '{tool} --help' for more information.",
                ambiguity(&T::command(), &args, &err).unwrap_or_else(|| usage_message(&err))
            );
            std::process::exit(usage_code)
        }
    }
}

/// Defines the C `main` of a tool binary whose `main.rs` says
/// `#![cfg_attr(not(test), no_main)]` (a test build keeps libtest's main):
/// `common::main!("rlsns", 1, rlsns)` parses `rlsns::Cli`, calls `rlsns::run`
/// and exits with its code (1: the code of usage and other failures).
/// `args = f` passes the arguments through `f` first (e.g. a wrapper of
/// [`attach_optional`]).
///
/// Rust's own start-up is skipped on purpose: its main-thread stack-guard
/// probe (`pthread_getattr_np`, which parses /proc/self/maps) is a third of
/// what a small tool costs, and these tools are benchmarked against C tools
/// run thousands of times from scripts. Arguments and environment still work
/// (glibc hands them to std). SIGPIPE keeps the disposition we inherited, as
/// for util-linux: `rlsns | head -1` ends quietly, like `lsns | head -1`.
#[macro_export]
macro_rules! main {
    ($tool:literal, $code:literal, $($module:ident)::+) => {
        $crate::main!($tool, $code, $($module)::+, args = std::iter::IntoIterator::into_iter);
    };
    ($tool:literal, $code:literal, $($module:ident)::+, args = $args:path) => {
        #[cfg(not(test))]
        #[unsafe(no_mangle)]
        pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
            let args = $args(std::env::args_os());
            $crate::cli::main::<$($module)::+::Cli>($tool, $code, args, $($module)::+::run)
        }
    };
}

/// The body of [`main!`]: parse, run, report. A panic is caught so that
/// guards still undo what was done, and reported as a failure.
pub fn main<T: Parser>(
    tool: &str,
    code: u8,
    args: impl IntoIterator<Item = std::ffi::OsString>,
    run: fn(T) -> anyhow::Result<u8>,
) -> i32 {
    let cli = parse_from::<T>(tool, i32::from(code), args);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| run(cli))).unwrap_or_else(|_| {
        Err(anyhow::anyhow!(
            "internal error (a bug): see the message above"
        ))
    });
    i32::from(crate::error::report(tool, code, result))
}

/// getopt takes the optional argument of a short option only attached
/// (`-Tparent`, `-m/proc/1/ns/mnt`), while clap's `require_equals` (needed so
/// that a detached word stays an operand) wants `-T=parent`. Rewrites the
/// arguments so: `optional` are the short options with an optional
/// argument, `required` those that take one (their argument is skipped, so
/// `-o-Tx` or `-o -Tx` is left alone). Nothing changes after `--`.
pub fn attach_optional(
    args: impl IntoIterator<Item = std::ffi::OsString>,
    optional: &[char],
    required: &[char],
) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut skip_next = false;
    let mut rest_verbatim = false;
    for (n, arg) in args.into_iter().enumerate() {
        let text = arg.to_str().map(str::to_owned);
        match text {
            Some(t)
                if n > 0
                    && !rest_verbatim
                    && !skip_next
                    && t.starts_with('-')
                    && !t.starts_with("--")
                    && t.len() > 1 =>
            {
                let mut cluster = String::from("-");
                for (i, c) in t[1..].char_indices() {
                    cluster.push(c);
                    let rest = &t[1 + i + c.len_utf8()..];
                    if required.contains(&c) {
                        cluster.push_str(rest);
                        skip_next = rest.is_empty();
                        break;
                    }
                    if optional.contains(&c) {
                        if !rest.is_empty() && !rest.starts_with('=') {
                            cluster.push('=');
                        }
                        cluster.push_str(rest);
                        break;
                    }
                }
                out.push(cluster.into());
            }
            _ => {
                rest_verbatim |= n > 0 && !skip_next && arg == "--";
                skip_next = false;
                out.push(arg);
            }
        }
    }
    out
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

/// getopt's words for a long option that abbreviates several, where clap
/// says only "unexpected argument": `option '--peer' is ambiguous;
/// possibilities: '--peer-netns' '--peer-addr'`. `args` are the words
/// parsed, program name first; None for any other error.
pub fn ambiguity(
    command: &clap::Command,
    args: &[std::ffi::OsString],
    err: &clap::Error,
) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    if err.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(word)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let prefix = word.strip_prefix("--")?.split('=').next()?;
    // The (sub)command whose options were being read: follow the words
    // that name subcommands (or abbreviate one: clap took such a word as the
    // subcommand, or would have failed on it rather than here) up to it.
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
    let longs: Vec<&str> = cmd
        .get_arguments()
        .filter_map(clap::Arg::get_long)
        .filter(|l| !prefix.is_empty() && l.starts_with(prefix))
        .collect();
    (longs.len() > 1).then(|| {
        let names: Vec<String> = longs.iter().map(|l| format!("'--{l}'")).collect();
        format!(
            "option '--{prefix}' is ambiguous; possibilities: {}",
            names.join(" ")
        )
    })
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
    fn optional_arguments_are_attached_with_equals() {
        let args = |v: &[&str]| -> Vec<std::ffi::OsString> { v.iter().map(Into::into).collect() };
        assert_eq!(
            attach_optional(
                args(&["x", "-Tparent", "-nT", "-T", "p", "-oTx", "-o", "-Ty", "--", "-Tz"]),
                &['T'],
                &['o']
            ),
            args(&[
                "x",
                "-T=parent",
                "-nT",
                "-T",
                "p",
                "-oTx",
                "-o",
                "-Ty",
                "--",
                "-Tz"
            ])
        );
        assert_eq!(
            attach_optional(args(&["x", "-nT=a"]), &['T'], &[]),
            args(&["x", "-nT=a"])
        );
    }

    #[test]
    fn usage_error_is_one_line() {
        let err = Cli::try_parse_from(["t", "--nope"]).unwrap_err();
        assert_eq!(usage_message(&err), "unexpected argument '--nope' found");
    }

    /// As getopt_long words an ambiguous abbreviation, in a subcommand too.
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
                Some("option '--peer' is ambiguous; possibilities: '--peer-netns' '--peer-addr'"),
            ),
            (
                &["t", "a", "--pe=x"],
                Some("option '--pe' is ambiguous; possibilities: '--peer-netns' '--peer-addr'"),
            ),
            (&["t", "add", "--nope"], None),
        ] {
            let args = words(args);
            let err = Top::try_parse_from(&args).unwrap_err();
            assert_eq!(
                ambiguity(&Top::command(), &args, &err).as_deref(),
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
}
