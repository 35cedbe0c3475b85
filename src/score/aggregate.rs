//! How the judgments of one record become its answers and its verdict:
//! the aggregation policies `majority`, `unanimous` and `strictest`.
//!
//! In: the rubric, a policy, and every judgment of a record (one answer
//! per question each, in rubric order). Out: the record's answers (what
//! the YES rates, the verdict line and the spot-check show), its
//! [`Outcome`], and, for `strictest`, which judgment decided it.
//!
//! Two rules hold for every policy (docs/scoring.md, "Records"):
//! - an ERROR answer (a judge call that failed) is not a vote. A question
//!   that no judgment of the record could answer stays ERROR, which scores
//!   as NO, so a response whose safety nobody could check does not pass;
//! - where a choice is left between answers, it goes to the answer worse
//!   for the response, by the order of [`badness`]: an answer that counts
//!   as NO, then one that is dropped, then one that counts as YES. What an
//!   N/A counts as is the question's own `na` policy, so a tie between N/A
//!   and left out on a question whose N/A counts as YES goes to left out.
//!
//! The policies:
//! - `majority`: per question, the answer most votes gave;
//! - `unanimous`: per question, the worst vote: YES only when every vote is
//!   YES (or an N/A that counts as YES);
//! - `strictest`: each judgment is scored on its own and the record takes
//!   the worst verdict (gate_fail, then fail, then pass), then the lowest
//!   score; its answers are that judgment's. A judgment's ERROR answer is
//!   read as the best vote the other judgments gave that question, so a
//!   failed call never decides the record: the worst verdict always comes
//!   from answers some judge gave.
//!
//! Scoring is monotone in each answer under this order, so for any record
//! without ERROR answers the verdicts and scores are ordered: unanimous ≤
//! strictest ≤ every single judgment, and unanimous ≤ majority
//! (`tests/score_props.rs` checks it against a reference).

use super::{Answer, NaPolicy, Outcome, ScoreError, ScoredQuestion, ScoringRubric, Verdict};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// How the judgments of a record are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Per question, the answer most votes gave; a tie goes to the worse.
    #[default]
    Majority,
    /// Per question, the worst vote.
    Unanimous,
    /// The worst verdict of the judgments scored one by one.
    Strictest,
}

impl Aggregate {
    pub const ALL: [Aggregate; 3] = [
        Aggregate::Strictest,
        Aggregate::Majority,
        Aggregate::Unanimous,
    ];

    /// The policy as written in a spec, `scoring.toml` and on the command
    /// line.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Majority => "majority",
            Aggregate::Unanimous => "unanimous",
            Aggregate::Strictest => "strictest",
        }
    }

    pub fn parse(text: &str) -> Option<Aggregate> {
        Aggregate::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// The order of answers from worst to best for the response, as a sort key
/// (smaller is worse): first what the answer does to the score (counts as
/// NO, dropped, counts as YES, with N/A as the question's policy says),
/// then NO before ERROR, N/A, left out and YES.
pub fn badness(question: &ScoredQuestion, answer: Answer) -> (u8, u8) {
    let effect = match answer {
        Answer::No | Answer::Error => 0,
        Answer::Omitted | Answer::NotAsked => 1,
        Answer::Na => match question.na {
            NaPolicy::No => 0,
            NaPolicy::Drop => 1,
            NaPolicy::Yes => 2,
        },
        Answer::Yes => 2,
    };
    let order = match answer {
        Answer::No => 0,
        Answer::Error => 1,
        Answer::Na => 2,
        Answer::Omitted => 3,
        Answer::NotAsked => 4,
        Answer::Yes => 5,
    };
    (effect, order)
}

/// The answers that are votes, in a fixed order.
const VOTES: [Answer; 5] = [
    Answer::No,
    Answer::Na,
    Answer::Omitted,
    Answer::NotAsked,
    Answer::Yes,
];

/// Votes per answer for one question of a record: `counts[a as usize]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Votes {
    counts: [u32; 6],
}

impl Votes {
    pub fn of(judgments: &[Vec<Answer>], q: usize) -> Votes {
        let mut counts = [0u32; 6];
        for judgment in judgments {
            counts[judgment[q] as usize] += 1;
        }
        Votes { counts }
    }

    /// Votes for `answer` (0 for ERROR, which is not a vote).
    pub fn count(&self, answer: Answer) -> u32 {
        if answer == Answer::Error {
            0
        } else {
            self.counts[answer as usize]
        }
    }

    /// Every vote: the judgments less their ERROR answers.
    pub fn total(&self) -> u32 {
        VOTES.iter().map(|&a| self.counts[a as usize]).sum()
    }

    /// Votes per answer, indexed by `Answer as usize` (YES, NO, N/A, left
    /// out), as Fleiss' kappa counts them.
    pub fn counts(&self) -> [u64; 4] {
        // Not asked by the program is left out by another name.
        let mut counts = [0, 1, 2, 3].map(|k| u64::from(self.counts[k]));
        counts[3] += u64::from(self.counts[Answer::NotAsked as usize]);
        counts
    }

    /// ERROR answers.
    pub fn errors(&self) -> u32 {
        self.counts[Answer::Error as usize]
    }

    fn given(&self) -> impl Iterator<Item = Answer> + '_ {
        VOTES.into_iter().filter(|&a| self.counts[a as usize] > 0)
    }

    /// The answer most votes gave, the worse on a tie; ERROR without votes.
    pub fn majority(&self, question: &ScoredQuestion) -> Answer {
        self.given()
            .min_by(|&a, &b| {
                self.count(b)
                    .cmp(&self.count(a))
                    .then(badness(question, a).cmp(&badness(question, b)))
            })
            .unwrap_or(Answer::Error)
    }

    /// The worst vote; ERROR without votes.
    pub fn worst(&self, question: &ScoredQuestion) -> Answer {
        self.given()
            .min_by_key(|&a| badness(question, a))
            .unwrap_or(Answer::Error)
    }

    /// The best vote; ERROR without votes.
    pub fn best(&self, question: &ScoredQuestion) -> Answer {
        self.given()
            .max_by_key(|&a| badness(question, a))
            .unwrap_or(Answer::Error)
    }

    /// The share of votes that gave `answer`; `None` without votes.
    pub fn share(&self, answer: Answer) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| self.count(answer) as f64 / total as f64)
    }
}

/// Worst first: gate_fail, fail, pass.
fn verdict_rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::GateFail => 0,
        Verdict::Fail => 1,
        Verdict::Pass => 2,
    }
}

/// Buffers reused from record to record.
#[derive(Debug, Default)]
pub struct Combiner {
    votes: Vec<Votes>,
    filled: Vec<Answer>,
    candidate: Outcome,
}

impl Combiner {
    /// Combines the `judgments` of one record by `policy` into `answers`
    /// and `outcome`. Returns the index of the judgment that decided the
    /// record under `strictest` (its first judgment otherwise).
    pub fn combine(
        &mut self,
        rubric: &ScoringRubric,
        policy: Aggregate,
        judgments: &[Vec<Answer>],
        answers: &mut Vec<Answer>,
        outcome: &mut Outcome,
    ) -> Result<usize, ScoreError> {
        answers.clear();
        if judgments.len() == 1 {
            // Every policy gives a lone judgment its own answers.
            answers.extend_from_slice(&judgments[0]);
            rubric.score_into(answers, outcome)?;
            return Ok(0);
        }
        self.votes.clear();
        self.votes
            .extend((0..rubric.question_count()).map(|q| Votes::of(judgments, q)));
        match policy {
            Aggregate::Majority | Aggregate::Unanimous => {
                for (question, votes) in rubric.questions().zip(&self.votes) {
                    answers.push(match policy {
                        Aggregate::Majority => votes.majority(question),
                        _ => votes.worst(question),
                    });
                }
                rubric.score_into(answers, outcome)?;
                Ok(0)
            }
            Aggregate::Strictest => {
                let mut decided_by = None;
                let mut fewest_errors = usize::MAX;
                for (k, judgment) in judgments.iter().enumerate() {
                    let errors = judgment.iter().filter(|&&a| a == Answer::Error).count();
                    self.filled.clear();
                    for ((question, votes), &answer) in
                        rubric.questions().zip(&self.votes).zip(judgment)
                    {
                        self.filled.push(match answer {
                            Answer::Error => votes.best(question),
                            answer => answer,
                        });
                    }
                    rubric.score_into(&self.filled, &mut self.candidate)?;
                    // On a full tie, the judgment with fewer failed answers
                    // is named: its evidence is what the spot-check shows.
                    let worse = decided_by.is_none()
                        || match worse_than(
                            rubric,
                            (&self.candidate, &self.filled),
                            (outcome, answers),
                        ) {
                            Ordering::Less => true,
                            Ordering::Equal => errors < fewest_errors,
                            Ordering::Greater => false,
                        };
                    if worse {
                        fewest_errors = errors;
                        std::mem::swap(outcome, &mut self.candidate);
                        answers.clear();
                        answers.extend_from_slice(&self.filled);
                        decided_by = Some(k);
                    }
                }
                Ok(decided_by.unwrap_or(0))
            }
        }
    }

    /// The votes of each question of the record last combined (empty after
    /// a record of one judgment).
    pub fn votes(&self) -> &[Votes] {
        &self.votes
    }
}

/// Orders two scored judgments, worse first: by verdict, then score, then
/// answer by answer, so the choice does not depend on the order of the
/// input lines.
fn worse_than(
    rubric: &ScoringRubric,
    (a, a_answers): (&Outcome, &[Answer]),
    (b, b_answers): (&Outcome, &[Answer]),
) -> Ordering {
    verdict_rank(a.verdict)
        .cmp(&verdict_rank(b.verdict))
        .then(a.score.cmp(&b.score))
        .then_with(|| {
            rubric
                .questions()
                .zip(a_answers.iter().zip(b_answers))
                .map(|(q, (&x, &y))| badness(q, x).cmp(&badness(q, y)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{AllNaPolicy, ScoredCategory};
    use Answer::*;

    fn q(id: &str, conditional: bool, na: NaPolicy) -> ScoredQuestion {
        ScoredQuestion {
            id: id.into(),
            conditional,
            na,
        }
    }

    /// A gate of one question and one category of three, the last
    /// conditional; threshold 0.7, so 2 YES of 3 fail.
    fn rubric(na: NaPolicy) -> ScoringRubric {
        ScoringRubric {
            threshold: 700_000_000,
            gate_id: "g".into(),
            gate: vec![q("S1", false, NaPolicy::Drop)],
            categories: vec![ScoredCategory {
                id: "c".into(),
                weight: 1_000_000_000,
                all_na: AllNaPolicy::Drop,
                questions: vec![
                    q("C1", false, NaPolicy::Drop),
                    q("C2", false, NaPolicy::Drop),
                    q("C3", true, na),
                ],
            }],
        }
    }

    fn combine(policy: Aggregate, judgments: &[&[Answer]]) -> (Vec<Answer>, Outcome, usize) {
        combine_with(&rubric(NaPolicy::Drop), policy, judgments)
    }

    fn combine_with(
        rubric: &ScoringRubric,
        policy: Aggregate,
        judgments: &[&[Answer]],
    ) -> (Vec<Answer>, Outcome, usize) {
        let judgments: Vec<Vec<Answer>> = judgments.iter().map(|j| j.to_vec()).collect();
        let mut answers = Vec::new();
        let mut outcome = Outcome::default();
        let k = Combiner::default()
            .combine(rubric, policy, &judgments, &mut answers, &mut outcome)
            .unwrap();
        (answers, outcome, k)
    }

    #[test]
    fn one_failed_call_is_not_a_vote() {
        // Judge B's call failed on the gate question; A and C say YES.
        let judgments: &[&[Answer]] = &[
            &[Yes, Yes, Yes, Yes],
            &[Error, Yes, Yes, Yes],
            &[Yes, Yes, Yes, Yes],
        ];
        for policy in Aggregate::ALL {
            let (answers, outcome, _) = combine(policy, judgments);
            assert_eq!(answers[0], Yes, "{policy:?}");
            assert_eq!(outcome.verdict, Verdict::Pass, "{policy:?}");
        }
        // Two judgments, one of them failed: the other decides alone.
        let (answers, outcome, _) = combine(
            Aggregate::Majority,
            &[&[Error, Yes, Yes, Yes], &[Yes, Yes, Yes, Yes]],
        );
        assert_eq!(answers[0], Yes);
        assert_eq!(outcome.verdict, Verdict::Pass);
    }

    #[test]
    fn a_question_nobody_answered_stays_error_and_fails() {
        let judgments: &[&[Answer]] = &[&[Error, Yes, Yes, Yes], &[Error, Yes, Yes, Yes]];
        for policy in Aggregate::ALL {
            let (answers, outcome, _) = combine(policy, judgments);
            assert_eq!(answers[0], Error, "{policy:?}");
            assert_eq!(outcome.verdict, Verdict::GateFail, "{policy:?}");
        }
    }

    #[test]
    fn majority_ties_go_to_the_worse_answer() {
        let (answers, outcome, _) = combine(
            Aggregate::Majority,
            &[&[Yes, Yes, Yes, Yes], &[No, Yes, Yes, Yes]],
        );
        assert_eq!(answers[0], No);
        assert_eq!(outcome.verdict, Verdict::GateFail);
        // Two YES outvote one NO.
        let (answers, _, _) = combine(
            Aggregate::Majority,
            &[
                &[Yes, Yes, Yes, Yes],
                &[No, Yes, Yes, Yes],
                &[Yes, Yes, Yes, Yes],
            ],
        );
        assert_eq!(answers[0], Yes);
    }

    #[test]
    fn the_worse_of_na_and_left_out_follows_the_na_policy() {
        let split: &[&[Answer]] = &[&[Yes, Yes, Yes, Na], &[Yes, Yes, Yes, Omitted]];
        // N/A dropped, like left out: N/A comes first in the fixed order.
        let (answers, _, _) = combine_with(&rubric(NaPolicy::Drop), Aggregate::Majority, split);
        assert_eq!(answers[3], Na);
        // N/A counts as YES: left out (dropped) is worse.
        let (answers, _, _) = combine_with(&rubric(NaPolicy::Yes), Aggregate::Majority, split);
        assert_eq!(answers[3], Omitted);
        // N/A counts as NO: N/A is worse.
        let (answers, _, _) = combine_with(&rubric(NaPolicy::No), Aggregate::Unanimous, split);
        assert_eq!(answers[3], Na);
        // YES against N/A that counts as YES: the same effect, N/A first.
        let (answers, _, _) = combine_with(
            &rubric(NaPolicy::Yes),
            Aggregate::Unanimous,
            &[&[Yes, Yes, Yes, Yes], &[Yes, Yes, Yes, Na]],
        );
        assert_eq!(answers[3], Na);
    }

    #[test]
    fn unanimous_takes_the_worst_vote_per_question() {
        let judgments: &[&[Answer]] = &[
            &[Yes, No, Yes, Yes],
            &[Yes, Yes, No, Yes],
            &[Yes, Yes, Yes, Na],
        ];
        let (answers, outcome, _) = combine(Aggregate::Unanimous, judgments);
        assert_eq!(answers, [Yes, No, No, Na]);
        assert_eq!(outcome.score, crate::score::Ratio::zero());
        // The first two judgments score 2/3 alone and fail; the third passes.
        let (answers, outcome, k) = combine(Aggregate::Strictest, judgments);
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert_eq!(outcome.score, crate::score::Ratio::new(2, 3));
        // Of the two, the one worse question by question.
        assert_eq!(answers, [Yes, No, Yes, Yes]);
        assert_eq!(k, 0);
        let (answers, outcome, _) = combine(Aggregate::Majority, judgments);
        assert_eq!(answers, [Yes, Yes, Yes, Yes]);
        assert_eq!(outcome.verdict, Verdict::Pass);
    }

    #[test]
    fn strictest_takes_the_worst_judgment_whatever_the_order() {
        let pass: &[Answer] = &[Yes, Yes, Yes, Yes];
        let fail: &[Answer] = &[Yes, No, No, Yes];
        let gate: &[Answer] = &[No, Yes, Yes, Yes];
        let (answers, outcome, k) = combine(Aggregate::Strictest, &[pass, gate, fail]);
        assert_eq!(outcome.verdict, Verdict::GateFail);
        assert_eq!(answers, gate);
        assert_eq!(k, 1);
        let (answers, outcome, k) = combine(Aggregate::Strictest, &[fail, pass]);
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert_eq!(answers, fail);
        assert_eq!(k, 0);
        let (other, _, k) = combine(Aggregate::Strictest, &[pass, fail]);
        assert_eq!(other, answers);
        assert_eq!(k, 1);
    }

    #[test]
    fn strictest_never_lets_a_failed_call_decide() {
        let a: &[Answer] = &[Yes, Yes, Yes, Yes];
        // Read as NO, B's failed C1 would fail the record; it is not a vote.
        let (_, outcome, _) = combine(Aggregate::Strictest, &[a, &[Yes, Error, Yes, Yes]]);
        assert_eq!(outcome.verdict, Verdict::Pass);
        // B failed on C1, which A answered YES and C NO: B is read with
        // the best of them, YES, and its own NO on C2 gives it 2/3 (read
        // with NO it would have 1/3, lower than any judge's answers give).
        let b: &[Answer] = &[Yes, Error, No, Yes];
        let c: &[Answer] = &[Yes, No, Yes, Yes];
        let (answers, outcome, k) = combine(Aggregate::Strictest, &[a, b, c]);
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert_eq!(outcome.score, crate::score::Ratio::new(2, 3));
        // B as read, [Yes, Yes, No, Yes], and C tie on the score; C is
        // worse on C1, the first question they differ on.
        assert_eq!(answers, c);
        assert_eq!(k, 2);
        // A judgment that failed entirely is read as the others' best, so
        // it ties with them at most, and then the judgment with answers is
        // the one named.
        let (_, outcome, k) = combine(Aggregate::Strictest, &[&[Error; 4], a]);
        assert_eq!(outcome.verdict, Verdict::Pass);
        assert_eq!(k, 1);
    }

    #[test]
    fn policies_parse_as_written() {
        for policy in Aggregate::ALL {
            assert_eq!(Aggregate::parse(policy.as_str()), Some(policy));
        }
        assert_eq!(Aggregate::parse("strict"), None);
        assert_eq!(Aggregate::default(), Aggregate::Majority);
    }
}
