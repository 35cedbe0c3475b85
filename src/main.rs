use std::process::ExitCode;

fn main() -> ExitCode {
    ftprep::cli::run(std::env::args_os())
}
