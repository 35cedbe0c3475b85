use super::*;
use crate::score::{SCALE, format_decimal};

pub struct DrawWeightsSum;

static META: RuleMeta = RuleMeta {
    code: "FT701",
    name: "draw-weights-sum",
    group: Group::Generation,
    level: Level::Warning,
    summary: "The weights of a dimension, trait, the flaws, the trajectories or the behaviours do not sum to 1",
    explanation: r#"# FT701 draw-weights-sum

**What it does.** Adds up the weights of each set generation draws one
item from, and reports a set whose weights do not sum to 1 (within
10⁻⁹): each taxonomy `dimension`, each persona `trait`, all the `flaw`s of
`personas` together (a persona's flaws are drawn from every kind at once),
the `trajectory` lines, and the user simulator's `behaviour` lines.

**Why it matters.** A weight is the share of the generated data that gets
that value: `weight 0.3` reads as "30% of the conversations". Weights that
sum to 0.9 or 1.2 cannot all mean what they say: at best they are rescaled
when the plan is drawn, and the coverage report then compares the sample
against shares nobody wrote. Usually a value was added or removed without
rebalancing the rest.

**Bad**
```ftprep
dimension difficulty "Difficulty" {
  value clear   "A clear request" weight 0.5
  value unclear "A vague request" weight 0.3
  value hostile "A hostile opener" weight 0.3
}
```

**Good**
```ftprep
dimension difficulty "Difficulty" {
  value clear   "A clear request" weight 0.4
  value unclear "A vague request" weight 0.3
  value hostile "A hostile opener" weight 0.3
}
```
"#,
};

impl Rule for DrawWeightsSum {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for draw in draws(cx.spec) {
            if draw.items.is_empty() {
                continue;
            }
            let sum: i64 = draw.items.iter().map(|(_, w)| w.units).sum();
            if (sum - SCALE).abs() <= 1 {
                continue;
            }
            let listed: Vec<&str> = draw.items.iter().map(|(_, w)| w.raw.as_str()).collect();
            let difference = SCALE - sum;
            let fix = if difference > 0 {
                format!("add {} to one or more weights", format_decimal(difference))
            } else {
                format!(
                    "take {} off one or more weights",
                    format_decimal(-difference)
                )
            };
            let mut finding = cx
                .finding(
                    &META,
                    format!(
                        "the weights of {} sum to {}, not 1",
                        draw.name,
                        format_decimal(sum)
                    ),
                )
                .at(
                    draw.span,
                    format!("{} = {}", listed.join(" + "), format_decimal(sum)),
                );
            for (_, weight) in &draw.items {
                finding = finding.also(weight.span, "");
            }
            out.push(finding.help(format!(
                "a weight is the share of the generated data that gets it, so the shares add up to 1: {fix}"
            )));
        }
    }
}
