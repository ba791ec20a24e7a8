fn main() -> std::process::ExitCode {
    let cli = common::cli::parse_from::<rlsns::Cli>("rlsns", 1, rlsns::args(std::env::args_os()));
    common::error::report("rlsns", 1, rlsns::run(cli))
}
