use super::*;

pub struct DuplicateAnchors;

static META: RuleMeta = RuleMeta {
    code: "FT402",
    name: "duplicate-anchors",
    group: Group::Orthogonality,
    level: Level::Warning,
    summary: "Two ALWAYS (or two NEVER) anchors that say the same thing",
    explanation: r#"# FT402 duplicate-anchors

**What it does.** Reports two anchors of the same kind whose content words
overlap as much as similar questions do (see FT401; the same `similarity`
setting applies). Anchors linked through similar pairs are reported as one
group.

**Why it matters.** The method asks for anchors that each check something
distinct: "validate feelings" and "show empathy" are one behaviour written
twice. Duplicates make the generation prompt longer without making it
clearer, and invite two questions that double-count one behaviour.

**Bad**
```ftprep
always {
  name_emotion "Name the emotion the user expresses"
  label_feeling "Name the user's emotion in the reply"
}
```

**Good**
```ftprep
always {
  name_emotion "Name the emotion the user expresses"
  reflect_detail "Reflect one specific detail the user shared"
}
```
"#,
};

impl Rule for DuplicateAnchors {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        use crate::syntax::ast::Polarity;
        for polarity in [Polarity::Always, Polarity::Never] {
            let indices: Vec<usize> = (0..cx.spec.anchors.len())
                .filter(|&i| cx.spec.anchors[i].polarity == polarity)
                .collect();
            let anchors: Vec<&crate::model::Anchor> =
                indices.iter().map(|&i| &cx.spec.anchors[i]).collect();
            let sets: Vec<Vec<String>> = indices
                .iter()
                .map(|&i| cx.anchor_stems[i].clone())
                .collect();
            for cluster in crate::lint::similarity::similar_clusters(&sets, cx.bounds.similarity) {
                let pair = &cluster.closest;
                let (a, b) = (anchors[pair.first], anchors[pair.second]);
                let message = if cluster.members.len() == 2 {
                    format!(
                        "anchors `{}` and `{}` say much the same (similarity {:.2})",
                        a.reference(),
                        b.reference(),
                        pair.similarity
                    )
                } else {
                    let names: Vec<String> = cluster
                        .members
                        .iter()
                        .map(|&i| format!("`{}`", anchors[i].reference()))
                        .collect();
                    format!(
                        "{} anchors say much the same: {} (closest: `{}` and `{}`, similarity {:.2})",
                        names.len(),
                        member_list(&names),
                        a.reference(),
                        b.reference(),
                        pair.similarity
                    )
                };
                out.push(
                    cx.finding(&META, message)
                        .at(b.text.span, "this anchor")
                        .also(a.text.span, "reads much like this one")
                        .help("keep one, or reword each around the behaviour only it asks for"),
                );
            }
        }
    }
}
