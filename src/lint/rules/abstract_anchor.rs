use super::*;

pub struct AbstractAnchor;

static META: RuleMeta = RuleMeta {
    code: "FT301",
    name: "abstract-anchor",
    group: Group::Anchors,
    level: Level::Warning,
    summary: "An anchor that names an abstract quality (\"Be empathetic\") instead of a behaviour",
    explanation: r#"# FT301 abstract-anchor

**What it does.** Reports an ALWAYS or NEVER anchor that asks for a quality
rather than an observable behaviour: "Be empathetic", "Show care",
"Demonstrate understanding", "Be professional". The qualities are listed
in `src/lint/words/abstract.txt`.

**Why it matters.** "Be empathetic" is not actionable: the generator
cannot follow it consistently and the judge cannot check it. The method's
phase 2 turns each quality into the behaviour that shows it, which both
prompts can use.

**Bad**
```ftprep
always { empathy "Be empathetic towards the user" }
```

**Good**
```ftprep
always { name_emotion "Name the emotion the user expresses before any suggestion" }
```
"#,
};

impl Rule for AbstractAnchor {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for anchor in &cx.spec.anchors {
            let masked = crate::lint::text::mask(&anchor.text.value);
            let words = crate::lint::text::words(&masked);
            let start = first_word(&words);
            let Some(verb) = words.get(start) else {
                continue;
            };
            if !cx.words.abstract_verbs.contains(&verb.lower) {
                continue;
            }
            let quality = words
                .iter()
                .enumerate()
                .skip(start + 1)
                .take(4)
                .find(|(_, w)| cx.words.abstract_qualities.contains(&w.lower));
            let Some((q, quality)) = quality else {
                continue;
            };
            out.push(
                cx.finding(
                    &META,
                    format!("anchor `{}` names a quality, `{}`, not a behaviour", anchor.reference(), quality.lower),
                )
                .at(cx.text_words_span(&anchor.text, &words, start, q), "not observable")
                .help("write the behaviour a judge could see in the text, starting with a verb: not `Be empathetic` but `Name the emotion the user expresses`"),
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
