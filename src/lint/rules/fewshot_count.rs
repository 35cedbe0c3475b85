use super::*;

pub struct FewShotCount;

static META: RuleMeta = RuleMeta {
    code: "FT106",
    name: "fewshot-count",
    group: Group::Counts,
    level: Level::Warning,
    summary: "Fewer than 3 or more than 5 few-shot examples",
    explanation: r#"# FT106 fewshot-count

**What it does.** Counts the `fewshot` examples and reports a number outside
3 to 5 (set with `fewshots MIN..MAX`).

**Why it matters.** The generation prompt learns more from its examples
than from its rules. One or two examples get copied; more than five crowd
out the instructions. Three to five diverse examples show the range.

**Bad**: a single `fewshot`, so every generated conversation imitates it.

**Good**: three to five `fewshot` examples with different situations,
techniques and tones, each with `shows` and `why`.
"#,
};

impl Rule for FewShotCount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let spec = cx.spec;
        let count = (spec.fewshots.len()) as u64;
        let Some(problem) = out_of_bounds(count, cx.bounds.fewshots) else {
            return;
        };
        let (min, max) = cx.bounds.fewshots;
        let advice = if count < min {
            "add examples in situations and tones the others do not cover"
        } else {
            "keep the most diverse examples"
        };
        out.push(
            cx.finding(&META, format!("the spec has {}, {problem}", plural(count, "few-shot example")))
                .at(spec.fewshots.first().map(|f| f.id.span).unwrap_or(spec.domain.id.span), plural(count, "example"))
                .help(format!("expected {min} to {max} (set with `fewshots MIN..MAX` in the `lint` block): {advice}")),
        );
    }
}
