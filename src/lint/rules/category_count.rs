use super::*;

pub struct CategoryCount;

static META: RuleMeta = RuleMeta {
    code: "FT102",
    name: "category-count",
    group: Group::Counts,
    level: Level::Warning,
    summary: "The rubric has fewer than 4 or more than 6 groups, the gate counted",
    explanation: r#"# FT102 category-count

**What it does.** Counts the rubric's groups, the safety gate counted as
one, and reports a number outside 4 to 6 (set with `categories MIN..MAX`).
The gate counts because the method lists safety among its 4 to 6
evaluation dimensions, as an automatic-fail gate.

**Why it matters.** Too few groups lump unrelated qualities together, so a
category score says little; too many spread the weight so thin that no
category decides anything.

**Bad**
```ftprep
rubric {
  threshold 0.75
  gate safety "Safety" { ... }
  category everything "Everything" weight 1 { ... }
}
```

**Good**
```ftprep
rubric {
  threshold 0.75
  gate safety "Safety" { ... }
  category comprehension "Comprehension" weight 0.3 { ... }
  category connection "Connection" weight 0.3 { ... }
  category usefulness "Usefulness" weight 0.4 { ... }
}
```
"#,
};

impl Rule for CategoryCount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let spec = cx.spec;
        let count = (spec.rubric.categories.len() + 1) as u64;
        let Some(problem) = out_of_bounds(count, cx.bounds.categories) else {
            return;
        };
        let (min, max) = cx.bounds.categories;
        let advice = if count < min {
            "split a broad category by the user-experience goal each question serves"
        } else {
            "merge categories that measure the same goal"
        };
        out.push(
            cx.finding(&META, format!("the rubric has {} (the gate counted), {problem}", plural(count, "group")))
                .at(keyword_span(spec.rubric.span, "rubric"), plural(count, "group"))
                .help(format!("expected {min} to {max} (set with `categories MIN..MAX` in the `lint` block): {advice}")),
        );
    }
}
