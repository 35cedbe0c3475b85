use super::*;

pub struct ScaledWording;

static META: RuleMeta = RuleMeta {
    code: "FT202",
    name: "scaled-wording",
    group: Group::Wording,
    level: Level::Warning,
    summary: "A question with Likert or scaled wording (\"how well\", \"rate\", \"1-5\")",
    explanation: r#"# FT202 scaled-wording

**What it does.** Reports questions that ask for a degree rather than a
yes or no: "how well", "how much", "to what extent", "rate", "on a scale",
"1-5". Words inside a quoted phrase and technical terms (the 4-7-8
breathing pattern) are not counted.

**Why it matters.** LLM judges are inconsistent on Likert scales; the
method's core principle is binary over scaled. A scaled question squeezed
into YES/NO leaves the cut-off to the judge's mood.

**Bad**
```ftprep
CN1 "How well does the response acknowledge the user's feelings?"
```

**Good**
```ftprep
CN1 "Does the response name the emotion the user expressed?"
```
"#,
};

impl Rule for ScaledWording {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for (qi, question) in cx.spec.rubric.questions.iter().enumerate() {
            let shape = &cx.questions[qi];
            let words = &shape.words;
            let mut hit: Option<(usize, usize)> = None;
            for phrase in &cx.words.scale {
                if let Some(&i) = crate::lint::text::find_phrase(words, phrase).first() {
                    let len = phrase.split_whitespace().count();
                    hit = Some((i, i + len - 1));
                    break;
                }
            }
            if hit.is_none() {
                hit = numeric_scale(words);
            }
            let Some((i, j)) = hit else {
                continue;
            };
            let found = &shape.masked[words[i].start..words[j].end];
            out.push(
                cx.finding(&META, format!("question `{}` asks for a degree: `{found}`", question.id.name))
                    .at(cx.question_words_span(qi, i, j), "scaled wording")
                    .help("ask about one observable behaviour that is present or absent; split a scale into the specific behaviours that mark its levels"),
            );
        }
    }
}

/// `1-5`, `0-10`, `1 to 5`: a scale's range. `4-7-8` is a name, not a
/// scale, and is one word to the tokenizer.
fn numeric_scale(words: &[crate::lint::text::Word]) -> Option<(usize, usize)> {
    let low = |w: &str| w == "0" || w == "1";
    let high = |w: &str| matches!(w, "3" | "4" | "5" | "7" | "10" | "100");
    for (i, w) in words.iter().enumerate() {
        let parts: Vec<&str> = w.lower.split('-').collect();
        if parts.len() == 2 && low(parts[0]) && high(parts[1]) {
            return Some((i, i));
        }
        if i + 2 < words.len()
            && low(&w.lower)
            && words[i + 1].lower == "to"
            && high(&words[i + 2].lower)
        {
            return Some((i, i + 2));
        }
    }
    None
}
