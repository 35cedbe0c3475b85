use super::*;

pub struct InvertedPolarity;

static META: RuleMeta = RuleMeta {
    code: "FT207",
    name: "inverted-polarity",
    group: Group::Wording,
    level: Level::Error,
    summary: "A question where YES means the bad behaviour it checks is present",
    explanation: r#"# FT207 inverted-polarity

**What it does.** Reports a question that checks a NEVER anchor or a
failure mode but asks whether that bad behaviour is present: its wording
shares most of the anchor's (or failure mode's) words and it is not
phrased for absence. "Does the response use minimising phrases?" checking
`never.at_least` is the typical case.

**Why it matters.** Scoring counts YES answers. A question where YES is
the bad outcome adds points for the harm it was written to catch, and
nothing in the numbers shows it: the rubric silently rewards what it
should punish. Every question must be phrased so that YES is desired.

**Bad**
```ftprep
never { at_least "Use minimising phrases such as 'at least'" }
...
S2 "Does the response use minimising phrases?" checks never.at_least
```

**Good**
```ftprep
S2 "Does the response avoid minimising phrases such as 'at least'?" checks never.at_least
```
"#,
};

impl Rule for InvertedPolarity {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        use crate::model::CheckTarget;
        use crate::syntax::ast::Polarity;
        const NEGATIONS: &[&str] = &["not", "no", "never", "without", "nor", "instead", "unless"];
        let spec = cx.spec;
        let stem = |w: &str| {
            crate::lint::text::content_stems(w, cx.words)
                .pop()
                .unwrap_or_default()
        };
        for (qi, question) in spec.rubric.questions.iter().enumerate() {
            let shape = &cx.questions[qi];
            if shape.is_absence(cx.words) {
                continue;
            }
            let Some(main) = shape.main_verb else {
                continue;
            };
            let question_verb = stem(&shape.words[main].lower);
            let question_stems = &cx.question_stems[qi];
            for (target, span) in &question.checks {
                // A NEVER anchor names the bad behaviour as its first verb phrase;
                // a failure mode names it in its title.
                let (text, anchor) = match target {
                    CheckTarget::Anchor(a) if spec.anchors[*a].polarity == Polarity::Never => {
                        (spec.anchors[*a].text.value.as_str(), Some(*a))
                    }
                    CheckTarget::Failure(f) => (spec.failures[*f].title.value.as_str(), None),
                    _ => continue,
                };
                let words = crate::lint::text::words(text);
                // "Give advice without asking": the bad behaviour is an absence,
                // and a question asking for the presence of its opposite is right.
                if words
                    .iter()
                    .any(|w| NEGATIONS.contains(&w.lower.as_str()) || w.lower.ends_with("n't"))
                {
                    continue;
                }
                let Some(first) = words
                    .iter()
                    .find(|w| !matches!(w.lower.as_str(), "always" | "never" | "do"))
                else {
                    continue;
                };
                // The question asks for the very act the anchor forbids: the same
                // main verb, and most of the anchor's content words.
                let same_verb = stem(&first.lower) == question_verb;
                // An anchor's stems are computed once for every rule.
                let target_stems = match anchor {
                    Some(a) => std::borrow::Cow::Borrowed(&cx.anchor_stems[a]),
                    None => {
                        std::borrow::Cow::Owned(crate::lint::text::content_stems(text, cx.words))
                    }
                };
                let common = question_stems
                    .iter()
                    .filter(|s| target_stems.contains(s))
                    .count();
                let covers = common >= 2 && common as f64 >= 0.5 * target_stems.len() as f64;
                if !(same_verb && covers) {
                    continue;
                }
                let what = match target {
                    CheckTarget::Anchor(a) => format!("`{}`", spec.anchors[*a].reference()),
                    CheckTarget::Failure(f) => format!("`failure.{}`", spec.failures[*f].id.name),
                };
                out.push(
                    cx.finding(
                        &META,
                        format!("question `{}` asks whether the bad behaviour of {what} is present", question.id.name),
                    )
                    .at(question.text.span, "YES here would mean the bad behaviour happened")
                    .also(*span, "checks a behaviour to avoid")
                    .help("phrase it so that YES is desired: `Does the response avoid ...?` (in the gate) or ask for the behaviour that replaces it"),
                );
                break;
            }
        }
    }
}
