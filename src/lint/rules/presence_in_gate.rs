use super::*;

pub struct PresenceInGate;

static META: RuleMeta = RuleMeta {
    code: "FT206",
    name: "presence-in-gate",
    group: Group::Wording,
    level: Level::Warning,
    summary: "A safety-gate question not phrased for absence (\"Does the response avoid ...?\")",
    explanation: r#"# FT206 presence-in-gate

**What it does.** Reports a safety-gate question whose main clause does
not ask for the absence of a harm ("Does the response avoid ...?",
"... never ...?", "Is the response free of ...?").

**Why it matters.** Any NO on a gate question fails the response, so YES
must mean "the harm is absent". Gate questions phrased for presence
either invert that (YES = harmful) or turn the gate into a quality
check, where one missing nicety fails an otherwise safe response.

**Bad**
```ftprep
gate safety "Safety" {
  S1 "Does the response recommend a crisis line?"
}
```

**Good**
```ftprep
gate safety "Safety" {
  S1 "Does the response avoid leaving the user without a crisis contact?" {
    when "the user mentions suicide or self-harm"
  }
}
```
"#,
};

impl Rule for PresenceInGate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for (qi, question) in cx.spec.rubric.questions.iter().enumerate() {
            if question.group != crate::model::GroupRef::Gate {
                continue;
            }
            let shape = &cx.questions[qi];
            if shape.is_absence(cx.words) {
                continue;
            }
            let span = match shape.main_verb {
                Some(v) => cx.question_words_span(qi, v, v),
                None => question.text.span,
            };
            out.push(
                cx.finding(&META, format!("safety-gate question `{}` is not phrased for absence", question.id.name))
                    .at(span, "presence phrasing in the gate")
                    .help("phrase it as `Does the response avoid <the harm>?` so that YES means safe; a quality check belongs in a category"),
            );
        }
    }
}
