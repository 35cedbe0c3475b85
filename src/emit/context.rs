//! The template context: the model flattened into plain data for the
//! templates, with every cross-reference already followed (a question
//! carries the text of the anchors it checks; an anchor, the ids of the
//! questions that check it).
//!
//! This is the contract for `--templates DIR`: `docs/templates.md` lists
//! every field. Values are computed here in Rust rather than in templates
//! so that they are the same in every template and on every machine.

use crate::model::{self, CheckTarget, GroupRef, ShowTarget, Snippet, Spec};
use crate::score::{self, AllNaPolicy, NaPolicy, Verdict};
use crate::syntax::ast::{Polarity, Role};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub spec: SpecInfo,
    pub frameworks: Vec<FrameworkCtx>,
    pub failures: Vec<FailureCtx>,
    pub always: Vec<AnchorCtx>,
    pub never: Vec<AnchorCtx>,
    pub rubric: RubricCtx,
    pub calibration: Vec<CalibrationCtx>,
    pub fewshots: Vec<FewShotCtx>,
    pub generation: GenerationCtx,
    pub judge: JudgeCtx,
    pub experts: Vec<ExpertCtx>,
    /// Set only while rendering a per-question judge prompt.
    pub question: Option<QuestionCtx>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpecInfo {
    pub id: String,
    pub title: String,
    pub role: String,
    pub audience: String,
    pub about: Option<String>,
    /// The spec's file name (without directories, so output does not
    /// depend on where ftprep was run).
    pub file: String,
    pub sha256: String,
    pub ftprep_version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkCtx {
    pub id: String,
    pub title: String,
    pub about: Option<String>,
    pub principles: Vec<String>,
    pub techniques: Vec<TechniqueCtx>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TechniqueCtx {
    pub id: String,
    /// `cbt.socratic`
    pub reference: String,
    pub title: String,
    pub framework_title: String,
    pub about: Option<String>,
    pub when: Option<String>,
    pub examples: Vec<SnippetCtx>,
    pub instead_of: Vec<InsteadOfCtx>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InsteadOfCtx {
    pub reference: String,
    pub title: String,
    pub when: String,
}

/// An example: one line (`kind = "line"`, in `text`) or a conversation
/// (`kind = "conversation"`, in `turns` and `transcript`).
#[derive(Debug, Clone, Serialize)]
pub struct SnippetCtx {
    pub kind: &'static str,
    pub text: String,
    pub turns: Vec<TurnCtx>,
    pub transcript: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TurnCtx {
    pub role: &'static str,
    /// `U1`, `A1`, `U2` ...; `SYS` for system turns.
    pub label: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailureCtx {
    pub id: String,
    pub title: String,
    pub about: Option<String>,
    pub examples: Vec<SnippetCtx>,
    pub sources: Vec<String>,
    /// Anchors that guard against this failure, as `ALWAYS: text`.
    pub guarded_by: Vec<AnchorRefCtx>,
    /// Ids of the questions that check this failure mode directly or
    /// through an anchor that guards it.
    pub checked_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnchorRefCtx {
    pub reference: String,
    /// `ALWAYS` or `NEVER`.
    pub polarity: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnchorCtx {
    pub id: String,
    /// `always.name_emotion`
    pub reference: String,
    pub text: String,
    pub guards: Vec<FailureRefCtx>,
    pub checked_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailureRefCtx {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RubricCtx {
    /// `0.75`
    pub threshold: String,
    pub gate: GroupCtx,
    pub categories: Vec<GroupCtx>,
    pub definitions: Vec<DefinitionCtx>,
    /// Every question, gate first.
    pub questions: Vec<QuestionCtx>,
    pub question_count: usize,
    pub has_conditional: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupCtx {
    pub id: String,
    pub title: String,
    /// `0.25`; empty for the gate.
    pub weight: String,
    /// Weight as a percentage, `25%`; empty for the gate.
    pub percent: String,
    /// `drop` or `full_credit`.
    pub all_na: &'static str,
    pub questions: Vec<QuestionCtx>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DefinitionCtx {
    pub term: String,
    pub meaning: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionCtx {
    pub id: String,
    pub text: String,
    pub group_id: String,
    pub group_title: String,
    pub in_gate: bool,
    pub conditional: bool,
    pub when: Option<String>,
    /// `drop`, `yes` or `no`; meaningful for conditional questions.
    pub na: &'static str,
    /// What N/A means, in words, for conditional questions.
    pub na_meaning: Option<String>,
    pub definitions: Vec<DefinitionCtx>,
    pub checks: Vec<AnchorRefCtx>,
    /// The share of the final score one YES on this question carries
    /// (category weight ÷ questions in the category), `0.0625`; empty in
    /// the gate.
    pub effective_weight: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalibrationCtx {
    pub id: String,
    pub title: String,
    /// `pass`, `fail` or `gate_fail`.
    pub expect: &'static str,
    /// `PASS`, `FAIL` or `FAIL (safety gate)`.
    pub expect_label: &'static str,
    pub turns: Vec<TurnCtx>,
    pub transcript: String,
    pub answers: Vec<AnswerCtx>,
    /// The answer object a judge should return, as pretty JSON in the
    /// judge's output format.
    pub expected_json: String,
    /// The weighted score, `0.8125`.
    pub score: String,
    pub gate_held: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnswerCtx {
    pub question: String,
    /// `YES`, `NO` or `NA`.
    pub value: &'static str,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FewShotCtx {
    pub id: String,
    pub title: String,
    pub shows: Vec<ShowCtx>,
    pub why: Option<String>,
    pub turns: Vec<TurnCtx>,
    pub transcript: String,
    /// The conversation as the generator's output format (JSON).
    pub output_json: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShowCtx {
    pub reference: String,
    pub title: String,
    /// `TECHNIQUE`, `ALWAYS` or `NEVER` (an example shows a NEVER anchor
    /// by avoiding it).
    pub polarity: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct GenerationCtx {
    pub turns_min: u32,
    pub turns_max: u32,
    /// `4` or `3 to 6`.
    pub turns_text: String,
    pub length: Option<String>,
    pub format: Option<String>,
    pub escalation: Option<String>,
    pub scenarios: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JudgeCtx {
    pub evidence_first: bool,
    pub per_question: bool,
    pub notes: Vec<String>,
    /// An example of the full answer object, as pretty JSON.
    pub output_example: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpertCtx {
    pub id: String,
    pub name: String,
    pub perspective: Option<String>,
    pub focus: Vec<String>,
}

fn text(t: &crate::syntax::ast::Text) -> String {
    t.value.clone()
}

fn opt(t: &Option<crate::syntax::ast::Text>) -> Option<String> {
    t.as_ref().map(text)
}

/// Turns with their `U1`/`A1` labels.
pub fn label_turns(turns: &[model::Turn]) -> Vec<TurnCtx> {
    let mut users = 0;
    let mut assistants = 0;
    turns
        .iter()
        .map(|t| {
            let label = match t.role {
                Role::User => {
                    users += 1;
                    format!("U{users}")
                }
                Role::Assistant => {
                    assistants += 1;
                    format!("A{assistants}")
                }
                Role::System => "SYS".to_string(),
            };
            TurnCtx {
                role: t.role.as_str(),
                label,
                text: t.text.value.clone(),
            }
        })
        .collect()
}

/// `[U1] user: ...` lines; continuation lines of a turn are indented so
/// the turn structure stays unambiguous.
pub fn transcript(turns: &[TurnCtx]) -> String {
    let mut out = String::new();
    for (i, turn) in turns.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let prefix = format!("[{}] {}: ", turn.label, turn.role);
        out.push_str(&prefix);
        let pad = " ".repeat(prefix.chars().count());
        for (j, line) in turn.text.split('\n').enumerate() {
            if j > 0 {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&pad);
                }
            }
            out.push_str(line);
        }
    }
    out
}

fn snippet(s: &Snippet) -> SnippetCtx {
    match s {
        Snippet::Line(t) => SnippetCtx {
            kind: "line",
            text: t.value.clone(),
            turns: Vec::new(),
            transcript: String::new(),
        },
        Snippet::Conversation(turns) => {
            let turns = label_turns(turns);
            SnippetCtx {
                kind: "conversation",
                text: String::new(),
                transcript: transcript(&turns),
                turns,
            }
        }
    }
}

fn polarity_label(p: Polarity) -> &'static str {
    match p {
        Polarity::Always => "ALWAYS",
        Polarity::Never => "NEVER",
    }
}

fn na_str(na: NaPolicy) -> &'static str {
    match na {
        NaPolicy::Drop => "drop",
        NaPolicy::Yes => "yes",
        NaPolicy::No => "no",
    }
}

fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::GateFail => "FAIL (safety gate)",
    }
}

/// The JSON value of one answer in the judge's output format.
fn answer_json(value: model::AnswerValue) -> serde_json::Value {
    match value {
        model::AnswerValue::Yes => serde_json::Value::Bool(true),
        model::AnswerValue::No => serde_json::Value::Bool(false),
        model::AnswerValue::Na => serde_json::Value::String("NA".into()),
    }
}

/// A JSON object with one member per line: compact enough for a prompt,
/// still easy to read. Values are written on one line each.
fn object_per_line(members: &[(String, serde_json::Value)]) -> String {
    let mut out = String::from("{\n");
    for (i, (key, value)) in members.iter().enumerate() {
        let key = serde_json::to_string(key).unwrap_or_default();
        let value = inline_json(value);
        let comma = if i + 1 < members.len() { "," } else { "" };
        out.push_str(&format!("  {key}: {value}{comma}\n"));
    }
    out.push('}');
    out
}

/// JSON on one line with a space after `:` and `,`, as people write it.
fn inline_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_inline_json(value, &mut out);
    out
}

fn write_inline_json(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push_str(": ");
                write_inline_json(v, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_inline_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `{"messages": [...]}` with one message per line.
fn messages_json(turns: &[model::Turn]) -> String {
    let mut out = String::from("{\"messages\": [\n");
    for (i, t) in turns.iter().enumerate() {
        let message = serde_json::json!({ "role": t.role.as_str(), "content": t.text.value });
        let comma = if i + 1 < turns.len() { "," } else { "" };
        out.push_str(&format!("  {}{comma}\n", inline_json(&message)));
    }
    out.push_str("]}");
    out
}

pub fn build(spec: &Spec, file: &str, sha256: &str) -> Context {
    let rubric = &spec.rubric;

    // Which questions check each anchor and each failure mode.
    let mut anchor_checked: Vec<Vec<String>> = vec![Vec::new(); spec.anchors.len()];
    let mut failure_checked: Vec<Vec<String>> = vec![Vec::new(); spec.failures.len()];
    for q in &rubric.questions {
        for (target, _) in &q.checks {
            match target {
                CheckTarget::Anchor(a) => {
                    push_unique(&mut anchor_checked[*a], &q.id.name);
                    for (f, _) in &spec.anchors[*a].guards {
                        push_unique(&mut failure_checked[*f], &q.id.name);
                    }
                }
                CheckTarget::Failure(f) => push_unique(&mut failure_checked[*f], &q.id.name),
            }
        }
    }

    let frameworks = spec
        .frameworks
        .iter()
        .enumerate()
        .map(|(fi, f)| FrameworkCtx {
            id: f.id.name.clone(),
            title: text(&f.title),
            about: opt(&f.about),
            principles: f.principles.iter().map(text).collect(),
            techniques: f
                .techniques
                .iter()
                .enumerate()
                .map(|(ti, t)| TechniqueCtx {
                    id: t.id.name.clone(),
                    reference: spec.technique_reference(model::TechniqueRef {
                        framework: fi,
                        technique: ti,
                    }),
                    title: text(&t.title),
                    framework_title: text(&f.title),
                    about: opt(&t.about),
                    when: opt(&t.when),
                    examples: t.examples.iter().map(snippet).collect(),
                    instead_of: t
                        .instead_of
                        .iter()
                        .map(|i| InsteadOfCtx {
                            reference: spec.technique_reference(i.target),
                            title: text(&spec.technique(i.target).title),
                            when: text(&i.when),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();

    let anchor_ref = |a: &model::Anchor| AnchorRefCtx {
        reference: a.reference(),
        polarity: polarity_label(a.polarity),
        text: text(&a.text),
    };

    let failures = spec
        .failures
        .iter()
        .enumerate()
        .map(|(fi, f)| FailureCtx {
            id: f.id.name.clone(),
            title: text(&f.title),
            about: opt(&f.about),
            examples: f.examples.iter().map(snippet).collect(),
            sources: f.sources.iter().map(text).collect(),
            guarded_by: spec
                .anchors
                .iter()
                .filter(|a| a.guards.iter().any(|(g, _)| *g == fi))
                .map(anchor_ref)
                .collect(),
            checked_by: failure_checked[fi].clone(),
        })
        .collect();

    let anchors_of = |polarity: Polarity| -> Vec<AnchorCtx> {
        spec.anchors
            .iter()
            .enumerate()
            .filter(|(_, a)| a.polarity == polarity)
            .map(|(i, a)| AnchorCtx {
                id: a.id.name.clone(),
                reference: a.reference(),
                text: text(&a.text),
                guards: a
                    .guards
                    .iter()
                    .map(|(f, _)| FailureRefCtx {
                        id: spec.failures[*f].id.name.clone(),
                        title: text(&spec.failures[*f].title),
                    })
                    .collect(),
                checked_by: anchor_checked[i].clone(),
            })
            .collect()
    };

    let question_ctx = |qi: usize| -> QuestionCtx {
        let q = &rubric.questions[qi];
        let group = spec.group(q.group);
        let in_gate = q.group == GroupRef::Gate;
        let effective_weight = match (&group.weight, in_gate) {
            (Some(w), false) if !group.questions.is_empty() => score::Ratio::new(
                w.units as i128,
                score::SCALE as i128 * group.questions.len() as i128,
            )
            .to_decimal_string(4),
            _ => String::new(),
        };
        let na_meaning = q.condition.as_ref().map(|_| match q.na {
            NaPolicy::Drop => "N/A is left out of the score".to_string(),
            NaPolicy::Yes => "N/A counts as YES".to_string(),
            NaPolicy::No => "N/A counts as NO".to_string(),
        });
        QuestionCtx {
            id: q.id.name.clone(),
            text: text(&q.text),
            group_id: group.id.name.clone(),
            group_title: text(&group.title),
            in_gate,
            conditional: q.is_conditional(),
            when: opt(&q.condition),
            na: na_str(q.na),
            na_meaning,
            definitions: q
                .definitions
                .iter()
                .map(|d| DefinitionCtx {
                    term: text(&d.term),
                    meaning: text(&d.meaning),
                })
                .collect(),
            checks: q
                .checks
                .iter()
                .map(|(t, _)| match t {
                    CheckTarget::Anchor(a) => anchor_ref(&spec.anchors[*a]),
                    CheckTarget::Failure(f) => AnchorRefCtx {
                        reference: format!("failure.{}", spec.failures[*f].id.name),
                        polarity: "FAILURE",
                        text: text(&spec.failures[*f].title),
                    },
                })
                .collect(),
            effective_weight,
        }
    };

    let group_ctx = |g: &model::Group| -> GroupCtx {
        let (weight, percent) = match &g.weight {
            Some(w) => (
                score::format_decimal(w.units),
                format!(
                    "{}%",
                    score::Ratio::new(w.units as i128 * 100, score::SCALE as i128)
                        .to_decimal_string(1)
                        .trim_end_matches(".0")
                ),
            ),
            None => (String::new(), String::new()),
        };
        GroupCtx {
            id: g.id.name.clone(),
            title: text(&g.title),
            weight,
            percent,
            all_na: match g.all_na {
                AllNaPolicy::Drop => "drop",
                AllNaPolicy::FullCredit => "full_credit",
            },
            questions: g.questions.iter().map(|&qi| question_ctx(qi)).collect(),
        }
    };

    let questions: Vec<QuestionCtx> = (0..rubric.questions.len()).map(question_ctx).collect();
    let evidence_first = spec.judge.evidence_first;
    let judge_value =
        |q: &str, value: model::AnswerValue, reason: Option<&str>| -> (String, serde_json::Value) {
            let answer = answer_json(value);
            if evidence_first {
                let evidence = reason.unwrap_or("").to_string();
                (
                    q.to_string(),
                    serde_json::json!({ "evidence": evidence, "answer": answer }),
                )
            } else {
                (q.to_string(), answer)
            }
        };

    let scoring = rubric.scoring();
    let calibration = spec
        .calibration
        .iter()
        .map(|c| {
            let turns = label_turns(&c.conversation);
            let answers: Vec<AnswerCtx> = c
                .answers
                .iter()
                .map(|a| AnswerCtx {
                    question: rubric.questions[a.question].id.name.clone(),
                    value: match a.value {
                        model::AnswerValue::Yes => "YES",
                        model::AnswerValue::No => "NO",
                        model::AnswerValue::Na => "NA",
                    },
                    reason: a.reason.as_ref().map(text),
                })
                .collect();
            let members: Vec<(String, serde_json::Value)> = c
                .answers
                .iter()
                .map(|a| {
                    judge_value(
                        &rubric.questions[a.question].id.name,
                        a.value,
                        a.reason.as_ref().map(|r| r.value.as_str()),
                    )
                })
                .collect();
            let scored: Vec<score::Answer> = c.answers.iter().map(|a| a.value.to_score()).collect();
            let outcome = scoring.score(&scored).ok();
            CalibrationCtx {
                id: c.id.name.clone(),
                title: text(&c.title),
                expect: c.expect.as_str(),
                expect_label: verdict_label(c.expect),
                transcript: transcript(&turns),
                turns,
                answers,
                expected_json: object_per_line(&members),
                score: outcome
                    .as_ref()
                    .map(|o| o.score.to_decimal_string(4))
                    .unwrap_or_default(),
                gate_held: outcome.map(|o| o.gate_held).unwrap_or(false),
            }
        })
        .collect();

    let fewshots = spec
        .fewshots
        .iter()
        .map(|f| {
            let turns = label_turns(&f.conversation);
            FewShotCtx {
                id: f.id.name.clone(),
                title: text(&f.title),
                shows: f
                    .shows
                    .iter()
                    .map(|(t, _)| match t {
                        ShowTarget::Technique(r) => ShowCtx {
                            reference: spec.technique_reference(*r),
                            title: text(&spec.technique(*r).title),
                            polarity: "TECHNIQUE",
                        },
                        ShowTarget::Anchor(a) => ShowCtx {
                            reference: spec.anchors[*a].reference(),
                            title: text(&spec.anchors[*a].text),
                            polarity: polarity_label(spec.anchors[*a].polarity),
                        },
                    })
                    .collect(),
                why: opt(&f.why),
                transcript: transcript(&turns),
                turns,
                output_json: messages_json(&f.conversation),
            }
        })
        .collect();

    let example_members: Vec<(String, serde_json::Value)> = questions
        .iter()
        .map(|q| {
            let sample = if q.conditional {
                model::AnswerValue::Na
            } else {
                model::AnswerValue::Yes
            };
            let reason = if q.conditional {
                "<quotes with turn labels, or why the question does not apply>"
            } else {
                "<quotes with turn labels, e.g. A1: \"...\">"
            };
            judge_value(&q.id, sample, Some(reason))
        })
        .collect();

    let generation = &spec.generation;
    Context {
        spec: SpecInfo {
            id: spec.domain.id.name.clone(),
            title: text(&spec.domain.title),
            role: text(&spec.domain.role),
            audience: text(&spec.domain.audience),
            about: opt(&spec.domain.about),
            file: file.to_string(),
            sha256: sha256.to_string(),
            ftprep_version: env!("CARGO_PKG_VERSION").to_string(),
        },
        frameworks,
        failures,
        always: anchors_of(Polarity::Always),
        never: anchors_of(Polarity::Never),
        rubric: RubricCtx {
            threshold: score::format_decimal(rubric.threshold.units),
            gate: group_ctx(&rubric.gate),
            categories: rubric.categories.iter().map(group_ctx).collect(),
            definitions: rubric
                .definitions
                .iter()
                .map(|d| DefinitionCtx {
                    term: text(&d.term),
                    meaning: text(&d.meaning),
                })
                .collect(),
            has_conditional: questions.iter().any(|q| q.conditional),
            question_count: questions.len(),
            questions,
        },
        calibration,
        fewshots,
        generation: GenerationCtx {
            turns_min: generation.turns_min,
            turns_max: generation.turns_max,
            turns_text: if generation.turns_min == generation.turns_max {
                generation.turns_min.to_string()
            } else {
                format!("{} to {}", generation.turns_min, generation.turns_max)
            },
            length: opt(&generation.length),
            format: opt(&generation.format),
            escalation: opt(&generation.escalation),
            scenarios: generation.scenarios.iter().map(text).collect(),
            notes: generation.notes.iter().map(text).collect(),
        },
        judge: JudgeCtx {
            evidence_first,
            per_question: spec.judge.per_question,
            notes: spec.judge.notes.iter().map(text).collect(),
            output_example: object_per_line(&example_members),
        },
        experts: spec
            .experts
            .iter()
            .map(|e| ExpertCtx {
                id: e.id.name.clone(),
                name: text(&e.name),
                perspective: opt(&e.perspective),
                focus: e.focus.iter().map(text).collect(),
            })
            .collect(),
        question: None,
    }
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}
