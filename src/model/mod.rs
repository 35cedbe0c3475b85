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
mod directives;
mod lower;

pub use directives::{
    LintBound, LintDirectives, LintLevelSetting, Suppression, collect as collect_lint_directives,
};

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
    pub span: Span,
}

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
    pub length: Option<Text>,
    pub format: Option<Text>,
    pub escalation: Option<Text>,
    pub scenarios: Vec<Text>,
    pub notes: Vec<Text>,
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
                conditional: q.is_conditional(),
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
