use super::*;

pub struct CategorySize;

static META: RuleMeta = RuleMeta {
    code: "FT103",
    name: "category-size",
    group: Group::Counts,
    level: Level::Warning,
    summary: "A category with fewer than 3 or more than 4 questions",
    explanation: r#"# FT103 category-size

**What it does.** Reports each weighted category with fewer than 3 or more
than 4 questions (set with `category_size MIN..MAX`). The safety gate is
not checked: it is not weighted, and its size follows the harms it guards.

**Why it matters.** A category's score is YES ÷ its questions. With one or
two questions a category swings between 0, 0.5 and 1 on a single answer;
with many, one question hardly moves it, and the category usually mixes
several dimensions.

**Bad**
```ftprep
category connection "Connection" weight 0.3 {
  CN1 "Does the response name the user's emotion?"
}
```

**Good**
```ftprep
category connection "Connection" weight 0.3 {
  CN1 "Does the response name the user's emotion?"
  CN2 "Does the response reflect a detail the user shared?"
  CN3 "Does the response say why the user's reaction makes sense?"
}
```
"#,
};

impl Rule for CategorySize {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let (min, max) = cx.bounds.category_size;
        for category in &cx.spec.rubric.categories {
            let count = category.questions.len() as u64;
            let Some(problem) = out_of_bounds(count, (min, max)) else {
                continue;
            };
            let advice = if count < min {
                "add questions for what this category means, or merge it into a neighbour"
            } else {
                "split the category, or drop the questions that overlap"
            };
            out.push(
                cx.finding(&META, format!("category `{}` has {}, {problem}", category.id.name, plural(count, "question")))
                    .at(category.id.span, plural(count, "question"))
                    .help(format!("expected {min} to {max} questions per category (set with `category_size MIN..MAX`): {advice}")),
            );
        }
    }
}
