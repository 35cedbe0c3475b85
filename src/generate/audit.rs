//! Diversity audits of a generated set: what a model repeats when it writes
//! many conversations, measured in code.
//!
//! Why it exists: a set of generated conversations can follow its plan and
//! still be monotonous (the same stock phrase in half of them, every reply
//! opening with "I hear you", replies twice as long as what they answer,
//! conversations that are copies of each other). Training on that teaches
//! the tics. The audit finds them before the set is judged or kept.
//!
//! In: conversations, each a list of (role, text); roles other than `user`
//! and `assistant` are skipped. Out: an [`Audit`]: the figures of each
//! check and [`Finding`]s where a figure passes its threshold, rendered as
//! text ([`Audit::render`]) or JSON. Conversations are named by their
//! position in the input (from 0).
//!
//! # The checks and their thresholds
//!
//! - **Repeated phrases.** Word n-grams of [`NGRAM_MIN`] to [`NGRAM_MAX`]
//!   words (lower case, words as `facts::words` reads them) inside assistant
//!   messages, counted once per conversation. A phrase shared by more than
//!   50% or 20% of the conversations is a warning, by more than 10% a note
//!   ([`PHRASE_BANDS`]); at least two conversations are needed. Overlapping
//!   n-grams of one repeated passage are merged, and an n-gram inside a
//!   reported longer one with about the same count (within 5%) is not
//!   listed again.
//! - **Identical openings and closings.** The first and the last sentence of
//!   each assistant message, compared by their lower-case words. An opening
//!   or closing used in more than [`REPEAT_SHARE`] (10%) of conversations is
//!   a warning.
//! - **Length ratio.** Assistant words per user word in each exchange (the
//!   exchanges of `facts`): p10, p50, p90, max, and the shares over
//!   [`RATIO_TARGET`] (1.5) and over [`RATIO_LIMIT`] (2.0). More than
//!   [`RATIO_LIMIT_SHARE`] (5%) of exchanges over the limit is a warning,
//!   any is a note; more than [`RATIO_TARGET_SHARE`] (25%) over the target is
//!   a note.
//! - **Near-duplicate conversations.** MinHash signatures of [`HASHES`]
//!   (128) values over each conversation's word [`SHINGLE`]-shingles (5,
//!   both roles), by one-permutation hashing with rotation densification
//!   (Shrivastava and Li, 2014: one hash per shingle instead of 128), and
//!   LSH banding in [`BANDS`] bands of [`ROWS`] rows: a pair with estimated
//!   Jaccard similarity 0.8 shares a band with probability 0.99999995. Any
//!   candidate pair whose signatures agree on at least [`NEAR_DUPLICATE`]
//!   (0.8) of their values is reported (a warning). Inside a band bucket
//!   each conversation is compared with the next [`BUCKET_WINDOW`] others,
//!   which bounds the work; every near-duplicate group is still found
//!   whole, but a group larger than the window lists only some of its
//!   pairs.
//!
//! # Cost
//!
//! Linear in the text, which is read once: each word is hashed (its
//! lower-case bytes, eight at a time through SplitMix64's finaliser), and
//! everything after works on the hashes. Phrases are counted in two passes
//! over the assistant messages' hashes: a counting array of hashed n-grams
//! (occurrences, which never undercount conversations), sized to stay in
//! the processor's cache, finds the candidates, then only those are counted
//! exactly per conversation. Every hash is our own, so the figures are the
//! same on every machine.

use super::rng::{FastMap, FastSet, mix64};
use crate::facts::{Facts, Role, words};
use serde::Serialize;
use std::fmt::Write as _;

/// A conversation: (role, text) in order.
pub type Conversation = Vec<(String, String)>;

pub const NGRAM_MIN: usize = 4;
pub const NGRAM_MAX: usize = 6;
/// Shares of conversations over which a phrase is reported, and how.
pub const PHRASE_BANDS: [(u32, Severity); 3] = [
    (50, Severity::Warning),
    (20, Severity::Warning),
    (10, Severity::Note),
];
/// Phrases listed in the report.
pub const PHRASES_KEPT: usize = 20;
/// An opening or closing used in more than this share of conversations is
/// a warning.
pub const REPEAT_SHARE: f64 = 0.10;
/// Openings and closings listed in the report.
pub const REPEATS_KEPT: usize = 10;
pub const RATIO_TARGET: f64 = 1.5;
pub const RATIO_LIMIT: f64 = 2.0;
pub const RATIO_LIMIT_SHARE: f64 = 0.05;
pub const RATIO_TARGET_SHARE: f64 = 0.25;
pub const HASHES: usize = 128;
pub const SHINGLE: usize = 5;
pub const BANDS: usize = 32;
pub const ROWS: usize = 4;
pub const NEAR_DUPLICATE: f64 = 0.8;
pub const BUCKET_WINDOW: usize = 64;
/// Near-duplicate pairs listed in the report.
pub const PAIRS_KEPT: usize = 50;
/// Characters of a sentence shown in the report.
const SHOWN_CHARS: usize = 100;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Note,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A figure past its threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable key, such as `repeated-phrase-50` or `near-duplicates`.
    pub code: &'static str,
    pub message: String,
}

/// The audit of a set of conversations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Audit {
    pub conversations: u64,
    pub assistant_messages: u64,
    pub findings: Vec<Finding>,
    pub phrases: Phrases,
    pub openings: Repeats,
    pub closings: Repeats,
    pub ratio: Ratios,
    pub near_duplicates: NearDuplicates,
}

/// Phrases shared across conversations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phrases {
    pub min_words: usize,
    pub max_words: usize,
    /// For each band of [`PHRASE_BANDS`]: the phrases shared by more than
    /// that share (a phrase counts in every band it passes).
    pub bands: Vec<PhraseBand>,
    /// The most shared, at most [`PHRASES_KEPT`].
    pub top: Vec<Phrase>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhraseBand {
    /// Percent of conversations.
    pub over_percent: u32,
    pub phrases: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phrase {
    pub text: String,
    pub words: usize,
    pub conversations: u64,
    pub share: f64,
}

/// First or last sentences of assistant messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repeats {
    /// Assistant messages with a sentence.
    pub messages: u64,
    pub distinct: u64,
    /// Messages whose sentence also appears in another conversation.
    pub shared_messages: u64,
    pub shared_share: f64,
    /// The most used across conversations, at most [`REPEATS_KEPT`].
    pub top: Vec<Repeat>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repeat {
    pub text: String,
    pub conversations: u64,
    pub share: f64,
    pub messages: u64,
}

/// Assistant words per user word, per exchange.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ratios {
    /// Exchanges with user words.
    pub exchanges: u64,
    /// Exchanges whose user messages have no words (not in the figures).
    pub without_user_words: u64,
    pub p10: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<f64>,
    pub over_target: f64,
    pub over_limit: f64,
}

/// Near-duplicate conversations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearDuplicates {
    pub threshold: f64,
    pub pairs: u64,
    /// Conversations in at least one pair.
    pub conversations: u64,
    /// Groups of conversations linked by pairs, and the largest's size.
    pub groups: u64,
    pub largest_group: u64,
    /// The most similar pairs, at most [`PAIRS_KEPT`].
    pub top: Vec<Pair>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    /// The share of agreeing MinHash values: an estimate of the Jaccard
    /// similarity of the two conversations' shingle sets.
    pub similarity: f64,
}

// ---------------------------------------------------------------------------
// hashing

/// The multiplier of the polynomial hashes of word sequences (odd).
const POLY: u64 = 0x9e37_79b9_7f4a_7c15;

/// ASCII upper-case letters of eight bytes made lower case at once (bytes
/// of 0x80 and above are left alone).
const fn ascii_lower(v: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = v & !HIGH;
    // Bit 7 of a byte: set from `A` (0x41 + 0x3f) and from past `Z`
    // (0x5b + 0x25); no carry crosses a byte, as each is at most 0x7f.
    let from_a = low.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let past_z = low.wrapping_add(0x2525_2525_2525_2525);
    let upper = from_a & !past_z & !v & HIGH;
    v | (upper >> 2)
}

/// The hash of bytes made ASCII lower case: eight at a time through the
/// SplitMix64 finaliser, then the length.
fn hash_lower(bytes: &[u8]) -> u64 {
    let mut acc = 0u64;
    let chunks = bytes.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        acc = mix64(acc ^ ascii_lower(u64::from_le_bytes(word)));
    }
    let mut word = [0u8; 8];
    word[..tail.len()].copy_from_slice(tail);
    mix64(mix64(acc ^ ascii_lower(u64::from_le_bytes(word))) ^ bytes.len() as u64)
}

/// The hash of a word's lower-case form.
fn word_hash(word: &str) -> u64 {
    if word.is_ascii() {
        hash_lower(word.as_bytes())
    } else {
        hash_lower(word.to_lowercase().as_bytes())
    }
}

/// Calls `f(hash, n, start)` for every n-gram of `min..=max` words. The
/// hash is the polynomial `Σ w_i·POLY^(n-1-i)` of the word hashes, which
/// are uniform already, so its bits are too.
fn ngrams(hashes: &[u64], min: usize, max: usize, mut f: impl FnMut(u64, usize, usize)) {
    for start in 0..hashes.len() {
        let mut h = 0u64;
        for (k, &w) in hashes[start..].iter().take(max).enumerate() {
            h = h.wrapping_mul(POLY).wrapping_add(w);
            if k + 1 >= min {
                f(h, k + 1, start);
            }
        }
    }
}

/// A well-mixed hash of a sequence of hashes.
fn sequence_hash(hashes: &[u64]) -> u64 {
    mix64(hashes.iter().fold(hashes.len() as u64, |h, &w| {
        h.wrapping_mul(POLY).wrapping_add(w)
    }))
}

// ---------------------------------------------------------------------------
// sentences

/// The sentences of a text, trimmed, with at least one word: a sentence
/// ends at `.`, `!`, `?` or `…` (with any closing quotes or brackets after
/// them) followed by white space or the end, or at a line break.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        while !rest.is_empty() {
            let (end, next) = sentence_end(rest);
            let sentence = rest.get(..end).unwrap_or("").trim();
            rest = rest.get(next..).unwrap_or("");
            if words(sentence).next().is_some() {
                return Some(sentence);
            }
        }
        None
    })
}

/// The length of a terminator (`.`, `!`, `?`, `…`) at byte `i`, or 0.
fn terminator(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i..) {
        Some([b'.' | b'!' | b'?', ..]) => 1,
        Some([0xe2, 0x80, 0xa6, ..]) => 3,
        _ => 0,
    }
}

/// The length of a terminator or a closing quote or bracket at byte `i`.
fn closer(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i..) {
        Some([b'"' | b'\'' | b')' | b']', ..]) => 1,
        // ” and ’
        Some([0xe2, 0x80, 0x9d | 0x99, ..]) => 3,
        _ => terminator(bytes, i),
    }
}

/// Where the first sentence of `text` ends, and where the next begins:
/// scanned by bytes (every marker but `…`, `”` and `’` is ASCII, and those
/// are matched whole, so a match is always on a character boundary).
fn sentence_end(text: &str) -> (usize, usize) {
    // Bytes that can start a marker: `\n`, `.`, `!`, `?`, and 0xe2 (`…`).
    const MARKS: [bool; 256] = {
        let mut t = [false; 256];
        t[b'\n' as usize] = true;
        t[b'.' as usize] = true;
        t[b'!' as usize] = true;
        t[b'?' as usize] = true;
        t[0xe2] = true;
        t
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !MARKS[usize::from(bytes[i])] {
            i += 1;
            continue;
        }
        if bytes[i] == b'\n' {
            return (i, i + 1);
        }
        let t = terminator(bytes, i);
        if t == 0 {
            i += 1;
            continue;
        }
        let mut stop = i + t;
        loop {
            let c = closer(bytes, stop);
            if c == 0 {
                break;
            }
            stop += c;
        }
        let followed_by_space = match bytes.get(stop) {
            None => true,
            Some(b) if b.is_ascii() => b.is_ascii_whitespace(),
            Some(_) => text
                .get(stop..)
                .and_then(|r| r.chars().next())
                .is_some_and(char::is_whitespace),
        };
        if followed_by_space {
            return (stop, stop);
        }
        i = stop;
    }
    (bytes.len(), bytes.len())
}

fn first_and_last_sentence(text: &str) -> Option<(&str, &str)> {
    let mut it = sentences(text);
    let first = it.next()?;
    let last = it.last().unwrap_or(first);
    Some((first, last))
}

fn shown(text: &str) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= SHOWN_CHARS {
        collapsed
    } else {
        let cut: String = collapsed.chars().take(SHOWN_CHARS - 1).collect();
        format!("{cut}…")
    }
}

// ---------------------------------------------------------------------------
// the audit

#[derive(Default)]
struct RepeatCount {
    conversations: u64,
    messages: u64,
    last: usize,
    example: (usize, usize),
}

/// Records a sentence used by conversation `c` (from 1) in message `m`.
fn record(
    map: &mut FastMap<u64, RepeatCount>,
    sentence: &str,
    c: usize,
    m: usize,
    buf: &mut Vec<u64>,
) {
    buf.clear();
    buf.extend(words(sentence).map(word_hash));
    let entry = map
        .entry(sequence_hash(buf))
        .or_insert_with(|| RepeatCount {
            example: (c - 1, m),
            ..RepeatCount::default()
        });
    entry.messages += 1;
    if entry.last != c {
        entry.last = c;
        entry.conversations += 1;
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn repeats(
    map: &FastMap<u64, RepeatCount>,
    conversations: &[Conversation],
    n: u64,
    messages: u64,
    last: bool,
) -> Repeats {
    let shared_messages: u64 = map
        .values()
        .filter(|r| r.conversations > 1)
        .map(|r| r.messages)
        .sum();
    let mut top: Vec<&RepeatCount> = map.values().filter(|r| r.conversations > 1).collect();
    top.sort_by(|a, b| {
        b.conversations
            .cmp(&a.conversations)
            .then(b.messages.cmp(&a.messages))
            .then(a.example.cmp(&b.example))
    });
    top.truncate(REPEATS_KEPT);
    let top = top
        .into_iter()
        .map(|r| {
            let text = conversations
                .get(r.example.0)
                .and_then(|c| c.get(r.example.1))
                .and_then(|(_, t)| first_and_last_sentence(t))
                .map(|(f, l)| shown(if last { l } else { f }))
                .unwrap_or_default();
            Repeat {
                text,
                conversations: r.conversations,
                share: ratio(r.conversations, n),
                messages: r.messages,
            }
        })
        .collect();
    Repeats {
        messages,
        distinct: map.len() as u64,
        shared_messages,
        shared_share: ratio(shared_messages, messages),
        top,
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

const EMPTY_BIN: u64 = u64::MAX;
const VALUE_BITS: u32 = 57;

/// The MinHash signature of a word sequence, `None` without words.
fn signature(hashes: &[u64]) -> Option<Vec<u64>> {
    if hashes.is_empty() {
        return None;
    }
    let mut sig = vec![EMPTY_BIN; HASHES];
    let mut add = |s: u64| {
        let bin = (s >> VALUE_BITS) as usize % HASHES;
        let value = s & ((1 << VALUE_BITS) - 1);
        if value < sig[bin] {
            sig[bin] = value;
        }
    };
    if hashes.len() < SHINGLE {
        add(sequence_hash(hashes));
    } else {
        for window in hashes.windows(SHINGLE) {
            add(sequence_hash(window));
        }
    }
    // Rotation: an empty bin takes the next filled bin's value to its
    // right (circularly), offset by the distance so that it cannot match
    // a real value of another signature by chance.
    let filled: Vec<u64> = sig.clone();
    for (j, slot) in sig.iter_mut().enumerate() {
        if *slot != EMPTY_BIN {
            continue;
        }
        for t in 1..HASHES {
            let v = filled[(j + t) % HASHES];
            if v != EMPTY_BIN {
                *slot = v + ((t as u64) << VALUE_BITS);
                break;
            }
        }
    }
    Some(sig)
}

fn similarity(a: &[u64], b: &[u64]) -> f64 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / HASHES as f64
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn near_duplicates(signatures: &[Option<Vec<u64>>]) -> NearDuplicates {
    let mut found: FastMap<(usize, usize), f64> = FastMap::default();
    let mut keys: Vec<(u64, usize)> = Vec::with_capacity(signatures.len());
    for band in 0..BANDS {
        keys.clear();
        for (i, sig) in signatures.iter().enumerate() {
            if let Some(sig) = sig {
                let rows = &sig[band * ROWS..(band + 1) * ROWS];
                keys.push((sequence_hash(rows) ^ band as u64, i));
            }
        }
        keys.sort_unstable();
        let mut start = 0;
        while start < keys.len() {
            let mut end = start + 1;
            while end < keys.len() && keys[end].0 == keys[start].0 {
                end += 1;
            }
            for x in start..end {
                for y in x + 1..end.min(x + 1 + BUCKET_WINDOW) {
                    let (a, b) = (keys[x].1, keys[y].1);
                    if found.contains_key(&(a, b)) {
                        continue;
                    }
                    if let (Some(sa), Some(sb)) = (&signatures[a], &signatures[b]) {
                        let s = similarity(sa, sb);
                        if s >= NEAR_DUPLICATE {
                            found.insert((a, b), s);
                        }
                    }
                }
            }
            start = end;
        }
    }
    let mut parent: Vec<usize> = (0..signatures.len()).collect();
    let mut members: FastSet<usize> = FastSet::default();
    for &(a, b) in found.keys() {
        members.insert(a);
        members.insert(b);
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut sizes: FastMap<usize, u64> = FastMap::default();
    for &m in &members {
        *sizes.entry(find(&mut parent, m)).or_default() += 1;
    }
    let mut top: Vec<Pair> = found
        .iter()
        .map(|(&(a, b), &similarity)| Pair { a, b, similarity })
        .collect();
    top.sort_by(|x, y| {
        y.similarity
            .total_cmp(&x.similarity)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    top.truncate(PAIRS_KEPT);
    NearDuplicates {
        threshold: NEAR_DUPLICATE,
        pairs: found.len() as u64,
        conversations: members.len() as u64,
        groups: sizes.len() as u64,
        largest_group: sizes.values().copied().max().unwrap_or(0),
        top,
    }
}

/// A candidate phrase, counted exactly in the second pass.
struct Candidate {
    words: usize,
    conversations: u64,
    last: usize,
    /// (conversation, message, first word) where it was first seen.
    at: (usize, usize, usize),
}

fn phrase_words(
    conversations: &[Conversation],
    at: (usize, usize, usize),
    n: usize,
) -> Vec<String> {
    conversations
        .get(at.0)
        .and_then(|c| c.get(at.1))
        .map(|(_, text)| {
            words(text)
                .skip(at.2)
                .take(n)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

fn contains(haystack: &[String], needle: &[String]) -> bool {
    needle.len() <= haystack.len() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Within 5%: `a` no more than 1.05 times `b`.
fn about(a: u64, b: u64) -> bool {
    a * 20 <= b * 21
}

/// An assistant message's words, hashed in the first pass: conversation,
/// message, and the range of its hashes.
struct Span {
    conversation: usize,
    message: usize,
    start: usize,
    end: usize,
}

fn phrases(
    conversations: &[Conversation],
    hashes: &[u64],
    spans: &[Span],
) -> (Phrases, Vec<Finding>) {
    let n = conversations.len() as u64;
    // The lowest band: more than 10% and at least two conversations.
    let lowest = PHRASE_BANDS.iter().map(|b| b.0).min().unwrap_or(10);
    let needed = (n * u64::from(lowest) / 100 + 1).max(2);
    // Counters enough for the average load to stay under a tenth of what
    // a candidate needs, and small enough to stay in the processor's cache.
    let instances = hashes.len().saturating_mul(NGRAM_MAX - NGRAM_MIN + 1);
    let bits = (instances.saturating_mul(8) / needed as usize)
        .next_power_of_two()
        .clamp(1 << 10, 1 << 21)
        .trailing_zeros();
    let mut counts = vec![0u32; 1 << bits];
    let slot = |h: u64| (h >> (64 - bits)) as usize;
    for span in spans {
        ngrams(
            &hashes[span.start..span.end],
            NGRAM_MIN,
            NGRAM_MAX,
            |h, _, _| {
                let s = &mut counts[slot(h)];
                *s = s.saturating_add(1);
            },
        );
    }
    let mut candidates: FastMap<u64, Candidate> = FastMap::default();
    if n >= 2 {
        for span in spans {
            let ci = span.conversation;
            ngrams(
                &hashes[span.start..span.end],
                NGRAM_MIN,
                NGRAM_MAX,
                |h, words, start| {
                    if u64::from(counts[slot(h)]) < needed {
                        return;
                    }
                    let entry = candidates.entry(h).or_insert(Candidate {
                        words,
                        conversations: 0,
                        last: usize::MAX,
                        at: (ci, span.message, start),
                    });
                    if entry.last != ci {
                        entry.last = ci;
                        entry.conversations += 1;
                    }
                },
            );
        }
    }
    // Shared enough: longest first, then most shared, then first seen.
    let mut shared: Vec<&Candidate> = candidates
        .values()
        .filter(|c| c.conversations >= needed)
        .collect();
    shared.sort_by(|a, b| {
        b.words
            .cmp(&a.words)
            .then(b.conversations.cmp(&a.conversations))
            .then(a.at.cmp(&b.at))
    });
    // Merge the overlapping longest n-grams of one passage into it.
    let mut kept: Vec<(Vec<String>, u64)> = Vec::new();
    let longest: Vec<(Vec<String>, u64)> = shared
        .iter()
        .filter(|c| c.words == NGRAM_MAX)
        .map(|c| (phrase_words(conversations, c.at, c.words), c.conversations))
        .collect();
    let mut by_prefix: FastMap<&[String], usize> = FastMap::default();
    let mut has_predecessor = vec![false; longest.len()];
    for (i, (w, _)) in longest.iter().enumerate() {
        if w.len() == NGRAM_MAX {
            by_prefix.entry(&w[..NGRAM_MAX - 1]).or_insert(i);
        }
    }
    let successor = |i: usize| -> Option<usize> {
        let (w, count) = &longest[i];
        let j = *by_prefix.get(&w[1..])?;
        let other = longest[j].1;
        (j != i && about(*count, other) && about(other, *count)).then_some(j)
    };
    for (i, (w, _)) in longest.iter().enumerate() {
        if w.len() == NGRAM_MAX
            && let Some(j) = successor(i)
        {
            has_predecessor[j] = true;
        }
    }
    let mut used = vec![false; longest.len()];
    // Chains from their starts, then whatever is left (cycles).
    let starts: Vec<usize> = (0..longest.len())
        .filter(|&i| !has_predecessor[i])
        .chain(0..longest.len())
        .collect();
    for i in starts {
        if used[i] || longest[i].0.len() != NGRAM_MAX {
            continue;
        }
        used[i] = true;
        let mut words = longest[i].0.clone();
        let mut count = longest[i].1;
        let mut at = i;
        while let Some(j) = successor(at) {
            if used[j] {
                break;
            }
            used[j] = true;
            if let Some(last) = longest[j].0.last() {
                words.push(last.clone());
            }
            count = count.min(longest[j].1);
            at = j;
        }
        kept.push((words, count));
    }
    for c in shared.iter().filter(|c| c.words < NGRAM_MAX) {
        let w = phrase_words(conversations, c.at, c.words);
        if w.len() != c.words {
            continue;
        }
        if !kept
            .iter()
            .any(|(k, count)| contains(k, &w) && about(c.conversations, *count))
        {
            kept.push((w, c.conversations));
        }
    }
    kept.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(b.0.len().cmp(&a.0.len()))
            .then(a.0.cmp(&b.0))
    });

    let mut findings = Vec::new();
    let mut bands = Vec::new();
    let over = |count: u64, percent: u32| count * 100 > n * u64::from(percent) && count >= 2;
    for (i, &(percent, severity)) in PHRASE_BANDS.iter().enumerate() {
        let in_band: Vec<&(Vec<String>, u64)> =
            kept.iter().filter(|k| over(k.1, percent)).collect();
        bands.push(PhraseBand {
            over_percent: percent,
            phrases: in_band.len() as u64,
        });
        // A finding names the phrases of this band and not of a higher one.
        let higher = PHRASE_BANDS[..i].iter().map(|b| b.0).min();
        let only: Vec<&&(Vec<String>, u64)> = in_band
            .iter()
            .filter(|k| higher.is_none_or(|h| !over(k.1, h)))
            .collect();
        if !only.is_empty() {
            let upper = higher.map(|h| format!(" (up to {h}%)")).unwrap_or_default();
            let examples: Vec<String> = only
                .iter()
                .take(3)
                .map(|k| {
                    format!(
                        "\"{}\" ({:.0}%)",
                        shown(&k.0.join(" ")),
                        ratio(k.1, n) * 100.0
                    )
                })
                .collect();
            findings.push(Finding {
                severity,
                code: match percent {
                    50 => "repeated-phrase-50",
                    20 => "repeated-phrase-20",
                    _ => "repeated-phrase-10",
                },
                message: format!(
                    "{} assistant phrase{} shared by more than {percent}%{upper} of conversations: {}",
                    only.len(),
                    if only.len() == 1 { " is" } else { "s are" },
                    examples.join(", ")
                ),
            });
        }
    }
    let top = kept
        .iter()
        .filter(|k| over(k.1, lowest))
        .take(PHRASES_KEPT)
        .map(|(w, count)| Phrase {
            text: w.join(" "),
            words: w.len(),
            conversations: *count,
            share: ratio(*count, n),
        })
        .collect();
    (
        Phrases {
            min_words: NGRAM_MIN,
            max_words: NGRAM_MAX,
            bands,
            top,
        },
        findings,
    )
}

/// Audits a set of conversations: see the module's documentation.
pub fn audit(conversations: &[Conversation]) -> Audit {
    let n = conversations.len() as u64;
    let mut assistant_messages = 0u64;
    let mut openings: FastMap<u64, RepeatCount> = FastMap::default();
    let mut closings: FastMap<u64, RepeatCount> = FastMap::default();
    let mut assistant_hashes: Vec<u64> = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut sentence_messages = 0u64;
    let mut ratios: Vec<f64> = Vec::new();
    let mut without_user_words = 0u64;
    let mut signatures: Vec<Option<Vec<u64>>> = Vec::with_capacity(conversations.len());
    let mut hashes: Vec<u64> = Vec::new();
    let mut counts: Vec<(Role, u32)> = Vec::new();
    let mut buf: Vec<u64> = Vec::new();
    for (ci, c) in conversations.iter().enumerate() {
        hashes.clear();
        counts.clear();
        for (mi, (role, text)) in c.iter().enumerate() {
            let Some(role) = Role::parse(role) else {
                continue;
            };
            let start = hashes.len();
            hashes.extend(words(text).map(word_hash));
            let count = hashes.len() - start;
            counts.push((role, u32::try_from(count).unwrap_or(u32::MAX)));
            if role == Role::Assistant {
                assistant_messages += 1;
                let at = assistant_hashes.len();
                assistant_hashes.extend_from_slice(&hashes[start..]);
                spans.push(Span {
                    conversation: ci,
                    message: mi,
                    start: at,
                    end: assistant_hashes.len(),
                });
                if let Some((first, last)) = first_and_last_sentence(text) {
                    sentence_messages += 1;
                    record(&mut openings, first, ci + 1, mi, &mut buf);
                    record(&mut closings, last, ci + 1, mi, &mut buf);
                }
            }
        }
        let facts = Facts::from_counts(&counts);
        for e in facts.exchanges.iter().filter(|e| e.complete) {
            match e.ratio {
                Some(r) => ratios.push(r),
                None => without_user_words += 1,
            }
        }
        signatures.push(signature(&hashes));
    }

    let (phrases, mut findings) = phrases(conversations, &assistant_hashes, &spans);

    let openings = repeats(&openings, conversations, n, sentence_messages, false);
    let closings = repeats(&closings, conversations, n, sentence_messages, true);
    for (which, code, r) in [
        ("opening", "identical-openings", &openings),
        ("closing", "identical-closings", &closings),
    ] {
        if let Some(top) = r.top.first()
            && top.share > REPEAT_SHARE
        {
            let many = r.top.iter().filter(|t| t.share > REPEAT_SHARE).count();
            findings.push(Finding {
                severity: Severity::Warning,
                code,
                message: format!(
                    "{many} {which} sentence{} of assistant messages {} used in more than {:.0}% of conversations; the most common, \"{}\", in {:.0}% ({} messages)",
                    if many == 1 { "" } else { "s" },
                    if many == 1 { "is" } else { "are" },
                    REPEAT_SHARE * 100.0,
                    top.text,
                    top.share * 100.0,
                    top.messages
                ),
            });
        }
    }

    ratios.sort_by(f64::total_cmp);
    let exchanges = ratios.len() as u64;
    let over_target = ratios.iter().filter(|&&r| r > RATIO_TARGET).count() as u64;
    let over_limit = ratios.iter().filter(|&&r| r > RATIO_LIMIT).count() as u64;
    let ratio_figures = Ratios {
        exchanges,
        without_user_words,
        p10: percentile(&ratios, 0.10),
        p50: percentile(&ratios, 0.50),
        p90: percentile(&ratios, 0.90),
        max: ratios.last().copied(),
        over_target: ratio(over_target, exchanges),
        over_limit: ratio(over_limit, exchanges),
    };
    if over_limit > 0 {
        let share = ratio_figures.over_limit;
        findings.push(Finding {
            severity: if share > RATIO_LIMIT_SHARE {
                Severity::Warning
            } else {
                Severity::Note
            },
            code: "ratio-over-limit",
            message: format!(
                "{over_limit} of {exchanges} exchanges ({:.1}%) have assistant replies over {RATIO_LIMIT:.1} times the user's words (largest {:.2})",
                share * 100.0,
                ratio_figures.max.unwrap_or(0.0)
            ),
        });
    }
    if ratio_figures.over_target > RATIO_TARGET_SHARE {
        findings.push(Finding {
            severity: Severity::Note,
            code: "ratio-over-target",
            message: format!(
                "{:.1}% of exchanges have assistant replies over {RATIO_TARGET:.1} times the user's words (median {:.2})",
                ratio_figures.over_target * 100.0,
                ratio_figures.p50.unwrap_or(0.0)
            ),
        });
    }

    let near = near_duplicates(&signatures);
    if let Some(first) = near.top.first() {
        findings.push(Finding {
            severity: Severity::Warning,
            code: "near-duplicates",
            message: format!(
                "{} near-duplicate pair{} (estimated Jaccard similarity ≥ {NEAR_DUPLICATE:.1} over word {SHINGLE}-shingles): {} conversations in {} group{} (largest {}); most similar: #{} and #{} ({:.2})",
                near.pairs,
                if near.pairs == 1 { "" } else { "s" },
                near.conversations,
                near.groups,
                if near.groups == 1 { "" } else { "s" },
                near.largest_group,
                first.a,
                first.b,
                first.similarity
            ),
        });
    }
    findings.sort_by_key(|f| f.severity);

    Audit {
        conversations: n,
        assistant_messages,
        findings,
        phrases,
        openings,
        closings,
        ratio: ratio_figures,
        near_duplicates: near,
    }
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn fixed(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
}

impl Audit {
    /// The audit as plain text: findings first, then each check's figures.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Diversity audit of {} conversations ({} assistant messages)",
            self.conversations, self.assistant_messages
        );
        if self.findings.is_empty() {
            out.push_str("\nFindings: none\n");
        } else {
            out.push_str("\nFindings:\n");
            for f in &self.findings {
                let _ = writeln!(out, "  {} {}: {}", f.severity.name(), f.code, f.message);
            }
        }

        let p = &self.phrases;
        let _ = writeln!(
            out,
            "\nRepeated phrases ({} to {} words, assistant messages, counted once per conversation)",
            p.min_words, p.max_words
        );
        let bands: Vec<String> = p
            .bands
            .iter()
            .map(|b| format!("over {}%: {}", b.over_percent, b.phrases))
            .collect();
        let _ = writeln!(out, "  {}", bands.join("   "));
        for phrase in &p.top {
            let _ = writeln!(
                out,
                "  {:>6}  {:>6}  \"{}\"",
                percent(phrase.share),
                phrase.conversations,
                shown(&phrase.text)
            );
        }

        for (title, r) in [
            (
                "Openings (first sentence of assistant messages)",
                &self.openings,
            ),
            (
                "Closings (last sentence of assistant messages)",
                &self.closings,
            ),
        ] {
            let _ = writeln!(
                out,
                "\n{title}: {} messages, {} distinct, {} in messages shared across conversations",
                r.messages,
                r.distinct,
                percent(r.shared_share)
            );
            for t in &r.top {
                let _ = writeln!(
                    out,
                    "  {:>6}  {:>6} conversations  {:>6} messages  \"{}\"",
                    percent(t.share),
                    t.conversations,
                    t.messages,
                    t.text
                );
            }
        }

        let r = &self.ratio;
        let _ = writeln!(
            out,
            "\nLength ratio (assistant words per user word, per exchange): {} exchanges ({} without user words)",
            r.exchanges, r.without_user_words
        );
        let _ = writeln!(
            out,
            "  p10 {}  p50 {}  p90 {}  max {}  over {RATIO_TARGET:.1}: {}  over {RATIO_LIMIT:.1}: {}",
            fixed(r.p10),
            fixed(r.p50),
            fixed(r.p90),
            fixed(r.max),
            percent(r.over_target),
            percent(r.over_limit)
        );

        let d = &self.near_duplicates;
        let _ = writeln!(
            out,
            "\nNear-duplicates (MinHash {HASHES}, word {SHINGLE}-shingles, similarity ≥ {:.2}): {}, {} in {} (largest {})",
            d.threshold,
            plural(d.pairs, "pair"),
            plural(d.conversations, "conversation"),
            plural(d.groups, "group"),
            d.largest_group
        );
        for pair in &d.top {
            let _ = writeln!(out, "  #{} and #{}: {:.2}", pair.a, pair.b, pair.similarity);
        }
        out
    }

    /// The audit as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Whether any finding is a warning.
    pub fn has_warnings(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Warning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::rng::Rng;

    /// Text that shares no phrase: words drawn from a large made-up
    /// vocabulary.
    fn babble(rng: &mut Rng, words: usize) -> String {
        let mut out = String::new();
        for i in 0..words {
            if i > 0 {
                out.push(' ');
            }
            let w = rng.below(50_000);
            let _ = write!(out, "w{w:x}");
            if rng.below(12) == 0 {
                out.push('.');
            }
        }
        out.push('.');
        out
    }

    fn diverse(n: usize, exchanges: usize, seed: u64) -> Vec<Conversation> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| {
                let mut c = Vec::new();
                for _ in 0..exchanges {
                    let u = 10 + rng.index(20);
                    let a = u + rng.index(u / 2 + 1);
                    c.push(("user".to_string(), babble(&mut rng, u)));
                    c.push(("assistant".to_string(), babble(&mut rng, a)));
                }
                c
            })
            .collect()
    }

    #[test]
    fn quiet_on_diverse_text() {
        let set = diverse(200, 5, 1);
        let a = audit(&set);
        assert!(a.findings.is_empty(), "{}", a.render());
        assert_eq!(a.conversations, 200);
        assert_eq!(a.assistant_messages, 1000);
        assert!(a.phrases.top.is_empty());
        assert_eq!(a.near_duplicates.pairs, 0);
        assert!(a.ratio.max.unwrap() <= 1.5 + 1e-9);
        assert_eq!(a.ratio.exchanges, 1000);
        assert_eq!(a.render(), audit(&set).render());
    }

    #[test]
    fn finds_a_repeated_phrase() {
        let mut set = diverse(100, 3, 2);
        let phrase = "it sounds like you are carrying a lot right now";
        for c in set.iter_mut().take(60) {
            let text = &mut c[3].1;
            *text = format!(
                "{} {phrase} {}",
                &text[..text.len() / 2],
                &text[text.len() / 2..]
            );
        }
        let a = audit(&set);
        let top = &a.phrases.top[0];
        assert_eq!(top.text, phrase, "{}", a.render());
        assert_eq!(top.conversations, 60);
        assert_eq!(a.phrases.bands[0].phrases, 1, "{:?}", a.phrases);
        assert_eq!(a.phrases.top.len(), 1, "{:?}", a.phrases.top);
        assert_eq!(a.findings[0].code, "repeated-phrase-50");
        assert_eq!(a.findings[0].severity, Severity::Warning);
        assert!(a.findings[0].message.contains(phrase));
        // In 15 of 100: a note only.
        let mut set = diverse(100, 3, 3);
        for c in set.iter_mut().take(15) {
            c[1].1
                .push_str(" Please remember to be kind to yourself today.");
        }
        let a = audit(&set);
        let codes: Vec<&str> = a.findings.iter().map(|f| f.code).collect();
        assert!(codes.contains(&"repeated-phrase-10"), "{codes:?}");
        assert!(!codes.contains(&"repeated-phrase-50"));
        assert_eq!(
            a.phrases.top[0].text,
            "please remember to be kind to yourself today"
        );
    }

    #[test]
    fn finds_identical_openings_and_closings() {
        let mut set = diverse(50, 4, 4);
        for c in set.iter_mut().take(20) {
            c[1].1 = format!("I hear you, and that is hard. {}", c[1].1);
            c[5].1 = format!("{} You are not alone in this!", c[5].1);
        }
        let a = audit(&set);
        assert_eq!(a.openings.top[0].text, "I hear you, and that is hard.");
        assert_eq!(a.openings.top[0].conversations, 20);
        assert_eq!(a.closings.top[0].text, "You are not alone in this!");
        let codes: Vec<&str> = a.findings.iter().map(|f| f.code).collect();
        assert!(codes.contains(&"identical-openings"), "{codes:?}");
        assert!(codes.contains(&"identical-closings"), "{codes:?}");
    }

    #[test]
    fn finds_near_duplicates() {
        let mut set = diverse(300, 5, 5);
        // 7 lies a copy of 3 with a few words changed.
        let mut copy = set[3].clone();
        copy[1].1 = copy[1].1.replacen("w", "v", 2);
        set[7] = copy;
        set[250] = set[40].clone();
        let a = audit(&set);
        let pairs: Vec<(usize, usize)> = a.near_duplicates.top.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(pairs, [(40, 250), (3, 7)], "{}", a.render());
        assert_eq!(a.near_duplicates.top[0].similarity, 1.0);
        assert!(a.near_duplicates.top[1].similarity >= 0.8);
        assert_eq!(a.near_duplicates.groups, 2);
        assert!(a.findings.iter().any(|f| f.code == "near-duplicates"));
        // Many copies: one group, bounded work.
        let many: Vec<Conversation> = std::iter::repeat_n(set[0].clone(), 200).collect();
        let a = audit(&many);
        assert_eq!(a.near_duplicates.groups, 1);
        assert_eq!(a.near_duplicates.largest_group, 200);
    }

    #[test]
    fn ratio_figures() {
        let c = |u: &str, a: &str| {
            vec![
                ("user".to_string(), u.to_string()),
                ("assistant".to_string(), a.to_string()),
            ]
        };
        let set = vec![
            c("one two", "one two"),
            c("one two", "one two three"),
            c("one two", "one two three four five"),
            c("", "hello"),
        ];
        let a = audit(&set);
        assert_eq!(a.ratio.exchanges, 3);
        assert_eq!(a.ratio.without_user_words, 1);
        assert_eq!(a.ratio.p50, Some(1.5));
        assert_eq!(a.ratio.max, Some(2.5));
        assert!((a.ratio.over_limit - 1.0 / 3.0).abs() < 1e-12);
        let codes: Vec<&str> = a.findings.iter().map(|f| f.code).collect();
        assert!(codes.contains(&"ratio-over-limit"));
        assert!(codes.contains(&"ratio-over-target"));
    }

    #[test]
    fn words_hash_in_lower_case() {
        assert_eq!(
            ascii_lower(u64::from_le_bytes(*b"AZaz@[`{")),
            u64::from_le_bytes(*b"azaz@[`{")
        );
        assert_eq!(
            ascii_lower(u64::from_le_bytes([
                0xc1, 0xda, b'Q', 0x80, 0, 0x7f, b'M', 0xff
            ])),
            u64::from_le_bytes([0xc1, 0xda, b'q', 0x80, 0, 0x7f, b'm', 0xff])
        );
        assert_eq!(word_hash("Hello"), word_hash("hELLO"));
        assert_eq!(word_hash("Understanding"), word_hash("understanding"));
        assert_eq!(word_hash("ÉCOLE"), word_hash("école"));
        assert_ne!(word_hash("école"), word_hash("ecole"));
        assert_ne!(word_hash("abcdefgh"), word_hash("abcdefgh\0"));
        assert_ne!(word_hash(""), word_hash("\0"));
    }

    #[test]
    fn sentences_split_where_they_should() {
        let s: Vec<&str> =
            sentences("Hi there. How are you?! Fine (really.)\nok... 3.5 is a number.   ")
                .collect();
        assert_eq!(
            s,
            [
                "Hi there.",
                "How are you?!",
                "Fine (really.)",
                "ok...",
                "3.5 is a number."
            ]
        );
        assert_eq!(
            first_and_last_sentence("Just one"),
            Some(("Just one", "Just one"))
        );
        assert_eq!(first_and_last_sentence(" ... "), None);
        let long = "word ".repeat(100);
        assert!(shown(&long).ends_with('…'));
    }

    #[test]
    fn empty_and_odd_inputs() {
        let a = audit(&[]);
        assert_eq!(a.conversations, 0);
        assert!(a.findings.is_empty());
        let odd = vec![
            vec![],
            vec![("system".to_string(), "x".to_string())],
            vec![("assistant".to_string(), String::new())],
            vec![("Assistant".to_string(), "¿Qué tal? Très bien.".to_string())],
        ];
        let a = audit(&odd);
        assert_eq!(a.assistant_messages, 2);
        assert!(a.render().contains("Diversity audit of 4 conversations"));
        let json: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
        assert_eq!(json["conversations"], 4);
    }
}
