//! What every tool does the same way, through `common`: a help or an
//! output that cannot be written is util-linux's (or coreutils') `write
//! error`, with the tool's failure code.

use crate::harness::{anchor, cmd, needs, run_into, TOOLS};

fn full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

#[test]
fn help_that_cannot_be_written_is_a_write_error_in_every_tool() {
    for (tool, code, theirs) in TOOLS {
        let ours = run_into(cmd(tool).arg("--help"), full());
        assert_eq!(
            (ours.code, ours.stderr.as_str()),
            (
                code,
                &*format!("{tool}: write error: No space left on device\n")
            ),
            "{tool}"
        );
        if !theirs.is_empty() && needs!(theirs) {
            let anchored = run_into(anchor(theirs).arg("--help"), full());
            assert_eq!(ours.code, anchored.code, "{tool} and {theirs}");
            assert_eq!(
                ours.stderr.replacen(tool, theirs, 1),
                anchored.stderr,
                "{tool} and {theirs}"
            );
        }
    }
}

/// An output that cannot be written (here ipcs's and lsns's listings).
#[test]
fn output_that_cannot_be_written_is_a_write_error() {
    for tool in ["ripcs", "rlsns"] {
        let ran = run_into(&mut cmd(tool), full());
        assert_eq!(
            (ran.code, ran.stderr.as_str()),
            (
                1,
                &*format!("{tool}: write error: No space left on device\n")
            ),
            "{tool}"
        );
    }
}
