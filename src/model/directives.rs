//! Lint directives: the `lint` block and every `allow` in the spec, kept
//! as written. Each `allow` is scoped to the item that contains it: a
//! finding is suppressed when its primary span lies inside that scope.
//! The lint engine resolves the codes (the model does not know the rules).

use crate::source::Span;
use crate::syntax::ast::{self, Kw, LintCode, Number, Text};

#[derive(Debug, Clone)]
pub struct Suppression {
    pub code: LintCode,
    pub reason: Option<Text>,
    /// Findings inside this span are suppressed.
    pub scope: Span,
    /// The `allow ...` text itself.
    pub span: Span,
}

/// `deny CODE` or `warn CODE` in the `lint` block.
#[derive(Debug, Clone)]
pub struct LintLevelSetting {
    pub deny: bool,
    pub code: LintCode,
    pub span: Span,
}

/// `questions 15..20` in the `lint` block.
#[derive(Debug, Clone)]
pub struct LintBound {
    pub name: ast::Ident,
    pub min: Number,
    pub max: Option<Number>,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct LintDirectives {
    pub suppressions: Vec<Suppression>,
    pub levels: Vec<LintLevelSetting>,
    pub bounds: Vec<LintBound>,
}

pub fn collect(file: &ast::File) -> LintDirectives {
    let mut d = LintDirectives::default();
    let mut allow = |a: &ast::Allow, scope: Span| {
        d.suppressions.push(Suppression {
            code: a.code.clone(),
            reason: a.reason.clone(),
            scope,
            span: a.span,
        });
    };
    let mut levels = Vec::new();
    let mut bounds = Vec::new();
    for item in &file.items {
        match item {
            ast::Item::Lint(lint) => {
                for entry in &lint.items {
                    match entry {
                        ast::LintItem::Allow(a) => allow(a, file.span),
                        ast::LintItem::Level {
                            keyword,
                            code,
                            span,
                        } => levels.push(LintLevelSetting {
                            deny: keyword.kind == Kw::Deny,
                            code: code.clone(),
                            span: *span,
                        }),
                        ast::LintItem::Bound {
                            name,
                            min,
                            max,
                            span,
                        } => bounds.push(LintBound {
                            name: name.clone(),
                            min: min.clone(),
                            max: max.clone(),
                            span: *span,
                        }),
                    }
                }
            }
            ast::Item::Framework(f) => {
                for entry in &f.items {
                    match entry {
                        ast::FrameworkItem::Allow(a) => allow(a, f.span),
                        ast::FrameworkItem::Technique(t) => {
                            for e in &t.items {
                                if let ast::TechniqueItem::Allow(a) = e {
                                    allow(a, t.span);
                                }
                            }
                        }
                        ast::FrameworkItem::Property(_) => {}
                    }
                }
            }
            ast::Item::Failure(f) => {
                for e in &f.items {
                    if let ast::FailureItem::Allow(a) = e {
                        allow(a, f.span);
                    }
                }
            }
            ast::Item::Anchors(block) => {
                for anchor in &block.anchors {
                    for a in &anchor.allows {
                        allow(a, anchor.span);
                    }
                }
            }
            ast::Item::Rubric(r) => {
                for entry in &r.items {
                    match entry {
                        ast::RubricItem::Allow(a) => allow(a, r.span),
                        ast::RubricItem::Group(g) => {
                            for e in &g.items {
                                match e {
                                    ast::GroupItem::Allow(a) => allow(a, g.span),
                                    ast::GroupItem::Question(q) => {
                                        for qi in q.body.iter().flat_map(|b| &b.items) {
                                            if let ast::QuestionItem::Allow(a) = qi {
                                                allow(a, q.span);
                                            }
                                        }
                                    }
                                    ast::GroupItem::AllNa(_) => {}
                                }
                            }
                        }
                        ast::RubricItem::Threshold(_) | ast::RubricItem::Define(_) => {}
                    }
                }
            }
            ast::Item::Calibration(b) | ast::Item::FewShot(b) => {
                for e in &b.items {
                    if let ast::ExampleItem::Allow(a) = e {
                        allow(a, b.span);
                    }
                }
            }
            ast::Item::Taxonomy(t) => {
                for entry in &t.items {
                    match entry {
                        ast::TaxonomyItem::Allow(a) => allow(a, t.span),
                        ast::TaxonomyItem::Dimension(d) => dimension(d, &mut allow),
                        ast::TaxonomyItem::EdgeCases(_) | ast::TaxonomyItem::EdgeCase(_) => {}
                    }
                }
            }
            ast::Item::Personas(p) => {
                for entry in &p.items {
                    match entry {
                        ast::PersonasItem::Allow(a) => allow(a, p.span),
                        ast::PersonasItem::Trait(d) => dimension(d, &mut allow),
                        ast::PersonasItem::Flaws(k) => {
                            for e in &k.items {
                                match e {
                                    ast::FlawKindItem::Allow(a) => allow(a, k.span),
                                    ast::FlawKindItem::Flaw(f) => {
                                        body(f.body.as_ref(), f.span, &mut allow)
                                    }
                                }
                            }
                        }
                        ast::PersonasItem::FlawFree(_) | ast::PersonasItem::Trajectory(_) => {}
                    }
                }
            }
            ast::Item::UserSimulator(u) => {
                for entry in &u.items {
                    if let ast::SimulatorItem::Allow(a) = entry {
                        allow(a, u.span);
                    }
                }
            }
            ast::Item::Domain(_)
            | ast::Item::Generation(_)
            | ast::Item::Judge(_)
            | ast::Item::Expert(_) => {}
        }
    }
    d.levels = levels;
    d.bounds = bounds;
    d
}

/// The `allow`s of a dimension or trait pool: its own, scoped to it, and
/// each value's, scoped to the value.
fn dimension(d: &ast::Dimension, allow: &mut impl FnMut(&ast::Allow, Span)) {
    for item in &d.items {
        match item {
            ast::DimensionItem::Allow(a) => allow(a, d.span),
            ast::DimensionItem::Value(v) => body(v.body.as_ref(), v.span, allow),
        }
    }
}

/// The `allow`s in the body of a value or a flaw, scoped to it.
fn body(body: Option<&ast::Body>, scope: Span, allow: &mut impl FnMut(&ast::Allow, Span)) {
    for item in body.iter().flat_map(|b| &b.items) {
        if let ast::BodyItem::Allow(a) = item {
            allow(a, scope);
        }
    }
}
