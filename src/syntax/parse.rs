//! From the pest parse tree to the [`ast`](super::ast).
//!
//! Naming habit: `build_*` turns one pest pair into one AST node. The pairs
//! have already been checked by the grammar, so a pair of an unexpected
//! shape is an internal bug; rather than panic, the builders fall back to
//! empty values and the junk/escape diagnostics explain the user's error.

use super::ast::*;
use super::text::{decode_string, dedent_block};
use super::{Rule, SpecParser};
use crate::diagnostics::Diagnostic;
use crate::source::Span;
use pest::Parser;
use pest::iterators::Pair;

/// A line the grammar could not read, and the item rule of the block it
/// appeared in (used to explain what was expected there).
#[derive(Debug, Clone)]
pub struct Junk {
    pub span: Span,
    pub expected: Rule,
    /// The block it sits in, for messages: "in a `domain` block".
    pub block: &'static str,
}

pub struct Builder<'s> {
    pub source: &'s str,
    pub junk: Vec<Junk>,
    pub errors: Vec<Diagnostic>,
}

/// The children of a pair that carry meaning (comments are collected
/// separately).
fn children<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| p.as_rule() != Rule::COMMENT)
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    pair.as_span().into()
}

impl<'s> Builder<'s> {
    pub fn new(source: &'s str) -> Self {
        Builder {
            source,
            junk: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub fn parse_file(&mut self) -> File {
        let full = Span::new(0, self.source.len());
        let pairs = match SpecParser::parse(Rule::file, self.source) {
            Ok(pairs) => pairs,
            Err(error) => {
                // The grammar accepts any text (junk rules), so this is only
                // reached on pathological input; report it at its position.
                let at = match error.location {
                    pest::error::InputLocation::Pos(p) => p,
                    pest::error::InputLocation::Span((s, _)) => s,
                };
                self.errors.push(
                    Diagnostic::error("syntax-error", "the file could not be read")
                        .at(Span::point(at.min(self.source.len())), "here"),
                );
                return File {
                    items: Vec::new(),
                    comments: Vec::new(),
                    span: full,
                };
            }
        };
        let mut comments = Vec::new();
        for pair in pairs.clone().flatten() {
            if pair.as_rule() == Rule::COMMENT {
                let raw = pair.as_str();
                let text = raw
                    .strip_prefix('#')
                    .unwrap_or(raw)
                    .trim_end_matches('\r')
                    .to_string();
                comments.push(Comment {
                    text,
                    span: span_of(&pair),
                });
            }
        }
        let mut items = Vec::new();
        for file in pairs {
            for pair in children(file) {
                match pair.as_rule() {
                    Rule::top_item => {
                        if let Some(item) = children(pair).next().and_then(|p| self.build_item(p)) {
                            items.push(item);
                        }
                    }
                    Rule::top_junk => self.junk.push(Junk {
                        span: span_of(&pair),
                        expected: Rule::top_item,
                        block: "",
                    }),
                    _ => {}
                }
            }
        }
        File {
            items,
            comments,
            span: full,
        }
    }

    fn build_item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        Some(match pair.as_rule() {
            Rule::domain => Item::Domain(self.build_domain(pair)),
            Rule::framework => Item::Framework(self.build_framework(pair)),
            Rule::failure => Item::Failure(self.build_failure(pair)),
            Rule::always_block => Item::Anchors(self.build_anchors(pair, Polarity::Always)),
            Rule::never_block => Item::Anchors(self.build_anchors(pair, Polarity::Never)),
            Rule::rubric => Item::Rubric(self.build_rubric(pair)),
            Rule::calibration => {
                Item::Calibration(self.build_example_block(pair, ExampleKind::Calibration))
            }
            Rule::fewshot => Item::FewShot(self.build_example_block(pair, ExampleKind::FewShot)),
            Rule::generation => Item::Generation(self.build_generation(pair)),
            Rule::judge => Item::Judge(self.build_judge(pair)),
            Rule::expert => Item::Expert(self.build_expert(pair)),
            Rule::lint => Item::Lint(self.build_lint(pair)),
            Rule::taxonomy => Item::Taxonomy(self.build_taxonomy(pair)),
            Rule::personas => Item::Personas(self.build_personas(pair)),
            Rule::user_simulator => Item::UserSimulator(self.build_user_simulator(pair)),
            _ => return None,
        })
    }

    /// Records a junk pair found in a block body.
    fn junk(&mut self, pair: &Pair<'_, Rule>, expected: Rule, block: &'static str) {
        self.junk.push(Junk {
            span: span_of(pair),
            expected,
            block,
        });
    }

    fn keyword(&self, pair: &Pair<'_, Rule>) -> Keyword {
        Keyword {
            kind: keyword_kind(pair.as_rule()).unwrap_or(Kw::Note),
            span: span_of(pair),
        }
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: span_of(pair),
        }
    }

    fn reference(&self, pair: &Pair<'_, Rule>) -> Reference {
        let span = span_of(pair);
        let mut parts = Vec::new();
        let mut offset = span.start;
        for part in pair.as_str().split('.') {
            parts.push(Ident {
                name: part.to_string(),
                span: Span::new(offset, offset + part.len()),
            });
            offset += part.len() + 1;
        }
        Reference { parts, span }
    }

    fn number(&self, pair: &Pair<'_, Rule>) -> Number {
        Number {
            raw: pair.as_str().to_string(),
            span: span_of(pair),
        }
    }

    fn text(&mut self, pair: &Pair<'_, Rule>) -> Text {
        let span = span_of(pair);
        match pair.as_rule() {
            Rule::text_block => Text {
                value: dedent_block(pair.as_str(), span.start, &mut self.errors),
                style: TextStyle::Block,
                span,
            },
            _ => Text {
                value: decode_string(pair.as_str(), span.start, &mut self.errors),
                style: TextStyle::Quoted,
                span,
            },
        }
    }

    fn property(&mut self, pair: Pair<'_, Rule>) -> Property {
        let span = span_of(&pair);
        let mut key = None;
        let mut value = None;
        for child in children(pair) {
            if keyword_kind(child.as_rule()).is_some() {
                key = Some(self.keyword(&child));
            } else {
                value = Some(self.text(&child));
            }
        }
        Property {
            key: key.unwrap_or(Keyword {
                kind: Kw::Note,
                span,
            }),
            value: value.unwrap_or_else(|| empty_text(span)),
            span,
        }
    }

    fn build_domain(&mut self, pair: Pair<'_, Rule>) -> Domain {
        let span = span_of(&pair);
        let mut keyword = None;
        let mut id = None;
        let mut properties = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_domain => keyword = Some(self.keyword(&child)),
                Rule::ident => id = Some(self.ident(&child)),
                Rule::property_domain => properties.push(self.property(child)),
                Rule::junk => self.junk(&child, Rule::property_domain, "domain"),
                _ => {}
            }
        }
        Domain {
            keyword: keyword.unwrap_or(placeholder_keyword(Kw::Domain, span)),
            id: id.unwrap_or_else(|| empty_ident(span)),
            properties,
            span,
        }
    }

    fn build_framework(&mut self, pair: Pair<'_, Rule>) -> Framework {
        let span = span_of(&pair);
        let mut header = Header::default();
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::framework_item => {
                    for inner in children(child) {
                        match inner.as_rule() {
                            Rule::technique => {
                                items.push(FrameworkItem::Technique(self.build_technique(inner)))
                            }
                            Rule::allow => {
                                items.push(FrameworkItem::Allow(self.build_allow(inner)))
                            }
                            _ => items.push(FrameworkItem::Property(self.property(inner))),
                        }
                    }
                }
                Rule::junk => self.junk(&child, Rule::framework_item, "framework"),
                _ => self.header(&child, &mut header),
            }
        }
        Framework {
            keyword: header.keyword(Kw::Framework, span),
            id: header.id(span),
            title: header.title(span),
            items,
            span,
        }
    }

    fn build_technique(&mut self, pair: Pair<'_, Rule>) -> Technique {
        let span = span_of(&pair);
        let mut header = Header::default();
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::technique_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::example => TechniqueItem::Example(self.build_example(inner)),
                            Rule::instead_of => {
                                TechniqueItem::InsteadOf(self.build_instead_of(inner))
                            }
                            Rule::allow => TechniqueItem::Allow(self.build_allow(inner)),
                            _ => TechniqueItem::Property(self.property(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::technique_item, "technique"),
                _ => self.header(&child, &mut header),
            }
        }
        Technique {
            keyword: header.keyword(Kw::Technique, span),
            id: header.id(span),
            title: header.title(span),
            items,
            span,
        }
    }

    fn build_instead_of(&mut self, pair: Pair<'_, Rule>) -> InsteadOf {
        let span = span_of(&pair);
        let mut keyword = None;
        let mut target = None;
        let mut when = None;
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_instead_of => keyword = Some(self.keyword(&child)),
                Rule::reference => target = Some(self.reference(&child)),
                Rule::string | Rule::text_block => when = Some(self.text(&child)),
                _ => {}
            }
        }
        InsteadOf {
            keyword: keyword.unwrap_or(placeholder_keyword(Kw::InsteadOf, span)),
            target: target.unwrap_or_else(|| Reference {
                parts: Vec::new(),
                span,
            }),
            when: when.unwrap_or_else(|| empty_text(span)),
            span,
        }
    }

    fn build_example(&mut self, pair: Pair<'_, Rule>) -> Example {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Example, span);
        let mut body = ExampleBody::Text(empty_text(span));
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_example => keyword = self.keyword(&child),
                Rule::conversation => {
                    body = ExampleBody::Conversation(self.build_conversation(child))
                }
                Rule::string | Rule::text_block => body = ExampleBody::Text(self.text(&child)),
                _ => {}
            }
        }
        Example {
            keyword,
            body,
            span,
        }
    }

    fn build_conversation(&mut self, pair: Pair<'_, Rule>) -> Conversation {
        let span = span_of(&pair);
        let mut turns = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::turn => turns.push(self.build_turn(child)),
                Rule::junk => self.junk(&child, Rule::turn, "conversation"),
                _ => {}
            }
        }
        Conversation { turns, span }
    }

    fn build_turn(&mut self, pair: Pair<'_, Rule>) -> Turn {
        let property = self.property(pair);
        let role = match property.key.kind {
            Kw::Assistant => Role::Assistant,
            Kw::System => Role::System,
            _ => Role::User,
        };
        Turn {
            role,
            role_span: property.key.span,
            text: property.value,
            span: property.span,
        }
    }

    fn build_failure(&mut self, pair: Pair<'_, Rule>) -> Failure {
        let span = span_of(&pair);
        let mut header = Header::default();
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::failure_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::example => FailureItem::Example(self.build_example(inner)),
                            Rule::allow => FailureItem::Allow(self.build_allow(inner)),
                            _ => FailureItem::Property(self.property(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::failure_item, "failure"),
                _ => self.header(&child, &mut header),
            }
        }
        Failure {
            keyword: header.keyword(Kw::Failure, span),
            id: header.id(span),
            title: header.title(span),
            items,
            span,
        }
    }

    fn build_anchors(&mut self, pair: Pair<'_, Rule>, polarity: Polarity) -> AnchorBlock {
        let span = span_of(&pair);
        let block = polarity.as_str();
        let mut keyword = None;
        let mut anchors = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_always | Rule::kw_never => keyword = Some(self.keyword(&child)),
                Rule::anchor => anchors.push(self.build_anchor(child)),
                Rule::junk => self.junk(&child, Rule::anchor, block),
                _ => {}
            }
        }
        let kw = match polarity {
            Polarity::Always => Kw::Always,
            Polarity::Never => Kw::Never,
        };
        AnchorBlock {
            keyword: keyword.unwrap_or(placeholder_keyword(kw, span)),
            polarity,
            anchors,
            span,
        }
    }

    fn build_anchor(&mut self, pair: Pair<'_, Rule>) -> Anchor {
        let span = span_of(&pair);
        let mut id = None;
        let mut text = None;
        let mut guards = Vec::new();
        let mut guards_keyword = None;
        let mut allows = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::ident => id = Some(self.ident(&child)),
                Rule::string | Rule::text_block => text = Some(self.text(&child)),
                Rule::guards => {
                    for g in children(child) {
                        match g.as_rule() {
                            Rule::ident => guards.push(self.ident(&g)),
                            Rule::kw_guards => guards_keyword = Some(self.keyword(&g)),
                            _ => {}
                        }
                    }
                }
                Rule::allow => allows.push(self.build_allow(child)),
                _ => {}
            }
        }
        Anchor {
            id: id.unwrap_or_else(|| empty_ident(span)),
            text: text.unwrap_or_else(|| empty_text(span)),
            guards_keyword,
            guards,
            allows,
            span,
        }
    }

    fn build_rubric(&mut self, pair: Pair<'_, Rule>) -> Rubric {
        let span = span_of(&pair);
        let mut keyword = None;
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_rubric => keyword = Some(self.keyword(&child)),
                Rule::rubric_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::threshold => RubricItem::Threshold(self.build_threshold(inner)),
                            Rule::define => RubricItem::Define(self.build_define(inner)),
                            Rule::allow => RubricItem::Allow(self.build_allow(inner)),
                            _ => RubricItem::Group(self.build_group(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::rubric_item, "rubric"),
                _ => {}
            }
        }
        Rubric {
            keyword: keyword.unwrap_or(placeholder_keyword(Kw::Rubric, span)),
            items,
            span,
        }
    }

    fn build_threshold(&mut self, pair: Pair<'_, Rule>) -> Threshold {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Threshold, span);
        let mut value = Number {
            raw: String::new(),
            span,
        };
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_threshold => keyword = self.keyword(&child),
                Rule::number => value = self.number(&child),
                _ => {}
            }
        }
        Threshold {
            keyword,
            value,
            span,
        }
    }

    fn build_define(&mut self, pair: Pair<'_, Rule>) -> Define {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Define, span);
        let mut texts = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_define => keyword = self.keyword(&child),
                _ => texts.push(self.text(&child)),
            }
        }
        let mut texts = texts.into_iter();
        Define {
            keyword,
            term: texts.next().unwrap_or_else(|| empty_text(span)),
            meaning: texts.next().unwrap_or_else(|| empty_text(span)),
            span,
        }
    }

    fn build_group(&mut self, pair: Pair<'_, Rule>) -> Group {
        let span = span_of(&pair);
        let kind = if pair.as_rule() == Rule::gate {
            GroupKind::Gate
        } else {
            GroupKind::Category
        };
        let block = match kind {
            GroupKind::Gate => "gate",
            GroupKind::Category => "category",
        };
        let mut header = Header::default();
        let mut weight_keyword = None;
        let mut weight = None;
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_weight => weight_keyword = Some(self.keyword(&child)),
                Rule::number => weight = Some(self.number(&child)),
                Rule::group_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::all_na => GroupItem::AllNa(self.build_all_na(inner)),
                            Rule::allow => GroupItem::Allow(self.build_allow(inner)),
                            _ => GroupItem::Question(self.build_question(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::group_item, block),
                _ => self.header(&child, &mut header),
            }
        }
        let keyword_kind = match kind {
            GroupKind::Gate => Kw::Gate,
            GroupKind::Category => Kw::Category,
        };
        Group {
            kind,
            keyword: header.keyword(keyword_kind, span),
            id: header.id(span),
            title: header.title(span),
            weight: weight_keyword.zip(weight),
            items,
            span,
        }
    }

    fn build_all_na(&mut self, pair: Pair<'_, Rule>) -> AllNa {
        let span = span_of(&pair);
        let mut keywords = children(pair).map(|c| self.keyword(&c));
        let keyword = keywords
            .next()
            .unwrap_or(placeholder_keyword(Kw::AllNa, span));
        let policy = keywords
            .next()
            .unwrap_or(placeholder_keyword(Kw::Drop, span));
        AllNa {
            keyword,
            policy,
            span,
        }
    }

    fn build_question(&mut self, pair: Pair<'_, Rule>) -> Question {
        let span = span_of(&pair);
        let mut id = None;
        let mut text = None;
        let mut checks_keyword = None;
        let mut checks = Vec::new();
        let mut body = None;
        for child in children(pair) {
            match child.as_rule() {
                Rule::ident => id = Some(self.ident(&child)),
                Rule::string | Rule::text_block => text = Some(self.text(&child)),
                Rule::checks => {
                    for c in children(child) {
                        match c.as_rule() {
                            Rule::kw_checks => checks_keyword = Some(self.keyword(&c)),
                            Rule::reference => checks.push(self.reference(&c)),
                            _ => {}
                        }
                    }
                }
                Rule::question_body => body = Some(self.build_question_body(child)),
                _ => {}
            }
        }
        Question {
            id: id.unwrap_or_else(|| empty_ident(span)),
            text: text.unwrap_or_else(|| empty_text(span)),
            checks_keyword,
            checks,
            body,
            span,
        }
    }

    fn build_question_body(&mut self, pair: Pair<'_, Rule>) -> QuestionBody {
        let span = span_of(&pair);
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::question_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::define => QuestionItem::Define(self.build_define(inner)),
                            Rule::applies => QuestionItem::When(self.property(inner)),
                            Rule::allow => QuestionItem::Allow(self.build_allow(inner)),
                            Rule::min_turns => {
                                QuestionItem::MinTurns(self.number_setting(inner, Kw::MinTurns))
                            }
                            Rule::decide => QuestionItem::Decide(self.property(inner)),
                            Rule::facts => {
                                let span = span_of(&inner);
                                let mut keyword = placeholder_keyword(Kw::Facts, span);
                                let mut names = Vec::new();
                                for c in children(inner) {
                                    match c.as_rule() {
                                        Rule::kw_facts => keyword = self.keyword(&c),
                                        _ => names.push(self.keyword(&c)),
                                    }
                                }
                                QuestionItem::Facts {
                                    keyword,
                                    names,
                                    span,
                                }
                            }
                            _ => {
                                let span = span_of(&inner);
                                let mut keywords = children(inner).map(|c| self.keyword(&c));
                                let keyword =
                                    keywords.next().unwrap_or(placeholder_keyword(Kw::Na, span));
                                let value = keywords
                                    .next()
                                    .unwrap_or(placeholder_keyword(Kw::Drop, span));
                                QuestionItem::Na {
                                    keyword,
                                    value,
                                    span,
                                }
                            }
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::question_item, "question"),
                _ => {}
            }
        }
        QuestionBody { items, span }
    }

    fn build_example_block(&mut self, pair: Pair<'_, Rule>, kind: ExampleKind) -> ExampleBlock {
        let span = span_of(&pair);
        let block = match kind {
            ExampleKind::Calibration => "calibration",
            ExampleKind::FewShot => "fewshot",
        };
        let mut header = Header::default();
        let mut expect_keyword = None;
        let mut verdict = None;
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_expect => expect_keyword = Some(self.keyword(&child)),
                Rule::kw_gate_fail | Rule::kw_pass | Rule::kw_fail => {
                    verdict = Some(self.keyword(&child))
                }
                Rule::example_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::turn => ExampleItem::Turn(self.build_turn(inner)),
                            Rule::answers => ExampleItem::Answers(self.build_answers(inner)),
                            Rule::shows => ExampleItem::Shows(self.build_shows(inner)),
                            Rule::allow => ExampleItem::Allow(self.build_allow(inner)),
                            _ => ExampleItem::Why(self.property(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::example_item, block),
                _ => self.header(&child, &mut header),
            }
        }
        let keyword_kind = match kind {
            ExampleKind::Calibration => Kw::Calibration,
            ExampleKind::FewShot => Kw::FewShot,
        };
        ExampleBlock {
            kind,
            keyword: header.keyword(keyword_kind, span),
            id: header.id(span),
            title: header.title(span),
            expect: expect_keyword.zip(verdict),
            items,
            span,
        }
    }

    fn build_answers(&mut self, pair: Pair<'_, Rule>) -> Answers {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Answers, span);
        let mut answers = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_answers => keyword = self.keyword(&child),
                Rule::answer => answers.push(self.build_answer(child)),
                Rule::junk => self.junk(&child, Rule::answer, "answers"),
                _ => {}
            }
        }
        Answers {
            keyword,
            answers,
            span,
        }
    }

    fn build_answer(&mut self, pair: Pair<'_, Rule>) -> Answer {
        let span = span_of(&pair);
        let mut question = None;
        let mut value = None;
        let mut reason = None;
        for child in children(pair) {
            match child.as_rule() {
                Rule::ident => question = Some(self.ident(&child)),
                Rule::kw_yes | Rule::kw_no | Rule::kw_na => value = Some(self.keyword(&child)),
                Rule::string | Rule::text_block => reason = Some(self.text(&child)),
                _ => {}
            }
        }
        Answer {
            question: question.unwrap_or_else(|| empty_ident(span)),
            value: value.unwrap_or(placeholder_keyword(Kw::No, span)),
            reason,
            span,
        }
    }

    fn build_shows(&mut self, pair: Pair<'_, Rule>) -> Shows {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Shows, span);
        let mut targets = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_shows => keyword = self.keyword(&child),
                Rule::reference => targets.push(self.reference(&child)),
                _ => {}
            }
        }
        Shows {
            keyword,
            targets,
            span,
        }
    }

    fn build_generation(&mut self, pair: Pair<'_, Rule>) -> Generation {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Generation, span);
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_generation => keyword = self.keyword(&child),
                Rule::generation_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::turns => GenerationItem::Turns(self.build_turns(inner)),
                            Rule::ratio => GenerationItem::Ratio(self.build_ratio(inner)),
                            Rule::mode | Rule::breach => {
                                let rule = inner.as_rule();
                                let item_span = span_of(&inner);
                                let (keyword_kind, value_kind) = match rule {
                                    Rule::mode => (Kw::Mode, Kw::Simulate),
                                    _ => (Kw::Breach, Kw::Retry),
                                };
                                let mut keywords = children(inner).map(|c| self.keyword(&c));
                                let keyword = keywords
                                    .next()
                                    .unwrap_or(placeholder_keyword(keyword_kind, item_span));
                                let value = keywords
                                    .next()
                                    .unwrap_or(placeholder_keyword(value_kind, item_span));
                                match rule {
                                    Rule::mode => GenerationItem::Mode {
                                        keyword,
                                        value,
                                        span: item_span,
                                    },
                                    _ => GenerationItem::Breach {
                                        keyword,
                                        value,
                                        span: item_span,
                                    },
                                }
                            }
                            _ => GenerationItem::Property(self.property(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::generation_item, "generation"),
                _ => {}
            }
        }
        Generation {
            keyword,
            items,
            span,
        }
    }

    fn build_turns(&mut self, pair: Pair<'_, Rule>) -> Turns {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Turns, span);
        let mut numbers = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_turns => keyword = self.keyword(&child),
                Rule::number => numbers.push(self.number(&child)),
                _ => {}
            }
        }
        let mut numbers = numbers.into_iter();
        Turns {
            keyword,
            min: numbers.next().unwrap_or(Number {
                raw: String::new(),
                span,
            }),
            max: numbers.next(),
            span,
        }
    }

    fn build_ratio(&mut self, pair: Pair<'_, Rule>) -> Ratio {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Ratio, span);
        let mut limit_keyword = None;
        let mut numbers = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_ratio => keyword = self.keyword(&child),
                Rule::kw_limit => limit_keyword = Some(self.keyword(&child)),
                Rule::number => numbers.push(self.number(&child)),
                _ => {}
            }
        }
        let mut numbers = numbers.into_iter();
        let missing = || Number {
            raw: String::new(),
            span: Span::point(span.start),
        };
        let min = numbers.next().unwrap_or_else(missing);
        let max = numbers.next().unwrap_or_else(missing);
        let limit = limit_keyword.zip(numbers.next());
        Ratio {
            keyword,
            min,
            max,
            limit,
            span,
        }
    }

    /// `keyword number`: `edge_cases 0.1`, `flaw_free 0.2`, `min_turns 2`.
    fn number_setting(&mut self, pair: Pair<'_, Rule>, kind: Kw) -> NumberSetting {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(kind, span);
        let mut value = Number {
            raw: String::new(),
            span: Span::point(span.start),
        };
        for child in children(pair) {
            match child.as_rule() {
                Rule::number => value = self.number(&child),
                rule if keyword_kind(rule).is_some() => keyword = self.keyword(&child),
                _ => {}
            }
        }
        NumberSetting {
            keyword,
            value,
            span,
        }
    }

    fn build_taxonomy(&mut self, pair: Pair<'_, Rule>) -> Taxonomy {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Taxonomy, span);
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_taxonomy => keyword = self.keyword(&child),
                Rule::taxonomy_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::edge_cases => {
                                TaxonomyItem::EdgeCases(self.number_setting(inner, Kw::EdgeCases))
                            }
                            Rule::dimension => {
                                TaxonomyItem::Dimension(self.build_dimension(inner, Kw::Dimension))
                            }
                            Rule::allow => TaxonomyItem::Allow(self.build_allow(inner)),
                            _ => TaxonomyItem::EdgeCase(self.property(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::taxonomy_item, "taxonomy"),
                _ => {}
            }
        }
        Taxonomy {
            keyword,
            items,
            span,
        }
    }

    /// A taxonomy `dimension` or a persona `trait` (`kind` says which).
    fn build_dimension(&mut self, pair: Pair<'_, Rule>, kind: Kw) -> Dimension {
        let span = span_of(&pair);
        let block = if kind == Kw::Trait {
            "trait"
        } else {
            "dimension"
        };
        let mut header = Header::default();
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::dimension_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::allow => DimensionItem::Allow(self.build_allow(inner)),
                            _ => DimensionItem::Value(self.build_dimension_value(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::dimension_item, block),
                _ => self.header(&child, &mut header),
            }
        }
        Dimension {
            keyword: header.keyword(kind, span),
            id: header.id(span),
            title: header.title(span),
            items,
            span,
        }
    }

    fn build_dimension_value(&mut self, pair: Pair<'_, Rule>) -> DimensionValue {
        let span = span_of(&pair);
        let weighted = self.weighted_parts(pair, Kw::Value, "value");
        DimensionValue {
            keyword: weighted.keyword,
            id: weighted.id,
            text: weighted.text,
            weight_keyword: weighted.weight_keyword,
            weight: weighted.weight,
            body: weighted.body,
            span,
        }
    }

    /// The parts of `keyword id "text" weight N { body }`, shared by
    /// values, flaws, trajectories and behaviours.
    fn weighted_parts(&mut self, pair: Pair<'_, Rule>, kind: Kw, block: &'static str) -> Weighted {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(kind, span);
        let mut id = None;
        let mut text = None;
        let mut weight_keyword = placeholder_keyword(Kw::Weight, span);
        let mut weight = Number {
            raw: String::new(),
            span: Span::point(span.start),
        };
        let mut body = None;
        for child in children(pair) {
            match child.as_rule() {
                Rule::ident => id = Some(self.ident(&child)),
                Rule::string | Rule::text_block => text = Some(self.text(&child)),
                Rule::kw_weight => weight_keyword = self.keyword(&child),
                Rule::number => weight = self.number(&child),
                Rule::value_body | Rule::flaw_body => body = Some(self.build_body(child, block)),
                rule if keyword_kind(rule).is_some() => keyword = self.keyword(&child),
                _ => {}
            }
        }
        Weighted {
            keyword,
            id: id.unwrap_or_else(|| empty_ident(span)),
            text: text.unwrap_or_else(|| empty_text(span)),
            weight_keyword,
            weight,
            body,
        }
    }

    fn build_body(&mut self, pair: Pair<'_, Rule>, block: &'static str) -> Body {
        let span = span_of(&pair);
        let expected = if pair.as_rule() == Rule::flaw_body {
            Rule::flaw_item
        } else {
            Rule::value_item
        };
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::value_item | Rule::flaw_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::allow => BodyItem::Allow(self.build_allow(inner)),
                            _ => BodyItem::Property(self.property(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, expected, block),
                _ => {}
            }
        }
        Body { items, span }
    }

    fn weighted_line(&mut self, pair: Pair<'_, Rule>, kind: Kw) -> WeightedLine {
        let span = span_of(&pair);
        let w = self.weighted_parts(pair, kind, "");
        WeightedLine {
            keyword: w.keyword,
            id: w.id,
            text: w.text,
            weight_keyword: w.weight_keyword,
            weight: w.weight,
            span,
        }
    }

    fn build_personas(&mut self, pair: Pair<'_, Rule>) -> Personas {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Personas, span);
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_personas => keyword = self.keyword(&child),
                Rule::personas_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::flaw_free => {
                                PersonasItem::FlawFree(self.number_setting(inner, Kw::FlawFree))
                            }
                            Rule::trait_pool => {
                                PersonasItem::Trait(self.build_dimension(inner, Kw::Trait))
                            }
                            Rule::flaw_kind => PersonasItem::Flaws(self.build_flaw_kind(inner)),
                            Rule::trajectory => {
                                PersonasItem::Trajectory(self.weighted_line(inner, Kw::Trajectory))
                            }
                            _ => PersonasItem::Allow(self.build_allow(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::personas_item, "personas"),
                _ => {}
            }
        }
        Personas {
            keyword,
            items,
            span,
        }
    }

    fn build_flaw_kind(&mut self, pair: Pair<'_, Rule>) -> FlawKind {
        let span = span_of(&pair);
        let mut header = Header::default();
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::flaw_kind_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::allow => FlawKindItem::Allow(self.build_allow(inner)),
                            _ => {
                                let flaw_span = span_of(&inner);
                                let w = self.weighted_parts(inner, Kw::Flaw, "flaw");
                                FlawKindItem::Flaw(Flaw {
                                    keyword: w.keyword,
                                    id: w.id,
                                    title: w.text,
                                    weight_keyword: w.weight_keyword,
                                    weight: w.weight,
                                    body: w.body,
                                    span: flaw_span,
                                })
                            }
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::flaw_kind_item, "flaws"),
                _ => self.header(&child, &mut header),
            }
        }
        FlawKind {
            keyword: header.keyword(Kw::Flaws, span),
            id: header.id(span),
            title: header.title(span),
            items,
            span,
        }
    }

    fn build_user_simulator(&mut self, pair: Pair<'_, Rule>) -> UserSimulator {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::UserSimulator, span);
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_user_simulator => keyword = self.keyword(&child),
                Rule::simulator_item => {
                    for inner in children(child) {
                        let item = match inner.as_rule() {
                            Rule::behaviour => {
                                SimulatorItem::Behaviour(self.weighted_line(inner, Kw::Behaviour))
                            }
                            Rule::words => SimulatorItem::Words(self.build_words(inner)),
                            Rule::allow => SimulatorItem::Allow(self.build_allow(inner)),
                            _ => SimulatorItem::Property(self.property(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::simulator_item, "user_simulator"),
                _ => {}
            }
        }
        UserSimulator {
            keyword,
            items,
            span,
        }
    }

    fn build_words(&mut self, pair: Pair<'_, Rule>) -> Words {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Words, span);
        let mut target = Reference {
            parts: Vec::new(),
            span: Span::point(span.start),
        };
        let mut numbers = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_words => keyword = self.keyword(&child),
                Rule::reference | Rule::ident => target = self.reference(&child),
                Rule::number => numbers.push(self.number(&child)),
                _ => {}
            }
        }
        let mut numbers = numbers.into_iter();
        let missing = || Number {
            raw: String::new(),
            span: Span::point(span.start),
        };
        Words {
            keyword,
            target,
            min: numbers.next().unwrap_or_else(missing),
            max: numbers.next().unwrap_or_else(missing),
            span,
        }
    }

    fn build_judge(&mut self, pair: Pair<'_, Rule>) -> Judge {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Judge, span);
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_judge => keyword = self.keyword(&child),
                Rule::judge_item => {
                    for inner in children(child) {
                        let item_span = span_of(&inner);
                        let item = match inner.as_rule() {
                            Rule::evidence | Rule::calls | Rule::aggregate => {
                                let rule = inner.as_rule();
                                let mut keywords = children(inner).map(|c| self.keyword(&c));
                                let keyword = keywords
                                    .next()
                                    .unwrap_or(placeholder_keyword(Kw::Evidence, item_span));
                                let value = keywords
                                    .next()
                                    .unwrap_or(placeholder_keyword(Kw::First, item_span));
                                match rule {
                                    Rule::evidence => JudgeItem::Evidence {
                                        keyword,
                                        value,
                                        span: item_span,
                                    },
                                    Rule::calls => JudgeItem::Calls {
                                        keyword,
                                        value,
                                        span: item_span,
                                    },
                                    _ => JudgeItem::Aggregate {
                                        keyword,
                                        value,
                                        span: item_span,
                                    },
                                }
                            }
                            _ => JudgeItem::Property(self.property(inner)),
                        };
                        items.push(item);
                    }
                }
                Rule::junk => self.junk(&child, Rule::judge_item, "judge"),
                _ => {}
            }
        }
        Judge {
            keyword,
            items,
            span,
        }
    }

    fn build_expert(&mut self, pair: Pair<'_, Rule>) -> Expert {
        let span = span_of(&pair);
        let mut header = Header::default();
        let mut properties = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::property_expert => properties.push(self.property(child)),
                Rule::junk => self.junk(&child, Rule::property_expert, "expert"),
                _ => self.header(&child, &mut header),
            }
        }
        Expert {
            keyword: header.keyword(Kw::Expert, span),
            id: header.id(span),
            name: header.title(span),
            properties,
            span,
        }
    }

    fn lint_code(&self, pair: &Pair<'_, Rule>) -> LintCode {
        LintCode {
            text: pair.as_str().to_string(),
            span: span_of(pair),
        }
    }

    fn build_allow(&mut self, pair: Pair<'_, Rule>) -> Allow {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Allow, span);
        let mut code = LintCode {
            text: String::new(),
            span: Span::point(span.start),
        };
        let mut reason = None;
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_allow => keyword = self.keyword(&child),
                Rule::lint_code => code = self.lint_code(&child),
                Rule::string | Rule::text_block => reason = Some(self.text(&child)),
                _ => {}
            }
        }
        Allow {
            keyword,
            code,
            reason,
            span,
        }
    }

    fn build_lint(&mut self, pair: Pair<'_, Rule>) -> Lint {
        let span = span_of(&pair);
        let mut keyword = placeholder_keyword(Kw::Lint, span);
        let mut items = Vec::new();
        for child in children(pair) {
            match child.as_rule() {
                Rule::kw_lint => keyword = self.keyword(&child),
                Rule::lint_item => {
                    for inner in children(child) {
                        if let Some(item) = self.build_lint_item(inner) {
                            items.push(item);
                        }
                    }
                }
                Rule::junk => self.junk(&child, Rule::lint_item, "lint"),
                _ => {}
            }
        }
        Lint {
            keyword,
            items,
            span,
        }
    }

    fn build_lint_item(&mut self, pair: Pair<'_, Rule>) -> Option<LintItem> {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::allow => Some(LintItem::Allow(self.build_allow(pair))),
            Rule::lint_level => {
                let mut level = placeholder_keyword(Kw::Warn, span);
                let mut code = None;
                for c in children(pair) {
                    match c.as_rule() {
                        Rule::lint_code => code = Some(self.lint_code(&c)),
                        _ => level = self.keyword(&c),
                    }
                }
                Some(LintItem::Level {
                    keyword: level,
                    code: code?,
                    span,
                })
            }
            _ => {
                let mut name = None;
                let mut numbers = Vec::new();
                for c in children(pair) {
                    match c.as_rule() {
                        Rule::ident => name = Some(self.ident(&c)),
                        Rule::number => numbers.push(self.number(&c)),
                        _ => {}
                    }
                }
                let mut numbers = numbers.into_iter();
                Some(LintItem::Bound {
                    name: name?,
                    min: numbers.next()?,
                    max: numbers.next(),
                    span,
                })
            }
        }
    }

    /// Collects the `keyword id "Title"` header shared by most blocks.
    fn header(&mut self, pair: &Pair<'_, Rule>, header: &mut Header) {
        match pair.as_rule() {
            Rule::ident => header.id = Some(self.ident(pair)),
            Rule::string | Rule::text_block => header.title = Some(self.text(pair)),
            rule if keyword_kind(rule).is_some() && header.keyword.is_none() => {
                header.keyword = Some(self.keyword(pair));
            }
            _ => {}
        }
    }
}

/// The parts of a weighted item, before they become its node.
struct Weighted {
    keyword: Keyword,
    id: Ident,
    text: Text,
    weight_keyword: Keyword,
    weight: Number,
    body: Option<Body>,
}

#[derive(Default)]
struct Header {
    keyword: Option<Keyword>,
    id: Option<Ident>,
    title: Option<Text>,
}

impl Header {
    fn keyword(&self, kind: Kw, span: Span) -> Keyword {
        self.keyword.unwrap_or(placeholder_keyword(kind, span))
    }
    fn id(&mut self, span: Span) -> Ident {
        self.id.take().unwrap_or_else(|| empty_ident(span))
    }
    fn title(&mut self, span: Span) -> Text {
        self.title.take().unwrap_or_else(|| empty_text(span))
    }
}

fn placeholder_keyword(kind: Kw, span: Span) -> Keyword {
    Keyword {
        kind,
        span: Span::point(span.start),
    }
}

fn empty_ident(span: Span) -> Ident {
    Ident {
        name: String::new(),
        span: Span::point(span.start),
    }
}

fn empty_text(span: Span) -> Text {
    Text {
        value: String::new(),
        style: TextStyle::Quoted,
        span: Span::point(span.start),
    }
}

/// The keyword a keyword rule stands for.
pub fn keyword_kind(rule: Rule) -> Option<Kw> {
    Some(match rule {
        Rule::kw_domain => Kw::Domain,
        Rule::kw_title => Kw::Title,
        Rule::kw_role => Kw::Role,
        Rule::kw_audience => Kw::Audience,
        Rule::kw_about => Kw::About,
        Rule::kw_framework => Kw::Framework,
        Rule::kw_principle => Kw::Principle,
        Rule::kw_technique => Kw::Technique,
        Rule::kw_when => Kw::When,
        Rule::kw_example => Kw::Example,
        Rule::kw_instead_of => Kw::InsteadOf,
        Rule::kw_failure => Kw::Failure,
        Rule::kw_source => Kw::Source,
        Rule::kw_always => Kw::Always,
        Rule::kw_never => Kw::Never,
        Rule::kw_guards => Kw::Guards,
        Rule::kw_rubric => Kw::Rubric,
        Rule::kw_threshold => Kw::Threshold,
        Rule::kw_define => Kw::Define,
        Rule::kw_gate => Kw::Gate,
        Rule::kw_category => Kw::Category,
        Rule::kw_weight => Kw::Weight,
        Rule::kw_all_na => Kw::AllNa,
        Rule::kw_full_credit => Kw::FullCredit,
        Rule::kw_drop => Kw::Drop,
        Rule::kw_checks => Kw::Checks,
        Rule::kw_na => Kw::Na,
        Rule::kw_yes => Kw::Yes,
        Rule::kw_no => Kw::No,
        Rule::kw_calibration => Kw::Calibration,
        Rule::kw_expect => Kw::Expect,
        Rule::kw_pass => Kw::Pass,
        Rule::kw_fail => Kw::Fail,
        Rule::kw_gate_fail => Kw::GateFail,
        Rule::kw_answers => Kw::Answers,
        Rule::kw_user => Kw::User,
        Rule::kw_assistant => Kw::Assistant,
        Rule::kw_system => Kw::System,
        Rule::kw_fewshot => Kw::FewShot,
        Rule::kw_shows => Kw::Shows,
        Rule::kw_why => Kw::Why,
        Rule::kw_generation => Kw::Generation,
        Rule::kw_turns => Kw::Turns,
        Rule::kw_length => Kw::Length,
        Rule::kw_format => Kw::Format,
        Rule::kw_escalation => Kw::Escalation,
        Rule::kw_scenario => Kw::Scenario,
        Rule::kw_judge => Kw::Judge,
        Rule::kw_evidence => Kw::Evidence,
        Rule::kw_first => Kw::First,
        Rule::kw_none => Kw::None,
        Rule::kw_calls => Kw::Calls,
        Rule::kw_single => Kw::Single,
        Rule::kw_per_question => Kw::PerQuestion,
        Rule::kw_aggregate => Kw::Aggregate,
        Rule::kw_strictest => Kw::Strictest,
        Rule::kw_majority => Kw::Majority,
        Rule::kw_unanimous => Kw::Unanimous,
        Rule::kw_note => Kw::Note,
        Rule::kw_expert => Kw::Expert,
        Rule::kw_perspective => Kw::Perspective,
        Rule::kw_focus => Kw::Focus,
        Rule::kw_lint => Kw::Lint,
        Rule::kw_allow => Kw::Allow,
        Rule::kw_warn => Kw::Warn,
        Rule::kw_deny => Kw::Deny,
        Rule::kw_taxonomy => Kw::Taxonomy,
        Rule::kw_edge_cases => Kw::EdgeCases,
        Rule::kw_edge_case => Kw::EdgeCase,
        Rule::kw_dimension => Kw::Dimension,
        Rule::kw_value => Kw::Value,
        Rule::kw_subtopic => Kw::Subtopic,
        Rule::kw_personas => Kw::Personas,
        Rule::kw_flaw_free => Kw::FlawFree,
        Rule::kw_trait => Kw::Trait,
        Rule::kw_flaws => Kw::Flaws,
        Rule::kw_flaw => Kw::Flaw,
        Rule::kw_play => Kw::Play,
        Rule::kw_trajectory => Kw::Trajectory,
        Rule::kw_user_simulator => Kw::UserSimulator,
        Rule::kw_behaviour => Kw::Behaviour,
        Rule::kw_words => Kw::Words,
        Rule::kw_mode => Kw::Mode,
        Rule::kw_simulate => Kw::Simulate,
        Rule::kw_whole => Kw::Whole,
        Rule::kw_ratio => Kw::Ratio,
        Rule::kw_limit => Kw::Limit,
        Rule::kw_breach => Kw::Breach,
        Rule::kw_retry => Kw::Retry,
        Rule::kw_record => Kw::Record,
        Rule::kw_training => Kw::Training,
        Rule::kw_min_turns => Kw::MinTurns,
        Rule::kw_facts => Kw::Facts,
        Rule::kw_decide => Kw::Decide,
        Rule::kw_longest => Kw::Longest,
        _ => return None,
    })
}
