use super::*;

pub struct VagueWording;

/// Words that introduce the standard a vague word is measured against.
const STANDARD_MARKERS: &[&str] = &[
    "according",
    "correct",
    "correctly",
    "defined",
    "per",
    "following",
];

static META: RuleMeta = RuleMeta {
    code: "FT204",
    name: "vague-wording",
    group: Group::Wording,
    level: Level::Warning,
    summary: "A question with a vague or subjective word (\"appropriate\", \"good\", \"sometimes\")",
    explanation: r#"# FT204 vague-wording

**What it does.** Reports vague quantifiers and subjective judgements in
a question: "appropriate", "good", "adequate", "properly", "sometimes",
"when necessary", "too long" (the list is `src/lint/words/vague.txt`).
Words inside a quoted phrase and fixed terms ("a good-faith estimate")
are not counted.

**Why it matters.** Whether a response is "appropriate" is a matter of
taste, so two judges, or one judge on two days, answer differently. The
method asks for questions whose answer is observable: name what makes the
response appropriate.

**Bad**
```ftprep
US2 "Does the response give appropriate advice when necessary?"
```

**Good**
```ftprep
US2 "Does the response offer one next step the user can take today?" {
  when "the user asks what to do"
}
```
"#,
};

impl Rule for VagueWording {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for (qi, question) in cx.spec.rubric.questions.iter().enumerate() {
            let words = &cx.questions[qi].words;
            let excepted: Vec<(usize, usize)> = cx
                .words
                .vague_exceptions
                .iter()
                .flat_map(|p| {
                    let len = p.split_whitespace().count();
                    crate::lint::text::find_phrase(words, p)
                        .into_iter()
                        .map(move |i| (i, i + len - 1))
                })
                .collect();
            let mut hit: Option<(usize, usize, &str)> = None;
            for phrase in &cx.words.vague {
                let len = phrase.split_whitespace().count();
                for i in crate::lint::text::find_phrase(words, phrase) {
                    let j = i + len - 1;
                    if excepted.iter().any(|&(a, b)| a <= i && j <= b) {
                        continue;
                    }
                    // "properly punctuated according to standard
                    // conventions": the question names its standard.
                    let names_standard = words[j + 1..]
                        .iter()
                        .take(6)
                        .any(|w| STANDARD_MARKERS.contains(&w.lower.as_str()));
                    if names_standard {
                        continue;
                    }
                    if hit.is_none_or(|(h, _, _)| i < h) {
                        hit = Some((i, j, phrase));
                    }
                }
            }
            if let Some((i, j, phrase)) = hit {
                out.push(
                    cx.finding(&META, format!("question `{}` uses the subjective `{phrase}`", question.id.name))
                        .at(cx.question_words_span(qi, i, j), "a matter of taste")
                        .help("name the observable behaviour that makes the answer YES, or define the term with `define` in the question"),
                );
            }
        }
    }
}
