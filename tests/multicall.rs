//! The multi-call binary `boxutils` (multicall/): through a link named as
//! a tool, or as `boxutils TOOL`, it answers as that tool's own binary
//! does (same output, messages and exit codes); any other name is 127.
//! `cargo test` builds it with the other binaries (`--workspace`, see
//! `harness::bin_dir`); an installed package holds it only when installed
//! with `packaging/install.sh --multi-call`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{bin, cmd, in_ipcns, needs_root, run, skip, tempdir, test_name, Ran, TOOLS};

/// The multi-call binary, or a visible skip when the binaries under test
/// hold none (an installed package of separate binaries).
fn boxutils(test: &str) -> Option<PathBuf> {
    let boxutils = bin("boxutils");
    if !boxutils.is_file() {
        skip(test, &format!("no {}", boxutils.display()));
        return None;
    }
    Some(boxutils)
}

/// A temp dir with a link per tool name to the multi-call binary, removed
/// on drop.
struct Links {
    dir: tempfile::TempDir,
}

impl Links {
    /// The links, or a visible skip (see [`boxutils`]).
    fn new(test: &str) -> Option<Links> {
        let boxutils = boxutils(test)?;
        let dir = tempdir(test);
        for (tool, _, _) in TOOLS {
            std::os::unix::fs::symlink(&boxutils, dir.path().join(tool)).unwrap();
        }
        Some(Links { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A command for `tool` through its link, with the locale of [`cmd`].
    fn cmd(&self, tool: &str) -> Command {
        let mut c = Command::new(self.path(tool));
        c.env("LC_ALL", "C");
        c
    }
}

/// `tool ARGS` through its link and by its own binary: the same result.
fn same(links: &Links, tool: &str, args: &[&str]) -> Ran {
    let ours = run(links.cmd(tool).args(args));
    let own = run(cmd(tool).args(args));
    assert_eq!(
        ours, own,
        "{tool} {args:?}: the link (left), the binary (right)"
    );
    ours
}

/// The message of a name that is no tool's: every tool is named.
fn not_a_tool(name: &str) -> String {
    let names: Vec<&str> = TOOLS.iter().map(|(tool, _, _)| *tool).collect();
    format!(
        "boxutils: {name}: not a boxutils tool ({})\n",
        names.join(", ")
    )
}

#[test]
fn every_tool_through_its_link_answers_as_its_binary() {
    let Some(links) = Links::new(test_name!()) else {
        return;
    };
    for (tool, code, _) in TOOLS {
        let version = same(&links, tool, &["--version"]);
        assert_eq!(
            (version.code, version.stdout),
            (0, format!("{tool} {}\n", env!("CARGO_PKG_VERSION")))
        );
        let help = same(&links, tool, &["--help"]);
        assert_eq!(help.code, 0, "{tool} --help: {}", help.stderr);
        assert!(help.stdout.contains("--version"), "{tool} --help");
        same(&links, tool, &["-h"]);
        let usage = same(&links, tool, &["--no-such-option"]);
        assert_eq!(usage.code, code, "{tool} --no-such-option");
        assert!(
            usage.stderr.starts_with(&format!("{tool}: ")),
            "{tool}: {}",
            usage.stderr
        );
    }
}

#[test]
fn rchroot_through_its_link_fails_as_its_binary() {
    let Some(links) = Links::new(test_name!()) else {
        return;
    };
    let missing = same(&links, "rchroot", &["/no-such-dir", "/bin/true"]);
    assert_eq!(missing.code, 125, "{missing:?}");
    if !needs_root!() {
        return;
    }
    let ran = same(&links, "rchroot", &["/", "/no-such-command"]);
    assert_eq!(
        (ran.code, ran.stderr.as_str()),
        (
            127,
            "rchroot: failed to run command '/no-such-command': No such file or directory\n"
        )
    );
    let ran = same(
        &links,
        "rchroot",
        &["/", "/bin/sh", "-c", "echo in; exit 3"],
    );
    assert_eq!((ran.code, ran.stdout.as_str()), (3, "in\n"));
}

/// The namespaces of this test process, seen by both: columns that do not
/// change while other tests start processes.
#[test]
fn rlsns_through_its_link_lists_as_its_binary() {
    let Some(links) = Links::new(test_name!()) else {
        return;
    };
    let pid = std::process::id().to_string();
    for args in [
        &["-n", "-o", "NS,TYPE,PATH,UID,USER", "-p", &pid][..],
        &["-J", "-o", "NS,TYPE", "-p", &pid],
    ] {
        let ran = same(&links, "rlsns", args);
        assert_eq!(ran.code, 0, "{ran:?}");
        assert!(ran.stdout.contains("mnt"), "{ran:?}");
    }
}

#[test]
fn ripcs_through_its_link_lists_as_its_binary() {
    let Some(links) = Links::new(test_name!()) else {
        return;
    };
    let limits = same(&links, "ripcs", &["-l"]);
    assert!(limits.stdout.contains("Shared Memory Limits"), "{limits:?}");
    if !needs_root!() {
        return;
    }
    // An object of its own, in an IPC namespace that dies with the thread.
    let shown = in_ipcns(move || {
        let made = run(links.cmd("ripcmk").args(["-M", "4096"]));
        assert_eq!(made.code, 0, "{made:?}");
        (same(&links, "ripcs", &["-m"]), made.stdout)
    });
    let id = shown.1.split_whitespace().last().unwrap().to_string();
    assert!(
        shown
            .0
            .stdout
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(&*id)),
        "shmid {id} not listed: {:?}",
        shown.0
    );
}

#[test]
fn boxutils_runs_the_tool_its_first_argument_names() {
    let Some(boxutils) = boxutils(test_name!()) else {
        return;
    };
    let ran = run(Command::new(&boxutils).args(["rlsns", "--version"]));
    assert_eq!(
        ran,
        Ran {
            code: 0,
            stdout: format!("rlsns {}\n", env!("CARGO_PKG_VERSION")),
            stderr: String::new()
        }
    );
    // The tool sees its own name: its usage error says it.
    let ran = run(Command::new(&boxutils).args(["rchroot", "--nope"]));
    let own = run(cmd("rchroot").arg("--nope"));
    assert_eq!((ran.code, &ran), (125, &own));
}

#[test]
fn other_names_are_127_and_one_line() {
    let Some(links) = Links::new(test_name!()) else {
        return;
    };
    let boxutils = bin("boxutils");
    let renamed = links.path("rfoo");
    std::os::unix::fs::symlink(&boxutils, &renamed).unwrap();
    let cases: [(&Path, &[&str], String); 4] = [
        (&renamed, &["--version"], not_a_tool("rfoo")),
        (&boxutils, &["nope", "--version"], not_a_tool("nope")),
        (&boxutils, &["--help"], not_a_tool("--help")),
        (
            &boxutils,
            &[],
            not_a_tool("").replace(": : not a boxutils tool", ": a tool name is missing"),
        ),
    ];
    for (program, args, message) in cases {
        let ran = run(Command::new(program).args(args));
        assert_eq!(
            ran,
            Ran {
                code: 127,
                stdout: String::new(),
                stderr: message
            },
            "{program:?} {args:?}"
        );
    }
}
