fn main() -> std::process::ExitCode {
    let cli = common::cli::parse::<rvethpair::Cli>("rvethpair", 1);
    common::error::report("rvethpair", 1, rvethpair::run(cli))
}
