//! Diagnostics: what every stage reports, in one shape.
//!
//! Stages never print and never stop at the first problem: they push
//! [`Diagnostic`]s into a [`Diagnostics`] list and carry on where they can.
//! A diagnostic holds byte spans only; turning it into text for people
//! (miette, see [`render`]) or for tools happens at the edge, with the
//! [`SourceFile`](crate::source::SourceFile) it points into.

mod excerpt;
pub mod formats;
pub mod render;

use crate::source::Span;
use serde::Serialize;
use std::fmt;

/// How serious a finding is. `Error` blocks `ftprep build`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// A labelled span. The primary label is where the problem is; secondary
/// labels point at related text (the first declaration of a duplicate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

/// One finding about a spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// A stable, searchable code such as `unknown-reference`; shown as
    /// `ftprep::unknown-reference`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    /// How to fix it, in one sentence.
    pub help: Option<String>,
    /// For a lint finding, the rule's stable code (`FT203`); `code` is
    /// then the rule's name (`compound-question`).
    pub lint_code: Option<&'static str>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            lint_code: None,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    /// Add the primary label: where the problem is.
    pub fn at(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: true,
        });
        self
    }

    /// Add a secondary label pointing at related text.
    pub fn also(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The span the diagnostic is about: its first primary label.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels
            .iter()
            .find(|label| label.primary)
            .or(self.labels.first())
            .map(|label| label.span)
    }

    /// The code as shown to users: `ftprep::unknown-reference` for a
    /// compiler error, `FT203 compound-question` for a lint finding.
    pub fn full_code(&self) -> String {
        match self.lint_code {
            Some(code) => format!("{code} {}", self.code),
            None => format!("ftprep::{}", self.code),
        }
    }

    /// The short code tools key on: `FT203`, or `unknown-reference`.
    pub fn short_code(&self) -> &'static str {
        self.lint_code.unwrap_or(self.code)
    }
}

/// `1 question`, `2 questions`: a count with its noun, for messages. The
/// noun's plural is written with `s`, which every noun ftprep counts takes.
pub fn plural(n: impl fmt::Display, noun: &str) -> String {
    let n = n.to_string();
    if n == "1" {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The diagnostics of one run, in the order they were found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// What [`Diagnostics::limit`] left out.
    omitted: Omitted,
}

/// How many diagnostics of each severity were left out of a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Omitted {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl Omitted {
    pub fn total(&self) -> usize {
        self.errors + self.warnings + self.notes
    }
}

/// How many diagnostics a command reports per file unless told otherwise
/// (`--max-diagnostics`): enough for any spec being written, few enough
/// that a generated or pasted one cannot flood a terminal or a CI log.
pub const DEFAULT_MAX_DIAGNOSTICS: usize = 100;

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
        self.omitted.errors += other.omitted.errors;
        self.omitted.warnings += other.omitted.warnings;
        self.omitted.notes += other.omitted.notes;
    }

    pub fn has_errors(&self) -> bool {
        self.omitted.errors > 0 || self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// Diagnostics of `severity`, those [`Diagnostics::limit`] left out
    /// included.
    pub fn count(&self, severity: Severity) -> usize {
        let omitted = match severity {
            Severity::Error => self.omitted.errors,
            Severity::Warning => self.omitted.warnings,
            Severity::Note => self.omitted.notes,
        };
        omitted + self.items.iter().filter(|d| d.severity == severity).count()
    }

    /// Keeps the `max` diagnostics that matter most (errors, then warnings,
    /// then notes, each in source order) and counts the rest as omitted;
    /// `0` keeps all. An error is never dropped for a warning, so a spec
    /// with errors still reports one.
    pub fn limit(&mut self, max: usize) {
        if max == 0 || self.items.len() <= max {
            return;
        }
        let rank = |s: Severity| match s {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Note => 2,
        };
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        order.sort_by_key(|&i| {
            let d = &self.items[i];
            (
                rank(d.severity),
                d.primary_span().map(|s| (s.start, s.end)),
                d.code,
            )
        });
        let mut keep = vec![false; self.items.len()];
        for &i in &order[..max] {
            keep[i] = true;
        }
        let mut at = 0;
        self.items.retain(|d| {
            let kept = keep[at];
            at += 1;
            if !kept {
                match d.severity {
                    Severity::Error => self.omitted.errors += 1,
                    Severity::Warning => self.omitted.warnings += 1,
                    Severity::Note => self.omitted.notes += 1,
                }
            }
            kept
        });
    }

    /// What [`Diagnostics::limit`] left out.
    pub fn omitted(&self) -> Omitted {
        self.omitted
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Diagnostics in source order (then by code), so that output is the
    /// same whatever order the passes ran in.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&Diagnostic> = self.items.iter().collect();
        items.sort_by_key(|d| (d.primary_span().map(|s| (s.start, s.end)), d.code));
        items
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_keeps_errors_first_and_counts_the_rest() {
        let mut diagnostics = Diagnostics::new();
        for i in 0..5 {
            diagnostics.push(Diagnostic::warning("w", "a warning").at(Span::point(i), ""));
        }
        diagnostics.push(Diagnostic::error("e", "an error").at(Span::point(99), ""));
        diagnostics.limit(2);
        let kept: Vec<(Severity, usize)> = diagnostics
            .sorted()
            .iter()
            .map(|d| (d.severity, d.primary_span().map_or(0, |s| s.start)))
            .collect();
        assert_eq!(kept, vec![(Severity::Warning, 0), (Severity::Error, 99)]);
        assert_eq!(
            diagnostics.omitted(),
            Omitted {
                errors: 0,
                warnings: 4,
                notes: 0
            }
        );
        assert_eq!(diagnostics.count(Severity::Warning), 5);
        assert!(diagnostics.has_errors());
        // 0 keeps everything.
        let mut all = diagnostics.clone();
        all.limit(0);
        assert_eq!(all.len(), 2);
    }
}
