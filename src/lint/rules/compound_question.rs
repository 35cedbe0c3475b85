use super::*;

pub struct CompoundQuestion;

static META: RuleMeta = RuleMeta {
    code: "FT203",
    name: "compound-question",
    group: Group::Wording,
    level: Level::Warning,
    summary: "A question that checks two things joined by \"and\"",
    explanation: r#"# FT203 compound-question

**What it does.** Reports a question whose main clause joins two verb
phrases with "and" ("... name the emotion and offer a suggestion?"), or
opens a second clause with "and" or "or" ("... or does it ...?"), so that
it checks two behaviours at once. Lists that name one check by examples
or acceptable alternatives are fine: "a crisis resource such as a hotline
or a text line", "offers a refund or a replacement", "refund or replace
the item".

**Why it matters.** A response that does one of the two things has no
right answer: the judge picks YES or NO arbitrarily, and the rubric loses
the signal of which behaviour is missing. Each question should check one
thing.

**Bad**
```ftprep
CN1 "Does the response name the user's emotion and offer a coping skill?"
```

**Good**
```ftprep
CN1 "Does the response name the user's emotion?"
US1 "Does the response offer a coping skill?"
```
"#,
};

impl Rule for CompoundQuestion {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        const LIST_MARKERS: &[&str] = &["such", "e.g", "eg", "example", "including", "like", "i.e"];
        const SKIP: &[&str] = &[
            "also",
            "then",
            "still",
            "both",
            "either",
            "clearly",
            "explicitly",
        ];
        const DETERMINERS: &[&str] = &[
            "a", "an", "the", "their", "his", "her", "its", "this", "that", "any", "each", "every",
            "no",
        ];
        for (qi, question) in cx.spec.rubric.questions.iter().enumerate() {
            let shape = &cx.questions[qi];
            let words = &shape.words;
            let Some(main) = shape.main_verb else {
                continue;
            };
            for i in main + 1..words.len() {
                let conjunction = words[i].lower.as_str();
                if conjunction != "and" && conjunction != "or" {
                    continue;
                }
                // After "such as", "for example", ... the rest is a list of examples.
                if words[main..i]
                    .iter()
                    .any(|w| LIST_MARKERS.contains(&w.lower.as_str()))
                {
                    break;
                }
                // "refund or replace the item": alternatives of one verb share an
                // object; two checks each have their own.
                // "acknowledge and incorporate X" joins two verbs on one
                // object: two checks with "and", alternatives with "or".
                let verb_and_verb = i == main + 1 && conjunction == "and";
                if i - main < 2 && !verb_and_verb {
                    continue;
                }
                let mut k = i + 1;
                while k < words.len()
                    && (SKIP.contains(&words[k].lower.as_str()) || words[k].lower.ends_with("ly"))
                {
                    k += 1;
                }
                let Some(next) = words.get(k) else {
                    continue;
                };
                let new_clause = crate::lint::text::AUXILIARIES.contains(&next.lower.as_str())
                    && words.get(k + 1).is_some_and(|w| {
                        DETERMINERS.contains(&w.lower.as_str()) || w.lower == "it"
                    });
                // "or" between verb phrases usually lists acceptable alternatives
                // ("refund or replace the item"), so only "and" joins two checks,
                // unless "or" opens a new clause ("... or does it ...").
                let verb_phrase = conjunction == "and"
                    && cx.words.verbs.contains(&next.lower)
                    && words.get(k + 1).is_some_and(|w| !w.lower.is_empty())
                    && !DETERMINERS.contains(&words[i - 1].lower.as_str());
                if !(new_clause || verb_phrase) {
                    continue;
                }
                let first = &words[main].lower;
                out.push(
                    cx.finding(
                        &META,
                        format!(
                            "question `{}` checks two things: `{first}` {conjunction} `{}`",
                            question.id.name, next.lower
                        ),
                    )
                    .at(cx.question_words_span(qi, i, k), format!("second check joined by `{conjunction}`"))
                    .also(cx.question_words_span(qi, main, main), "first check")
                    .help("split it into two questions, one behaviour each; a response could do one and not the other"),
                );
                break;
            }
        }
    }
}
