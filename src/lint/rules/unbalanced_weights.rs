use super::*;

pub struct UnbalancedWeights;

static META: RuleMeta = RuleMeta {
    code: "FT501",
    name: "unbalanced-weights",
    group: Group::Weights,
    level: Level::Warning,
    summary: "One question carries more than 3 times the weight of another",
    explanation: r#"# FT501 unbalanced-weights

**What it does.** Computes each question's effective weight, its
category's weight divided by the category's question count, and reports
the rubric when the heaviest question weighs more than 3 times the
lightest (set with `weight_ratio`).

**Why it matters.** Weights are meant per category, but they act per
question: a 0.4 category of two questions makes each of them worth 0.2,
while a 0.2 category of four makes each worth 0.05. One heavy question can
then decide a pass on its own while a light one can never matter, which
is rarely what the author meant.

**Bad**
```ftprep
category a "A" weight 0.6 { A1 "..." A2 "..." }
category b "B" weight 0.4 { B1 "..." B2 "..." B3 "..." B4 "..." B5 "..." }
```

**Good**: weights roughly in proportion to question counts, or counts
evened out.
"#,
};

impl Rule for UnbalancedWeights {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let categories = &cx.spec.rubric.categories;
        let effective = |c: &crate::model::Group| -> Option<f64> {
            let w = c.weight.as_ref()?.units;
            (w > 0 && !c.questions.is_empty()).then(|| w as f64 / c.questions.len() as f64)
        };
        let weighted: Vec<(&crate::model::Group, f64)> = categories
            .iter()
            .filter_map(|c| effective(c).map(|e| (c, e)))
            .collect();
        let Some(&(heavy, max)) = weighted.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
            return;
        };
        let Some(&(light, min)) = weighted.iter().min_by(|a, b| a.1.total_cmp(&b.1)) else {
            return;
        };
        if max <= cx.bounds.weight_ratio * min {
            return;
        }
        let per = |e: f64| format!("{:.4}", e / crate::score::SCALE as f64);
        let span = |c: &crate::model::Group| c.weight.as_ref().map(|w| w.span).unwrap_or(c.id.span);
        out.push(
            cx.finding(
                &META,
                format!(
                    "each question of `{}` weighs {:.1} times one of `{}`",
                    heavy.id.name,
                    max / min,
                    light.id.name
                ),
            )
            .at(span(heavy), format!("{} per question", per(max)))
            .also(span(light), format!("{} per question", per(min)))
            .help(format!(
                "a question's weight is its category's weight ÷ its question count; bring them within {}x by adjusting weights or question counts",
                cx.bounds.weight_ratio
            )),
        );
    }
}
