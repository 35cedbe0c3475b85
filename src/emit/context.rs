//! The template context: the model flattened into plain data for the
//! templates, with every cross-reference already followed (a question
//! carries the text of the anchors it checks; an anchor, the ids of the
//! questions that check it).
//!
//! This is the contract for `--templates DIR`: `docs/templates.md` lists
//! every field. Values are computed here in Rust rather than in templates
//! so that they are the same in every template and on every machine. A
//! question's kind (presence or absence) comes from the wording analysis
//! the lint rules use (`lint::text`), so the judge is told the same rule
//! for a question that FT205 and FT206 check it was written for.

use crate::model::{self, CheckTarget, GroupRef, ShowTarget, Snippet, Spec};
use crate::score::{self, AllNaPolicy, NaPolicy, Verdict};
use crate::syntax::ast::{Polarity, Role};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Context<'a> {
    pub spec: SpecInfo<'a>,
    pub frameworks: Vec<FrameworkCtx<'a>>,
    pub failures: Vec<FailureCtx<'a>>,
    pub always: Vec<AnchorCtx<'a>>,
    pub never: Vec<AnchorCtx<'a>>,
    pub rubric: RubricCtx<'a>,
    pub calibration: Vec<CalibrationCtx<'a>>,
    pub fewshots: Vec<FewShotCtx<'a>>,
    pub generation: GenerationCtx<'a>,
    pub judge: JudgeCtx<'a>,
    pub experts: Vec<ExpertCtx<'a>>,
    /// Set only while rendering a per-question judge prompt.
    pub question: Option<QuestionCtx<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpecInfo<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub role: &'a str,
    pub audience: &'a str,
    pub about: Option<&'a str>,
    /// The spec's file name (without directories, so output does not
    /// depend on where ftprep was run).
    pub file: &'a str,
    pub sha256: &'a str,
    pub ftprep_version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkCtx<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub about: Option<&'a str>,
    pub principles: Vec<&'a str>,
    pub techniques: Vec<TechniqueCtx<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TechniqueCtx<'a> {
    pub id: &'a str,
    /// `cbt.socratic`
    pub reference: String,
    pub title: &'a str,
    pub framework_title: &'a str,
    pub about: Option<&'a str>,
    pub when: Option<&'a str>,
    pub examples: Vec<SnippetCtx<'a>>,
    pub instead_of: Vec<InsteadOfCtx<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InsteadOfCtx<'a> {
    pub reference: String,
    pub title: &'a str,
    pub when: &'a str,
}

/// An example: one line (`kind = "line"`, in `text`) or a conversation
/// (`kind = "conversation"`, in `turns` and `transcript`).
#[derive(Debug, Clone, Serialize)]
pub struct SnippetCtx<'a> {
    pub kind: &'static str,
    pub text: &'a str,
    pub turns: Vec<TurnCtx<'a>>,
    pub transcript: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TurnCtx<'a> {
    pub role: &'static str,
    /// `U1`, `A1`, `U2` ...; `SYS` for system turns.
    pub label: String,
    pub text: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailureCtx<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub about: Option<&'a str>,
    pub examples: Vec<SnippetCtx<'a>>,
    pub sources: Vec<&'a str>,
    /// Anchors that guard against this failure, as `ALWAYS: text`.
    pub guarded_by: Vec<AnchorRefCtx<'a>>,
    /// Ids of the questions that check this failure mode directly or
    /// through an anchor that guards it.
    pub checked_by: Vec<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnchorRefCtx<'a> {
    pub reference: String,
    /// `ALWAYS` or `NEVER`.
    pub polarity: &'static str,
    pub text: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnchorCtx<'a> {
    pub id: &'a str,
    /// `always.name_emotion`
    pub reference: String,
    pub text: &'a str,
    pub guards: Vec<FailureRefCtx<'a>>,
    pub checked_by: Vec<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailureRefCtx<'a> {
    pub id: &'a str,
    pub title: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct RubricCtx<'a> {
    /// `0.75`
    pub threshold: String,
    pub gate: GroupCtx<'a>,
    pub categories: Vec<GroupCtx<'a>>,
    pub definitions: Vec<DefinitionCtx<'a>>,
    /// Every question, gate first.
    pub questions: Vec<QuestionCtx<'a>>,
    pub question_count: usize,
    pub has_conditional: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupCtx<'a> {
    pub id: &'a str,
    pub title: &'a str,
    /// `0.25`; empty for the gate.
    pub weight: String,
    /// Weight as a percentage, `25%`; empty for the gate.
    pub percent: String,
    /// `drop` or `full_credit`.
    pub all_na: &'static str,
    pub questions: Vec<QuestionCtx<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DefinitionCtx<'a> {
    pub term: &'a str,
    pub meaning: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionCtx<'a> {
    pub id: &'a str,
    pub text: &'a str,
    pub group_id: &'a str,
    pub group_title: &'a str,
    pub in_gate: bool,
    /// Phrased for absence ("Does the response avoid ...?"): YES when no
    /// assistant turn does what it rules out. Otherwise a presence
    /// question: YES only when the turns show what it asks for.
    pub absence: bool,
    pub conditional: bool,
    /// The placeholder for its answer in an output skeleton: `<true or
    /// false>`, or `<true, false or "NA">` for a conditional question.
    pub answer_type: &'static str,
    pub when: Option<&'a str>,
    /// `drop`, `yes` or `no`; meaningful for conditional questions.
    pub na: &'static str,
    /// What N/A means, in words, for conditional questions.
    pub na_meaning: Option<&'static str>,
    pub definitions: Vec<DefinitionCtx<'a>>,
    pub checks: Vec<AnchorRefCtx<'a>>,
    /// The share of the final score one YES on this question carries
    /// (category weight ÷ questions in the category), `0.0625`; empty in
    /// the gate.
    pub effective_weight: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalibrationCtx<'a> {
    pub id: &'a str,
    pub title: &'a str,
    /// `pass`, `fail` or `gate_fail`.
    pub expect: &'static str,
    /// `PASS`, `FAIL` or `FAIL (safety gate)`.
    pub expect_label: &'static str,
    pub turns: Vec<TurnCtx<'a>>,
    pub transcript: String,
    pub answers: Vec<AnswerCtx<'a>>,
    /// The answer object a judge should return, as pretty JSON in the
    /// judge's output format.
    pub expected_json: String,
    /// The weighted score, `0.8125`.
    pub score: String,
    pub gate_held: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnswerCtx<'a> {
    pub question: &'a str,
    /// `YES`, `NO` or `NA`.
    pub value: &'static str,
    pub reason: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FewShotCtx<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub shows: Vec<ShowCtx<'a>>,
    pub why: Option<&'a str>,
    pub turns: Vec<TurnCtx<'a>>,
    pub transcript: String,
    /// The conversation in the generator's output format, with the
    /// example's id: `{"id": ..., "messages": [...]}`.
    pub output_json: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShowCtx<'a> {
    pub reference: String,
    pub title: &'a str,
    /// `TECHNIQUE`, `ALWAYS` or `NEVER` (an example shows a NEVER anchor
    /// by avoiding it).
    pub polarity: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct GenerationCtx<'a> {
    pub turns_min: u32,
    pub turns_max: u32,
    /// `4` or `3 to 6`.
    pub turns_text: String,
    pub length: Option<&'a str>,
    pub format: Option<&'a str>,
    pub escalation: Option<&'a str>,
    pub scenarios: Vec<&'a str>,
    pub notes: Vec<&'a str>,
    /// `simulate` or `whole`.
    pub mode: &'static str,
    /// The short system prompt training examples begin with: the spec's
    /// `training` text, or one derived from the domain.
    pub training: String,
    /// The simulated user's behaviours and notes, when the spec has a
    /// `user_simulator` block.
    pub user_simulator: Option<UserSimulatorCtx<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserSimulatorCtx<'a> {
    pub behaviours: Vec<BehaviourCtx<'a>>,
    pub notes: Vec<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BehaviourCtx<'a> {
    pub id: &'a str,
    pub text: &'a str,
    /// The share of messages, `0.15`.
    pub weight: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct JudgeCtx<'a> {
    pub evidence_first: bool,
    pub per_question: bool,
    pub notes: Vec<&'a str>,
    /// The shape of the full answer object, one member per line, with a
    /// placeholder where each value goes (`<true or false>`): a type, not
    /// a value, so that the skeleton is not itself an answer a judge could
    /// copy.
    pub output_skeleton: String,
    /// The former name of `output_skeleton`, kept so that templates
    /// written for it render the skeleton too.
    pub output_example: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpertCtx<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub perspective: Option<&'a str>,
    pub focus: Vec<&'a str>,
}

fn text(t: &crate::syntax::ast::Text) -> &str {
    &t.value
}

fn opt(t: &Option<crate::syntax::ast::Text>) -> Option<&str> {
    t.as_ref().map(text)
}

/// Turns with their `U1`/`A1` labels.
pub fn label_turns(turns: &[model::Turn]) -> Vec<TurnCtx<'_>> {
    label_messages(turns.iter().map(|t| (t.role, t.text.value.as_str())))
}

/// Messages with their `U1`/`A1` labels: the users' turns counted on their
/// own, the assistant's on theirs, system messages as `SYS`.
pub fn label_messages<'a>(messages: impl Iterator<Item = (Role, &'a str)>) -> Vec<TurnCtx<'a>> {
    let mut users = 0;
    let mut assistants = 0;
    messages
        .map(|(role, text)| {
            let label = match role {
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
                role: role.as_str(),
                label,
                text,
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

fn snippet(s: &Snippet) -> SnippetCtx<'_> {
    match s {
        Snippet::Line(t) => SnippetCtx {
            kind: "line",
            text: &t.value,
            turns: Vec::new(),
            transcript: String::new(),
        },
        Snippet::Conversation(turns) => {
            let turns = label_turns(turns);
            SnippetCtx {
                kind: "conversation",
                text: "",
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

/// One member of the judge's answer object: `"CP1": true`, or with
/// evidence first, `"CP1": {"evidence": "...", "answer": true}`.
struct JudgeMember<'a> {
    question: &'a str,
    value: JudgeValue,
    /// Present when the judge writes its evidence first.
    evidence: Option<&'a str>,
}

/// An answer, or in a skeleton the placeholder that stands for one.
#[derive(Clone, Copy)]
enum JudgeValue {
    Answer(model::AnswerValue),
    Placeholder(&'static str),
}

const BOOLEAN: &str = "<true or false>";
const BOOLEAN_OR_NA: &str = "<true, false or \"NA\">";

/// Writes `s` as a JSON string, escaped as serde_json escapes it.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn push_answer(out: &mut Vec<u8>, value: JudgeValue) {
    out.extend_from_slice(match value {
        JudgeValue::Answer(model::AnswerValue::Yes) => b"true",
        JudgeValue::Answer(model::AnswerValue::No) => b"false",
        JudgeValue::Answer(model::AnswerValue::Na) => b"\"NA\"",
        JudgeValue::Placeholder(text) => text.as_bytes(),
    });
}

fn into_string(json: Vec<u8>) -> String {
    // Only UTF-8 text and JSON punctuation were written.
    String::from_utf8(json).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A JSON object with one member per line: compact enough for a prompt,
/// still easy to read. Each value is on one line, with a space after `:`
/// and `,` as people write it. With placeholders it is a skeleton, not
/// JSON.
fn object_per_line(members: &[JudgeMember<'_>]) -> String {
    let mut out = b"{\n".to_vec();
    for (i, member) in members.iter().enumerate() {
        out.extend_from_slice(b"  ");
        push_json_str(&mut out, member.question);
        out.extend_from_slice(b": ");
        match member.evidence {
            Some(evidence) => {
                out.extend_from_slice(b"{\"evidence\": ");
                push_json_str(&mut out, evidence);
                out.extend_from_slice(b", \"answer\": ");
                push_answer(&mut out, member.value);
                out.push(b'}');
            }
            None => push_answer(&mut out, member.value),
        }
        if i + 1 < members.len() {
            out.push(b',');
        }
        out.push(b'\n');
    }
    out.push(b'}');
    into_string(out)
}

/// `{"id": ..., "messages": [...]}` with one message per line: the
/// generations line `ftprep score --generations` joins on `id`.
fn messages_json(id: &str, turns: &[model::Turn]) -> String {
    let mut out = b"{\"id\": ".to_vec();
    push_json_str(&mut out, id);
    out.extend_from_slice(b", \"messages\": [\n");
    for (i, t) in turns.iter().enumerate() {
        out.extend_from_slice(b"  {\"role\": ");
        push_json_str(&mut out, t.role.as_str());
        out.extend_from_slice(b", \"content\": ");
        push_json_str(&mut out, &t.text.value);
        out.push(b'}');
        if i + 1 < turns.len() {
            out.push(b',');
        }
        out.push(b'\n');
    }
    out.extend_from_slice(b"]}");
    into_string(out)
}

pub fn build<'a>(spec: &'a Spec, file: &'a str, sha256: &'a str) -> Context<'a> {
    let rubric = &spec.rubric;

    // Which questions check each anchor and each failure mode.
    let mut anchor_checked: Vec<Vec<&str>> = vec![Vec::new(); spec.anchors.len()];
    let mut failure_checked: Vec<Vec<&str>> = vec![Vec::new(); spec.failures.len()];
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
            id: f.id.name.as_str(),
            title: text(&f.title),
            about: opt(&f.about),
            principles: f.principles.iter().map(text).collect(),
            techniques: f
                .techniques
                .iter()
                .enumerate()
                .map(|(ti, t)| TechniqueCtx {
                    id: t.id.name.as_str(),
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

    let anchor_ref = |a: &'a model::Anchor| AnchorRefCtx {
        reference: a.reference(),
        polarity: polarity_label(a.polarity),
        text: text(&a.text),
    };

    let failures = spec
        .failures
        .iter()
        .enumerate()
        .map(|(fi, f)| FailureCtx {
            id: f.id.name.as_str(),
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
                id: a.id.name.as_str(),
                reference: a.reference(),
                text: text(&a.text),
                guards: a
                    .guards
                    .iter()
                    .map(|(f, _)| FailureRefCtx {
                        id: spec.failures[*f].id.name.as_str(),
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
            NaPolicy::Drop => "N/A is left out of the score",
            NaPolicy::Yes => "N/A counts as YES",
            NaPolicy::No => "N/A counts as NO",
        });
        let words = crate::lint::words::Words::get();
        QuestionCtx {
            id: q.id.name.as_str(),
            text: text(&q.text),
            group_id: group.id.name.as_str(),
            group_title: text(&group.title),
            in_gate,
            absence: crate::lint::text::QuestionShape::new(&q.text.value, words).is_absence(words),
            conditional: q.is_conditional(),
            answer_type: if q.is_conditional() {
                BOOLEAN_OR_NA
            } else {
                BOOLEAN
            },
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

    let group_ctx = |g: &'a model::Group| -> GroupCtx<'a> {
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
            id: g.id.name.as_str(),
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
        |question: &'a str, value: JudgeValue, reason: Option<&'a str>| -> JudgeMember<'a> {
            JudgeMember {
                question,
                value,
                evidence: evidence_first.then(|| reason.unwrap_or("")),
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
                    question: rubric.questions[a.question].id.name.as_str(),
                    value: match a.value {
                        model::AnswerValue::Yes => "YES",
                        model::AnswerValue::No => "NO",
                        model::AnswerValue::Na => "NA",
                    },
                    reason: a.reason.as_ref().map(text),
                })
                .collect();
            let members: Vec<JudgeMember> = c
                .answers
                .iter()
                .map(|a| {
                    judge_value(
                        &rubric.questions[a.question].id.name,
                        JudgeValue::Answer(a.value),
                        a.reason.as_ref().map(|r| r.value.as_str()),
                    )
                })
                .collect();
            let scored: Vec<score::Answer> = c.answers.iter().map(|a| a.value.to_score()).collect();
            let outcome = scoring.score(&scored).ok();
            CalibrationCtx {
                id: c.id.name.as_str(),
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
                id: f.id.name.as_str(),
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
                output_json: messages_json(&f.id.name, &f.conversation),
            }
        })
        .collect();

    // Each value shows its type, never a value: a skeleton of sample
    // answers would be a complete answer a lazy judge could copy.
    let skeleton_members: Vec<JudgeMember> = questions
        .iter()
        .map(|q| {
            let reason = if q.conditional {
                "<quotes with turn labels, or why the question does not apply>"
            } else {
                "<quotes with turn labels, e.g. A1: \"...\">"
            };
            judge_value(q.id, JudgeValue::Placeholder(q.answer_type), Some(reason))
        })
        .collect();
    let output_skeleton = object_per_line(&skeleton_members);

    let generation = &spec.generation;
    Context {
        spec: SpecInfo {
            id: spec.domain.id.name.as_str(),
            title: text(&spec.domain.title),
            role: text(&spec.domain.role),
            audience: text(&spec.domain.audience),
            about: opt(&spec.domain.about),
            file,
            sha256,
            ftprep_version: env!("CARGO_PKG_VERSION"),
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
            mode: match generation.mode {
                model::GenerationMode::Simulate => "simulate",
                model::GenerationMode::Whole => "whole",
            },
            training: crate::emit::training::training_system_prompt(spec),
            user_simulator: spec.user_simulator.as_ref().map(|u| UserSimulatorCtx {
                behaviours: u
                    .behaviours
                    .iter()
                    .map(|b| BehaviourCtx {
                        id: &b.id.name,
                        text: &b.text.value,
                        weight: &b.weight.raw,
                    })
                    .collect(),
                notes: u.notes.iter().map(text).collect(),
            }),
        },
        judge: JudgeCtx {
            evidence_first,
            per_question: spec.judge.per_question,
            notes: spec.judge.notes.iter().map(text).collect(),
            output_example: output_skeleton.clone(),
            output_skeleton,
        },
        experts: spec
            .experts
            .iter()
            .map(|e| ExpertCtx {
                id: e.id.name.as_str(),
                name: text(&e.name),
                perspective: opt(&e.perspective),
                focus: e.focus.iter().map(text).collect(),
            })
            .collect(),
        question: None,
    }
}

fn push_unique<'a>(list: &mut Vec<&'a str>, item: &'a str) {
    if !list.contains(&item) {
        list.push(item);
    }
}
