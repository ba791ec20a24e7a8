//! ripcmk, ripcs and ripcrm against util-linux ipcmk, ipcs and ipcrm. Every
//! test runs in IPC namespaces of its own (`harness::in_ipcns`), so the
//! host's objects and limits are never touched; both tools run side by side
//! on the same objects.
//!
//! The helpers shared by the jobs are here; the tests are in the modules.

use crate::harness::{anchor, cmd, have, root, run, Ran};

mod make_remove;
mod posix;
mod ripcs;
mod usage;

/// Runs a shell script (util-linux tools, perl) in the caller's namespaces.
fn sh(script: &str) -> Ran {
    let ran = run(anchor("sh").args(["-c", script]));
    assert_eq!(ran.code, 0, "{script}: {}", ran.stderr);
    ran
}

/// The rows of an ipcs listing: the lines that start with a key.
fn key_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("0x")).collect()
}

/// ipcs's rows in the caller's namespace.
fn rows() -> Vec<String> {
    // A failed ipcs would list nothing, and "nothing left" would pass.
    let listed = run(anchor("ipcs").arg("-a"));
    assert_eq!(listed.code, 0, "ipcs -a: {listed:?}");
    key_lines(&listed.stdout)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Root, and the util-linux tools to compare with.
fn ready(test: &str) -> bool {
    root(test) && have(test, "ipcmk") && have(test, "ipcs") && have(test, "ipcrm")
}

/// Our tool and util-linux's on the same arguments: the same exit code,
/// stdout and stderr (ours names itself).
fn same(ours: &str, theirs: &str, args: &[&str]) {
    let a = run(cmd(ours).args(args));
    let b = run(anchor(theirs).args(args));
    assert_eq!(a.code, b.code, "{ours} {args:?}: {a:?} vs {b:?}");
    assert_eq!(a.stdout, b.stdout, "{ours} {args:?}");
    assert_eq!(
        a.stderr.replace(&format!("{ours}:"), &format!("{theirs}:")),
        b.stderr,
        "{ours} {args:?}"
    );
}

/// Objects of every kind, made by both tools, one owned by a uid without
/// a name, a queue holding a message (used bytes, send time, sender pid).
fn populate() {
    sh("ipcmk -M 5000 && ipcmk -M 1M -p 0600 && ipcmk -Q && ipcmk -S 3 -p 0640");
    let ours = run(cmd("ripcmk").args(["-M", "100", "-Q", "-S", "1", "-p", "0660"]));
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    sh("setpriv --reuid 12345 --regid 12345 --clear-groups ipcmk -M 64 -Q -S 2 >/dev/null");
    sh(r#"perl -e 'msgsnd(0, pack("l! a*", 1, "hello world"), 0) or die "msgsnd: $!"'"#);
}
