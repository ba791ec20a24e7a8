//! The build script of every binary package (`build = ".../common/release-link.rs"`
//! in its Cargo.toml): release binaries are linked without unwind tables.
//!
//! A release build aborts on panic (the profile's `panic = "abort"`), so
//! nothing unwinds, yet every function of the binary still has an unwind
//! table: std comes built to unwind, and with LTO our own code gets tables
//! too (`-C force-unwind-tables=no` changes nothing there). They are
//! 53-135 KB of each binary (`.eh_frame`, with `.gcc_except_table` for
//! std's landing pads); a linker script drops them. A backtrace is the one
//! walk left; `--wrap` sends it to `common::unwind`, which ends it at once.

use std::io::Write;
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return Ok(());
    }
    let out = std::env::var_os("OUT_DIR").ok_or_else(|| std::io::Error::other("no OUT_DIR"))?;
    let script = PathBuf::from(out).join("no-unwind-tables.ld");
    let mut file = std::fs::File::create(&script)?;
    writeln!(
        file,
        "SECTIONS {{ /DISCARD/ : {{ *(.eh_frame) *(.gcc_except_table .gcc_except_table.*) }} }} \
         INSERT AFTER .text;"
    )?;
    println!("cargo::rustc-link-arg-bins=-Wl,-T,{}", script.display());
    println!("cargo::rustc-link-arg-bins=-Wl,--wrap=_Unwind_Backtrace");
    Ok(())
}
