//! Checking a judge against the rubric's own calibration examples before
//! it is trusted (`ftprep judge --calibrate`, and the start of every judge
//! run unless `--no-calibrate`).
//!
//! Each calibration example is judged like any conversation; every answer
//! is compared with the one its authors declared and every verdict, scored
//! by the one scoring module, with the declared verdict. A judge that gets
//! a verdict wrong is stricter or more lenient than the authors, and the
//! run stops unless told to go on (`--accept-calibration`): this is how
//! the method's "match their strictness" becomes a measurement.

use super::conversations::Conversation;
use super::judge::{JudgeSpec, answers_of};
use crate::model::Spec;
use crate::score::keep::Message;
use crate::score::{Answer, Verdict};
use serde::Serialize;
use serde_json::Value;

/// The prefix of a calibration example's id among judged conversations.
pub const PREFIX: &str = "calibration:";

/// The spec's calibration examples as conversations to judge.
pub fn conversations(spec: &Spec) -> Vec<Conversation> {
    spec.calibration
        .iter()
        .map(|example| Conversation {
            id: format!("{PREFIX}{}", example.id.name),
            messages: example
                .conversation
                .iter()
                .map(|turn| Message {
                    role: turn.role.as_str().to_string(),
                    content: turn.text.value.clone(),
                })
                .collect(),
            line: 0,
        })
        .collect()
}

/// How one judge did on the examples.
#[derive(Debug, Clone, Serialize)]
pub struct JudgeResult {
    pub judge: String,
    pub examples: Vec<ExampleResult>,
    /// Per question: the examples where the judge's answer was the
    /// declared one, of those it answered.
    pub questions: Vec<QuestionResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExampleResult {
    pub id: String,
    pub declared: Verdict,
    /// `None` when the judge's answers could not be scored (an ERROR on
    /// every question, say) or the call did not finish.
    pub judged: Option<Verdict>,
    /// Questions answered as declared, of those the judge answered.
    pub agreed: usize,
    pub answered: usize,
    /// `(question, declared, judged)` for each disagreement.
    pub disagreements: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionResult {
    pub id: String,
    pub agreed: usize,
    pub answered: usize,
}

impl JudgeResult {
    /// Whether every verdict is the declared one.
    pub fn verdicts_hold(&self) -> bool {
        self.examples.iter().all(|e| e.judged == Some(e.declared))
    }
}

fn answer_word(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "YES",
        Answer::No => "NO",
        Answer::Na => "N/A",
        Answer::Omitted => "not asked",
        Answer::Error => "ERROR",
        Answer::NotAsked => "not asked (min_turns)",
    }
}

/// Compares one judge's lines (one per example, in the spec's order;
/// `None` for an unfinished one) with the declared answers.
pub fn compare(
    spec: &Spec,
    judge_spec: &JudgeSpec,
    judge: &str,
    lines: &[Option<Value>],
) -> JudgeResult {
    let ids = &judge_spec.question_ids;
    let mut questions: Vec<QuestionResult> = ids
        .iter()
        .map(|id| QuestionResult {
            id: id.clone(),
            agreed: 0,
            answered: 0,
        })
        .collect();
    let mut examples = Vec::new();
    for (example, line) in spec.calibration.iter().zip(lines) {
        // The declared answers, in scoring order.
        let mut declared = vec![Answer::Omitted; ids.len()];
        for answer in &example.answers {
            let name = &spec.rubric.questions[answer.question].id.name;
            if let Some(i) = ids.iter().position(|id| id == name) {
                declared[i] = answer.value.to_score();
            }
        }
        let mut result = ExampleResult {
            id: example.id.name.clone(),
            declared: example.expect,
            judged: None,
            agreed: 0,
            answered: 0,
            disagreements: Vec::new(),
        };
        if let Some(line) = line {
            let judged = answers_of(judge_spec, line);
            for (i, (&d, &j)) in declared.iter().zip(&judged).enumerate() {
                if j == Answer::Error || j == Answer::Omitted {
                    if j == Answer::Error {
                        result.disagreements.push((
                            ids[i].clone(),
                            answer_word(d).into(),
                            answer_word(j).into(),
                        ));
                    }
                    continue;
                }
                result.answered += 1;
                questions[i].answered += 1;
                if d == j {
                    result.agreed += 1;
                    questions[i].agreed += 1;
                } else {
                    result.disagreements.push((
                        ids[i].clone(),
                        answer_word(d).into(),
                        answer_word(j).into(),
                    ));
                }
            }
            result.judged = judge_spec.rubric.score(&judged).ok().map(|o| o.verdict);
        }
        examples.push(result);
    }
    JudgeResult {
        judge: judge.to_string(),
        examples,
        questions,
    }
}

/// The calibration table for people.
pub fn render(results: &[JudgeResult]) -> String {
    let mut out = String::new();
    for result in results {
        let (agreed, answered) = result
            .examples
            .iter()
            .fold((0, 0), |(a, n), e| (a + e.agreed, n + e.answered));
        out.push_str(&format!(
            "calibration of `{}`: {agreed} of {answered} answers as declared\n",
            result.judge
        ));
        for e in &result.examples {
            let judged = e.judged.map_or("not scored", |v| v.as_str());
            let mark = if e.judged == Some(e.declared) {
                "ok "
            } else {
                "BAD"
            };
            out.push_str(&format!(
                "  {mark} {:<24} declared {:<9} judged {:<10} {}/{} answers agree\n",
                e.id,
                e.declared.as_str(),
                judged,
                e.agreed,
                e.answered
            ));
            for (q, d, j) in &e.disagreements {
                out.push_str(&format!("        {q}: declared {d}, judged {j}\n"));
            }
        }
        let weak: Vec<String> = result
            .questions
            .iter()
            .filter(|q| q.answered > 0 && q.agreed < q.answered)
            .map(|q| format!("{} {}/{}", q.id, q.agreed, q.answered))
            .collect();
        if !weak.is_empty() {
            out.push_str(&format!(
                "  questions answered otherwise than declared: {}\n",
                weak.join(", ")
            ));
        }
    }
    out
}
