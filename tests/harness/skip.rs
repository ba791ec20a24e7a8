//! Tests that do not run say so, where `cargo test` shows it and where
//! `.ci/run` counts it: a skip for a reason CI meets (root, a program it
//! installs) fails the CI run.

use std::path::Path;

/// The name of the function this expands in (the test), for the skip
/// message: the last segment of a local item's type name that is neither
/// that item nor a closure.
macro_rules! test_name {
    () => {{
        fn here() {}
        std::any::type_name_of_val(&here)
            .rsplit("::")
            .find(|s| *s != "here" && !s.starts_with('{'))
            .unwrap_or("?")
    }};
}

/// [`root`] for the test this expands in, named from its own name.
macro_rules! needs_root {
    () => {
        $crate::harness::root($crate::harness::test_name!())
    };
}

/// [`have`] for the test this expands in, named from its own name.
macro_rules! needs {
    ($program:expr) => {
        $crate::harness::have($crate::harness::test_name!(), $program)
    };
}

pub(crate) use {needs, needs_root, test_name};

/// True when root; else a visible skip that CI counts as one it could
/// have met (CI runs as root).
pub fn root(test: &str) -> bool {
    let is_root = nix::unistd::geteuid().is_root();
    if !is_root {
        skipped(Why::Root, test, "needs root");
    }
    is_root
}

/// True when `program` is on PATH; else a visible skip that CI counts as
/// one it could have met (the package belongs in `.ci/run`'s install list).
pub fn have(test: &str, program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if !found {
        skipped(Why::Package, test, &format!("{program} is not installed"));
    }
    found
}

/// Says, where `cargo test` shows it, that a test did not run and why: for
/// a host that cannot run it (a kernel feature, a layout), not root or a
/// missing program (see [`root`], [`have`]).
pub fn skip(test: &str, why: &str) {
    skipped(Why::Host, test, why);
}

/// Why a test did not run, as `.ci/run` counts it.
#[derive(Clone, Copy)]
enum Why {
    /// Not root: CI is, so a skip there is a failure.
    Root,
    /// A program is missing: CI installs it, so a skip there is a failure.
    Package,
    /// The host cannot run it: counted, not a failure.
    Host,
}

/// Writes `SKIP test: why` to stderr (libtest captures `eprintln!`, not
/// this) and appends `KIND<TAB>test<TAB>why` in one write to the file named
/// by `BOXUTILS_SKIP_LOG`, which `.ci/run` counts.
fn skipped(kind: Why, test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {why}");
    if let Some(log) = std::env::var_os("BOXUTILS_SKIP_LOG") {
        let kind = match kind {
            Why::Root => "root",
            Why::Package => "package",
            Why::Host => "host",
        };
        let line = format!("{kind}\t{test}\t{why}\n");
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = appended {
            panic!("cannot log the skip in {}: {e}", Path::new(&log).display());
        }
    }
}

/// Says something on stderr where `cargo test` shows it (not a skip).
pub fn say(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{what}");
}

#[test]
fn test_name_is_the_name_of_the_test() {
    assert_eq!(test_name!(), "test_name_is_the_name_of_the_test");
    let in_closure = || test_name!();
    assert_eq!(in_closure(), "test_name_is_the_name_of_the_test");
}
