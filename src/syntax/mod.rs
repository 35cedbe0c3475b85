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
    parse_scanned(source, scan_braces(source))
}

fn parse_scanned(source: &str, braces: Braces) -> Parsed {
    let mut diagnostics = Diagnostics::new();
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
        // On a line of their own: a string left open on the last line runs
        // to the end of that line, and must not take the braces with it.
        padded = format!("{source}\n{}", "}".repeat(unclosed.len()));
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

/// Reads the file's braces the way the grammar's junk rules read them
/// (see "Error recovery" in `grammar/ftprep.pest`): a comment runs to the
/// end of its line, a string to its closing quote or the end of its line,
/// a text block to its closing `"""`. The parse then agrees with this scan
/// on which `{` each `}` closes, which is what keeps recovery linear.
fn scan_braces(source: &str) -> Braces {
    let bytes = source.as_bytes();
    let mut open = Vec::new();
    let mut too_deep = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                match memchr::memmem::find(&bytes[i + 3..], b"\"\"\"") {
                    Some(end) => i += 3 + end + 3,
                    // No closing `"""`: the grammar reads `""` as an empty
                    // string and carries on.
                    None => i += 2,
                }
            }
            b'"' => i = string_end(bytes, i),
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

/// Where the string opened by the `"` at `open` ends: after its closing
/// quote, or at the end of its line when it has none. A backslash escapes
/// the character after it, except a line break.
fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut j = open + 1;
    while let Some(n) = memchr::memchr3(b'"', b'\n', b'\\', &bytes[j..]) {
        j += n;
        match bytes[j] {
            b'"' => return j + 1,
            b'\n' => return j,
            _ if bytes.get(j + 1).is_some_and(|&b| b != b'\n') => j += 2,
            _ => j += 1,
        }
        if j >= bytes.len() {
            break;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::{parse, scan_braces};

    #[test]
    fn braces_in_comments_and_strings_are_not_braces() {
        let scan = scan_braces("a { # {\n \"{\" \"\"\" { \"\"\" } \"unterminated {\n}");
        assert_eq!(scan.unclosed, Vec::<usize>::new());
        // An escaped quote does not end a string; a backslash before a line
        // break does not carry it onto the next line.
        assert_eq!(scan_braces("\"\\\" {\"").unclosed, Vec::<usize>::new());
        assert_eq!(scan_braces("\"a\\\n{").unclosed, vec![4]);
    }

    #[test]
    fn junk_reads_braces_as_the_scan_does() {
        // A `{` in a comment after an unclosed group must not open another
        // group: each one used to double the parse's work.
        let mut text = String::from("never {\n  a \"x\" guards b{{\n}\n");
        for _ in 0..40 {
            text.push_str("# {\n");
        }
        let parsed = parse(&text);
        assert!(parsed.diagnostics.has_errors());
    }
}
