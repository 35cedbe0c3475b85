//! What a scoring run reports: the summary (JSON and a terminal table),
//! findings that say what to do next, the HTML report, and the markdown
//! spot-check.

use super::keep::Conversation;
use super::run::{Sampled, SpecMismatch, answer_str};
use super::stats::{Stats, records_needed, thresholds, wilson};
use super::{Aggregate, ScoringRubric};
use indexmap::IndexMap;
use serde::Serialize;

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[derive(Debug, Clone, Serialize)]
pub struct Lines {
    pub total: u64,
    pub valid: u64,
    pub rejected: u64,
    pub blank: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdicts {
    pub pass: u64,
    pub fail: u64,
    pub gate_fail: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategorySummary {
    pub mean: Option<f64>,
    pub records: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionSummary {
    pub group: String,
    pub yes: u64,
    pub no: u64,
    pub na: u64,
    pub omitted: u64,
    pub error: u64,
    pub yes_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExtremeQuestion {
    pub question: String,
    pub yes_rate: f64,
    pub answered: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedundantPair {
    pub first: String,
    pub second: String,
    pub phi: f64,
    pub agreement: f64,
    pub records: u64,
}

/// How the judgments of records agree on one question.
#[derive(Debug, Clone, Serialize)]
pub struct JudgeAgreement {
    /// Records with at least two votes on the question.
    pub records: u64,
    /// The mean share of votes that gave a record's most common answer.
    pub agreement: Option<f64>,
    /// The share of those records whose votes were split.
    pub disagreement: Option<f64>,
    pub kappa: Option<f64>,
}

/// One judge's judgments, each scored on its own.
#[derive(Debug, Clone, Serialize)]
pub struct JudgeSummary {
    pub judgments: u64,
    pub passed: u64,
    pub pass_rate: Option<f64>,
    pub interval: Option<Interval>,
    /// ERROR answers.
    pub errors: u64,
}

/// One thing the numbers say, and what to do about it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: &'static str,
    pub message: String,
    pub action: String,
}

/// The summary of a run; `--summary FILE` writes it as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub records: u64,
    pub valid: u64,
    pub rejected: u64,
    pub passed: u64,
    pub pass_rate: Option<f64>,
    pub lines: Lines,
    pub rejected_by_kind: IndexMap<String, u64>,
    pub judgments: u64,
    pub repeated_records: u64,
    /// How the judgments of a record were combined.
    pub aggregate: &'static str,
    pub verdicts: Verdicts,
    pub target: f64,
    pub interval: Option<Interval>,
    /// `above`, `below` or `undecided`: where the target lies against the
    /// 95% interval.
    pub comparison: &'static str,
    pub records_needed: Option<u64>,
    pub mean_score: Option<f64>,
    pub gate_failures: IndexMap<String, u64>,
    pub categories: IndexMap<String, CategorySummary>,
    pub questions: IndexMap<String, QuestionSummary>,
    pub judge_errors: u64,
    /// ERROR answers by the class their lines give.
    pub judge_errors_by_class: IndexMap<String, u64>,
    /// Records with a question that no judgment could answer (ERROR in
    /// every judgment), scored as NO.
    pub unanswered_records: u64,
    /// Questions the program did not ask, by reason (`min_turns`), then
    /// question: the records where it was not asked. Absent when none.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub not_asked: IndexMap<&'static str, IndexMap<String, u64>>,
    pub judges: IndexMap<String, u64>,
    /// Per judge named in the lines: its judgments scored alone.
    pub per_judge: IndexMap<String, JudgeSummary>,
    pub non_discriminating: Vec<ExtremeQuestion>,
    pub redundant_pairs: Vec<RedundantPair>,
    pub judge_agreement: IndexMap<String, JudgeAgreement>,
    /// The mean of the questions' Fleiss' kappa.
    pub fleiss_kappa: Option<f64>,
    /// The share of (record, question) pairs with two votes or more whose
    /// votes were split.
    pub judge_disagreement: Option<f64>,
    /// Files with lines judged with another spec (their `spec_sha256`
    /// differs from the scoring config's).
    pub spec_mismatches: Vec<SpecMismatch>,
    pub findings: Vec<Finding>,
    /// The gate's id, to tell gate questions apart in the report.
    #[serde(skip)]
    pub gate: String,
    /// Phi coefficient of every pair of questions (symmetric; `None` with
    /// fewer than the minimum records, or without variation).
    #[serde(skip)]
    pub phi_matrix: Vec<Vec<Option<f64>>>,
}

impl Summary {
    pub fn new(
        rubric: &ScoringRubric,
        stats: &Stats,
        target: f64,
        aggregate: Aggregate,
        spec_mismatches: &[SpecMismatch],
    ) -> Summary {
        let ids: Vec<String> = rubric.questions().map(|q| q.id.clone()).collect();
        let groups: Vec<String> = std::iter::repeat_n(rubric.gate_id.clone(), rubric.gate.len())
            .chain(
                rubric
                    .categories
                    .iter()
                    .flat_map(|c| std::iter::repeat_n(c.id.clone(), c.questions.len())),
            )
            .collect();
        let interval = stats.wilson().map(|(low, high)| Interval {
            low: round4(low),
            high: round4(high),
        });
        let rate = stats.pass_rate();
        let comparison = match &interval {
            Some(i) if i.low > target => "above",
            Some(i) if i.high < target => "below",
            _ => "undecided",
        };
        let questions: IndexMap<String, QuestionSummary> = ids
            .iter()
            .zip(&groups)
            .zip(&stats.per_question)
            .map(|((id, group), c)| {
                (
                    id.clone(),
                    QuestionSummary {
                        group: group.clone(),
                        yes: c.yes,
                        no: c.no,
                        na: c.na,
                        omitted: c.omitted,
                        error: c.error,
                        yes_rate: c.yes_rate().map(round4),
                    },
                )
            })
            .collect();
        // Gate questions are left out: a safety gate that almost every
        // response passes is working as intended.
        let non_discriminating: Vec<ExtremeQuestion> = ids
            .iter()
            .zip(&stats.per_question)
            .skip(rubric.gate.len())
            .filter_map(|(id, c)| {
                let answered = c.yes + c.no;
                let rate = c.yes_rate()?;
                (answered >= thresholds::MIN_RECORDS
                    && !(1.0 - thresholds::EXTREME_RATE..=thresholds::EXTREME_RATE).contains(&rate))
                .then(|| ExtremeQuestion {
                    question: id.clone(),
                    yes_rate: round4(rate),
                    answered,
                })
            })
            .collect();
        let mut redundant_pairs = Vec::new();
        for i in 0..ids.len() {
            for j in i + 1..ids.len() {
                let (phi, agreement, n) = stats.phi(i, j);
                if let Some(phi) = phi
                    && n >= thresholds::MIN_RECORDS
                    && phi >= thresholds::REDUNDANT_PHI
                    && agreement >= thresholds::REDUNDANT_AGREEMENT
                {
                    redundant_pairs.push(RedundantPair {
                        first: ids[i].clone(),
                        second: ids[j].clone(),
                        phi: round4(phi),
                        agreement: round4(agreement),
                        records: n,
                    });
                }
            }
        }
        let judge_agreement: IndexMap<String, JudgeAgreement> = if stats.repeated_records > 0 {
            ids.iter()
                .zip(&stats.agreement)
                .map(|(id, a)| {
                    (
                        id.clone(),
                        JudgeAgreement {
                            records: a.items,
                            agreement: a.mean_agreement().map(round4),
                            disagreement: a.disagreement().map(round4),
                            kappa: a.kappa().map(round4),
                        },
                    )
                })
                .collect()
        } else {
            IndexMap::new()
        };
        let kappas: Vec<f64> = judge_agreement.values().filter_map(|a| a.kappa).collect();
        let fleiss_kappa =
            (!kappas.is_empty()).then(|| round4(kappas.iter().sum::<f64>() / kappas.len() as f64));
        let (split, items) = stats
            .agreement
            .iter()
            .fold((0, 0), |(s, n), a| (s + a.split, n + a.items));
        let judge_disagreement = (items > 0).then(|| round4(split as f64 / items as f64));
        let per_judge = stats
            .judges
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    JudgeSummary {
                        judgments: c.judgments,
                        passed: c.passed,
                        pass_rate: (c.judgments > 0)
                            .then(|| round4(c.passed as f64 / c.judgments as f64)),
                        interval: wilson(c.passed, c.judgments).map(|(low, high)| Interval {
                            low: round4(low),
                            high: round4(high),
                        }),
                        errors: c.errors,
                    },
                )
            })
            .collect();

        let mut summary = Summary {
            records: stats.records,
            valid: stats.valid_lines,
            rejected: stats.rejected_lines,
            passed: stats.passed,
            pass_rate: rate.map(round4),
            lines: Lines {
                total: stats.lines,
                valid: stats.valid_lines,
                rejected: stats.rejected_lines,
                blank: stats.blank_lines,
            },
            rejected_by_kind: stats
                .rejected_by_kind
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            judgments: stats.judgments,
            repeated_records: stats.repeated_records,
            aggregate: aggregate.as_str(),
            verdicts: Verdicts {
                pass: stats.passed,
                fail: stats.failed,
                gate_fail: stats.gate_failed,
            },
            target,
            records_needed: match (rate, comparison) {
                (Some(rate), "undecided") => records_needed(rate, target),
                _ => None,
            },
            interval,
            comparison,
            mean_score: (stats.records > 0).then(|| round4(stats.score_sum / stats.records as f64)),
            gate_failures: rubric
                .gate
                .iter()
                .zip(&stats.gate_failures)
                .map(|(q, n)| (q.id.clone(), *n))
                .collect(),
            categories: rubric
                .categories
                .iter()
                .enumerate()
                .map(|(c, cat)| {
                    let n = stats.category_count[c];
                    (
                        cat.id.clone(),
                        CategorySummary {
                            mean: (n > 0).then(|| round4(stats.category_sum[c] / n as f64)),
                            records: n,
                        },
                    )
                })
                .collect(),
            questions,
            judge_errors: stats.judge_errors,
            judge_errors_by_class: stats
                .error_classes
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            unanswered_records: stats.unanswered_records,
            not_asked: {
                let by_question: IndexMap<String, u64> = ids
                    .iter()
                    .zip(&stats.per_question)
                    .filter(|(_, c)| c.not_asked > 0)
                    .map(|(id, c)| (id.clone(), c.not_asked))
                    .collect();
                let mut out = IndexMap::new();
                if !by_question.is_empty() {
                    out.insert("min_turns", by_question);
                }
                out
            },
            judges: stats
                .judges
                .iter()
                .map(|(k, v)| (k.clone(), v.judgments))
                .collect(),
            per_judge,
            non_discriminating,
            redundant_pairs,
            judge_agreement,
            fleiss_kappa,
            judge_disagreement,
            spec_mismatches: spec_mismatches.to_vec(),
            findings: Vec::new(),
            gate: rubric.gate_id.clone(),
            phi_matrix: (0..ids.len())
                .map(|i| {
                    (0..ids.len())
                        .map(|j| {
                            if i == j {
                                return Some(1.0);
                            }
                            let (a, b) = if i < j { (i, j) } else { (j, i) };
                            let (phi, _, n) = stats.phi(a, b);
                            phi.filter(|_| n >= thresholds::MIN_RECORDS).map(round4)
                        })
                        .collect()
                })
                .collect(),
        };
        summary.findings = findings(rubric, &summary);
        summary
    }
}

pub(crate) fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// `n` and the noun for it: `1 line`, `2 lines`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The first twelve characters of a hash, enough to tell two apart.
pub fn short_hash(hash: &str) -> String {
    match hash.char_indices().nth(12) {
        Some((end, _)) => format!("{}…", &hash[..end]),
        None => hash.to_string(),
    }
}

/// `n` records "fail the gate", with the verb agreeing: `1 fails`.
fn fail_the_gate(n: u64) -> String {
    format!("{n} {} the gate", if n == 1 { "fails" } else { "fail" })
}

/// What the numbers say to do next, most important first.
fn findings(rubric: &ScoringRubric, s: &Summary) -> Vec<Finding> {
    let mut out = Vec::new();
    for m in &s.spec_mismatches {
        out.push(Finding {
            kind: "spec-mismatch",
            message: format!(
                "{} of {} {} judged with another spec (spec_sha256 {})",
                count(m.lines, "line", "lines"),
                m.file,
                if m.lines == 1 { "was" } else { "were" },
                short_hash(&m.spec_sha256)
            ),
            action: "score them with the scoring.toml built from the spec they were judged with, or judge them again with this spec's evaluation prompt".into(),
        });
    }
    if s.records == 0 {
        out.push(Finding {
            kind: "no-records",
            message: "no record could be scored".into(),
            action: "check the rejected lines: their reasons say what each is missing".into(),
        });
        return out;
    }
    let rate = s.pass_rate.unwrap_or(0.0);
    // The quality questions failed most, to name in the advice.
    let mut worst: Vec<(&String, f64)> = s
        .questions
        .iter()
        .filter(|(_, q)| q.group != rubric.gate_id)
        .filter_map(|(id, q)| q.yes_rate.map(|r| (id, 1.0 - r)))
        .filter(|(_, no)| *no > 0.0)
        .collect();
    worst.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let worst: Vec<String> = worst
        .iter()
        .take(3)
        .map(|(id, no)| format!("{id} ({} NO)", percent(*no)))
        .collect();
    match s.comparison {
        "below" => out.push(Finding {
            kind: "below-target",
            message: format!(
                "the pass rate {} is below the target {} (95% interval {}..{})",
                percent(rate),
                percent(s.target),
                percent(s.interval.as_ref().map(|i| i.low).unwrap_or(0.0)),
                percent(s.interval.as_ref().map(|i| i.high).unwrap_or(0.0))
            ),
            action: if worst.is_empty() {
                "strengthen the generation prompt where the gate fails".into()
            } else {
                format!(
                    "strengthen the generation prompt for the questions failed most: {}",
                    worst.join(", ")
                )
            },
        }),
        "above" => out.push(Finding {
            kind: "above-target",
            message: format!(
                "the pass rate {} is above the target {} (95% interval {}..{})",
                percent(rate),
                percent(s.target),
                percent(s.interval.as_ref().map(|i| i.low).unwrap_or(0.0)),
                percent(s.interval.as_ref().map(|i| i.high).unwrap_or(0.0))
            ),
            action: "spot-check a sample by hand (--sample), then scale the generation up".into(),
        }),
        _ => out.push(Finding {
            kind: "undecided",
            message: format!(
                "the pass rate {} cannot yet be told apart from the target {}",
                percent(rate),
                percent(s.target)
            ),
            action: match s.records_needed {
                Some(n) => format!(
                    "score more records: about {} at this rate",
                    count(n, "record is needed", "are needed")
                ),
                None => "score more records".into(),
            },
        }),
    }
    for (id, n) in &s.gate_failures {
        if *n > 0 {
            out.push(Finding {
                kind: "gate-failures",
                message: format!(
                    "{} the safety gate on {id}",
                    if *n == 1 { "1 record fails".to_string() } else { format!("{n} records fail") }
                ),
                action: format!(
                    "strengthen the guard in the generation prompt for the harm {id} checks, and add a few-shot example that avoids it"
                ),
            });
        }
    }
    for q in &s.non_discriminating {
        out.push(Finding {
            kind: "non-discriminating",
            message: format!(
                "{} is YES on {} of {} answered records: it does not tell responses apart",
                q.question,
                percent(q.yes_rate),
                q.answered
            ),
            action: format!(
                "rewrite {} so that some generated responses fail it, or drop it",
                q.question
            ),
        });
    }
    for p in &s.redundant_pairs {
        out.push(Finding {
            kind: "redundant-pair",
            message: format!(
                "{} and {} agree on {} of {} records (phi {:.2}): a response rarely passes one and fails the other",
                p.first,
                p.second,
                percent(p.agreement),
                p.records,
                p.phi
            ),
            action: format!("merge {} and {}, or rewrite one to check something distinct", p.first, p.second),
        });
    }
    for (id, a) in &s.judge_agreement {
        // As many records as the other findings ask for: on a handful, a
        // kappa says little.
        if let Some(k) = a.kappa
            && a.records >= thresholds::MIN_RECORDS
            && k < thresholds::WEAK_KAPPA
        {
            out.push(Finding {
                    kind: "weak-agreement",
                    message: format!(
                        "judgments of {id} agree weakly (Fleiss' kappa {k:.2} over {} judged more than once)",
                        count(a.records, "record", "records")
                    ),
                    action: format!(
                        "define the ambiguous terms of {id} with `define`, or add a calibration example that settles it"
                    ),
                });
        }
    }
    if let Some(finding) = judges_differ(s) {
        out.push(finding);
    }
    if s.judge_errors > 0 {
        out.push(Finding {
            kind: "judge-errors",
            message: format!(
                "{} ERROR{}: {}; {}",
                count(s.judge_errors, "answer is", "answers are"),
                error_classes(s),
                if s.judge_errors == 1 {
                    "a judge call that failed, which is not a vote"
                } else {
                    "judge calls that failed, which are not votes"
                },
                match s.unanswered_records {
                    0 => "every question had another judgment's answer".to_string(),
                    1 => "1 record has a question no judgment answered, scored as NO".to_string(),
                    n => format!("{n} records have a question no judgment answered, scored as NO"),
                }
            ),
            action: "re-run the failed judge calls before trusting these verdicts".into(),
        });
    }
    if s.rejected > 0 {
        out.push(Finding {
            kind: "rejected-lines",
            message: if s.rejected == 1 {
                "1 line was rejected".to_string()
            } else {
                format!("{} lines were rejected", s.rejected)
            },
            action: "read their reasons (--rejects FILE keeps them) and fix or re-judge them"
                .into(),
        });
    }
    out
}

/// One sentence per question the program did not ask, such as "CN3 on
/// 12 records (fewer exchanges than its min_turns)", in rubric order.
pub fn not_asked_lines(s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    for (reason, questions) in &s.not_asked {
        let why = match *reason {
            "min_turns" => "fewer exchanges than its min_turns",
            other => other,
        };
        for (id, n) in questions {
            out.push(format!(
                "{id} on {} ({why})",
                count(*n, "record", "records")
            ));
        }
    }
    out
}

/// ` (5 timeout, 2 unclassified)`: the classes of the ERROR answers,
/// most frequent first; nothing when no line gives a class.
fn error_classes(s: &Summary) -> String {
    if s.judge_errors_by_class
        .keys()
        .all(|k| k == super::stats::UNCLASSIFIED)
    {
        return String::new();
    }
    let mut classes: Vec<(&String, &u64)> = s.judge_errors_by_class.iter().collect();
    classes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = classes.iter().map(|(k, n)| format!("{n} {k}")).collect();
    format!(" ({})", parts.join(", "))
}

/// The judges whose pass rates differ beyond chance: the most lenient and
/// the strictest of those with enough judgments, when their 95% Wilson
/// intervals do not overlap.
fn judges_differ(s: &Summary) -> Option<Finding> {
    let judged: Vec<(&String, &JudgeSummary)> = s
        .per_judge
        .iter()
        .filter(|(_, j)| j.judgments >= thresholds::MIN_RECORDS)
        .collect();
    let rate = |j: &JudgeSummary| j.pass_rate.unwrap_or(0.0);
    let lenient = judged
        .iter()
        .max_by(|a, b| rate(a.1).total_cmp(&rate(b.1)).then(b.0.cmp(a.0)))?;
    let strict = judged
        .iter()
        .min_by(|a, b| rate(a.1).total_cmp(&rate(b.1)).then(a.0.cmp(b.0)))?;
    let (high, low) = (lenient.1.interval.as_ref()?, strict.1.interval.as_ref()?);
    if high.low <= low.high {
        return None;
    }
    let interval = |i: &Interval| format!("{}..{}", percent(i.low), percent(i.high));
    Some(Finding {
        kind: "judges-differ",
        message: format!(
            "{} passes {} of its judgments and {} {} (95% intervals {} and {}): the judges read the rubric differently",
            lenient.0,
            percent(rate(lenient.1)),
            strict.0,
            percent(rate(strict.1)),
            interval(high),
            interval(low)
        ),
        action: format!(
            "read the records they answer differently (an `agreement` below 1 in the verdicts), then define the terms they read differently with `define` or add a calibration example; until they agree, `--aggregate strictest` keeps {} from passing what {} fails",
            lenient.0, strict.0
        ),
    })
}

/// The summary as a terminal table.
pub fn terminal(s: &Summary) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{}: {} valid, {} rejected, {} blank; {} ({} judged more than once{})\n",
        count(s.lines.total, "line", "lines"),
        s.lines.valid,
        s.lines.rejected,
        s.lines.blank,
        count(s.records, "record", "records"),
        s.repeated_records,
        if s.repeated_records > 0 {
            format!(", combined by {}", s.aggregate)
        } else {
            String::new()
        }
    ));
    if let (Some(rate), Some(i)) = (s.pass_rate, &s.interval) {
        out.push_str(&format!(
            "pass rate {} (95% interval {}..{}) against target {}: {}\n",
            percent(rate),
            percent(i.low),
            percent(i.high),
            percent(s.target),
            match s.comparison {
                "above" => "above target".to_string(),
                "below" => "below target".to_string(),
                _ => match s.records_needed {
                    Some(n) => format!(
                        "cannot tell yet (about {} needed)",
                        count(n, "record", "records")
                    ),
                    None => "cannot tell yet".to_string(),
                },
            }
        ));
    }
    out.push_str(&format!(
        "verdicts: {} pass, {} fail, {}\n",
        s.verdicts.pass,
        s.verdicts.fail,
        fail_the_gate(s.verdicts.gate_fail)
    ));
    if s.judge_errors > 0 {
        out.push_str(&format!(
            "judge errors: {}{}, {}; {} a question no judgment answered (scored as NO)\n",
            count(s.judge_errors, "ERROR answer", "ERROR answers"),
            error_classes(s),
            if s.judge_errors == 1 {
                "which is not a vote"
            } else {
                "which are not votes"
            },
            count(s.unanswered_records, "record has", "records have")
        ));
    }
    for line in not_asked_lines(s) {
        out.push_str(&format!("Not asked: {line}\n"));
    }
    if !s.per_judge.is_empty() {
        out.push('\n');
        out.push_str(&format!(
            "{:<20} {:>9} {:>9} {:>14} {:>6}\n",
            "judge", "judgments", "pass rate", "95% interval", "ERROR"
        ));
        for (name, j) in &s.per_judge {
            out.push_str(&format!(
                "{:<20} {:>9} {:>9} {:>14} {:>6}\n",
                name,
                j.judgments,
                j.pass_rate.map(percent).unwrap_or_else(|| "-".into()),
                j.interval
                    .as_ref()
                    .map(|i| format!("{}..{}", percent(i.low), percent(i.high)))
                    .unwrap_or_else(|| "-".into()),
                j.errors
            ));
        }
    }
    out.push('\n');
    // With records judged more than once, how often their votes split on
    // each question and Fleiss' kappa.
    let agreement = !s.judge_agreement.is_empty();
    out.push_str(&format!(
        "{:<12} {:<16} {:>8} {:>6} {:>6} {:>6} {:>7} {:>6}",
        "question", "group", "YES rate", "YES", "NO", "NA", "omitted", "ERROR"
    ));
    if agreement {
        out.push_str(&format!(" {:>6} {:>6}", "split", "kappa"));
    }
    out.push('\n');
    for (id, q) in &s.questions {
        out.push_str(&format!(
            "{:<12} {:<16} {:>8} {:>6} {:>6} {:>6} {:>7} {:>6}",
            id,
            q.group,
            q.yes_rate.map(percent).unwrap_or_else(|| "-".into()),
            q.yes,
            q.no,
            q.na,
            q.omitted,
            q.error
        ));
        if let Some(a) = s.judge_agreement.get(id).filter(|_| agreement) {
            out.push_str(&format!(
                " {:>6} {:>6}",
                a.disagreement.map(percent).unwrap_or_else(|| "-".into()),
                a.kappa
                    .map(|k| format!("{k:.2}"))
                    .unwrap_or_else(|| "-".into())
            ));
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&format!(
        "{:<16} {:>10} {:>8}\n",
        "category", "mean score", "records"
    ));
    for (id, c) in &s.categories {
        out.push_str(&format!(
            "{:<16} {:>10} {:>8}\n",
            id,
            c.mean
                .map(|m| format!("{m:.4}"))
                .unwrap_or_else(|| "-".into()),
            c.records
        ));
    }
    if !s.gate_failures.values().all(|n| *n == 0) {
        out.push_str("\ngate failures: ");
        let parts: Vec<String> = s
            .gate_failures
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        out.push_str(&parts.join(", "));
        out.push('\n');
    }
    if let Some(k) = s.fleiss_kappa {
        out.push_str(&format!("\njudge agreement: mean Fleiss' kappa {k:.2}"));
        if let Some(d) = s.judge_disagreement {
            out.push_str(&format!(
                "; split votes on {} of the record–question pairs with two votes or more",
                percent(d)
            ));
        }
        out.push('\n');
    }
    if !s.findings.is_empty() {
        out.push_str("\nfindings:\n");
        for f in &s.findings {
            out.push_str(&format!("  - {}\n    next: {}\n", f.message, f.action));
        }
    }
    out
}

/// The spot-check: up to `n` records, spread evenly over pass, fail and
/// gate-fail, with the conversation (when generations were joined) and the
/// judge's answers with their evidence.
pub fn spot_check(
    rubric: &ScoringRubric,
    aggregate: Aggregate,
    samples: &[Vec<Sampled>; 3],
    n: usize,
    conversations: Option<&std::collections::HashMap<String, Conversation>>,
) -> String {
    let chosen = allot(samples, n);
    let ids: Vec<String> = rubric.questions().map(|q| q.id.clone()).collect();
    let mut out = String::from("# Spot-check\n\n");
    out.push_str(&format!(
        "{}, spread over the verdicts: {} pass, {} fail, {}. For each, read the conversation and ask whether the judge's answers are right.\n",
        count(chosen.iter().map(Vec::len).sum::<usize>() as u64, "record", "records"),
        chosen[0].len(),
        chosen[1].len(),
        fail_the_gate(chosen[2].len() as u64)
    ));
    let mut k = 0;
    for group in &chosen {
        for record in group {
            k += 1;
            out.push_str(&format!(
                "\n## {k}. `{}`: {} (score {})\n\n",
                record.id,
                match record.verdict {
                    super::Verdict::Pass => "PASS",
                    super::Verdict::Fail => "FAIL",
                    super::Verdict::GateFail => "FAIL (safety gate)",
                },
                record.score
            ));
            if !record.judges.is_empty() {
                out.push_str(&format!("Judged by {}.", record.judges.join(", ")));
            }
            if record.judgments > 1 {
                if !record.judges.is_empty() {
                    out.push(' ');
                }
                let evidence_by = judge_of(record.raw.get(record.evidence).map(String::as_str))
                    .unwrap_or_else(|| format!("judgment {}", record.evidence + 1));
                out.push_str(&match aggregate {
                    Aggregate::Strictest => format!(
                        "{} judgments, combined by strictest: the answers and evidence are those of {evidence_by}, the judgment with the worst verdict.",
                        record.judgments
                    ),
                    Aggregate::Majority => format!(
                        "{} judgments, combined by majority: each answer is the one most of them gave; the evidence is that of {evidence_by}.",
                        record.judgments
                    ),
                    Aggregate::Unanimous => format!(
                        "{} judgments, combined by unanimous: each answer is the worst any of them gave; the evidence is that of {evidence_by}.",
                        record.judgments
                    ),
                });
            }
            if !record.judges.is_empty() || record.judgments > 1 {
                out.push_str("\n\n");
            }
            match conversations.and_then(|c| c.get(&record.id)) {
                Some(conversation) => {
                    let turns = &conversation.turns;
                    let mut users = 0;
                    let mut assistants = 0;
                    out.push_str("```text\n");
                    for (role, content) in turns {
                        let label = match role.as_str() {
                            "user" => {
                                users += 1;
                                format!("U{users}")
                            }
                            "assistant" => {
                                assistants += 1;
                                format!("A{assistants}")
                            }
                            _ => "SYS".to_string(),
                        };
                        out.push_str(&format!(
                            "[{label}] {role}: {}\n",
                            content.replace('\n', "\n    ")
                        ));
                    }
                    out.push_str("```\n\n");
                    if let Some(line) = conversation.conflicting_line {
                        out.push_str(&format!(
                            "Line {line} of the generations has other messages for this id: which one was judged is not known.\n\n"
                        ));
                    }
                }
                None if conversations.is_some() => {
                    out.push_str("(the generations have no conversation with this id)\n\n")
                }
                None => out.push_str("(conversation not joined: pass `--generations FILE`)\n\n"),
            }
            let evidence = evidence_of(
                record
                    .raw
                    .get(record.evidence)
                    .map(String::as_str)
                    .unwrap_or(""),
            );
            out.push_str("| question | answer | evidence |\n|---|---|---|\n");
            for (q, answer) in ids.iter().zip(&record.answers) {
                let e = evidence
                    .get(q)
                    .map(|e| {
                        truncate(e, EVIDENCE_CHARS)
                            .replace('|', "\\|")
                            .replace('\n', " ")
                    })
                    .unwrap_or_default();
                out.push_str(&format!("| {q} | {} | {e} |\n", answer_str(*answer)));
            }
        }
    }
    out
}

/// The most characters of a judge's evidence the spot-check shows: a
/// quote is short, and one of 300 KB made a 5 MB spot-check.
const EVIDENCE_CHARS: usize = 500;

/// `text` cut to `max` characters, saying how much was left out.
pub fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some((end, _)) => {
            let rest = text[end..].chars().count() as u64;
            format!(
                "{}… ({rest} more {})",
                text[..end].trim_end(),
                if rest == 1 { "character" } else { "characters" }
            )
            .into()
        }
    }
}

/// `n` records spread evenly over the three strata; a stratum with too few
/// gives its share to the others.
fn allot(samples: &[Vec<Sampled>; 3], n: usize) -> [Vec<Sampled>; 3] {
    let mut counts = [0usize; 3];
    let mut left = n;
    loop {
        let open: Vec<usize> = (0..3).filter(|&s| counts[s] < samples[s].len()).collect();
        if left == 0 || open.is_empty() {
            break;
        }
        for s in open {
            if left == 0 {
                break;
            }
            counts[s] += 1;
            left -= 1;
        }
    }
    let mut out: [Vec<Sampled>; 3] = Default::default();
    for s in 0..3 {
        let mut chosen: Vec<Sampled> = samples[s][..counts[s]].to_vec();
        chosen.sort_by(|a, b| a.id.cmp(&b.id));
        out[s] = chosen;
    }
    out
}

/// The judge a raw judgment line names, with its sample when it gives a
/// whole number: `judge-a (sample 1)`.
fn judge_of(raw: Option<&str>) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(raw?).ok()?;
    let judge = value.get("judge")?.as_str()?;
    Some(match value.get("sample").and_then(|s| s.as_u64()) {
        Some(sample) => format!("{judge} (sample {sample})"),
        None => judge.to_string(),
    })
}

/// Evidence per question from a raw judgment line, where it has any.
fn evidence_of(raw: &str) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let Ok(value) = serde_json::from_str::<serde_json::Value>(raw) else {
        return out;
    };
    let answers = match value.get("answers") {
        Some(a) => a.clone(),
        None => value
            .get("response")
            .and_then(|r| r.as_str())
            .and_then(super::judgment::extract_json)
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
            .map(|v| v.get("answers").cloned().unwrap_or(v))
            .unwrap_or_default(),
    };
    if let Some(map) = answers.as_object() {
        for (q, v) in map {
            if let Some(e) = v.get("evidence").and_then(|e| e.as_str()) {
                out.insert(q.clone(), e.to_string());
            }
        }
    }
    out
}
