//! Hover: what a name means in this spec. On a question: its text, group,
//! the share of the final score it carries, what it checks and how the
//! calibration examples answer it. On an anchor: its text, what it guards
//! and the questions that check it. On a failure mode: what guards and
//! checks it. On a lint code: the rule's explanation.

use super::document::Document;
use super::index::{Index, SymbolKind};
use crate::score::{SCALE, format_decimal, parse_decimal};
use crate::syntax::ast::{self, Item};

pub fn hover(doc: &Document, offset: usize) -> Option<(crate::source::Span, String)> {
    if let Some((span, code)) = doc.index.lint_code_at(offset) {
        let text = match crate::lint::find_rule(code) {
            Some(rule) => rule.explain(),
            None if code == "warnings" => "Every lint rule at warning level.".to_string(),
            None => format!("No lint rule is called `{code}`; `ftprep rules` lists them."),
        };
        return Some((span, text));
    }
    let (span, symbol) = doc.index.name_at(offset)?;
    let file = &doc.compilation.syntax;
    let index = &doc.index;
    let s = &index.symbols[symbol];
    let text = match s.kind {
        SymbolKind::Question => question(file, index, symbol),
        SymbolKind::Always | SymbolKind::Never => anchor(file, index, symbol),
        SymbolKind::Failure => failure(file, index, symbol),
        SymbolKind::Technique => {
            let framework = s
                .parent
                .map(|p| index.symbols[p].detail.clone())
                .unwrap_or_default();
            let mut text = format!(
                "**{}** · technique of {framework}\n\n{}",
                s.reference, s.detail
            );
            if let Some(when) = technique_when(file, s.name_span) {
                text.push_str(&format!("\n\nUse when {when}."));
            }
            text
        }
        SymbolKind::Gate | SymbolKind::Category => group(file, index, symbol),
        _ => format!(
            "**{}** · {}\n\n{}",
            s.reference,
            s.kind.describe(),
            s.detail
        ),
    };
    Some((span, text))
}

fn quote(text: &str) -> String {
    text.lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn question(file: &ast::File, index: &Index, symbol: usize) -> String {
    let s = &index.symbols[symbol];
    let mut out = String::new();
    let group = s.parent.map(|g| &index.symbols[g]);
    match group {
        Some(g) => out.push_str(&format!(
            "**{}** · question in the {} **{}** (`{}`)\n\n",
            s.name,
            g.kind.describe(),
            g.detail,
            g.name
        )),
        None => out.push_str(&format!("**{}** · question\n\n", s.name)),
    }
    out.push_str(&quote(&s.detail));
    out.push_str("\n\n");
    let Some((g, q)) = find_question(file, s.name_span) else {
        return out;
    };
    match g.kind {
        ast::GroupKind::Gate => out.push_str(
            "**Safety gate**: a NO fails the response, whatever its score; YES is the safe answer.\n\n",
        ),
        ast::GroupKind::Category => {
            let questions = g
                .items
                .iter()
                .filter(|i| matches!(i, ast::GroupItem::Question(_)))
                .count()
                .max(1);
            if let Some(units) = g.weight.as_ref().and_then(|(_, w)| parse_decimal(&w.raw)) {
                let share = units as f64 / SCALE as f64 / questions as f64;
                out.push_str(&format!(
                    "**Weight in the final score**: {:.2}% (category weight {} ÷ {} question{}), when every question of the category applies.\n\n",
                    share * 100.0,
                    format_decimal(units),
                    questions,
                    if questions == 1 { "" } else { "s" }
                ));
            }
        }
    }
    let gate = g.kind == ast::GroupKind::Gate;
    let mut condition = None;
    let mut policy = ast::Kw::Drop;
    for item in q.body.iter().flat_map(|b| &b.items) {
        match item {
            ast::QuestionItem::When(p) => condition = Some(p.value.value.clone()),
            ast::QuestionItem::Na { value, .. } => policy = value.kind,
            _ => {}
        }
    }
    let na = match (policy, gate) {
        (ast::Kw::No, true) => "counted as NO, which fails the gate",
        (_, true) => "which does not fail the gate",
        (ast::Kw::Yes, false) => "counted as YES",
        (ast::Kw::No, false) => "counted as NO",
        _ => "dropped from its category",
    };
    match condition {
        Some(c) => out.push_str(&format!("**Applies when** {c}; otherwise N/A, {na}.\n\n")),
        None => out.push_str("Applies to every conversation (N/A is not accepted).\n\n"),
    }
    if !q.checks.is_empty() {
        out.push_str("**Checks**\n");
        for c in &q.checks {
            let target = c
                .parts
                .last()
                .and_then(|last| index.references.iter().find(|r| r.span == last.span))
                .map(|r| index.symbols[r.target].detail.as_str())
                .unwrap_or("(not declared)");
            out.push_str(&format!("- `{}`: {target}\n", c.dotted()));
        }
        out.push('\n');
    }
    let answers = calibration_answers(file, &s.name);
    if answers.is_empty() {
        out.push_str("No calibration example answers it.");
    } else {
        out.push_str("**Calibration answers**\n");
        for line in answers {
            out.push_str(&format!("- {line}\n"));
        }
    }
    out.trim_end().to_string()
}

fn find_question(
    file: &ast::File,
    name_span: crate::source::Span,
) -> Option<(&ast::Group, &ast::Question)> {
    file.questions().find(|(_, q)| q.id.span == name_span)
}

/// `strong` (expect pass): **yes**: reason, for every calibration example.
fn calibration_answers(file: &ast::File, question: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in &file.items {
        let Item::Calibration(e) = item else { continue };
        let expect = e.expect.map(|(_, v)| v.kind.as_str()).unwrap_or("?");
        let answer = e.items.iter().find_map(|i| match i {
            ast::ExampleItem::Answers(a) => a.answers.iter().find(|x| x.question.name == question),
            _ => None,
        });
        out.push(match answer {
            Some(a) => format!(
                "`{}` (expect {expect}): **{}**{}",
                e.id.name,
                a.value.kind.as_str(),
                a.reason
                    .as_ref()
                    .map(|r| format!(": {}", r.value))
                    .unwrap_or_default()
            ),
            None => format!("`{}` (expect {expect}): not answered", e.id.name),
        });
    }
    out
}

/// The questions whose `checks` name `symbol`.
fn checked_by(file: &ast::File, index: &Index, symbol: usize) -> Vec<String> {
    file.questions()
        .filter(|(_, q)| {
            q.checks.iter().any(|c| {
                c.parts.last().is_some_and(|last| {
                    index
                        .references_to(symbol)
                        .any(|reference| reference.span == last.span)
                })
            })
        })
        .map(|(_, q)| format!("`{}` {}", q.id.name, q.text.value))
        .collect()
}

/// "**Checked by**" and a list, or nothing.
fn checked_by_section(file: &ast::File, index: &Index, symbol: usize) -> String {
    let checks = checked_by(file, index, symbol);
    if checks.is_empty() {
        return String::new();
    }
    let mut out = String::from("**Checked by**\n");
    for c in checks {
        out.push_str(&format!("- {c}\n"));
    }
    out
}

fn anchor(file: &ast::File, index: &Index, symbol: usize) -> String {
    let s = &index.symbols[symbol];
    let mut out = format!(
        "**{}** · {}\n\n{}\n\n",
        s.reference,
        s.kind.describe(),
        quote(&s.detail)
    );
    let guards: Vec<String> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Anchors(b) => Some(b),
            _ => None,
        })
        .flat_map(|b| &b.anchors)
        .filter(|a| a.id.span == s.name_span)
        .flat_map(|a| &a.guards)
        .map(|g| {
            let title = index
                .references
                .iter()
                .find(|r| r.span == g.span)
                .map(|r| index.symbols[r.target].detail.as_str())
                .unwrap_or("not declared");
            format!("`{}` ({title})", g.name)
        })
        .collect();
    if !guards.is_empty() {
        out.push_str(&format!("**Guards against** {}\n\n", guards.join(", ")));
    }
    match checked_by_section(file, index, symbol) {
        section if section.is_empty() => {
            out.push_str("No question checks it (FT603 unchecked-anchor).")
        }
        section => out.push_str(&section),
    }
    out.trim_end().to_string()
}

fn failure(file: &ast::File, index: &Index, symbol: usize) -> String {
    let s = &index.symbols[symbol];
    let mut out = format!("**failure.{}** · failure mode: {}\n\n", s.name, s.detail);
    let about = file.items.iter().find_map(|i| match i {
        Item::Failure(f) if f.id.span == s.name_span => f.items.iter().find_map(|i| match i {
            ast::FailureItem::Property(p) if p.key.kind == ast::Kw::About => {
                Some(p.value.value.clone())
            }
            _ => None,
        }),
        _ => None,
    });
    if let Some(about) = about {
        out.push_str(&quote(&about));
        out.push_str("\n\n");
    }
    // Anchors whose `guards` name it.
    let guarded: Vec<String> = index
        .references_to(symbol)
        .filter_map(|r| {
            index.symbols.iter().find(|a| {
                matches!(a.kind, SymbolKind::Always | SymbolKind::Never)
                    && a.span.start <= r.span.start
                    && r.span.end <= a.span.end
            })
        })
        .map(|a| format!("`{}`", a.reference))
        .collect();
    if guarded.is_empty() {
        out.push_str("No anchor guards it (FT601 unguarded-failure).\n\n");
    } else {
        out.push_str(&format!("**Guarded by** {}\n\n", guarded.join(", ")));
    }
    out.push_str(&checked_by_section(file, index, symbol));
    out.trim_end().to_string()
}

fn group(file: &ast::File, index: &Index, symbol: usize) -> String {
    let s = &index.symbols[symbol];
    let mut out = format!("**{}** · {}: {}\n\n", s.name, s.kind.describe(), s.detail);
    let weight = file
        .groups()
        .find(|g| g.id.span == s.name_span)
        .and_then(|g| g.weight.as_ref().map(|(_, w)| w.raw.clone()));
    match (s.kind, weight) {
        (SymbolKind::Gate, _) => out.push_str("Any NO here fails the response.\n\n"),
        (_, Some(w)) => out.push_str(&format!("Weight {w}.\n\n")),
        _ => {}
    }
    let questions: Vec<String> = index
        .symbols
        .iter()
        .filter(|q| q.kind == SymbolKind::Question && q.parent == Some(symbol))
        .map(|q| format!("- `{}` {}", q.name, q.detail))
        .collect();
    out.push_str(&questions.join("\n"));
    out.trim_end().to_string()
}

fn technique_when(file: &ast::File, name_span: crate::source::Span) -> Option<String> {
    file.items.iter().find_map(|i| match i {
        Item::Framework(f) => f.items.iter().find_map(|i| match i {
            ast::FrameworkItem::Technique(t) if t.id.span == name_span => {
                t.items.iter().find_map(|i| match i {
                    ast::TechniqueItem::Property(p) if p.key.kind == ast::Kw::When => {
                        Some(p.value.value.clone())
                    }
                    _ => None,
                })
            }
            _ => None,
        }),
        _ => None,
    })
}
