//! rnsenter's entry point. `#![no_main]`: the Rust runtime's start-up
//! (a stack guard found by reading /proc/self/maps, signal handlers) costs
//! more than entering the namespaces does, and rnsenter ends by exec;
//! bench/rnsenter.sh measures it against nsenter.
#![no_main]

#[no_mangle]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let args = rnsenter::getopt::rewrite(std::env::args_os());
    let cli = common::cli::parse_from::<rnsenter::Cli>("rnsenter", 1, args);
    common::error::report_status("rnsenter", 1, rnsenter::run(cli)).into()
}
