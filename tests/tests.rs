//! Integration tests: the built binaries run as a user would run them, and
//! compared with their anchor tools where one exists.

mod harness;

mod packaging;
mod rchroot;
mod ripc;
mod rlsns;
mod rnsenter;
mod runshare;
mod rvethpair;
mod security;
