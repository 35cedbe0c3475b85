//! The command line: argument parsing and wiring of the stages. Nothing
//! here knows the language; each subcommand lives in its own file.

mod build;
mod check;
mod fmt;
mod init;
mod lint_args;
pub mod output;
mod rules;
mod score;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes, as documented in the README.
pub mod exit {
    /// Everything is fine.
    pub const OK: u8 = 0;
    /// The spec has errors, or `--check` found stale artifacts.
    pub const SPEC_ERRORS: u8 = 1;
    /// Bad usage or an I/O error.
    pub const USAGE: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "ftprep",
    version,
    about = "Compile fine-tuning preparation specs into judge and generation prompts",
    long_about = "ftprep compiles one .ftprep spec (frameworks, failure modes, behavioural anchors, a binary rubric and calibration examples) into an evaluation prompt, a generation prompt, reference documents and a scoring config."
)]
pub struct Cli {
    /// When to use colour in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile a spec and write its artifacts.
    Build(build::BuildArgs),
    /// Compile a spec and report problems, writing nothing.
    Check(check::CheckArgs),
    /// Write a starter spec that compiles cleanly.
    Init(init::InitArgs),
    /// Rewrite specs in the canonical layout.
    Fmt(fmt::FmtArgs),
    /// Run the language server, over standard input and output.
    Lsp,
    /// Score judged data: verdicts, summary, report, spot-check, training set.
    Score(score::ScoreArgs),
    /// List every lint rule.
    Rules(rules::RulesArgs),
    /// Explain a lint rule, with a bad and a good example.
    Explain(rules::ExplainArgs),
}

/// Runs the command line and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let out = output::Output::new(cli.color);
    let code = match cli.command {
        Command::Build(args) => build::run(args, &out),
        Command::Check(args) => check::run(args, &out),
        Command::Init(args) => init::run(args, &out),
        Command::Fmt(args) => fmt::run(args, &out),
        Command::Lsp => match crate::lsp::run_stdio() {
            Ok(()) => exit::OK,
            Err(e) => {
                out.error(&format!("the language server stopped: {e}"), None);
                exit::USAGE
            }
        },
        Command::Score(args) => score::run(args, &out),
        Command::Rules(args) => rules::list(args, &out),
        Command::Explain(args) => rules::explain(args, &out),
    };
    ExitCode::from(code)
}

/// The name diagnostics use for a path: as the user wrote it.
pub fn display_name(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A spec path argument.
pub type SpecPath = PathBuf;
