fn main() -> std::process::ExitCode {
    let cli = common::cli::parse::<runshare::Cli>("runshare", 1);
    common::error::report("runshare", 1, runshare::run(cli))
}
