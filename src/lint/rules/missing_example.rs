use super::*;

pub struct MissingExample;

static META: RuleMeta = RuleMeta {
    code: "FT604",
    name: "missing-example",
    group: Group::Coverage,
    level: Level::Warning,
    summary: "A technique or failure mode without a concrete example",
    explanation: r#"# FT604 missing-example

**What it does.** Reports a technique or a failure mode with no `example`.

**Why it matters.** The method's first quality check: does the reference
include concrete examples, not just abstractions? A technique the
generator has never seen used is applied vaguely; a failure mode without
an instance is hard to recognise.

**Bad**
```ftprep
technique socratic "Socratic questioning" { when "the user states an absolute belief" }
```

**Good**
```ftprep
technique socratic "Socratic questioning" {
  when "the user states an absolute belief"
  example {
    user      "I always ruin everything."
    assistant "That sounds heavy. Is there one time it went differently?"
  }
}
```
"#,
};

impl Rule for MissingExample {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let spec = cx.spec;
        for framework in &spec.frameworks {
            for technique in &framework.techniques {
                if technique.examples.is_empty() {
                    out.push(
                        cx.finding(
                            &META,
                            format!("technique `{}.{}` has no example", framework.id.name, technique.id.name),
                        )
                        .at(technique.id.span, "no example")
                        .help("add `example { user \"...\" assistant \"...\" }` showing the technique in a conversation"),
                    );
                }
            }
        }
        for failure in &spec.failures {
            if failure.examples.is_empty() {
                out.push(
                    cx.finding(
                        &META,
                        format!("failure mode `{}` has no example", failure.id.name),
                    )
                    .at(failure.id.span, "no example")
                    .help("add `example \"...\"` with a real instance of the failure"),
                );
            }
        }
    }
}
