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
    let mut files = Vec::new();
    for path in &paths {
        if path.is_dir() {
            if let Err(e) = find_specs(path, &mut files) {
                out.error(&format!("cannot read {}: {e}", path.display()), None);
                return exit::USAGE;
            }
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        out.error(
            "no .ftprep files found",
            Some("pass spec files or directories holding them"),
        );
        return exit::USAGE;
    }

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
            Some(formatted) if *formatted == *source.text => unchanged += 1,
            Some(formatted) => {
                changed += 1;
                if args.check {
                    out.stdout(&diff(&source.name, &source.text, &formatted));
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
        Some(formatted) => {
            if args.check {
                if *formatted != *source.text {
                    out.stdout(&diff(&source.name, &source.text, &formatted));
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

/// The formatted text, or `None` after reporting why the file cannot be
/// formatted.
fn format_file(source: &SourceFile, out: &Output) -> Option<String> {
    match format_source(&source.text) {
        Ok(formatted) => Some(formatted),
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

/// Every `.ftprep` file under `dir`, sorted; hidden directories and
/// `target/` are skipped.
fn find_specs(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
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
