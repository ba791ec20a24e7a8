//! boxutils: every tool in one binary, as busybox and uutils coreutils
//! ship theirs. The binary runs the tool its name says (`argv[0]`'s last
//! part, so a link `rlsns -> boxutils` is rlsns), or, called `boxutils`,
//! the tool its first argument names (`boxutils rlsns -J`, which rlsns
//! sees as `rlsns -J`). Each tool's `main` is the one its own binary runs:
//! exit codes, messages, descriptors and signals are the tool's.

use std::ffi::{OsStr, OsString};
use std::path::Path;

/// The name this binary is installed as.
const NAME: &str = "boxutils";

/// A tool's `main`: its binary's whole life, the exit code.
type Main = fn(Vec<OsString>) -> i32;

/// Every tool, by name.
const TOOLS: [(&str, Main); 10] = [
    ("rcgexec", rcgexec::main),
    ("rchroot", rchroot::main),
    ("ripcmk", ripcmk::make::main),
    ("ripcrm", ripcmk::remove::main),
    ("ripcs", ripcmk::show::main),
    ("rlsns", rlsns::main),
    ("rnsenter", rnsenter::main),
    ("roverlay", roverlay::main),
    ("runshare", runshare::main),
    ("rvethpair", rvethpair::main),
];

/// Not a tool's name (or none given): busybox's status for an applet it
/// does not have, the shell's for a command not found.
const NOT_A_TOOL: u8 = 127;

/// Runs the tool that the command line `args` (`argv[0]` first) names, with
/// `args` as its own command line; else says which names there are and
/// returns 127.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.first().map(|a| called(a)) == Some(OsStr::new(NAME)) {
        args.remove(0);
    }
    let name = args.first().map(|a| called(a)).unwrap_or_default();
    match TOOLS.iter().find(|(tool, _)| OsStr::new(tool) == name) {
        Some((_, main)) => main(args),
        None => {
            let names: Vec<&str> = TOOLS.iter().map(|(tool, _)| *tool).collect();
            let what = if name.is_empty() {
                "a tool name is missing".to_string()
            } else {
                format!("{}: not a boxutils tool", name.to_string_lossy())
            };
            let err = anyhow::anyhow!("{what} ({})", names.join(", "));
            i32::from(common::error::report(NAME, NOT_A_TOOL, Err(err)))
        }
    }
}

/// The name a program was called by: the last part of its `argv[0]`.
fn called(arg0: &OsStr) -> &OsStr {
    Path::new(arg0).file_name().unwrap_or(arg0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn called_is_the_last_part_of_argv0() {
        assert_eq!(called(OsStr::new("/usr/sbin/rchroot")), "rchroot");
        assert_eq!(called(OsStr::new("rlsns")), "rlsns");
        assert_eq!(called(OsStr::new("")), "");
    }
}
