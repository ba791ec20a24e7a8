fn main() -> std::process::ExitCode {
    let cli = common::cli::parse::<rchroot::Cli>("rchroot", 125);
    common::error::report("rchroot", 125, rchroot::run(cli))
}
