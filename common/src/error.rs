//! Errors and exit codes: `TOOL: what failed: why`, one line on stderr.
//!
//! Tools return `anyhow::Result<u8>`; a failure that has an exit code of its
//! own carries a typed leaf ([`Exec`], [`Code`]) somewhere in its chain, and
//! every other failure takes the tool's default code. A usage error
//! ([`Usage`]) is followed by the `Try 'TOOL --help'` line, a failed write
//! to stdout ([`WriteError`]) is util-linux's `write error`, and a warning
//! ([`warn`]) is `TOOL: warning: ...`.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Write};

/// The command could not be executed: 127 when it was not found, else 126
/// (POSIX shells, coreutils chroot, util-linux unshare and nsenter agree).
#[derive(Debug)]
pub struct Exec {
    pub program: OsString,
    pub source: io::Error,
}

impl Exec {
    pub fn code(&self) -> u8 {
        match self.source.kind() {
            io::ErrorKind::NotFound => 127,
            _ => 126,
        }
    }
}

impl fmt::Display for Exec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&strerror(&self.source))
    }
}

impl std::error::Error for Exec {}

/// A failure whose exit code differs from the tool's default.
#[derive(Debug)]
pub struct Code(pub u8, pub String);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for Code {}

/// A usage error (bad option, missing operand): reported as `TOOL: text`
/// and `Try 'TOOL --help' for more information.`, with the tool's default
/// exit code (util-linux `errtryhelp`, coreutils `usage`).
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Writing to stdout failed (`>/dev/full`): reported as util-linux's
/// `close_stdout` reports it, `TOOL: write error: WHY`, with the tool's
/// default exit code. A broken pipe stays quiet (see [`report`]).
#[derive(Debug)]
pub struct WriteError(pub io::Error);

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("write error")
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// A failed write to stdout as a [`WriteError`], for `map_err` on a tool's
/// output: `out.write_all(..).map_err(common::error::write_error)?`.
pub fn write_error(err: io::Error) -> anyhow::Error {
    WriteError(err).into()
}

/// Prints `TOOL: warning: TEXT` on stderr: something the user should know
/// that does not stop the tool.
pub fn warn(tool: &str, text: impl fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{tool}: warning: {text}");
}

/// Prints the outcome of a tool's `run` and turns it into the exit code:
/// `Ok(n)` exits `n`; an error prints `tool: a: b: c` on one line (and the
/// `Try 'TOOL --help'` line after a [`Usage`] error) and exits with the
/// code its chain carries, else `default`. Stdout is flushed here (a tool's
/// `main` ends without Rust's start-up and clean-up): when that fails it is
/// a [`WriteError`], and so is a bare `io::Error` (one without context: a
/// tool's `writeln!(out, ..)?`), since every other failure names what
/// failed. A broken pipe on stdout is a quiet success (`rlsns | head -1`
/// when SIGPIPE is ignored), as util-linux's close_stdout has it.
pub fn report(tool: &str, default: u8, result: anyhow::Result<u8>) -> u8 {
    let result = result
        .and_then(|code| io::stdout().flush().map(|()| code).map_err(write_error))
        .map_err(|err| {
            // Every other call says what it did (STYLE: context naming the
            // object): a bare system error is a write of the output.
            if err.chain().count() > 1 {
                return err;
            }
            match err.downcast::<io::Error>() {
                Ok(io) => write_error(io),
                Err(err) => err,
            }
        });
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => 0,
        Err(err) => {
            let mut stderr = io::stderr().lock();
            let _ = writeln!(stderr, "{tool}: {}", one_line(&err));
            if err.chain().any(|e| e.is::<Usage>()) {
                let _ = writeln!(stderr, "Try '{tool} --help' for more information.");
            }
            code_of(&err, default)
        }
    }
}

/// The exit code an error carries, or `default`.
pub fn code_of(err: &anyhow::Error, default: u8) -> u8 {
    err.chain()
        .find_map(|e| {
            e.downcast_ref::<Exec>()
                .map(Exec::code)
                .or_else(|| e.downcast_ref::<Code>().map(|c| c.0))
        })
        .unwrap_or(default)
}

/// The whole chain on one line, `outer: inner: root`, with plain strerror
/// text for system errors (no "(os error 2)", no "ENOENT: ").
pub fn one_line(err: &anyhow::Error) -> String {
    let parts: Vec<String> = err
        .chain()
        .map(|e| {
            if let Some(io) = e.downcast_ref::<io::Error>() {
                strerror(io)
            } else if let Some(errno) = e.downcast_ref::<nix::errno::Errno>() {
                strerror(&io::Error::from(*errno))
            } else {
                e.to_string()
            }
        })
        .collect();
    parts.join(": ").replace('\n', " ")
}

/// The C library's text for an OS error (strerror(3), as the anchors print
/// it: "Input/output error", not nix's kernel-comment "I/O error"), else the
/// error's own text.
pub fn strerror(err: &io::Error) -> String {
    let text = err.to_string();
    match err.raw_os_error() {
        // std words it "{strerror_r} (os error N)".
        Some(errno) => text
            .strip_suffix(&format!(" (os error {errno})"))
            .unwrap_or(&text)
            .to_string(),
        None => text,
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn chain_is_one_line_with_strerror_text() {
        let err = Err::<(), _>(io::Error::from_raw_os_error(libc::ENOENT))
            .context("cannot open /x")
            .unwrap_err();
        assert_eq!(one_line(&err), "cannot open /x: No such file or directory");
        assert_eq!(code_of(&err, 1), 1);
    }

    /// The texts of glibc's strerror(), where nix's table differs.
    #[test]
    fn strerror_is_the_c_librarys() {
        for (errno, text) in [
            (libc::EIO, "Input/output error"),
            (libc::EAGAIN, "Resource temporarily unavailable"),
            (libc::ENOMEM, "Cannot allocate memory"),
            (libc::ELOOP, "Too many levels of symbolic links"),
            (libc::EOPNOTSUPP, "Operation not supported"),
            (libc::ENOENT, "No such file or directory"),
        ] {
            assert_eq!(strerror(&io::Error::from_raw_os_error(errno)), text);
            let err = anyhow::Error::new(nix::errno::Errno::from_raw(errno)).context("x");
            assert_eq!(one_line(&err), format!("x: {text}"));
        }
    }

    #[test]
    fn exec_failures_carry_126_or_127() {
        let not_found = Exec {
            program: "x".into(),
            source: io::Error::from_raw_os_error(libc::ENOENT),
        };
        let denied = Exec {
            program: "x".into(),
            source: io::Error::from_raw_os_error(libc::EACCES),
        };
        let err = anyhow::Error::new(not_found).context("failed to run command 'x'");
        assert_eq!(code_of(&err, 125), 127);
        assert_eq!(
            one_line(&err),
            "failed to run command 'x': No such file or directory"
        );
        assert_eq!(code_of(&anyhow::Error::new(denied), 125), 126);
    }

    #[test]
    fn write_errors_read_as_util_linux_words_them() {
        let err = write_error(io::Error::from_raw_os_error(libc::ENOSPC));
        assert_eq!(one_line(&err), "write error: No space left on device");
        assert_eq!(code_of(&err, 125), 125);
        let pipe = write_error(io::Error::from_raw_os_error(libc::EPIPE));
        assert_eq!(report("t", 1, Err(pipe)), 0);
        // A tool's bare `?` on a write of its output is one too.
        let bare = anyhow::Error::new(io::Error::from_raw_os_error(libc::ENOSPC));
        assert_eq!(report("t", 7, Err(bare)), 7);
        // With context it is what the context says, whatever its root.
        let named =
            Err::<(), _>(io::Error::from_raw_os_error(libc::ENOENT)).context("cannot open x");
        assert_eq!(report("t", 1, named.map(|()| 0)), 1);
    }

    #[test]
    fn usage_errors_keep_the_tools_code() {
        let err = anyhow::Error::new(Usage("missing operand".into()));
        assert_eq!(code_of(&err, 125), 125);
        assert_eq!(report("t", 1, Err(err)), 1);
    }

    #[test]
    fn code_leaf_sets_the_exit_code() {
        let err = anyhow::Error::new(Code(2, "bad".into())).context("outer");
        assert_eq!(code_of(&err, 1), 2);
        assert_eq!(one_line(&err), "outer: bad");
    }
}
