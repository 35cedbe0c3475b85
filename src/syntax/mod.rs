//! Stage 1: source text → syntax tree.
//!
//! In: the text of one `.ftprep` file. Out: a lossless [`ast::File`] (every
//! node with its byte span, comments kept) and the syntax diagnostics of the
//! whole file. The grammar lives in `grammar/ftprep.pest`; its junk rules let
//! one run report every unreadable line rather than only the first.

pub mod ast;
mod errors;
mod parse;
mod text;

pub use errors::describe_rule;

use crate::diagnostics::{Diagnostic, Diagnostics};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/ftprep.pest"]
pub struct SpecParser;

/// The result of parsing: always a tree (possibly partial), plus every
/// syntax problem found.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Diagnostics,
}

/// Deeper nesting than any spec needs; refusing it up front keeps the
/// recursive-descent parser away from the end of the stack.
const MAX_NESTING: usize = 64;

/// Parses a spec. Never fails: a file with errors gives a partial tree and
/// diagnostics.
pub fn parse(source: &str) -> Parsed {
    let mut diagnostics = Diagnostics::new();
    let braces = scan_braces(source);
    if let Some(at) = braces.too_deep {
        diagnostics.push(
            Diagnostic::error(
                "syntax-error",
                format!("blocks are nested more than {MAX_NESTING} deep"),
            )
            .at(crate::source::Span::new(at, at + 1), "too deep")
            .help("a spec nests at most four levels (rubric, category, question, body); check for unbalanced `{`"),
        );
        return Parsed {
            file: ast::File {
                items: Vec::new(),
                comments: Vec::new(),
                span: crate::source::Span::new(0, source.len()),
            },
            diagnostics,
        };
    }
    // A `{` that is never closed makes the recovery rules scan to the end
    // of the file again and again (quadratic, worse when nested). Close
    // each one at the end of the file for the parser, report it here, and
    // drop what the parser says after the first one: with the block
    // structure broken, those are echoes, not separate problems.
    let unclosed = braces.unclosed;
    let padded;
    let text = if unclosed.is_empty() {
        source
    } else {
        padded = format!("{source}{}", "}".repeat(unclosed.len()));
        &padded
    };
    let mut builder = parse::Builder::new(text);
    let mut file = builder.parse_file();
    file.span = crate::source::Span::new(0, source.len());
    let cut = unclosed.first().copied().unwrap_or(usize::MAX);
    let keep = |d: &Diagnostic| d.primary_span().is_none_or(|s| s.start < cut);
    for error in builder.errors {
        if keep(&error) {
            diagnostics.push(error);
        }
    }
    for diagnostic in errors::explain_junk(text, &builder.junk) {
        if keep(&diagnostic) {
            diagnostics.push(diagnostic);
        }
    }
    for open in unclosed {
        diagnostics.push(errors::unclosed_brace(source, open));
    }
    Parsed { file, diagnostics }
}

/// The first `{` at or after `from`, outside strings and comments: where
/// the block whose header ends at `from` opens. For tools that work on the
/// text around a node (the formatter, the language server's quick fixes).
pub fn open_brace_after(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => return Some(i),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// What one pass over the braces of a file finds, reading strings, text
/// blocks and comments as the grammar does.
struct Braces {
    /// The first `{` nested deeper than [`MAX_NESTING`].
    too_deep: Option<usize>,
    /// Every `{` that no `}` closes.
    unclosed: Vec<usize>,
}

fn scan_braces(source: &str) -> Braces {
    let bytes = source.as_bytes();
    let mut open = Vec::new();
    let mut too_deep = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                match source[i + 3..].find("\"\"\"") {
                    Some(end) => i += 3 + end + 3,
                    // No closing `"""`: the grammar reads `""` as an empty
                    // string and carries on.
                    None => i += 2,
                }
            }
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' && bytes[j] != b'\n' {
                    if bytes[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                // An unterminated string is read as stray characters.
                i = if j < bytes.len() && bytes[j] == b'"' {
                    j + 1
                } else {
                    i + 1
                };
            }
            b'{' => {
                open.push(i);
                if open.len() > MAX_NESTING && too_deep.is_none() {
                    too_deep = Some(i);
                }
                i += 1;
            }
            b'}' => {
                open.pop();
                i += 1;
            }
            _ => i += 1,
        }
    }
    Braces {
        too_deep,
        unclosed: open,
    }
}
