//! Statistics over scored records, accumulated in one pass: memory grows
//! with the number of questions (pair counts are per pair of questions),
//! never with the number of records.
//!
//! Means and rates are `f64`; the scores they summarise are exact, and the
//! statistics only describe them.

use super::aggregate::Votes;
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
    /// Fleiss' kappa below this is weak agreement between judgments
    /// (0.41 starts "moderate" on Landis and Koch's scale).
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
    /// Not asked by the program (`min_turns`).
    pub not_asked: u64,
}

impl QuestionCounts {
    fn add(&mut self, answer: Answer) {
        match answer {
            Answer::Yes => self.yes += 1,
            Answer::No => self.no += 1,
            Answer::Na => self.na += 1,
            Answer::Omitted => self.omitted += 1,
            Answer::Error => self.error += 1,
            Answer::NotAsked => self.not_asked += 1,
        }
    }

    /// YES ÷ (YES + NO); `None` before any YES or NO.
    pub fn yes_rate(&self) -> Option<f64> {
        let answered = self.yes + self.no;
        (answered > 0).then(|| self.yes as f64 / answered as f64)
    }
}

/// Agreement of the judgments of records on one question: the records
/// with at least two votes (ERROR answers are not votes), the share of
/// them split, and Fleiss' kappa.
///
/// Fleiss' kappa with nᵢ votes on record i, nᵢⱼ of them for answer j:
/// Pᵢ = Σⱼ nᵢⱼ(nᵢⱼ − 1) / (nᵢ(nᵢ − 1)), the share of ordered pairs of
/// votes that agree; P̄ the mean of Pᵢ; pⱼ = Σᵢ nᵢⱼ / Σᵢ nᵢ; Pₑ = Σⱼ pⱼ²;
/// κ = (P̄ − Pₑ) / (1 − Pₑ). With the same number of votes on every
/// record it is Fleiss' (1971) statistic; with different numbers (a
/// failed call, a judge that sampled more) it is the usual generalisation
/// that weighs every record alike.
#[derive(Debug, Clone, Default)]
pub struct Agreement {
    /// Records with at least two votes on the question.
    pub items: u64,
    /// Of those, records whose votes were not all the same.
    pub split: u64,
    /// Σ share of the votes that gave the most common answer.
    pub majority_share: f64,
    /// Σ Pᵢ, and the votes per answer (`Answer as usize`), for kappa.
    sum_p: f64,
    ratings: [u64; 5],
}

impl Agreement {
    /// Adds one record's votes on the question: `counts[j]` votes for
    /// answer j (at most five answers). A record with fewer than two votes
    /// says nothing about agreement and is not added.
    pub fn add_counts(&mut self, counts: &[u64]) {
        let n: u64 = counts.iter().sum();
        if n < 2 {
            return;
        }
        self.items += 1;
        let largest = counts.iter().copied().max().unwrap_or(0);
        if largest < n {
            self.split += 1;
        }
        self.majority_share += largest as f64 / n as f64;
        let agreeing: u64 = counts.iter().map(|&c| c * c.saturating_sub(1)).sum();
        self.sum_p += agreeing as f64 / (n * (n - 1)) as f64;
        for (total, &c) in self.ratings.iter_mut().zip(counts) {
            *total += c;
        }
    }

    /// The mean share of votes that gave a record's most common answer.
    pub fn mean_agreement(&self) -> Option<f64> {
        (self.items > 0).then(|| self.majority_share / self.items as f64)
    }

    /// The share of records whose votes were split.
    pub fn disagreement(&self) -> Option<f64> {
        (self.items > 0).then(|| self.split as f64 / self.items as f64)
    }

    /// Fleiss' kappa over the records with two votes or more. When every
    /// vote gave one answer, chance agreement is 1 and the formula is 0/0;
    /// the agreement is then perfect and kappa is 1.
    pub fn kappa(&self) -> Option<f64> {
        if self.items == 0 {
            return None;
        }
        let total: u64 = self.ratings.iter().sum();
        let p_bar = self.sum_p / self.items as f64;
        let p_e: f64 = self
            .ratings
            .iter()
            .map(|&n| (n as f64 / total as f64).powi(2))
            .sum();
        if (1.0 - p_e).abs() < 1e-12 {
            return Some(1.0);
        }
        Some((p_bar - p_e) / (1.0 - p_e))
    }
}

/// The judgments of one judge, each scored on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JudgeCounts {
    pub judgments: u64,
    /// Judgments that pass when scored alone (an ERROR counting as NO).
    pub passed: u64,
    /// ERROR answers.
    pub errors: u64,
}

/// The most error classes counted apart; the rest are counted as
/// [`OTHER_CLASSES`]. A class is a word such as `timeout`: a judging tool
/// that writes whole messages there would otherwise grow the summary
/// without bound.
pub const MAX_ERROR_CLASSES: usize = 20;
pub const OTHER_CLASSES: &str = "other";
/// ERROR answers whose line gives no class.
pub const UNCLASSIFIED: &str = "unclassified";
/// The most characters of an error class kept.
const CLASS_CHARS: usize = 40;

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
    /// Records with a question whose combined answer is ERROR: no
    /// judgment could answer it.
    pub unanswered_records: u64,
    /// For each pair i < j: records where both are YES/NO, as
    /// [yes-yes, yes-no, no-yes, no-no]. Up to date after [`Stats::finish`].
    pairs: Vec<[u64; 4]>,
    pub agreement: Vec<Agreement>,
    /// Per judge named in the lines, its judgments scored alone.
    pub judges: BTreeMap<String, JudgeCounts>,
    /// ERROR answers by the class their line gives (`unclassified` when
    /// it gives none).
    pub error_classes: BTreeMap<String, u64>,
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
            unanswered_records: 0,
            pairs: vec![[0; 4]; q * q.saturating_sub(1) / 2],
            agreement: vec![Agreement::default(); q],
            judges: BTreeMap::new(),
            error_classes: BTreeMap::new(),
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

    /// Adds one judgment line of a judge, scored on its own, and counts
    /// its ERROR answers by class (`classes` holds the class of those that
    /// give one).
    pub fn add_judgment(
        &mut self,
        judge: Option<&str>,
        answers: &[Answer],
        alone: Option<&Outcome>,
        classes: &[String],
    ) {
        let errors = answers.iter().filter(|a| **a == Answer::Error).count() as u64;
        self.judge_errors += errors;
        if errors > 0 {
            for class in classes {
                self.count_error_class(class);
            }
            let unclassified = errors.saturating_sub(classes.len() as u64);
            if unclassified > 0 {
                *self.error_classes.entry(UNCLASSIFIED.into()).or_default() += unclassified;
            }
        }
        if let Some(judge) = judge {
            let counts = match self.judges.get_mut(judge) {
                Some(counts) => counts,
                None => self.judges.entry(judge.to_string()).or_default(),
            };
            counts.judgments += 1;
            counts.errors += errors;
            if alone.is_some_and(|o| o.verdict == Verdict::Pass) {
                counts.passed += 1;
            }
        }
    }

    fn count_error_class(&mut self, class: &str) {
        let class = match class.char_indices().nth(CLASS_CHARS) {
            Some((end, _)) => &class[..end],
            None => class,
        };
        let class = class.trim();
        let class = if class.is_empty() {
            UNCLASSIFIED
        } else {
            class
        };
        if let Some(n) = self.error_classes.get_mut(class) {
            *n += 1;
            return;
        }
        let named = self
            .error_classes
            .keys()
            .filter(|k| *k != UNCLASSIFIED && *k != OTHER_CLASSES)
            .count();
        let key = if named < MAX_ERROR_CLASSES || class == UNCLASSIFIED {
            class
        } else {
            OTHER_CLASSES
        };
        *self.error_classes.entry(key.to_string()).or_default() += 1;
    }

    /// Adds one record: its combined answers, its outcome, and, when it
    /// was judged more than once, the votes on each question.
    pub fn add_record(&mut self, answers: &[Answer], outcome: &Outcome, votes: &[Votes]) {
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
        if answers.contains(&Answer::Error) {
            self.unanswered_records += 1;
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
        if !votes.is_empty() {
            self.repeated_records += 1;
            for (agreement, votes) in self.agreement.iter_mut().zip(votes) {
                agreement.add_counts(&votes.counts());
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

    /// The worked example of Fleiss' kappa on Wikipedia ("Fleiss' kappa",
    /// Worked example): 10 subjects, 14 raters, 5 categories, with
    /// P̄ = 0.378, Pₑ = 0.213 and κ = 0.210.
    #[test]
    fn kappa_of_the_published_worked_example() {
        let table: [[u64; 5]; 10] = [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ];
        let mut a = Agreement::default();
        for row in &table {
            a.add_counts(row);
        }
        assert_eq!(a.items, 10);
        assert_eq!(a.split, 9);
        assert!((a.sum_p / 10.0 - 0.378_022).abs() < 1e-6);
        let kappa = a.kappa().unwrap();
        assert!((kappa - 0.209_931).abs() < 1e-6, "{kappa}");
        assert_eq!(format!("{kappa:.3}"), "0.210");
    }

    #[test]
    fn kappa_of_perfect_systematic_and_no_agreement() {
        // Unanimous on every record, with different answers: perfect.
        let mut a = Agreement::default();
        a.add_counts(&[3, 0, 0, 0]);
        a.add_counts(&[0, 3, 0, 0]);
        assert_eq!(a.kappa(), Some(1.0));
        assert_eq!(a.disagreement(), Some(0.0));
        // One answer throughout: chance agreement is 1, kappa 1 by
        // convention (the agreement is perfect).
        let mut a = Agreement::default();
        a.add_counts(&[2, 0, 0, 0]);
        assert_eq!(a.kappa(), Some(1.0));
        // Two raters who always disagree on a balanced question: P̄ = 0,
        // Pₑ = 1/2, kappa −1.
        let mut a = Agreement::default();
        a.add_counts(&[1, 1, 0, 0]);
        a.add_counts(&[1, 1, 0, 0]);
        assert!((a.kappa().unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(a.disagreement(), Some(1.0));
        assert_eq!(a.mean_agreement(), Some(0.5));
        // A record with one vote (the other call failed) is not an item.
        let mut a = Agreement::default();
        a.add_counts(&[1, 0, 0, 0]);
        assert_eq!((a.items, a.kappa()), (0, None));
    }

    #[test]
    fn error_classes_are_counted_and_bounded() {
        let rubric = ScoringRubric {
            threshold: 700_000_000,
            gate_id: "g".into(),
            gate: vec![],
            categories: vec![],
        };
        let mut stats = Stats::new(&rubric);
        let errors = [Answer::Error, Answer::Error, Answer::Yes];
        stats.add_judgment(Some("j"), &errors, None, &["timeout".into()]);
        stats.add_judgment(None, &errors, None, &["timeout".into(), " ".into()]);
        assert_eq!(stats.judge_errors, 4);
        assert_eq!(stats.error_classes.get("timeout"), Some(&2));
        assert_eq!(stats.error_classes.get(UNCLASSIFIED), Some(&2));
        assert_eq!(
            stats.judges["j"],
            JudgeCounts {
                judgments: 1,
                passed: 0,
                errors: 2
            }
        );
        for k in 0..50 {
            stats.add_judgment(
                None,
                &[Answer::Error],
                None,
                &[format!("class {k} {}", "x".repeat(100))],
            );
        }
        assert_eq!(stats.error_classes.len(), MAX_ERROR_CLASSES + 2);
        assert_eq!(
            stats.error_classes.get(OTHER_CLASSES),
            Some(&(50 - MAX_ERROR_CLASSES as u64 + 1))
        );
        assert!(
            stats
                .error_classes
                .keys()
                .all(|k| k.chars().count() <= CLASS_CHARS)
        );
    }
}
