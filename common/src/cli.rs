//! Command-line parsing the util-linux way, and the man page text that sits
//! beside each tool's clap definition.

use std::io::Write;

use clap::error::ErrorKind;
use clap::Parser;

/// Parses the command line of `tool`. Help and version go to stdout with
/// exit 0; a usage error prints `tool: message` and `Try 'tool --help' for
/// more information.` and exits with `usage_code` (util-linux: 1, coreutils
/// chroot: 125), not clap's 2. A tool that finds itself set-user-ID or
/// set-group-ID refuses to run (fail closed: boxutils is never setuid).
pub fn parse<T: Parser>(tool: &str, usage_code: i32) -> T {
    parse_from(tool, usage_code, std::env::args_os())
}

/// [`parse`] of `args` (argv\[0\] first), for a tool that rewrites its
/// command line first (e.g. getopt forms clap does not read).
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
    match T::try_parse_from(args) {
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
                usage_message(&err)
            );
            std::process::exit(usage_code)
        }
    }
}

/// clap's error as one line, without its `error: ` prefix and usage block.
pub fn usage_message(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
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
}
