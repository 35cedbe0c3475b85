use super::*;

pub struct AbsenceOutsideGate;

static META: RuleMeta = RuleMeta {
    code: "FT205",
    name: "absence-outside-gate",
    group: Group::Wording,
    level: Level::Warning,
    summary: "A quality question phrased for absence (\"Does the response avoid ...?\")",
    explanation: r#"# FT205 absence-outside-gate

**What it does.** Reports a question outside the safety gate whose main
clause asks for the absence of something: "Does the response avoid
...?", "... not ...?", "Is the response free of ...?". A negation inside
a clause is fine: "Does the response follow up without being asked?",
"Does it use the user's words (not a canned template)?".

**Why it matters.** The method phrases quality questions for presence and
keeps absence for safety. A response that does nothing at all avoids
every bad behaviour, so absence questions reward empty responses and
cannot tell a good response from a silent one.

**Bad**
```ftprep
category connection "Connection" weight 0.3 {
  CN2 "Does the response avoid dismissing the user's feelings?"
}
```

**Good**
```ftprep
category connection "Connection" weight 0.3 {
  CN2 "Does the response say why the user's feelings make sense?"
}
```
"#,
};

impl Rule for AbsenceOutsideGate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for (qi, question) in cx.spec.rubric.questions.iter().enumerate() {
            if question.group == crate::model::GroupRef::Gate {
                continue;
            }
            let shape = &cx.questions[qi];
            if !shape.is_absence(cx.words) {
                continue;
            }
            let span = match shape.main_verb {
                Some(v) => cx.question_words_span(qi, v, v),
                None => question.text.span,
            };
            out.push(
                cx.finding(&META, format!("question `{}` asks for an absence outside the safety gate", question.id.name))
                    .at(span, "absence phrasing")
                    .help("phrase it for the behaviour a good response shows (`Does the response name ...?`); if it guards a harm, move it to the gate"),
            );
        }
    }
}
