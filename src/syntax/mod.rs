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
use crate::parallel::{Helper, Task};
use std::sync::Arc;

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

/// Files smaller than this are parsed on one thread: below it, handing
/// half the file over costs about what it saves.
const SPLIT_MIN: usize = 16 * 1024;

/// [`parse`], with the second half of a large file parsed on `helper`'s
/// thread.
pub fn parse_on(helper: &Helper, source: &str) -> Parsed {
    start_parse(helper, &Arc::new(source.to_string())).finish()
}

/// Starts parsing `source`: hands the second half of a large file to
/// `helper`, and returns at once. [`PendingParse::finish`] parses the
/// rest on the calling thread and joins the two.
///
/// The file is cut at a line that starts after a top-level block has
/// closed (see `Braces::split`), so each half is a run of whole top-level
/// blocks and the tree is the one [`parse`] builds. The halves are only
/// used when both parse cleanly: a file with unreadable lines is parsed
/// again in one piece, so that its diagnostics, which can look past a cut,
/// are exactly those of [`parse`].
pub fn start_parse(helper: &Helper, source: &Arc<String>) -> PendingParse {
    let braces = scan_braces(source);
    let split = braces.split.filter(|_| {
        helper.has_thread()
            && source.len() >= SPLIT_MIN
            && braces.too_deep.is_none()
            && braces.unclosed.is_empty()
    });
    let tail = split.map(|split| {
        let source = Arc::clone(source);
        let task = helper.spawn(move || {
            // The second half keeps its offsets: the first half becomes
            // one comment line, which pest skips with one scan to the
            // newline.
            let mut padded = String::with_capacity(source.len());
            padded.push('#');
            padded.push_str(&" ".repeat(split.saturating_sub(2)));
            padded.push('\n');
            padded.push_str(&source[split..]);
            let mut builder = parse::Builder::new(&padded);
            let mut file = builder.parse_file();
            file.comments.retain(|c| c.span.start >= split);
            let clean = builder.junk.is_empty() && builder.errors.is_empty();
            (file, clean)
        });
        (split, task)
    });
    PendingParse {
        source: Arc::clone(source),
        braces,
        tail,
    }
}

/// A parse whose second half may be under way on a helper thread.
pub struct PendingParse {
    source: Arc<String>,
    braces: Braces,
    tail: Option<(usize, Task<(ast::File, bool)>)>,
}

impl PendingParse {
    /// Parses the first half on the calling thread and returns the whole
    /// result.
    pub fn finish(self) -> Parsed {
        let source = &*self.source;
        let Some((split, tail)) = self.tail else {
            return parse_scanned(source, self.braces);
        };
        let mut builder = parse::Builder::new(&source[..split]);
        let mut file = builder.parse_file();
        let head_clean = builder.junk.is_empty() && builder.errors.is_empty();
        let (tail, tail_clean) = tail.join();
        if !(head_clean && tail_clean) {
            return parse_scanned(source, self.braces);
        }
        file.items.extend(tail.items);
        file.comments.extend(tail.comments);
        file.span = crate::source::Span::new(0, source.len());
        Parsed {
            file,
            diagnostics: Diagnostics::new(),
        }
    }
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
    /// The first line start in the second half of the file that is a clean
    /// boundary between top-level blocks: the line before it ends with the
    /// `}` that closes a top-level block (then at most blanks or a
    /// comment). A block's header may span lines, so any other line start
    /// could cut an item in two.
    split: Option<usize>,
}

fn scan_braces(source: &str) -> Braces {
    let bytes = source.as_bytes();
    let mut open = Vec::new();
    let mut too_deep = None;
    let mut split = None;
    // Set when a `}` closes a top-level block and only blanks and comments
    // have followed on its line.
    let mut after_top_close = false;
    let half = bytes.len() / 2;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'\n' {
            if after_top_close && split.is_none() && i + 1 >= half {
                split = Some(i + 1);
            }
            i += 1;
            continue;
        }
        if !matches!(byte, b' ' | b'\t' | b'\r' | b'#') {
            after_top_close = false;
        }
        match byte {
            b'#' => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
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
                // To the closing quote or the end of the line, stepping
                // over each escaped character.
                while let Some(n) =
                    memchr::memchr3(b'"', b'\n', b'\\', &bytes[j.min(bytes.len())..])
                {
                    j += n;
                    if bytes[j] != b'\\' {
                        break;
                    }
                    j += 2;
                }
                let j = j.min(bytes.len());
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
                after_top_close = open.pop().is_some() && open.is_empty();
                i += 1;
            }
            _ => i += 1,
        }
    }
    Braces {
        too_deep,
        unclosed: open,
        split,
    }
}

#[cfg(test)]
mod tests {
    use super::scan_braces;

    #[test]
    fn the_cut_follows_a_line_that_closes_a_top_level_block() {
        let text = "domain d {\n  title \"{ not a brace\"\n}\n\
                    # between\n\
                    framework f\n  \"Split header\" {\n  about \"x\"\n} # done\n\
                    failure g \"G\" { about \"y\" }\n";
        let cut = scan_braces(text).split.expect("a cut");
        assert!(cut >= text.len() / 2);
        // After `} # done`, not inside the framework's header.
        assert_eq!(&text[cut..], "failure g \"G\" { about \"y\" }\n");
        // A block that does not close before the end leaves no cut.
        assert_eq!(
            scan_braces("domain d {\n}\nrubric {\n  gate s \"S\" {\n").split,
            None
        );
        // Text after a closing brace on its line is not a clean boundary.
        assert_eq!(scan_braces("a {\n} b\n").split, None);
    }

    #[test]
    fn the_shipped_specs_have_a_cut_in_their_second_half() {
        let therapy = include_str!("../../specs/therapy.ftprep");
        let cut = scan_braces(therapy).split.expect("a cut");
        assert!(cut >= therapy.len() / 2 && cut < therapy.len());
        assert!(
            therapy[..cut]
                .trim_end()
                .lines()
                .last()
                .is_some_and(|l| l.trim_start().starts_with('}'))
        );
    }
}
