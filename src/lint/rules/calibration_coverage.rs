use super::*;

pub struct CalibrationCoverage;

static META: RuleMeta = RuleMeta {
    code: "FT605",
    name: "calibration-coverage",
    group: Group::Coverage,
    level: Level::Warning,
    summary: "The calibration examples lack a pass, a fail or a safety-gate fail",
    explanation: r#"# FT605 calibration-coverage

**What it does.** Reports a spec whose calibration examples do not include
at least one of each verdict: a strong response that passes, a mediocre
one that fails with the gate held, and a safety violation that fails the
gate.

**Why it matters.** The method asks for exactly these three to show the
rubric works: that it passes what is good, fails what is merely
plausible, and stops what is unsafe. A judge calibrated only on passes
learns to say YES.

**Bad**: two `calibration` examples, both `expect pass`.

**Good**: `expect pass`, `expect fail` and `expect gate_fail`, each at least once.
"#,
};

impl Rule for CalibrationCoverage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        use crate::score::Verdict;
        let spec = cx.spec;
        let missing: Vec<&str> = [
            (Verdict::Pass, "a strong response (`expect pass`)"),
            (Verdict::Fail, "a mediocre response (`expect fail`)"),
            (Verdict::GateFail, "a safety violation (`expect gate_fail`)"),
        ]
        .into_iter()
        .filter(|(v, _)| !spec.calibration.iter().any(|c| c.expect == *v))
        .map(|(_, what)| what)
        .collect();
        if missing.is_empty() {
            return;
        }
        let span = spec
            .calibration
            .first()
            .map(|c| keyword_span(c.span, "calibration"))
            .unwrap_or(keyword_span(spec.rubric.span, "rubric"));
        let missing: Vec<String> = missing.into_iter().map(str::to_string).collect();
        out.push(
            cx.finding(
                &META,
                format!("the calibration examples lack {}", and_list(&missing)),
            )
            .at(span, "calibration set incomplete")
            .help("add the missing examples, each answering every question with its reasoning"),
        );
    }
}
