//! `ftprep check SPEC...`: everything `build` does but writing.

use super::output::Output;
use super::{display_name, exit};
use crate::compile::{compile, read_source};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The spec files to check.
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<PathBuf>,
}

pub fn run(args: CheckArgs, out: &Output) -> u8 {
    let mut code = exit::OK;
    for path in &args.specs {
        let source = match read_source(path, &display_name(path)) {
            Ok(source) => source,
            Err(error) => {
                code = code.max(out.read_error(error, path));
                continue;
            }
        };
        let compilation = compile(source);
        out.compilation(&compilation);
        if compilation.diagnostics.has_errors() {
            code = code.max(exit::SPEC_ERRORS);
        } else if let Some(spec) = &compilation.spec {
            out.stderr(&format!(
                "{}: ok ({} questions in {} categories and the gate, {} calibration examples)\n",
                compilation.source.name,
                spec.rubric.questions.len(),
                spec.rubric.categories.len(),
                spec.calibration.len()
            ));
        }
    }
    code
}
