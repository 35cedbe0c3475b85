//! Stage 2: syntax tree → resolved, validated domain model.
//!
//! In: an [`ast::File`](crate::syntax::ast::File). Out: a [`Spec`] whose
//! references are indices into its own lists, plus diagnostics. The passes
//! run in a fixed order (see [`lower`]); a later pass is skipped when the
//! one it depends on failed, so one mistake yields one diagnostic.
//!
//! Every model node keeps the spans of what it came from, so lint rules and
//! the language server can point at the exact text.

mod calibration;
mod data;
mod directives;
mod lower;

pub use directives::{
    LintBound, LintDirectives, LintLevelSetting, Suppression, collect as collect_lint_directives,
};

pub use data::MAX_WORDS;
pub use lower::{lower, nearest};

use crate::score::{self, AllNaPolicy, NaPolicy, ScoringRubric, Verdict};
use crate::source::Span;
use crate::syntax::ast::{Ident, Polarity, Role, Text};

/// A resolved spec.
#[derive(Debug, Clone)]
pub struct Spec {
    pub domain: Domain,
    pub frameworks: Vec<Framework>,
    pub failures: Vec<FailureMode>,
    /// ALWAYS and NEVER anchors, in source order.
    pub anchors: Vec<Anchor>,
    pub rubric: Rubric,
    pub calibration: Vec<CalibrationExample>,
    pub fewshots: Vec<FewShotExample>,
    pub generation: Generation,
    pub judge: JudgeSettings,
    pub experts: Vec<Expert>,
    /// Lint settings and suppressions, as written; the lint engine
    /// resolves their codes.
    pub lint: LintDirectives,
    /// The scenario cells generation samples, when the spec has them.
    pub taxonomy: Option<Taxonomy>,
    /// The simulated users drawn for each cell.
    pub personas: Option<Personas>,
    /// How the simulated user behaves and how long it writes.
    pub user_simulator: Option<UserSimulator>,
}

#[derive(Debug, Clone)]
pub struct Domain {
    pub id: Ident,
    pub title: Text,
    pub role: Text,
    pub audience: Text,
    pub about: Option<Text>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Framework {
    pub id: Ident,
    pub title: Text,
    pub about: Option<Text>,
    pub principles: Vec<Text>,
    pub techniques: Vec<Technique>,
    pub span: Span,
}

/// Where a technique lives: `frameworks[framework].techniques[technique]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TechniqueRef {
    pub framework: usize,
    pub technique: usize,
}

#[derive(Debug, Clone)]
pub struct Technique {
    pub id: Ident,
    pub title: Text,
    pub about: Option<Text>,
    pub when: Option<Text>,
    pub examples: Vec<Snippet>,
    pub instead_of: Vec<InsteadOf>,
    pub span: Span,
}

/// "Use this technique instead of `target` when ...".
#[derive(Debug, Clone)]
pub struct InsteadOf {
    pub target: TechniqueRef,
    pub target_span: Span,
    pub when: Text,
    pub span: Span,
}

/// An example: one line, or a short conversation.
#[derive(Debug, Clone)]
pub enum Snippet {
    Line(Text),
    Conversation(Vec<Turn>),
}

#[derive(Debug, Clone)]
pub struct Turn {
    pub role: Role,
    pub text: Text,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FailureMode {
    pub id: Ident,
    pub title: Text,
    pub about: Option<Text>,
    pub examples: Vec<Snippet>,
    pub sources: Vec<Text>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Anchor {
    pub polarity: Polarity,
    pub id: Ident,
    pub text: Text,
    /// Indices into [`Spec::failures`], with the span of each name.
    pub guards: Vec<(usize, Span)>,
    pub span: Span,
}

impl Anchor {
    /// `always.name_emotion`
    pub fn reference(&self) -> String {
        format!("{}.{}", self.polarity.as_str(), self.id.name)
    }
}

/// A decimal as written, with its exact value in units of 10⁻⁹.
#[derive(Debug, Clone)]
pub struct Decimal {
    pub units: i64,
    pub raw: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Definition {
    pub term: Text,
    pub meaning: Text,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Rubric {
    pub threshold: Decimal,
    /// Definitions that apply to the whole rubric.
    pub definitions: Vec<Definition>,
    pub gate: Group,
    pub categories: Vec<Group>,
    /// Every question: the gate's first, then each category's in order.
    pub questions: Vec<Question>,
    pub span: Span,
}

/// Which group a question belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRef {
    Gate,
    Category(usize),
}

/// The gate or a category.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: Ident,
    pub title: Text,
    /// Categories only.
    pub weight: Option<Decimal>,
    pub all_na: AllNaPolicy,
    /// Indices into [`Rubric::questions`].
    pub questions: Vec<usize>,
    pub span: Span,
}

/// What a question checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckTarget {
    Anchor(usize),
    Failure(usize),
}

#[derive(Debug, Clone)]
pub struct Question {
    pub id: Ident,
    pub text: Text,
    pub group: GroupRef,
    pub checks: Vec<(CheckTarget, Span)>,
    pub definitions: Vec<Definition>,
    /// Set for a conditional question: when it applies.
    pub condition: Option<Text>,
    pub na: NaPolicy,
    /// Not asked (decided N/A by the program) for a conversation with
    /// fewer exchanges.
    pub min_turns: Option<u32>,
    /// Facts computed from the conversation and given to the judge, in
    /// the order written.
    pub facts: Vec<FactKind>,
    /// Decided in code from the facts, never sent to a model: true is YES,
    /// false is NO. The span is the expression's text.
    pub decide: Option<(crate::facts::Decide, Span)>,
    pub span: Span,
}

/// A fact the program computes from a conversation for the judge.
pub use crate::facts::FactKind;

impl Question {
    pub fn is_conditional(&self) -> bool {
        self.condition.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerValue {
    Yes,
    No,
    Na,
}

impl AnswerValue {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerValue::Yes => "yes",
            AnswerValue::No => "no",
            AnswerValue::Na => "na",
        }
    }

    pub fn to_score(self) -> score::Answer {
        match self {
            AnswerValue::Yes => score::Answer::Yes,
            AnswerValue::No => score::Answer::No,
            AnswerValue::Na => score::Answer::Na,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Answer {
    /// Index into [`Rubric::questions`].
    pub question: usize,
    pub value: AnswerValue,
    pub value_span: Span,
    pub reason: Option<Text>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct CalibrationExample {
    pub id: Ident,
    pub title: Text,
    pub expect: Verdict,
    pub expect_span: Span,
    pub conversation: Vec<Turn>,
    /// One per question, in question order, once validation passed.
    pub answers: Vec<Answer>,
    pub span: Span,
}

/// What a few-shot example demonstrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowTarget {
    Technique(TechniqueRef),
    Anchor(usize),
}

#[derive(Debug, Clone)]
pub struct FewShotExample {
    pub id: Ident,
    pub title: Text,
    pub shows: Vec<(ShowTarget, Span)>,
    pub why: Option<Text>,
    pub conversation: Vec<Turn>,
    /// Optional annotation with the rubric's answers (all or none).
    pub answers: Vec<Answer>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Generation {
    /// User–assistant exchanges per conversation.
    pub turns_min: u32,
    pub turns_max: u32,
    /// The span of the `turns` item.
    pub turns_span: Span,
    pub length: Option<Text>,
    pub format: Option<Text>,
    pub escalation: Option<Text>,
    pub scenarios: Vec<Text>,
    pub notes: Vec<Text>,
    /// How conversations are produced: as written, or the default
    /// (`simulate` when the spec has a `user_simulator`, else `whole`).
    pub mode: GenerationMode,
    /// Whether `mode` was written.
    pub mode_explicit: bool,
    /// Assistant words per user word in each exchange; no ratio rule when
    /// absent.
    pub ratio: Option<RatioRule>,
    /// What a length breach does (default `retry`).
    pub breach: BreachPolicy,
    /// The training system prompt; derived from the domain when absent.
    pub training: Option<Text>,
    pub span: Span,
}

/// How a conversation is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationMode {
    /// Two models, the simulated user and the assistant, turn by turn.
    Simulate,
    /// One call writes the whole conversation.
    Whole,
}

impl GenerationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            GenerationMode::Simulate => "simulate",
            GenerationMode::Whole => "whole",
        }
    }
}

/// What a length breach does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BreachPolicy {
    /// Ask again (up to two times), then record.
    #[default]
    Retry,
    /// Keep the message and note the breach in the output line.
    Record,
}

impl BreachPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            BreachPolicy::Retry => "retry",
            BreachPolicy::Record => "record",
        }
    }
}

/// `ratio 1.0..1.5 limit 2.0`: assistant words per user word, each
/// exchange. `min <= max <= limit`, all above 0.
#[derive(Debug, Clone)]
pub struct RatioRule {
    pub min: Decimal,
    pub max: Decimal,
    pub limit: Option<Decimal>,
    pub span: Span,
}

/// An id, a text and a weight: a trajectory or a behaviour.
#[derive(Debug, Clone)]
pub struct Weighted {
    pub id: Ident,
    pub text: Text,
    pub weight: Decimal,
    pub span: Span,
}

/// `taxonomy { ... }`: the scenario cells generation samples.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    /// The share of cells that are edge cases (`edge_cases`), when given.
    pub edge_cases: Option<Decimal>,
    pub edge_case_texts: Vec<Text>,
    pub dimensions: Vec<Dimension>,
    pub span: Span,
}

/// A taxonomy dimension or a persona trait pool: values with weights,
/// one drawn each time.
#[derive(Debug, Clone)]
pub struct Dimension {
    pub id: Ident,
    pub title: Text,
    pub values: Vec<DimensionValue>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct DimensionValue {
    pub id: Ident,
    pub text: Text,
    pub weight: Decimal,
    /// Drawn uniformly inside the value.
    pub subtopics: Vec<Text>,
    pub about: Option<Text>,
    pub span: Span,
}

/// `personas { ... }`
#[derive(Debug, Clone)]
pub struct Personas {
    /// The share of personas with no flaw (`flaw_free`), when given.
    pub flaw_free: Option<Decimal>,
    pub traits: Vec<Dimension>,
    pub flaw_kinds: Vec<FlawKind>,
    pub trajectories: Vec<Weighted>,
    pub span: Span,
}

/// `flaws communication "Communication" { ... }`
#[derive(Debug, Clone)]
pub struct FlawKind {
    pub id: Ident,
    pub title: Text,
    pub flaws: Vec<Flaw>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Flaw {
    pub id: Ident,
    pub title: Text,
    pub weight: Decimal,
    /// What the flaw is.
    pub about: Option<Text>,
    /// How the simulated user plays it.
    pub play: Option<Text>,
    pub span: Span,
}

/// `user_simulator { ... }`
#[derive(Debug, Clone)]
pub struct UserSimulator {
    pub behaviours: Vec<Weighted>,
    pub words: Vec<WordsRule>,
    pub notes: Vec<Text>,
    pub span: Span,
}

/// `words style.terse 3..20`: user words per message for one value of a
/// taxonomy dimension.
#[derive(Debug, Clone)]
pub struct WordsRule {
    /// Index into [`Taxonomy::dimensions`].
    pub dimension: usize,
    /// Index into that dimension's values.
    pub value: usize,
    pub min: u32,
    pub max: u32,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct JudgeSettings {
    /// Quote the evidence, citing turns, before each answer (default).
    pub evidence_first: bool,
    /// One judge call per question instead of one for the whole rubric.
    pub per_question: bool,
    /// How `score` combines several judgments of a response, when the
    /// spec says.
    pub aggregate: Option<score::Aggregate>,
    pub notes: Vec<Text>,
}

impl Default for JudgeSettings {
    fn default() -> Self {
        JudgeSettings {
            evidence_first: true,
            per_question: false,
            aggregate: None,
            notes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Expert {
    pub id: Ident,
    pub name: Text,
    pub perspective: Option<Text>,
    pub focus: Vec<Text>,
    pub span: Span,
}

impl Spec {
    /// The dimension and value a `words` rule is for.
    pub fn words_target(&self, rule: &WordsRule) -> Option<(&Dimension, &DimensionValue)> {
        let dimension = self.taxonomy.as_ref()?.dimensions.get(rule.dimension)?;
        Some((dimension, dimension.values.get(rule.value)?))
    }

    pub fn technique(&self, r: TechniqueRef) -> &Technique {
        &self.frameworks[r.framework].techniques[r.technique]
    }

    /// `cbt.socratic`
    pub fn technique_reference(&self, r: TechniqueRef) -> String {
        format!(
            "{}.{}",
            self.frameworks[r.framework].id.name,
            self.technique(r).id.name
        )
    }

    pub fn group(&self, group: GroupRef) -> &Group {
        match group {
            GroupRef::Gate => &self.rubric.gate,
            GroupRef::Category(i) => &self.rubric.categories[i],
        }
    }
}

impl Rubric {
    /// The rubric as the scorer sees it.
    pub fn scoring(&self) -> ScoringRubric {
        let scored = |i: &usize| {
            let q = &self.questions[*i];
            score::ScoredQuestion {
                id: q.id.name.clone(),
                // A question with `min_turns` may be not asked, like a
                // conditional one that does not apply.
                conditional: q.is_conditional() || q.min_turns.is_some(),
                na: q.na,
            }
        };
        ScoringRubric {
            threshold: self.threshold.units,
            gate_id: self.gate.id.name.clone(),
            gate: self.gate.questions.iter().map(scored).collect(),
            categories: self
                .categories
                .iter()
                .map(|c| score::ScoredCategory {
                    id: c.id.name.clone(),
                    weight: c.weight.as_ref().map(|w| w.units).unwrap_or(0),
                    all_na: c.all_na,
                    questions: c.questions.iter().map(scored).collect(),
                })
                .collect(),
        }
    }

    /// Finds a question by id.
    pub fn question_index(&self, id: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.id.name == id)
    }
}
