//! runshare: util-linux unshare — run a program with some namespaces
//! unshared from the parent — with its refusals made before anything is
//! created and errors that say why a namespace could not be made.
//!
//! `getopt` reads the command line as unshare does, `cli` is its clap form
//! and man page, `plan` decides everything (the privileged steps too, as a
//! list) after `checks` refused bad input, and `exec` carries the plan out.

mod checks;
mod cli;
mod exec;
pub mod getopt;
mod idmap;
mod parse;
pub mod plan;
mod sys;

use std::ffi::OsString;

use clap::CommandFactory;

pub use cli::{pages, Cli};
use plan::Plan;

/// The binary's whole life: unshare's command line read as getopt_long
/// reads it (usage errors in its words, exit 1), then [`run`].
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    // Fail closed before anything, as common::cli::parse_from does.
    common::cli::refuse_setid("runshare", 1);
    let text = match getopt::canonical(args) {
        Ok(getopt::Line::Run(parsed)) => {
            return common::cli::main_direct::<Cli>("runshare", 1, parsed, run)
        }
        Ok(getopt::Line::Help) => common::help::render(&Cli::command(), false),
        Ok(getopt::Line::Version) => Cli::command().render_version(),
        Err(getopt::Refusal::Usage(usage)) => {
            return common::cli::usage_error("runshare", 1, usage)
        }
        Err(getopt::Refusal::Value(err)) => {
            return i32::from(common::error::report("runshare", 1, Err(err)));
        }
    };
    common::cli::print_help("runshare", 1, &text)
}

/// Runs the command in its new namespaces; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    Plan::new(cli)?.execute()
}
