//! What `ftprep score --keep` does to a kept conversation before it is
//! written, and how preference pairs are chosen: the training system
//! prompt, the train/validation split, slicing, and the pairs' keys and
//! prompts. Pure functions; [`super::keep`] reads and writes the files.
//! Every rule here is documented in docs/scoring.md (Training set).

use super::keep::Message;
use super::{Ratio, Verdict};
use crate::llm::engine::cost::{PER_REQUEST, estimate_message};
use sha2::{Digest, Sha256};
use std::ops::Range;

/// How the kept conversations are shaped.
#[derive(Debug, Clone, Default)]
pub struct Shaping {
    /// The system message every conversation begins with; `None` keeps
    /// the conversations' own messages (`--no-system-prompt`).
    pub system_prompt: Option<String>,
    /// The seed of the split and of the slicing.
    pub seed: u64,
    /// The share of conversations in the validation set (0: no split).
    pub validation: f64,
    pub slicing: Option<Slicing>,
    /// The smallest score difference (exclusive) of a preference pair, in
    /// units of 10⁻⁹; `None`: no pairs.
    pub pair_margin: Option<i64>,
}

/// `--slice`: how a conversation is cut into slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slicing {
    /// The estimated tokens a slice may hold (`None`: no limit).
    pub max_tokens: Option<u64>,
    /// The most slices a conversation becomes, its final one included.
    pub slices: usize,
}

/// Puts the training system prompt first: a leading system message is
/// replaced (it is the prompt the conversation was generated with, which
/// is not the one the model will run with); otherwise the prompt is
/// inserted. Returns whether a message was replaced.
pub fn apply_system_prompt(messages: &mut Vec<Message>, prompt: &str) -> bool {
    match messages.first_mut() {
        Some(first) if first.role == "system" => {
            first.content = prompt.to_string();
            true
        }
        _ => {
            messages.insert(
                0,
                Message {
                    role: "system".into(),
                    content: prompt.to_string(),
                },
            );
            false
        }
    }
}

/// 64 bits of SHA-256 over a purpose, the seed and an id: the same on
/// every machine, and independent of the other ids, so a conversation's
/// split and slices do not change when the file grows.
fn hash64(purpose: &str, seed: u64, id: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update([0]);
    hasher.update(seed.to_le_bytes());
    hasher.update(id.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Whether conversation `id` belongs to the validation set: the first 64
/// bits of SHA-256("ftprep-split", 0, seed as 8 little-endian bytes, id),
/// read as a number below 2⁶⁴, fall below `share` × 2⁶⁴.
pub fn in_validation(seed: u64, id: &str, share: f64) -> bool {
    if share <= 0.0 {
        return false;
    }
    let threshold = (share.min(1.0) * 18_446_744_073_709_551_616.0).round() as u128;
    (hash64("ftprep-split", seed, id) as u128) < threshold
}

/// SplitMix64: a small generator, stable across machines.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform below `n` (> 0), without modulo bias.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// The estimated tokens of a chat of these messages
/// ([`estimate_message`] each, and [`PER_REQUEST`]).
pub fn estimate_tokens(messages: &[Message]) -> u64 {
    PER_REQUEST
        + messages
            .iter()
            .map(|m| estimate_message(&m.content))
            .sum::<u64>()
}

/// The slices of one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sliced {
    /// Each slice: the leading system message (when there is one) and the
    /// messages `range` of the rest, cut points in order, the final slice
    /// last.
    Slices {
        header: usize,
        ranges: Vec<Range<usize>>,
        /// Cut points drawn whose slice could not fit the limit even from
        /// the exchange that ends there.
        over_limit: usize,
    },
    /// Not even the final exchange (with the system message) fits.
    TooLong { tokens: u64 },
}

/// Cuts a conversation into slices (`--slice`).
///
/// The conversation is its leading system message (the header, in every
/// slice) and the rest. A gap is a place in the rest where an assistant
/// message is followed by a user message: where one exchange ends and the
/// next begins. A slice ends at a gap or at the end of the last assistant
/// message, so it ends with the assistant's turn, and begins at the start
/// or at a gap.
///
/// The final slice ends with the last assistant message: the whole
/// conversation when it fits the limit (user messages after the last
/// assistant message are left out: nothing answers them), else its
/// longest window that does. The other slices end at cut points drawn,
/// seeded by the seed and the id, uniformly without replacement from the
/// gaps before the last assistant message (so every cut point comes
/// after the first exchange), up to `slices − 1` of them; each holds as
/// much of the conversation before its cut point as fits. A conversation
/// of one exchange is one slice.
pub fn slice(messages: &[Message], id: &str, seed: u64, slicing: &Slicing) -> Sliced {
    let header = usize::from(messages.first().is_some_and(|m| m.role == "system"));
    let body = &messages[header..];
    let Some(last_assistant) = body.iter().rposition(|m| m.role == "assistant") else {
        // check_turns keeps only conversations with an assistant message.
        return Sliced::Slices {
            header,
            ranges: std::iter::once(0..body.len()).collect(),
            over_limit: 0,
        };
    };
    let end = last_assistant + 1;
    let gaps: Vec<usize> = (1..body.len())
        .filter(|&g| body[g - 1].role == "assistant" && body[g].role == "user")
        .collect();
    let starts: Vec<usize> = std::iter::once(0).chain(gaps.iter().copied()).collect();
    // prefix[k]: the tokens of body[..k].
    let mut prefix = Vec::with_capacity(body.len() + 1);
    prefix.push(0u64);
    for m in body {
        let last = prefix.last().copied().unwrap_or(0);
        prefix.push(last + estimate_message(&m.content));
    }
    let fixed = estimate_tokens(&messages[..header]);
    let tokens = |s: usize, e: usize| fixed + prefix[e] - prefix[s];
    // The longest window ending at `e` within the limit.
    let window = |e: usize| -> Option<Range<usize>> {
        let s = starts
            .iter()
            .copied()
            .filter(|&s| s < e)
            .find(|&s| slicing.max_tokens.is_none_or(|max| tokens(s, e) <= max))?;
        Some(s..e)
    };
    let Some(last) = window(end) else {
        let s = starts
            .iter()
            .copied()
            .filter(|&s| s < end)
            .max()
            .unwrap_or(0);
        return Sliced::TooLong {
            tokens: tokens(s, end),
        };
    };
    let mut candidates: Vec<usize> = gaps.into_iter().filter(|&g| g < end).collect();
    let draws = slicing.slices.saturating_sub(1).min(candidates.len());
    let mut rng = SplitMix(hash64("ftprep-slice", seed, id));
    for k in 0..draws {
        let j = k + rng.below((candidates.len() - k) as u64) as usize;
        candidates.swap(k, j);
    }
    let mut cuts: Vec<usize> = candidates[..draws].to_vec();
    cuts.sort_unstable();
    let mut ranges = Vec::with_capacity(draws + 1);
    let mut over_limit = 0;
    for cut in cuts {
        match window(cut) {
            Some(r) => ranges.push(r),
            None => over_limit += 1,
        }
    }
    ranges.push(last);
    Sliced::Slices {
        header,
        ranges,
        over_limit,
    }
}

/// JSON with the keys of every object sorted: the same text for the same
/// value whatever order a writer put the keys in.
fn canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (k, key) in keys.into_iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    canonical(v, out);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (k, v) in items.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What groups a generations line with the others of its scenario, for
/// preference pairs: its `group` field, else its `scenario` field, else
/// the `cell` and `persona` of its `plan` (as `ftprep generate` writes
/// it); `None` when the line has none of them. Objects are compared with
/// their keys in any order. Hashed: the key of a set is 32 bytes however
/// large its persona.
pub fn group_key(
    group: Option<&serde_json::Value>,
    scenario: Option<&serde_json::Value>,
    plan: Option<&serde_json::Value>,
) -> Option<[u8; 32]> {
    fn present(v: Option<&serde_json::Value>) -> Option<&serde_json::Value> {
        v.filter(|v| !v.is_null())
    }
    let mut text = String::new();
    if let Some(v) = present(group) {
        text.push_str("group:");
        canonical(v, &mut text);
    } else if let Some(v) = present(scenario) {
        text.push_str("scenario:");
        canonical(v, &mut text);
    } else {
        let plan = plan?.as_object()?;
        let cell = present(plan.get("cell"))?;
        text.push_str("plan:");
        canonical(
            &serde_json::json!({
                "cell": cell,
                "persona": plan.get("persona").cloned().unwrap_or(serde_json::Value::Null),
            }),
            &mut text,
        );
    }
    Some(Sha256::digest(text.as_bytes()).into())
}

/// The opening of a conversation: its messages up to and including the
/// first user message (the system message first, as it will be
/// written). Two conversations are paired only when their openings are
/// the same, message for message.
pub fn opening(messages: &[Message]) -> &[Message] {
    match messages.iter().position(|m| m.role == "user") {
        Some(k) => &messages[..=k],
        None => messages,
    }
}

/// The hash of a conversation's [`opening`].
pub fn opening_digest(messages: &[Message]) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(opening(messages)).unwrap_or_default()).into()
}

/// The length of a pair's prompt: the longest run of leading messages the
/// two conversations share, cut back so that it ends with a user message
/// that both answer with an assistant message. `None` when they do not
/// share their opening that way.
pub fn shared_prompt(a: &[Message], b: &[Message]) -> Option<usize> {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    (1..=common).rev().find(|&p| {
        a[p - 1].role == "user"
            && a.get(p).is_some_and(|m| m.role == "assistant")
            && b.get(p).is_some_and(|m| m.role == "assistant")
    })
}

/// A scored conversation that may become half of a pair.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub line: u64,
    pub group: [u8; 32],
    pub opening: [u8; 32],
    pub score: Ratio,
    pub verdict: Verdict,
}

impl Candidate {
    /// The score pairs are ranked by: a gate failure fails whatever its
    /// categories score, so it counts as 0.
    pub fn rank(&self) -> Ratio {
        match self.verdict {
            Verdict::GateFail => Ratio::zero(),
            _ => self.score,
        }
    }
}

/// A pair chosen from the first reading: the lines of its two
/// conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairPlan {
    pub chosen: usize,
    pub rejected: usize,
}

/// How the pairs were chosen, for the manifest.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PairCounts {
    /// Scored, usable conversations with a group key.
    pub conversations: u64,
    /// Scored, usable conversations without one (not paired).
    pub ungrouped: u64,
    /// Distinct group keys.
    pub scenarios: u64,
    /// Distinct (scenario, opening) sets: the conversations that can be
    /// paired with each other.
    pub sets: u64,
    /// Sets of one conversation: nothing to pair it with.
    pub sets_of_one: u64,
    /// Sets of two or more without a passing conversation.
    pub no_passing: u64,
    /// Sets whose best and worst are not more than the margin apart.
    pub within_margin: u64,
    /// Pairs chosen.
    pub pairs: u64,
}

/// Chooses the pairs: in each set of conversations that share their
/// scenario and their opening, the passing conversation with the highest
/// score (chosen) and the conversation with the lowest rank (rejected),
/// when the chosen's score exceeds the rejected's rank by more than the
/// margin. Ties go to the conversation earlier in the file. Pairs come
/// in the order of their first line.
pub fn choose_pairs(candidates: &[Candidate], margin: i64) -> (Vec<PairPlan>, PairCounts) {
    use std::collections::{BTreeMap, HashSet};
    let margin = Ratio::new(margin as i128, super::SCALE as i128);
    let mut sets: BTreeMap<([u8; 32], [u8; 32]), Vec<usize>> = BTreeMap::new();
    let mut scenarios = HashSet::new();
    for (k, c) in candidates.iter().enumerate() {
        sets.entry((c.group, c.opening)).or_default().push(k);
        scenarios.insert(c.group);
    }
    let mut counts = PairCounts {
        conversations: candidates.len() as u64,
        scenarios: scenarios.len() as u64,
        sets: sets.len() as u64,
        ..PairCounts::default()
    };
    let mut pairs = Vec::new();
    for members in sets.values() {
        if members.len() < 2 {
            counts.sets_of_one += 1;
            continue;
        }
        let by_line = |k: &usize| candidates[*k].line;
        let mut ordered = members.clone();
        ordered.sort_by_key(by_line);
        let best = ordered
            .iter()
            .copied()
            .filter(|&k| candidates[k].verdict == Verdict::Pass)
            // The highest score; the earliest line among equals.
            .fold(None::<usize>, |best, k| match best {
                Some(b) if candidates[b].score >= candidates[k].score => Some(b),
                _ => Some(k),
            });
        let Some(best) = best else {
            counts.no_passing += 1;
            continue;
        };
        let worst =
            ordered
                .iter()
                .copied()
                .filter(|&k| k != best)
                .fold(None::<usize>, |worst, k| match worst {
                    Some(w) if candidates[w].rank() <= candidates[k].rank() => Some(w),
                    _ => Some(k),
                });
        let Some(worst) = worst else {
            counts.sets_of_one += 1;
            continue;
        };
        let gap = candidates[best].score
            + Ratio::new(
                -candidates[worst].rank().numer(),
                candidates[worst].rank().denom(),
            );
        if gap <= margin {
            counts.within_margin += 1;
            continue;
        }
        pairs.push(PairPlan {
            chosen: best,
            rejected: worst,
        });
    }
    pairs.sort_by_key(|p| candidates[p.chosen].line.min(candidates[p.rejected].line));
    counts.pairs = pairs.len() as u64;
    (pairs, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: &str, content: &str) -> Message {
        Message {
            role: role.into(),
            content: content.into(),
        }
    }

    /// A conversation of `n` exchanges, each message `len` bytes.
    fn conversation(n: usize, len: usize) -> Vec<Message> {
        let mut out = vec![m("system", "s")];
        for k in 0..n {
            out.push(m("user", &format!("{k:0len$}")));
            out.push(m("assistant", &format!("{k:0len$}")));
        }
        out
    }

    #[test]
    fn a_leading_system_message_is_replaced_otherwise_the_prompt_is_inserted() {
        let mut with = vec![m("system", "long generation prompt"), m("user", "hi")];
        assert!(apply_system_prompt(&mut with, "short"));
        assert_eq!(with, [m("system", "short"), m("user", "hi")]);
        let mut without = vec![m("user", "hi"), m("assistant", "hello")];
        assert!(!apply_system_prompt(&mut without, "short"));
        assert_eq!(without[0], m("system", "short"));
        assert_eq!(without.len(), 3);
    }

    #[test]
    fn the_split_is_by_id_stable_and_near_its_share() {
        let ids: Vec<String> = (0..10_000).map(|k| format!("conv-{k}")).collect();
        let validation = ids.iter().filter(|id| in_validation(7, id, 0.1)).count();
        // Binomial(10000, 0.1): sd 30, so this holds but for a bad hash.
        assert!((880..=1120).contains(&validation), "{validation}");
        // The same id, the same side, whatever else is in the file.
        assert_eq!(
            in_validation(7, "conv-3", 0.1),
            in_validation(7, "conv-3", 0.1)
        );
        // Another seed, another split.
        let other = ids
            .iter()
            .filter(|id| in_validation(7, id, 0.1) != in_validation(8, id, 0.1))
            .count();
        assert!(other > 1000, "{other}");
        assert!(!in_validation(7, "conv-1", 0.0));
        assert!(in_validation(7, "conv-1", 1.0));
        // A larger share only adds conversations to the validation set.
        assert!(
            ids.iter()
                .all(|id| !in_validation(3, id, 0.1) || in_validation(3, id, 0.2))
        );
    }

    fn slices_of(messages: &[Message], id: &str, seed: u64, slicing: Slicing) -> Vec<Vec<Message>> {
        match slice(messages, id, seed, &slicing) {
            Sliced::Slices { header, ranges, .. } => ranges
                .into_iter()
                .map(|r| {
                    let mut out = messages[..header].to_vec();
                    out.extend_from_slice(&messages[header..][r]);
                    out
                })
                .collect(),
            Sliced::TooLong { tokens } => panic!("too long: {tokens}"),
        }
    }

    #[test]
    fn slices_end_with_the_assistant_and_the_final_one_is_the_whole_conversation() {
        let c = conversation(6, 10);
        let slicing = Slicing {
            max_tokens: None,
            slices: 3,
        };
        let slices = slices_of(&c, "a", 1, slicing);
        assert_eq!(slices.len(), 3);
        assert_eq!(slices.last().unwrap(), &c, "the final slice is all of it");
        for s in &slices {
            assert_eq!(s[0], m("system", "s"));
            assert_eq!(s.last().unwrap().role, "assistant");
            assert_eq!(s[1].role, "user");
            // Without a limit, each slice is a prefix: its whole history.
            assert_eq!(&c[..s.len()], &s[..]);
            assert!(s.len() >= 3, "a cut comes after the first exchange");
        }
        // Seeded: the same every time, another seed another draw (over
        // several ids, one of them differs).
        assert_eq!(slices_of(&c, "a", 1, slicing), slices);
        let differs = (0..20).any(|k| {
            let id = format!("id-{k}");
            slices_of(&c, &id, 1, slicing) != slices_of(&c, &id, 2, slicing)
        });
        assert!(differs);
    }

    #[test]
    fn slices_stay_within_the_limit_and_keep_the_final_turn() {
        // Each message: 3 + 10 = 13 tokens (40 bytes); the header 4; a chat 3.
        let c = conversation(8, 40);
        let per_exchange = 2 * estimate_message(&c[1].content);
        assert_eq!(per_exchange, 26);
        let max = 3 + 4 + 3 * per_exchange; // three exchanges fit
        let slicing = Slicing {
            max_tokens: Some(max),
            slices: 4,
        };
        let slices = slices_of(&c, "b", 9, slicing);
        assert_eq!(slices.len(), 4);
        for s in &slices {
            assert!(estimate_tokens(s) <= max, "{}", estimate_tokens(s));
            assert_eq!(s[0].role, "system");
            assert_eq!(s[1].role, "user");
            assert_eq!(s.last().unwrap().role, "assistant");
        }
        let last = slices.last().unwrap();
        assert_eq!(last.last(), c.last(), "the final turn is kept");
        assert_eq!(last.len(), 1 + 6, "the last three exchanges");
    }

    /// Random conversations (runs of one role, system messages anywhere,
    /// long and short messages) and limits: every slice keeps the rules.
    #[test]
    fn slices_keep_their_rules_on_random_conversations() {
        let mut rng = SplitMix(42);
        for case in 0..3000 {
            let n = 2 + rng.below(14) as usize;
            let mut c: Vec<Message> = (0..n)
                .map(|k| {
                    let role = match rng.below(10) {
                        0 => "system",
                        1..=4 => "user",
                        _ => "assistant",
                    };
                    let role = if k == 0 && rng.below(2) == 0 {
                        "system"
                    } else {
                        role
                    };
                    m(role, &"x".repeat(1 + rng.below(300) as usize))
                })
                .collect();
            if !c.iter().any(|x| x.role == "assistant") {
                c.push(m("assistant", "a"));
            }
            let slicing = Slicing {
                max_tokens: (rng.below(3) > 0).then(|| 20 + rng.below(400)),
                slices: 1 + rng.below(5) as usize,
            };
            let id = format!("c{case}");
            let sliced = slice(&c, &id, 7, &slicing);
            assert_eq!(sliced, slice(&c, &id, 7, &slicing), "deterministic");
            let Sliced::Slices { header, ranges, .. } = sliced else {
                continue;
            };
            let body = &c[header..];
            let last = body.iter().rposition(|x| x.role == "assistant").unwrap();
            assert!(!ranges.is_empty() && ranges.len() <= slicing.slices);
            assert_eq!(ranges.last().unwrap().end, last + 1, "the final turn");
            let gap = |g: usize| g > 0 && body[g - 1].role == "assistant" && body[g].role == "user";
            let mut ends: Vec<usize> = ranges.iter().map(|r| r.end).collect();
            ends.dedup();
            assert_eq!(ends.len(), ranges.len(), "one slice per cut point");
            assert!(ends.windows(2).all(|w| w[0] < w[1]), "in order");
            for r in &ranges {
                assert!(r.start < r.end);
                assert!(r.start == 0 || gap(r.start), "{case}: starts at a gap");
                assert_eq!(
                    body[r.end - 1].role,
                    "assistant",
                    "{case}: ends with the assistant"
                );
                assert!(r.end == last + 1 || gap(r.end), "{case}: ends at a gap");
                let mut messages = c[..header].to_vec();
                messages.extend_from_slice(&body[r.clone()]);
                if let Some(max) = slicing.max_tokens {
                    assert!(estimate_tokens(&messages) <= max, "{case}");
                }
            }
        }
    }

    #[test]
    fn a_final_exchange_over_the_limit_is_too_long() {
        let c = vec![m("user", &"x".repeat(400)), m("assistant", "ok")];
        let slicing = Slicing {
            max_tokens: Some(50),
            slices: 3,
        };
        assert_eq!(
            slice(&c, "c", 1, &slicing),
            Sliced::TooLong {
                tokens: 3 + 103 + 4
            }
        );
    }

    #[test]
    fn a_conversation_of_one_exchange_is_one_slice_and_trailing_user_messages_are_dropped() {
        let c = vec![
            m("user", "hi"),
            m("assistant", "hello"),
            m("user", "thanks"),
        ];
        let slicing = Slicing {
            max_tokens: None,
            slices: 3,
        };
        assert_eq!(slices_of(&c, "d", 1, slicing), [c[..2].to_vec()]);
    }

    #[test]
    fn group_keys_prefer_explicit_fields_and_ignore_key_order() {
        let plan1 = serde_json::json!({"seed": 1, "cell": {"topic": "work", "style": "terse"}, "persona": {"age": "young"}});
        let plan2 = serde_json::json!({"seed": 2, "persona": {"age": "young"}, "cell": {"style": "terse", "topic": "work"}});
        let plan3 = serde_json::json!({"cell": {"topic": "grief", "style": "terse"}, "persona": {"age": "young"}});
        assert_eq!(
            group_key(None, None, Some(&plan1)),
            group_key(None, None, Some(&plan2))
        );
        assert_ne!(
            group_key(None, None, Some(&plan1)),
            group_key(None, None, Some(&plan3))
        );
        let g = serde_json::json!("s1");
        assert_eq!(
            group_key(Some(&g), None, Some(&plan1)),
            group_key(Some(&g), None, Some(&plan3))
        );
        assert_ne!(
            group_key(Some(&g), None, None),
            group_key(None, Some(&g), None)
        );
        assert_eq!(
            group_key(None, None, Some(&serde_json::json!({"seed": 1}))),
            None
        );
        assert_eq!(group_key(None, None, None), None);
    }

    #[test]
    fn the_prompt_of_a_pair_ends_with_the_user_message_both_answer() {
        let a = vec![
            m("system", "s"),
            m("user", "u1"),
            m("assistant", "good"),
            m("user", "u2"),
            m("assistant", "a2"),
        ];
        let b = vec![
            m("system", "s"),
            m("user", "u1"),
            m("assistant", "bad"),
            m("user", "other"),
            m("assistant", "b2"),
        ];
        assert_eq!(shared_prompt(&a, &b), Some(2));
        // Shared beyond the first answer: the prompt runs to the last
        // shared user message.
        let c = vec![
            m("system", "s"),
            m("user", "u1"),
            m("assistant", "good"),
            m("user", "u2"),
            m("assistant", "worse"),
        ];
        assert_eq!(shared_prompt(&a, &c), Some(4));
        // The users diverge after the same first answer: cut back.
        let d = vec![
            m("system", "s"),
            m("user", "u1"),
            m("assistant", "good"),
            m("user", "u3"),
            m("assistant", "x"),
        ];
        assert_eq!(shared_prompt(&a, &d), Some(2));
        let e = vec![
            m("system", "s"),
            m("user", "another opening"),
            m("assistant", "x"),
        ];
        assert_eq!(shared_prompt(&a, &e), None);
        assert_eq!(opening(&a), &a[..2]);
    }

    fn candidate(
        id: &str,
        line: u64,
        group: u8,
        score: (i128, i128),
        verdict: Verdict,
    ) -> Candidate {
        Candidate {
            id: id.into(),
            line,
            group: [group; 32],
            opening: [0; 32],
            score: Ratio::new(score.0, score.1),
            verdict,
        }
    }

    #[test]
    fn pairs_take_the_best_passing_and_the_worst_above_the_margin() {
        use Verdict::*;
        let candidates = [
            candidate("a1", 1, 1, (8, 10), Pass),
            candidate("a2", 2, 1, (9, 10), Pass),
            candidate("a3", 3, 1, (5, 10), Fail),
            candidate("a4", 4, 1, (9, 10), GateFail), // ranks as 0
            candidate("b1", 5, 2, (8, 10), Pass),
            candidate("b2", 6, 2, (7, 10), Fail), // 0.1 apart: not above
            candidate("c1", 7, 3, (5, 10), Fail),
            candidate("c2", 8, 3, (1, 10), Fail), // no passing
            candidate("d1", 9, 4, (1, 1), Pass),  // alone
        ];
        let (pairs, counts) = choose_pairs(&candidates, 100_000_000);
        assert_eq!(
            pairs,
            [PairPlan {
                chosen: 1,
                rejected: 3
            }]
        );
        assert_eq!(
            (
                counts.scenarios,
                counts.sets,
                counts.sets_of_one,
                counts.no_passing,
                counts.within_margin,
                counts.pairs
            ),
            (4, 4, 1, 1, 1, 1)
        );
        // A lower margin pairs b.
        let (pairs, _) = choose_pairs(&candidates, 99_999_999);
        assert_eq!(pairs.len(), 2);
        // Different openings are different sets.
        let mut split = candidates[4..6].to_vec();
        split[1].opening = [9; 32];
        let (pairs, counts) = choose_pairs(&split, 0);
        assert!(pairs.is_empty());
        assert_eq!(counts.sets_of_one, 2);
    }
}
