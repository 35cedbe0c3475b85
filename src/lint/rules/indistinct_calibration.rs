use super::*;
use crate::model::{AnswerValue, GroupRef, Spec};

pub struct IndistinctCalibration;

static META: RuleMeta = RuleMeta {
    code: "FT404",
    name: "indistinct-calibration",
    group: Group::Orthogonality,
    level: Level::Warning,
    summary: "Two questions answered alike in every calibration example, when the examples could have told them apart",
    explanation: r#"# FT404 indistinct-calibration

**What it does.** Reports two questions that get the same answer in
every calibration example, when the examples are varied enough for that
to mean something:

- Both are quality questions, or both are safety-gate questions. A gate
  question and a quality question are never candidates for a merge, and
  with the method's three examples a gate question is YES wherever the
  gate holds, as many quality questions are.
- Their shared answers include a YES and a NO: two questions that no
  example fails (or that never apply) agree because nothing tests them.
- Agreement by chance is unlikely: if each example's answers were
  shuffled among the questions of that kind, fewer than one pair would be
  expected to agree in every example. An example where nearly every
  question is YES (a strong response) says little about any pair; one
  with a mix of answers says a lot. For gate questions only the examples
  that break the gate count, since the others hold it by declaration.

With the method's minimum of three examples (a pass, a fail, a
safety-gate fail) many pairs agree by chance and the rule stays quiet;
it speaks once the examples could have told the pair apart and did not.

**Why it matters.** The method's test of orthogonality is "could a
response pass Q1 but fail Q2?". The calibration examples are where the
spec shows it: if varied examples never separate two questions, either
they check the same thing, or the examples do not demonstrate that the
rubric can tell them apart, and the judge has nothing to calibrate
against.

**Bad**: among five varied examples, CN1 and CN2 are YES in the three
strong ones and NO in the other two.

**Good**: another example, where the response names the emotion (CN1 YES)
but does not reflect the user's situation (CN2 NO), or one question
merged into the other.
"#,
};

/// Gate questions and quality questions: pairs are only formed within a
/// kind, and chance is measured within it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Gate,
    Quality,
}

/// Each example's answers, by question index (a missing answer is `None`,
/// a value of its own).
fn answer_table(spec: &Spec) -> Vec<Vec<Option<AnswerValue>>> {
    spec.calibration
        .iter()
        .map(|example| {
            let mut row = vec![None; spec.rubric.questions.len()];
            for answer in &example.answers {
                row[answer.question] = Some(answer.value);
            }
            row
        })
        .collect()
}

/// The number of pairs of `pool` expected to agree in every example if
/// each example's answers were shuffled among the pool's questions: the
/// number of pairs times, for each example, the chance that two distinct
/// questions drawn from its answers agree.
fn chance_agreements(table: &[Vec<Option<AnswerValue>>], kind: Kind, pool: &[usize]) -> f64 {
    let n = pool.len();
    if n < 2 {
        return 0.0;
    }
    let pairs = (n * (n - 1)) as f64;
    let mut expected = pairs / 2.0;
    for row in table {
        let values = pool.iter().map(|&q| row[q]);
        // An example that holds the gate answers every gate question YES
        // or NA because its verdict says so: it cannot tell two gate
        // questions apart.
        if kind == Kind::Gate && !values.clone().any(|v| v == Some(AnswerValue::No)) {
            continue;
        }
        let mut counts: Vec<(Option<AnswerValue>, usize)> = Vec::new();
        for v in values {
            match counts.iter_mut().find(|(w, _)| *w == v) {
                Some((_, c)) => *c += 1,
                None => counts.push((v, 1)),
            }
        }
        let same: usize = counts.iter().map(|(_, c)| c * (c - 1)).sum();
        expected *= same as f64 / pairs;
    }
    expected
}

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
        let questions = &spec.rubric.questions;
        let kind_of = |q: usize| match questions[q].group {
            GroupRef::Gate => Kind::Gate,
            _ => Kind::Quality,
        };
        // Keyed by kind and the answers as text, which orders and compares.
        let mut groups: BTreeMap<(Kind, Vec<&str>), Vec<usize>> = BTreeMap::new();
        let table = answer_table(spec);
        for kind in [Kind::Gate, Kind::Quality] {
            let pool: Vec<usize> = (0..questions.len())
                .filter(|&q| kind_of(q) == kind)
                .collect();
            if chance_agreements(&table, kind, &pool) >= 1.0 {
                continue;
            }
            for &q in &pool {
                let vector: Vec<Option<AnswerValue>> = table.iter().map(|row| row[q]).collect();
                let tested = vector.contains(&Some(AnswerValue::Yes))
                    && vector.contains(&Some(AnswerValue::No));
                if tested {
                    let key = vector.iter().map(|v| v.map_or("-", AnswerValue::as_str));
                    groups.entry((kind, key.collect())).or_default().push(q);
                }
            }
        }
        let mut groups: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
        groups.sort();
        for group in groups {
            let ids: Vec<String> = group
                .iter()
                .map(|&q| format!("`{}`", questions[q].id.name))
                .collect();
            let (first, second) = (&questions[group[0]], &questions[group[1]]);
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
                finding = finding.also(questions[q].id.span, "");
            }
            out.push(finding.help(format!(
                "add a calibration example where `{}` is YES and `{}` is NO, or merge the questions if no response could separate them",
                first.id.name, second.id.name
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{Compilation, compile};
    use crate::source::SourceFile;

    /// Five examples in which `RS1` and `CL1` agree: (YES, NO, YES, YES, YES).
    const FIRES: &str = include_str!("../../../tests/fixtures/lint/FT404/fires.ftprep");

    fn compiled(text: String) -> Compilation {
        let c = compile(SourceFile::new("t.ftprep", text));
        assert!(c.clean_spec().is_some(), "the variant must compile");
        c
    }

    fn findings(c: &Compilation) -> Vec<String> {
        c.diagnostics
            .iter()
            .filter(|d| d.lint_code == Some("FT404"))
            .map(|d| d.message.clone())
            .collect()
    }

    fn pool(spec: &Spec, gate: bool) -> Vec<usize> {
        (0..spec.rubric.questions.len())
            .filter(|&q| (spec.rubric.questions[q].group == GroupRef::Gate) == gate)
            .collect()
    }

    /// Replaces the answer line of `question` in calibration example `id`.
    fn answer(text: &str, id: &str, question: &str, line: &str) -> String {
        let at = text
            .find(&format!("calibration {id} "))
            .expect("the example");
        let start = at
            + text[at..]
                .find(&format!("\n    {question} "))
                .expect("the answer")
            + 1;
        let end = start + text[start..].find('\n').unwrap();
        format!("{}{line}{}", &text[..start], &text[end..])
    }

    #[test]
    fn the_fixture_is_varied_enough_in_both_kinds() {
        let c = compiled(FIRES.to_string());
        let spec = c.clean_spec().unwrap();
        // Only the two gate_fail examples count for the gate, each with
        // answers (NO, NO, YES) or (YES, NO, NO): 3 pairs × 1/3 × 1/3.
        let gate = chance_agreements(&answer_table(spec), Kind::Gate, &pool(spec, true));
        assert!((gate - 1.0 / 3.0).abs() < 1e-9, "{gate}");
        assert!(chance_agreements(&answer_table(spec), Kind::Quality, &pool(spec, false)) < 1.0);
        assert_eq!(
            findings(&c),
            ["questions `RS1` and `CL1` get the same answer in every calibration example"]
        );
    }

    #[test]
    fn a_pair_no_example_fails_is_not_reported() {
        // RS1 and CL1 become YES in the vague example too: they still agree
        // everywhere, but no example shows either failing.
        let text = answer(FIRES, "vague", "RS1", "    RS1 yes \"x\"");
        let text = answer(&text, "vague", "CL1", "    CL1 yes \"x\"");
        let c = compiled(text);
        let spec = c.clean_spec().unwrap();
        assert!(chance_agreements(&answer_table(spec), Kind::Quality, &pool(spec, false)) < 1.0);
        assert!(findings(&c).is_empty(), "{:?}", findings(&c));
    }

    #[test]
    fn three_examples_that_agree_by_chance_are_not_reported() {
        // The method's minimum: the strong, vague and blames examples. RS1
        // and CL1 still agree (YES, NO, YES), as many pairs would by chance.
        let mut text = FIRES.to_string();
        for id in ["escalate", "leak"] {
            let at = text.find(&format!("\ncalibration {id} ")).unwrap() + 1;
            let end = at + text[at..].find("\n}\n").unwrap() + 3;
            text.replace_range(at..end, "");
        }
        let c = compiled(text);
        let spec = c.clean_spec().unwrap();
        assert_eq!(spec.calibration.len(), 3);
        assert!(chance_agreements(&answer_table(spec), Kind::Quality, &pool(spec, false)) >= 1.0);
        assert!(findings(&c).is_empty(), "{:?}", findings(&c));
    }
}
