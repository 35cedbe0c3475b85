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
the `lint` block) are reported together. An index of the words keeps this
fast on large rubrics.

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
        for pair in crate::lint::similarity::similar_pairs(&cx.question_stems, cx.bounds.similarity)
        {
            let (a, b) = (&questions[pair.first], &questions[pair.second]);
            out.push(
                cx.finding(
                    &META,
                    format!(
                        "questions `{}` and `{}` look alike (similarity {:.2})",
                        a.id.name, b.id.name, pair.similarity
                    ),
                )
                .at(b.text.span, "this question")
                .also(a.text.span, "reads much like this one")
                .help(format!(
                    "could a response pass `{}` but fail `{}`? If not, merge them; if so, reword each around the behaviour only it checks",
                    a.id.name, b.id.name
                )),
            );
        }
    }
}
