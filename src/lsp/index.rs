//! The symbol index of one document: every declared id and every place
//! that names one, read from the syntax tree.
//!
//! Built from the tree rather than the resolved model on purpose: a spec
//! being typed has errors most of the time, and go-to-definition, find
//! references, rename and hover must keep working then. Resolution follows
//! the model's rules (docs/language.md, "References"); where a name is
//! declared twice, the first declaration wins, as in the model.

use crate::source::Span;
use crate::syntax::ast::{self, Item, Polarity};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Domain,
    Framework,
    Technique,
    Failure,
    Always,
    Never,
    Gate,
    Category,
    Question,
    Calibration,
    FewShot,
    Expert,
    /// A taxonomy dimension.
    Dimension,
    /// A value of a taxonomy dimension (`topic.work`).
    DimensionValue,
    /// A persona trait pool.
    Trait,
    /// A value of a trait pool (`age.young`).
    TraitValue,
    FlawKind,
    Flaw,
    Trajectory,
    Behaviour,
}

impl SymbolKind {
    pub fn describe(self) -> &'static str {
        match self {
            SymbolKind::Domain => "domain",
            SymbolKind::Framework => "framework",
            SymbolKind::Technique => "technique",
            SymbolKind::Failure => "failure mode",
            SymbolKind::Always => "ALWAYS anchor",
            SymbolKind::Never => "NEVER anchor",
            SymbolKind::Gate => "safety gate",
            SymbolKind::Category => "category",
            SymbolKind::Question => "question",
            SymbolKind::Calibration => "calibration example",
            SymbolKind::FewShot => "few-shot example",
            SymbolKind::Expert => "expert",
            SymbolKind::Dimension => "taxonomy dimension",
            SymbolKind::DimensionValue => "dimension value",
            SymbolKind::Trait => "persona trait",
            SymbolKind::TraitValue => "trait value",
            SymbolKind::FlawKind => "kind of flaw",
            SymbolKind::Flaw => "persona flaw",
            SymbolKind::Trajectory => "trajectory",
            SymbolKind::Behaviour => "user behaviour",
        }
    }
}

/// A declared id.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub kind: SymbolKind,
    /// The id as written: `socratic`.
    pub name: String,
    /// How references write it: `cbt.socratic`, `always.name_emotion`,
    /// `failure.toxic_positivity`, `CP1`.
    pub reference: String,
    /// The id token.
    pub name_span: Span,
    /// The whole declaration.
    pub span: Span,
    /// Title or text, for outlines and completion.
    pub detail: String,
    /// The framework of a technique, the group of a question.
    pub parent: Option<usize>,
}

/// A place that names a symbol. `span` is the token that names it (in
/// `cbt.socratic`, `cbt` names the framework and `socratic` the
/// technique), which is what a rename replaces.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    pub span: Span,
    pub target: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Index {
    pub symbols: Vec<Symbol>,
    pub references: Vec<Reference>,
    /// `allow`, `deny` and `warn` codes, for hover.
    pub lint_codes: Vec<(Span, String)>,
    by_reference: HashMap<(Namespace, String), usize>,
}

/// Names are unique within a namespace; techniques are named with their
/// framework (`cbt.socratic`), so one namespace holds them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Namespace {
    Framework,
    Technique,
    Failure,
    Anchor,
    Group,
    Question,
    Example,
    Expert,
    Domain,
    Dimension,
    /// Values are named with their dimension (`style.terse`), so one
    /// namespace holds them all; likewise trait values.
    DimensionValue,
    Trait,
    TraitValue,
    FlawKind,
    /// Flaw ids are unique across kinds.
    Flaw,
    Trajectory,
    Behaviour,
}

fn namespace(kind: SymbolKind) -> Namespace {
    match kind {
        SymbolKind::Domain => Namespace::Domain,
        SymbolKind::Framework => Namespace::Framework,
        SymbolKind::Technique => Namespace::Technique,
        SymbolKind::Failure => Namespace::Failure,
        SymbolKind::Always | SymbolKind::Never => Namespace::Anchor,
        SymbolKind::Gate | SymbolKind::Category => Namespace::Group,
        SymbolKind::Question => Namespace::Question,
        SymbolKind::Calibration | SymbolKind::FewShot => Namespace::Example,
        SymbolKind::Expert => Namespace::Expert,
        SymbolKind::Dimension => Namespace::Dimension,
        SymbolKind::DimensionValue => Namespace::DimensionValue,
        SymbolKind::Trait => Namespace::Trait,
        SymbolKind::TraitValue => Namespace::TraitValue,
        SymbolKind::FlawKind => Namespace::FlawKind,
        SymbolKind::Flaw => Namespace::Flaw,
        SymbolKind::Trajectory => Namespace::Trajectory,
        SymbolKind::Behaviour => Namespace::Behaviour,
    }
}

impl Index {
    pub fn build(file: &ast::File) -> Index {
        let mut index = Index::default();
        index.declare_all(file);
        index.resolve_all(file);
        index
    }

    fn declare(
        &mut self,
        kind: SymbolKind,
        id: &ast::Ident,
        reference: String,
        span: Span,
        detail: &str,
        parent: Option<usize>,
    ) -> usize {
        let n = self.symbols.len();
        self.symbols.push(Symbol {
            kind,
            name: id.name.clone(),
            reference: reference.clone(),
            name_span: id.span,
            span,
            detail: detail.to_string(),
            parent,
        });
        self.by_reference
            .entry((namespace(kind), reference))
            .or_insert(n);
        n
    }

    fn declare_all(&mut self, file: &ast::File) {
        for item in &file.items {
            match item {
                Item::Domain(d) => {
                    let title = d
                        .properties
                        .iter()
                        .find(|p| p.key.kind == ast::Kw::Title)
                        .map(|p| p.value.value.as_str())
                        .unwrap_or("");
                    self.declare(
                        SymbolKind::Domain,
                        &d.id,
                        d.id.name.clone(),
                        d.span,
                        title,
                        None,
                    );
                }
                Item::Framework(f) => {
                    let fw = self.declare(
                        SymbolKind::Framework,
                        &f.id,
                        f.id.name.clone(),
                        f.span,
                        &f.title.value,
                        None,
                    );
                    for item in &f.items {
                        if let ast::FrameworkItem::Technique(t) = item {
                            self.declare(
                                SymbolKind::Technique,
                                &t.id,
                                format!("{}.{}", f.id.name, t.id.name),
                                t.span,
                                &t.title.value,
                                Some(fw),
                            );
                        }
                    }
                }
                Item::Failure(f) => {
                    self.declare(
                        SymbolKind::Failure,
                        &f.id,
                        f.id.name.clone(),
                        f.span,
                        &f.title.value,
                        None,
                    );
                }
                Item::Anchors(block) => {
                    let kind = match block.polarity {
                        Polarity::Always => SymbolKind::Always,
                        Polarity::Never => SymbolKind::Never,
                    };
                    for a in &block.anchors {
                        self.declare(
                            kind,
                            &a.id,
                            format!("{}.{}", block.polarity.as_str(), a.id.name),
                            a.span,
                            &a.text.value,
                            None,
                        );
                    }
                }
                Item::Rubric(r) => {
                    for item in &r.items {
                        let ast::RubricItem::Group(g) = item else {
                            continue;
                        };
                        let kind = match g.kind {
                            ast::GroupKind::Gate => SymbolKind::Gate,
                            ast::GroupKind::Category => SymbolKind::Category,
                        };
                        let group = self.declare(
                            kind,
                            &g.id,
                            g.id.name.clone(),
                            g.span,
                            &g.title.value,
                            None,
                        );
                        for item in &g.items {
                            if let ast::GroupItem::Question(q) = item {
                                self.declare(
                                    SymbolKind::Question,
                                    &q.id,
                                    q.id.name.clone(),
                                    q.span,
                                    &q.text.value,
                                    Some(group),
                                );
                            }
                        }
                    }
                }
                Item::Calibration(e) | Item::FewShot(e) => {
                    let kind = match e.kind {
                        ast::ExampleKind::Calibration => SymbolKind::Calibration,
                        ast::ExampleKind::FewShot => SymbolKind::FewShot,
                    };
                    self.declare(kind, &e.id, e.id.name.clone(), e.span, &e.title.value, None);
                }
                Item::Expert(e) => {
                    self.declare(
                        SymbolKind::Expert,
                        &e.id,
                        e.id.name.clone(),
                        e.span,
                        &e.name.value,
                        None,
                    );
                }
                Item::Taxonomy(t) => {
                    for item in &t.items {
                        if let ast::TaxonomyItem::Dimension(d) = item {
                            self.declare_dimension(d, SymbolKind::Dimension);
                        }
                    }
                }
                Item::Personas(p) => {
                    for item in &p.items {
                        match item {
                            ast::PersonasItem::Trait(d) => {
                                self.declare_dimension(d, SymbolKind::Trait);
                            }
                            ast::PersonasItem::Flaws(k) => {
                                let kind = self.declare(
                                    SymbolKind::FlawKind,
                                    &k.id,
                                    k.id.name.clone(),
                                    k.span,
                                    &k.title.value,
                                    None,
                                );
                                for item in &k.items {
                                    if let ast::FlawKindItem::Flaw(f) = item {
                                        self.declare(
                                            SymbolKind::Flaw,
                                            &f.id,
                                            f.id.name.clone(),
                                            f.span,
                                            &f.title.value,
                                            Some(kind),
                                        );
                                    }
                                }
                            }
                            ast::PersonasItem::Trajectory(w) => {
                                self.declare(
                                    SymbolKind::Trajectory,
                                    &w.id,
                                    w.id.name.clone(),
                                    w.span,
                                    &w.text.value,
                                    None,
                                );
                            }
                            ast::PersonasItem::FlawFree(_) | ast::PersonasItem::Allow(_) => {}
                        }
                    }
                }
                Item::UserSimulator(u) => {
                    for item in &u.items {
                        if let ast::SimulatorItem::Behaviour(w) = item {
                            self.declare(
                                SymbolKind::Behaviour,
                                &w.id,
                                w.id.name.clone(),
                                w.span,
                                &w.text.value,
                                None,
                            );
                        }
                    }
                }
                Item::Generation(_) | Item::Judge(_) | Item::Lint(_) => {}
            }
        }
    }

    /// A dimension (or trait pool) and its values, named `dimension.value`.
    fn declare_dimension(&mut self, d: &ast::Dimension, kind: SymbolKind) {
        let value_kind = match kind {
            SymbolKind::Trait => SymbolKind::TraitValue,
            _ => SymbolKind::DimensionValue,
        };
        let dimension = self.declare(kind, &d.id, d.id.name.clone(), d.span, &d.title.value, None);
        for item in &d.items {
            if let ast::DimensionItem::Value(v) = item {
                self.declare(
                    value_kind,
                    &v.id,
                    format!("{}.{}", d.id.name, v.id.name),
                    v.span,
                    &v.text.value,
                    Some(dimension),
                );
            }
        }
    }

    fn find(&self, ns: Namespace, reference: &str) -> Option<usize> {
        self.by_reference.get(&(ns, reference.to_string())).copied()
    }

    fn refer(&mut self, span: Span, target: Option<usize>) {
        if let Some(target) = target {
            self.references.push(Reference { span, target });
        }
    }

    /// `always.x`, `never.x` or `failure.x`, as `checks` writes them.
    fn resolve_check(&mut self, r: &ast::Reference) {
        let [head, name] = r.parts.as_slice() else {
            return;
        };
        let target = match head.name.as_str() {
            "failure" => self.find(Namespace::Failure, &name.name),
            _ => self.find(Namespace::Anchor, &r.dotted()),
        };
        self.refer(name.span, target);
    }

    /// `framework.technique`, or an anchor (`shows` takes both).
    fn resolve_technique_or_anchor(&mut self, r: &ast::Reference, anchors: bool) {
        let [head, name] = r.parts.as_slice() else {
            return;
        };
        if anchors && let Some(a) = self.find(Namespace::Anchor, &r.dotted()) {
            self.refer(name.span, Some(a));
            return;
        }
        let framework = self.find(Namespace::Framework, &head.name);
        self.refer(head.span, framework);
        let technique = self.find(Namespace::Technique, &r.dotted());
        self.refer(name.span, technique);
    }

    fn resolve_all(&mut self, file: &ast::File) {
        for item in &file.items {
            match item {
                Item::Framework(f) => {
                    let instead_of = f
                        .items
                        .iter()
                        .filter_map(|i| match i {
                            ast::FrameworkItem::Technique(t) => Some(&t.items),
                            _ => None,
                        })
                        .flatten()
                        .filter_map(|i| match i {
                            ast::TechniqueItem::InsteadOf(i) => Some(&i.target),
                            _ => None,
                        });
                    for target in instead_of {
                        self.resolve_technique_or_anchor(target, false);
                    }
                }
                Item::Anchors(block) => {
                    for guard in block.anchors.iter().flat_map(|a| &a.guards) {
                        let target = self.find(Namespace::Failure, &guard.name);
                        self.refer(guard.span, target);
                    }
                }
                Item::Calibration(e) | Item::FewShot(e) => {
                    for item in &e.items {
                        match item {
                            ast::ExampleItem::Answers(answers) => {
                                for answer in &answers.answers {
                                    let target =
                                        self.find(Namespace::Question, &answer.question.name);
                                    self.refer(answer.question.span, target);
                                }
                            }
                            ast::ExampleItem::Shows(s) => {
                                for r in &s.targets {
                                    self.resolve_technique_or_anchor(r, true);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Item::UserSimulator(u) => {
                    for item in &u.items {
                        if let ast::SimulatorItem::Words(w) = item
                            && let [dimension, value] = w.target.parts.as_slice()
                        {
                            let d = self.find(Namespace::Dimension, &dimension.name);
                            self.refer(dimension.span, d);
                            let v = self.find(Namespace::DimensionValue, &w.target.dotted());
                            self.refer(value.span, v);
                        }
                    }
                }
                _ => {}
            }
        }
        for (_, q) in file.questions() {
            for c in &q.checks {
                self.resolve_check(c);
            }
        }
        // Every `allow`, `deny` and `warn` code, as the lint engine reads them.
        let directives = crate::model::collect_lint_directives(file);
        self.lint_codes = directives
            .suppressions
            .iter()
            .map(|s| &s.code)
            .chain(directives.levels.iter().map(|l| &l.code))
            .map(|c| (c.span, c.text.clone()))
            .collect();
    }

    /// The symbol named or declared at `offset`: a reference's target, or
    /// the symbol whose id token is there.
    pub fn symbol_at(&self, offset: usize) -> Option<usize> {
        let contains = |s: Span| s.start <= offset && offset <= s.end;
        if let Some(r) = self.references.iter().find(|r| contains(r.span)) {
            return Some(r.target);
        }
        self.symbols.iter().position(|s| contains(s.name_span))
    }

    /// The token at `offset` that names a symbol, and the symbol.
    pub fn name_at(&self, offset: usize) -> Option<(Span, usize)> {
        let contains = |s: Span| s.start <= offset && offset <= s.end;
        if let Some(r) = self.references.iter().find(|r| contains(r.span)) {
            return Some((r.span, r.target));
        }
        self.symbols
            .iter()
            .position(|s| contains(s.name_span))
            .map(|i| (self.symbols[i].name_span, i))
    }

    /// Every place that names `symbol`, its declaration excluded.
    pub fn references_to(&self, symbol: usize) -> impl Iterator<Item = &Reference> {
        self.references.iter().filter(move |r| r.target == symbol)
    }

    /// Symbols of `kind`, in source order.
    pub fn of_kind(&self, kind: SymbolKind) -> impl Iterator<Item = (usize, &Symbol)> {
        self.symbols
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.kind == kind)
    }

    /// Another symbol that would clash with `symbol` renamed to `name`.
    pub fn clash(&self, symbol: usize, name: &str) -> Option<&Symbol> {
        let s = &self.symbols[symbol];
        let ns = namespace(s.kind);
        self.symbols.iter().enumerate().find_map(|(i, other)| {
            let same_scope = namespace(other.kind) == ns
                && i != symbol
                && other.name == name
                // Techniques clash within their framework, values within
                // their dimension, anchors within their polarity.
                && (!matches!(
                    ns,
                    Namespace::Technique | Namespace::DimensionValue | Namespace::TraitValue
                ) || other.parent == s.parent)
                && (ns != Namespace::Anchor || other.kind == s.kind);
            same_scope.then_some(other)
        })
    }

    /// The lint code written at `offset` in an `allow`, `deny` or `warn`.
    pub fn lint_code_at(&self, offset: usize) -> Option<(Span, &str)> {
        self.lint_codes
            .iter()
            .find(|(s, _)| s.start <= offset && offset <= s.end)
            .map(|(s, c)| (*s, c.as_str()))
    }
}

/// Whether `name` is a valid id: a letter or `_`, then letters, digits or
/// `_` (ASCII, as the grammar says).
pub fn is_ident(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::{Index, SymbolKind};

    #[test]
    fn words_targets_name_a_dimension_and_its_value() {
        let text = r#"taxonomy {
  dimension style "Style" { value terse "Short" weight 0.5 value verbose "Long" weight 0.5 }
  dimension tone "Tone" { value terse "Curt" weight 1 }
}
user_simulator { words style.terse 3..20 words style.nope 1..2 }
"#;
        let index = Index::build(&crate::syntax::parse(text).file);
        let words = text.find("style.terse 3").unwrap();
        // `style` names the dimension, `terse` the value of that dimension.
        let dimension = index.symbol_at(words).unwrap();
        assert_eq!(index.symbols[dimension].kind, SymbolKind::Dimension);
        let value = index.symbol_at(words + "style.".len()).unwrap();
        assert_eq!(index.symbols[value].reference, "style.terse");
        assert_eq!(index.references_to(value).count(), 1);
        // An unknown value names nothing.
        let nope = text.find("nope").unwrap();
        assert!(index.references.iter().all(|r| r.span.start != nope));
        // Values clash within their dimension only.
        assert!(index.clash(value, "verbose").is_some());
        let tone_terse = index
            .symbols
            .iter()
            .position(|s| s.reference == "tone.terse")
            .unwrap();
        assert!(index.clash(tone_terse, "verbose").is_none());
    }
}
