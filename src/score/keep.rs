//! Joining verdicts with the generated conversations: the training set
//! (`--keep`) and the conversations of the spot-check.
//!
//! A generations line is `{"id": ..., "messages": [{"role": "user" |
//! "assistant" | "system", "content": "..."}, ...]}`; other fields are
//! ignored. The file is read twice for a training set: [`scan`] finds,
//! for each passing id, the one line to keep, and [`write`] writes those
//! lines. Two readings, because a conversation can be kept only once every
//! line of its id is known: an id whose lines hold different messages is
//! reported and kept in neither form, since nothing says which one the
//! judge saw. The second reading checks that the file has not changed.

use super::judgment::Rejection;
use super::training::{self, Candidate, PairCounts, PairPlan, Shaping, Sliced};
use super::{Ratio, Verdict};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufRead, Write};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

#[derive(Deserialize)]
struct GenerationLine {
    id: serde_json::Value,
    messages: Vec<Message>,
    /// What groups the line with others of its scenario, for preference
    /// pairs ([`training::group_key`]).
    #[serde(default)]
    group: Option<serde_json::Value>,
    #[serde(default)]
    scenario: Option<serde_json::Value>,
    #[serde(default)]
    plan: Option<serde_json::Value>,
}

/// Why a generations line is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Not JSON, or not a generation (no `id` or `messages`).
    Malformed(String),
    /// An id that is not a non-empty string or a whole number.
    InvalidId(String),
    Role(String),
    NoUserTurn,
    NoAssistantTurn,
    /// The message at this index (from 1) has no text.
    EmptyMessage(usize),
}

impl Invalid {
    /// A short machine-readable kind, for the manifest.
    pub fn kind(&self) -> &'static str {
        match self {
            Invalid::Malformed(_) => "malformed",
            Invalid::InvalidId(_) => "invalid_id",
            Invalid::Role(_) => "bad_role",
            Invalid::NoUserTurn => "no_user_turn",
            Invalid::NoAssistantTurn => "no_assistant_turn",
            Invalid::EmptyMessage(_) => "empty_message",
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Malformed(e) => f.write_str(e),
            // Worded as for judgments: the rule is the same.
            Invalid::InvalidId(found) => Rejection::InvalidId(found.clone()).fmt(f),
            Invalid::Role(role) => {
                write!(f, "role `{role}` is not user, assistant or system")
            }
            Invalid::NoUserTurn => f.write_str("no user message, so nothing to answer"),
            Invalid::NoAssistantTurn => {
                f.write_str("no assistant message, so nothing to learn from")
            }
            Invalid::EmptyMessage(k) => write!(f, "message {k} is empty"),
        }
    }
}

/// A line's id and messages, or why it is not a generation at all.
pub fn parse_generation(line: &str) -> Result<(String, Vec<Message>), Invalid> {
    parse_grouped(line).map(|(id, messages, _)| (id, messages))
}

/// A generation's id, messages and group key ([`training::group_key`]).
type Grouped = (String, Vec<Message>, Option<[u8; 32]>);

/// A line's id, messages and group key.
fn parse_grouped(line: &str) -> Result<Grouped, Invalid> {
    let parsed: GenerationLine = serde_json::from_str(line)
        .map_err(|e| Invalid::Malformed(format!("not a generation: {e}")))?;
    let group = training::group_key(
        parsed.group.as_ref(),
        parsed.scenario.as_ref(),
        parsed.plan.as_ref(),
    );
    let id = match parsed.id {
        serde_json::Value::String(s) if s.is_empty() => {
            return Err(Invalid::InvalidId("empty".into()));
        }
        serde_json::Value::String(s) if s.trim().is_empty() => {
            return Err(Invalid::InvalidId("blank".into()));
        }
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        serde_json::Value::Number(n) => {
            return Err(Invalid::InvalidId(match n.as_f64() {
                Some(x) => format!("{x:?}"),
                None => n.to_string(),
            }));
        }
        serde_json::Value::Null => return Err(Invalid::InvalidId("null".into())),
        serde_json::Value::Bool(b) => return Err(Invalid::InvalidId(b.to_string())),
        serde_json::Value::Array(_) => return Err(Invalid::InvalidId("a list".into())),
        serde_json::Value::Object(_) => return Err(Invalid::InvalidId("an object".into())),
    };
    Ok((id, parsed.messages, group))
}

/// Whether a conversation can be trained on: known roles, a user turn and
/// an assistant turn, and no empty message.
pub fn check_turns(messages: &[Message]) -> Result<(), Invalid> {
    for (k, m) in messages.iter().enumerate() {
        if !matches!(m.role.as_str(), "user" | "assistant" | "system") {
            return Err(Invalid::Role(m.role.clone()));
        }
        if m.content.trim().is_empty() {
            return Err(Invalid::EmptyMessage(k + 1));
        }
    }
    if !messages.iter().any(|m| m.role == "user") {
        return Err(Invalid::NoUserTurn);
    }
    if !messages.iter().any(|m| m.role == "assistant") {
        return Err(Invalid::NoAssistantTurn);
    }
    Ok(())
}

/// Counts of a training-set join.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeepCounts {
    pub kept: u64,
    /// Usable generations whose record did not pass (or was never scored).
    pub dropped: u64,
    /// Generations lines that cannot be used, and how many of each kind.
    pub invalid: u64,
    pub invalid_by_kind: BTreeMap<&'static str, u64>,
    /// Passing records with no usable generation in the file.
    pub missing: u64,
    /// Lines repeating an earlier generation of a passing id word for word
    /// (kept once).
    pub duplicates: u64,
    /// Passing ids whose lines hold different messages (kept in neither
    /// form), sorted.
    pub conflicting: Vec<String>,
}

/// The conversation of a spot-checked record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// (role, content) per message.
    pub turns: Vec<(String, String)>,
    /// Another line of the same id with other messages, if any.
    pub conflicting_line: Option<u64>,
}

/// What a first reading of the generations found.
#[derive(Debug, Default)]
pub struct Scan {
    pub lines: u64,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    pub counts: KeepCounts,
    /// The conversations of the spot-checked ids.
    pub conversations: HashMap<String, Conversation>,
    /// The lines to write, in file order.
    keep: Vec<u64>,
    /// The conversations that may be paired, and the pairs chosen among
    /// them (with [`Pairing`]).
    candidates: Vec<Candidate>,
    pairs: Vec<PairPlan>,
    pub pair_counts: Option<PairCounts>,
}

/// What the first reading needs to choose preference pairs.
pub struct Pairing<'a> {
    /// Every scored record: its score and verdict.
    pub scores: &'a HashMap<String, (Ratio, Verdict)>,
    /// The system prompt the conversations will begin with.
    pub system_prompt: Option<&'a str>,
    /// The margin, in units of 10⁻⁹.
    pub margin: i64,
}

/// A problem with one generations line, reported as it is found.
pub enum Problem<'a> {
    Invalid(&'a Invalid),
    /// The id's messages differ from those on an earlier line.
    Conflict {
        id: &'a str,
        first_line: u64,
    },
}

struct Seen {
    first_line: u64,
    digest: [u8; 32],
    usable: bool,
    conflict: bool,
}

/// Reads every line of a JSON Lines file, without its line ending and the
/// first line's byte-order mark (`None` for a line that is not UTF-8),
/// hashing the bytes.
fn each_line(
    reader: &mut dyn BufRead,
    hasher: &mut Sha256,
    f: &mut dyn FnMut(u64, Option<&str>) -> io::Result<()>,
) -> io::Result<u64> {
    let mut buffer = Vec::new();
    let mut number = 0u64;
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer)? == 0 {
            return Ok(number);
        }
        hasher.update(&buffer);
        number += 1;
        let bytes = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let bytes = match number {
            1 => bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
            _ => bytes,
        };
        f(number, std::str::from_utf8(bytes).ok())?;
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first reading: counts, the line to keep for each passing id, the
/// conversations of `wanted` (the spot-check's ids), and, with `pairing`,
/// the preference pairs.
pub fn scan(
    generations: &mut dyn BufRead,
    passing: &HashSet<String>,
    wanted: &HashSet<String>,
    pairing: Option<&Pairing>,
    on_problem: &mut dyn FnMut(u64, Problem),
) -> io::Result<Scan> {
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut ungrouped = 0u64;
    let mut out = Scan::default();
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut hasher = Sha256::new();
    let mut counts = KeepCounts::default();
    let mut conversations: HashMap<String, Conversation> = HashMap::new();
    fn invalid(
        counts: &mut KeepCounts,
        on_problem: &mut dyn FnMut(u64, Problem),
        number: u64,
        why: Invalid,
    ) {
        counts.invalid += 1;
        *counts.invalid_by_kind.entry(why.kind()).or_default() += 1;
        on_problem(number, Problem::Invalid(&why));
    }
    let lines = each_line(generations, &mut hasher, &mut |number, line| {
        let Some(line) = line else {
            let why = Invalid::Malformed("the line is not UTF-8".into());
            invalid(&mut counts, on_problem, number, why);
            return Ok(());
        };
        if line.trim().is_empty() {
            return Ok(());
        }
        let (id, messages, group) = match parse_grouped(line) {
            Ok(parsed) => parsed,
            Err(why) => {
                invalid(&mut counts, on_problem, number, why);
                return Ok(());
            }
        };
        let usable = check_turns(&messages);
        let passes = passing.contains(&id);
        let scored = pairing.and_then(|p| p.scores.get(&id).map(|s| (p, s)));
        if passes || wanted.contains(&id) || scored.is_some() {
            let digest: [u8; 32] =
                Sha256::digest(serde_json::to_vec(&messages).unwrap_or_default()).into();
            match seen.get_mut(&id) {
                None => {
                    if let (Some((p, &(score, verdict))), Ok(())) = (scored, &usable) {
                        match group {
                            Some(group) => {
                                let mut open = training::opening(&messages).to_vec();
                                if let Some(prompt) = p.system_prompt {
                                    training::apply_system_prompt(&mut open, prompt);
                                }
                                candidates.push(Candidate {
                                    id: id.clone(),
                                    line: number,
                                    group,
                                    opening: training::opening_digest(&open),
                                    score,
                                    verdict,
                                });
                            }
                            None => ungrouped += 1,
                        }
                    }
                    if wanted.contains(&id) {
                        conversations.insert(
                            id.clone(),
                            Conversation {
                                turns: messages
                                    .iter()
                                    .map(|m| (m.role.clone(), m.content.clone()))
                                    .collect(),
                                conflicting_line: None,
                            },
                        );
                    }
                    seen.insert(
                        id.clone(),
                        Seen {
                            first_line: number,
                            digest,
                            usable: usable.is_ok(),
                            conflict: false,
                        },
                    );
                }
                Some(s) if s.digest == digest => {
                    if passes && usable.is_ok() {
                        counts.duplicates += 1;
                    }
                }
                Some(s) => {
                    if !s.conflict {
                        s.conflict = true;
                        on_problem(
                            number,
                            Problem::Conflict {
                                id: &id,
                                first_line: s.first_line,
                            },
                        );
                        if let Some(c) = conversations.get_mut(&id) {
                            c.conflicting_line = Some(number);
                        }
                    }
                }
            }
        }
        match usable {
            Err(why) => invalid(&mut counts, on_problem, number, why),
            Ok(()) if !passes => counts.dropped += 1,
            Ok(()) => {}
        }
        Ok(())
    })?;
    for (id, s) in &seen {
        if !passing.contains(id) {
            continue;
        }
        if s.conflict {
            counts.conflicting.push(id.clone());
        } else if s.usable {
            out.keep.push(s.first_line);
        }
    }
    out.keep.sort_unstable();
    if let Some(p) = pairing {
        // Neither conversation of an id with two is known to be the one
        // judged.
        candidates.retain(|c| !seen.get(&c.id).is_some_and(|s| s.conflict));
        let (pairs, mut pair_counts) = training::choose_pairs(&candidates, p.margin);
        pair_counts.ungrouped = ungrouped;
        out.pairs = pairs;
        out.pair_counts = Some(pair_counts);
        out.candidates = candidates;
    }
    counts.conflicting.sort();
    counts.kept = out.keep.len() as u64;
    counts.missing = passing.len() as u64 - counts.kept - counts.conflicting.len() as u64;
    out.lines = lines;
    out.sha256 = hex(&hasher.finalize());
    out.counts = counts;
    out.conversations = conversations;
    Ok(out)
}

/// Where the second reading writes.
pub struct Sinks<'a> {
    pub train: &'a mut dyn Write,
    /// The validation set, when the shaping splits.
    pub validation: Option<&'a mut dyn Write>,
    /// The preference pairs of the training set, and of the validation
    /// set.
    pub pairs: Option<&'a mut dyn Write>,
    pub pairs_validation: Option<&'a mut dyn Write>,
}

/// What the second reading wrote.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub train_conversations: u64,
    pub validation_conversations: u64,
    pub train_lines: u64,
    pub validation_lines: u64,
    /// Conversations written as more than one slice.
    pub sliced: u64,
    /// Cut points drawn whose slice could not fit the limit.
    pub slices_over_limit: u64,
    /// Passing conversations whose final exchange alone is over the
    /// limit: not written.
    pub too_long: Vec<String>,
    /// Conversations whose leading system message was replaced by the
    /// training system prompt, and those it was put in front of.
    pub system_replaced: u64,
    pub system_added: u64,
    pub pairs_train: u64,
    pub pairs_validation: u64,
    /// Pairs whose conversations had no prompt in common that ends with a
    /// user message both answer.
    pub pairs_without_prompt: u64,
    /// Pairs whose prompt and chosen or rejected are over `--max-tokens`.
    pub pairs_over_max_tokens: u64,
}

fn write_line(out: &mut dyn Write, value: &serde_json::Value) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The messages of a pair's completion: up to its last assistant message.
fn completion(messages: &[Message]) -> &[Message] {
    match messages.iter().rposition(|m| m.role == "assistant") {
        Some(k) => &messages[..=k],
        None => &[],
    }
}

/// The second reading: writes each line [`scan`] chose, shaped, in the
/// order of the file: `{"messages": [...]}` lines (a conversation's slices
/// one after the other), to the validation set or the training set; then
/// the preference pairs, in the order of their first line. An error if
/// the file is not the one scanned. `on_too_long` hears of each passing
/// conversation not written because its final exchange is over the
/// limit: (line, id, estimated tokens).
pub fn write(
    generations: &mut dyn BufRead,
    scan: &Scan,
    shaping: &Shaping,
    sinks: Sinks,
    on_too_long: &mut dyn FnMut(u64, &str, u64),
) -> io::Result<Written> {
    let Sinks {
        train,
        mut validation,
        pairs,
        pairs_validation,
    } = sinks;
    let mut hasher = Sha256::new();
    let mut next = scan.keep.iter().peekable();
    let mut written = Written::default();
    // The lines of pair members, and the members' messages once read.
    let members: HashMap<u64, usize> = scan
        .pairs
        .iter()
        .flat_map(|p| [p.chosen, p.rejected])
        .map(|k| (scan.candidates[k].line, k))
        .collect();
    let mut read: HashMap<usize, Vec<Message>> = HashMap::new();
    let validating = shaping.validation > 0.0;
    each_line(generations, &mut hasher, &mut |number, line| {
        let keep = next.peek() == Some(&&number);
        let member = members.get(&number).copied();
        if !keep && member.is_none() {
            return Ok(());
        }
        if keep {
            next.next();
        }
        let (id, mut messages) = line
            .and_then(|line| parse_generation(line).ok())
            .ok_or_else(changed)?;
        if let Some(prompt) = &shaping.system_prompt {
            if training::apply_system_prompt(&mut messages, prompt) {
                written.system_replaced += u64::from(keep);
            } else {
                written.system_added += u64::from(keep);
            }
        }
        if let Some(k) = member {
            read.insert(k, messages.clone());
        }
        if !keep {
            return Ok(());
        }
        let slices: Vec<Vec<Message>> = match &shaping.slicing {
            None => vec![messages],
            Some(slicing) => match training::slice(&messages, &id, shaping.seed, slicing) {
                Sliced::TooLong { tokens } => {
                    on_too_long(number, &id, tokens);
                    written.too_long.push(id);
                    return Ok(());
                }
                Sliced::Slices {
                    header,
                    ranges,
                    over_limit,
                } => {
                    written.slices_over_limit += over_limit as u64;
                    written.sliced += u64::from(ranges.len() > 1);
                    ranges
                        .into_iter()
                        .map(|r| {
                            let mut slice = messages[..header].to_vec();
                            slice.extend_from_slice(&messages[header..][r]);
                            slice
                        })
                        .collect()
                }
            },
        };
        let to_validation =
            validating && training::in_validation(shaping.seed, &id, shaping.validation);
        let (out, conversations, lines): (&mut dyn Write, _, _) =
            match (to_validation, validation.as_deref_mut()) {
                (true, Some(v)) => (
                    v,
                    &mut written.validation_conversations,
                    &mut written.validation_lines,
                ),
                _ => (
                    &mut *train,
                    &mut written.train_conversations,
                    &mut written.train_lines,
                ),
            };
        *conversations += 1;
        for slice in slices {
            *lines += 1;
            write_line(out, &serde_json::json!({ "messages": slice }))?;
        }
        Ok(())
    })?;
    if hex(&hasher.finalize()) != scan.sha256 {
        return Err(changed());
    }
    let Some(pairs) = pairs else {
        return Ok(written);
    };
    let mut pairs_validation = pairs_validation;
    let max_tokens = shaping.slicing.and_then(|s| s.max_tokens);
    for plan in &scan.pairs {
        let (c, r) = (
            &scan.candidates[plan.chosen],
            &scan.candidates[plan.rejected],
        );
        let (Some(chosen), Some(rejected)) = (read.get(&plan.chosen), read.get(&plan.rejected))
        else {
            return Err(changed());
        };
        let Some(p) = training::shared_prompt(chosen, rejected) else {
            written.pairs_without_prompt += 1;
            continue;
        };
        let prompt = &chosen[..p];
        let (chosen_rest, rejected_rest) = (completion(&chosen[p..]), completion(&rejected[p..]));
        if let Some(max) = max_tokens {
            let over = |rest: &[Message]| {
                let mut all = prompt.to_vec();
                all.extend_from_slice(rest);
                training::estimate_tokens(&all) > max
            };
            if over(chosen_rest) || over(rejected_rest) {
                written.pairs_over_max_tokens += 1;
            }
        }
        let line = serde_json::json!({
            "prompt": prompt,
            "chosen": chosen_rest,
            "rejected": rejected_rest,
            "ids": {"chosen": c.id, "rejected": r.id},
            "scores": {"chosen": round4(c.score.to_f64()), "rejected": round4(r.score.to_f64())},
            "verdicts": {"chosen": c.verdict.as_str(), "rejected": r.verdict.as_str()},
        });
        let to_validation = validating
            && (training::in_validation(shaping.seed, &c.id, shaping.validation)
                || training::in_validation(shaping.seed, &r.id, shaping.validation));
        match (to_validation, pairs_validation.as_deref_mut()) {
            (true, Some(v)) => {
                written.pairs_validation += 1;
                write_line(v, &line)?;
            }
            _ => {
                written.pairs_train += 1;
                write_line(&mut *pairs, &line)?;
            }
        }
    }
    Ok(written)
}

fn changed() -> io::Error {
    io::Error::other("the file changed while it was read; run again once it is complete")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, turns: &[(&str, &str)]) -> String {
        let messages: Vec<serde_json::Value> = turns
            .iter()
            .map(|(r, c)| serde_json::json!({"role": r, "content": c}))
            .collect();
        serde_json::json!({"id": id, "messages": messages}).to_string()
    }

    fn join(text: &str, passing: &[&str]) -> (Scan, String, Vec<String>) {
        let passing: HashSet<String> = passing.iter().map(|s| s.to_string()).collect();
        let mut problems = Vec::new();
        let scanned = scan(
            &mut text.as_bytes(),
            &passing,
            &HashSet::new(),
            None,
            &mut |n, p| {
                problems.push(match p {
                    Problem::Invalid(why) => format!("{n}: {}: {why}", why.kind()),
                    Problem::Conflict { id, first_line } => {
                        format!("{n}: {id} also on {first_line}")
                    }
                })
            },
        )
        .unwrap();
        let mut out = Vec::new();
        write(
            &mut text.as_bytes(),
            &scanned,
            &Shaping::default(),
            sinks(&mut out),
            &mut |_, _, _| {},
        )
        .unwrap();
        (scanned, String::from_utf8(out).unwrap(), problems)
    }

    fn sinks(train: &mut Vec<u8>) -> Sinks<'_> {
        Sinks {
            train,
            validation: None,
            pairs: None,
            pairs_validation: None,
        }
    }

    const OK: &[(&str, &str)] = &[("user", "hi"), ("assistant", "hello")];

    #[test]
    fn conversations_without_a_user_or_assistant_turn_or_with_an_empty_message_are_skipped() {
        let text = [
            line("a", OK),
            line("b", &[("assistant", "hello")]),
            line("c", &[("system", "s"), ("user", "hi")]),
            line("d", &[("user", "hi"), ("assistant", "  ")]),
            line("e", &[("user", "hi"), ("robot", "beep")]),
        ]
        .join("\n");
        let (scanned, out, problems) = join(&text, &["a", "b", "c", "d", "e"]);
        assert_eq!(out.lines().count(), 1);
        assert_eq!(
            problems,
            [
                "2: no_user_turn: no user message, so nothing to answer",
                "3: no_assistant_turn: no assistant message, so nothing to learn from",
                "4: empty_message: message 2 is empty",
                "5: bad_role: role `robot` is not user, assistant or system",
            ]
        );
        let c = &scanned.counts;
        assert_eq!((c.kept, c.invalid, c.missing), (1, 4, 4));
        assert_eq!(c.invalid_by_kind.len(), 4);
    }

    #[test]
    fn an_id_with_different_conversations_is_reported_and_not_kept() {
        let other = &[("user", "hi"), ("assistant", "something else")];
        let text = [
            line("a", OK),
            line("b", OK),
            line("a", other),
            line("b", OK),
            line("a", OK),
        ]
        .join("\r\n");
        let (scanned, out, problems) = join(&text, &["a", "b"]);
        assert_eq!(problems, ["3: a also on 1"]);
        assert_eq!(scanned.counts.conflicting, ["a"]);
        assert_eq!(scanned.counts.duplicates, 2);
        assert_eq!((scanned.counts.kept, scanned.counts.missing), (1, 0));
        assert_eq!(
            out,
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]}\n"
        );
    }

    #[test]
    fn a_byte_order_mark_and_crlf_are_read() {
        let text = format!("\u{feff}{}\r\n{}\r\n", line("a", OK), line("b", OK));
        let (scanned, out, problems) = join(&text, &["a", "b"]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(scanned.counts.kept, 2);
        assert_eq!(scanned.lines, 2);
        assert_eq!(out.lines().count(), 2);
    }

    #[test]
    fn ids_follow_the_judgments_rule() {
        let text = [
            r#"{"id": 7, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}"#,
            r#"{"id": 1.0, "messages": []}"#,
            r#"{"id": "", "messages": []}"#,
        ]
        .join("\n");
        let (_, out, problems) = join(&text, &["7"]);
        assert_eq!(out.lines().count(), 1);
        assert_eq!(
            problems,
            [
                "2: invalid_id: `id` is 1.0: an id is a non-empty string or a whole number",
                "3: invalid_id: `id` is empty: an id is a non-empty string or a whole number",
            ]
        );
    }

    #[test]
    fn a_file_that_changed_between_the_readings_is_an_error() {
        let first = line("a", OK);
        let passing: HashSet<String> = ["a".to_string()].into();
        let scanned = scan(
            &mut first.as_bytes(),
            &passing,
            &HashSet::new(),
            None,
            &mut |_, _| {},
        )
        .unwrap();
        let second = format!("{first}\n{}", line("b", OK));
        let mut out = Vec::new();
        let error = write(
            &mut second.as_bytes(),
            &scanned,
            &Shaping::default(),
            sinks(&mut out),
            &mut |_, _, _| {},
        )
        .unwrap_err();
        assert!(error.to_string().contains("changed while it was read"));
    }
}
