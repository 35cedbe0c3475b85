//! Pass 5: every calibration example must score as its author declared.
//!
//! This is the method's "examples demonstrate the rubric works", checked by
//! the same scorer that will filter the training data. A question decided
//! in code (`decide`) must also agree with every example that answers it.

use super::{AnswerValue, Spec};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::score::Verdict;
use crate::syntax::ast::Role;

/// Checks each calibration example whose answers are complete
/// (`complete[i]`) against its expected verdict.
pub fn check_calibration(spec: &Spec, complete: &[bool], diagnostics: &mut Diagnostics) {
    let scoring = spec.rubric.scoring();
    for (example, &ok) in spec.calibration.iter().zip(complete) {
        if !ok {
            continue;
        }
        let answers: Vec<_> = example.answers.iter().map(|a| a.value.to_score()).collect();
        let Ok(outcome) = scoring.score(&answers) else {
            continue;
        };
        if outcome.verdict == example.expect {
            continue;
        }
        let threshold = crate::score::format_decimal(spec.rubric.threshold.units);
        let computed = match outcome.verdict {
            Verdict::GateFail => {
                let failed: Vec<String> = outcome
                    .gate_failures
                    .iter()
                    .map(|&i| {
                        format!(
                            "`{}`",
                            spec.rubric.questions[spec.rubric.gate.questions[i]].id.name
                        )
                    })
                    .collect();
                format!("fails the gate on {}", failed.join(", "))
            }
            Verdict::Pass => format!("scores {} and passes", outcome.score),
            Verdict::Fail => format!("scores {} and fails", outcome.score),
        };
        let breakdown: Vec<String> = spec
            .rubric
            .categories
            .iter()
            .zip(&outcome.categories)
            .map(|(c, o)| match o.score {
                Some(_) => format!("{} {}/{}", c.id.name, o.yes, o.counted),
                None => format!("{} dropped (all N/A)", c.id.name),
            })
            .collect();
        let expected = match example.expect {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::GateFail => "fail the gate",
        };
        let mut diagnostic = Diagnostic::error(
            "calibration-mismatch",
            format!(
                "calibration example `{}` is expected to {expected} but {computed}",
                example.id.name
            ),
        )
        .at(example.expect_span, format!("expected `{}`", example.expect.as_str()))
        .help(format!(
            "weighted score {} against threshold {threshold} ({}); fix the answers or the expected verdict, or revisit the weights",
            outcome.score,
            breakdown.join(", ")
        ));
        if outcome.verdict == Verdict::GateFail {
            for &i in &outcome.gate_failures {
                let qi = spec.rubric.gate.questions[i];
                if let Some(answer) = example.answers.iter().find(|a| a.question == qi) {
                    diagnostic = diagnostic.also(
                        answer.value_span,
                        "a NO on a gate question fails the response",
                    );
                }
            }
        }
        diagnostics.push(diagnostic);
    }
}

/// A question decided in code must agree with the examples that answer
/// it: the program will answer it from the counts, so an example whose
/// author answered otherwise has a wrong answer or a wrong expression.
pub fn check_decided_answers(spec: &Spec, diagnostics: &mut Diagnostics) {
    let examples = spec
        .calibration
        .iter()
        .map(|e| ("calibration example", &e.id, &e.conversation, &e.answers))
        .chain(
            spec.fewshots
                .iter()
                .map(|e| ("few-shot example", &e.id, &e.conversation, &e.answers)),
        );
    for (kind, id, conversation, answers) in examples {
        let counts = Counts::of(conversation);
        for answer in answers {
            let question = &spec.rubric.questions[answer.question];
            let Some((decide, decide_span)) = &question.decide else {
                continue;
            };
            let expected = match answer.value {
                AnswerValue::Yes => true,
                AnswerValue::No => false,
                AnswerValue::Na => continue,
            };
            let decided = decide.eval(&|name| counts.get(name));
            if decided == expected {
                continue;
            }
            let values: Vec<String> = decide
                .used()
                .iter()
                .map(|v| match counts.get(v) {
                    Some(x) => format!("{v} = {}", format_count(x)),
                    None => format!("{v} has no value"),
                })
                .collect();
            diagnostics.push(
                Diagnostic::error(
                    "decide-mismatch",
                    format!(
                        "{kind} `{}` answers `{}` {}, but its counts decide {}",
                        id.name,
                        question.id.name,
                        answer.value.as_str(),
                        if decided { "yes" } else { "no" }
                    ),
                )
                .at(answer.value_span, format!("answered {}", answer.value.as_str()))
                .also(*decide_span, format!("{} here", values.join(", ")))
                .help("the program answers this question from the conversation's counts, never a judge: fix the example's answer, or the expression if it does not say what the question asks"),
            );
        }
    }
}

/// A count for a message: whole numbers as integers, ratios to two places.
fn format_count(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x}")
    } else {
        format!("{x:.2}")
    }
}

/// The counts a `decide` expression reads, from an example's turns, as
/// the design defines them (exchanges are assistant replies; words are
/// `crate::facts::word_count`). Generation computes the same from the
/// conversations it writes.
struct Counts {
    turns: usize,
    user: Vec<u32>,
    assistant: Vec<u32>,
    /// Assistant ÷ user words of each exchange with user words.
    exchange_ratios: Vec<f64>,
}

impl Counts {
    fn of(conversation: &[super::Turn]) -> Counts {
        let mut user = Vec::new();
        let mut assistant = Vec::new();
        let mut exchange_ratios = Vec::new();
        let mut pending_user: Option<u32> = None;
        for turn in conversation {
            let words = crate::facts::word_count(&turn.text.value);
            match turn.role {
                Role::User => {
                    user.push(words);
                    pending_user = Some(pending_user.unwrap_or(0) + words);
                }
                Role::Assistant => {
                    assistant.push(words);
                    if let Some(u) = pending_user.take()
                        && u > 0
                    {
                        exchange_ratios.push(f64::from(words) / f64::from(u));
                    }
                }
                Role::System => {}
            }
        }
        Counts {
            turns: assistant.len(),
            user,
            assistant,
            exchange_ratios,
        }
    }

    fn get(&self, name: &str) -> Option<f64> {
        let total = |v: &[u32]| v.iter().map(|&w| f64::from(w)).sum::<f64>();
        let max = |v: &[u32]| v.iter().max().map(|&w| f64::from(w));
        let min = |v: &[u32]| v.iter().min().map(|&w| f64::from(w));
        match name {
            "turns" => Some(self.turns as f64),
            "user_words_total" => Some(total(&self.user)),
            "assistant_words_total" => Some(total(&self.assistant)),
            "user_words_max" => max(&self.user),
            "user_words_min" => min(&self.user),
            "assistant_words_max" => max(&self.assistant),
            "assistant_words_min" => min(&self.assistant),
            "ratio" => {
                let user = total(&self.user);
                (user > 0.0).then(|| total(&self.assistant) / user)
            }
            "ratio_max" => self.exchange_ratios.iter().copied().reduce(f64::max),
            "longest_words" => self
                .user
                .iter()
                .chain(&self.assistant)
                .max()
                .map(|&w| f64::from(w)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Counts;
    use crate::model::Turn;
    use crate::source::Span;
    use crate::syntax::ast::{Role, Text, TextStyle};

    fn turn(role: Role, text: &str) -> Turn {
        Turn {
            role,
            text: Text {
                value: text.into(),
                style: TextStyle::Quoted,
                span: Span::point(0),
            },
            span: Span::point(0),
        }
    }

    #[test]
    fn counts_follow_the_facts_definitions() {
        let c = Counts::of(&[
            turn(Role::System, "ignored entirely here"),
            turn(Role::User, "one two"),
            turn(Role::Assistant, "one two three four"),
            turn(Role::User, "a b c d"),
            turn(Role::Assistant, "x"),
        ]);
        assert_eq!(c.get("turns"), Some(2.0));
        assert_eq!(c.get("user_words_total"), Some(6.0));
        assert_eq!(c.get("assistant_words_max"), Some(4.0));
        assert_eq!(c.get("assistant_words_min"), Some(1.0));
        assert_eq!(c.get("ratio"), Some(5.0 / 6.0));
        assert_eq!(c.get("ratio_max"), Some(2.0));
        assert_eq!(c.get("longest_words"), Some(4.0));
        assert_eq!(c.get("unknown"), None);
        let empty = Counts::of(&[]);
        assert_eq!(empty.get("ratio"), None);
        assert_eq!(empty.get("user_words_max"), None);
        assert_eq!(empty.get("turns"), Some(0.0));
    }
}
