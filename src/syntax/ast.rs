//! The syntax tree of a spec: what the author wrote, in the order written.
//!
//! The tree is lossless enough for a formatter and a language server: every
//! node has its byte [`Span`], every keyword token keeps its own span, text
//! values keep both the decoded value and how they were written (quoted or
//! block), and the comments of the file are kept in [`File::comments`] with
//! their spans. Nothing here is resolved or validated beyond the grammar;
//! that is the `model` stage's job.

use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    /// Every `#` comment, in source order.
    pub comments: Vec<Comment>,
    pub span: Span,
}

impl File {
    /// The gate and categories of every rubric block, in source order.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.items
            .iter()
            .filter_map(|item| match item {
                Item::Rubric(r) => Some(r),
                _ => None,
            })
            .flat_map(|r| &r.items)
            .filter_map(|item| match item {
                RubricItem::Group(g) => Some(g),
                _ => None,
            })
    }

    /// Every question with its group, in source order.
    pub fn questions(&self) -> impl Iterator<Item = (&Group, &Question)> {
        self.groups().flat_map(|g| {
            g.items.iter().filter_map(move |item| match item {
                GroupItem::Question(q) => Some((g, q)),
                _ => None,
            })
        })
    }
}

impl Question {
    /// Whether a `when` makes the question conditional.
    pub fn is_conditional(&self) -> bool {
        self.body
            .iter()
            .flat_map(|b| &b.items)
            .any(|i| matches!(i, QuestionItem::When(_)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The comment text after `#`, without the line break.
    pub text: String,
    pub span: Span,
}

/// An identifier as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A dotted reference such as `never.diagnose`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub parts: Vec<Ident>,
    pub span: Span,
}

impl Reference {
    /// The reference as written: `never.diagnose`.
    pub fn dotted(&self) -> String {
        let parts: Vec<&str> = self.parts.iter().map(|p| p.name.as_str()).collect();
        parts.join(".")
    }
}

/// How a text value was written, kept for the formatter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStyle {
    Quoted,
    Block,
}

/// A text value: a quoted string or a `"""` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The value after escapes are decoded and block indentation removed.
    pub value: String,
    pub style: TextStyle,
    pub span: Span,
}

/// A number as written (`0.75`); the model decides what it may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    pub raw: String,
    pub span: Span,
}

/// A keyword token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword {
    pub kind: Kw,
    pub span: Span,
}

/// Every keyword of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kw {
    Domain,
    Title,
    Role,
    Audience,
    About,
    Framework,
    Principle,
    Technique,
    When,
    Example,
    InsteadOf,
    Failure,
    Source,
    Always,
    Never,
    Guards,
    Rubric,
    Threshold,
    Define,
    Gate,
    Category,
    Weight,
    AllNa,
    FullCredit,
    Drop,
    Checks,
    Na,
    Yes,
    No,
    Calibration,
    Expect,
    Pass,
    Fail,
    GateFail,
    Answers,
    User,
    Assistant,
    System,
    FewShot,
    Shows,
    Why,
    Generation,
    Turns,
    Length,
    Format,
    Escalation,
    Scenario,
    Judge,
    Evidence,
    First,
    None,
    Calls,
    Single,
    PerQuestion,
    Aggregate,
    Strictest,
    Majority,
    Unanimous,
    Note,
    Expert,
    Perspective,
    Focus,
    Lint,
    Allow,
    Warn,
    Deny,
    Taxonomy,
    EdgeCases,
    EdgeCase,
    Dimension,
    Value,
    Subtopic,
    Personas,
    FlawFree,
    Trait,
    Flaws,
    Flaw,
    Play,
    Trajectory,
    UserSimulator,
    Behaviour,
    Words,
    Mode,
    Simulate,
    Whole,
    Ratio,
    Limit,
    Breach,
    Retry,
    Record,
    Training,
    MinTurns,
    Facts,
    Decide,
    Longest,
}

impl Kw {
    /// The keyword as written in a spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Kw::Domain => "domain",
            Kw::Title => "title",
            Kw::Role => "role",
            Kw::Audience => "audience",
            Kw::About => "about",
            Kw::Framework => "framework",
            Kw::Principle => "principle",
            Kw::Technique => "technique",
            Kw::When => "when",
            Kw::Example => "example",
            Kw::InsteadOf => "instead_of",
            Kw::Failure => "failure",
            Kw::Source => "source",
            Kw::Always => "always",
            Kw::Never => "never",
            Kw::Guards => "guards",
            Kw::Rubric => "rubric",
            Kw::Threshold => "threshold",
            Kw::Define => "define",
            Kw::Gate => "gate",
            Kw::Category => "category",
            Kw::Weight => "weight",
            Kw::AllNa => "all_na",
            Kw::FullCredit => "full_credit",
            Kw::Drop => "drop",
            Kw::Checks => "checks",
            Kw::Na => "na",
            Kw::Yes => "yes",
            Kw::No => "no",
            Kw::Calibration => "calibration",
            Kw::Expect => "expect",
            Kw::Pass => "pass",
            Kw::Fail => "fail",
            Kw::GateFail => "gate_fail",
            Kw::Answers => "answers",
            Kw::User => "user",
            Kw::Assistant => "assistant",
            Kw::System => "system",
            Kw::FewShot => "fewshot",
            Kw::Shows => "shows",
            Kw::Why => "why",
            Kw::Generation => "generation",
            Kw::Turns => "turns",
            Kw::Length => "length",
            Kw::Format => "format",
            Kw::Escalation => "escalation",
            Kw::Scenario => "scenario",
            Kw::Judge => "judge",
            Kw::Evidence => "evidence",
            Kw::First => "first",
            Kw::None => "none",
            Kw::Calls => "calls",
            Kw::Single => "single",
            Kw::PerQuestion => "per_question",
            Kw::Aggregate => "aggregate",
            Kw::Strictest => "strictest",
            Kw::Majority => "majority",
            Kw::Unanimous => "unanimous",
            Kw::Note => "note",
            Kw::Expert => "expert",
            Kw::Perspective => "perspective",
            Kw::Focus => "focus",
            Kw::Lint => "lint",
            Kw::Allow => "allow",
            Kw::Warn => "warn",
            Kw::Deny => "deny",
            Kw::Taxonomy => "taxonomy",
            Kw::EdgeCases => "edge_cases",
            Kw::EdgeCase => "edge_case",
            Kw::Dimension => "dimension",
            Kw::Value => "value",
            Kw::Subtopic => "subtopic",
            Kw::Personas => "personas",
            Kw::FlawFree => "flaw_free",
            Kw::Trait => "trait",
            Kw::Flaws => "flaws",
            Kw::Flaw => "flaw",
            Kw::Play => "play",
            Kw::Trajectory => "trajectory",
            Kw::UserSimulator => "user_simulator",
            Kw::Behaviour => "behaviour",
            Kw::Words => "words",
            Kw::Mode => "mode",
            Kw::Simulate => "simulate",
            Kw::Whole => "whole",
            Kw::Ratio => "ratio",
            Kw::Limit => "limit",
            Kw::Breach => "breach",
            Kw::Retry => "retry",
            Kw::Record => "record",
            Kw::Training => "training",
            Kw::MinTurns => "min_turns",
            Kw::Facts => "facts",
            Kw::Decide => "decide",
            Kw::Longest => "longest",
        }
    }
}

/// `key "text"`: the simple properties of a block (`title`, `when`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub key: Keyword,
    pub value: Text,
    pub span: Span,
}

/// A top-level block.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Domain(Domain),
    Framework(Framework),
    Failure(Failure),
    Anchors(AnchorBlock),
    Rubric(Rubric),
    Calibration(ExampleBlock),
    FewShot(ExampleBlock),
    Generation(Generation),
    Judge(Judge),
    Expert(Expert),
    Lint(Lint),
    Taxonomy(Taxonomy),
    Personas(Personas),
    UserSimulator(UserSimulator),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Domain(x) => x.span,
            Item::Framework(x) => x.span,
            Item::Failure(x) => x.span,
            Item::Anchors(x) => x.span,
            Item::Rubric(x) => x.span,
            Item::Calibration(x) | Item::FewShot(x) => x.span,
            Item::Generation(x) => x.span,
            Item::Judge(x) => x.span,
            Item::Expert(x) => x.span,
            Item::Lint(x) => x.span,
            Item::Taxonomy(x) => x.span,
            Item::Personas(x) => x.span,
            Item::UserSimulator(x) => x.span,
        }
    }
}

/// `domain therapy { title "..." role "..." audience "..." }`
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    pub keyword: Keyword,
    pub id: Ident,
    pub properties: Vec<Property>,
    pub span: Span,
}

/// `framework cbt "Cognitive Behavioural Therapy" { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Framework {
    pub keyword: Keyword,
    pub id: Ident,
    pub title: Text,
    pub items: Vec<FrameworkItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FrameworkItem {
    /// `about` or `principle`.
    Property(Property),
    Technique(Technique),
    Allow(Allow),
}

/// `technique socratic "Socratic questioning" { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Technique {
    pub keyword: Keyword,
    pub id: Ident,
    pub title: Text,
    pub items: Vec<TechniqueItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TechniqueItem {
    /// `about` or `when`.
    Property(Property),
    Example(Example),
    InsteadOf(InsteadOf),
    Allow(Allow),
}

/// `instead_of act.defusion when "..."`
#[derive(Debug, Clone, PartialEq)]
pub struct InsteadOf {
    pub keyword: Keyword,
    pub target: Reference,
    pub when: Text,
    pub span: Span,
}

/// `example "..."` or `example { user "..." assistant "..." }`
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub keyword: Keyword,
    pub body: ExampleBody,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExampleBody {
    Text(Text),
    Conversation(Conversation),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub turns: Vec<Turn>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Assistant,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System => "system",
        }
    }
}

/// `user "..."`, `assistant "..."` or `system "..."`.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub role: Role,
    pub role_span: Span,
    pub text: Text,
    pub span: Span,
}

/// `failure toxic_positivity "Toxic positivity" { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub keyword: Keyword,
    pub id: Ident,
    pub title: Text,
    pub items: Vec<FailureItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FailureItem {
    /// `about` or `source`.
    Property(Property),
    Example(Example),
    Allow(Allow),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    Always,
    Never,
}

impl Polarity {
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Always => "always",
            Polarity::Never => "never",
        }
    }
}

/// `always { ... }` or `never { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorBlock {
    pub keyword: Keyword,
    pub polarity: Polarity,
    pub anchors: Vec<Anchor>,
    pub span: Span,
}

/// `at_least "Use minimising phrases ..." guards toxic_positivity`
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub id: Ident,
    pub text: Text,
    /// The `guards` keyword, when present.
    pub guards_keyword: Option<Keyword>,
    pub guards: Vec<Ident>,
    pub allows: Vec<Allow>,
    pub span: Span,
}

/// `rubric { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Rubric {
    pub keyword: Keyword,
    pub items: Vec<RubricItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RubricItem {
    Threshold(Threshold),
    Define(Define),
    Group(Group),
    Allow(Allow),
}

/// `threshold 0.75`
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub keyword: Keyword,
    pub value: Number,
    pub span: Span,
}

/// `define "term" "meaning"`
#[derive(Debug, Clone, PartialEq)]
pub struct Define {
    pub keyword: Keyword,
    pub term: Text,
    pub meaning: Text,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Gate,
    Category,
}

/// `gate safety "Safety" { ... }` or `category x "X" weight 0.3 { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub kind: GroupKind,
    pub keyword: Keyword,
    pub id: Ident,
    pub title: Text,
    /// The `weight` keyword and its number; categories only.
    pub weight: Option<(Keyword, Number)>,
    pub items: Vec<GroupItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GroupItem {
    AllNa(AllNa),
    Question(Question),
    Allow(Allow),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllNaPolicy {
    FullCredit,
    Drop,
}

/// `all_na drop`
#[derive(Debug, Clone, PartialEq)]
pub struct AllNa {
    pub keyword: Keyword,
    pub policy: Keyword,
    pub span: Span,
}

impl AllNa {
    pub fn policy(&self) -> AllNaPolicy {
        match self.policy.kind {
            Kw::FullCredit => AllNaPolicy::FullCredit,
            _ => AllNaPolicy::Drop,
        }
    }
}

/// `CN1 "Does the response ...?" checks always.name_emotion { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: Ident,
    pub text: Text,
    /// The `checks` keyword, when present.
    pub checks_keyword: Option<Keyword>,
    pub checks: Vec<Reference>,
    /// The `{ ... }` body, when present.
    pub body: Option<QuestionBody>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuestionBody {
    pub items: Vec<QuestionItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QuestionItem {
    Define(Define),
    /// `when "..."`: the question is conditional.
    When(Property),
    /// `na drop|yes|no`
    Na {
        keyword: Keyword,
        value: Keyword,
        span: Span,
    },
    /// `min_turns 2`
    MinTurns(NumberSetting),
    /// `facts words, ratio`: each name is a keyword (`turns`, `words`,
    /// `ratio` or `longest`).
    Facts {
        keyword: Keyword,
        names: Vec<Keyword>,
        span: Span,
    },
    /// `decide "assistant_words_max < 150"`
    Decide(Property),
    Allow(Allow),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleKind {
    Calibration,
    FewShot,
}

/// `calibration strong "..." expect pass { ... }` or `fewshot x "..." { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleBlock {
    pub kind: ExampleKind,
    pub keyword: Keyword,
    pub id: Ident,
    pub title: Text,
    /// `expect` and the verdict keyword; calibration examples only.
    pub expect: Option<(Keyword, Keyword)>,
    pub items: Vec<ExampleItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExampleItem {
    Turn(Turn),
    Answers(Answers),
    Shows(Shows),
    /// `why "..."`
    Why(Property),
    Allow(Allow),
}

/// `answers { S1 yes "..." ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub keyword: Keyword,
    pub answers: Vec<Answer>,
    pub span: Span,
}

/// `CN1 yes "Opens with 'that sounds exhausting'."`
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub question: Ident,
    /// `yes`, `no` or `na`.
    pub value: Keyword,
    pub reason: Option<Text>,
    pub span: Span,
}

/// `shows cbt.socratic, always.name_emotion`
#[derive(Debug, Clone, PartialEq)]
pub struct Shows {
    pub keyword: Keyword,
    pub targets: Vec<Reference>,
    pub span: Span,
}

/// `generation { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub keyword: Keyword,
    pub items: Vec<GenerationItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GenerationItem {
    Turns(Turns),
    /// `mode simulate|whole`
    Mode {
        keyword: Keyword,
        value: Keyword,
        span: Span,
    },
    Ratio(Ratio),
    /// `breach retry|record`
    Breach {
        keyword: Keyword,
        value: Keyword,
        span: Span,
    },
    /// `length`, `format`, `escalation`, `scenario`, `note` or `training`.
    Property(Property),
}

/// `ratio 1.0..1.5 limit 2.0`
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    pub keyword: Keyword,
    pub min: Number,
    pub max: Number,
    /// `limit` and its number, when given.
    pub limit: Option<(Keyword, Number)>,
    pub span: Span,
}

/// `turns 3..6`
#[derive(Debug, Clone, PartialEq)]
pub struct Turns {
    pub keyword: Keyword,
    pub min: Number,
    pub max: Option<Number>,
    pub span: Span,
}

/// `judge { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Judge {
    pub keyword: Keyword,
    pub items: Vec<JudgeItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JudgeItem {
    /// `evidence first|none`
    Evidence {
        keyword: Keyword,
        value: Keyword,
        span: Span,
    },
    /// `calls single|per_question`
    Calls {
        keyword: Keyword,
        value: Keyword,
        span: Span,
    },
    /// `aggregate strictest|majority|unanimous`
    Aggregate {
        keyword: Keyword,
        value: Keyword,
        span: Span,
    },
    /// `note "..."`
    Property(Property),
}

/// `expert linehan "Marsha Linehan" { perspective "..." focus "..." }`
#[derive(Debug, Clone, PartialEq)]
pub struct Expert {
    pub keyword: Keyword,
    pub id: Ident,
    pub name: Text,
    pub properties: Vec<Property>,
    pub span: Span,
}

/// A lint code or name as written: `FT203`, `compound-question`, `warnings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintCode {
    pub text: String,
    pub span: Span,
}

/// `allow FT203 "reason"`: a suppression of one lint rule, scoped to the
/// item it is written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Allow {
    pub keyword: Keyword,
    pub code: LintCode,
    pub reason: Option<Text>,
    pub span: Span,
}

/// `lint { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Lint {
    pub keyword: Keyword,
    pub items: Vec<LintItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LintItem {
    Allow(Allow),
    /// `deny CODE` or `warn CODE`.
    Level {
        keyword: Keyword,
        code: LintCode,
        span: Span,
    },
    /// `questions 15..20`, `similarity 0.6`.
    Bound {
        name: Ident,
        min: Number,
        max: Option<Number>,
        span: Span,
    },
}

/// A keyword and a number: `edge_cases 0.1`, `flaw_free 0.2`, `min_turns 2`.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberSetting {
    pub keyword: Keyword,
    pub value: Number,
    pub span: Span,
}

/// `taxonomy { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Taxonomy {
    pub keyword: Keyword,
    pub items: Vec<TaxonomyItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TaxonomyItem {
    /// `edge_cases 0.1`
    EdgeCases(NumberSetting),
    /// `edge_case "..."`
    EdgeCase(Property),
    Dimension(Dimension),
    Allow(Allow),
}

/// `dimension topic "Topic" { ... }` in a taxonomy, or `trait age "Age"
/// { ... }` in `personas`: values with weights, one drawn each time.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    /// `dimension` or `trait`.
    pub keyword: Keyword,
    pub id: Ident,
    pub title: Text,
    pub items: Vec<DimensionItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DimensionItem {
    Value(DimensionValue),
    Allow(Allow),
}

/// `value work "Work and study stress" weight 0.30 { subtopic "..." }`
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionValue {
    pub keyword: Keyword,
    pub id: Ident,
    pub text: Text,
    pub weight_keyword: Keyword,
    pub weight: Number,
    /// `{ subtopic "..." about "..." }`, when present.
    pub body: Option<Body>,
    pub span: Span,
}

/// The `{ ... }` of a value or a flaw: text properties and suppressions.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub items: Vec<BodyItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BodyItem {
    /// `subtopic` or `about` in a value; `about` or `play` in a flaw.
    Property(Property),
    Allow(Allow),
}

/// `personas { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Personas {
    pub keyword: Keyword,
    pub items: Vec<PersonasItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PersonasItem {
    /// `flaw_free 0.2`
    FlawFree(NumberSetting),
    /// `trait age "Age" { ... }`
    Trait(Dimension),
    /// `flaws communication "Communication" { ... }`
    Flaws(FlawKind),
    /// `trajectory stable "..." weight 0.4`
    Trajectory(WeightedLine),
    Allow(Allow),
}

/// `flaws communication "Communication" { flaw ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct FlawKind {
    pub keyword: Keyword,
    pub id: Ident,
    pub title: Text,
    pub items: Vec<FlawKindItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FlawKindItem {
    Flaw(Flaw),
    Allow(Allow),
}

/// `flaw minimises "Minimises their problems" weight 0.25 { about "..." play "..." }`
#[derive(Debug, Clone, PartialEq)]
pub struct Flaw {
    pub keyword: Keyword,
    pub id: Ident,
    pub title: Text,
    pub weight_keyword: Keyword,
    pub weight: Number,
    pub body: Option<Body>,
    pub span: Span,
}

/// A weighted line: `trajectory stable "..." weight 0.4` or
/// `behaviour engage "..." weight 0.55`.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedLine {
    pub keyword: Keyword,
    pub id: Ident,
    pub text: Text,
    pub weight_keyword: Keyword,
    pub weight: Number,
    pub span: Span,
}

/// `user_simulator { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct UserSimulator {
    pub keyword: Keyword,
    pub items: Vec<SimulatorItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SimulatorItem {
    /// `behaviour engage "..." weight 0.55`
    Behaviour(WeightedLine),
    Words(Words),
    /// `note "..."`
    Property(Property),
    Allow(Allow),
}

/// `words style.terse 3..20`
#[derive(Debug, Clone, PartialEq)]
pub struct Words {
    pub keyword: Keyword,
    pub target: Reference,
    pub min: Number,
    pub max: Number,
    pub span: Span,
}
