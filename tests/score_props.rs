//! The scorer against an independent, deliberately plain reference, on
//! random rubrics and answers (proptest). The reference computes the
//! weighted score as one fraction over the product of the category sizes,
//! with no reduction and no shared code with `src/score`.
//!
//! The aggregation policies are checked the same way: a reference written
//! from the rules in docs/scoring.md ("Records"), by sorting and brute
//! force, against `score::aggregate`, and Fleiss' kappa against a count of
//! every ordered pair of votes.

use ftprep::score::aggregate::{Aggregate, Combiner};
use ftprep::score::stats::Agreement;
use ftprep::score::{
    AllNaPolicy, Answer, NaPolicy, Outcome, ScoredCategory, ScoredQuestion, ScoringRubric, Verdict,
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
        (Answer::Omitted | Answer::NotAsked, _) => None,
        (Answer::Na, NaPolicy::Drop) => None,
        (Answer::Na, NaPolicy::Yes) => Some(true),
        (Answer::Na, NaPolicy::No) => Some(false),
    }
}

fn reference(case: &Case) -> (Verdict, u128, u128) {
    reference_score(&case.rubric, &case.answers)
}

fn reference_score(r: &ScoringRubric, answers: &[Answer]) -> (Verdict, u128, u128) {
    let (gate_answers, rest) = answers.split_at(r.gate.len());
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

// ---------------------------------------------------------------------------
// Aggregation policies
// ---------------------------------------------------------------------------

/// A record: a rubric and several judgments of one response.
#[derive(Debug, Clone)]
struct Record {
    rubric: ScoringRubric,
    judgments: Vec<Vec<Answer>>,
}

fn record() -> impl Strategy<Value = Record> {
    (case(), 1usize..7, any::<u64>(), 0u8..4).prop_map(|(case, n, seed, error_rate)| {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let judgments = (0..n)
            .map(|_| {
                case.rubric
                    .questions()
                    .map(|q| {
                        // ERROR on about error_rate in 8 answers; few
                        // answers per question, so ties are common.
                        if next() % 8 < u64::from(error_rate) {
                            return Answer::Error;
                        }
                        let all = [Answer::Yes, Answer::No, Answer::Na, Answer::Omitted];
                        all[(next() % if q.conditional { 4 } else { 2 }) as usize]
                    })
                    .collect()
            })
            .collect();
        Record {
            rubric: case.rubric,
            judgments,
        }
    })
}

/// Worse first, as docs/scoring.md's table gives it: what the answer does
/// to the score (NO < dropped < YES, N/A as its question's policy says),
/// then NO, ERROR, N/A, left out, YES.
fn worse_key(q: &ScoredQuestion, a: Answer) -> (u8, u8) {
    let effect = match (a, q.na) {
        (Answer::No | Answer::Error, _) | (Answer::Na, NaPolicy::No) => 0,
        (Answer::Omitted | Answer::NotAsked, _) | (Answer::Na, NaPolicy::Drop) => 1,
        (Answer::Yes, _) | (Answer::Na, NaPolicy::Yes) => 2,
    };
    let order = [
        Answer::No,
        Answer::Error,
        Answer::Na,
        Answer::Omitted,
        Answer::NotAsked,
        Answer::Yes,
    ]
    .iter()
    .position(|&x| x == a)
    .unwrap() as u8;
    (effect, order)
}

fn votes(record: &Record, q: usize) -> Vec<Answer> {
    record
        .judgments
        .iter()
        .map(|j| j[q])
        .filter(|&a| a != Answer::Error)
        .collect()
}

/// Per question: the most common vote, the worse on a tie.
fn reference_majority(record: &Record) -> Vec<Answer> {
    record
        .rubric
        .questions()
        .enumerate()
        .map(|(i, q)| {
            let votes = votes(record, i);
            let mut candidates: Vec<(usize, (u8, u8), Answer)> = votes
                .iter()
                .map(|&a| {
                    (
                        votes.iter().filter(|&&b| b == a).count(),
                        worse_key(q, a),
                        a,
                    )
                })
                .collect();
            // Most votes first, then the worse answer.
            candidates.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
            candidates.first().map(|c| c.2).unwrap_or(Answer::Error)
        })
        .collect()
}

/// Per question: the worst vote (or the best, for strictest's reading of
/// an ERROR).
fn reference_extreme(record: &Record, best: bool) -> Vec<Answer> {
    record
        .rubric
        .questions()
        .enumerate()
        .map(|(i, q)| {
            let mut votes = votes(record, i);
            votes.sort_by_key(|&a| worse_key(q, a));
            let pick = if best { votes.last() } else { votes.first() };
            pick.copied().unwrap_or(Answer::Error)
        })
        .collect()
}

fn verdict_rank(v: Verdict) -> u8 {
    match v {
        Verdict::GateFail => 0,
        Verdict::Fail => 1,
        Verdict::Pass => 2,
    }
}

/// A judgment scored alone: its verdict's rank, its score as a fraction,
/// its answers' keys and its answers.
type Scored = (u8, u128, u128, Vec<(u8, u8)>, Vec<Answer>);

/// Each judgment, its ERROR answers read as the best vote, scored alone;
/// the worst by verdict, then score, then answer by answer.
fn reference_strictest(record: &Record) -> Vec<Answer> {
    let best = reference_extreme(record, true);
    let mut scored: Vec<Scored> = record
        .judgments
        .iter()
        .map(|j| {
            let filled: Vec<Answer> = j
                .iter()
                .zip(&best)
                .map(|(&a, &b)| if a == Answer::Error { b } else { a })
                .collect();
            let (verdict, numerator, denominator) = reference_score(&record.rubric, &filled);
            let keys = record
                .rubric
                .questions()
                .zip(&filled)
                .map(|(q, &a)| worse_key(q, a))
                .collect();
            (
                verdict_rank(verdict),
                numerator,
                denominator.max(1),
                keys,
                filled,
            )
        })
        .collect();
    // Fractions compared by cross-multiplying.
    scored.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then((a.1 * b.2).cmp(&(b.1 * a.2)))
            .then(a.3.cmp(&b.3))
    });
    scored.swap_remove(0).4
}

fn reference_policy(record: &Record, policy: Aggregate) -> Vec<Answer> {
    if record.judgments.len() == 1 {
        return record.judgments[0].clone();
    }
    match policy {
        Aggregate::Majority => reference_majority(record),
        Aggregate::Unanimous => reference_extreme(record, false),
        Aggregate::Strictest => reference_strictest(record),
    }
}

fn combine(record: &Record, policy: Aggregate) -> (Vec<Answer>, Outcome) {
    let mut answers = Vec::new();
    let mut outcome = Outcome::default();
    Combiner::default()
        .combine(
            &record.rubric,
            policy,
            &record.judgments,
            &mut answers,
            &mut outcome,
        )
        .expect("every policy picks answers that score");
    (answers, outcome)
}

/// (verdict, score) as a sortable pair, worse first.
fn standing(outcome: &Outcome) -> (u8, ftprep::score::Ratio) {
    (verdict_rank(outcome.verdict), outcome.score)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn policies_agree_with_the_reference(record in record()) {
        for policy in Aggregate::ALL {
            let (answers, outcome) = combine(&record, policy);
            prop_assert_eq!(&answers, &reference_policy(&record, policy), "{:?}", policy);
            let (verdict, numerator, denominator) = reference_score(&record.rubric, &answers);
            prop_assert_eq!(outcome.verdict, verdict);
            if denominator > 0 {
                prop_assert_eq!(
                    outcome.score.numer() as u128 * denominator,
                    numerator * outcome.score.denom() as u128
                );
            }
        }
    }

    /// Unanimous is never above majority or strictest, and strictest is
    /// never above a judgment without ERROR scored alone.
    #[test]
    fn policies_are_ordered(record in record()) {
        let (_, majority) = combine(&record, Aggregate::Majority);
        let (_, unanimous) = combine(&record, Aggregate::Unanimous);
        let (_, strictest) = combine(&record, Aggregate::Strictest);
        prop_assert!(standing(&unanimous) <= standing(&majority));
        prop_assert!(standing(&unanimous) <= standing(&strictest));
        for judgment in record.judgments.iter().filter(|j| !j.contains(&Answer::Error)) {
            let alone = record.rubric.score(judgment).unwrap();
            prop_assert!(standing(&strictest) <= standing(&alone));
        }
    }

    /// The order of the lines does not change a record, and a judgment
    /// whose call failed entirely changes nothing: an ERROR is not a vote.
    #[test]
    fn order_and_failed_calls_change_nothing(record in record(), rotate in 0usize..6) {
        let mut reordered = record.clone();
        reordered.judgments.reverse();
        let k = rotate % reordered.judgments.len();
        reordered.judgments.rotate_left(k);
        let mut failed = record.clone();
        failed.judgments.insert(k.min(failed.judgments.len()), vec![Answer::Error; record.rubric.question_count()]);
        for policy in Aggregate::ALL {
            let original = combine(&record, policy);
            prop_assert_eq!(&combine(&reordered, policy), &original, "{:?} reordered", policy);
            prop_assert_eq!(&combine(&failed, policy), &original, "{:?} with a failed call", policy);
        }
    }

    /// Fleiss' kappa from the counts against kappa from every ordered pair
    /// of votes on each record.
    #[test]
    fn kappa_agrees_with_counting_pairs(
        table in prop::collection::vec(prop::collection::vec(0u64..5, 4), 1..30)
    ) {
        let mut agreement = Agreement::default();
        for row in &table {
            agreement.add_counts(row);
        }
        // The records with at least two votes, each as its list of votes.
        let items: Vec<Vec<usize>> = table
            .iter()
            .map(|row| row.iter().enumerate().flat_map(|(j, &c)| std::iter::repeat_n(j, c as usize)).collect::<Vec<_>>())
            .filter(|votes| votes.len() >= 2)
            .collect();
        prop_assert_eq!(agreement.items, items.len() as u64);
        if items.is_empty() {
            prop_assert_eq!(agreement.kappa(), None);
            return Ok(());
        }
        let mut p_sum = 0.0;
        for votes in &items {
            let (mut agree, mut pairs) = (0u64, 0u64);
            for (x, a) in votes.iter().enumerate() {
                for (y, b) in votes.iter().enumerate() {
                    if x != y {
                        pairs += 1;
                        agree += u64::from(a == b);
                    }
                }
            }
            p_sum += agree as f64 / pairs as f64;
        }
        let p_bar = p_sum / items.len() as f64;
        let all: Vec<usize> = items.iter().flatten().copied().collect();
        let p_e: f64 = (0..4)
            .map(|j| (all.iter().filter(|&&v| v == j).count() as f64 / all.len() as f64).powi(2))
            .sum();
        let kappa = agreement.kappa().unwrap();
        if (1.0 - p_e).abs() < 1e-12 {
            prop_assert_eq!(kappa, 1.0);
        } else {
            prop_assert!((kappa - (p_bar - p_e) / (1.0 - p_e)).abs() < 1e-9, "{} vs {}", kappa, (p_bar - p_e) / (1.0 - p_e));
        }
        let split = items.iter().filter(|v| v.iter().any(|&x| x != v[0])).count();
        prop_assert_eq!(agreement.split, split as u64);
    }
}
