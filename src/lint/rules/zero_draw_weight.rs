use super::*;

pub struct ZeroDrawWeight;

static META: RuleMeta = RuleMeta {
    code: "FT702",
    name: "zero-draw-weight",
    group: Group::Generation,
    level: Level::Warning,
    summary: "A dimension value, trajectory or behaviour with weight 0",
    explanation: r#"# FT702 zero-draw-weight

**What it does.** Reports a taxonomy value, a `trajectory` or a user
simulator `behaviour` whose weight is 0. (A persona trait value or a flaw
with weight 0 is reported by FT705, which also catches flaws that
`flaw_free 1` leaves unused.)

**Why it matters.** A value with weight 0 is never drawn: no generated
conversation has that topic, that mood curve or that user behaviour, yet
the spec reads as if the data covered it, and the coverage report lists
it as a cell that can never be hit. Either it matters, and deserves a
share, or it does not belong in the spec.

**Bad**
```ftprep
behaviour push_back "Disagrees, or says it will not work for them" weight 0
```

**Good**
```ftprep
behaviour push_back "Disagrees, or says it will not work for them" weight 0.15
```
"#,
};

impl Rule for ZeroDrawWeight {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for draw in draws(cx.spec) {
            let (what, never) = match draw.kind {
                DrawKind::Dimension => ("value", "no scenario cell is drawn with it"),
                DrawKind::Trajectories => ("trajectory", "no persona follows it"),
                DrawKind::Behaviours => ("behaviour", "no user turn is drawn with it"),
                DrawKind::Trait | DrawKind::Flaws => continue,
            };
            for (name, weight) in &draw.items {
                if weight.units != 0 {
                    continue;
                }
                out.push(
                    cx.finding(&META, format!("{what} `{name}` has weight 0: {never}"))
                        .at(weight.span, "never drawn")
                        .help(format!(
                            "give the {what} a share of the data, or remove it (and rebalance the other weights of {})",
                            draw.name
                        )),
                );
            }
        }
    }
}
