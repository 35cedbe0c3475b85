//! Statistics over scored records, accumulated in one pass: memory grows
//! with the number of questions (pair counts are per pair of questions),
//! never with the number of records.
//!
//! Means and rates are `f64`; the scores they summarise are exact, and the
//! statistics only describe them.

use super::{Answer, Outcome, ScoringRubric, Verdict};
use std::collections::BTreeMap;

/// Thresholds of the findings, documented in docs/scoring.md.
pub mod thresholds {
    /// Fewest answered records before a question's YES rate is judged.
    pub const MIN_RECORDS: u64 = 30;
    /// A YES rate above this (or below 1 − this) does not discriminate.
    pub const EXTREME_RATE: f64 = 0.95;
    /// Two questions whose phi coefficient reaches this ...
    pub const REDUNDANT_PHI: f64 = 0.8;
    /// ... and whose answers agree on this share of records look redundant.
    pub const REDUNDANT_AGREEMENT: f64 = 0.9;
    /// Fleiss' kappa below this is weak agreement between judgments.
    pub const WEAK_KAPPA: f64 = 0.4;
    /// z for a 95% Wilson interval.
    pub const Z95: f64 = 1.959_963_984_540_054;
}

/// Answer counts of one question over the final (combined) records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuestionCounts {
    pub yes: u64,
    pub no: u64,
    pub na: u64,
    pub omitted: u64,
    pub error: u64,
}

impl QuestionCounts {
    fn add(&mut self, answer: Answer) {
        match answer {
            Answer::Yes => self.yes += 1,
            Answer::No => self.no += 1,
            Answer::Na => self.na += 1,
            Answer::Omitted => self.omitted += 1,
            Answer::Error => self.error += 1,
        }
    }

    /// YES ÷ (YES + NO); `None` before any YES or NO.
    pub fn yes_rate(&self) -> Option<f64> {
        let answered = self.yes + self.no;
        (answered > 0).then(|| self.yes as f64 / answered as f64)
    }
}

/// Agreement of repeated judgments on one question.
#[derive(Debug, Clone, Default)]
pub struct Agreement {
    /// Records judged more than once.
    pub items: u64,
    /// Σ share of judgments that gave the majority answer.
    pub majority_share: f64,
    /// Fleiss: Σ Pᵢ over items, and ratings per category.
    sum_p: f64,
    ratings: [u64; 5],
}

impl Agreement {
    pub fn mean_agreement(&self) -> Option<f64> {
        (self.items > 0).then(|| self.majority_share / self.items as f64)
    }

    /// Fleiss' kappa over the records judged more than once.
    pub fn kappa(&self) -> Option<f64> {
        if self.items == 0 {
            return None;
        }
        let total: u64 = self.ratings.iter().sum();
        if total == 0 {
            return None;
        }
        let p_bar = self.sum_p / self.items as f64;
        let p_e: f64 = self
            .ratings
            .iter()
            .map(|&n| (n as f64 / total as f64).powi(2))
            .sum();
        if (1.0 - p_e).abs() < 1e-12 {
            // Every judgment gave the same answer: perfect agreement.
            return Some(1.0);
        }
        Some((p_bar - p_e) / (1.0 - p_e))
    }
}

fn category_index(a: Answer) -> usize {
    match a {
        Answer::Yes => 0,
        Answer::No => 1,
        Answer::Na => 2,
        Answer::Omitted => 3,
        Answer::Error => 4,
    }
}

#[derive(Debug, Clone)]
pub struct Stats {
    pub questions: usize,
    pub lines: u64,
    pub blank_lines: u64,
    pub valid_lines: u64,
    pub rejected_lines: u64,
    pub rejected_by_kind: BTreeMap<&'static str, u64>,
    pub records: u64,
    pub judgments: u64,
    pub repeated_records: u64,
    pub passed: u64,
    pub failed: u64,
    pub gate_failed: u64,
    pub per_question: Vec<QuestionCounts>,
    /// Records failing the gate on each gate question.
    pub gate_failures: Vec<u64>,
    pub category_sum: Vec<f64>,
    pub category_count: Vec<u64>,
    pub score_sum: f64,
    /// Judge errors among all judgments (before combining).
    pub judge_errors: u64,
    /// For each pair i < j: records where both are YES/NO, as
    /// [yes-yes, yes-no, no-yes, no-no]. Up to date after [`Stats::finish`].
    pairs: Vec<[u64; 4]>,
    pub agreement: Vec<Agreement>,
    pub judges: BTreeMap<String, u64>,
    /// The last records not yet added to `pairs`, bit-sliced: bit k of
    /// `pending_answered[q]` says whether record k answered question q YES
    /// or NO, bit k of `pending_yes[q]` whether YES. Every 64 records, the
    /// pair tables take four popcounts per pair instead of 64 increments.
    pending_answered: Vec<u64>,
    pending_yes: Vec<u64>,
    pending: u32,
}

impl Stats {
    pub fn new(rubric: &ScoringRubric) -> Self {
        let q = rubric.question_count();
        Stats {
            questions: q,
            lines: 0,
            blank_lines: 0,
            valid_lines: 0,
            rejected_lines: 0,
            rejected_by_kind: BTreeMap::new(),
            records: 0,
            judgments: 0,
            repeated_records: 0,
            passed: 0,
            failed: 0,
            gate_failed: 0,
            per_question: vec![QuestionCounts::default(); q],
            gate_failures: vec![0; rubric.gate.len()],
            category_sum: vec![0.0; rubric.categories.len()],
            category_count: vec![0; rubric.categories.len()],
            score_sum: 0.0,
            judge_errors: 0,
            pairs: vec![[0; 4]; q * q.saturating_sub(1) / 2],
            agreement: vec![Agreement::default(); q],
            judges: BTreeMap::new(),
            pending_answered: vec![0; q],
            pending_yes: vec![0; q],
            pending: 0,
        }
    }

    fn pair_index(&self, i: usize, j: usize) -> usize {
        // Row-major upper triangle, i < j.
        i * (2 * self.questions - i - 1) / 2 + (j - i - 1)
    }

    /// The 2×2 table of questions `i` and `j` (i < j).
    pub fn pair(&self, i: usize, j: usize) -> [u64; 4] {
        debug_assert_eq!(self.pending, 0, "Stats::finish not called");
        self.pairs[self.pair_index(i, j)]
    }

    /// Adds the pending records to the pair tables. Called once every 64
    /// records, and once after the last.
    pub fn finish(&mut self) {
        if self.pending == 0 {
            return;
        }
        let mut k = 0;
        for i in 0..self.questions {
            let (ai, yi) = (self.pending_answered[i], self.pending_yes[i]);
            for j in i + 1..self.questions {
                let both = ai & self.pending_answered[j];
                let yj = self.pending_yes[j];
                let cell = &mut self.pairs[k];
                let yy = u64::from((both & yi & yj).count_ones());
                let yn = u64::from((both & yi & !yj).count_ones());
                let ny = u64::from((both & !yi & yj).count_ones());
                cell[0] += yy;
                cell[1] += yn;
                cell[2] += ny;
                cell[3] += u64::from(both.count_ones()) - yy - yn - ny;
                k += 1;
            }
        }
        self.pending_answered.fill(0);
        self.pending_yes.fill(0);
        self.pending = 0;
    }

    /// Adds one record: its combined answers, its outcome, and, when it
    /// was judged more than once, every judgment's answers.
    pub fn add_record(&mut self, answers: &[Answer], outcome: &Outcome, judgments: &[Vec<Answer>]) {
        self.records += 1;
        match outcome.verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::GateFail => self.gate_failed += 1,
        }
        for &g in &outcome.gate_failures {
            self.gate_failures[g] += 1;
        }
        for (c, category) in outcome.categories.iter().enumerate() {
            if category.score.is_some() {
                // yes/counted, or 1 for a full-credit category.
                self.category_sum[c] += if category.counted > 0 {
                    category.yes as f64 / category.counted as f64
                } else {
                    1.0
                };
                self.category_count[c] += 1;
            }
        }
        self.score_sum += outcome.score.to_f64();
        for (counts, &a) in self.per_question.iter_mut().zip(answers) {
            counts.add(a);
        }
        let bit = 1u64 << self.pending;
        for ((answered, yes), &a) in self
            .pending_answered
            .iter_mut()
            .zip(self.pending_yes.iter_mut())
            .zip(answers)
        {
            if matches!(a, Answer::Yes | Answer::No) {
                *answered |= bit;
            }
            if a == Answer::Yes {
                *yes |= bit;
            }
        }
        self.pending += 1;
        if self.pending == 64 {
            self.finish();
        }
        if judgments.len() > 1 {
            self.repeated_records += 1;
            let n = judgments.len() as f64;
            for q in 0..self.questions {
                let mut counts = [0u64; 5];
                for judgment in judgments {
                    counts[category_index(judgment[q])] += 1;
                }
                let agreement = &mut self.agreement[q];
                agreement.items += 1;
                agreement.majority_share += *counts.iter().max().unwrap_or(&0) as f64 / n;
                let sum_sq: f64 = counts.iter().map(|&c| (c * c) as f64).sum();
                agreement.sum_p += (sum_sq - n) / (n * (n - 1.0));
                for (total, c) in agreement.ratings.iter_mut().zip(counts) {
                    *total += c;
                }
            }
        }
    }

    pub fn pass_rate(&self) -> Option<f64> {
        (self.records > 0).then(|| self.passed as f64 / self.records as f64)
    }

    /// The 95% Wilson score interval of the pass rate.
    pub fn wilson(&self) -> Option<(f64, f64)> {
        wilson(self.passed, self.records)
    }

    /// Phi coefficient and agreement rate of questions `i` < `j`, with the
    /// number of records where both were answered YES or NO.
    pub fn phi(&self, i: usize, j: usize) -> (Option<f64>, f64, u64) {
        let [a, b, c, d] = self.pair(i, j).map(|x| x as f64);
        let n = a + b + c + d;
        if n == 0.0 {
            return (None, 0.0, 0);
        }
        let agreement = (a + d) / n;
        let denominator = ((a + b) * (c + d) * (a + c) * (b + d)).sqrt();
        let phi = (denominator > 0.0).then(|| (a * d - b * c) / denominator);
        (phi, agreement, n as u64)
    }
}

/// The 95% Wilson score interval of `successes` out of `n`.
pub fn wilson(successes: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let z = thresholds::Z95;
    let n = n as f64;
    let p = successes as f64 / n;
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// About how many records the 95% Wilson interval needs, at the observed
/// rate, to exclude `target`: the smallest n whose interval around `rate`
/// does not contain it. `None` when the rate equals the target.
pub fn records_needed(rate: f64, target: f64) -> Option<u64> {
    if (rate - target).abs() < 1e-9 {
        return None;
    }
    let excludes = |n: u64| {
        let successes = (rate * n as f64).round() as u64;
        wilson(successes, n).is_some_and(|(low, high)| target < low || target > high)
    };
    let (mut low, mut high) = (1u64, 1u64);
    while !excludes(high) {
        if high > 1 << 40 {
            return None;
        }
        low = high;
        high *= 2;
    }
    while low < high {
        let mid = low + (high - low) / 2;
        if excludes(mid) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    Some(high)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{AllNaPolicy, NaPolicy, ScoredCategory, ScoredQuestion};

    #[test]
    fn bit_sliced_pair_tables_match_plain_counting() {
        let question = |id: &str| ScoredQuestion {
            id: id.into(),
            conditional: true,
            na: NaPolicy::Drop,
        };
        let rubric = ScoringRubric {
            threshold: 700_000_000,
            gate_id: "g".into(),
            gate: vec![question("G1")],
            categories: vec![ScoredCategory {
                id: "c".into(),
                weight: 1_000_000_000,
                all_na: AllNaPolicy::Drop,
                questions: (1..=5).map(|i| question(&format!("Q{i}"))).collect(),
            }],
        };
        let q = rubric.question_count();
        let all = [
            Answer::Yes,
            Answer::No,
            Answer::Na,
            Answer::Omitted,
            Answer::Error,
        ];
        // 64 + 64 + 9 records: two full batches and a partial one.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut expected = vec![[0u64; 4]; q * (q - 1) / 2];
        let mut stats = Stats::new(&rubric);
        for _ in 0..137 {
            let answers: Vec<Answer> = (0..q)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    all[(state % 5) as usize]
                })
                .collect();
            let mut k = 0;
            for i in 0..q {
                for j in i + 1..q {
                    let cell = match (answers[i], answers[j]) {
                        (Answer::Yes, Answer::Yes) => Some(0),
                        (Answer::Yes, Answer::No) => Some(1),
                        (Answer::No, Answer::Yes) => Some(2),
                        (Answer::No, Answer::No) => Some(3),
                        _ => None,
                    };
                    if let Some(c) = cell {
                        expected[k][c] += 1;
                    }
                    k += 1;
                }
            }
            let outcome = rubric.score(&answers).unwrap();
            stats.add_record(&answers, &outcome, &[]);
        }
        stats.finish();
        let mut k = 0;
        for i in 0..q {
            for j in i + 1..q {
                assert_eq!(stats.pair(i, j), expected[k], "pair {i}, {j}");
                k += 1;
            }
        }
    }

    #[test]
    fn wilson_matches_a_known_value() {
        // 70 of 100: the textbook interval is about [0.604, 0.781].
        let (low, high) = wilson(70, 100).unwrap();
        assert!((low - 0.6042).abs() < 1e-3, "{low}");
        assert!((high - 0.7810).abs() < 1e-3, "{high}");
        assert_eq!(wilson(0, 0), None);
        // At 80% the Wilson interval leaves 70% out from about 89 records
        // (its centre leans towards 50%, so more than the normal
        // approximation's 62).
        let n = records_needed(0.8, 0.7).unwrap();
        assert!((85..=95).contains(&n), "{n}");
        assert!(records_needed(1.0, 0.7).unwrap() >= 9);
        assert_eq!(records_needed(0.7, 0.7), None);
    }

    #[test]
    fn kappa_of_perfect_and_chance_agreement() {
        let mut a = Agreement::default();
        // Two items, three judges each, unanimous but different answers.
        for counts in [[3u64, 0, 0, 0, 0], [0, 3, 0, 0, 0]] {
            a.items += 1;
            let n = 3.0;
            let sum_sq: f64 = counts.iter().map(|&c| (c * c) as f64).sum();
            a.sum_p += (sum_sq - n) / (n * (n - 1.0));
            for (t, c) in a.ratings.iter_mut().zip(counts) {
                *t += c;
            }
        }
        assert!((a.kappa().unwrap() - 1.0).abs() < 1e-12);
    }
}
