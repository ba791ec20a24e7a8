fn main() -> std::process::ExitCode {
    let cli = common::cli::parse::<ripcmk::make::Cli>("ripcmk", 1);
    common::error::report("ripcmk", 1, ripcmk::make::run(cli))
}
