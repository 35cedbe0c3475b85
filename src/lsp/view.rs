//! What a request sees: the text it was made against and the last
//! compilation that finished, which may be of an older text while the
//! compile worker catches up with the typing.
//!
//! The two texts differ in one region: whatever lies between their common
//! beginning and their common end (one edit, or several that a compilation
//! has not caught up with). Positions and spans outside that region mean
//! the same in both texts, shifted by the change in length after it;
//! inside it, the compilation knows nothing of the new text. So:
//!
//! * a request position maps to the compiled text only outside the region
//!   ([`View::to_compiled`]); inside it, hover and go to definition have
//!   no answer until the compilation of the new text lands;
//! * a compiled span maps back only if it neither overlaps nor touches the
//!   region ([`View::compiled_range`]): a name next to an edit may have
//!   grown;
//! * the span of a block around the region grows or shrinks with it
//!   ([`View::outline_span`]), so that the outline and "the block the
//!   cursor is in" stay right while typing inside a block.
//!
//! Every conversion lands inside the request's text: nothing is ever out
//! of range, whatever the two texts are.

use super::document::{Document, Text};
use crate::source::Span;
use lsp_types::{Position, Range};

pub struct View<'a> {
    /// The last compilation that finished.
    pub doc: &'a Document,
    /// The text the request was made against.
    pub text: &'a Text,
    /// `None` when `doc` is the compilation of `text`.
    delta: Option<Delta>,
}

/// The region where the texts differ: `start..old_end` in the compiled
/// text became `start..new_end` in the request's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Delta {
    start: usize,
    old_end: usize,
    new_end: usize,
}

impl<'a> View<'a> {
    pub fn new(doc: &'a Document, text: &'a Text) -> View<'a> {
        let delta = (!doc.is_of(text)).then(|| Delta::between(doc.text(), text.text()));
        View { doc, text, delta }
    }

    /// Whether the compilation is of the request's text.
    pub fn is_current(&self) -> bool {
        self.delta.is_none()
    }

    /// The request's text.
    pub fn text(&self) -> &str {
        self.text.text()
    }

    /// The byte offset of a position in the request's text.
    pub fn offset(&self, position: Position) -> usize {
        self.text.offset(position)
    }

    /// The range of a span of the request's text.
    pub fn range(&self, span: Span) -> Range {
        self.text.range(span)
    }

    /// The offset in the compiled text of an offset in the request's, when
    /// it is outside the region that changed.
    pub fn to_compiled(&self, offset: usize) -> Option<usize> {
        let Some(d) = self.delta else {
            return Some(offset);
        };
        if offset <= d.start {
            Some(offset)
        } else if offset >= d.new_end {
            Some(offset - d.new_end + d.old_end)
        } else {
            None
        }
    }

    /// A span of the compiled text in the request's, when the change
    /// neither overlaps nor touches it.
    pub fn compiled_span(&self, span: Span) -> Option<Span> {
        let Some(d) = self.delta else {
            return Some(span);
        };
        if span.end < d.start {
            Some(span)
        } else if span.start > d.old_end {
            Some(Span::new(
                span.start - d.old_end + d.new_end,
                span.end - d.old_end + d.new_end,
            ))
        } else {
            None
        }
    }

    /// The range in the request's text of a span of the compiled text, as
    /// [`View::compiled_span`] maps it.
    pub fn compiled_range(&self, span: Span) -> Option<Range> {
        self.compiled_span(span).map(|s| self.range(s))
    }

    /// A span of the compiled text in the request's, with an end inside the
    /// changed region moved to the region's end (and a start to its start):
    /// a block around an edit grows or shrinks with it. The mapping keeps
    /// order, so a span inside another stays inside it.
    pub fn outline_span(&self, span: Span) -> Span {
        let Some(d) = self.delta else {
            return span;
        };
        let start = if span.start <= d.start {
            span.start
        } else if span.start >= d.old_end {
            span.start - d.old_end + d.new_end
        } else {
            d.start
        };
        let end = if span.end <= d.start {
            span.end
        } else if span.end >= d.old_end {
            span.end - d.old_end + d.new_end
        } else {
            d.new_end
        };
        Span::new(start, end.max(start))
    }
}

impl Delta {
    /// The region where `old` and `new` differ, with its ends on character
    /// boundaries of both.
    fn between(old: &str, new: &str) -> Delta {
        let (a, b) = (old.as_bytes(), new.as_bytes());
        let mut start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        // The bytes before `start` are the same in both texts, so a step
        // back reaches a boundary of both at once.
        while !(old.is_char_boundary(start) && new.is_char_boundary(start)) {
            start -= 1;
        }
        let room = a.len().min(b.len()) - start;
        let mut same = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take(room)
            .take_while(|(x, y)| x == y)
            .count();
        while !(old.is_char_boundary(a.len() - same) && new.is_char_boundary(b.len() - same)) {
            same -= 1;
        }
        Delta {
            start,
            old_end: a.len() - same,
            new_end: b.len() - same,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn delta(old: &str, new: &str) -> (usize, usize, usize) {
        let d = Delta::between(old, new);
        (d.start, d.old_end, d.new_end)
    }

    #[test]
    fn the_changed_region_is_between_the_common_ends() {
        assert_eq!(delta("abcdef", "abXYef"), (2, 4, 4));
        assert_eq!(delta("abcdef", "abcXdef"), (3, 3, 4));
        assert_eq!(delta("abcdef", "abef"), (2, 4, 2));
        assert_eq!(delta("", "abc"), (0, 0, 3));
        // A repeated letter: the common end does not overlap the start.
        assert_eq!(delta("aaa", "aaaa"), (3, 3, 4));
        // `é` and `è` share their first byte: the region starts before it.
        assert_eq!(delta("café!", "cafè!"), (3, 5, 5));
        // `é` (C3 A9) and `©` (C2 A9) share their last byte: the region
        // ends after it.
        assert_eq!(delta("xé", "x©"), (1, 3, 3));
    }

    fn uri() -> lsp_types::Uri {
        lsp_types::Uri::from_str("file:///t.ftprep").unwrap()
    }

    #[test]
    fn spans_map_outside_the_change_only() {
        let old = Text::new(&uri(), 1, "domain d {\n  title \"T\"\n}\n".to_string());
        let doc = Document::compile(uri(), &old);
        let new = Text::new(&uri(), 2, "domain d {\n  title \"Tea\"\n}\n".to_string());
        let view = View::new(&doc, &new);
        assert!(!view.is_current());
        // `domain` is before the change, `}` after it (two bytes later).
        assert_eq!(view.compiled_span(Span::new(0, 6)), Some(Span::new(0, 6)));
        let close = doc.text().rfind('}').unwrap();
        assert_eq!(
            view.compiled_span(Span::new(close, close + 1)),
            Some(Span::new(close + 2, close + 3))
        );
        // The string that changed, and anything touching the change, do not.
        let t = doc.text().find("\"T\"").unwrap();
        assert_eq!(view.compiled_span(Span::new(t, t + 3)), None);
        assert_eq!(view.to_compiled(t + 3), None);
        assert_eq!(view.to_compiled(t + 4), Some(t + 2));
        assert_eq!(view.to_compiled(1), Some(1));
        // The block around the change grows with it.
        let whole = Span::new(0, doc.text().len());
        assert_eq!(view.outline_span(whole), Span::new(0, new.text().len()));
        assert_eq!(view.outline_span(Span::new(t, t + 3)), Span::new(t, t + 5));
        // The compilation of the text itself maps everything as it is.
        let current = View::new(&doc, &old);
        assert!(current.is_current());
        assert_eq!(
            current.compiled_span(Span::new(t, t + 3)),
            Some(Span::new(t, t + 3))
        );
    }
}
