//! `ftprep fmt [PATHS...] [--check] [--stdin]`: rewrite specs in the
//! canonical layout (see `crate::format`).

use super::output::{Output, write_atomic};
use super::{display_name, exit};
use crate::compile::{read_source, source_from_bytes};
use crate::format::format_source;
use crate::source::SourceFile;
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Spec files, or directories to search for `.ftprep` files
    /// (default: the current directory).
    #[arg(value_name = "PATH", conflicts_with = "stdin")]
    pub paths: Vec<PathBuf>,

    /// Change nothing: print a diff of every file that is not formatted,
    /// and exit 1 if there is any.
    #[arg(long)]
    pub check: bool,

    /// Format standard input to standard output (what editors call).
    #[arg(long)]
    pub stdin: bool,

    /// The file name diagnostics give standard input.
    #[arg(
        long,
        value_name = "NAME",
        requires = "stdin",
        default_value = "<stdin>"
    )]
    pub stdin_filename: String,
}

pub fn run(args: FmtArgs, out: &Output) -> u8 {
    if args.stdin {
        return stdin(&args, out);
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let files = match super::spec_files(&paths) {
        Ok(files) => files,
        Err(message) => {
            out.error(
                &message,
                Some("pass spec files or directories holding them"),
            );
            return exit::USAGE;
        }
    };

    let mut code = exit::OK;
    let (mut changed, mut unchanged, mut failed) = (0, 0, 0);
    for path in &files {
        let source = match read_source(path, &display_name(path)) {
            Ok(source) => source,
            Err(error) => {
                failed += 1;
                code = code.max(out.read_error(error, path));
                continue;
            }
        };
        match format_file(&source, out) {
            None => {
                failed += 1;
                code = code.max(exit::SPEC_ERRORS);
            }
            Some((formatted, original)) if formatted == original => unchanged += 1,
            Some((formatted, original)) => {
                changed += 1;
                if args.check {
                    out.stdout(&diff(&source.name, &original, &formatted));
                    code = code.max(exit::SPEC_ERRORS);
                } else if let Err(e) = write_atomic(path, formatted.as_bytes()) {
                    out.error(&format!("cannot write {}: {e}", path.display()), None);
                    return exit::USAGE;
                }
            }
        }
    }
    let files_word = |n: usize| if n == 1 { "file" } else { "files" };
    let mut summary = if args.check {
        format!(
            "{changed} {} would be reformatted, {unchanged} already formatted",
            files_word(changed)
        )
    } else {
        format!(
            "{changed} {} reformatted, {unchanged} already formatted",
            files_word(changed)
        )
    };
    if failed > 0 {
        summary.push_str(&format!(", {failed} left unchanged because of errors"));
    }
    out.stderr(&format!("{summary}\n"));
    code
}

/// Formats standard input to standard output. On a syntax error, nothing
/// is written to standard output, so an editor keeps its buffer.
fn stdin(args: &FmtArgs, out: &Output) -> u8 {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        out.error(&format!("cannot read standard input: {e}"), None);
        return exit::USAGE;
    }
    let source = match source_from_bytes(&args.stdin_filename, bytes) {
        Ok(source) => source,
        Err(error) => return out.read_error(error, Path::new(&args.stdin_filename)),
    };
    match format_file(&source, out) {
        Some((formatted, original)) => {
            if args.check {
                if formatted != original {
                    out.stdout(&diff(&source.name, &original, &formatted));
                    return exit::SPEC_ERRORS;
                }
            } else {
                out.stdout(&formatted);
            }
            exit::OK
        }
        None => exit::SPEC_ERRORS,
    }
}

/// The formatted file and the file as it was, both written in the file's
/// own style (its byte-order mark and line breaks, so that a CRLF file
/// stays CRLF), or `None` after reporting why it cannot be formatted.
fn format_file(source: &SourceFile, out: &Output) -> Option<(String, String)> {
    match format_source(&source.text) {
        Ok(formatted) => Some((
            source.style.apply(&formatted),
            source.style.apply(&source.text),
        )),
        Err(diagnostics) => {
            out.diagnostics(&diagnostics, source);
            out.stderr(&format!(
                "{}: not formatted: fix the syntax errors first\n",
                source.name
            ));
            None
        }
    }
}

fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{name} (as written)"),
            &format!("{name} (formatted)"),
        )
        .to_string()
}
