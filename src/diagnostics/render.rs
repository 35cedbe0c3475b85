//! Rendering diagnostics for people, through miette's graphical handler.
//!
//! Our [`Diagnostic`] is plain data; `MietteView` lends it miette's
//! `Diagnostic` trait together with the source text, so the handler can
//! print `file:line:col`, the labelled snippet and the help line.

use super::{Diagnostic, Diagnostics, Severity};
use crate::source::SourceFile;
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceSpan, SpanContents,
};
use std::fmt;

/// How to draw diagnostics.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    pub width: usize,
}

impl RenderOptions {
    /// Plain text at a fixed width: what tests and snapshots use.
    pub fn plain() -> Self {
        RenderOptions {
            color: false,
            width: 100,
        }
    }
}

/// Renders every diagnostic of a file, in source order, followed by a
/// one-line summary.
pub fn render_all(diagnostics: &Diagnostics, file: &SourceFile, options: RenderOptions) -> String {
    let source = SpecSource::new(file);
    let mut out = String::new();
    for diagnostic in diagnostics.sorted() {
        out.push_str(&render_one(diagnostic, &source, options));
    }
    out
}

/// `error: could not compile specs/x.ftprep: 2 errors, 1 warning`, or the
/// empty string when there is nothing to report.
pub fn summary_line(diagnostics: &Diagnostics, file_name: &str) -> Option<String> {
    let errors = diagnostics.count(Severity::Error);
    let warnings = diagnostics.count(Severity::Warning);
    if errors == 0 && warnings == 0 {
        return None;
    }
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(plural(errors, "error"));
    }
    if warnings > 0 {
        parts.push(plural(warnings, "warning"));
    }
    Some(format!("{file_name}: {}", parts.join(", ")))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The source text as miette reads it. miette's own `str` source counts
/// columns in bytes; this one reports them in characters, through the one
/// [`crate::source::LineIndex`], so `file:line:col` is right for non-ASCII text.
pub struct SpecSource<'f> {
    file: &'f SourceFile,
}

impl<'f> SpecSource<'f> {
    pub fn new(file: &'f SourceFile) -> Self {
        SpecSource { file }
    }
}

impl miette::SourceCode for SpecSource<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &'a str = &self.file.text;
        let contents = text.read_span(span, context_lines_before, context_lines_after)?;
        let start = contents.span().offset();
        let column = self.file.line_index.line_col(text, start).column - 1;
        // miette's `str` source reports as its line count the number of the
        // last line read, counted from the start of the file, and merges two
        // labels into one snippet when the first one's line plus that count
        // reaches the second: past the first lines of a file, every label
        // joined one snippet with all the lines between (a weights error
        // printed 60 lines of the rubric). Reporting the number of lines read,
        // plus a few, keeps labels a few lines apart in one snippet and gives
        // distant ones snippets of their own.
        const JOIN_WITHIN_LINES: usize = 6;
        let lines_read = contents.data().iter().filter(|&&b| b == b'\n').count() + 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.file.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column,
            lines_read + JOIN_WITHIN_LINES,
        )))
    }
}

pub fn render_one(
    diagnostic: &Diagnostic,
    source: &SpecSource<'_>,
    options: RenderOptions,
) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false);
    let view = MietteView { diagnostic, source };
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = handler.render_report(&mut out, &view);
    out
}

/// A [`Diagnostic`] seen through miette's trait.
struct MietteView<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a SpecSource<'a>,
}

impl fmt::Debug for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for MietteView<'_> {}

impl miette::Diagnostic for MietteView<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.full_code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.diagnostic.labels.is_empty() {
            None
        } else {
            Some(self.source)
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.diagnostic.labels.is_empty() {
            return None;
        }
        let labels = self.diagnostic.labels.iter().map(|label| {
            let text = (!label.message.is_empty()).then(|| label.message.clone());
            let span = (label.span.start, label.span.len());
            if label.primary {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        });
        Some(Box::new(labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostic;
    use crate::source::Span;

    fn rendered(first: usize, second: usize) -> String {
        let text: String = (1..=200).map(|n| format!("line {n}\n")).collect();
        let start = |line: usize| {
            text.match_indices("line ")
                .nth(line - 1)
                .map(|(i, _)| i)
                .unwrap()
        };
        let file = SourceFile::new("f.ftprep", text.clone());
        let mut diagnostics = Diagnostics::new();
        diagnostics.push(
            Diagnostic::error("duplicate-id", "declared twice")
                .at(Span::new(start(second), start(second) + 4), "again")
                .also(Span::new(start(first), start(first) + 4), "first"),
        );
        render_all(
            &diagnostics,
            &file,
            RenderOptions {
                color: false,
                width: 100,
            },
        )
    }

    #[test]
    fn distant_labels_get_snippets_of_their_own() {
        // Deep in a file, where miette's own line count merged everything.
        let far = rendered(150, 190);
        assert_eq!(far.matches("╭─[").count(), 2, "{far}");
        assert!(!far.contains("line 170"), "{far}");
        // A few lines apart, one snippet shows both with the lines between.
        let near = rendered(150, 154);
        assert_eq!(near.matches("╭─[").count(), 1, "{near}");
        assert!(near.contains("line 152"), "{near}");
    }
}
