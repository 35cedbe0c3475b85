//! The cache key of a call: what decides the answer, and nothing else.
//!
//! A response is reused, from the run's journal or from the cache shared
//! by every run, when a new call has the same key. The key is the SHA-256
//! of these parts, each hashed on its own so that `ftprep cache why` can
//! say which one differs from the nearest entry:
//!
//! | part | holds | why it is in |
//! |---|---|---|
//! | `target` | the dialect, the base URL (without a trailing `/`), the model | another server or model answers differently |
//! | `sampling` | temperature, top_p, max tokens, seed, stop sequences (when set), how the schema is sent | each changes the answer (max tokens can cut it off) |
//! | `schema` | the answer's JSON Schema, as sent | a constrained decoder follows it |
//! | `system` | the system message | the prompt, rubric and calibration examples are in it |
//! | `conversation` | the other messages, with their roles | what is judged or continued |
//! | `sample` | which of `--samples K` this is | K samples must be K calls, and each stays cached |
//! | `version` | [`KEY_VERSION`] | a change in how requests are built changes every key |
//!
//! Deliberately left out, because they cannot change the answer:
//! concurrency, rate limits, timeouts, retry settings, prices, the API key
//! (a different key of one account gets the same answer; the key must
//! never reach the cache anyway), the run's name and directory, the flow's
//! own labels for the call, batch sizes, and the order calls are made in.
//! A cache that changed with any of these would be thrown away by a
//! setting the user changed for speed.

use super::Target;
use crate::llm::chat::{ChatRequest, Role};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// Bumped when the bytes sent for the same call change, so that answers
/// to the old request are not taken for answers to the new one.
pub const KEY_VERSION: u32 = 1;

/// A call's key and the hashes of its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallKey {
    pub key: [u8; 32],
    pub parts: KeyParts,
}

/// The hash of each part of a key (see the module comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParts {
    pub target: [u8; 32],
    pub sampling: [u8; 32],
    pub schema: [u8; 32],
    pub system: [u8; 32],
    pub conversation: [u8; 32],
    pub sample: u32,
}

impl CallKey {
    pub fn hex(&self) -> String {
        hex(&self.key)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The 32 bytes of a 64-digit hex string.
pub fn from_hex(text: &str) -> Option<[u8; 32]> {
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

/// Hashes length-prefixed fields, so that no two different lists of
/// fields hash alike (`"ab" + "c"` and `"a" + "bc"`).
struct Fields(Sha256);

impl Fields {
    fn new(part: &str) -> Self {
        let mut fields = Fields(Sha256::new());
        fields.add(part.as_bytes());
        fields
    }

    fn add(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    fn done(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// The hashes of the parts most calls of a run share (the system prompt,
/// the schema), computed once each. A judge run sends one 29 KB prompt and
/// one 14 KB schema with every call; hashing them for every key was most
/// of a call's CPU time. Each entry holds a clone of what it hashed, so its
/// address cannot be reused for other content while the entry lives.
#[derive(Default)]
pub struct KeyMemo {
    texts: Memo<str>,
    schemas: Memo<serde_json::Value>,
}

/// Hashes by the address of what was hashed, each with a clone of it.
type Memo<T> = std::sync::Mutex<HashMap<usize, (Arc<T>, [u8; 32])>>;

/// Entries a memo keeps before it starts over: far more distinct prompts
/// than a run has (one per question in per-question mode).
const MEMO_LIMIT: usize = 4096;

fn memoized<T: ?Sized>(
    table: &Memo<T>,
    value: &Arc<T>,
    hash: impl FnOnce() -> [u8; 32],
) -> [u8; 32] {
    let address = Arc::as_ptr(value) as *const u8 as usize;
    let mut table = table.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, digest)) = table
        .get(&address)
        .filter(|(kept, _)| Arc::ptr_eq(kept, value))
    {
        return *digest;
    }
    let digest = hash();
    if table.len() >= MEMO_LIMIT {
        table.clear();
    }
    table.insert(address, (Arc::clone(value), digest));
    digest
}

/// The key of `request` sent to `target`.
pub fn call_key(target: &Target, request: &ChatRequest) -> CallKey {
    call_key_with(target, request, &KeyMemo::default())
}

/// [`call_key`], with the shared parts' hashes taken from `memo`.
pub fn call_key_with(target: &Target, request: &ChatRequest, memo: &KeyMemo) -> CallKey {
    let endpoint = &target.endpoint;
    let mut t = Fields::new("target");
    t.add(target.dialect.name().as_bytes())
        .add(endpoint.base_url.trim_end_matches('/').as_bytes())
        .add(endpoint.model.as_bytes());
    let sampling = &endpoint.sampling;
    let mut s = Fields::new("sampling");
    s.add(&sampling.temperature.map_or([0xff; 8], f64::to_le_bytes))
        .add(&sampling.top_p.map_or([0xff; 8], f64::to_le_bytes))
        .add(&sampling.max_tokens.to_le_bytes())
        .add(&sampling.seed.map_or([0xff; 9], |s| {
            let mut b = [0u8; 9];
            b[..8].copy_from_slice(&s.to_le_bytes());
            b
        }))
        .add(endpoint.structured.name().as_bytes());
    // Added only when set, so the keys of calls without stop sequences
    // (every key written before they existed) stay what they were.
    for stop in &sampling.stop {
        s.add(b"stop").add(stop.as_bytes());
    }
    let mut schema = Fields::new("schema");
    match &request.schema {
        Some(out) => {
            let body = memoized(&memo.schemas, &out.schema, || {
                let mut f = Fields::new("schema body");
                f.add(out.schema.to_string().as_bytes());
                f.done()
            });
            schema.add(out.name.as_bytes()).add(&body);
        }
        None => {
            schema.add(b"none");
        }
    }
    let mut system = Fields::new("system");
    let mut conversation = Fields::new("conversation");
    for message in &request.messages {
        match message.role {
            Role::System => {
                let text = memoized(&memo.texts, &message.content, || {
                    let mut f = Fields::new("text");
                    f.add(message.content.as_bytes());
                    f.done()
                });
                system.add(&text)
            }
            Role::User => conversation.add(b"user").add(message.content.as_bytes()),
            Role::Assistant => conversation
                .add(b"assistant")
                .add(message.content.as_bytes()),
        };
    }
    let parts = KeyParts {
        target: t.done(),
        sampling: s.done(),
        schema: schema.done(),
        system: system.done(),
        conversation: conversation.done(),
        sample: request.sample,
    };
    let mut key = Fields::new("call");
    key.add(&KEY_VERSION.to_le_bytes())
        .add(&parts.target)
        .add(&parts.sampling)
        .add(&parts.schema)
        .add(&parts.system)
        .add(&parts.conversation)
        .add(&parts.sample.to_le_bytes());
    CallKey {
        key: key.done(),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chat::{Message, OutputSchema};
    use crate::llm::engine::tests::target;

    fn request(sample: u32) -> ChatRequest {
        ChatRequest {
            messages: vec![
                Message::new(Role::System, "rules"),
                Message::new(Role::User, "hello"),
            ],
            schema: Some(OutputSchema {
                name: "answers".into(),
                schema: Arc::new(serde_json::json!({"type": "object"})),
            }),
            sample,
        }
    }

    #[test]
    fn what_decides_the_answer_changes_the_key_and_nothing_else_does() {
        let base = call_key(&target("http://x/v1"), &request(0));
        // Settings that cannot change the answer.
        let mut t = target("http://x/v1/");
        t.limits.concurrency = 99;
        t.limits.requests_per_minute = Some(1);
        t.timeout = std::time::Duration::from_secs(1);
        t.id = "another-name".into();
        assert_eq!(call_key(&t, &request(0)), base);
        // Each part that can.
        assert_ne!(call_key(&target("http://y/v1"), &request(0)).key, base.key);
        assert_ne!(call_key(&target("http://x/v1"), &request(1)).key, base.key);
        let mut t = target("http://x/v1");
        t.endpoint.sampling.temperature = Some(0.7);
        let hot = call_key(&t, &request(0));
        assert_ne!(hot.key, base.key);
        assert_ne!(hot.parts.sampling, base.parts.sampling);
        assert_eq!(hot.parts.system, base.parts.system);
        let mut r = request(0);
        r.messages[1] = Message::new(Role::User, "hello!");
        let other = call_key(&target("http://x/v1"), &r);
        assert_ne!(other.parts.conversation, base.parts.conversation);
        assert_eq!(other.parts.system, base.parts.system);
        // A role is part of a message.
        let mut r = request(0);
        r.messages[1] = Message::new(Role::Assistant, "hello");
        assert_ne!(call_key(&target("http://x/v1"), &r).key, base.key);
    }

    #[test]
    fn the_memo_gives_the_keys_hashing_gives() {
        let memo = KeyMemo::default();
        let t = target("http://x/v1");
        for sample in 0..3 {
            let r = request(sample);
            assert_eq!(call_key_with(&t, &r, &memo), call_key(&t, &r));
            // Twice through the memo: the same key.
            assert_eq!(call_key_with(&t, &r, &memo), call_key(&t, &r));
        }
        // Equal content at another address hashes alike.
        let mut other = request(0);
        other.messages[0] = Message::new(Role::System, String::from("rules"));
        assert_eq!(call_key_with(&t, &other, &memo), call_key(&t, &request(0)));
    }

    #[test]
    fn hex_round_trips() {
        let key = call_key(&target("http://x/v1"), &request(0));
        assert_eq!(from_hex(&key.hex()), Some(key.key));
        assert_eq!(from_hex("zz"), None);
    }
}
