//! Diagnostics for tools: JSON (ftprep's own schema, documented in
//! docs/lint.md), GitHub workflow annotations, and SARIF 2.1.0.
//!
//! Every format is built from the same `Located` view, so a diagnostic
//! has the same code, level, position and help in all of them. Lines and
//! columns are 1-based; columns count Unicode characters.

use super::{Diagnostic, Diagnostics, Severity};
use crate::lint::rules::RULES;
use crate::source::{LineCol, SourceFile, Span};
use serde_json::{Value, json};

/// A file's diagnostics, for the tool formats.
pub struct FileReport<'a> {
    pub file: &'a SourceFile,
    pub diagnostics: &'a Diagnostics,
}

struct Located {
    span: Span,
    start: LineCol,
    end: LineCol,
}

fn locate(file: &SourceFile, span: Span) -> Located {
    Located {
        span,
        start: file.line_index.line_col(&file.text, span.start),
        end: file.line_index.line_col(&file.text, span.end),
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn position(l: &Located) -> Value {
    json!({
        "span": { "start": l.span.start, "end": l.span.end },
        "start": { "line": l.start.line, "column": l.start.column },
        "end": { "line": l.end.line, "column": l.end.column },
    })
}

fn json_one(file: &SourceFile, d: &Diagnostic) -> Value {
    let mut value = json!({
        "code": d.short_code(),
        "name": d.code,
        "level": level(d.severity),
        "message": d.message,
        "file": file.name,
        "help": d.help,
    });
    let primary = d.labels.iter().find(|l| l.primary).or(d.labels.first());
    if let (Some(object), Some(label)) = (value.as_object_mut(), primary) {
        let located = position(&locate(file, label.span));
        if let Some(fields) = located.as_object() {
            for (k, v) in fields {
                object.insert(k.clone(), v.clone());
            }
        }
        object.insert("label".into(), json!(label.message));
        let related: Vec<Value> = d
            .labels
            .iter()
            .filter(|l| !std::ptr::eq(*l, label))
            .map(|l| {
                let mut r = position(&locate(file, l.span));
                if let Some(o) = r.as_object_mut() {
                    o.insert("message".into(), json!(l.message));
                    o.insert("file".into(), json!(file.name));
                }
                r
            })
            .collect();
        object.insert("related".into(), Value::Array(related));
    }
    value
}

/// `{"version": 1, "diagnostics": [...], "summary": {...}}`.
pub fn json(reports: &[FileReport<'_>]) -> String {
    let mut diagnostics = Vec::new();
    let (mut errors, mut warnings, mut notes, mut omitted) = (0, 0, 0, 0);
    for report in reports {
        for d in report.diagnostics.sorted() {
            diagnostics.push(json_one(report.file, d));
        }
        errors += report.diagnostics.count(Severity::Error);
        warnings += report.diagnostics.count(Severity::Warning);
        notes += report.diagnostics.count(Severity::Note);
        omitted += report.diagnostics.omitted().total();
    }
    let value = json!({
        "version": 1,
        "diagnostics": diagnostics,
        "summary": { "errors": errors, "warnings": warnings, "notes": notes, "omitted": omitted },
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// GitHub Actions workflow commands: `::warning file=...,line=...::msg`.
pub fn github(reports: &[FileReport<'_>]) -> String {
    let mut out = String::new();
    for report in reports {
        for d in report.diagnostics.sorted() {
            let kind = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let mut properties = vec![format!("file={}", escape_property(&report.file.name))];
            if let Some(span) = d.primary_span() {
                let l = locate(report.file, span);
                properties.push(format!("line={}", l.start.line));
                properties.push(format!("col={}", l.start.column));
                properties.push(format!("endLine={}", l.end.line));
                properties.push(format!("endColumn={}", l.end.column));
            }
            properties.push(format!("title={}", escape_property(&d.full_code())));
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            out.push_str(&format!(
                "::{kind} {}::{}\n",
                properties.join(","),
                escape_data(&message)
            ));
        }
        if let Some(line) = super::render::omitted_line(report.diagnostics) {
            out.push_str(&format!(
                "::notice file={}::{}\n",
                escape_property(&report.file.name),
                escape_data(&line)
            ));
        }
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// SARIF 2.1.0, with every lint rule described in the tool's driver.
pub fn sarif(reports: &[FileReport<'_>]) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let m = r.meta();
            json!({
                "id": m.code,
                "name": m.name,
                "shortDescription": { "text": m.summary },
                "fullDescription": { "text": m.summary },
                "help": { "text": m.explanation, "markdown": m.explanation },
                "defaultConfiguration": { "level": sarif_level_of(m.level) },
                "properties": { "group": m.group.as_str() },
            })
        })
        .collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for report in reports {
        let chars = CharIndex::new(report.file);
        if let Some(line) = super::render::omitted_line(report.diagnostics) {
            notifications.push(json!({
                "level": "note",
                "message": { "text": format!("{}: {line}", report.file.name) },
            }));
        }
        for d in report.diagnostics.sorted() {
            let mut result = json!({
                "ruleId": d.short_code(),
                "level": level(d.severity),
                "message": { "text": match &d.help {
                    Some(help) => format!("{}\nhelp: {help}", d.message),
                    None => d.message.clone(),
                } },
            });
            if let Some(index) = RULES
                .iter()
                .position(|r| Some(r.meta().code) == d.lint_code)
            {
                result["ruleIndex"] = json!(index);
            }
            let primary = d.labels.iter().find(|l| l.primary).or(d.labels.first());
            if let Some(label) = primary {
                result["locations"] = json!([sarif_location(&chars, label.span, None)]);
                let related: Vec<Value> = d
                    .labels
                    .iter()
                    .filter(|l| !std::ptr::eq(*l, label))
                    .enumerate()
                    .map(|(i, l)| {
                        let mut loc = sarif_location(&chars, l.span, Some(&l.message));
                        loc["id"] = json!(i);
                        loc
                    })
                    .collect();
                if !related.is_empty() {
                    result["relatedLocations"] = Value::Array(related);
                }
            }
            results.push(result);
        }
    }
    let mut log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "ftprep",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/ftprep/ftprep",
                "rules": rules,
            } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    if !notifications.is_empty() {
        log["runs"][0]["invocations"] = json!([{
            "executionSuccessful": true,
            "toolExecutionNotifications": notifications,
        }]);
    }
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

fn sarif_level_of(level: crate::lint::Level) -> &'static str {
    match level {
        crate::lint::Level::Allow => "none",
        crate::lint::Level::Note => "note",
        crate::lint::Level::Warning => "warning",
        crate::lint::Level::Error => "error",
    }
}

fn sarif_location(chars: &CharIndex<'_>, span: Span, message: Option<&str>) -> Value {
    let file = chars.file;
    let l = locate(file, span);
    let start = chars.offset(span.start);
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": file.name.replace('\\', "/") },
            "region": {
                "startLine": l.start.line,
                "startColumn": l.start.column,
                "endLine": l.end.line,
                "endColumn": l.end.column,
                "charOffset": start,
                "charLength": chars.offset(span.end).saturating_sub(start),
            },
        },
    });
    if let Some(message) = message.filter(|m| !m.is_empty()) {
        location["message"] = json!({ "text": message });
    }
    location
}

/// Character offsets for SARIF's `unicodeCodePoints` column kind: the
/// characters before each line, counted once per file, so that locating
/// a diagnostic does not count the file from its start every time.
struct CharIndex<'f> {
    file: &'f SourceFile,
    /// Characters before the start of each line.
    before_line: Vec<usize>,
}

impl<'f> CharIndex<'f> {
    fn new(file: &'f SourceFile) -> Self {
        let index = &file.line_index;
        let mut before_line = Vec::with_capacity(index.line_count());
        let mut total = 0;
        for line in 0..index.line_count() {
            before_line.push(total);
            let (start, end) = (index.line_start(line), index.line_start(line + 1));
            total += chars(&file.text, start, end);
        }
        CharIndex { file, before_line }
    }

    /// The characters in the file before byte `offset`.
    fn offset(&self, offset: usize) -> usize {
        let index = &self.file.line_index;
        let line = index.line_of(offset);
        self.before_line[line] + chars(&self.file.text, index.line_start(line), offset)
    }
}

/// Unicode characters in `text[from..to]` (byte offsets clamped to char
/// boundaries), as SARIF's `unicodeCodePoints` column kind counts.
fn chars(text: &str, from: usize, to: usize) -> usize {
    let clamp = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    text[clamp(from)..clamp(to)].chars().count()
}
