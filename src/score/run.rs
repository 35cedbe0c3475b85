//! The streaming scorer: judgment lines in, verdicts and statistics out.
//!
//! Lines are read one at a time. All judgments of one id (repeat sampling,
//! several judges, one file per judge) form one record, combined by the
//! aggregation policy of [`Options::aggregate`] ([`super::aggregate`]).
//! Each line that names its judge is also scored on its own, for the
//! judge's pass rate.
//!
//! Where the judgments of an id can be is the one choice that decides
//! memory. By default they can be anywhere in the input, so a record is
//! complete only at the end: records are held, one compact entry per id,
//! and scored in the order their ids first appeared. With
//! [`Options::grouped`], the caller promises that the judgments of an id
//! are on adjacent lines (as a judging run writes them); then each record
//! is scored as soon as the next id starts, written as a verdict line if
//! asked, added to the statistics, and dropped, and what stays in memory
//! is the statistics, the spot-check reservoirs (N records) and the ids of
//! passing records when a training set is to be joined.

use super::aggregate::{Aggregate, Combiner};
use super::judgment::{QuestionIndex, Rejection, parse_line};
use super::stats::Stats;
use super::{Answer, Outcome, Ratio, ScoringRubric, Verdict};
use indexmap::{IndexMap, IndexSet};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, Write};

/// One input: a name for messages and a reader.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn BufRead>,
}

/// A rejected line, as reported and written to the rejects file.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub file: String,
    pub line: u64,
    pub kind: &'static str,
    pub reason: String,
    pub raw: String,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Spot-check: records per stratum to keep, and the sampling seed.
    pub sample: Option<(usize, u64)>,
    /// Keep the ids of passing records (for a training set).
    pub collect_passing: bool,
    /// Keep every record's score and verdict (for preference pairs).
    pub collect_scores: bool,
    /// The judgments of one id are on adjacent lines: stream, holding no
    /// record once the next id starts.
    pub grouped: bool,
    /// The SHA-256 of the spec being scored with: lines that carry another
    /// `spec_sha256` are counted per file in [`Outputs::spec_mismatches`].
    pub spec_sha256: Option<String>,
    /// How the judgments of a record are combined.
    pub aggregate: Aggregate,
}

/// Lines of one file judged with another spec than the one scored with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecMismatch {
    pub file: String,
    pub lines: u64,
    /// The first other `spec_sha256` seen in the file.
    pub spec_sha256: String,
}

/// A record kept for the spot-check.
#[derive(Debug, Clone)]
pub struct Sampled {
    pub id: String,
    pub verdict: Verdict,
    pub score: String,
    pub answers: Vec<Answer>,
    pub gate_failures: Vec<usize>,
    /// The raw judgment lines (for the evidence), and their judges.
    pub raw: Vec<String>,
    pub judges: Vec<String>,
    /// The judgment whose evidence is shown: under `strictest`, the one
    /// that decided the record.
    pub evidence: usize,
    pub judgments: usize,
}

pub struct Outputs {
    pub stats: Stats,
    /// Reservoirs of the spot-check, by verdict: pass, fail, gate_fail.
    pub samples: [Vec<Sampled>; 3],
    pub passing: HashSet<String>,
    /// Every record's score and verdict, with [`Options::collect_scores`].
    pub scores: HashMap<String, (Ratio, Verdict)>,
    /// Files with lines judged with another spec, in input order.
    pub spec_mismatches: Vec<SpecMismatch>,
}

/// Deterministic xorshift64* for reservoir sampling.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// The judgments of the current id. Reused from record to record, so a
/// run allocates per record only what it keeps.
#[derive(Default)]
struct Group {
    active: bool,
    id: String,
    /// `judgments[..count]` are this record's; the rest are spare buffers.
    judgments: Vec<Vec<Answer>>,
    count: usize,
    raw: Vec<String>,
    judges: Vec<String>,
}

/// Records held until the end of the input, when the judgments of an id
/// may be anywhere. Compact, since it holds every id: the answers of all
/// judgments in one arena, each id's judgments chained through `next`.
#[derive(Default)]
struct Held {
    /// Id → its judgments and judges, in the order ids first appeared.
    ids: IndexMap<Box<str>, HeldRecord>,
    /// `questions` answers per judgment.
    answers: Vec<Answer>,
    /// The next judgment of the same id, or `u32::MAX`.
    next: Vec<u32>,
    /// The raw line of each judgment, only when sampling needs it.
    raw: Vec<Box<str>>,
    keep_raw: bool,
    /// Judge names, interned.
    judges: IndexSet<Box<str>>,
    questions: usize,
}

#[derive(Default)]
struct HeldRecord {
    first: u32,
    last: u32,
    judges: Vec<u32>,
}

impl Held {
    /// Keeps the judgments of `group`, after any earlier ones of its id.
    fn hold(&mut self, group: &Group) {
        let record = match self.ids.get_index_of(group.id.as_str()) {
            Some(k) => k,
            None => {
                let first = self.next.len() as u32;
                let record = HeldRecord {
                    first,
                    last: u32::MAX,
                    judges: Vec::new(),
                };
                self.ids.insert_full(group.id.as_str().into(), record).0
            }
        };
        let (_, record) = &mut self
            .ids
            .get_index_mut(record)
            .expect("just found or inserted");
        for judgment in &group.judgments[..group.count] {
            let n = self.next.len() as u32;
            self.answers.extend_from_slice(judgment);
            self.next.push(u32::MAX);
            if record.last != u32::MAX {
                self.next[record.last as usize] = n;
            }
            record.last = n;
        }
        if self.keep_raw {
            self.raw.extend(group.raw.iter().map(|r| r.as_str().into()));
        }
        for judge in &group.judges {
            let (j, _) = self.judges.insert_full(judge.as_str().into());
            if !record.judges.contains(&(j as u32)) {
                record.judges.push(j as u32);
            }
        }
    }

    /// Rebuilds the record of the `k`th id into `group`.
    fn load(&self, k: usize, group: &mut Group) {
        let Some((id, record)) = self.ids.get_index(k) else {
            return;
        };
        group.active = true;
        group.id.clear();
        group.id.push_str(id);
        group.count = 0;
        group.raw.clear();
        group.judges.clear();
        group.judges.extend(
            record
                .judges
                .iter()
                .filter_map(|&j| self.judges.get_index(j as usize))
                .map(|j| j.to_string()),
        );
        let mut n = record.first;
        while n != u32::MAX {
            let i = n as usize;
            let answers = &self.answers[i * self.questions..(i + 1) * self.questions];
            match group.judgments.get_mut(group.count) {
                Some(buffer) => {
                    buffer.clear();
                    buffer.extend_from_slice(answers);
                }
                None => group.judgments.push(answers.to_vec()),
            }
            group.count += 1;
            if let Some(raw) = self.raw.get(i) {
                group.raw.push(raw.to_string());
            }
            n = self.next[i];
        }
    }
}

pub fn answer_str(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "YES",
        Answer::No => "NO",
        Answer::Na => "NA",
        Answer::Omitted => "OMITTED",
        Answer::Error => "ERROR",
        Answer::NotAsked => "NOT_ASKED",
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[derive(Serialize)]
struct GateLine<'a> {
    held: bool,
    failed: Vec<&'a str>,
}

#[derive(Serialize)]
struct VerdictLine<'a> {
    id: &'a str,
    judgments: usize,
    verdict: &'static str,
    score: f64,
    score_exact: String,
    gate: GateLine<'a>,
    categories: IndexMap<&'a str, Option<f64>>,
    /// For a record judged more than once: the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregate: Option<&'static str>,
    /// The record's answer to each question (under the policy, for a
    /// record judged more than once): what `ftprep compare` reads the
    /// YES rates from.
    answers: IndexMap<&'a str, &'static str>,
    /// For a record judged more than once: the share of votes that gave
    /// each answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    agreement: Option<IndexMap<&'a str, Option<f64>>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    judges: Vec<&'a str>,
    /// The spec scored with, so a verdicts file says which it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    spec_sha256: Option<&'a str>,
}

/// Scores every input. `verdicts` receives one JSON line per record;
/// `on_reject` is called for every rejected line, in input order.
pub fn run(
    rubric: &ScoringRubric,
    inputs: Vec<Input>,
    options: &Options,
    mut verdicts: Option<&mut dyn Write>,
    on_reject: &mut dyn FnMut(&Rejected),
) -> io::Result<Outputs> {
    let index = QuestionIndex::new(rubric);
    let mut stats = Stats::new(rubric);
    let mut samples: [Vec<Sampled>; 3] = Default::default();
    let mut seen_in_stratum = [0u64; 3];
    let mut rng = Rng(options.sample.map(|(_, s)| s).unwrap_or(0) ^ 0x9E37_79B9_7F4A_7C15);
    let mut passing = HashSet::new();
    let mut scores = HashMap::new();
    let mut answers = Vec::new();
    let mut slots = Vec::new();
    let mut outcome = Outcome::default();
    let mut alone = Outcome::default();
    let mut combiner = Combiner::default();
    let mut combined = Vec::new();
    let mut group = Group::default();
    let mut held = Held {
        questions: index.len(),
        keep_raw: options.sample.is_some(),
        ..Held::default()
    };
    let mut buffer = Vec::new();
    let mut spec_mismatches = Vec::new();

    let mut finish = |group: &Group,
                      stats: &mut Stats,
                      verdicts: &mut Option<&mut dyn Write>,
                      combined: &mut Vec<Answer>,
                      outcome: &mut Outcome|
     -> io::Result<()> {
        let judgments = &group.judgments[..group.count];
        // Parsing rejected every line that leaves out or answers N/A a
        // question that always applies, and each policy picks an answer
        // some judgment gave (or ERROR), so scoring cannot fail here.
        let Ok(decided_by) =
            combiner.combine(rubric, options.aggregate, judgments, combined, outcome)
        else {
            return Ok(());
        };
        let votes = combiner.votes();
        stats.add_record(
            combined,
            outcome,
            if judgments.len() > 1 { votes } else { &[] },
        );
        if let Some(out) = verdicts.as_deref_mut() {
            let categories = rubric
                .categories
                .iter()
                .zip(&outcome.categories)
                .map(|(c, o)| (c.id.as_str(), o.score.map(|s| round4(s.to_f64()))))
                .collect();
            let repeated = judgments.len() > 1;
            let line = VerdictLine {
                id: &group.id,
                judgments: judgments.len(),
                verdict: outcome.verdict.as_str(),
                score: round4(outcome.score.to_f64()),
                score_exact: format!("{}/{}", outcome.score.numer(), outcome.score.denom()),
                gate: GateLine {
                    held: outcome.gate_held,
                    failed: outcome
                        .gate_failures
                        .iter()
                        .map(|&g| rubric.gate[g].id.as_str())
                        .collect(),
                },
                categories,
                aggregate: repeated.then_some(options.aggregate.as_str()),
                answers: index
                    .ids()
                    .iter()
                    .zip(combined.iter())
                    .map(|(id, a)| (id.as_str(), answer_str(*a)))
                    .collect(),
                agreement: repeated.then(|| {
                    index
                        .ids()
                        .iter()
                        .zip(votes.iter().zip(combined.iter()))
                        .map(|(id, (v, a))| (id.as_str(), v.share(*a).map(round4)))
                        .collect()
                }),
                judges: group.judges.iter().map(String::as_str).collect(),
                spec_sha256: options.spec_sha256.as_deref(),
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        let stratum = match outcome.verdict {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::GateFail => 2,
        };
        if options.collect_passing && outcome.verdict == Verdict::Pass {
            passing.insert(group.id.clone());
        }
        if options.collect_scores {
            scores.insert(group.id.clone(), (outcome.score, outcome.verdict));
        }
        if let Some((n, _)) = options.sample {
            seen_in_stratum[stratum] += 1;
            let seen = seen_in_stratum[stratum];
            let slot = if samples[stratum].len() < n {
                Some(samples[stratum].len())
            } else {
                let j = rng.below(seen) as usize;
                (j < n).then_some(j)
            };
            if let Some(slot) = slot {
                let sampled = Sampled {
                    id: group.id.clone(),
                    verdict: outcome.verdict,
                    score: outcome.score.to_decimal_string(4),
                    answers: combined.clone(),
                    gate_failures: outcome.gate_failures.clone(),
                    raw: group.raw.clone(),
                    judges: group.judges.clone(),
                    evidence: decided_by,
                    judgments: judgments.len(),
                };
                if slot == samples[stratum].len() {
                    samples[stratum].push(sampled);
                } else {
                    samples[stratum][slot] = sampled;
                }
            }
        }
        Ok(())
    };

    // The judgments of an id are all read: score the record now, or hold
    // it until the end when more of its judgments may come.
    let mut close = |group: &Group,
                     held: &mut Held,
                     stats: &mut Stats,
                     verdicts: &mut Option<&mut dyn Write>|
     -> io::Result<()> {
        if options.grouped {
            finish(group, stats, verdicts, &mut combined, &mut outcome)
        } else {
            held.hold(group);
            Ok(())
        }
    };
    let keep_raw = options.sample.is_some();
    for input in inputs {
        let mut reader = input.reader;
        let mut line_number = 0u64;
        let mut mismatch = SpecMismatch {
            file: input.name.clone(),
            lines: 0,
            spec_sha256: String::new(),
        };
        loop {
            buffer.clear();
            if reader.read_until(b'\n', &mut buffer)? == 0 {
                break;
            }
            line_number += 1;
            stats.lines += 1;
            let bytes = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            // A byte-order mark, as some Windows editors write at the start.
            let bytes = match line_number {
                1 => bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
                _ => bytes,
            };
            let parsed = match std::str::from_utf8(bytes) {
                Ok(text) if text.trim().is_empty() => {
                    stats.blank_lines += 1;
                    continue;
                }
                Ok(text) => {
                    let mut spec_tag = None;
                    let parsed = parse_line(text, &index, &mut answers, &mut slots, &mut spec_tag)
                        .map(|j| (j, text));
                    if let (Some(expected), Some(found)) = (&options.spec_sha256, &spec_tag)
                        && !expected.eq_ignore_ascii_case(found)
                    {
                        if mismatch.lines == 0 {
                            mismatch.spec_sha256 = found.to_string();
                        }
                        mismatch.lines += 1;
                    }
                    parsed
                }
                Err(_) => Err(Rejection::Malformed("the line is not UTF-8".into())),
            };
            match parsed {
                Ok((judgment, text)) => {
                    stats.valid_lines += 1;
                    stats.judgments += 1;
                    // A judge's pass rate is of its judgments scored alone;
                    // parsing checked what scoring needs, so this succeeds.
                    let alone = match &judgment.judge {
                        Some(_) => rubric.score_into(&answers, &mut alone).ok().map(|_| &alone),
                        None => None,
                    };
                    stats.add_judgment(
                        judgment.judge.as_deref(),
                        &answers,
                        alone,
                        &judgment.error_classes,
                    );
                    if !(group.active && group.id == judgment.id) {
                        if group.active {
                            close(&group, &mut held, &mut stats, &mut verdicts)?;
                        }
                        group.active = true;
                        group.id.clear();
                        group.id.push_str(&judgment.id);
                        group.count = 0;
                        group.raw.clear();
                        group.judges.clear();
                    }
                    match group.judgments.get_mut(group.count) {
                        Some(buffer) => {
                            buffer.clear();
                            buffer.extend_from_slice(&answers);
                        }
                        None => group.judgments.push(answers.clone()),
                    }
                    group.count += 1;
                    if keep_raw {
                        group.raw.push(text.to_string());
                    }
                    if let Some(judge) = judgment.judge
                        && !group.judges.iter().any(|j| *j == judge)
                    {
                        group.judges.push(judge.into_owned());
                    }
                }
                Err(rejection) => {
                    stats.rejected_lines += 1;
                    *stats.rejected_by_kind.entry(rejection.kind()).or_default() += 1;
                    on_reject(&Rejected {
                        file: input.name.clone(),
                        line: line_number,
                        kind: rejection.kind(),
                        reason: rejection.to_string(),
                        raw: String::from_utf8_lossy(bytes).into_owned(),
                    });
                }
            }
        }
        if mismatch.lines > 0 {
            spec_mismatches.push(mismatch);
        }
    }
    if group.active {
        close(&group, &mut held, &mut stats, &mut verdicts)?;
    }
    for k in 0..held.ids.len() {
        held.load(k, &mut group);
        finish(
            &group,
            &mut stats,
            &mut verdicts,
            &mut combined,
            &mut outcome,
        )?;
    }
    stats.finish();
    Ok(Outputs {
        stats,
        samples,
        passing,
        scores,
        spec_mismatches,
    })
}
