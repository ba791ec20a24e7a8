#![cfg_attr(not(test), no_main)]
//! Without Rust's start-up, as `common::main!` explains; the command line
//! goes through unshare's getopt first (`runshare::main`).

#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    runshare::main(std::env::args_os())
}
