use super::*;

pub struct AnchorNotVerb;

static META: RuleMeta = RuleMeta {
    code: "FT302",
    name: "anchor-not-verb",
    group: Group::Anchors,
    level: Level::Warning,
    summary: "An anchor that does not open with a verb",
    explanation: r#"# FT302 anchor-not-verb

**What it does.** Reports an ALWAYS or NEVER anchor whose first word is not
a verb (after an optional "Always", "Never" or "Do not"). The verbs are
listed in `src/lint/words/verbs.txt`; add a verb there if a correct anchor
is reported.

**Why it matters.** An anchor is a behaviour, and behaviours are verbs:
"Acknowledge the problem in the first sentence", "Use minimising phrases".
An anchor written as a noun phrase ("Empathy and validation") is a topic,
which the generator cannot follow and the judge cannot check.

**Bad**
```ftprep
always { validation "Validation of the user's feelings" }
```

**Good**
```ftprep
always { validate "Say why the user's reaction makes sense" }
```
"#,
};

impl Rule for AnchorNotVerb {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for anchor in &cx.spec.anchors {
            let masked = crate::lint::text::mask(&anchor.text.value);
            let words = crate::lint::text::words(&masked);
            let start = first_word(&words);
            let Some(word) = words.get(start) else {
                continue;
            };
            if cx.words.is_verb(&word.lower) {
                continue;
            }
            out.push(
                cx.finding(
                    &META,
                    format!("anchor `{}` does not open with a verb", anchor.reference()),
                )
                .at(cx.text_words_span(&anchor.text, &words, start, start), format!("`{}` is not a verb", word.lower))
                .help("start with the action, as in `Ask permission before offering advice`; if this word is a verb, add it to src/lint/words/verbs.txt"),
            );
        }
    }
}

/// Skips "Always", "Never", "Do not" at the start of an anchor.
fn first_word(words: &[crate::lint::text::Word]) -> usize {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        match w.lower.as_str() {
            "always" | "never" | "don't" | "do" if i + 1 < words.len() => i += 1,
            "not" if i > 0 => i += 1,
            _ => break,
        }
    }
    i
}
