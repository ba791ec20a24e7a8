fn main() -> std::process::ExitCode {
    let cli = common::cli::parse::<rnsenter::Cli>("rnsenter", 1);
    common::error::report("rnsenter", 1, rnsenter::run(cli))
}
