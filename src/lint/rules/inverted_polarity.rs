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
failure mode and asks whether that bad behaviour is present: it is not
phrased for absence, and it restates the anchor (or the failure mode's
title). "Does the response use minimising phrases?" checking
`never.at_least` is the typical case. Restating means all of these:

- the question's main verb is the anchor's first verb;
- every content word of the anchor is in the question (quoted phrases
  and asides left out), so a question that changes what is forbidden
  ("Tell the tenant a deadline can wait" checked by "Does the response
  tell the tenant plainly that the deadline is urgent?") is the
  replacement, not the harm;
- a negation is on both sides or on neither: "Change the account without
  verifying the customer" is restated by "Does it change the account
  without verifying the customer?", while "Does it tell the customer the
  damage is not their fault?" asks for the opposite of "Tell the customer
  the damage is their fault";
- the question adds no "only" the anchor lacks ("start a refund only
  after the customer confirms" is the replacement), and at most two
  content words of its own ("ever", one more item in a list).

The rule fails the build, so it reports only what it can be sure of: an
inverted question that describes the harm in other words than the
anchor's is not caught.

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
        use crate::lint::text::{content_stems, mask, words};
        use crate::model::CheckTarget;
        use crate::syntax::ast::Polarity;
        let spec = cx.spec;
        let stem = |w: &str| content_stems(w, cx.words).pop().unwrap_or_default();
        for (qi, question) in spec.rubric.questions.iter().enumerate() {
            let shape = &cx.questions[qi];
            if shape.is_absence(cx.words) {
                continue;
            }
            let Some(main) = shape.main_verb else {
                continue;
            };
            let question_verb = stem(&shape.words[main].lower);
            // The main clause, after any conditional lead-in ("If the user
            // asks for X, does ..."). Quoted phrases and asides say what the
            // response must (not) contain, not how the question is built:
            // they are left out on both sides.
            let clause = &shape.words[shape.clause_start..];
            let clause_text = clause.first().map_or("", |w| &shape.masked[w.start..]);
            let question_stems = content_stems(clause_text, cx.words);
            let question_negated = has_negation(clause);
            for (target, span) in &question.checks {
                // A NEVER anchor names the bad behaviour as its first verb phrase;
                // a failure mode names it in its title.
                let text = match target {
                    CheckTarget::Anchor(a) if spec.anchors[*a].polarity == Polarity::Never => {
                        spec.anchors[*a].text.value.as_str()
                    }
                    CheckTarget::Failure(f) => spec.failures[*f].title.value.as_str(),
                    _ => continue,
                };
                let masked = mask(text);
                let target_words = words(&masked);
                let Some(first) = target_words
                    .iter()
                    .find(|w| !matches!(w.lower.as_str(), "always" | "never" | "do"))
                else {
                    continue;
                };
                // The question asks for the very act the anchor forbids: the
                // same main verb ...
                if stem(&first.lower) != question_verb {
                    continue;
                }
                // ... with the anchor's negation when it has one ("Change the
                // account without verifying the customer" asked as "Does it
                // change the account without verifying ...?"), and none of
                // its own otherwise. A negation on one side only is the
                // replacement: "Does it change the account only after
                // verifying ...?", "Does it tell the tenant the date cannot
                // wait?".
                if has_negation(&target_words) != question_negated {
                    continue;
                }
                // ... and the whole of what the anchor forbids. A question
                // that leaves out part of it asks for something else: "Tell
                // the tenant a deadline can wait" is not restated by "Does
                // it tell the tenant plainly that the deadline is urgent?".
                let target_stems = content_stems(&masked, cx.words);
                if target_stems.len() < 2
                    || !target_stems.iter().all(|s| question_stems.contains(s))
                {
                    continue;
                }
                // A restriction the anchor does not have makes the act the
                // replacement: "Does it start a refund only after the
                // customer confirms the order?" for "Start a refund before
                // the customer confirms the order".
                let restricted =
                    |ws: &[crate::lint::text::Word]| ws.iter().any(|w| w.lower == "only");
                if restricted(clause) && !restricted(&target_words) {
                    continue;
                }
                // A word or two of its own ("ever", "or hint", one more item
                // in a list) still restate the anchor; a question that adds
                // more describes a different behaviour.
                let added = question_stems
                    .iter()
                    .filter(|s| !target_stems.contains(s))
                    .count();
                if added > 2 {
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
                    .help(if question.group == crate::model::GroupRef::Gate {
                        "phrase it so that YES is desired: `Does the response avoid ...?`"
                    } else {
                        "phrase it so that YES is desired: ask for the behaviour that replaces it (a quality question asks for a presence), or move it to the gate as `Does the response avoid ...?`"
                    }),
                );
                break;
            }
        }
    }
}

/// Whether words (of a masked text) negate: "not", "no", "never",
/// "without", "instead", "cannot", "don't" ...
fn has_negation(words: &[crate::lint::text::Word]) -> bool {
    const NEGATIONS: &[&str] = &[
        "not", "no", "never", "without", "nor", "instead", "unless", "cannot",
    ];
    words
        .iter()
        .any(|w| NEGATIONS.contains(&w.lower.as_str()) || w.lower.ends_with("n't"))
}

#[cfg(test)]
mod tests {
    use crate::compile::compile;
    use crate::source::SourceFile;

    const QUIET: &str = include_str!("../../../tests/fixtures/lint/FT207/quiet.ftprep");

    /// Whether FT207 reports `AK3` once the quiet fixture gets the NEVER
    /// anchor `never.probe` and `AK3` checks it with `question`.
    fn reports(anchor: &str, question: &str) -> bool {
        let never = "never {\n";
        let ak3 = QUIET.find("    AK3 \"").expect("AK3");
        let end = ak3 + QUIET[ak3..].find('\n').unwrap();
        let mut text = QUIET.to_string();
        text.replace_range(
            ak3..end,
            &format!("    AK3 \"{question}\" checks never.probe"),
        );
        let at = text.find(never).expect("a never block") + never.len();
        text.insert_str(at, &format!("  probe \"{anchor}\"\n"));
        let c = compile(SourceFile::new("t.ftprep", text));
        let errors: Vec<&str> = c
            .diagnostics
            .iter()
            .filter(|d| d.lint_code.is_none())
            .map(|d| d.message.as_str())
            .collect();
        assert!(errors.is_empty(), "the variant must compile: {errors:?}");
        c.diagnostics
            .iter()
            .any(|d| d.lint_code == Some("FT207") && d.message.contains("`AK3`"))
    }

    const FAULT: &str = "Tell the customer that the damage is their fault";

    #[test]
    fn a_restated_anchor_is_reported() {
        assert!(reports(
            FAULT,
            "Does the response tell the customer that the damage is their fault?"
        ));
        // A word or two of its own still restate it.
        assert!(reports(
            FAULT,
            "Does the response ever tell the customer that the damage is their fault?"
        ));
        assert!(reports(
            "Recommend a specific medication or dose",
            "Does the response recommend a specific medication, dose or supplement?"
        ));
    }

    #[test]
    fn a_negation_the_anchor_lacks_asks_for_the_replacement() {
        assert!(!reports(
            FAULT,
            "Does the response tell the customer that the damage is not their fault?"
        ));
        assert!(!reports(
            "Tell the customer a damaged item can wait",
            "Does the response tell the customer a damaged item cannot wait?"
        ));
    }

    #[test]
    fn a_restriction_the_anchor_lacks_asks_for_the_replacement() {
        let anchor = "Start a refund before the customer confirms the order";
        assert!(reports(
            anchor,
            "Does the response start a refund before the customer confirms the order?"
        ));
        assert!(!reports(
            anchor,
            "Does the response start a refund only after the customer confirms the order?"
        ));
    }

    #[test]
    fn a_question_that_adds_a_behaviour_of_its_own_is_not_reported() {
        assert!(!reports(
            "Use internal terms such as RMA or SKU",
            "Does the response use internal terms such as RMA or SKU together with a plain-words explanation of each?"
        ));
    }
}
