use super::*;

pub struct IndistinctCalibration;

static META: RuleMeta = RuleMeta {
    code: "FT404",
    name: "indistinct-calibration",
    group: Group::Orthogonality,
    level: Level::Warning,
    summary: "Two questions answered alike in every calibration example",
    explanation: r#"# FT404 indistinct-calibration

**What it does.** With three or more calibration examples, reports
questions whose answers are identical in every example.

**Why it matters.** The method's test of orthogonality is "could a
response pass Q1 but fail Q2?". The calibration examples are where the
spec shows it: if no example separates two questions, either they check
the same thing, or the examples do not demonstrate that the rubric can
tell them apart, and the judge has nothing to calibrate against.

**Bad**: CN1 and CN2 are YES in the strong example and NO in the other
two.

**Good**: a fourth example, where the response names the emotion (CN1 YES)
but does not reflect the user's situation (CN2 NO), or one question
merged into the other.
"#,
};

impl Rule for IndistinctCalibration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        use std::collections::BTreeMap;
        let spec = cx.spec;
        if spec.calibration.len() < 3 {
            return;
        }
        let n = spec.rubric.questions.len();
        let mut vectors: Vec<Vec<Option<crate::model::AnswerValue>>> = vec![Vec::new(); n];
        for example in &spec.calibration {
            let mut row = vec![None; n];
            for answer in &example.answers {
                row[answer.question] = Some(answer.value);
            }
            for (q, value) in row.into_iter().enumerate() {
                vectors[q].push(value);
            }
        }
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (q, v) in vectors.iter().enumerate() {
            groups.entry(format!("{v:?}")).or_default().push(q);
        }
        let mut groups: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
        groups.sort();
        for group in groups {
            let ids: Vec<String> = group
                .iter()
                .map(|&q| format!("`{}`", spec.rubric.questions[q].id.name))
                .collect();
            let (first, second) = (
                &spec.rubric.questions[group[0]],
                &spec.rubric.questions[group[1]],
            );
            let mut finding = cx
                .finding(
                    &META,
                    format!(
                        "questions {} get the same answer in every calibration example",
                        and_list(&ids)
                    ),
                )
                .at(second.id.span, "answered like the first");
            for &q in group.iter().filter(|&&q| q != group[1]) {
                finding = finding.also(spec.rubric.questions[q].id.span, "");
            }
            out.push(finding.help(format!(
                "add a calibration example where `{}` is YES and `{}` is NO, or merge the questions if no response could separate them",
                first.id.name, second.id.name
            )));
        }
    }
}
