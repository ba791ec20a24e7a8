//! The stack walk of release binaries, which carry no unwind tables
//! (`common/release-link.rs`). Release builds abort on panic, so nothing
//! unwinds; only a backtrace would still walk the stack (std takes one for
//! anyhow's errors and for a panic message under RUST_BACKTRACE or
//! RUST_LIB_BACKTRACE), and libgcc's unwinder, finding no table for its
//! own frame, would abort the process. The linker sends that walk here.

/// libgcc's `_Unwind_Backtrace(trace, arg)` in release binaries
/// (`--wrap=_Unwind_Backtrace`): the walk ends at once, with no frame
/// (`_URC_END_OF_STACK`), and the backtrace is empty.
#[no_mangle]
pub extern "C" fn __wrap__Unwind_Backtrace(
    _trace: *const libc::c_void,
    _arg: *mut libc::c_void,
) -> libc::c_int {
    5
}
