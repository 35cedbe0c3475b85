//! The document outline: domain, frameworks and their techniques, failure
//! modes, anchors, the rubric with its groups and questions, examples,
//! settings and experts, the taxonomy with its dimensions and values, the
//! personas (traits, flaw kinds and flaws, trajectories) and the user
//! simulator's behaviours.

use super::view::View;
use crate::source::Span;
use crate::syntax::ast::{self, Item};
use lsp_types::{DocumentSymbol, SymbolKind};

fn symbol(
    view: &View,
    name: String,
    detail: &str,
    kind: SymbolKind,
    span: Span,
    selection: Span,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    #[allow(deprecated)]
    DocumentSymbol {
        name,
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        kind,
        tags: None,
        deprecated: None,
        // Spans of the last compilation, moved to the request's text.
        range: view.range(view.outline_span(span)),
        selection_range: view.range(view.outline_span(selection)),
        children: (!children.is_empty()).then_some(children),
    }
}

/// A one-line detail: the first line of a text, shortened.
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > 80 {
        let cut: String = line.chars().take(79).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

pub fn outline(view: &View) -> Vec<DocumentSymbol> {
    let mut out = Vec::new();
    for item in &view.doc.compilation.syntax.items {
        match item {
            Item::Domain(d) => out.push(symbol(
                view,
                format!("domain {}", d.id.name),
                "",
                SymbolKind::MODULE,
                d.span,
                d.id.span,
                vec![],
            )),
            Item::Framework(f) => {
                let techniques = f
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        ast::FrameworkItem::Technique(t) => Some(symbol(
                            view,
                            t.id.name.clone(),
                            &short(&t.title.value),
                            SymbolKind::METHOD,
                            t.span,
                            t.id.span,
                            vec![],
                        )),
                        _ => None,
                    })
                    .collect();
                out.push(symbol(
                    view,
                    f.id.name.clone(),
                    &short(&f.title.value),
                    SymbolKind::NAMESPACE,
                    f.span,
                    f.id.span,
                    techniques,
                ));
            }
            Item::Failure(f) => out.push(symbol(
                view,
                format!("failure.{}", f.id.name),
                &short(&f.title.value),
                SymbolKind::EVENT,
                f.span,
                f.id.span,
                vec![],
            )),
            Item::Anchors(b) => {
                let anchors = b
                    .anchors
                    .iter()
                    .map(|a| {
                        symbol(
                            view,
                            a.id.name.clone(),
                            &short(&a.text.value),
                            SymbolKind::CONSTANT,
                            a.span,
                            a.id.span,
                            vec![],
                        )
                    })
                    .collect();
                out.push(symbol(
                    view,
                    b.polarity.as_str().to_string(),
                    "",
                    SymbolKind::ENUM,
                    b.span,
                    b.keyword.span,
                    anchors,
                ));
            }
            Item::Rubric(r) => {
                let mut groups = Vec::new();
                for item in &r.items {
                    let ast::RubricItem::Group(g) = item else {
                        continue;
                    };
                    let questions = g
                        .items
                        .iter()
                        .filter_map(|i| match i {
                            ast::GroupItem::Question(q) => Some(symbol(
                                view,
                                q.id.name.clone(),
                                &short(&q.text.value),
                                SymbolKind::FIELD,
                                q.span,
                                q.id.span,
                                vec![],
                            )),
                            _ => None,
                        })
                        .collect();
                    let detail = match &g.weight {
                        Some((_, w)) => format!("{} · weight {}", short(&g.title.value), w.raw),
                        None => format!("{} · gate", short(&g.title.value)),
                    };
                    groups.push(symbol(
                        view,
                        g.id.name.clone(),
                        &detail,
                        SymbolKind::STRUCT,
                        g.span,
                        g.id.span,
                        questions,
                    ));
                }
                out.push(symbol(
                    view,
                    "rubric".to_string(),
                    "",
                    SymbolKind::CLASS,
                    r.span,
                    r.keyword.span,
                    groups,
                ));
            }
            Item::Calibration(e) | Item::FewShot(e) => {
                let detail = match e.expect {
                    Some((_, v)) => {
                        format!("{} · expect {}", short(&e.title.value), v.kind.as_str())
                    }
                    None => short(&e.title.value),
                };
                out.push(symbol(
                    view,
                    format!("{} {}", e.keyword.kind.as_str(), e.id.name),
                    &detail,
                    SymbolKind::OBJECT,
                    e.span,
                    e.id.span,
                    vec![],
                ));
            }
            Item::Generation(g) => out.push(symbol(
                view,
                "generation".into(),
                "",
                SymbolKind::PROPERTY,
                g.span,
                g.keyword.span,
                vec![],
            )),
            Item::Judge(j) => out.push(symbol(
                view,
                "judge".into(),
                "",
                SymbolKind::PROPERTY,
                j.span,
                j.keyword.span,
                vec![],
            )),
            Item::Expert(e) => out.push(symbol(
                view,
                format!("expert {}", e.id.name),
                &short(&e.name.value),
                SymbolKind::INTERFACE,
                e.span,
                e.id.span,
                vec![],
            )),
            Item::Lint(l) => out.push(symbol(
                view,
                "lint".into(),
                "",
                SymbolKind::PROPERTY,
                l.span,
                l.keyword.span,
                vec![],
            )),
            Item::Taxonomy(t) => {
                let dimensions = t
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        ast::TaxonomyItem::Dimension(d) => Some(dimension(view, d)),
                        _ => None,
                    })
                    .collect();
                out.push(symbol(
                    view,
                    "taxonomy".into(),
                    "",
                    SymbolKind::CLASS,
                    t.span,
                    t.keyword.span,
                    dimensions,
                ));
            }
            Item::Personas(p) => {
                let mut children = Vec::new();
                for item in &p.items {
                    match item {
                        ast::PersonasItem::Trait(d) => children.push(dimension(view, d)),
                        ast::PersonasItem::Flaws(k) => {
                            let flaws = k
                                .items
                                .iter()
                                .filter_map(|i| match i {
                                    ast::FlawKindItem::Flaw(f) => Some(symbol(
                                        view,
                                        f.id.name.clone(),
                                        &format!(
                                            "{} · weight {}",
                                            short(&f.title.value),
                                            f.weight.raw
                                        ),
                                        SymbolKind::FIELD,
                                        f.span,
                                        f.id.span,
                                        vec![],
                                    )),
                                    _ => None,
                                })
                                .collect();
                            children.push(symbol(
                                view,
                                format!("flaws {}", k.id.name),
                                &short(&k.title.value),
                                SymbolKind::STRUCT,
                                k.span,
                                k.id.span,
                                flaws,
                            ));
                        }
                        ast::PersonasItem::Trajectory(w) => {
                            children.push(weighted(view, w, "trajectory"))
                        }
                        ast::PersonasItem::FlawFree(_) | ast::PersonasItem::Allow(_) => {}
                    }
                }
                out.push(symbol(
                    view,
                    "personas".into(),
                    "",
                    SymbolKind::CLASS,
                    p.span,
                    p.keyword.span,
                    children,
                ));
            }
            Item::UserSimulator(u) => {
                let behaviours = u
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        ast::SimulatorItem::Behaviour(w) => Some(weighted(view, w, "behaviour")),
                        _ => None,
                    })
                    .collect();
                out.push(symbol(
                    view,
                    "user_simulator".into(),
                    "",
                    SymbolKind::CLASS,
                    u.span,
                    u.keyword.span,
                    behaviours,
                ));
            }
        }
    }
    out
}

/// A taxonomy dimension or a persona trait, with its values.
fn dimension(view: &View, d: &ast::Dimension) -> DocumentSymbol {
    let values = d
        .items
        .iter()
        .filter_map(|i| match i {
            ast::DimensionItem::Value(v) => Some(symbol(
                view,
                v.id.name.clone(),
                &format!("{} · weight {}", short(&v.text.value), v.weight.raw),
                SymbolKind::ENUM_MEMBER,
                v.span,
                v.id.span,
                vec![],
            )),
            _ => None,
        })
        .collect();
    symbol(
        view,
        format!("{} {}", d.keyword.kind.as_str(), d.id.name),
        &short(&d.title.value),
        SymbolKind::ENUM,
        d.span,
        d.id.span,
        values,
    )
}

/// A trajectory or a behaviour.
fn weighted(view: &View, w: &ast::WeightedLine, keyword: &str) -> DocumentSymbol {
    symbol(
        view,
        format!("{keyword} {}", w.id.name),
        &format!("{} · weight {}", short(&w.text.value), w.weight.raw),
        SymbolKind::CONSTANT,
        w.span,
        w.id.span,
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::outline;
    use crate::lsp::document::{Document, Text};
    use crate::lsp::view::View;
    use std::str::FromStr;

    #[test]
    fn the_outline_holds_the_data_to_generate() {
        let text = r#"taxonomy {
  dimension style "Style" { value terse "Short" weight 0.5 value verbose "Long" weight 0.5 }
}
personas {
  trait age "Age" { value young "Young" weight 1 }
  flaws talk "Talk" { flaw vague "Vague" weight 1 }
  trajectory calm "Calm" weight 1
}
user_simulator { behaviour engage "Engages" weight 1 }
"#;
        let uri = lsp_types::Uri::from_str("file:///t.ftprep").unwrap();
        let text = Text::new(&uri, 1, text.to_string());
        let doc = Document::compile(uri, &text);
        let symbols = outline(&View::new(&doc, &text));
        let names = |s: &[lsp_types::DocumentSymbol]| -> Vec<String> {
            s.iter().map(|s| s.name.clone()).collect()
        };
        assert_eq!(names(&symbols), ["taxonomy", "personas", "user_simulator"]);
        let dimension = &symbols[0].children.as_ref().unwrap()[0];
        assert_eq!(dimension.name, "dimension style");
        assert_eq!(
            names(dimension.children.as_ref().unwrap()),
            ["terse", "verbose"]
        );
        assert_eq!(
            dimension.children.as_ref().unwrap()[0].detail.as_deref(),
            Some("Short · weight 0.5")
        );
        assert_eq!(
            names(symbols[1].children.as_ref().unwrap()),
            ["trait age", "flaws talk", "trajectory calm"]
        );
        assert_eq!(
            names(symbols[2].children.as_ref().unwrap()),
            ["behaviour engage"]
        );
    }
}
