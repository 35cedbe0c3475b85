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

/// The diagnostics of one run, in the order they were found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
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
