//! Rendering diagnostics for people, through miette's graphical handler.
//!
//! Our [`Diagnostic`] is plain data; `MietteView` lends it miette's
//! `Diagnostic` trait together with the lines of the file it shows (an
//! [`Excerpt`]), so the handler can print `file:line:col`, the labelled
//! snippet and the help line.

use super::excerpt::Excerpt;
use super::{Diagnostic, Diagnostics, Severity, plural};
use crate::source::{SourceFile, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
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
    let mut out = String::new();
    for diagnostic in diagnostics.sorted() {
        out.push_str(&render_one(diagnostic, file, options));
    }
    if let Some(line) = omitted_line(diagnostics) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `… and 120 more (3 errors, 117 warnings) not shown: ...`, when
/// [`Diagnostics::limit`] left some out.
pub fn omitted_line(diagnostics: &Diagnostics) -> Option<String> {
    let omitted = diagnostics.omitted();
    if omitted.total() == 0 {
        return None;
    }
    let mut parts = Vec::new();
    for (n, word) in [
        (omitted.errors, "error"),
        (omitted.warnings, "warning"),
        (omitted.notes, "note"),
    ] {
        if n > 0 {
            parts.push(plural(n, word));
        }
    }
    Some(format!(
        "… and {} more not shown ({}): `--max-diagnostics N` shows more, `--max-diagnostics 0` all",
        omitted.total(),
        parts.join(", ")
    ))
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

pub fn render_one(diagnostic: &Diagnostic, file: &SourceFile, options: RenderOptions) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false);
    let spans: Vec<Span> = diagnostic.labels.iter().map(|l| l.span).collect();
    let excerpt = Excerpt::new(file, &spans);
    let labels = diagnostic
        .labels
        .iter()
        .map(|label| {
            let start = excerpt.map(label.span.start);
            let end = excerpt.map(label.span.end).max(start);
            (start, end - start)
        })
        .collect();
    let view = MietteView {
        diagnostic,
        source: &excerpt,
        labels,
    };
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = handler.render_report(&mut out, &view);
    out
}

/// A [`Diagnostic`] seen through miette's trait.
struct MietteView<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a Excerpt<'a>,
    /// The labels' spans in the excerpt: (offset, length).
    labels: Vec<(usize, usize)>,
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
        let labels = self
            .diagnostic
            .labels
            .iter()
            .zip(&self.labels)
            .map(|(label, &span)| {
                let text = (!label.message.is_empty()).then(|| label.message.clone());
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
