use super::*;

pub struct ContradictoryAnchors;

static META: RuleMeta = RuleMeta {
    code: "FT403",
    name: "contradictory-anchors",
    group: Group::Orthogonality,
    level: Level::Error,
    summary: "An ALWAYS and a NEVER anchor that ask for and forbid the same behaviour",
    explanation: r#"# FT403 contradictory-anchors

**What it does.** Reports an ALWAYS anchor and a NEVER anchor whose content
words nearly coincide (similarity 0.75, set with `contradiction`) while
neither negates the other: the spec asks for a behaviour and forbids it.
Complementary pairs are fine: ALWAYS "Ask permission before giving advice"
and NEVER "Give advice without asking permission" say the same rule twice
and are not reported.

**Why it matters.** The generation prompt embeds both lists verbatim; a
generator told to always and never do the same thing follows one at
random, and the questions that check them cannot both pass.

**Bad**
```ftprep
always { share_story "Share a personal story to build rapport" }
never  { personal "Share a personal story" }
```

**Good**
```ftprep
always { reflect "Reflect the user's own words back to them" }
never  { personal "Share a personal story or claim lived experience" }
```
"#,
};

impl Rule for ContradictoryAnchors {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        use crate::syntax::ast::Polarity;
        const NEGATIONS: &[&str] = &[
            "not", "no", "never", "without", "nor", "instead", "avoid", "unless",
        ];
        let anchors = &cx.spec.anchors;
        let negated = |a: &crate::model::Anchor| {
            crate::lint::text::words(&a.text.value)
                .iter()
                .any(|w| NEGATIONS.contains(&w.lower.as_str()) || w.lower.ends_with("n't"))
        };
        for pair in
            crate::lint::similarity::similar_pairs(&cx.anchor_stems, cx.bounds.contradiction)
        {
            let (a, b) = (&anchors[pair.first], &anchors[pair.second]);
            if a.polarity == b.polarity || negated(a) || negated(b) {
                continue;
            }
            let (always, never) = if a.polarity == Polarity::Always {
                (a, b)
            } else {
                (b, a)
            };
            out.push(
                cx.finding(
                    &META,
                    format!("`{}` asks for what `{}` forbids", always.reference(), never.reference()),
                )
                .at(b.text.span, "this anchor")
                .also(a.text.span, "contradicts this one")
                .help("decide which behaviour the domain wants and keep that one; if both hold in different situations, say when in each"),
            );
        }
    }
}
