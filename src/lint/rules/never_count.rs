use super::*;

pub struct NeverCount;

static META: RuleMeta = RuleMeta {
    code: "FT105",
    name: "never-count",
    group: Group::Counts,
    level: Level::Warning,
    summary: "Fewer than 8 or more than 12 NEVER anchors",
    explanation: r#"# FT105 never-count

**What it does.** Counts the NEVER anchors and reports a number outside 8
to 12 (set with `never MIN..MAX`).

**Why it matters.** NEVER anchors come from documented failure modes, domain
ethics and safety research. The method asks for 8 to 12: fewer usually
means failure modes went unresearched; more means anti-patterns that
should be merged.

**Bad**
```ftprep
never { diagnose "Name a diagnosis for the user" }
```

**Good**
```ftprep
never {
  diagnose "Name a clinical diagnosis for the user" guards armchair_diagnosis
  at_least "Use minimising phrases such as 'at least'" guards toxic_positivity
  ...                                   # eight to twelve in all
}
```
"#,
};

impl Rule for NeverCount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let spec = cx.spec;
        let count = (spec
            .anchors
            .iter()
            .filter(|a| a.polarity == crate::syntax::ast::Polarity::Never)
            .count()) as u64;
        let Some(problem) = out_of_bounds(count, cx.bounds.never) else {
            return;
        };
        let (min, max) = cx.bounds.never;
        let advice = if count < min {
            "turn each documented failure mode into the behaviour to avoid"
        } else {
            "merge anti-patterns that guard the same failure mode"
        };
        out.push(
            cx.finding(
                &META,
                format!("the spec has {}, {problem}", plural(count, "NEVER anchor")),
            )
            .at(
                spec.anchors
                    .iter()
                    .find(|a| a.polarity == crate::syntax::ast::Polarity::Never)
                    .map(|a| a.id.span)
                    .unwrap_or(spec.domain.id.span),
                plural(count, "anchor"),
            )
            .help(format!(
                "expected {min} to {max} (set with `never MIN..MAX` in the `lint` block): {advice}"
            )),
        );
    }
}
