//! Code actions for the findings that have a mechanical fix: add the
//! missing answers of an example, suppress a lint finding in the item it
//! is about (with a reason to fill in), and replace an unknown name with
//! the one the diagnostic suggests.

use super::document::Document;
use super::index::SymbolKind;
use crate::diagnostics::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{self, Item};
use lsp_types::{CodeAction, CodeActionKind, Diagnostic as LspDiagnostic, TextEdit, WorkspaceEdit};
use std::collections::HashMap;

/// The reason a new suppression starts with: to be replaced by the author.
pub const REASON_PLACEHOLDER: &str = "<why this finding does not apply here>";

pub fn actions(
    doc: &Document,
    range: Span,
    client_diagnostics: &[LspDiagnostic],
) -> Vec<CodeAction> {
    let mut out = Vec::new();
    for d in doc.compilation.diagnostics.sorted() {
        let Some(span) = d.primary_span() else {
            continue;
        };
        // Only the findings under the cursor or selection.
        if span.end < range.start || span.start > range.end {
            continue;
        }
        let lsp = client_diagnostics
            .iter()
            .find(|c| c.range == doc.range(span))
            .cloned();
        if d.code == "missing-answer"
            && let Some(action) = add_missing_answers(doc, span)
        {
            out.push(with_diagnostic(action, lsp.clone()));
        }
        if d.code == "unknown-reference"
            && let Some(action) = replace_with_suggestion(doc, d, span)
        {
            out.push(with_diagnostic(action, lsp.clone()));
        }
        if let Some(code) = d.lint_code
            && code != "FT001"
            && let Some(action) = suppress(doc, d, code, span)
        {
            out.push(with_diagnostic(action, lsp.clone()));
        }
    }
    out
}

fn with_diagnostic(mut action: CodeAction, diagnostic: Option<LspDiagnostic>) -> CodeAction {
    action.diagnostics = diagnostic.map(|d| vec![d]);
    action
}

fn edit(doc: &Document, title: String, edits: Vec<(Span, String)>, preferred: bool) -> CodeAction {
    let edits = edits
        .into_iter()
        .map(|(span, new_text)| TextEdit {
            range: doc.range(span),
            new_text,
        })
        .collect();
    CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(doc.uri.clone(), edits)])),
            ..WorkspaceEdit::default()
        }),
        is_preferred: Some(preferred),
        ..CodeAction::default()
    }
}

/// The indentation of the line holding `offset`.
fn indent_at(text: &str, offset: usize) -> String {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map(|n| n + 1)
        .unwrap_or(0);
    text[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// Text to insert before the `}` at `close` so that `lines` sit one level
/// deeper than the line of `open_line_at`: after the last line when `}`
/// stands on a line of its own, else on new lines before it.
fn insert_before_close(
    doc: &Document,
    close: usize,
    open_line_at: usize,
    lines: &[String],
) -> (Span, String) {
    let text = doc.text();
    let outer = indent_at(text, open_line_at);
    let inner = format!("{outer}  ");
    let line_start = text[..close].rfind('\n').map(|n| n + 1).unwrap_or(0);
    let alone = text[line_start..close].trim().is_empty();
    let body: String = lines.iter().map(|l| format!("{inner}{l}\n")).collect();
    if alone {
        (Span::point(line_start), body)
    } else {
        (Span::point(close), format!("\n{body}{outer}"))
    }
}

fn add_missing_answers(doc: &Document, span: Span) -> Option<CodeAction> {
    let file = &doc.compilation.syntax;
    let block = file.items.iter().find_map(|i| match i {
        Item::Calibration(e) | Item::FewShot(e)
            if e.span.start <= span.start && span.end <= e.span.end =>
        {
            Some(e)
        }
        _ => None,
    })?;
    let answers = block.items.iter().find_map(|i| match i {
        ast::ExampleItem::Answers(a) => Some(a),
        _ => None,
    });
    let answered: Vec<&str> = answers
        .map(|a| a.answers.iter().map(|x| x.question.name.as_str()).collect())
        .unwrap_or_default();
    let conditional = conditional_questions(file);
    let lines: Vec<String> = doc
        .index
        .of_kind(SymbolKind::Question)
        .filter(|(_, q)| !answered.contains(&q.name.as_str()))
        .map(|(_, q)| {
            let value = if conditional.contains(&q.name.as_str()) {
                "na "
            } else {
                "yes"
            };
            format!("{} {value} \"<why>\"", q.name)
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let count = lines.len();
    let (at, text) = match answers {
        Some(a) => insert_before_close(doc, a.span.end.saturating_sub(1), a.span.start, &lines),
        None => {
            let mut block_lines = vec!["answers {".to_string()];
            block_lines.extend(lines.iter().map(|l| format!("  {l}")));
            block_lines.push("}".to_string());
            insert_before_close(
                doc,
                block.span.end.saturating_sub(1),
                block.span.start,
                &block_lines,
            )
        }
    };
    Some(edit(
        doc,
        format!(
            "Add the {count} missing answer{} to `{}`",
            if count == 1 { "" } else { "s" },
            block.id.name
        ),
        vec![(at, text)],
        true,
    ))
}

fn conditional_questions(file: &ast::File) -> Vec<&str> {
    file.questions()
        .filter(|(_, q)| q.is_conditional())
        .map(|(_, q)| q.id.name.as_str())
        .collect()
}

fn replace_with_suggestion(doc: &Document, d: &Diagnostic, span: Span) -> Option<CodeAction> {
    let help = d.help.as_deref()?;
    let rest = help.strip_prefix("did you mean `")?;
    let suggestion = &rest[..rest.find('`')?];
    Some(edit(
        doc,
        format!("Replace `{}` with `{suggestion}`", doc.slice(span)),
        vec![(span, suggestion.to_string())],
        true,
    ))
}

/// Where an `allow` can go, innermost first.
enum Scope<'a> {
    /// A block item: insert after its `{`.
    Block {
        open: usize,
        start: usize,
        name: String,
    },
    /// A question without a body: give it one.
    Question(&'a ast::Question),
    /// An anchor: append to its line.
    Anchor(&'a ast::Anchor),
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

fn innermost_scope<'a>(doc: &Document, file: &'a ast::File, span: Span) -> Option<Scope<'a>> {
    let text = doc.text();
    let block = |start: usize, after: usize, name: String| {
        crate::syntax::open_brace_after(text, after).map(|open| Scope::Block { open, start, name })
    };
    for item in &file.items {
        if !contains(item.span(), span) {
            continue;
        }
        return match item {
            Item::Framework(f) => {
                for i in &f.items {
                    if let ast::FrameworkItem::Technique(t) = i
                        && contains(t.span, span)
                    {
                        return block(
                            t.span.start,
                            t.title.span.end,
                            format!("technique `{}`", t.id.name),
                        );
                    }
                }
                block(
                    f.span.start,
                    f.title.span.end,
                    format!("framework `{}`", f.id.name),
                )
            }
            Item::Failure(f) => block(
                f.span.start,
                f.title.span.end,
                format!("failure `{}`", f.id.name),
            ),
            Item::Anchors(b) => b
                .anchors
                .iter()
                .find(|a| contains(a.span, span))
                .map(Scope::Anchor),
            Item::Rubric(r) => {
                for i in &r.items {
                    let ast::RubricItem::Group(g) = i else {
                        continue;
                    };
                    if !contains(g.span, span) {
                        continue;
                    }
                    for i in &g.items {
                        let ast::GroupItem::Question(q) = i else {
                            continue;
                        };
                        if !contains(q.span, span) {
                            continue;
                        }
                        return Some(match &q.body {
                            Some(body) => Scope::Block {
                                open: body.span.start,
                                start: q.span.start,
                                name: format!("`{}`", q.id.name),
                            },
                            None => Scope::Question(q),
                        });
                    }
                    let header_end = g
                        .weight
                        .as_ref()
                        .map(|(_, w)| w.span.end)
                        .unwrap_or(g.title.span.end);
                    return block(
                        g.span.start,
                        header_end,
                        format!("{} `{}`", g.keyword.kind.as_str(), g.id.name),
                    );
                }
                block(r.span.start, r.keyword.span.end, "the rubric".to_string())
            }
            Item::Calibration(e) | Item::FewShot(e) => {
                block(e.span.start, e.title.span.end, format!("`{}`", e.id.name))
            }
            _ => None,
        };
    }
    None
}

fn suppress(doc: &Document, d: &Diagnostic, code: &str, span: Span) -> Option<CodeAction> {
    let file = &doc.compilation.syntax;
    let text = doc.text();
    let allow = format!("allow {code} \"{REASON_PLACEHOLDER}\"");
    let (where_, at, insert) = match innermost_scope(doc, file, span) {
        Some(Scope::Block { open, start, name }) => {
            let indent = format!("{}  ", indent_at(text, start));
            (name, Span::point(open + 1), format!("\n{indent}{allow}"))
        }
        Some(Scope::Question(q)) => {
            let end = q
                .checks
                .last()
                .map(|c| c.span.end)
                .unwrap_or(q.text.span.end);
            let outer = indent_at(text, q.span.start);
            (
                format!("`{}`", q.id.name),
                Span::point(end),
                format!(" {{\n{outer}  {allow}\n{outer}}}"),
            )
        }
        Some(Scope::Anchor(a)) => {
            let end = a
                .allows
                .last()
                .map(|x| x.span.end)
                .or(a.guards.last().map(|g| g.span.end))
                .unwrap_or(a.text.span.end);
            (
                format!("anchor `{}`", a.id.name),
                Span::point(end),
                format!(" {allow}"),
            )
        }
        None => {
            // The whole spec: the `lint` block, made if there is none.
            let lint = file.items.iter().find_map(|i| match i {
                Item::Lint(l) => Some(l),
                _ => None,
            });
            match lint.and_then(|l| crate::syntax::open_brace_after(text, l.keyword.span.end)) {
                Some(open) => (
                    "the whole spec".to_string(),
                    Span::point(open + 1),
                    format!("\n  {allow}"),
                ),
                None => {
                    let lead = if text.ends_with('\n') { "\n" } else { "\n\n" };
                    (
                        "the whole spec".to_string(),
                        Span::point(text.len()),
                        format!("{lead}lint {{\n  {allow}\n}}\n"),
                    )
                }
            }
        }
    };
    Some(edit(
        doc,
        format!("Suppress {code} {} in {where_} (give a reason)", d.code),
        vec![(at, insert)],
        false,
    ))
}
