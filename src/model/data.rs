//! Lowering the constructs that describe the data to generate: the
//! `taxonomy`, `personas` and `user_simulator` blocks, the length settings
//! of `generation` (`ratio`), and the computed items of a question
//! (`min_turns`, `facts`, `decide`). Part of passes 2 and 3 of
//! [`super::lower`], in the same style: every mistake a located
//! diagnostic with a help line, the rest of the block still lowered.
//!
//! What is checked here makes a spec unusable for generation (a duplicate
//! id, an unknown `words` target, a reversed or empty range, a second
//! `flaw_free`, a `decide` expression that does not parse). Whether the
//! numbers make sense together (weights summing to 1, a dominant value, a
//! flaw nobody can get) is left to the lint rules of group "generation"
//! (FT7xx), which a spec author may configure.

use super::lower::{Lowerer, Namespace, Properties, empty_list, list_for_help, unknown};
use super::*;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::{self, Kw};

/// The most words a `words` rule may ask of one user message.
pub const MAX_WORDS: u32 = 10_000;

/// The largest ratio of assistant to user words `ratio` accepts.
const MAX_RATIO: i64 = 100 * crate::score::SCALE;

/// A question's computed items, lowered.
pub(super) struct Computed {
    pub min_turns: Option<u32>,
    pub facts: Vec<FactKind>,
    pub decide: Option<(crate::facts::Decide, Span)>,
}

/// A value or flaw before it is split into its model type.
struct WeightedDraft {
    weight: Option<Decimal>,
    about: Option<Text>,
    subtopics: Vec<Text>,
    play: Option<Text>,
}

impl Lowerer {
    pub(super) fn lower_taxonomy(&mut self, t: &ast::Taxonomy) -> Taxonomy {
        let mut edge_cases: Option<(Option<Decimal>, Span)> = None;
        let mut texts = Vec::new();
        let mut dimensions = Vec::new();
        let mut namespace = Namespace::new("dimension");
        for item in &t.items {
            match item {
                ast::TaxonomyItem::EdgeCases(n) => match &edge_cases {
                    Some((_, first)) => {
                        self.duplicate_setting("edge_cases", n.keyword.span, *first)
                    }
                    None => {
                        edge_cases = Some((self.decimal(&n.value, "share"), n.keyword.span));
                    }
                },
                ast::TaxonomyItem::EdgeCase(p) => texts.push(p.value.clone()),
                ast::TaxonomyItem::Dimension(d) => {
                    if namespace.declare(&d.id, &mut self.diagnostics) {
                        dimensions.push(self.lower_dimension(d, "dimension value"));
                    }
                }
                ast::TaxonomyItem::Allow(_) => {}
            }
        }
        if let Some((Some(share), _)) = &edge_cases
            && share.units > 0
            && texts.is_empty()
        {
            self.error(
                Diagnostic::error("missing-property", "the taxonomy has an edge-case share but no edge case")
                    .at(share.span, format!("{} of the cells are edge cases", share.raw))
                    .help("add the edge cases to draw from, such as `edge_case \"The user writes in two languages at once.\"`, or remove `edge_cases`"),
            );
        }
        if dimensions.is_empty()
            && t.items
                .iter()
                .all(|i| !matches!(i, ast::TaxonomyItem::Dimension(_)))
        {
            self.error(
                Diagnostic::error("empty-block", "the taxonomy has no dimensions")
                    .at(t.keyword.span, "no `dimension` in this block")
                    .help("add the dimensions cells are drawn from, such as `dimension topic \"Topic\" { value work \"Work stress\" weight 1 }`"),
            );
        }
        Taxonomy {
            edge_cases: edge_cases.and_then(|(d, _)| d),
            edge_case_texts: texts,
            dimensions,
            span: t.span,
        }
    }

    /// A taxonomy dimension or a persona trait pool; `kind` names its
    /// values in messages.
    fn lower_dimension(&mut self, d: &ast::Dimension, kind: &'static str) -> Dimension {
        let mut namespace = Namespace::new(kind);
        let mut values = Vec::new();
        for item in &d.items {
            let ast::DimensionItem::Value(v) = item else {
                continue;
            };
            if !namespace.declare(&v.id, &mut self.diagnostics) {
                continue;
            }
            let draft = self.weighted_body(&v.weight, v.body.as_ref(), "value");
            let Some(weight) = draft.weight else {
                continue;
            };
            values.push(DimensionValue {
                id: v.id.clone(),
                text: v.text.clone(),
                weight,
                subtopics: draft.subtopics,
                about: draft.about,
                span: v.span,
            });
        }
        let has_values = d
            .items
            .iter()
            .any(|i| matches!(i, ast::DimensionItem::Value(_)));
        if !has_values {
            let what = if d.keyword.kind == Kw::Trait {
                "trait"
            } else {
                "dimension"
            };
            self.error(
                Diagnostic::error("empty-block", format!("{what} `{}` has no values", d.id.name))
                    .at(d.id.span, "no values")
                    .help(format!(
                        "add the values to draw from, such as `value {} \"...\" weight 0.5`, or remove the {what}",
                        if what == "trait" { "young" } else { "work" }
                    )),
            );
        }
        Dimension {
            id: d.id.clone(),
            title: d.title.clone(),
            values,
            span: d.span,
        }
    }

    /// The weight and body properties of a value or a flaw.
    fn weighted_body(
        &mut self,
        weight: &ast::Number,
        body: Option<&ast::Body>,
        block: &'static str,
    ) -> WeightedDraft {
        let mut properties = Properties::new(block);
        for item in body.iter().flat_map(|b| &b.items) {
            if let ast::BodyItem::Property(p) = item {
                properties.add(p);
            }
        }
        let d = &mut self.diagnostics;
        let about = properties.single(Kw::About, d);
        let play = properties.single(Kw::Play, d);
        let subtopics = properties.all(Kw::Subtopic);
        WeightedDraft {
            weight: self.decimal(weight, "weight"),
            about,
            subtopics,
            play,
        }
    }

    fn lower_weighted(&mut self, w: &ast::WeightedLine) -> Option<Weighted> {
        Some(Weighted {
            id: w.id.clone(),
            text: w.text.clone(),
            weight: self.decimal(&w.weight, "weight")?,
            span: w.span,
        })
    }

    pub(super) fn lower_personas(&mut self, p: &ast::Personas) -> Personas {
        let mut flaw_free: Option<(Option<Decimal>, Span)> = None;
        let mut traits = Vec::new();
        let mut flaw_kinds = Vec::new();
        let mut trajectories = Vec::new();
        let mut trait_ids = Namespace::new("trait");
        let mut kind_ids = Namespace::new("flaw kind");
        // Flaw ids are unique across kinds: a persona names its flaws by id.
        let mut flaw_ids = Namespace::new("flaw");
        let mut trajectory_ids = Namespace::new("trajectory");
        for item in &p.items {
            match item {
                ast::PersonasItem::FlawFree(n) => match &flaw_free {
                    Some((_, first)) => self.duplicate_setting("flaw_free", n.keyword.span, *first),
                    None => flaw_free = Some((self.decimal(&n.value, "share"), n.keyword.span)),
                },
                ast::PersonasItem::Trait(d) => {
                    if trait_ids.declare(&d.id, &mut self.diagnostics) {
                        traits.push(self.lower_dimension(d, "trait value"));
                    }
                }
                ast::PersonasItem::Flaws(k) => {
                    if !kind_ids.declare(&k.id, &mut self.diagnostics) {
                        continue;
                    }
                    let mut flaws = Vec::new();
                    for entry in &k.items {
                        let ast::FlawKindItem::Flaw(f) = entry else {
                            continue;
                        };
                        if !flaw_ids.declare(&f.id, &mut self.diagnostics) {
                            continue;
                        }
                        let draft = self.weighted_body(&f.weight, f.body.as_ref(), "flaw");
                        let Some(weight) = draft.weight else {
                            continue;
                        };
                        flaws.push(Flaw {
                            id: f.id.clone(),
                            title: f.title.clone(),
                            weight,
                            about: draft.about,
                            play: draft.play,
                            span: f.span,
                        });
                    }
                    if !k
                        .items
                        .iter()
                        .any(|i| matches!(i, ast::FlawKindItem::Flaw(_)))
                    {
                        self.error(
                            Diagnostic::error("empty-block", format!("flaw kind `{}` has no flaws", k.id.name))
                                .at(k.id.span, "no flaws")
                                .help("add flaws such as `flaw vague \"Vague about what happened\" weight 0.2 { play \"...\" }`, or remove the block"),
                        );
                    }
                    flaw_kinds.push(FlawKind {
                        id: k.id.clone(),
                        title: k.title.clone(),
                        flaws,
                        span: k.span,
                    });
                }
                ast::PersonasItem::Trajectory(w) => {
                    if trajectory_ids.declare(&w.id, &mut self.diagnostics)
                        && let Some(t) = self.lower_weighted(w)
                    {
                        trajectories.push(t);
                    }
                }
                ast::PersonasItem::Allow(_) => {}
            }
        }
        Personas {
            flaw_free: flaw_free.and_then(|(d, _)| d),
            traits,
            flaw_kinds,
            trajectories,
            span: p.span,
        }
    }

    pub(super) fn lower_user_simulator(
        &mut self,
        u: &ast::UserSimulator,
        taxonomy: Option<&Taxonomy>,
    ) -> UserSimulator {
        let mut behaviours = Vec::new();
        let mut behaviour_ids = Namespace::new("behaviour");
        let mut words: Vec<WordsRule> = Vec::new();
        let mut notes = Vec::new();
        for item in &u.items {
            match item {
                ast::SimulatorItem::Behaviour(w) => {
                    if behaviour_ids.declare(&w.id, &mut self.diagnostics)
                        && let Some(b) = self.lower_weighted(w)
                    {
                        behaviours.push(b);
                    }
                }
                ast::SimulatorItem::Words(w) => {
                    let target = self.resolve_words_target(&w.target, taxonomy);
                    let range = self.words_range(w);
                    let (Some((dimension, value)), Some((min, max))) = (target, range) else {
                        continue;
                    };
                    if let Some(first) = words
                        .iter()
                        .find(|r| r.dimension == dimension && r.value == value)
                    {
                        self.error(
                            Diagnostic::error(
                                "duplicate-property",
                                format!("the words of `{}` are given twice", w.target.dotted()),
                            )
                            .at(w.target.span, "given again here")
                            .also(first.span, "first given here")
                            .help("keep one `words` range for each value"),
                        );
                        continue;
                    }
                    words.push(WordsRule {
                        dimension,
                        value,
                        min,
                        max,
                        span: w.span,
                    });
                }
                ast::SimulatorItem::Property(p) => notes.push(p.value.clone()),
                ast::SimulatorItem::Allow(_) => {}
            }
        }
        UserSimulator {
            behaviours,
            words,
            notes,
            span: u.span,
        }
    }

    /// `style.terse`: a dimension of the taxonomy and one of its values.
    fn resolve_words_target(
        &mut self,
        target: &ast::Reference,
        taxonomy: Option<&Taxonomy>,
    ) -> Option<(usize, usize)> {
        let written = target.dotted();
        let dimensions: Vec<String> = taxonomy
            .map(|t| t.dimensions.iter().map(|d| d.id.name.clone()).collect())
            .unwrap_or_default();
        let [dimension, value] = target.parts.as_slice() else {
            // `words style 3..20`: a dimension without its value.
            let values: Vec<String> = taxonomy
                .and_then(|t| t.dimensions.iter().find(|d| d.id.name == written))
                .map(|d| {
                    d.values
                        .iter()
                        .map(|v| format!("{written}.{}", v.id.name))
                        .collect()
                })
                .unwrap_or_default();
            let help = if values.is_empty() {
                "`words` names one value of a taxonomy dimension, such as `words style.terse 3..20`"
                    .to_string()
            } else {
                format!(
                    "`words` names one value of the dimension, with one range each: {}",
                    list_for_help(&values)
                )
            };
            self.error(
                Diagnostic::error(
                    "unknown-reference",
                    format!("`{written}` is not a dimension value"),
                )
                .at(target.span, "expected `dimension.value`")
                .help(help),
            );
            return None;
        };
        let Some(di) = dimensions.iter().position(|d| *d == dimension.name) else {
            let help = if dimensions.is_empty() {
                format!(
                    "declare it in a `taxonomy` block: `dimension {} \"...\" {{ value {} \"...\" weight 1 }}`",
                    dimension.name, value.name
                )
            } else {
                format!(
                    "the taxonomy's dimensions are {}",
                    list_for_help(&dimensions)
                )
            };
            self.error(unknown(
                "dimension",
                &dimension.name,
                dimension.span,
                &dimensions,
                help,
            ));
            return None;
        };
        let values: Vec<String> = taxonomy
            .map(|t| {
                t.dimensions[di]
                    .values
                    .iter()
                    .map(|v| v.id.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        let Some(vi) = values.iter().position(|v| *v == value.name) else {
            let qualified: Vec<String> = values
                .iter()
                .map(|v| format!("{}.{v}", dimension.name))
                .collect();
            let help = format!(
                "the values of `{}` are {}",
                dimension.name,
                list_for_help(&values)
            );
            let diagnostic = unknown("dimension value", &written, value.span, &qualified, help);
            self.error(diagnostic);
            return None;
        };
        Some((di, vi))
    }

    /// `3..20`: whole numbers of words, at least 1, low to high.
    fn words_range(&mut self, w: &ast::Words) -> Option<(u32, u32)> {
        let read = |n: &ast::Number| n.raw.parse::<u32>().ok().filter(|&v| v <= MAX_WORDS);
        let span = w.min.span.to(w.max.span);
        let (Some(min), Some(max)) = (read(&w.min), read(&w.max)) else {
            self.error(
                Diagnostic::error("invalid-number", "a word range takes whole numbers")
                    .at(span, format!("expected whole numbers from 1 to {MAX_WORDS}"))
                    .help("count the words of a user message with whole numbers, such as `words style.terse 3..20`"),
            );
            return None;
        };
        if min == 0 || min > max {
            let (message, label) = if min == 0 {
                (
                    "a word range must start at 1 or more",
                    "a message of zero words",
                )
            } else {
                (
                    "the word range is empty",
                    "its low end is above its high end",
                )
            };
            let (low, high) = if min == 0 {
                (1, max.max(1))
            } else {
                (max, min)
            };
            self.error(
                Diagnostic::error("invalid-number", message)
                    .at(span, label)
                    .help(format!(
                        "write the range from low to high, starting at 1 or more, such as `words {} {low}..{high}`",
                        w.target.dotted(),
                    )),
            );
            return None;
        }
        Some((min, max))
    }

    /// `ratio 1.0..1.5 limit 2.0`.
    pub(super) fn lower_ratio(&mut self, r: &ast::Ratio) -> Option<RatioRule> {
        let min = self.ratio_number(&r.min)?;
        let max = self.ratio_number(&r.max)?;
        let limit = match &r.limit {
            Some((_, n)) => Some(self.ratio_number(n)?),
            None => None,
        };
        if min.units > max.units {
            self.error(
                Diagnostic::error("invalid-number", "the ratio range is empty")
                    .at(min.span.to(max.span), "its low end is above its high end")
                    .help(format!(
                        "write the target range from low to high: `ratio {}..{}`",
                        max.raw, min.raw
                    )),
            );
            return None;
        }
        if let Some(limit) = &limit
            && limit.units < max.units
        {
            self.error(
                Diagnostic::error("invalid-number", "the hard limit is below the target range")
                    .at(limit.span, format!("below the target's high end, {}", max.raw))
                    .also(max.span, "the target's high end")
                    .help("the limit is the ratio no exchange may pass, so it is at least the target's high end: raise the limit or lower the range"),
            );
            return None;
        }
        Some(RatioRule {
            min,
            max,
            limit,
            span: r.span,
        })
    }

    /// A ratio of words: above 0, at most 100, nine places at most.
    fn ratio_number(&mut self, n: &ast::Number) -> Option<Decimal> {
        match crate::score::parse_decimal(&n.raw) {
            Some(units) if units > 0 && units <= MAX_RATIO => Some(Decimal {
                units,
                raw: n.raw.clone(),
                span: n.span,
            }),
            Some(0) => {
                self.error(
                    Diagnostic::error("invalid-number", "a ratio of 0 allows no assistant words")
                        .at(n.span, "must be above 0")
                        .help("write assistant words per user word, such as `ratio 1.0..1.5 limit 2.0`"),
                );
                None
            }
            _ => {
                self.error(
                    Diagnostic::error("invalid-number", format!("`{}` is not a valid ratio", n.raw))
                        .at(n.span, "a ratio is a number above 0 and at most 100, with at most nine decimal places")
                        .help("write assistant words per user word, such as `ratio 1.0..1.5 limit 2.0`"),
                );
                None
            }
        }
    }

    /// `min_turns`, `facts` and `decide` of a question.
    pub(super) fn lower_computed(&mut self, q: &ast::Question) -> Computed {
        let mut min_turns: Option<(Option<u32>, Span)> = None;
        let mut facts: Option<(Vec<FactKind>, Span)> = None;
        let mut decide: Option<(Option<(crate::facts::Decide, Span)>, Span)> = None;
        for item in q.body.iter().flat_map(|b| &b.items) {
            match item {
                ast::QuestionItem::MinTurns(m) => match &min_turns {
                    Some((_, first)) => self.duplicate_setting("min_turns", m.keyword.span, *first),
                    None => {
                        let count = self.count(&m.value).and_then(|n| {
                            if n == 0 {
                                self.error(
                                    Diagnostic::error("invalid-number", "`min_turns 0` excludes no conversation")
                                        .at(m.value.span, "must be at least 1")
                                        .help("give the fewest exchanges a conversation needs for the question to apply, such as `min_turns 2`, or remove the line"),
                                );
                                None
                            } else {
                                Some(n)
                            }
                        });
                        min_turns = Some((count, m.keyword.span));
                    }
                },
                ast::QuestionItem::Facts {
                    keyword,
                    names,
                    span,
                } => {
                    if let Some((_, first)) = &facts {
                        self.duplicate_setting("facts", keyword.span, *first);
                        continue;
                    }
                    if names.is_empty() {
                        self.error(empty_list(*span, "facts", "facts", "facts words, ratio"));
                    }
                    let mut kinds: Vec<(FactKind, Span)> = Vec::new();
                    for name in names {
                        let kind = match name.kind {
                            Kw::Turns => FactKind::Turns,
                            Kw::Ratio => FactKind::Ratio,
                            Kw::Longest => FactKind::Longest,
                            _ => FactKind::Words,
                        };
                        if let Some((_, first)) = kinds.iter().find(|(k, _)| *k == kind) {
                            self.error(
                                Diagnostic::error(
                                    "duplicate-property",
                                    format!("`{}` is listed twice in `facts`", kind.as_str()),
                                )
                                .at(name.span, "listed again here")
                                .also(*first, "first listed here")
                                .help("list each fact once"),
                            );
                            continue;
                        }
                        kinds.push((kind, name.span));
                    }
                    facts = Some((kinds.into_iter().map(|(k, _)| k).collect(), keyword.span));
                }
                ast::QuestionItem::Decide(p) => match &decide {
                    Some((_, first)) => self.duplicate_setting("decide", p.key.span, *first),
                    None => decide = Some((self.lower_decide(&p.value), p.key.span)),
                },
                _ => {}
            }
        }
        Computed {
            min_turns: min_turns.and_then(|(n, _)| n),
            facts: facts.map(|(f, _)| f).unwrap_or_default(),
            decide: decide.and_then(|(d, _)| d),
        }
    }

    fn lower_decide(&mut self, text: &Text) -> Option<(crate::facts::Decide, Span)> {
        match crate::facts::Decide::parse(&text.value) {
            Ok(decide) => Some((decide, text.span)),
            Err(e) => {
                let span = span_in_text(text, e.offset, e.len);
                let help = e.hint.clone().unwrap_or_else(|| {
                    "write comparisons of counted facts with numbers, such as `assistant_words_max < 150`".to_string()
                });
                self.error(
                    Diagnostic::error(
                        "invalid-decide",
                        format!("the `decide` expression does not parse: {}", e.message),
                    )
                    .at(span, "here")
                    .help(help),
                );
                None
            }
        }
    }
}

/// The source span of bytes `offset..offset + len` of a text's value. A
/// quoted string without escapes is its value between two quotes, so the
/// range maps exactly; otherwise (escapes, text blocks) the whole text.
fn span_in_text(text: &Text, offset: usize, len: usize) -> Span {
    let exact = text.style == ast::TextStyle::Quoted && text.span.len() == text.value.len() + 2;
    if exact && offset + len <= text.value.len() {
        let start = text.span.start + 1 + offset;
        Span::new(start, start + len)
    } else {
        text.span
    }
}

#[cfg(test)]
mod tests {
    use super::span_in_text;
    use crate::source::Span;
    use crate::syntax::ast::{Text, TextStyle};

    #[test]
    fn a_range_of_a_plain_string_maps_into_its_quotes() {
        let text = Text {
            value: "turns > x".into(),
            style: TextStyle::Quoted,
            span: Span::new(10, 21),
        };
        assert_eq!(span_in_text(&text, 8, 1), Span::new(19, 20));
        assert_eq!(span_in_text(&text, 9, 0), Span::new(20, 20));
        // An escape makes the source longer than the value: the whole text.
        let escaped = Text {
            value: "turns > \"x".into(),
            style: TextStyle::Quoted,
            span: Span::new(10, 23),
        };
        assert_eq!(span_in_text(&escaped, 8, 1), Span::new(10, 23));
    }
}
