use super::*;

pub struct SingleValue;

static META: RuleMeta = RuleMeta {
    code: "FT703",
    name: "single-value-dimension",
    group: Group::Generation,
    level: Level::Warning,
    summary: "A taxonomy dimension or persona trait with only one value",
    explanation: r#"# FT703 single-value-dimension

**What it does.** Reports a taxonomy `dimension` or a persona `trait` that
has exactly one value.

**Why it matters.** A dimension is there to make the generated data vary:
each cell draws one of its values. With one value every conversation gets
the same one, so the dimension adds nothing but the appearance of
diversity, and the coverage report shows a distribution that cannot
differ from its weights. Usually the other values were not written yet;
otherwise the fact belongs in the domain or the scenario, not in a
dimension.

**Bad**
```ftprep
dimension channel "Channel" {
  value chat "Live chat" weight 1
}
```

**Good**
```ftprep
dimension channel "Channel" {
  value chat  "Live chat" weight 0.7
  value email "Email, longer and less patient" weight 0.3
}
```
"#,
};

impl Rule for SingleValue {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for draw in draws(cx.spec) {
            let (what, per) = match draw.kind {
                DrawKind::Dimension => ("dimension", "cell"),
                DrawKind::Trait => ("trait", "persona"),
                _ => continue,
            };
            let [(only, _)] = draw.items.as_slice() else {
                continue;
            };
            out.push(
                cx.finding(
                    &META,
                    format!("{} has one value: every {per} gets `{only}`", draw.name),
                )
                .at(draw.span, "one value")
                .help(format!(
                    "add the values this {what} should vary over, or remove the {what} and say what it fixes in the domain or a scenario"
                )),
            );
        }
    }
}
