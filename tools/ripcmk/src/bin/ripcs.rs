fn main() -> std::process::ExitCode {
    let cli = common::cli::parse::<ripcmk::show::Cli>("ripcs", 1);
    common::error::report("ripcs", 1, ripcmk::show::run(cli))
}
