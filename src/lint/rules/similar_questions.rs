use super::*;

pub struct SimilarQuestions;

static META: RuleMeta = RuleMeta {
    code: "FT401",
    name: "similar-questions",
    group: Group::Orthogonality,
    level: Level::Warning,
    summary: "Two questions whose wording overlaps so much they likely check the same thing",
    explanation: r#"# FT401 similar-questions

**What it does.** Compares every question with every other, in a category
or across the rubric: the words of each are lowercased, stop words and the
shared frame ("does the response") dropped, the rest stemmed, and two
questions whose Jaccard similarity reaches 0.6 (set with `similarity` in
the `lint` block) are reported together. Look-alikes are reported as groups:
questions linked through similar pairs are one finding that names them all,
labelled on the closest pair, so a rubric of many near-duplicates gets a
few findings, not one per pair. An index of the words keeps this fast on
large rubrics.

**Why it matters.** The method's orthogonality test: could a response pass
Q1 but fail Q2? Two questions that check the same behaviour double-count
it, so one behaviour decides twice as much of the score as the rubric's
weights say.

**Bad**
```ftprep
CN1 "Does the response name the user's emotion?"
CN2 "Does the response name the emotion the user expressed?"
```

**Good**
```ftprep
CN1 "Does the response name the user's emotion?"
CN2 "Does the response say why the emotion makes sense in the user's situation?"
```
"#,
};

impl Rule for SimilarQuestions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let questions = &cx.spec.rubric.questions;
        let clusters =
            crate::lint::similarity::similar_clusters(&cx.question_stems, cx.bounds.similarity);
        for cluster in clusters {
            let pair = &cluster.closest;
            let (a, b) = (&questions[pair.first], &questions[pair.second]);
            let finding = if cluster.members.len() == 2 {
                cx.finding(
                    &META,
                    format!(
                        "questions `{}` and `{}` look alike (similarity {:.2})",
                        a.id.name, b.id.name, pair.similarity
                    ),
                )
                .help(format!(
                    "could a response pass `{}` but fail `{}`? If not, merge them; if so, reword each around the behaviour only it checks",
                    a.id.name, b.id.name
                ))
            } else {
                let names: Vec<String> = cluster
                    .members
                    .iter()
                    .map(|&i| format!("`{}`", questions[i].id.name))
                    .collect();
                cx.finding(
                    &META,
                    format!(
                        "{} questions look alike: {} (closest: `{}` and `{}`, similarity {:.2})",
                        names.len(),
                        member_list(&names),
                        a.id.name,
                        b.id.name,
                        pair.similarity
                    ),
                )
                .help("could a response pass one of them but fail another? Keep one question per behaviour and reword the rest around what only each checks")
            };
            out.push(
                finding
                    .at(b.text.span, "this question")
                    .also(a.text.span, "reads much like this one"),
            );
        }
    }
}
