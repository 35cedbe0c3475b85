//! The compiler's diagnostics as LSP diagnostics: the same codes, levels
//! and suppressions as `ftprep check`, with the fix hint in the message,
//! secondary labels as related locations, and, for lint findings, a link
//! to the rule's explanation.

use super::document::Document;
use crate::diagnostics::{Diagnostic, Severity};
use crate::lint::{RuleMeta, find_rule};
use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Uri,
};
use std::path::PathBuf;
use std::str::FromStr;

pub fn to_lsp(doc: &Document, explanations: &Explanations) -> Vec<lsp_types::Diagnostic> {
    let diagnostics = &doc.compilation.diagnostics;
    let mut out: Vec<lsp_types::Diagnostic> = diagnostics
        .sorted()
        .into_iter()
        .map(|d| convert(doc, d, explanations))
        .collect();
    let omitted = diagnostics.omitted().total();
    if omitted > 0 {
        out.insert(
            0,
            lsp_types::Diagnostic {
                range: doc.range(crate::source::Span::point(0)),
                severity: Some(DiagnosticSeverity::INFORMATION),
                source: Some("ftprep".to_string()),
                message: format!(
                    "{} not shown here, after the first {}: `ftprep check FILE --max-diagnostics 0` lists them all",
                    crate::diagnostics::plural(omitted, "more diagnostic"),
                    super::document::MAX_DIAGNOSTICS
                ),
                ..Default::default()
            },
        );
    }
    out
}

fn convert(doc: &Document, d: &Diagnostic, explanations: &Explanations) -> lsp_types::Diagnostic {
    let span = d.primary_span().unwrap_or_default();
    let mut message = d.message.clone();
    if let Some(label) = d.labels.iter().find(|l| l.primary && !l.message.is_empty()) {
        message.push_str(&format!(" ({})", label.message));
    }
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .map(|l| DiagnosticRelatedInformation {
            location: Location::new(doc.uri.clone(), doc.range(l.span)),
            message: l.message.clone(),
        })
        .collect();
    let rule = d.lint_code.and_then(find_rule);
    lsp_types::Diagnostic {
        range: doc.range(span),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.short_code().to_string())),
        code_description: rule
            .and_then(|r| explanations.uri(r))
            .map(|href| CodeDescription { href }),
        source: Some("ftprep".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: Some(serde_json::json!({ "name": d.code })),
    }
}

/// The explanations of the lint rules as markdown files, so that an
/// editor can open one from a diagnostic's code. Written once per server,
/// under the temporary directory, named after the version so a newer
/// ftprep never shows an older text.
pub struct Explanations {
    dir: Option<PathBuf>,
}

impl Explanations {
    pub fn write() -> Explanations {
        let dir =
            std::env::temp_dir().join(format!("ftprep-{}-explanations", env!("CARGO_PKG_VERSION")));
        let written = crate::lint::rules::RULES.iter().all(|rule| {
            let meta = rule.meta();
            let path = dir.join(format!("{}.md", meta.code));
            let text = meta.explain();
            std::fs::read_to_string(&path).is_ok_and(|t| t == text)
                || crate::cli::output::write_atomic(&path, text.as_bytes()).is_ok()
        });
        Explanations {
            dir: written.then_some(dir),
        }
    }

    fn uri(&self, rule: &RuleMeta) -> Option<Uri> {
        let path = self.dir.as_ref()?.join(format!("{}.md", rule.code));
        Uri::from_str(&file_uri(&path)).ok()
    }
}

/// `file://` URI of an absolute path, percent-encoding what a URI cannot
/// hold.
pub fn file_uri(path: &std::path::Path) -> String {
    let mut out = String::from("file://");
    let text = path.to_string_lossy();
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'\\' => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
