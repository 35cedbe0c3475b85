use super::*;

pub struct MissingReasoning;

static META: RuleMeta = RuleMeta {
    code: "FT606",
    name: "missing-reasoning",
    group: Group::Coverage,
    level: Level::Warning,
    summary: "A calibration answer without the reasoning behind it",
    explanation: r#"# FT606 missing-reasoning

**What it does.** Reports calibration answers given without a reason: `CN1
yes` instead of `CN1 yes "Opens with 'that sounds exhausting'."`.

**Why it matters.** The reasons are what the judge calibrates on: the
evaluation prompt shows each expected answer with its reasoning, and with
evidence-first judging the reason is the evidence the judge should have
quoted. An answer without a reason teaches the verdict, not how to reach
it.

**Bad**
```ftprep
answers { S1 yes  CN1 no }
```

**Good**
```ftprep
answers {
  S1  yes "No diagnostic label appears."
  CN1 no  "Moves straight to advice without naming the frustration."
}
```
"#,
};

impl Rule for MissingReasoning {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let spec = cx.spec;
        for example in &spec.calibration {
            let bare: Vec<&crate::model::Answer> = example
                .answers
                .iter()
                .filter(|a| a.reason.as_ref().is_none_or(|r| r.value.trim().is_empty()))
                .collect();
            let Some(first) = bare.first() else {
                continue;
            };
            let ids: Vec<String> = bare
                .iter()
                .map(|a| format!("`{}`", spec.rubric.questions[a.question].id.name))
                .collect();
            let mut finding = cx
                .finding(
                    &META,
                    format!(
                        "calibration example `{}` gives no reasoning for {}",
                        example.id.name,
                        and_list(&ids)
                    ),
                )
                .at(first.span, "no reasoning");
            for answer in bare.iter().skip(1) {
                finding = finding.also(answer.span, "");
            }
            out.push(finding.help("add the reason after each answer, quoting the words that decide it: `CN1 yes \"Opens with ...\"`"));
        }
    }
}
