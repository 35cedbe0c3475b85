//! What calls cost: usage priced from the configuration, and, for
//! `--dry-run` and `--max-cost`, token counts before anything is sent.
//!
//! Input tokens are counted exactly with OpenAI's own tokenizers
//! (tiktoken-rs) for the models it knows; for every other model they are an
//! estimate (a token per four bytes of text), and said to be one.

use crate::llm::chat::{ChatRequest, Usage};
use crate::llm::config::Prices;
use std::sync::OnceLock;

/// The cost of `usage` at `prices`, or `None` when the configuration has
/// no prices for the model.
pub fn cost(prices: Option<&Prices>, usage: &Usage) -> Option<f64> {
    let prices = prices?;
    let uncached = usage.input_tokens.saturating_sub(usage.cached_input_tokens);
    Some(prices.cost(uncached, usage.cached_input_tokens, usage.output_tokens))
}

/// The most a call can cost: its input, uncached, and every output token
/// it may write.
pub fn ceiling(prices: Option<&Prices>, input_tokens: u64, max_output: u64) -> Option<f64> {
    cost(
        prices,
        &Usage {
            input_tokens,
            cached_input_tokens: 0,
            output_tokens: max_output,
        },
    )
}

/// A count of input tokens, and whether it is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCount {
    pub tokens: u64,
    pub exact: bool,
}

/// Chat framing the tokenizers do not see: a few tokens per message, as
/// OpenAI's own counting recipe adds them.
const PER_MESSAGE: u64 = 3;
pub const PER_REQUEST: u64 = 3;

/// A tokenizer for a model, when its tokenizer is known.
fn tokenizer(dialect: &str, model: &str) -> Option<&'static tiktoken_rs::CoreBPE> {
    static O200K: OnceLock<Option<tiktoken_rs::CoreBPE>> = OnceLock::new();
    static CL100K: OnceLock<Option<tiktoken_rs::CoreBPE>> = OnceLock::new();
    if dialect != "openai" {
        return None;
    }
    // Only OpenAI's own model names: an OpenAI-compatible server runs
    // other models, whose tokenizers differ.
    let name = model.rsplit('/').next().unwrap_or(model);
    let o200k = [
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "o1",
        "o3",
        "o4",
        "chatgpt-4o",
    ];
    let cl100k = ["gpt-4", "gpt-3.5"];
    if o200k.iter().any(|p| name.starts_with(p)) {
        O200K
            .get_or_init(|| tiktoken_rs::o200k_base().ok())
            .as_ref()
    } else if cl100k.iter().any(|p| name.starts_with(p)) {
        CL100K
            .get_or_init(|| tiktoken_rs::cl100k_base().ok())
            .as_ref()
    } else {
        None
    }
}

/// The input tokens of `request` to `model`, exactly when the tokenizer
/// is known.
pub fn count_input(dialect: &str, model: &str, request: &ChatRequest) -> TokenCount {
    let framing = PER_REQUEST + PER_MESSAGE * request.messages.len() as u64;
    let schema = request
        .schema
        .as_ref()
        .map_or(0, |s| s.schema.to_string().len() as u64);
    match tokenizer(dialect, model) {
        Some(bpe) => {
            let text: u64 = request
                .messages
                .iter()
                .map(|m| bpe.encode_ordinary(&m.content).len() as u64)
                .sum();
            TokenCount {
                // The schema is sent as JSON next to the messages; it is
                // counted as text, which is what constrained decoding
                // reads.
                tokens: framing + text + estimate_bytes(schema),
                exact: request.schema.is_none(),
            }
        }
        None => TokenCount {
            tokens: framing + estimate(request) + estimate_bytes(schema),
            exact: false,
        },
    }
}

/// A quick estimate, for the rate limiter: a token per four bytes.
pub fn estimate(request: &ChatRequest) -> u64 {
    request
        .messages
        .iter()
        .map(|m| estimate_bytes(m.content.len() as u64))
        .sum()
}

fn estimate_bytes(bytes: u64) -> u64 {
    bytes.div_ceil(4)
}

/// The estimate of one message of a chat without a known tokenizer: a
/// token per four bytes of its text, rounded up, and the framing every
/// message has. A whole chat adds [`PER_REQUEST`]. (`score --keep
/// --slice` holds its slices to `--max-tokens` with this.)
pub fn estimate_message(text: &str) -> u64 {
    PER_MESSAGE + estimate_bytes(text.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chat::{Message, Role};

    #[test]
    fn usage_is_priced_with_cached_input_at_its_own_price() {
        let prices = Prices {
            input: 2.0,
            cached_input: 0.5,
            output: 8.0,
            batch_discount: 0.5,
        };
        let usage = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 400_000,
            output_tokens: 100_000,
        };
        let total = cost(Some(&prices), &usage).unwrap();
        assert!((total - (1.2 + 0.2 + 0.8)).abs() < 1e-9, "{total}");
        assert_eq!(cost(None, &usage), None);
        let most = ceiling(Some(&prices), 1_000_000, 1_000_000).unwrap();
        assert!((most - 10.0).abs() < 1e-9);
    }

    #[test]
    fn openai_models_are_counted_exactly_others_estimated() {
        let request = ChatRequest {
            messages: vec![Message::new(Role::User, "hello world")],
            schema: None,
            sample: 0,
        };
        let exact = count_input("openai", "gpt-4o-mini", &request);
        assert!(exact.exact);
        assert_eq!(exact.tokens, 2 + PER_REQUEST + PER_MESSAGE);
        let other = count_input("openai", "qwen2.5-coder", &request);
        assert!(!other.exact);
        let claude = count_input("anthropic", "claude-sonnet-4-5", &request);
        assert!(!claude.exact);
    }
}
