use super::*;

pub struct UnguardedFailure;

static META: RuleMeta = RuleMeta {
    code: "FT601",
    name: "unguarded-failure",
    group: Group::Coverage,
    level: Level::Warning,
    summary: "A failure mode that no anchor guards",
    explanation: r#"# FT601 unguarded-failure

**What it does.** Reports a failure mode that no anchor names in its
`guards`: neither a NEVER anchor that forbids it nor an ALWAYS anchor that
counters it ("confirm the order number before any refund" guards
"refunding the wrong order").

**Why it matters.** The generation prompt turns each failure mode into a
guard from the anchors that guard it. A failure mode without one is
documented but never acted on: the generator is told the failure exists,
not what to do instead.

**Bad**
```ftprep
failure false_reassurance "False reassurance" { ... }
# no anchor says `guards false_reassurance`
```

**Good**
```ftprep
never { promise "Promise that things will turn out fine" guards false_reassurance }
```
"#,
};

impl Rule for UnguardedFailure {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let spec = cx.spec;
        for (f, failure) in spec.failures.iter().enumerate() {
            if spec
                .anchors
                .iter()
                .any(|a| a.guards.iter().any(|(g, _)| *g == f))
            {
                continue;
            }
            out.push(
                cx.finding(&META, format!("no anchor guards failure mode `{}`", failure.id.name))
                    .at(failure.id.span, "unguarded")
                    .help(format!(
                        "add `guards {}` to the NEVER anchor that forbids it, or to the ALWAYS anchor that counters it",
                        failure.id.name
                    )),
            );
        }
    }
}
