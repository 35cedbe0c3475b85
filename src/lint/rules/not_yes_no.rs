use super::*;

pub struct NotYesNo;

static META: RuleMeta = RuleMeta {
    code: "FT201",
    name: "not-yes-no",
    group: Group::Wording,
    level: Level::Warning,
    summary: "A question that is not one yes/no question ending in \"?\"",
    explanation: r#"# FT201 not-yes-no

**What it does.** Reports a question that is not a single yes/no question:
one that does not end with `?`, that opens with a question word rather
than an auxiliary (`How ...?`, `What ...?`), that asks a second question
(`... ? If yes, why?`), or that offers a choice (`Is the fix in the
client, or in the server?`). A conditional lead-in is fine: `If the user
mentions X, does the response ...?` is one yes/no question.

**Why it matters.** Binary questions are what make an LLM judge reliable;
the judge's output schema only accepts true or false. A question a judge
cannot answer with YES or NO gets answered inconsistently.

**Bad**
```ftprep
US1 "How helpful is the suggestion the response offers?"
US2 "Does the response offer a suggestion? If yes, is it concrete?"
```

**Good**
```ftprep
US1 "Does the response offer one concrete next step the user can take today?"
```
"#,
};

impl Rule for NotYesNo {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for (qi, question) in cx.spec.rubric.questions.iter().enumerate() {
            let shape = &cx.questions[qi];
            let id = &question.id.name;
            let trimmed = question.text.value.trim_end();
            let ends_with_question = trimmed
                .trim_end_matches(['"', '\'', ')', '”', '’'])
                .ends_with('?');
            let problem: Option<(String, Span, &str)> = if !ends_with_question {
                Some((
                    format!("question `{id}` does not end with `?`"),
                    question.text.span,
                    "write it as a question the judge answers yes or no: `Does the response ...?`",
                ))
            } else if shape.masked.matches('?').count() > 1 {
                Some((
                    format!("question `{id}` asks more than one question"),
                    question.text.span,
                    "keep one yes/no question; make a follow-up its own question, or drop it",
                ))
            } else if shape.auxiliary.is_none() {
                let first = shape.clause_start.min(shape.words.len().saturating_sub(1));
                let span = if shape.words.is_empty() {
                    question.text.span
                } else {
                    cx.question_words_span(qi, first, first)
                };
                let opener = shape
                    .words
                    .get(first)
                    .map(|w| w.lower.as_str())
                    .unwrap_or("");
                Some((
                    format!("question `{id}` is not a yes/no question: it opens with `{opener}`"),
                    span,
                    "open the question with does, is, has, can ... so that YES and NO are the only answers",
                ))
            } else if either_or(shape) {
                Some((
                    format!("question `{id}` asks the judge to choose between alternatives"),
                    question.text.span,
                    "ask about one alternative (`Is the fix in the client?`), or list acceptable alternatives without a comma before `or`",
                ))
            } else {
                None
            };
            if let Some((message, span, help)) = problem {
                out.push(
                    cx.finding(&META, message)
                        .at(span, "not a single yes/no question")
                        .help(help),
                );
            }
        }
    }
}

/// "Is the fix in the client, or in the server?": a comma, then "or",
/// in a main clause with no other comma (a list such as "a, b, or c" has
/// more) and no "such as" before it.
fn either_or(shape: &crate::lint::text::QuestionShape) -> bool {
    let Some(start) = shape.words.get(shape.clause_start) else {
        return false;
    };
    let clause = &shape.masked[start.start..];
    let Some(at) = clause.find(", or ") else {
        return false;
    };
    let before = &clause[..at];
    !before.contains(',') && !before.contains("such as") && !before.contains("e.g")
}
