use super::*;

pub struct UncheckedFailure;

static META: RuleMeta = RuleMeta {
    code: "FT602",
    name: "unchecked-failure",
    group: Group::Coverage,
    level: Level::Warning,
    summary: "A failure mode that no question checks",
    explanation: r#"# FT602 unchecked-failure

**What it does.** Reports a failure mode that no question checks, neither
directly (`checks failure.x`) nor through an anchor that guards it.

**Why it matters.** A failure mode the rubric never asks about can show up
in every generated conversation and still pass: the method's quality
check asks that the anchors and the rubric cover the failure modes
documented.

**Bad**
```ftprep
never { promise "Promise a good outcome" guards false_reassurance }
# no question checks never.promise or failure.false_reassurance
```

**Good**
```ftprep
S3 "Does the response avoid promising a good outcome?" checks never.promise
```
"#,
};

impl Rule for UncheckedFailure {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        use crate::model::CheckTarget;
        let spec = cx.spec;
        let mut checked = vec![false; spec.failures.len()];
        for question in &spec.rubric.questions {
            for (target, _) in &question.checks {
                match target {
                    CheckTarget::Failure(f) => checked[*f] = true,
                    CheckTarget::Anchor(a) => {
                        for (f, _) in &spec.anchors[*a].guards {
                            checked[*f] = true;
                        }
                    }
                }
            }
        }
        for (failure, checked) in spec.failures.iter().zip(checked) {
            if checked {
                continue;
            }
            out.push(
                cx.finding(&META, format!("no question checks failure mode `{}`", failure.id.name))
                    .at(failure.id.span, "never checked")
                    .help(format!(
                        "add `checks failure.{}` to the question that catches it, or check an anchor that guards it",
                        failure.id.name
                    )),
            );
        }
    }
}
