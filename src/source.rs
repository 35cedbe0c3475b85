//! Source text, byte spans, and the one place that turns byte offsets into
//! human positions.
//!
//! Every node of the syntax tree and every diagnostic carries a [`Span`]: a
//! byte range into the source text. Byte ranges are what the parser produces
//! and what slicing needs; people and editors need lines and columns. The
//! conversion happens only in [`LineIndex`], so non-ASCII text cannot make
//! one part of the program disagree with another about where a column is.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A half-open byte range `start..end` into a source text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, serde::Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// An empty span at `offset`, for "something is missing here".
    pub const fn point(offset: usize) -> Self {
        Span {
            start: offset,
            end: offset,
        }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl From<pest::Span<'_>> for Span {
    fn from(span: pest::Span<'_>) -> Self {
        Span::new(span.start(), span.end())
    }
}

/// A spec file as read from disk (or an editor buffer).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics: the path as the user gave it.
    pub name: String,
    /// The text every stage reads: a line break written as a lone `\r`
    /// (old Mac files) is read as `\n`, byte for byte, so offsets are the
    /// file's own. Shared, so the language server can keep one while it
    /// compiles the next.
    pub text: Arc<String>,
    pub line_index: LineIndex,
    /// How the file was written, so that a rewrite (`ftprep fmt`) keeps it.
    pub style: TextStyle,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let mut text = text.into();
        let style = TextStyle {
            bom: false,
            line_ending: LineEnding::of(&text),
        };
        lone_cr_to_lf(&mut text);
        let text = Arc::new(text);
        let line_index = LineIndex::new(&text);
        SourceFile {
            name: name.into(),
            text,
            line_index,
            style,
        }
    }

    /// A file read from disk: a UTF-8 byte-order mark at its start is
    /// not part of the text (an editor does not show it either).
    pub fn with_bom(mut self, bom: bool) -> Self {
        self.style.bom = bom;
        self
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// How a file writes what is not its text: a byte-order mark, and its
/// line breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextStyle {
    pub bom: bool,
    pub line_ending: LineEnding,
}

/// The line break a file uses (the first one in it decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineEnding {
    #[default]
    Lf,
    CrLf,
    Cr,
}

impl LineEnding {
    pub fn of(text: &str) -> LineEnding {
        let bytes = text.as_bytes();
        match memchr::memchr2(b'\n', b'\r', bytes) {
            Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => LineEnding::CrLf,
            Some(i) if bytes[i] == b'\r' => LineEnding::Cr,
            _ => LineEnding::Lf,
        }
    }
}

impl TextStyle {
    /// `text`, written with `\n` line breaks, as a file in this style.
    pub fn apply(&self, text: &str) -> String {
        let text = text.replace("\r\n", "\n");
        let mut out = String::with_capacity(text.len() + 3);
        if self.bom {
            out.push('\u{feff}');
        }
        match self.line_ending {
            LineEnding::Lf => out.push_str(&text),
            LineEnding::CrLf => out.push_str(&text.replace('\n', "\r\n")),
            LineEnding::Cr => out.push_str(&text.replace('\n', "\r")),
        }
        out
    }
}

/// Rewrites each `\r` not followed by `\n` as `\n`, in place: one ASCII
/// byte for another, so every offset stays the file's own.
fn lone_cr_to_lf(text: &mut String) {
    let bytes = text.as_bytes();
    let lone: Vec<usize> = memchr::memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1) != Some(&b'\n'))
        .collect();
    if lone.is_empty() {
        return;
    }
    let mut bytes = std::mem::take(text).into_bytes();
    for i in lone {
        bytes[i] = b'\n';
    }
    // Still UTF-8: an ASCII byte replaced an ASCII byte.
    *text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

/// A position for people: 1-based line, 1-based column counted in Unicode
/// scalar values (what terminals and most editors show).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// A position for the Language Server Protocol: 0-based line, 0-based
/// character offset counted in UTF-16 code units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf16Position {
    pub line: u32,
    pub character: u32,
}

/// The start offset of every line, built once per source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            line_starts,
            len: text.len(),
        }
    }

    /// The 0-based line containing `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Byte offset where the 0-based `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(self.len)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// 1-based line and column of a byte offset. An offset inside a
    /// multi-byte character counts as that character.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let column = text[start..offset].chars().count() + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// LSP position of a byte offset.
    pub fn utf16_position(&self, text: &str, offset: usize) -> Utf16Position {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Utf16Position {
            line: line as u32,
            character: character as u32,
        }
    }

    /// Byte offset of an LSP position; positions past the end of a line
    /// clamp to the line's end, as the protocol asks.
    pub fn offset_of_utf16(&self, text: &str, position: Utf16Position) -> usize {
        let line = position.line as usize;
        if line >= self.line_starts.len() {
            return text.len();
        }
        let start = self.line_start(line);
        let end = self
            .line_starts
            .get(line + 1)
            .map(|next| next - 1)
            .unwrap_or(text.len());
        let mut units = 0usize;
        for (i, c) in text[start..end].char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "ab\nçé x\n";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(index.line_col(text, x), LineCol { line: 2, column: 4 });
        assert_eq!(index.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(
            index.line_col(text, text.len()),
            LineCol { line: 3, column: 1 }
        );
    }

    #[test]
    fn utf16_positions_round_trip() {
        let text = "a😀b\nx";
        let index = LineIndex::new(text);
        let b = text.find('b').unwrap();
        let pos = index.utf16_position(text, b);
        assert_eq!(
            pos,
            Utf16Position {
                line: 0,
                character: 3
            }
        );
        assert_eq!(index.offset_of_utf16(text, pos), b);
        // Past the end of a line clamps to the line end.
        let clamp = index.offset_of_utf16(
            text,
            Utf16Position {
                line: 0,
                character: 99,
            },
        );
        assert_eq!(clamp, text.find('\n').unwrap());
    }

    #[test]
    fn lone_carriage_returns_are_line_breaks_and_the_style_is_kept() {
        let file = SourceFile::new("f", "a\rb\r\nc\r");
        assert_eq!(file.text.as_str(), "a\nb\r\nc\n");
        assert_eq!(file.line_index.line_count(), 4);
        assert_eq!(file.style.line_ending, LineEnding::Cr);
        assert_eq!(file.style.apply("x\ny\n"), "x\ry\r");
        let crlf = SourceFile::new("f", "a\r\nb\r\n").with_bom(true);
        assert_eq!(crlf.style.apply("a\r\nb\n"), "\u{feff}a\r\nb\r\n");
        assert_eq!(
            SourceFile::new("f", "a\nb").style.line_ending,
            LineEnding::Lf
        );
    }

    #[test]
    fn offsets_inside_a_character_round_down() {
        let text = "é";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 1), LineCol { line: 1, column: 1 });
    }
}
