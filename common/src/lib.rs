//! What two or more boxutils tools share: a tool's `main` and command line
//! (cli, getopt, help), errors and exit codes, fork/exec/wait, namespaces (kinds,
//! named netns, capabilities), mountinfo, the new mount API by descriptor,
//! user names, undo on failure.

pub mod caps;
pub mod cgroup;
pub mod cli;
pub mod error;
pub mod getopt;
pub mod help;
pub mod mount;
pub mod mountinfo;
pub mod names;
pub mod netns;
pub mod ns;
pub mod num;
pub mod process;
pub mod rollback;
mod unwind;
