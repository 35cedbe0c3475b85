//! The scoring semantics of a rubric, implemented once.
//!
//! The compiler uses this module to check that each calibration example
//! scores as its author declared; the `score` command will use it to score
//! judged data. Both go through [`ScoringRubric`], which is also exactly
//! what `scoring.toml` records, so a scorer needs nothing else.
//!
//! The rules:
//! - a category's score is YES / counted questions. An N/A answer follows its
//!   question's policy: dropped from the category (the default), counted as
//!   YES, or counted as NO. An answer left out for a conditional question
//!   means the question was not asked: it is dropped whatever the policy.
//!   So is a question the program did not ask ([`Answer::NotAsked`], a
//!   `min_turns` the conversation is too short for), conditional or not.
//! - a category whose every question was dropped scores full credit or is
//!   dropped from the weighted score, as the category declares (default:
//!   dropped, the remaining weights renormalised).
//! - the weighted score is Σ weight × category score / Σ weight, over the
//!   categories that were not dropped.
//! - any NO on a gate question fails the response (N/A on a gate question
//!   follows its policy; a judge error counts as NO everywhere).
//!
//! Those rules score one set of answers. How the judgments of a record
//! (several judges, several samples) become one is [`aggregate`]'s, where
//! an ERROR is not a vote: only a question that no judgment could answer
//! reaches these rules as ERROR.
//! - a response passes when the gate holds and the weighted score is at
//!   least the threshold.
//!
//! Arithmetic is exact: weights and the threshold are decimals with at most
//! nine places, held as integers of 10⁻⁹, and scores are reduced fractions
//! of `i128`, so a score that ties the threshold passes on every machine.

pub mod aggregate;
pub mod compare;
pub mod config;
pub mod html;
pub mod inference;
pub mod judgment;
pub mod keep;
mod ratio;
pub mod report;
pub mod run;
pub mod stats;
pub mod training;

pub use aggregate::Aggregate;
pub use config::ScoringFile;
pub use ratio::Ratio;

use serde::{Deserialize, Serialize};

/// 10⁹: weights and thresholds are held as integers of 10⁻⁹.
pub const SCALE: i64 = 1_000_000_000;

/// What an N/A answer counts as. (The order of the variants indexes
/// `TALLY`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NaPolicy {
    /// Dropped from its category's denominator.
    #[default]
    Drop,
    /// Counted as YES.
    Yes,
    /// Counted as NO.
    No,
}

/// What a category scores when every one of its questions was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AllNaPolicy {
    /// The category leaves the weighted score; the other weights are
    /// renormalised.
    #[default]
    Drop,
    /// The category scores 1.
    FullCredit,
}

/// One question as the scorer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoredQuestion {
    pub id: String,
    /// A conditional question may be answered N/A or left out.
    pub conditional: bool,
    pub na: NaPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoredCategory {
    pub id: String,
    /// The weight in units of 10⁻⁹.
    pub weight: i64,
    pub all_na: AllNaPolicy,
    pub questions: Vec<ScoredQuestion>,
}

/// A rubric reduced to what scoring needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringRubric {
    /// The pass threshold in units of 10⁻⁹.
    pub threshold: i64,
    pub gate_id: String,
    pub gate: Vec<ScoredQuestion>,
    pub categories: Vec<ScoredCategory>,
}

/// One answer of a judge to one question. (The order of the variants
/// indexes `TALLY`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    Na,
    /// Left out: for a conditional question, the question was not asked.
    Omitted,
    /// The judge call failed: a NO that is counted separately.
    Error,
    /// Not asked, by the program's decision (`min_turns`: the conversation
    /// is shorter than the question needs): dropped from its category
    /// whatever the question's N/A policy, and allowed for a question that
    /// is not conditional.
    NotAsked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    GateFail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::GateFail => "gate_fail",
        }
    }
}

/// A category's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryOutcome {
    pub yes: u32,
    pub counted: u32,
    /// `None` when the category was dropped from the weighted score.
    pub score: Option<Ratio>,
}

/// The result of scoring one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub gate_held: bool,
    /// Indices (into `ScoringRubric::gate`) of the gate questions that failed.
    pub gate_failures: Vec<usize>,
    pub categories: Vec<CategoryOutcome>,
    /// The weighted score in [0, 1].
    pub score: Ratio,
    pub verdict: Verdict,
}

impl Default for Outcome {
    fn default() -> Self {
        Outcome {
            gate_held: true,
            gate_failures: Vec::new(),
            categories: Vec::new(),
            score: Ratio::zero(),
            verdict: Verdict::Fail,
        }
    }
}

/// Why an answer set cannot be scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreError {
    /// The answer list does not have one answer per question.
    WrongLength { expected: usize, found: usize },
    /// N/A or left out for a question that always applies.
    NotApplicableUnconditional { question: String },
}

impl ScoringRubric {
    /// The number of questions, gate first, then each category in order:
    /// the order answers are given in.
    pub fn question_count(&self) -> usize {
        self.gate.len()
            + self
                .categories
                .iter()
                .map(|c| c.questions.len())
                .sum::<usize>()
    }

    /// Every question in answer order.
    pub fn questions(&self) -> impl Iterator<Item = &ScoredQuestion> {
        self.gate
            .iter()
            .chain(self.categories.iter().flat_map(|c| c.questions.iter()))
    }

    /// The threshold as an exact fraction.
    pub fn threshold_ratio(&self) -> Ratio {
        Ratio::new(self.threshold as i128, SCALE as i128)
    }

    /// Scores one response. `answers` holds one answer per question, in the
    /// order of [`ScoringRubric::questions`].
    pub fn score(&self, answers: &[Answer]) -> Result<Outcome, ScoreError> {
        let mut outcome = Outcome::default();
        self.score_into(answers, &mut outcome)?;
        Ok(outcome)
    }

    /// [`ScoringRubric::score`] into an existing [`Outcome`], reusing its
    /// buffers: what scoring millions of records calls.
    ///
    /// The weighted score is Σ wᶜ·yᶜ/nᶜ ÷ Σ wᶜ. With L the least common
    /// multiple of the counted nᶜ, it is the integer fraction
    /// Σ wᶜ·yᶜ·(L/nᶜ) ÷ (L·Σ wᶜ), so the threshold comparison is one exact
    /// integer comparison and the only reduction is the final one.
    pub fn score_into(&self, answers: &[Answer], out: &mut Outcome) -> Result<(), ScoreError> {
        if answers.len() != self.question_count() {
            return Err(ScoreError::WrongLength {
                expected: self.question_count(),
                found: answers.len(),
            });
        }
        // One pass over the answers: the (YES, counted) each adds comes
        // from a table, so the loop does not branch on the data.
        let mut not_applicable = false;
        let tally = |question: &ScoredQuestion, answer: Answer, bad: &mut bool| {
            *bad |= !question.conditional & matches!(answer, Answer::Na | Answer::Omitted);
            TALLY[question.na as usize][answer as usize]
        };
        let (gate_answers, rest) = answers.split_at(self.gate.len());
        out.gate_failures.clear();
        for (i, (question, answer)) in self.gate.iter().zip(gate_answers).enumerate() {
            let (yes, counted) = tally(question, *answer, &mut not_applicable);
            if counted > yes {
                out.gate_failures.push(i);
            }
        }

        out.categories.clear();
        // Counts are small: the least common multiple of the counted
        // questions per category stays in 64 bits (the compiler bounds
        // category size so it does).
        let mut lcm: u64 = 1;
        let mut offset = 0;
        for category in &self.categories {
            let slice = &rest[offset..offset + category.questions.len()];
            offset += category.questions.len();
            let (mut yes, mut counted) = (0u32, 0u32);
            for (question, answer) in category.questions.iter().zip(slice) {
                let (y, c) = tally(question, *answer, &mut not_applicable);
                yes += y;
                counted += c;
            }
            let score = if counted > 0 {
                lcm = lcm / ratio::gcd_u64(lcm, counted as u64).max(1) * counted as u64;
                Some(Ratio::new(yes as i128, counted as i128))
            } else {
                match category.all_na {
                    AllNaPolicy::FullCredit => Some(Ratio::one()),
                    AllNaPolicy::Drop => None,
                }
            };
            out.categories.push(CategoryOutcome {
                yes,
                counted,
                score,
            });
        }
        if not_applicable {
            let question = self
                .questions()
                .zip(answers)
                .find(|(q, a)| !q.conditional && matches!(a, Answer::Na | Answer::Omitted))
                .map(|(q, _)| q.id.clone())
                .unwrap_or_default();
            return Err(ScoreError::NotApplicableUnconditional { question });
        }
        let mut numerator: i128 = 0;
        let mut active_weight: i128 = 0;
        for (category, outcome) in self.categories.iter().zip(&out.categories) {
            if outcome.score.is_none() {
                continue;
            }
            let weight = category.weight as i128;
            active_weight += weight;
            numerator += if outcome.counted > 0 {
                weight * outcome.yes as i128 * (lcm / outcome.counted as u64) as i128
            } else {
                weight * lcm as i128
            };
        }
        let denominator = lcm as i128 * active_weight;
        // No category left to score (only possible for rubrics the compiler
        // rejects): nothing earned, so the response cannot pass.
        out.score = if active_weight > 0 {
            Ratio::new(numerator, denominator)
        } else {
            Ratio::zero()
        };
        out.gate_held = out.gate_failures.is_empty();
        let reaches =
            active_weight > 0 && numerator * SCALE as i128 >= self.threshold as i128 * denominator;
        out.verdict = if !out.gate_held {
            Verdict::GateFail
        } else if reaches {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        Ok(())
    }
}

/// What one answer adds to its category, as (YES, counted), indexed by
/// the question's [`NaPolicy`] and then the [`Answer`], in declaration
/// order. This table is the scoring rule for single answers: YES counts
/// as YES; NO and ERROR count as NO; a left-out answer and a question not
/// asked are dropped; N/A is dropped, or counts as YES or as NO, as the
/// question declares.
const TALLY: [[(u32, u32); 6]; 3] = [
    //  Yes     No      Na      Omitted Error   NotAsked
    [(1, 1), (0, 1), (0, 0), (0, 0), (0, 1), (0, 0)], // NaPolicy::Drop
    [(1, 1), (0, 1), (1, 1), (0, 0), (0, 1), (0, 0)], // NaPolicy::Yes
    [(1, 1), (0, 1), (0, 1), (0, 0), (0, 1), (0, 0)], // NaPolicy::No
];

/// Parses a decimal such as `0.75` into units of 10⁻⁹. `None` when it is
/// not a plain decimal, has more than nine places, or is too large.
pub fn parse_decimal(raw: &str) -> Option<i64> {
    let (whole, frac) = match raw.split_once('.') {
        Some((w, f)) => (w, f),
        None => (raw, ""),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
        || (raw.contains('.') && frac.is_empty())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let mut frac_units: i64 = 0;
    for (i, digit) in frac.bytes().enumerate() {
        frac_units += (digit - b'0') as i64 * 10i64.pow(8 - i as u32);
    }
    whole.checked_mul(SCALE)?.checked_add(frac_units)
}

/// Formats units of 10⁻⁹ as the shortest decimal: 750000000 → `0.75`.
pub fn format_decimal(units: i64) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let units = units.unsigned_abs();
    let whole = units / SCALE as u64;
    let frac = units % SCALE as u64;
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{frac:09}");
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: &str) -> ScoredQuestion {
        ScoredQuestion {
            id: id.into(),
            conditional: false,
            na: NaPolicy::Drop,
        }
    }

    fn cq(id: &str, na: NaPolicy) -> ScoredQuestion {
        ScoredQuestion {
            id: id.into(),
            conditional: true,
            na,
        }
    }

    fn rubric() -> ScoringRubric {
        ScoringRubric {
            threshold: 750_000_000,
            gate_id: "safety".into(),
            gate: vec![q("S1")],
            categories: vec![
                ScoredCategory {
                    id: "a".into(),
                    weight: 500_000_000,
                    all_na: AllNaPolicy::Drop,
                    questions: vec![q("A1"), q("A2")],
                },
                ScoredCategory {
                    id: "b".into(),
                    weight: 500_000_000,
                    all_na: AllNaPolicy::Drop,
                    questions: vec![cq("B1", NaPolicy::Drop), cq("B2", NaPolicy::No)],
                },
            ],
        }
    }

    use Answer::*;

    #[test]
    fn a_score_on_the_threshold_passes() {
        // a = 1/2, b = 1/1 (B1 dropped) → 0.75 exactly.
        let outcome = rubric().score(&[Yes, Yes, No, Na, Yes]).unwrap();
        assert_eq!(outcome.score, Ratio::new(3, 4));
        assert_eq!(outcome.verdict, Verdict::Pass);
    }

    #[test]
    fn na_policy_no_counts_against() {
        // b: B1 yes, B2 N/A counted as NO → 1/2; a = 1 → 0.75.
        let outcome = rubric().score(&[Yes, Yes, Yes, Yes, Na]).unwrap();
        assert_eq!(outcome.categories[1].score, Some(Ratio::new(1, 2)));
        assert_eq!(outcome.verdict, Verdict::Pass);
    }

    #[test]
    fn all_dropped_category_renormalises() {
        // b: both omitted → dropped; score = a = 1/2 → fail.
        let outcome = rubric().score(&[Yes, Yes, No, Omitted, Omitted]).unwrap();
        assert_eq!(outcome.categories[1].score, None);
        assert_eq!(outcome.score, Ratio::new(1, 2));
        assert_eq!(outcome.verdict, Verdict::Fail);
    }

    #[test]
    fn a_question_not_asked_is_dropped_whatever_its_policy() {
        // A1 is unconditional, B2's N/A counts as NO: not asked, both are
        // dropped; b with both not asked is dropped from the score.
        let outcome = rubric()
            .score(&[Yes, NotAsked, Yes, NotAsked, NotAsked])
            .unwrap();
        assert_eq!(outcome.categories[0].score, Some(Ratio::one()));
        assert_eq!(outcome.categories[1].score, None);
        assert_eq!(outcome.verdict, Verdict::Pass);
        let outcome = rubric().score(&[Yes, Yes, Yes, Yes, NotAsked]).unwrap();
        assert_eq!(outcome.categories[1].score, Some(Ratio::one()));
    }

    #[test]
    fn any_gate_no_fails() {
        let outcome = rubric().score(&[No, Yes, Yes, Yes, Yes]).unwrap();
        assert_eq!(outcome.verdict, Verdict::GateFail);
        assert_eq!(outcome.gate_failures, vec![0]);
        let outcome = rubric().score(&[Error, Yes, Yes, Yes, Yes]).unwrap();
        assert_eq!(outcome.verdict, Verdict::GateFail);
    }

    #[test]
    fn unconditional_questions_refuse_na() {
        let error = rubric().score(&[Yes, Na, Yes, Yes, Yes]).unwrap_err();
        assert_eq!(
            error,
            ScoreError::NotApplicableUnconditional {
                question: "A1".into()
            }
        );
        assert!(rubric().score(&[Yes]).is_err());
    }

    #[test]
    fn decimals_round_trip_exactly() {
        assert_eq!(parse_decimal("0.75"), Some(750_000_000));
        assert_eq!(parse_decimal("1"), Some(SCALE));
        assert_eq!(parse_decimal("0.123456789"), Some(123_456_789));
        assert_eq!(parse_decimal("0.1234567891"), None);
        assert_eq!(parse_decimal("1."), None);
        assert_eq!(parse_decimal(".5"), None);
        assert_eq!(format_decimal(750_000_000), "0.75");
        assert_eq!(format_decimal(SCALE), "1");
        assert_eq!(format_decimal(50_000_000), "0.05");
    }
}
