//! `ftprep compare`: two scored runs side by side. Each run is the verdict
//! lines `ftprep score --verdicts` wrote; this module reads them, computes
//! the comparison (pass rates and their difference, per-category and
//! per-question changes, and paired tests on the records both runs share)
//! and renders it as text or JSON. Pure: no files, no clock.

use super::inference::{PairedT, Wilcoxon, newcombe, paired_t, wilcoxon};
use super::report::{count, percent, short_hash};
use super::stats::wilson;
use super::{Ratio, Verdict};
use indexmap::IndexMap;
use serde::Serialize;
use serde::ser::SerializeMap;
use std::collections::{BTreeSet, HashMap};
use std::io::{self, BufRead};

/// One record of a run: a verdict line.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub verdict: Verdict,
    /// Exact, from `score_exact` (else `score`, to its four places).
    pub score: Ratio,
    /// Category scores; `None` where the category was dropped.
    pub categories: Vec<(String, Option<f64>)>,
    /// The record's answer to each question (`YES`, `NO`, `NA`,
    /// `OMITTED`, `ERROR`), when the line gives them.
    pub answers: Option<Vec<(String, String)>>,
}

/// A line of a verdicts file that is not a usable verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: u64,
    pub reason: String,
}

/// A run: the records of one verdicts file.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// The file, as the user named it.
    pub name: String,
    pub records: Vec<Record>,
    pub lines: u64,
    pub skipped: Vec<Skipped>,
    /// Lines repeating an id seen earlier (the first is used).
    pub duplicates: u64,
    pub first_duplicate: Option<String>,
    /// The distinct `spec_sha256` of the lines, in order of appearance.
    pub spec_sha256: Vec<String>,
    /// Records whose line has no `spec_sha256` (written before verdict
    /// lines carried it).
    pub without_spec: u64,
}

/// The id rule of judgment and generations lines: a non-empty string or
/// a whole number, `7` and `"7"` being the same id.
fn id_of(value: Option<&serde_json::Value>) -> Result<String, String> {
    match value {
        None => Err("no `id`".into()),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => {
            Err("`id` is empty: an id is a non-empty string or a whole number".into())
        }
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        Some(other) => Err(format!(
            "`id` is {other}: an id is a non-empty string or a whole number"
        )),
    }
}

fn verdict_of(value: Option<&serde_json::Value>) -> Result<Verdict, String> {
    match value.and_then(|v| v.as_str()) {
        Some("pass") => Ok(Verdict::Pass),
        Some("fail") => Ok(Verdict::Fail),
        Some("gate_fail") => Ok(Verdict::GateFail),
        Some(other) => Err(format!(
            "`verdict` is `{other}`, not pass, fail or gate_fail"
        )),
        None => Err("no `verdict`".into()),
    }
}

/// The score: `score_exact` (`"33/40"`) when the line has it, else
/// `score`; between 0 and 1.
fn score_of(line: &serde_json::Map<String, serde_json::Value>) -> Result<Ratio, String> {
    let exact = line
        .get("score_exact")
        .and_then(|v| v.as_str())
        .and_then(|s| {
            let (n, d) = s.split_once('/')?;
            let (n, d) = (
                n.trim().parse::<i128>().ok()?,
                d.trim().parse::<i128>().ok()?,
            );
            (d > 0 && n >= 0 && n <= d).then(|| Ratio::new(n, d))
        });
    if let Some(r) = exact {
        return Ok(r);
    }
    match line.get("score").and_then(|v| v.as_f64()) {
        Some(x) if (0.0..=1.0).contains(&x) => {
            Ok(Ratio::new((x * 10_000.0).round() as i128, 10_000))
        }
        Some(x) => Err(format!("`score` {x} is not between 0 and 1")),
        None => Err("no `score`".into()),
    }
}

fn parse_record(text: &str) -> Result<(Record, Option<String>), String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let serde_json::Value::Object(line) = value else {
        return Err("not a JSON object".into());
    };
    let id = id_of(line.get("id"))?;
    let verdict = verdict_of(line.get("verdict"))?;
    let score = score_of(&line)?;
    let categories = match line.get("categories") {
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64().filter(|x| (0.0..=1.0).contains(x))))
            .collect(),
        _ => Vec::new(),
    };
    let answers = match line.get("answers") {
        Some(serde_json::Value::Object(map)) => Some(
            map.iter()
                .map(|(k, v)| {
                    let answer = v.as_str().unwrap_or("").to_ascii_uppercase();
                    (k.clone(), answer)
                })
                .collect(),
        ),
        _ => None,
    };
    let spec = line
        .get("spec_sha256")
        .and_then(|v| v.as_str())
        .map(|s| s.to_ascii_lowercase());
    Ok((
        Record {
            id,
            verdict,
            score,
            categories,
            answers,
        },
        spec,
    ))
}

/// Reads a verdicts file. A line that is not a verdict is skipped and
/// listed; an id seen again keeps its first line.
pub fn read_run(name: &str, reader: &mut dyn BufRead) -> io::Result<Run> {
    let mut run = Run {
        name: name.to_string(),
        ..Run::default()
    };
    let mut seen: HashMap<String, ()> = HashMap::new();
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        run.lines += 1;
        let bytes = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let bytes = match run.lines {
            1 => bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
            _ => bytes,
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            run.skipped.push(Skipped {
                line: run.lines,
                reason: "the line is not UTF-8".into(),
            });
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        match parse_record(text) {
            Ok((record, spec)) => {
                if seen.insert(record.id.clone(), ()).is_some() {
                    run.duplicates += 1;
                    run.first_duplicate.get_or_insert(record.id);
                    continue;
                }
                match spec {
                    Some(s) if !run.spec_sha256.contains(&s) => run.spec_sha256.push(s),
                    Some(_) => {}
                    None => run.without_spec += 1,
                }
                run.records.push(record);
            }
            Err(reason) => run.skipped.push(Skipped {
                line: run.lines,
                reason,
            }),
        }
    }
    Ok(run)
}

/// A 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    fn of(bounds: (f64, f64)) -> Interval {
        Interval {
            low: round4(bounds.0),
            high: round4(bounds.1),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VerdictCounts {
    pub pass: u64,
    pub fail: u64,
    pub gate_fail: u64,
}

/// One run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub path: String,
    pub records: u64,
    pub passed: u64,
    pub pass_rate: f64,
    /// The 95% Wilson interval of the pass rate.
    pub interval: Interval,
    pub verdicts: VerdictCounts,
    pub mean_score: f64,
    pub skipped_lines: u64,
    pub duplicate_ids: u64,
    /// The spec the verdicts were scored with, when every line that says
    /// says the same one.
    pub spec_sha256: Option<String>,
}

/// The difference of the pass rates, B − A.
#[derive(Debug, Clone, Serialize)]
pub struct RateDifference {
    pub difference: f64,
    /// Newcombe's hybrid score interval (method 10), 95%.
    pub interval: Interval,
    pub method: &'static str,
}

/// One side of a category's change.
#[derive(Debug, Clone, Serialize)]
pub struct CategorySide {
    /// The mean of the category's score over the records it was scored in.
    pub mean: Option<f64>,
    pub records: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryDelta {
    pub id: String,
    pub a: CategorySide,
    pub b: CategorySide,
    /// B − A; `None` when either run lacks the category.
    pub difference: Option<f64>,
}

/// One side of a question's change.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionSide {
    /// YES ÷ (YES + NO), as in the summary.
    pub yes_rate: Option<f64>,
    pub yes: u64,
    pub no: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionDelta {
    pub id: String,
    pub a: QuestionSide,
    pub b: QuestionSide,
    pub difference: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TTest {
    pub t: Option<f64>,
    pub df: u64,
    pub p: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WilcoxonTest {
    /// min(W+, W−).
    pub statistic: f64,
    pub w_plus: f64,
    pub w_minus: f64,
    /// Non-zero differences, ranked.
    pub n: u64,
    /// Zero differences, dropped.
    pub zeros: u64,
    pub tie_groups: u64,
    /// `exact` or `normal`.
    pub method: &'static str,
    pub z: Option<f64>,
    pub p: f64,
}

/// How the verdicts of the shared ids moved.
#[derive(Debug, Clone, Serialize)]
pub struct VerdictChanges {
    pub both_pass: u64,
    pub both_fail: u64,
    /// Passing in B only: improved.
    pub b_only: u64,
    /// Passing in A only: worsened.
    pub a_only: u64,
}

/// Paired statistics on the scores of the ids both runs have.
#[derive(Debug, Clone, Serialize)]
pub struct Paired {
    pub shared: u64,
    pub only_a: u64,
    pub only_b: u64,
    pub mean_a: f64,
    pub mean_b: f64,
    /// Mean of B − A per shared id.
    pub mean_difference: f64,
    pub sd_difference: f64,
    /// The t interval of the mean difference, 95%.
    pub interval: Option<Interval>,
    pub t_test: TTest,
    pub wilcoxon: Option<WilcoxonTest>,
    pub verdicts: VerdictChanges,
}

/// Everything `compare` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: RunSummary,
    pub b: RunSummary,
    pub pass_rate_difference: Option<RateDifference>,
    /// B − A of the mean scores over all records of each run.
    pub mean_score_difference: f64,
    /// Largest change first.
    pub categories: Vec<CategoryDelta>,
    pub questions: Vec<QuestionDelta>,
    /// Questions no record of either run answered YES or NO.
    pub unanswered_questions: Vec<String>,
    pub paired: Option<Paired>,
    /// Why there is no paired section, when there is none.
    pub paired_absent: Option<String>,
    pub warnings: Vec<String>,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Six significant digits: a p-value of 0.000012 keeps its digits, and
/// the last bits of the distributions' arithmetic, which may differ from
/// one machine's maths library to another's, do not reach the output.
fn sig6(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.5e}").parse().unwrap_or(x)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u64), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn summarise(run: &Run) -> RunSummary {
    let records = run.records.len() as u64;
    let tally = |v: Verdict| run.records.iter().filter(|r| r.verdict == v).count() as u64;
    let passed = tally(Verdict::Pass);
    RunSummary {
        path: run.name.clone(),
        records,
        passed,
        pass_rate: round4(passed as f64 / records.max(1) as f64),
        interval: Interval::of(wilson(passed, records).unwrap_or((0.0, 1.0))),
        verdicts: VerdictCounts {
            pass: passed,
            fail: tally(Verdict::Fail),
            gate_fail: tally(Verdict::GateFail),
        },
        mean_score: round4(mean(run.records.iter().map(|r| r.score.to_f64())).unwrap_or(0.0)),
        skipped_lines: run.skipped.len() as u64,
        duplicate_ids: run.duplicates,
        spec_sha256: match run.spec_sha256.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        },
    }
}

/// Per category: (sum, records), in order of first appearance.
fn category_means(run: &Run) -> IndexMap<String, (f64, u64)> {
    let mut out: IndexMap<String, (f64, u64)> = IndexMap::new();
    for r in &run.records {
        for (id, score) in &r.categories {
            let entry = out.entry(id.clone()).or_default();
            if let Some(s) = score {
                entry.0 += s;
                entry.1 += 1;
            }
        }
    }
    out
}

/// Per question: (YES, NO), in order of first appearance.
fn question_counts(run: &Run) -> IndexMap<String, (u64, u64)> {
    let mut out: IndexMap<String, (u64, u64)> = IndexMap::new();
    for r in &run.records {
        for (id, answer) in r.answers.iter().flatten() {
            let entry = out.entry(id.clone()).or_default();
            match answer.as_str() {
                "YES" => entry.0 += 1,
                "NO" => entry.1 += 1,
                _ => {}
            }
        }
    }
    out
}

/// Largest absolute change first; changes that cannot be computed last;
/// ties in the order the ids came.
fn by_size<T>(items: &mut [T], difference: impl Fn(&T) -> Option<f64>) {
    items.sort_by(|x, y| match (difference(x), difference(y)) {
        (Some(a), Some(b)) => b.abs().total_cmp(&a.abs()),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// Ids of one list that the other lacks, named for a warning.
fn only_in(these: &[String], others: &[String]) -> Vec<String> {
    let others: BTreeSet<&String> = others.iter().collect();
    these
        .iter()
        .filter(|id| !others.contains(id))
        .cloned()
        .collect()
}

fn names(ids: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = ids
        .iter()
        .take(SHOWN)
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        text.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    text
}

/// Compares run B against run A: every difference is B − A.
pub fn compare(a: &Run, b: &Run) -> Comparison {
    let sa = summarise(a);
    let sb = summarise(b);
    let mut warnings = Vec::new();

    // Were they scored with one spec?
    if let (Some(ha), Some(hb)) = (&sa.spec_sha256, &sb.spec_sha256)
        && ha != hb
    {
        warnings.push(format!(
            "the runs were scored with different specs (A {}, B {}): a question of one may not ask what the same id asks in the other",
            short_hash(ha),
            short_hash(hb)
        ));
    }
    for (label, run) in [("A", a), ("B", b)] {
        if run.spec_sha256.len() > 1 {
            warnings.push(format!(
                "{label} mixes verdicts scored with {} different specs",
                run.spec_sha256.len()
            ));
        }
        if run.duplicates > 0 {
            warnings.push(format!(
                "{label} has {} repeating an earlier id (`{}` first); the first line of each id is used",
                count(run.duplicates, "line", "lines"),
                run.first_duplicate.as_deref().unwrap_or("")
            ));
        }
    }

    let pass_rate_difference =
        newcombe((sa.passed, sa.records), (sb.passed, sb.records)).map(|bounds| RateDifference {
            difference: round4(
                sb.passed as f64 / sb.records as f64 - sa.passed as f64 / sa.records as f64,
            ),
            interval: Interval::of(bounds),
            method: "newcombe",
        });
    let mean_score_difference = round4(
        mean(b.records.iter().map(|r| r.score.to_f64())).unwrap_or(0.0)
            - mean(a.records.iter().map(|r| r.score.to_f64())).unwrap_or(0.0),
    );

    // Categories and questions, A's order first, then B's own.
    let (ca, cb) = (category_means(a), category_means(b));
    let ids_a: Vec<String> = ca.keys().cloned().collect();
    let ids_b: Vec<String> = cb.keys().cloned().collect();
    let (only_a, only_b) = (only_in(&ids_a, &ids_b), only_in(&ids_b, &ids_a));
    if !only_a.is_empty() || !only_b.is_empty() {
        warnings.push(format!(
            "the runs' rubrics differ: categories only in A: {}; only in B: {}",
            if only_a.is_empty() {
                "none".into()
            } else {
                names(&only_a)
            },
            if only_b.is_empty() {
                "none".into()
            } else {
                names(&only_b)
            },
        ));
    }
    let raw = |m: &IndexMap<String, (f64, u64)>, id: &str| {
        let (sum, n) = m.get(id).copied().unwrap_or((0.0, 0));
        ((n > 0).then(|| sum / n as f64), n)
    };
    let mut categories: Vec<CategoryDelta> = ids_a
        .iter()
        .chain(&only_b)
        .map(|id| {
            let ((ma, na), (mb, nb)) = (raw(&ca, id), raw(&cb, id));
            let (x, y) = (
                CategorySide {
                    mean: ma.map(round4),
                    records: na,
                },
                CategorySide {
                    mean: mb.map(round4),
                    records: nb,
                },
            );
            let difference = match (ma, mb) {
                (Some(p), Some(q)) => Some(round4(q - p)),
                _ => None,
            };
            CategoryDelta {
                id: id.clone(),
                a: x,
                b: y,
                difference,
            }
        })
        .collect();
    by_size(&mut categories, |c| c.difference);

    let (qa, qb) = (question_counts(a), question_counts(b));
    let qids_a: Vec<String> = qa.keys().cloned().collect();
    let qids_b: Vec<String> = qb.keys().cloned().collect();
    let (qonly_a, qonly_b) = (only_in(&qids_a, &qids_b), only_in(&qids_b, &qids_a));
    if !qa.is_empty() && !qb.is_empty() && (!qonly_a.is_empty() || !qonly_b.is_empty()) {
        warnings.push(format!(
            "the runs' rubrics differ: questions only in A: {}; only in B: {}",
            if qonly_a.is_empty() {
                "none".into()
            } else {
                names(&qonly_a)
            },
            if qonly_b.is_empty() {
                "none".into()
            } else {
                names(&qonly_b)
            },
        ));
    }
    for (label, run, counts) in [("A", a, &qa), ("B", b, &qb)] {
        let without = run.records.iter().filter(|r| r.answers.is_none()).count() as u64;
        if without > 0 {
            warnings.push(format!(
                "{label}: {} no `answers`, so {} in the YES rates; score the judgments again with this ftprep, whose verdict lines always carry them",
                count(without, "verdict line has", "verdict lines have"),
                if counts.is_empty() {
                    "no question can be compared".to_string()
                } else if without == 1 {
                    "that record is not".to_string()
                } else {
                    "those records are not".to_string()
                }
            ));
        }
    }
    let rate = |m: &IndexMap<String, (u64, u64)>, id: &str| {
        let (yes, no) = m.get(id).copied().unwrap_or((0, 0));
        (
            (yes + no > 0).then(|| yes as f64 / (yes + no) as f64),
            yes,
            no,
        )
    };
    // Questions never answered YES or NO in either run (always N/A or
    // left out) say nothing here: they are named apart.
    let (answered, unanswered): (Vec<&String>, Vec<&String>) = qids_a
        .iter()
        .chain(&qonly_b)
        .partition(|id| rate(&qa, id).0.is_some() || rate(&qb, id).0.is_some());
    let unanswered: Vec<String> = unanswered.into_iter().cloned().collect();
    let mut questions: Vec<QuestionDelta> = answered
        .into_iter()
        .map(|id| {
            let ((ra, ya, na), (rb, yb, nb)) = (rate(&qa, id), rate(&qb, id));
            let (x, y) = (
                QuestionSide {
                    yes_rate: ra.map(round4),
                    yes: ya,
                    no: na,
                },
                QuestionSide {
                    yes_rate: rb.map(round4),
                    yes: yb,
                    no: nb,
                },
            );
            let difference = match (ra, rb) {
                (Some(p), Some(q)) => Some(round4(q - p)),
                _ => None,
            };
            QuestionDelta {
                id: id.clone(),
                a: x,
                b: y,
                difference,
            }
        })
        .collect();
    by_size(&mut questions, |q| q.difference);

    let (paired, paired_absent) = pair(a, b);
    Comparison {
        a: sa,
        b: sb,
        pass_rate_difference,
        mean_score_difference,
        categories,
        questions,
        unanswered_questions: unanswered,
        paired,
        paired_absent,
        warnings,
    }
}

/// The paired section, or why there is none.
fn pair(a: &Run, b: &Run) -> (Option<Paired>, Option<String>) {
    let in_b: HashMap<&str, &Record> = b.records.iter().map(|r| (r.id.as_str(), r)).collect();
    // In A's order.
    let shared: Vec<(&Record, &Record)> = a
        .records
        .iter()
        .filter_map(|r| in_b.get(r.id.as_str()).map(|s| (r, *s)))
        .collect();
    let n = shared.len();
    if n == 0 {
        return (
            None,
            Some("the runs share no id, so no record can be paired: ids are stable for a scenario's seed and index, so runs that answer the same generated users share them".into()),
        );
    }
    if n == 1 {
        return (
            None,
            Some(
                "the runs share only one id (`".to_string()
                    + &shared[0].0.id
                    + "`): a paired test needs two",
            ),
        );
    }
    // Differences exactly, then as floats: equal differences stay equal,
    // which the Wilcoxon test's ties need.
    let diffs: Vec<f64> = shared
        .iter()
        .map(|(x, y)| (y.score + Ratio::new(-x.score.numer(), x.score.denom())).to_f64())
        .collect();
    let t: Option<PairedT> = paired_t(&diffs);
    let w: Option<Wilcoxon> = wilcoxon(&diffs);
    let mut changes = VerdictChanges {
        both_pass: 0,
        both_fail: 0,
        b_only: 0,
        a_only: 0,
    };
    for (x, y) in &shared {
        match (x.verdict == Verdict::Pass, y.verdict == Verdict::Pass) {
            (true, true) => changes.both_pass += 1,
            (false, false) => changes.both_fail += 1,
            (false, true) => changes.b_only += 1,
            (true, false) => changes.a_only += 1,
        }
    }
    let mean_a = mean(shared.iter().map(|(x, _)| x.score.to_f64())).unwrap_or(0.0);
    let mean_b = mean(shared.iter().map(|(_, y)| y.score.to_f64())).unwrap_or(0.0);
    let paired = Paired {
        shared: n as u64,
        only_a: (a.records.len() - n) as u64,
        only_b: (b.records.len() - n) as u64,
        mean_a: round4(mean_a),
        mean_b: round4(mean_b),
        mean_difference: round4(t.as_ref().map_or(mean_b - mean_a, |t| t.mean)),
        sd_difference: round4(t.as_ref().map_or(0.0, |t| t.sd)),
        interval: t.as_ref().and_then(|t| t.interval).map(Interval::of),
        t_test: TTest {
            t: t.as_ref().and_then(|t| t.t).map(round4),
            df: t.as_ref().map_or(0, |t| t.df),
            p: t.as_ref().and_then(|t| t.p).map(sig6),
        },
        wilcoxon: w.map(|w| WilcoxonTest {
            statistic: w.statistic,
            w_plus: w.w_plus,
            w_minus: w.w_minus,
            n: w.n as u64,
            zeros: w.zeros as u64,
            tie_groups: w.tie_groups as u64,
            method: w.method.as_str(),
            z: w.z.map(round4),
            p: sig6(w.p),
        }),
        verdicts: changes,
    };
    (Some(paired), None)
}

fn p_value(p: f64) -> String {
    if p < 0.0001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// The comparison as text for a terminal.
pub fn render_text(c: &Comparison) -> String {
    let mut out = String::new();
    for (label, s) in [("A", &c.a), ("B", &c.b)] {
        out.push_str(&format!(
            "{label}: {} ({}; pass rate {}, 95% interval {}..{}; mean score {:.4})\n",
            s.path,
            count(s.records, "record", "records"),
            percent(s.pass_rate),
            percent(s.interval.low),
            percent(s.interval.high),
            s.mean_score
        ));
    }
    if let Some(d) = &c.pass_rate_difference {
        out.push_str(&format!(
            "pass rate B − A: {:+.1} points (95% interval {:+.1}..{:+.1}, Newcombe)\n",
            d.difference * 100.0,
            d.interval.low * 100.0,
            d.interval.high * 100.0,
        ));
    }
    out.push_str(&format!(
        "mean score B − A: {:+.4}\n",
        c.mean_score_difference
    ));
    for w in &c.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }

    out.push('\n');
    match (&c.paired, &c.paired_absent) {
        (Some(p), _) => {
            out.push_str(&format!(
                "paired on {} ({}):\n",
                count(p.shared, "shared id", "shared ids"),
                if p.only_a == 0 && p.only_b == 0 {
                    "every record of both runs".to_string()
                } else {
                    format!("{} only in A, {} only in B", p.only_a, p.only_b)
                }
            ));
            out.push_str(&format!(
                "  mean score    A {:.4}  B {:.4}  difference {:+.4}{}\n",
                p.mean_a,
                p.mean_b,
                p.mean_difference,
                p.interval
                    .map(|i| format!(" (95% interval {:+.4}..{:+.4})", i.low, i.high))
                    .unwrap_or_default()
            ));
            match (p.t_test.t, p.t_test.p) {
                (Some(t), Some(pv)) => out.push_str(&format!(
                    "  paired t-test t = {t:.3}, df = {}, p = {} (two-sided)\n",
                    p.t_test.df,
                    p_value(pv)
                )),
                _ => out.push_str(
                    "  paired t-test undefined: every shared id changed by the same amount\n",
                ),
            }
            match &p.wilcoxon {
                Some(w) => out.push_str(&format!(
                    "  Wilcoxon      W = {}, n = {}{}{}, p = {} ({}{})\n",
                    w.statistic,
                    w.n,
                    if w.zeros > 0 {
                        format!(
                            " ({} dropped)",
                            count(w.zeros, "zero difference", "zero differences")
                        )
                    } else {
                        String::new()
                    },
                    if w.tie_groups > 0 {
                        format!(
                            ", {}",
                            count(w.tie_groups, "group of ties", "groups of ties")
                        )
                    } else {
                        String::new()
                    },
                    p_value(w.p),
                    if w.method == "exact" {
                        "exact".to_string()
                    } else {
                        format!("normal approximation, z = {:.3}", w.z.unwrap_or(0.0))
                    },
                    ", two-sided"
                )),
                None => out.push_str("  Wilcoxon      undefined: no shared id changed its score\n"),
            }
            let v = &p.verdicts;
            out.push_str(&format!(
                "  verdicts      {} pass in both, {} fail in both, {} pass in B only, {} in A only\n",
                v.both_pass, v.both_fail, v.b_only, v.a_only
            ));
        }
        (None, Some(why)) => out.push_str(&format!("no paired statistics: {why}\n")),
        (None, None) => {}
    }

    if !c.categories.is_empty() {
        out.push('\n');
        out.push_str(&format!(
            "{:<20} {:>10} {:>10} {:>9}\n",
            "category", "A mean", "B mean", "B − A"
        ));
        for d in &c.categories {
            out.push_str(&format!(
                "{:<20} {:>10} {:>10} {:>9}\n",
                d.id,
                d.a.mean
                    .map(|m| format!("{m:.4}"))
                    .unwrap_or_else(|| "-".into()),
                d.b.mean
                    .map(|m| format!("{m:.4}"))
                    .unwrap_or_else(|| "-".into()),
                d.difference
                    .map(|x| format!("{x:+.4}"))
                    .unwrap_or_else(|| "-".into())
            ));
        }
    }
    if !c.questions.is_empty() {
        out.push('\n');
        out.push_str(&format!(
            "{:<12} {:>10} {:>10} {:>9} {:>10} {:>10}\n",
            "question", "A YES rate", "B YES rate", "B − A", "A YES/NO", "B YES/NO"
        ));
        for d in &c.questions {
            out.push_str(&format!(
                "{:<12} {:>10} {:>10} {:>9} {:>10} {:>10}\n",
                d.id,
                d.a.yes_rate.map(percent).unwrap_or_else(|| "-".into()),
                d.b.yes_rate.map(percent).unwrap_or_else(|| "-".into()),
                d.difference
                    .map(|x| format!("{:+.1}", x * 100.0))
                    .unwrap_or_else(|| "-".into()),
                format!("{}/{}", d.a.yes, d.a.no),
                format!("{}/{}", d.b.yes, d.b.no),
            ));
        }
    }
    if !c.unanswered_questions.is_empty() {
        out.push_str(&format!(
            "not answered YES or NO in any record of either run: {}\n",
            c.unanswered_questions.join(", ")
        ));
    }
    out
}

/// The comparison as pretty JSON, with a trailing newline.
pub fn render_json(c: &Comparison) -> String {
    let mut text = serde_json::to_string_pretty(&Versioned(c)).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON report, with the version of its layout first.
struct Versioned<'a>(&'a Comparison);

impl Serialize for Versioned<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = serde_json::to_value(self.0).map_err(serde::ser::Error::custom)?;
        let serde_json::Value::Object(fields) = value else {
            return Err(serde::ser::Error::custom("not an object"));
        };
        let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
        map.serialize_entry("version", &1)?;
        for (k, v) in &fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, text: &str) -> Run {
        read_run(name, &mut text.as_bytes()).unwrap()
    }

    fn line(id: &str, verdict: &str, exact: &str) -> String {
        format!(
            r#"{{"id":"{id}","verdict":"{verdict}","score_exact":"{exact}","categories":{{"c":0.5}},"answers":{{"Q1":"YES","Q2":"NO"}},"spec_sha256":"ab"}}"#
        )
    }

    #[test]
    fn bad_lines_are_skipped_with_their_reason_and_duplicates_keep_the_first() {
        let text = [
            line("a", "pass", "3/4"),
            "not json".to_string(),
            r#"{"id": 1.5, "verdict": "pass", "score": 0.5}"#.to_string(),
            r#"{"id": "x", "verdict": "maybe", "score": 0.5}"#.to_string(),
            r#"{"id": "y", "verdict": "pass"}"#.to_string(),
            r#"{"id": "z", "verdict": "pass", "score": 7}"#.to_string(),
            line("a", "fail", "0/1"),
            String::new(),
            r#"{"id": 7, "verdict": "fail", "score": 0.25}"#.to_string(),
        ]
        .join("\n");
        let r = run("v.jsonl", &text);
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.records[0].score, Ratio::new(3, 4));
        assert_eq!(r.records[1].id, "7");
        assert_eq!(r.records[1].score, Ratio::new(1, 4));
        let reasons: Vec<(u64, &str)> = r
            .skipped
            .iter()
            .map(|s| (s.line, s.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 5);
        assert!(reasons[0].1.starts_with("not valid JSON"), "{reasons:?}");
        assert_eq!(
            reasons[1..],
            [
                (
                    3,
                    "`id` is 1.5: an id is a non-empty string or a whole number"
                ),
                (4, "`verdict` is `maybe`, not pass, fail or gate_fail"),
                (5, "no `score`"),
                (6, "`score` 7 is not between 0 and 1"),
            ]
        );
        assert_eq!((r.duplicates, r.first_duplicate.as_deref()), (1, Some("a")));
        assert_eq!(r.spec_sha256, ["ab"]);
        assert_eq!(r.without_spec, 1);
    }

    #[test]
    fn hostile_lines_are_skipped_or_read_without_panicking() {
        let deep = "[".repeat(10_000);
        let text = [
            r#"{"id": "a", "verdict": "pass", "score_exact": "1/0", "score": 0.5}"#,
            r#"{"id": "b", "verdict": "pass", "score_exact": "-1/2"}"#,
            r#"{"id": "c", "verdict": "pass", "score_exact": "999999999999999999999999999999999999999999/1"}"#,
            r#"{"id": "d", "verdict": "fail", "score": 0.25, "categories": {"x": "str", "y": 7}, "answers": {"Q": 5, "R": null}}"#,
            r#"{"id": "e", "verdict": "fail", "score": -0.0}"#,
            "[1, 2]",
            "null",
            deep.as_str(),
            "{}",
        ]
        .join("\n");
        let a = run("a", &text);
        let ids: Vec<&str> = a.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "d", "e"]);
        assert_eq!(
            a.records[0].score,
            Ratio::new(1, 2),
            "1/0 falls back to score"
        );
        assert_eq!(
            a.records[1].categories,
            [("x".to_string(), None), ("y".to_string(), None)]
        );
        assert_eq!(a.skipped.len(), 6);
        let c = compare(&a, &a);
        assert_eq!(c.paired.unwrap().mean_difference, 0.0);
    }

    #[test]
    fn deltas_are_b_minus_a_largest_first() {
        let a = run(
            "a",
            &[
                r#"{"id":"1","verdict":"pass","score":0.8,"categories":{"x":1.0,"y":0.5},"answers":{"Q1":"YES","Q2":"NO","Q3":"YES"}}"#,
                r#"{"id":"2","verdict":"fail","score":0.4,"categories":{"x":0.0,"y":0.5},"answers":{"Q1":"NO","Q2":"NO","Q3":"YES"}}"#,
            ]
            .join("\n"),
        );
        let b = run(
            "b",
            &[
                r#"{"id":"1","verdict":"pass","score":0.9,"categories":{"x":1.0,"y":1.0},"answers":{"Q1":"YES","Q2":"YES","Q3":"YES"}}"#,
                r#"{"id":"2","verdict":"pass","score":0.8,"categories":{"x":0.5,"y":0.5},"answers":{"Q1":"YES","Q2":"NO","Q3":"NA"}}"#,
            ]
            .join("\n"),
        );
        let c = compare(&a, &b);
        let cats: Vec<(&str, Option<f64>)> = c
            .categories
            .iter()
            .map(|d| (d.id.as_str(), d.difference))
            .collect();
        assert_eq!(cats, [("x", Some(0.25)), ("y", Some(0.25))]);
        let qs: Vec<(&str, Option<f64>)> = c
            .questions
            .iter()
            .map(|d| (d.id.as_str(), d.difference))
            .collect();
        assert_eq!(
            qs,
            [("Q1", Some(0.5)), ("Q2", Some(0.5)), ("Q3", Some(0.0))]
        );
        assert_eq!(
            c.questions[2].b.yes + c.questions[2].b.no,
            1,
            "NA is not counted"
        );
        let p = c.paired.unwrap();
        assert_eq!(p.shared, 2);
        assert_eq!(p.mean_difference, 0.25);
        assert_eq!((p.verdicts.b_only, p.verdicts.both_pass), (1, 1));
        assert_eq!(c.pass_rate_difference.unwrap().difference, 0.5);
    }

    #[test]
    fn no_shared_id_means_no_paired_section_and_says_why() {
        let a = run("a", &line("a1", "pass", "1/1"));
        let b = run("b", &line("b1", "fail", "1/2"));
        let c = compare(&a, &b);
        assert!(c.paired.is_none());
        assert!(c.paired_absent.unwrap().contains("share no id"));
        let b = run(
            "b",
            &[line("a1", "fail", "1/2"), line("b2", "pass", "1/1")].join("\n"),
        );
        let c = compare(&a, &b);
        assert!(c.paired_absent.unwrap().contains("only one id (`a1`)"));
    }

    #[test]
    fn different_specs_and_rubrics_are_warned_about() {
        let a = run("a", &line("1", "pass", "1/1"));
        let other = line("1", "pass", "1/1")
            .replace("\"ab\"", "\"cd\"")
            .replace("\"Q2\"", "\"Q9\"");
        let b = run("b", &other);
        let warnings = compare(&a, &b).warnings;
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("different specs"));
        assert!(warnings[1].contains("questions only in A: Q2; only in B: Q9"));
    }
}
