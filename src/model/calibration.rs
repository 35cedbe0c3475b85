//! Pass 5: every calibration example must score as its author declared.
//!
//! This is the method's "examples demonstrate the rubric works", checked by
//! the same scorer that will filter the training data.

use super::Spec;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::score::Verdict;

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
