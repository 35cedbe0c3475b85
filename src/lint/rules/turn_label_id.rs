use super::*;

pub struct TurnLabelId;

static META: RuleMeta = RuleMeta {
    code: "FT208",
    name: "turn-label-id",
    group: Group::Wording,
    level: Level::Warning,
    summary: "A question id that reads like a turn label (A1, U2)",
    explanation: r#"# FT208 turn-label-id

**What it does.** Reports question ids such as `A1`, `U2` or `SYS`, which
look like the labels the evaluation prompt gives conversation turns.

**Why it matters.** The judge cites evidence by turn label (`A2: "..."`).
With a question called `A1`, its output reads
`"A1": {"evidence": "A1: ..."}`, and both the judge and the people
reviewing its answers confuse the question with the turn.

**Bad**
```ftprep
category accuracy "Accuracy" weight 0.3 {
  A1 "Does the review cite the line it comments on?"
}
```

**Good**
```ftprep
category accuracy "Accuracy" weight 0.3 {
  AC1 "Does the review cite the line it comments on?"
}
```
"#,
};

impl Rule for TurnLabelId {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for question in &cx.spec.rubric.questions {
            let id = question.id.name.as_str();
            let numbered = |prefix: char| {
                id.len() > 1
                    && id.starts_with(prefix)
                    && id[1..].chars().all(|c| c.is_ascii_digit())
            };
            if numbered('A') || numbered('U') || id == "SYS" {
                out.push(
                    cx.finding(&META, format!("question id `{id}` reads like a turn label"))
                        .at(question.id.span, "turns are labelled U1, A1, ... in the judge prompt")
                        .help("rename the question with a longer prefix, such as the category's initials (`AC1`)"),
                );
            }
        }
    }
}
