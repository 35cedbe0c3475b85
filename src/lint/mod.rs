//! Stage 3: lint rules over the resolved model.
//!
//! In: a [`Spec`] without errors, the spec's text (to point inside
//! strings) and the command line's level overrides. Out: diagnostics, one
//! per finding, at the level the configuration gives its rule.
//!
//! Each rule lives in its own file under `rules/`, named after the rule,
//! with its code, name, default level, one-line summary and explanation
//! (what it catches, why it matters in the method, a bad and a good
//! example) beside its check. `rules::RULES` is the single registry.
//!
//! Configuration, in order of precedence: the command line (`--deny`,
//! `--warn`, `--allow`, `--deny warnings`), the spec's `lint` block
//! (`deny`, `warn`, bounds), the rule's default. Suppressions are
//! `allow CODE "reason"` items, scoped to the item they are written in;
//! one that suppresses nothing is reported (FT001).

pub mod config;
pub mod rules;
pub mod similarity;
pub mod text;
pub mod words;

pub use config::{Bounds, LintOptions};

use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::model::Spec;
use crate::source::Span;
use serde::Serialize;
use std::collections::HashMap;
use text::QuestionShape;
use words::Words;

/// How a rule's findings are reported; `Allow` turns the rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    fn severity(self) -> Option<Severity> {
        match self {
            Level::Allow => None,
            Level::Note => Some(Severity::Note),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }
}

/// The groups rules are listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Suppressions,
    Counts,
    Wording,
    Anchors,
    Orthogonality,
    Weights,
    Coverage,
    /// The data to generate: taxonomy, personas, user simulator.
    Generation,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Suppressions => "suppressions",
            Group::Counts => "counts",
            Group::Wording => "wording",
            Group::Anchors => "anchors",
            Group::Orthogonality => "orthogonality",
            Group::Weights => "weights",
            Group::Coverage => "coverage",
            Group::Generation => "generation",
        }
    }
}

/// What every rule declares about itself.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    /// Stable code: `FT203`. Never reused.
    pub code: &'static str,
    /// Stable kebab-case name: `compound-question`.
    pub name: &'static str,
    pub group: Group,
    /// Level when nothing configures it.
    pub level: Level,
    /// One line for `ftprep rules`.
    pub summary: &'static str,
    /// Markdown for `ftprep explain`: what it does, why it matters, a bad
    /// and a good example.
    #[serde(skip)]
    pub explanation: &'static str,
}

impl RuleMeta {
    /// The rule's explanation as `ftprep explain` prints it and the
    /// language server links to it: the text, then its default level and
    /// group.
    pub fn explain(&self) -> String {
        format!(
            "{}\n\nLevel: {} by default. Group: {}.\n",
            self.explanation.trim_end(),
            self.level.as_str(),
            self.group.as_str()
        )
    }
}

/// A lint rule: reads the model, pushes findings.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>);
}

/// Finds a rule by code (`FT203`, any case) or name (`compound-question`).
pub fn find_rule(code_or_name: &str) -> Option<&'static RuleMeta> {
    rules::RULES
        .iter()
        .map(|r| r.meta())
        .find(|m| m.code.eq_ignore_ascii_case(code_or_name) || m.name == code_or_name)
}

/// What rules read.
pub struct Context<'a> {
    pub spec: &'a Spec,
    pub source: &'a str,
    pub bounds: &'a Bounds,
    pub words: &'static Words,
    /// The shape of each question, by index into `spec.rubric.questions`.
    pub questions: Vec<QuestionShape>,
    /// Content stems of each question (see [`text::content_stems`]).
    pub question_stems: Vec<Vec<String>>,
    /// Content stems of each anchor, by index into `spec.anchors`.
    pub anchor_stems: Vec<Vec<String>>,
}

impl Context<'_> {
    /// Starts a finding of `rule`; the engine sets its severity.
    pub fn finding(&self, rule: &'static RuleMeta, message: impl Into<String>) -> Diagnostic {
        let mut diagnostic = Diagnostic::warning(rule.name, message);
        diagnostic.lint_code = Some(rule.code);
        diagnostic
    }

    /// The span of words `i..=j` of question `q`, or the whole question
    /// text when the text's bytes do not map one to one (escapes, blocks).
    pub fn question_words_span(&self, q: usize, i: usize, j: usize) -> Span {
        let question = &self.spec.rubric.questions[q];
        text::value_words_span(&question.text, self.source, &self.questions[q].words, i, j)
    }

    /// Like [`Context::question_words_span`] for any text value.
    pub fn text_words_span(
        &self,
        value: &crate::syntax::ast::Text,
        words: &[text::Word],
        i: usize,
        j: usize,
    ) -> Span {
        text::value_words_span(value, self.source, words, i, j)
    }
}

/// Lints a spec. The spec must have compiled without errors.
pub fn lint(spec: &Spec, source: &str, options: &LintOptions) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    let settings = config::resolve(spec, options, &mut diagnostics);
    let words = Words::get();
    let cx = Context {
        spec,
        source,
        bounds: &settings.bounds,
        words,
        questions: spec
            .rubric
            .questions
            .iter()
            .map(|q| QuestionShape::new(&q.text.value, words))
            .collect(),
        question_stems: spec
            .rubric
            .questions
            .iter()
            .map(|q| text::content_stems(&q.text.value, words))
            .collect(),
        anchor_stems: spec
            .anchors
            .iter()
            .map(|a| text::content_stems(&a.text.value, words))
            .collect(),
    };
    let mut findings = Vec::new();
    for rule in rules::RULES {
        let meta = rule.meta();
        if meta.code == rules::unused_suppression::META.code {
            continue; // reported below, from the suppressions themselves
        }
        if settings.level(meta) == Level::Allow {
            continue;
        }
        let mut out = Vec::new();
        rule.check(&cx, &mut out);
        findings.extend(out);
    }

    // Suppressions: a finding inside an `allow`'s scope, of its rule, is
    // dropped, and the `allow` counts as used.
    let mut used = vec![false; settings.suppressions.len()];
    findings.retain(|finding| {
        let at = finding.primary_span().map(|s| s.start).unwrap_or(0);
        let mut keep = true;
        for (i, s) in settings.suppressions.iter().enumerate() {
            if Some(finding.code) == s.rule.map(|r| r.name)
                && s.scope.start <= at
                && at <= s.scope.end
            {
                used[i] = true;
                keep = false;
            }
        }
        keep
    });
    let unused_meta = &rules::unused_suppression::META;
    if settings.level(unused_meta) != Level::Allow {
        for (s, used) in settings.suppressions.iter().zip(used) {
            let Some(rule) = s.rule else { continue };
            if used || settings.level(rule) == Level::Allow {
                continue;
            }
            findings.push(rules::unused_suppression::finding(&cx, rule, s.span));
        }
    }

    for mut finding in findings {
        let Some(rule) = finding.lint_code.and_then(find_rule) else {
            continue;
        };
        let Some(severity) = settings.level(rule).severity() else {
            continue;
        };
        finding.severity = severity;
        diagnostics.push(finding);
    }
    diagnostics
}

/// The resolved configuration of one run.
pub struct Settings {
    pub bounds: Bounds,
    levels: HashMap<&'static str, Level>,
    deny_warnings: bool,
    pub suppressions: Vec<ResolvedSuppression>,
}

pub struct ResolvedSuppression {
    /// `None` when the code is unknown (already reported).
    pub rule: Option<&'static RuleMeta>,
    pub scope: Span,
    pub span: Span,
}

impl Settings {
    pub fn level(&self, rule: &RuleMeta) -> Level {
        let level = self.levels.get(rule.code).copied().unwrap_or(rule.level);
        if self.deny_warnings && level == Level::Warning {
            Level::Error
        } else {
            level
        }
    }
}
