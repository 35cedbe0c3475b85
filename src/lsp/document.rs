//! One open document: its text, what the compiler made of it, and its
//! symbol index, rebuilt on every change. Every handler reads this; none
//! parses on its own.

use super::index::Index;
use crate::compile::{Compilation, compile};
use crate::source::{SourceFile, Span, Utf16Position};
use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

pub struct Document {
    pub uri: Uri,
    pub version: i32,
    pub compilation: Compilation,
    pub index: Index,
}

impl Document {
    pub fn new(uri: Uri, version: i32, text: String) -> Document {
        let name = display_name(&uri);
        let compilation = compile(SourceFile::new(name, text));
        let index = Index::build(&compilation.syntax);
        Document {
            uri,
            version,
            compilation,
            index,
        }
    }

    pub fn text(&self) -> &str {
        &self.compilation.source.text
    }

    /// Applies edits as the client sent them, in order: a change with a
    /// range replaces that range, one without replaces the whole text.
    pub fn apply(self, version: i32, changes: Vec<TextDocumentContentChangeEvent>) -> Document {
        let mut text = self.compilation.source.text.to_string();
        for change in changes {
            match change.range {
                Some(range) => {
                    let index = crate::source::LineIndex::new(&text);
                    let start = offset_in(&text, &index, range.start);
                    let end = offset_in(&text, &index, range.end).max(start);
                    text.replace_range(start..end, &change.text);
                }
                None => text = change.text,
            }
        }
        Document::new(self.uri, version, text)
    }

    /// The byte offset of an LSP position.
    pub fn offset(&self, position: Position) -> usize {
        let source = &self.compilation.source;
        offset_in(&source.text, &source.line_index, position)
    }

    pub fn position(&self, offset: usize) -> Position {
        let source = &self.compilation.source;
        let p = source.line_index.utf16_position(&source.text, offset);
        Position::new(p.line, p.character)
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    pub fn slice(&self, span: Span) -> &str {
        self.compilation.source.slice(span)
    }
}

fn offset_in(text: &str, index: &crate::source::LineIndex, position: Position) -> usize {
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
