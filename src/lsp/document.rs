//! One open document, in two parts: the latest text the client sent
//! ([`Text`], changed in place of the old one on every `didChange`, which
//! is cheap) and what the compiler made of one version of it
//! ([`Document`]: the compilation and its symbol index, built on the
//! compile worker). Every handler reads a `Document`; none parses on its
//! own.

use super::index::Index;
use crate::compile::{Compilation, compile};
use crate::source::{LineIndex, SourceFile, Span, Utf16Position};
use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};
use std::sync::Arc;

/// A version of a document's text, as the client sent it.
pub struct Text {
    pub version: i32,
    pub source: SourceFile,
}

impl Text {
    pub fn new(uri: &Uri, version: i32, text: String) -> Text {
        Text {
            version,
            source: SourceFile::new(display_name(uri), text),
        }
    }

    /// The text after `changes`, applied as the client sent them, in
    /// order: a change with a range replaces that range, one without
    /// replaces the whole text.
    pub fn apply(&self, version: i32, changes: Vec<TextDocumentContentChangeEvent>) -> Text {
        let mut text = self.source.text.to_string();
        // Until the first edit, the text is this one, whose line index is
        // at hand: a keystroke (one change) builds one index, not two.
        let mut unchanged = true;
        for change in changes {
            match change.range {
                Some(range) => {
                    let built;
                    let index = if unchanged {
                        &self.source.line_index
                    } else {
                        built = LineIndex::new(&text);
                        &built
                    };
                    let start = offset_in(&text, index, range.start);
                    let end = offset_in(&text, index, range.end).max(start);
                    text.replace_range(start..end, &change.text);
                }
                None => text = change.text,
            }
            unchanged = false;
        }
        Text {
            version,
            source: SourceFile::new(self.source.name.clone(), text),
        }
    }

    pub fn text(&self) -> &str {
        &self.source.text
    }

    /// The byte offset of an LSP position in this text.
    pub fn offset(&self, position: Position) -> usize {
        offset_in(&self.source.text, &self.source.line_index, position)
    }

    /// The LSP range of a span of this text.
    pub fn range(&self, span: Span) -> Range {
        let source = &self.source;
        let position = |offset| {
            let p = source.line_index.utf16_position(&source.text, offset);
            Position::new(p.line, p.character)
        };
        Range::new(position(span.start), position(span.end))
    }
}

/// The most diagnostics published for one document: far more than a spec
/// being written has, few enough that a pasted or generated one cannot
/// flood the editor (a rubric of 2,000 near-duplicate questions once gave
/// 164,440). The rest are counted in one more, at the top of the file.
pub const MAX_DIAGNOSTICS: usize = 1000;

/// One version of a document, compiled.
pub struct Document {
    pub uri: Uri,
    pub version: i32,
    pub compilation: Compilation,
    pub index: Index,
}

impl Document {
    /// Compiles `text`: the whole of the work a change costs.
    pub fn compile(uri: Uri, text: &Text) -> Document {
        // The text is shared, not copied: `is_of` compares it by address.
        let mut compilation = compile(text.source.clone());
        compilation.diagnostics.limit(MAX_DIAGNOSTICS);
        let index = Index::build(&compilation.syntax);
        Document {
            uri,
            version: text.version,
            compilation,
            index,
        }
    }

    /// Whether this is the compilation of `text` (that very version, not
    /// an equal text).
    pub fn is_of(&self, text: &Text) -> bool {
        Arc::ptr_eq(&self.compilation.source.text, &text.source.text)
    }

    pub fn text(&self) -> &str {
        &self.compilation.source.text
    }

    /// The byte offset of an LSP position in the compiled text.
    pub fn offset(&self, position: Position) -> usize {
        let source = &self.compilation.source;
        offset_in(&source.text, &source.line_index, position)
    }

    pub fn position(&self, offset: usize) -> Position {
        let source = &self.compilation.source;
        let p = source.line_index.utf16_position(&source.text, offset);
        Position::new(p.line, p.character)
    }

    /// The LSP range of a span of the compiled text.
    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    pub fn slice(&self, span: Span) -> &str {
        self.compilation.source.slice(span)
    }
}

fn offset_in(text: &str, index: &LineIndex, position: Position) -> usize {
    index.offset_of_utf16(
        text,
        Utf16Position {
            line: position.line,
            character: position.character,
        },
    )
}

/// How diagnostics name the document: its file name.
fn display_name(uri: &Uri) -> String {
    let path = uri.path().as_str();
    path.rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(path)
        .to_string()
}
