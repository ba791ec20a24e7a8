//! runshare against util-linux unshare: the labs' namespaces, persistence,
//! exit codes and signals, and the SECURITY.md rows (setgroups, user-ns
//! maps, /proc not on procfs, descriptor leaks, cwd outside the new root).
//!
//! The helpers shared by the jobs are here; the tests are in the modules.

use std::path::Path;
use std::process::Command;

use crate::harness::{anchor, bin, cmd, have, nobody, root, run, Mounted, Ran};

mod cli;
mod maps;
mod namespaces;
mod newer;
mod options;
mod process;

/// The same command line under runshare and under unshare.
fn both(args: &[&str]) -> (Ran, Ran) {
    (
        run(cmd("runshare").args(args)),
        run(anchor("unshare").args(args)),
    )
}

/// runshare's stderr with its name where unshare's has unshare's.
fn as_unshare(stderr: &str) -> String {
    stderr.replace("runshare", "unshare")
}

/// The same exit code and stdout, and the same stderr but for the name.
#[track_caller]
fn assert_like_unshare(ours: &Ran, theirs: &Ran, what: &str) {
    assert_eq!(
        (ours.code, ours.stdout.as_str(), as_unshare(&ours.stderr)),
        (theirs.code, theirs.stdout.as_str(), theirs.stderr.clone()),
        "{what}"
    );
}

/// Both tools on `args`: runshare's stderr is `stderr`, unshare's the same
/// but for the name; both results.
#[track_caller]
fn says_like_unshare(args: &[&str], stderr: &str) -> (Ran, Ran) {
    let (ours, theirs) = both(args);
    assert_eq!(ours.stderr, stderr);
    assert_eq!(as_unshare(&ours.stderr), theirs.stderr);
    // A message is said on failure, with the anchor's exit code.
    assert_ne!(ours.code, 0, "{ours:?}");
    assert_eq!(ours.code, theirs.code, "{ours:?}\n{theirs:?}");
    (ours, theirs)
}

/// Both tools on `args` (`what` heads the messages): runshare succeeds and
/// does just what unshare does; runshare's result.
#[track_caller]
fn succeeds_like_unshare(args: &[&str], what: &str) -> Ran {
    let (ours, theirs) = both(args);
    assert_eq!(ours.code, 0, "{what}{}", ours.stderr);
    assert_eq!(ours, theirs, "{what}");
    ours
}

/// `sh -c SCRIPT` with `$R` set to the runshare under test.
fn sh(script: &str) -> Ran {
    run(Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("R", bin("runshare"))
        .env("LC_ALL", "C"))
}

/// runshare ARGS run as nobody (see [`nobody`]).
fn as_nobody(groups: &[u32], args: &[&str]) -> Command {
    let mut c = nobody(&bin("runshare"), groups);
    c.args(args);
    c
}

/// True when root, setpriv is there and nobody can run the binary under
/// test (not so when the workspace sits below /root); else a visible skip.
fn as_nobody_possible(test: &str) -> bool {
    if !root(test) || !have(test, "setpriv") {
        return false;
    }
    let ok = run(&mut as_nobody(&[], &["--version"])).code == 0;
    if !ok {
        crate::harness::skip(test, "nobody cannot run the binary under test");
    }
    ok
}

/// A tmpfs mounted on `dir`, detached when the guard drops.
fn tmpfs_on(dir: &Path) -> Mounted {
    nix::mount::mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .unwrap();
    Mounted(dir.to_path_buf())
}

/// True when `pid` has ended (gone, or a zombie nobody reaped yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}
