//! `ftprep-llm`: the program that runs ftprep's commands that call models
//! (`judge`, `cache`), which `ftprep` hands them to. It is a program of its
//! own so that the compiler's (`build`, `check`, `fmt`, `lsp`, `score`)
//! does not link the HTTP client, the async runtime, SQLite or the
//! tokenizers: see `ftprep::cli::MODELS_PROGRAM`.

use std::process::ExitCode;

fn main() -> ExitCode {
    ftprep::cli::run_models(std::env::args_os())
}
