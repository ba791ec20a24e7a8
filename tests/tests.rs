//! Integration tests: the built binaries run as a user would run them, and
//! compared with their anchor tools where one exists.

// All of this crate is test code, helpers too (clippy.toml allows unwrap and
// expect only inside `#[test]` functions and `#[cfg(test)]` modules).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod badinput;
mod every_tool;
mod faults;
mod labs;
mod multicall;
mod packaging;
mod parsers;
mod rcgexec;
mod rchroot;
mod ripc;
mod rlsns;
mod rnsenter;
mod roverlay;
mod runshare;
mod rvethpair;
mod security;
