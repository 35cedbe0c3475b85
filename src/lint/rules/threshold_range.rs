use super::*;

pub struct ThresholdRange;

static META: RuleMeta = RuleMeta {
    code: "FT107",
    name: "threshold-range",
    group: Group::Counts,
    level: Level::Warning,
    summary: "A pass threshold outside 0.70 to 0.80",
    explanation: r#"# FT107 threshold-range

**What it does.** Reports a rubric `threshold` outside 0.70 to 0.80 (set
with `threshold MIN..MAX` in the `lint` block).

**Why it matters.** The threshold decides which generated conversations
become training data. Below 0.70 mediocre responses pass and the model
learns them; above 0.80 a single NO fails most responses, the pilot pass
rate collapses, and the survivors are a narrow, repetitive set.

**Bad**
```ftprep
rubric { threshold 0.5 ... }
```

**Good**
```ftprep
rubric { threshold 0.75 ... }
```
"#,
};

impl Rule for ThresholdRange {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let threshold = &cx.spec.rubric.threshold;
        let (min, max) = cx.bounds.threshold;
        if threshold.units >= min && threshold.units <= max {
            return;
        }
        let side = if threshold.units < min {
            "below"
        } else {
            "above"
        };
        out.push(
            cx.finding(
                &META,
                format!(
                    "the pass threshold {} is {side} the usual {}",
                    threshold.raw,
                    crate::lint::config::decimal_range((min, max))
                ),
            )
            .at(threshold.span, format!("{side} {}", crate::lint::config::decimal_range((min, max))))
            .help(if threshold.units < min {
                "a low threshold lets mediocre responses into the training data: raise it, or say why with `allow FT107 \"...\"`"
            } else {
                "a high threshold fails most responses on one NO: lower it, or say why with `allow FT107 \"...\"`"
            }),
        );
    }
}
