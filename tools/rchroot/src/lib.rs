//! rchroot: coreutils chroot, plus a root that cannot be climbed out of
//! (`--pivot`) and a way to fill a new root (`--install`).

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Context;
use clap::{CommandFactory, Parser};

/// Run COMMAND with root directory set to NEWROOT.
#[derive(Parser, Debug)]
#[command(name = "rchroot", version, infer_long_args = true)]
pub struct Cli {
    /// Do not change the working directory to / (only with NEWROOT = /).
    #[arg(long)]
    pub skip_chdir: bool,

    /// The new root directory.
    pub newroot: PathBuf,

    /// The command to run, with its arguments (default: "$SHELL -i").
    #[arg(trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

/// Man page text beside the clap definition.
pub fn pages() -> Vec<common::cli::Page> {
    vec![common::cli::Page {
        command: Cli::command(),
        section: "8",
        sections: &[
            (
                "EXIT STATUS",
                "125 if rchroot itself fails, 126 if COMMAND is found but cannot be run, \
                 127 if COMMAND is not found, else the exit status of COMMAND.",
            ),
            ("EXAMPLES", "  rchroot /srv/root /bin/sh -c 'echo inside'"),
            ("SEE ALSO", "chroot(1), chroot(2), pivot_root(2)"),
        ],
    }]
}

/// Runs the command in the new root; returns only on failure.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    nix::unistd::chroot(&cli.newroot).with_context(|| {
        format!(
            "cannot change root directory to '{}'",
            cli.newroot.display()
        )
    })?;
    if !cli.skip_chdir {
        nix::unistd::chdir("/").context("cannot chdir to root directory")?;
    }
    let argv = if cli.command.is_empty() {
        vec![
            std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into()),
            "-i".into(),
        ]
    } else {
        cli.command
    };
    let program = argv[0].to_string_lossy().into_owned();
    Err(anyhow::Error::new(common::process::exec(&argv))
        .context(format!("failed to run command '{program}'")))
}
