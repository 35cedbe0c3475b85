//! `ftprep check SPEC... [--format human|json|github|sarif]`: everything
//! `build` does but writing.

use super::exit;
use super::lint_args::LintArgs;
use super::output::Output;
use crate::compile::{Compilation, ReadError, compile_with};
use crate::diagnostics::Diagnostics;
use crate::diagnostics::formats::{self, FileReport};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The spec files to check, directories to search for `.ftprep`
    /// files, or `-` for standard input.
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<PathBuf>,

    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    #[command(flatten)]
    pub lint: LintArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Rendered for people, in colour on a terminal.
    Human,
    /// One JSON document (schema in docs/lint.md).
    Json,
    /// GitHub Actions workflow annotations.
    Github,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

pub fn run(args: CheckArgs, out: &Output) -> u8 {
    let options = match args.lint.options() {
        Ok(o) => o,
        Err(message) => {
            out.error(&message, None);
            return exit::USAGE;
        }
    };
    let specs = match super::spec_files(&args.specs) {
        Ok(specs) => specs,
        Err(message) => {
            out.error(
                &message,
                Some("pass spec files, directories holding them, or `-`"),
            );
            return exit::USAGE;
        }
    };
    let mut code = exit::OK;
    let mut compilations: Vec<Compilation> = Vec::new();
    for path in &specs {
        let source = match super::read_spec(path) {
            Ok(source) => source,
            Err(ReadError::NotUtf8(boxed)) if args.format != Format::Human => {
                let (file, diagnostic) = *boxed;
                let mut diagnostics = Diagnostics::new();
                diagnostics.push(diagnostic);
                compilations.push(Compilation {
                    syntax: crate::syntax::parse("").file,
                    spec: None,
                    source: file,
                    diagnostics,
                });
                code = code.max(exit::SPEC_ERRORS);
                continue;
            }
            Err(error) => {
                code = code.max(out.read_error(error, path));
                continue;
            }
        };
        let mut compilation = compile_with(source, &options);
        compilation.diagnostics.limit(args.lint.max_diagnostics);
        if compilation.diagnostics.has_errors() {
            code = code.max(exit::SPEC_ERRORS);
        }
        if args.format == Format::Human {
            out.compilation(&compilation);
            if let (false, Some(spec)) = (compilation.diagnostics.has_errors(), &compilation.spec) {
                out.stderr(&format!(
                    "{}: ok ({} questions in {} categories and the gate, {} calibration examples)\n",
                    compilation.source.name,
                    spec.rubric.questions.len(),
                    spec.rubric.categories.len(),
                    spec.calibration.len()
                ));
            }
        }
        compilations.push(compilation);
    }
    let reports: Vec<FileReport<'_>> = compilations
        .iter()
        .map(|c| FileReport {
            file: &c.source,
            diagnostics: &c.diagnostics,
        })
        .collect();
    match args.format {
        Format::Human => {}
        Format::Json => out.stdout(&formats::json(&reports)),
        Format::Github => out.stdout(&formats::github(&reports)),
        Format::Sarif => out.stdout(&formats::sarif(&reports)),
    }
    // Left to the operating system at exit, as in `build`.
    drop(reports);
    std::mem::forget(compilations);
    code
}
