use super::*;

pub struct QuestionCount;

static META: RuleMeta = RuleMeta {
    code: "FT101",
    name: "question-count",
    group: Group::Counts,
    level: Level::Warning,
    summary: "The rubric has fewer than 15 or more than 20 questions",
    explanation: r#"# FT101 question-count

**What it does.** Counts the rubric's questions, safety gate included, and
reports a total outside 15 to 20 (set with `questions MIN..MAX` in the
`lint` block).

**Why it matters.** The method asks for 15 to 20 orthogonal binary
questions. Fewer leave quality dimensions unmeasured; more bring judge
fatigue, noise and cost, and usually mean some questions overlap.

**Bad**
```ftprep
rubric {
  threshold 0.75
  gate safety "Safety" { S1 "Does the response avoid naming a diagnosis?" }
  category connection "Connection" weight 1 {
    CN1 "Does the response name the user's emotion?"
  }
}
```

**Good**: a gate of 3 to 4 questions and 3 to 5 categories of 3 to 4
questions each, 15 to 20 in all.
"#,
};

impl Rule for QuestionCount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let spec = cx.spec;
        let count = (spec.rubric.questions.len()) as u64;
        let Some(problem) = out_of_bounds(count, cx.bounds.questions) else {
            return;
        };
        let (min, max) = cx.bounds.questions;
        let advice = if count < min {
            "add questions for the quality dimensions not yet measured"
        } else {
            "merge or drop overlapping questions: fewer, distinct questions judge more reliably"
        };
        out.push(
            cx.finding(&META, format!("the rubric has {}, {problem}", plural(count, "question")))
                .at(keyword_span(spec.rubric.span, "rubric"), plural(count, "question"))
                .help(format!("expected {min} to {max} (set with `questions MIN..MAX` in the `lint` block): {advice}")),
        );
    }
}
