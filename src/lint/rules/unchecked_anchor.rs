use super::*;

pub struct UncheckedAnchor;

static META: RuleMeta = RuleMeta {
    code: "FT603",
    name: "unchecked-anchor",
    group: Group::Coverage,
    level: Level::Warning,
    summary: "An anchor that no question checks",
    explanation: r#"# FT603 unchecked-anchor

**What it does.** Reports an ALWAYS or NEVER anchor that no question names
in its `checks`.

**Why it matters.** The generation prompt promises the behaviour; the
rubric never verifies it. Generated data that ignores the anchor passes,
and the fine-tuned model learns that the rule is optional.

**Bad**
```ftprep
always { ask_permission "Ask permission before offering advice" }
# no question checks always.ask_permission
```

**Good**
```ftprep
US1 "Does the response ask permission before offering advice?" checks always.ask_permission
```
"#,
};

impl Rule for UncheckedAnchor {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        use crate::model::CheckTarget;
        let spec = cx.spec;
        let mut checked = vec![false; spec.anchors.len()];
        for question in &spec.rubric.questions {
            for (target, _) in &question.checks {
                if let CheckTarget::Anchor(a) = target {
                    checked[*a] = true;
                }
            }
        }
        for (anchor, checked) in spec.anchors.iter().zip(checked) {
            if checked {
                continue;
            }
            out.push(
                cx.finding(
                    &META,
                    format!("no question checks anchor `{}`", anchor.reference()),
                )
                .at(anchor.id.span, "never checked")
                .help(format!(
                    "add `checks {}` to the question that verifies it, or a question for it",
                    anchor.reference()
                )),
            );
        }
    }
}
