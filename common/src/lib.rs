//! What two or more boxutils tools share: command-line parsing and man page
//! text, errors and exit codes, fork/exec/wait, namespace kinds and mountinfo.

pub mod caps;
pub mod cli;
pub mod error;
pub mod getopt;
pub mod mountinfo;
pub mod names;
pub mod netns;
pub mod ns;
pub mod process;
pub mod rollback;
pub mod size;
