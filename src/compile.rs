//! The compiler driver: source text in, spec and diagnostics out. Every
//! front end (the CLI now, the language server later) calls this one
//! function, so they report the same things.

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::lint::{self, LintOptions};
use crate::model::{self, Spec};
use crate::source::{SourceFile, Span};
use crate::syntax::{self, ast};
use std::sync::Arc;

/// Everything known about one spec file after compiling it.
#[derive(Debug, Clone)]
pub struct Compilation {
    pub source: SourceFile,
    pub syntax: ast::File,
    /// Present when the spec has the blocks a spec cannot do without; it
    /// may still have errors (see `diagnostics`).
    /// Shared, so that the language server can keep answering from one
    /// compilation while it makes the next.
    pub spec: Option<Arc<Spec>>,
    pub diagnostics: Diagnostics,
}

impl Compilation {
    /// The spec, when it compiled without errors.
    pub fn clean_spec(&self) -> Option<&Arc<Spec>> {
        if self.diagnostics.has_errors() {
            None
        } else {
            self.spec.as_ref()
        }
    }
}

/// Parses, resolves and checks a spec.
///
/// Syntax errors come first: when the file has any, the model's own
/// diagnostics are not reported, because a line the parser could not read
/// would show up again as a string of unknown references and missing
/// answers. The (partial) model is still built for editor features.
pub fn compile(source: SourceFile) -> Compilation {
    compile_with(source, &LintOptions::default())
}

/// [`compile`] with lint levels set on the command line.
///
/// Lint rules run only on a spec without errors: they read the resolved
/// model, and a model with unresolved references would make them guess.
pub fn compile_with(source: SourceFile, lint_options: &LintOptions) -> Compilation {
    let (syntax, spec, mut diagnostics) = resolve(syntax::parse(&source.text));
    if let (false, Some(spec)) = (diagnostics.has_errors(), &spec) {
        diagnostics.extend(lint::lint(spec, &source.text, lint_options));
    }
    Compilation {
        source,
        syntax,
        spec,
        diagnostics,
    }
}

/// Resolves a parse: everything before the lint rules.
///
/// Syntax errors come first: when the file has any, the model's own
/// diagnostics are dropped (see [`compile`]).
fn resolve(parsed: syntax::Parsed) -> (ast::File, Option<Arc<Spec>>, Diagnostics) {
    let mut diagnostics = parsed.diagnostics;
    if parsed.file.items.is_empty() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::error("empty-spec", "this spec is empty")
                .at(Span::point(0), "nothing to compile")
                .help("run `ftprep init my_domain` for a starter spec, or see docs/language.md"),
        );
    }
    let lowered = model::lower(&parsed.file);
    if !diagnostics.has_errors() {
        diagnostics.extend(lowered.diagnostics);
    }
    (parsed.file, lowered.spec.map(Arc::new), diagnostics)
}

/// Why a spec file could not be read as text.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be read at all.
    Io(std::io::Error),
    /// The file is not UTF-8: a diagnostic located at the first bad byte,
    /// with the text decoded lossily for display.
    NotUtf8(Box<(SourceFile, Diagnostic)>),
}

/// Reads a spec file. `name` is how diagnostics refer to it.
pub fn read_source(path: &std::path::Path, name: &str) -> Result<SourceFile, ReadError> {
    let bytes = std::fs::read(path).map_err(ReadError::Io)?;
    source_from_bytes(name, bytes)
}

/// Decodes a spec's bytes. A UTF-8 byte-order mark at the start is not
/// part of the text (see [`SourceFile::with_bom`]).
pub fn source_from_bytes(name: &str, mut bytes: Vec<u8>) -> Result<SourceFile, ReadError> {
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    if bom {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text).with_bom(bom)),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let bad_len = error.utf8_error().error_len().unwrap_or(1);
            let lossy = String::from_utf8_lossy(error.as_bytes()).into_owned();
            // In the lossy text the bad bytes became one U+FFFD (3 bytes).
            let diagnostic = Diagnostic::error("invalid-utf8", "this file is not valid UTF-8")
                .at(
                    Span::new(at, at + '\u{FFFD}'.len_utf8()),
                    format!("{bad_len} byte(s) that are not UTF-8"),
                )
                .help("save the spec as UTF-8 (most editors offer \"UTF-8\" under \"Save with encoding\")");
            Err(ReadError::NotUtf8(Box::new((
                SourceFile::new(name, lossy),
                diagnostic,
            ))))
        }
    }
}
