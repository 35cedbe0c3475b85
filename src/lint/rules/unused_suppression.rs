use super::*;

pub struct UnusedSuppression;

pub static META: RuleMeta = RuleMeta {
    code: "FT001",
    name: "unused-suppression",
    group: Group::Suppressions,
    level: Level::Warning,
    summary: "An `allow` that suppresses nothing",
    explanation: r#"# FT001 unused-suppression

**What it does.** Reports an `allow CODE "reason"` that suppressed no
finding of its rule inside the item it is written in.

**Why it matters.** A suppression outlives the problem it was written for:
once the question is reworded, the `allow` silently switches the rule off
for whatever is written there next. Removing stale suppressions keeps the
rules working.

**Bad**
```ftprep
CN1 "Does the response name the user's emotion?" {
  allow FT203 "the two parts are one behaviour"   # nothing compound is left
}
```

**Good**
```ftprep
CN1 "Does the response name the user's emotion?"
```
"#,
};

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    /// Unused suppressions are found by the engine, which knows which
    /// suppressions matched a finding.
    fn check(&self, _cx: &Context<'_>, _out: &mut Vec<Diagnostic>) {}
}

pub fn finding(cx: &Context<'_>, rule: &RuleMeta, at: Span) -> Diagnostic {
    cx.finding(
        &META,
        format!("this `allow {}` suppresses nothing", rule.code),
    )
    .at(at, format!("no {} finding here", rule.name))
    .help("remove the suppression: the problem it was written for is gone")
}
