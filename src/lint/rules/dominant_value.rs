use super::*;
use crate::score::{SCALE, format_decimal};

pub struct DominantValue;

static META: RuleMeta = RuleMeta {
    code: "FT704",
    name: "dominant-value",
    group: Group::Generation,
    level: Level::Warning,
    summary: "A value that takes more than 80% of its dimension or trait",
    explanation: r#"# FT704 dominant-value

**What it does.** Reports a value of a taxonomy `dimension` or a persona
`trait` whose weight is more than 80% of its dimension's weights together
(set with `dominant_share` in the `lint` block). A dimension with a single
value is FT703's.

**Why it matters.** The point of a taxonomy is a training set that covers
the space: a dimension where one value takes 85% of the draws leaves the
other values a handful of examples each in a pilot of 100, too few for
the model to learn them and too few for the judge's pass rate on them to
mean anything. If the data really is that skewed, the rare values are
better generated on purpose than at their natural rate.

**Bad**
```ftprep
dimension difficulty "Difficulty" {
  value clear   "A clear request" weight 0.9
  value unclear "A vague request" weight 0.1
}
```

**Good**
```ftprep
dimension difficulty "Difficulty" {
  value clear   "A clear request" weight 0.5
  value unclear "A vague request" weight 0.3
  value hostile "A hostile opener" weight 0.2
}
```
"#,
};

impl Rule for DominantValue {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let limit = cx.bounds.dominant_share;
        for draw in draws(cx.spec) {
            if !matches!(draw.kind, DrawKind::Dimension | DrawKind::Trait) || draw.items.len() < 2 {
                continue;
            }
            let total: i64 = draw.items.iter().map(|(_, w)| w.units).sum();
            if total <= 0 {
                continue;
            }
            for (name, weight) in &draw.items {
                // weight / total > limit / SCALE, in integers.
                if (weight.units as i128) * (SCALE as i128) <= (limit as i128) * (total as i128) {
                    continue;
                }
                let share = weight.units as f64 * 100.0 / total as f64;
                out.push(
                    cx.finding(
                        &META,
                        format!(
                            "`{name}` takes {share:.0}% of {}: the other values are left {:.0}% between them",
                            draw.name,
                            100.0 - share
                        ),
                    )
                    .at(weight.span, format!("{share:.0}% of the draws"))
                    .help(format!(
                        "keep each value at or under {} of its dimension so the others get enough examples; if the data is that skewed, generate the rare values on purpose",
                        format_decimal(limit)
                    )),
                );
            }
        }
    }
}
