//! The command line: argument parsing and wiring of the stages. Nothing
//! here knows the language; each subcommand lives in its own file.

mod build;
mod cache;
mod check;
mod compare;
mod fmt;
mod generate;
mod init;
mod judge;
mod lint_args;
pub mod output;
mod output_set;
mod pilot;
mod rules;
mod score;

use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand, ValueEnum};
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
    Build(Deferred<build::BuildArgs>),
    /// Compile a spec and report problems, writing nothing.
    Check(Deferred<check::CheckArgs>),
    /// Write a starter spec that compiles cleanly.
    Init(Deferred<init::InitArgs>),
    /// Rewrite specs in the canonical layout.
    Fmt(Deferred<fmt::FmtArgs>),
    /// Run the language server, over standard input and output.
    Lsp,
    /// Judge conversations with the spec's rubric, over OpenAI-compatible
    /// or Anthropic APIs: resumable, cached, checked against the spec's
    /// calibration examples first.
    Judge(Deferred<judge::JudgeArgs>),
    /// Generate conversations from the spec's taxonomy and personas: a
    /// simulated user and the assistant taking turns, resumable.
    Generate(Deferred<generate::GenerateArgs>),
    /// Run the method's loop once: calibration check, generate, judge,
    /// score and report, in one resumable run.
    Pilot(Deferred<pilot::PilotArgs>),

    /// The response cache shared by every run: where it is, and why a call
    /// misses it.
    Cache(Deferred<cache::CacheArgs>),
    /// Score judged data: verdicts, summary, report, spot-check, training set.
    // Boxed: its arguments are most of the enum's size.
    Score(Box<Deferred<score::ScoreArgs>>),
    /// Compare two scored runs: pass rates, per-category and per-question
    /// changes, and paired tests on the records they share.
    Compare(Deferred<compare::CompareArgs>),
    /// List every lint rule.
    Rules(Deferred<rules::RulesArgs>),
    /// Explain a lint rule, with a bad and a good example.
    Explain(Deferred<rules::ExplainArgs>),
}

/// A subcommand's arguments, which clap adds to its command line only when
/// that subcommand is the one run ([`clap::Command::defer`]). Building the
/// arguments of all eight took about a tenth of a millisecond of every run,
/// most of it for `score`'s.
#[derive(Debug)]
pub struct Deferred<T>(pub T);

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Deferred)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args_for_update)
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

/// The program that runs the commands which call models, installed beside
/// `ftprep`. The compiler's binary does not link the HTTP client, the
/// async runtime, SQLite or the tokenizers: they made every process start
/// 0.2 ms slower (15,000 more relocations), `build` and `check` included,
/// which never use them.
pub const MODELS_PROGRAM: &str = "ftprep-llm";

/// Runs the command line of `ftprep` and returns the process exit code.
/// The commands that call models are handed to [`MODELS_PROGRAM`].
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let cli = match parse(&args) {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    let out = output::Output::new(cli.color);
    ExitCode::from(match compiler_command(cli.command, &out) {
        Ok(code) => code,
        Err(_) => hand_over(&args, &out),
    })
}

/// Runs the command line of [`MODELS_PROGRAM`]: every command, those that
/// call models included.
pub fn run_models(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let cli = match parse(&args) {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    let out = output::Output::new(cli.color);
    ExitCode::from(match compiler_command(cli.command, &out) {
        Ok(code) => code,
        Err(models) => match *models {
            Command::Judge(Deferred(args)) => judge::run(args, &out),
            Command::Generate(Deferred(args)) => generate::run(args, &out),
            Command::Pilot(Deferred(args)) => pilot::run(args, &out),

            Command::Cache(Deferred(args)) => cache::run(args, &out),
            _ => exit::USAGE,
        },
    })
}

fn parse(args: &[std::ffi::OsString]) -> Result<Cli, u8> {
    Cli::try_parse_from(args).map_err(|error| {
        let _ = error.print();
        if error.use_stderr() {
            exit::USAGE
        } else {
            exit::OK
        }
    })
}

/// Runs a command that does not call models; gives back one that does.
fn compiler_command(command: Command, out: &output::Output) -> Result<u8, Box<Command>> {
    Ok(match command {
        Command::Build(Deferred(args)) => build::run(args, out),
        Command::Check(Deferred(args)) => check::run(args, out),
        Command::Init(Deferred(args)) => init::run(args, out),
        Command::Fmt(Deferred(args)) => fmt::run(args, out),
        Command::Lsp => match crate::lsp::run_stdio() {
            Ok(()) => exit::OK,
            Err(e) => {
                out.error(&format!("the language server stopped: {e}"), None);
                exit::USAGE
            }
        },
        Command::Score(args) => score::run(args.0, out),
        Command::Compare(Deferred(args)) => compare::run(args, out),
        Command::Rules(Deferred(args)) => rules::list(args, out),
        Command::Explain(Deferred(args)) => rules::explain(args, out),
        models @ (Command::Judge(_)
        | Command::Generate(_)
        | Command::Pilot(_)
        | Command::Cache(_)) => return Err(Box::new(models)),
    })
}

/// Runs the command line `args` as [`MODELS_PROGRAM`], found beside this
/// program: on Unix in place of this process (signals and the exit code
/// are its own), elsewhere as a child whose exit code is passed on.
fn hand_over(args: &[std::ffi::OsString], out: &output::Output) -> u8 {
    let program = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(format!("{MODELS_PROGRAM}{}", std::env::consts::EXE_SUFFIX)));
    let Some(program) = program.filter(|p| p.is_file()) else {
        out.error(
            &format!("this command runs in {MODELS_PROGRAM}, which is not installed beside ftprep"),
            Some("`cargo install --path .` installs both; in a checkout, `cargo build --bins` builds both"),
        );
        return exit::USAGE;
    };
    let mut command = std::process::Command::new(&program);
    command.args(args.iter().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.arg0("ftprep").exec();
        out.error(&format!("cannot run {}: {error}", program.display()), None);
        exit::USAGE
    }
    #[cfg(not(unix))]
    {
        match command.status() {
            Ok(status) => status.code().map_or(exit::USAGE, |c| c as u8),
            Err(error) => {
                out.error(&format!("cannot run {}: {error}", program.display()), None);
                exit::USAGE
            }
        }
    }
}

/// The name diagnostics use for a path: as the user wrote it.
pub fn display_name(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A spec path argument.
pub type SpecPath = PathBuf;

/// The spec files `paths` name: each file as given, and every `.ftprep`
/// file under each directory, sorted (hidden directories, `target/` and
/// `node_modules/` are skipped). An error when there are none.
pub fn spec_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            find_specs(path, &mut files)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err("no .ftprep files found".into());
    }
    Ok(files)
}

fn find_specs(dir: &std::path::Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                find_specs(&path, files)?;
            }
        } else if path.extension().is_some_and(|e| e == "ftprep") {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads a spec named on the command line; `-` is standard input.
pub fn read_spec(
    path: &std::path::Path,
) -> Result<crate::source::SourceFile, crate::compile::ReadError> {
    if path.as_os_str() == "-" {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(crate::compile::ReadError::Io)?;
        return crate::compile::source_from_bytes("<stdin>", bytes);
    }
    crate::compile::read_source(path, &display_name(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        // Builds every subcommand, the deferred ones included, and checks
        // clap's own rules (unique names, valid defaults, ...).
        Cli::command().debug_assert();
    }

    #[test]
    fn deferred_arguments_are_parsed() {
        let cli = Cli::try_parse_from(["ftprep", "build", "a.ftprep", "--out", "dir", "--check"])
            .expect("parses");
        let Command::Build(Deferred(args)) = cli.command else {
            panic!("not a build");
        };
        assert_eq!(args.specs, vec![PathBuf::from("a.ftprep")]);
        assert_eq!(args.out, Some(PathBuf::from("dir")));
        assert!(args.check);
        let error = Cli::try_parse_from(["ftprep", "build", "a.ftprep", "--chek"])
            .expect_err("a typo is an error");
        assert_eq!(error.kind(), clap::error::ErrorKind::UnknownArgument);
    }
}
