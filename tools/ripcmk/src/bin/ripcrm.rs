fn main() -> std::process::ExitCode {
    let cli = common::cli::parse::<ripcmk::remove::Cli>("ripcrm", 1);
    common::error::report("ripcrm", 1, ripcmk::remove::run(cli))
}
