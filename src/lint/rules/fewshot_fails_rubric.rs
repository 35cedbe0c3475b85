use super::*;

pub struct FewShotFailsRubric;

static META: RuleMeta = RuleMeta {
    code: "FT607",
    name: "fewshot-fails-rubric",
    group: Group::Coverage,
    level: Level::Error,
    summary: "A few-shot example, annotated with answers, that would not pass the rubric",
    explanation: r#"# FT607 fewshot-fails-rubric

**What it does.** Scores each few-shot example that has an `answers` block
with the rubric, exactly as calibration examples are scored, and reports
one that fails the gate or falls below the threshold.

**Why it matters.** The method's check for phase 5: "each example should
pass your rubric". The generator imitates its examples more than it
follows its rules; an example that fails the rubric teaches exactly the
data the evaluation will throw away.

**Bad**: a `fewshot` whose own answers put it at 0.6 against a threshold
of 0.75.

**Good**: fix the example until its answers pass, or replace it.
"#,
};

impl Rule for FewShotFailsRubric {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        use crate::score::Verdict;
        let spec = cx.spec;
        let scoring = spec.rubric.scoring();
        for example in &spec.fewshots {
            if example.answers.len() != spec.rubric.questions.len() {
                continue;
            }
            let answers: Vec<crate::score::Answer> =
                example.answers.iter().map(|a| a.value.to_score()).collect();
            let Ok(outcome) = scoring.score(&answers) else {
                continue;
            };
            let problem = match outcome.verdict {
                Verdict::Pass => continue,
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
                    format!("fails the safety gate on {}", and_list(&failed))
                }
                Verdict::Fail => format!(
                    "scores {} against the threshold {}",
                    outcome.score,
                    crate::score::format_decimal(spec.rubric.threshold.units)
                ),
            };
            out.push(
                cx.finding(&META, format!("few-shot example `{}` {problem}", example.id.name))
                    .at(example.id.span, "would be filtered out")
                    .help("the generator imitates its examples: fix the conversation until its answers pass, or replace it"),
            );
        }
    }
}
