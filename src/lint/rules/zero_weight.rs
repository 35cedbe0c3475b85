use super::*;

pub struct ZeroWeight;

static META: RuleMeta = RuleMeta {
    code: "FT502",
    name: "zero-weight",
    group: Group::Weights,
    level: Level::Warning,
    summary: "A category with weight 0",
    explanation: r#"# FT502 zero-weight

**What it does.** Reports a category whose weight is 0.

**Why it matters.** Its questions are asked, cost judge tokens and add
noise, but can never change a score. Either the category matters, and
deserves a weight, or it does not belong in the rubric.

**Bad**
```ftprep
category style "Style" weight 0 { ... }
```

**Good**: remove the category, or give it a share of the score.
"#,
};

impl Rule for ZeroWeight {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for category in &cx.spec.rubric.categories {
            let Some(weight) = &category.weight else {
                continue;
            };
            if weight.units != 0 {
                continue;
            }
            out.push(
                cx.finding(
                    &META,
                    format!("category `{}` has weight 0", category.id.name),
                )
                .at(weight.span, "never counts")
                .help("give the category a share of the score, or remove it and its questions"),
            );
        }
    }
}
