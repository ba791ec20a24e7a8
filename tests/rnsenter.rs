//! rnsenter against util-linux nsenter: the same command line into
//! namespaces the test makes itself gives the same stdout and exit code.
//!
//! The helpers shared by the jobs are here; the tests are in the modules.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::harness::{anchor, cmd, have, root, run, Process, Ran};

mod enter;
mod fds;
mod forms;
mod targets;

/// The environment variable the target carries, for `-e`.
const MARK: &str = "BXT_RNSENTER_MARK";

/// A target: `unshare ARGS sh -c SCRIPT`, where SCRIPT ends in `sleep`;
/// `forks` says whether the sleeping process is a child of the one started.
fn target(args: &[&str], script: &str, forks: bool) -> Process {
    target_by(anchor("unshare"), args, script, forks)
}

/// [`target`] with `unshare` run by `unshare` (e.g. setpriv).
fn target_by(mut unshare: Command, args: &[&str], script: &str, forks: bool) -> Process {
    unshare
        .args(args)
        .args(["sh", "-c", script])
        .env(MARK, format!("marker-{}", std::process::id()));
    Process::sleeping(&mut unshare, forks)
}

/// Root, and nsenter to compare with.
fn ready(test: &str) -> bool {
    root(test) && have(test, "nsenter")
}

/// `sleep` as PID 1 of new PID, mount and UTS namespaces, hostname set.
fn pid_mnt_uts() -> Process {
    target(
        &["-fpmu", "--mount-proc"],
        "hostname bxt-rnsenter && exec sleep 1000",
        true,
    )
}

/// Runs `rnsenter ARGS` and `nsenter ARGS` from `dir` and checks that they
/// print the same and end the same; returns rnsenter's run.
fn same_as_nsenter(args: &[&str], dir: &Path) -> Ran {
    let ours = run(cmd("rnsenter").args(args).current_dir(dir));
    let theirs = run(anchor("nsenter").args(args).current_dir(dir));
    assert_eq!(
        (ours.code, &ours.stdout),
        (theirs.code, &theirs.stdout),
        "rnsenter {args:?}: {ours:?}\nnsenter: {theirs:?}"
    );
    ours
}

fn same_as_nsenter_here(args: &[&str]) -> Ran {
    same_as_nsenter(args, Path::new("/"))
}

fn readlink(path: &str) -> String {
    format!("{}\n", fs::read_link(path).unwrap().display())
}
