//! Hover: what a name means in this spec. On a question: its text, group,
//! the share of the final score it carries, what it checks and how the
//! calibration examples answer it. On an anchor: its text, what it guards
//! and the questions that check it. On a failure mode: what guards and
//! checks it. On a taxonomy dimension or persona trait: its values and
//! their shares; on a value, flaw, trajectory or behaviour: its weight, its
//! share of what it is drawn with, and what the author wrote about it. On
//! a lint code: the rule's explanation.

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
        SymbolKind::Dimension | SymbolKind::Trait => dimension(file, index, symbol),
        SymbolKind::DimensionValue | SymbolKind::TraitValue => value(file, index, symbol),
        SymbolKind::Flaw => flaw(file, index, symbol),
        SymbolKind::Trajectory | SymbolKind::Behaviour => weighted(file, index, symbol),
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

/// A weight as written, read as a number (0 when it does not parse).
fn weight_of(raw: &str) -> i64 {
    parse_decimal(raw).unwrap_or(0)
}

/// `40.0%` of `total`.
fn share(units: i64, total: i64) -> String {
    if total <= 0 {
        return "no share (the weights sum to 0)".to_string();
    }
    format!("{:.1}%", units as f64 * 100.0 / total as f64)
}

/// The dimension or trait declared at `name_span`.
fn find_dimension(file: &ast::File, name_span: crate::source::Span) -> Option<&ast::Dimension> {
    file.items
        .iter()
        .flat_map(|i| -> Vec<&ast::Dimension> {
            match i {
                Item::Taxonomy(t) => t
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        ast::TaxonomyItem::Dimension(d) => Some(d),
                        _ => None,
                    })
                    .collect(),
                Item::Personas(p) => p
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        ast::PersonasItem::Trait(d) => Some(d),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        })
        .find(|d| d.id.span == name_span)
}

fn values_of(d: &ast::Dimension) -> impl Iterator<Item = &ast::DimensionValue> {
    d.items.iter().filter_map(|i| match i {
        ast::DimensionItem::Value(v) => Some(v),
        _ => None,
    })
}

fn dimension(file: &ast::File, index: &Index, symbol: usize) -> String {
    let s = &index.symbols[symbol];
    let mut out = format!("**{}** · {}: {}\n\n", s.name, s.kind.describe(), s.detail);
    let Some(d) = find_dimension(file, s.name_span) else {
        return out.trim_end().to_string();
    };
    let total: i64 = values_of(d).map(|v| weight_of(&v.weight.raw)).sum();
    out.push_str(&format!(
        "One value is drawn for each {}, by weight (the weights sum to {}).\n\n",
        if s.kind == SymbolKind::Trait {
            "persona"
        } else {
            "scenario cell"
        },
        format_decimal(total)
    ));
    for v in values_of(d) {
        out.push_str(&format!(
            "- `{}` {} · weight {} ({})\n",
            v.id.name,
            v.text.value,
            v.weight.raw,
            share(weight_of(&v.weight.raw), total)
        ));
    }
    out.trim_end().to_string()
}

fn value(file: &ast::File, index: &Index, symbol: usize) -> String {
    let s = &index.symbols[symbol];
    let parent = s.parent.map(|p| &index.symbols[p]);
    let mut out = match parent {
        Some(p) => format!(
            "**{}** · value of the {} **{}** (`{}`)\n\n{}\n\n",
            s.reference,
            p.kind.describe(),
            p.detail,
            p.name,
            quote(&s.detail)
        ),
        None => format!(
            "**{}** · {}\n\n{}\n\n",
            s.reference,
            s.kind.describe(),
            quote(&s.detail)
        ),
    };
    let Some(d) = parent.and_then(|p| find_dimension(file, p.name_span)) else {
        return out.trim_end().to_string();
    };
    let Some(v) = values_of(d).find(|v| v.id.span == s.name_span) else {
        return out.trim_end().to_string();
    };
    let total: i64 = values_of(d).map(|v| weight_of(&v.weight.raw)).sum();
    out.push_str(&format!(
        "**Weight** {}: {} of its {}.\n\n",
        v.weight.raw,
        share(weight_of(&v.weight.raw), total),
        if s.kind == SymbolKind::TraitValue {
            "trait's draws"
        } else {
            "dimension's cells"
        }
    ));
    let mut subtopics = Vec::new();
    for item in v.body.iter().flat_map(|b| &b.items) {
        if let ast::BodyItem::Property(p) = item {
            match p.key.kind {
                ast::Kw::About => out.push_str(&format!("{}\n\n", p.value.value)),
                ast::Kw::Subtopic => subtopics.push(format!("- {}", p.value.value)),
                _ => {}
            }
        }
    }
    if !subtopics.is_empty() {
        out.push_str("**Subtopics**, drawn uniformly\n");
        out.push_str(&subtopics.join("\n"));
        out.push_str("\n\n");
    }
    // The user simulator's words for this value.
    for item in &file.items {
        let Item::UserSimulator(u) = item else {
            continue;
        };
        for i in &u.items {
            if let ast::SimulatorItem::Words(w) = i
                && w.target.dotted() == s.reference
            {
                out.push_str(&format!(
                    "**User words per message** {}..{}\n\n",
                    w.min.raw, w.max.raw
                ));
            }
        }
    }
    out.trim_end().to_string()
}

fn flaw(file: &ast::File, index: &Index, symbol: usize) -> String {
    let s = &index.symbols[symbol];
    let kind = s.parent.map(|p| &index.symbols[p]);
    let mut out = match kind {
        Some(k) => format!(
            "**{}** · flaw of the kind **{}** (`{}`): {}\n\n",
            s.name, k.detail, k.name, s.detail
        ),
        None => format!("**{}** · flaw: {}\n\n", s.name, s.detail),
    };
    let flaws: Vec<&ast::Flaw> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Personas(p) => Some(p),
            _ => None,
        })
        .flat_map(|p| &p.items)
        .filter_map(|i| match i {
            ast::PersonasItem::Flaws(k) => Some(k),
            _ => None,
        })
        .flat_map(|k| &k.items)
        .filter_map(|i| match i {
            ast::FlawKindItem::Flaw(f) => Some(f),
            _ => None,
        })
        .collect();
    let Some(f) = flaws.iter().find(|f| f.id.span == s.name_span) else {
        return out.trim_end().to_string();
    };
    let total: i64 = flaws.iter().map(|f| weight_of(&f.weight.raw)).sum();
    out.push_str(&format!(
        "**Weight** {}: {} of the flaws drawn for personas that have one.\n\n",
        f.weight.raw,
        share(weight_of(&f.weight.raw), total)
    ));
    let mut play = None;
    for item in f.body.iter().flat_map(|b| &b.items) {
        if let ast::BodyItem::Property(p) = item {
            match p.key.kind {
                ast::Kw::About => out.push_str(&format!("{}\n\n", p.value.value)),
                ast::Kw::Play => play = Some(p.value.value.clone()),
                _ => {}
            }
        }
    }
    match play {
        Some(play) => out.push_str(&format!("**Played as**\n{}", quote(&play))),
        None => out.push_str("No `play` text: the simulated user is not told how to play it (FT706 unplayable-flaw)."),
    }
    out.trim_end().to_string()
}

fn weighted(file: &ast::File, index: &Index, symbol: usize) -> String {
    let s = &index.symbols[symbol];
    let mut out = format!(
        "**{}** · {}\n\n{}\n\n",
        s.name,
        s.kind.describe(),
        quote(&s.detail)
    );
    let lines: Vec<&ast::WeightedLine> = file
        .items
        .iter()
        .flat_map(|i| -> Vec<&ast::WeightedLine> {
            match i {
                Item::Personas(p) if s.kind == SymbolKind::Trajectory => p
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        ast::PersonasItem::Trajectory(w) => Some(w),
                        _ => None,
                    })
                    .collect(),
                Item::UserSimulator(u) if s.kind == SymbolKind::Behaviour => u
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        ast::SimulatorItem::Behaviour(w) => Some(w),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        })
        .collect();
    if let Some(w) = lines.iter().find(|w| w.id.span == s.name_span) {
        let total: i64 = lines.iter().map(|w| weight_of(&w.weight.raw)).sum();
        let of = if s.kind == SymbolKind::Trajectory {
            "personas"
        } else {
            "user turns"
        };
        out.push_str(&format!(
            "**Weight** {}: {} of {of}.",
            w.weight.raw,
            share(weight_of(&w.weight.raw), total)
        ));
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use crate::lsp::document::{Document, Text};
    use std::str::FromStr;

    const SPEC: &str = r#"taxonomy {
  dimension style "Writing style" {
    value terse "Short messages" weight 0.25 {
      subtopic "lowercase"
    }
    value verbose "Long messages" weight 0.75
  }
}
personas {
  flaws talk "Talk" {
    flaw vague "Vague" weight 0.5 { about "Says little." }
    flaw loud "Loud" weight 0.5 { play "Shout." }
  }
  trajectory calm "Calm" weight 1
}
user_simulator {
  words style.terse 3..20
}
"#;

    /// The hover text at the first `needle` (plus `at` bytes) of the spec.
    fn hover_at(needle: &str, at: usize) -> String {
        let uri = lsp_types::Uri::from_str("file:///t.ftprep").unwrap();
        let text = Text::new(&uri, 1, SPEC.to_string());
        let doc = Document::compile(uri, &text);
        let offset = SPEC.find(needle).expect("in the spec") + at;
        super::hover(&doc, offset)
            .map(|(_, t)| t)
            .unwrap_or_default()
    }

    #[test]
    fn values_flaws_and_trajectories_show_their_shares() {
        let dimension = hover_at("style \"Writing", 0);
        assert!(
            dimension.contains("`terse` Short messages · weight 0.25 (25.0%)"),
            "{dimension}"
        );
        assert!(dimension.contains("the weights sum to 1"), "{dimension}");
        // On the reference in `words style.terse`.
        let value = hover_at("style.terse", 7);
        assert!(
            value.contains("**style.terse** · value of the taxonomy dimension"),
            "{value}"
        );
        assert!(value.contains("25.0% of its dimension's cells"), "{value}");
        assert!(value.contains("- lowercase"), "{value}");
        assert!(
            value.contains("**User words per message** 3..20"),
            "{value}"
        );
        let vague = hover_at("vague", 0);
        assert!(vague.contains("Says little."), "{vague}");
        assert!(vague.contains("FT706"), "{vague}");
        let loud = hover_at("loud", 0);
        assert!(loud.contains("> Shout."), "{loud}");
        let calm = hover_at("calm", 0);
        assert!(calm.contains("100.0% of personas"), "{calm}");
    }
}
