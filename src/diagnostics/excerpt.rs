//! The part of a file that one diagnostic shows.
//!
//! miette draws a snippet from whatever text it is given, and reads that
//! text from its start for every label. Given the whole file, a file with
//! thousands of diagnostics took minutes to print (each one re-reading the
//! file), and a label past column 65,535 of a long line made miette panic.
//! So each diagnostic is drawn from an [`Excerpt`]: only the lines its
//! labels need (with a line of context either side and the lines between
//! labels close enough to share a snippet), each line longer than
//! [`LONG_LINE`] characters cut to windows around the labels' ends, with
//! `…` for what is left out. The excerpt reports the file's own line and
//! column numbers, so `file:line:col` is unchanged.

use crate::source::{SourceFile, Span};
use miette::{MietteError, MietteSpanContents, SourceSpan, SpanContents};

/// Lines longer than this, in characters, are cut around the labels.
pub const LONG_LINE: usize = 300;
/// Characters kept either side of a label's start or end on a cut line.
const WINDOW: usize = 60;
/// Characters kept of a cut line that no label starts or ends on.
const HEAD: usize = 160;
/// Labels this many lines apart or closer share a snippet: miette merges
/// two labels when the second starts within the first's lines plus this
/// many (see `line_count` below).
const JOIN_WITHIN_LINES: usize = 6;
/// Lines between two labels that are copied into one run of the excerpt,
/// enough for any two labels miette may merge.
const RUN_GAP: usize = JOIN_WITHIN_LINES + 4;
const ELLIPSIS: &str = "…";

/// The lines of a file one diagnostic needs, as miette reads them.
pub struct Excerpt<'f> {
    file: &'f SourceFile,
    text: String,
    lines: Vec<Line>,
}

/// One line of the excerpt.
struct Line {
    /// Where it starts and ends in the excerpt's text (without its
    /// newline).
    start: usize,
    end: usize,
    /// Its 0-based line number in the file.
    number: usize,
    /// Lines of one run are consecutive in the file; a read never crosses
    /// into another run.
    run: usize,
    /// The runs of the file's text kept on this line, in order.
    pieces: Vec<Piece>,
}

/// A run of the file's text copied into the excerpt.
#[derive(Clone, Copy)]
struct Piece {
    excerpt: usize,
    file: usize,
    len: usize,
}

impl<'f> Excerpt<'f> {
    /// The excerpt for labels at `spans` (byte ranges of the file).
    pub fn new(file: &'f SourceFile, spans: &[Span]) -> Self {
        let index = &file.line_index;
        let text = file.text.as_str();
        // The empty line after a final newline is not context: only a
        // label at the very end of the file shows it.
        let mut last_line = index.line_count().saturating_sub(1);
        if text.ends_with('\n') {
            last_line = last_line.saturating_sub(1);
        }
        // The lines each label covers, with one line of context either side.
        let mut ranges: Vec<(usize, usize)> = spans
            .iter()
            .map(|span| {
                let first = index.line_of(span.start);
                let last = index.line_of(span.end.saturating_sub(1).max(span.start));
                (first.saturating_sub(1), last.max((last + 1).min(last_line)))
            })
            .collect();
        ranges.sort_unstable();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (first, last) in ranges {
            match runs.last_mut() {
                Some(run) if first <= run.1 + RUN_GAP => run.1 = run.1.max(last),
                _ => runs.push((first, last)),
            }
        }
        let mut excerpt = Excerpt {
            file,
            text: String::new(),
            lines: Vec::new(),
        };
        for (run, &(first, last)) in runs.iter().enumerate() {
            for number in first..=last {
                let start = index.line_start(number);
                let mut end = index.line_start(number + 1).min(text.len());
                if end > start && text[..end].ends_with('\n') {
                    end -= 1;
                }
                if text[..end].ends_with('\r') && end > start {
                    end -= 1;
                }
                let points: Vec<usize> = spans
                    .iter()
                    .flat_map(|s| [s.start, s.end])
                    .filter(|&p| p >= start && p <= end)
                    .collect();
                excerpt.push_line(number, run, start, end, &points);
            }
        }
        excerpt
    }

    /// Copies the file's line `start..end` in, cut around `points` when it
    /// is long.
    fn push_line(&mut self, number: usize, run: usize, start: usize, end: usize, points: &[usize]) {
        let line = &self.file.text[start..end];
        let begin = self.text.len();
        let mut pieces = Vec::new();
        // Only the first LONG_LINE + 1 characters are counted: a line can
        // be megabytes long.
        if line.chars().nth(LONG_LINE).is_none() {
            self.text.push_str(line);
            pieces.push(Piece {
                excerpt: begin,
                file: start,
                len: line.len(),
            });
        } else {
            let mut keep: Vec<(usize, usize)> = points
                .iter()
                .map(|&p| {
                    let p = p - start;
                    (chars_back(line, p, WINDOW), chars_forward(line, p, WINDOW))
                })
                .collect();
            if keep.is_empty() {
                keep.push((0, chars_forward(line, 0, HEAD)));
            }
            keep.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::new();
            for (a, b) in keep {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            let mut at = 0;
            for (a, b) in merged {
                if a > at {
                    self.text.push_str(ELLIPSIS);
                }
                pieces.push(Piece {
                    excerpt: self.text.len(),
                    file: start + a,
                    len: b - a,
                });
                self.text.push_str(&line[a..b]);
                at = b;
            }
            if at < line.len() {
                self.text.push_str(ELLIPSIS);
            }
        }
        let end = self.text.len();
        self.text.push('\n');
        self.lines.push(Line {
            start: begin,
            end,
            number,
            run,
            pieces,
        });
    }

    /// Where the file's byte `offset` is in the excerpt. Offsets are label
    /// ends, which every cut keeps.
    pub fn map(&self, offset: usize) -> usize {
        for line in &self.lines {
            for piece in &line.pieces {
                if offset >= piece.file && offset <= piece.file + piece.len {
                    return piece.excerpt + (offset - piece.file);
                }
            }
        }
        // Not reached for the spans the excerpt was made for.
        self.text.len().saturating_sub(1)
    }

    /// Where the excerpt's byte `offset` is in the file: the start of the
    /// next kept piece when it falls on an ellipsis.
    fn unmap(&self, offset: usize) -> usize {
        for line in &self.lines {
            for piece in &line.pieces {
                if offset <= piece.excerpt + piece.len {
                    return piece.file + offset.saturating_sub(piece.excerpt).min(piece.len);
                }
            }
        }
        self.file.text.len()
    }

    /// The excerpt line holding byte `offset` of the excerpt.
    fn line_at(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|line| line.start <= offset)
            .saturating_sub(1)
    }
}

/// The byte offset `n` characters before `at` in `line` (or its start).
fn chars_back(line: &str, at: usize, n: usize) -> usize {
    line[..at]
        .char_indices()
        .rev()
        .take(n)
        .last()
        .map_or(at, |(i, _)| i)
}

/// The byte offset `n` characters after `at` in `line` (or its end).
fn chars_forward(line: &str, at: usize, n: usize) -> usize {
    line[at..]
        .char_indices()
        .nth(n)
        .map_or(line.len(), |(i, _)| at + i)
}

impl miette::SourceCode for Excerpt<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        if self.lines.is_empty() || span.offset() + span.len() > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first = self.line_at(span.offset());
        let last = self.line_at(
            (span.offset() + span.len())
                .saturating_sub(1)
                .max(span.offset()),
        );
        let run = self.lines[first].run;
        let mut from = first;
        while from > 0 && first - from < context_lines_before && self.lines[from - 1].run == run {
            from -= 1;
        }
        let mut to = last;
        while to + 1 < self.lines.len()
            && to - last < context_lines_after
            && self.lines[to + 1].run == self.lines[last].run
        {
            to += 1;
        }
        // As miette's own sources do: with no lines of context, the
        // contents start at the span, and the column is the span's.
        let (start, column) = if context_lines_before == 0 {
            let offset = self.unmap(span.offset());
            let column = self
                .file
                .line_index
                .line_col(&self.file.text, offset)
                .column
                - 1;
            (span.offset(), column)
        } else {
            (self.lines[from].start, 0)
        };
        let end = (self.lines[to].end + 1).min(self.text.len());
        let data = &self.text.as_bytes()[start..end];
        // miette merges two labels into one snippet when the second starts
        // within the first's line plus this count. Its own sources report
        // the number of the last line read counted from the start of the
        // file, which merged every label past the first lines into one
        // snippet with all the lines between; the lines read, plus a few,
        // keep near labels together and give distant ones snippets of
        // their own.
        let lines_read = data.iter().filter(|&&b| b == b'\n').count() + 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.file.name.clone(),
            data,
            (start, end - start).into(),
            self.lines[from].number,
            column,
            lines_read + JOIN_WITHIN_LINES,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_around_the_label() {
        let long = format!(
            "title \"{}\" oops {}\n",
            "a".repeat(100_000),
            "b".repeat(50_000)
        );
        let file = SourceFile::new("f.ftprep", format!("first\n{long}last\n"));
        let at = file.text.find("oops").unwrap();
        let excerpt = Excerpt::new(&file, &[Span::new(at, at + 4)]);
        assert!(excerpt.text.len() < 600, "{}", excerpt.text);
        let mapped = excerpt.map(at);
        assert_eq!(&excerpt.text[mapped..mapped + 4], "oops");
        assert!(excerpt.text.contains("…aaaa"), "{}", excerpt.text);
        assert!(excerpt.text.contains("first\n") && excerpt.text.contains("last\n"));
        assert_eq!(excerpt.unmap(mapped), at);
    }

    #[test]
    fn distant_labels_make_separate_runs() {
        let text: String = (1..=100).map(|n| format!("line {n}\n")).collect();
        let file = SourceFile::new("f.ftprep", text.clone());
        let a = text.find("line 10\n").unwrap();
        let b = text.find("line 90\n").unwrap();
        let excerpt = Excerpt::new(&file, &[Span::new(a, a + 4), Span::new(b, b + 4)]);
        assert!(!excerpt.text.contains("line 50"));
        assert_eq!(excerpt.lines.len(), 6);
        assert_ne!(excerpt.lines[0].run, excerpt.lines[5].run);
    }
}
