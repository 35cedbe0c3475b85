use super::*;

pub struct AlwaysCount;

static META: RuleMeta = RuleMeta {
    code: "FT104",
    name: "always-count",
    group: Group::Counts,
    level: Level::Warning,
    summary: "Fewer than 6 or more than 10 ALWAYS anchors",
    explanation: r#"# FT104 always-count

**What it does.** Counts the ALWAYS anchors and reports a number outside 6
to 10 (set with `always MIN..MAX`).

**Why it matters.** ALWAYS anchors are the observable behaviours every
response must show, embedded verbatim in the generation prompt. Fewer than
six rarely cover what good looks like in a domain; more than ten stop
being read as rules.

**Bad**
```ftprep
always { greet "Greet the user" }
```

**Good**
```ftprep
always {
  name_emotion "Name the emotion the user expresses before any suggestion"
  reflect_detail "Reflect one specific detail the user shared"
  ask_permission "Ask permission before offering a technique"
  ...                                   # six to ten in all
}
```
"#,
};

impl Rule for AlwaysCount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let spec = cx.spec;
        let count = (spec
            .anchors
            .iter()
            .filter(|a| a.polarity == crate::syntax::ast::Polarity::Always)
            .count()) as u64;
        let Some(problem) = out_of_bounds(count, cx.bounds.always) else {
            return;
        };
        let (min, max) = cx.bounds.always;
        let advice = if count < min {
            "extract more behaviours every good response shows from the frameworks"
        } else {
            "keep the behaviours every response needs; move situational ones to technique guidance"
        };
        out.push(
            cx.finding(
                &META,
                format!("the spec has {}, {problem}", plural(count, "ALWAYS anchor")),
            )
            .at(
                spec.anchors
                    .iter()
                    .find(|a| a.polarity == crate::syntax::ast::Polarity::Always)
                    .map(|a| a.id.span)
                    .unwrap_or(spec.domain.id.span),
                plural(count, "anchor"),
            )
            .help(format!(
                "expected {min} to {max} (set with `always MIN..MAX` in the `lint` block): {advice}"
            )),
        );
    }
}
