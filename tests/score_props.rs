//! The scorer against an independent, deliberately plain reference, on
//! random rubrics and answers (proptest). The reference computes the
//! weighted score as one fraction over the product of the category sizes,
//! with no reduction and no shared code with `src/score`.

use ftprep::score::{
    AllNaPolicy, Answer, NaPolicy, ScoredCategory, ScoredQuestion, ScoringRubric, Verdict,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    rubric: ScoringRubric,
    answers: Vec<Answer>,
}

fn question(i: usize, conditional: bool, na: u8) -> ScoredQuestion {
    ScoredQuestion {
        id: format!("Q{i}"),
        conditional,
        na: [NaPolicy::Drop, NaPolicy::Yes, NaPolicy::No][na as usize % 3],
    }
}

fn case() -> impl Strategy<Value = Case> {
    // 1-3 gate questions, 1-5 categories of 1-6 questions, weights as
    // integer parts of 10⁹ that sum exactly to 10⁹.
    (
        prop::collection::vec((any::<bool>(), 0u8..3), 1..4),
        prop::collection::vec(
            (
                1u32..1000,
                any::<bool>(),
                prop::collection::vec((any::<bool>(), 0u8..3), 1..7),
            ),
            1..6,
        ),
        1i64..=1_000_000_000,
        any::<u64>(),
    )
        .prop_map(|(gate, categories, threshold, seed)| {
            let mut k = 0;
            let mut next = || {
                k += 1;
                k
            };
            let gate: Vec<ScoredQuestion> = gate
                .into_iter()
                .map(|(c, na)| question(next(), c, na))
                .collect();
            let total: u64 = categories.iter().map(|(w, _, _)| *w as u64).sum();
            let mut remaining = 1_000_000_000i64;
            let n = categories.len();
            let categories: Vec<ScoredCategory> = categories
                .into_iter()
                .enumerate()
                .map(|(i, (w, full, qs))| {
                    let weight = if i + 1 == n {
                        remaining
                    } else {
                        (w as u64 * 1_000_000_000 / total) as i64
                    };
                    remaining -= weight;
                    ScoredCategory {
                        id: format!("c{i}"),
                        weight,
                        all_na: if full {
                            AllNaPolicy::FullCredit
                        } else {
                            AllNaPolicy::Drop
                        },
                        questions: qs
                            .into_iter()
                            .map(|(c, na)| question(next(), c, na))
                            .collect(),
                    }
                })
                .collect();
            let rubric = ScoringRubric {
                threshold,
                gate_id: "gate".into(),
                gate,
                categories,
            };
            // Answers: any value for conditional questions, YES/NO/ERROR
            // for the others.
            let mut state = seed | 1;
            let answers = rubric
                .questions()
                .map(|q| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let pick = (state % 5) as usize;
                    let all = [
                        Answer::Yes,
                        Answer::No,
                        Answer::Error,
                        Answer::Na,
                        Answer::Omitted,
                    ];
                    if q.conditional {
                        all[pick]
                    } else {
                        all[pick % 3]
                    }
                })
                .collect();
            Case { rubric, answers }
        })
}

/// YES, NO or dropped, straight from the rules in docs/language.md.
fn counts(q: &ScoredQuestion, a: Answer) -> Option<bool> {
    match (a, q.na) {
        (Answer::Yes, _) => Some(true),
        (Answer::No, _) | (Answer::Error, _) => Some(false),
        (Answer::Omitted, _) => None,
        (Answer::Na, NaPolicy::Drop) => None,
        (Answer::Na, NaPolicy::Yes) => Some(true),
        (Answer::Na, NaPolicy::No) => Some(false),
    }
}

fn reference(case: &Case) -> (Verdict, u128, u128) {
    let r = &case.rubric;
    let (gate_answers, rest) = case.answers.split_at(r.gate.len());
    let gate_fails = r
        .gate
        .iter()
        .zip(gate_answers)
        .any(|(q, a)| counts(q, *a) == Some(false));
    // Each category as (weight, yes, counted), or full credit as (w, 1, 1).
    let mut parts: Vec<(u128, u128, u128)> = Vec::new();
    let mut offset = 0;
    for c in &r.categories {
        let mut yes = 0u128;
        let mut counted = 0u128;
        for (q, a) in c.questions.iter().zip(&rest[offset..]) {
            match counts(q, *a) {
                Some(true) => {
                    yes += 1;
                    counted += 1;
                }
                Some(false) => counted += 1,
                None => {}
            }
        }
        offset += c.questions.len();
        if counted > 0 {
            parts.push((c.weight as u128, yes, counted));
        } else if c.all_na == AllNaPolicy::FullCredit {
            parts.push((c.weight as u128, 1, 1));
        }
    }
    // score = Σ w·y/n ÷ Σ w = (Σ w·y·P/n) ÷ (P·Σ w), P = Π n.
    let product: u128 = parts.iter().map(|p| p.2).product();
    let numerator: u128 = parts.iter().map(|(w, y, n)| w * y * (product / n)).sum();
    let denominator: u128 = product * parts.iter().map(|p| p.0).sum::<u128>();
    let verdict = if gate_fails {
        Verdict::GateFail
    } else if denominator > 0 && numerator * 1_000_000_000 >= r.threshold as u128 * denominator {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    (verdict, numerator, denominator)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn scorer_agrees_with_the_reference(case in case()) {
        let outcome = case.rubric.score(&case.answers);
        let (verdict, numerator, denominator) = reference(&case);
        let outcome = outcome.expect("valid answers score");
        prop_assert_eq!(outcome.verdict, verdict);
        if denominator > 0 {
            // Same fraction: a/b == c/d  ⇔  a·d == c·b.
            prop_assert_eq!(
                outcome.score.numer() as u128 * denominator,
                numerator * outcome.score.denom() as u128
            );
        } else {
            prop_assert_eq!(outcome.score.numer(), 0);
        }
    }
}
