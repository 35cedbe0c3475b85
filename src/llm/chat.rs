//! What one model call is, whatever the provider: the messages, the
//! sampling settings and the output's JSON Schema going in; the text (or
//! the structured value), why the model stopped and the tokens used
//! coming back. Provider dialects (`provider/`) translate these to and
//! from their wire formats; the engine (`engine/`) moves them; flows
//! (`crate::flows`) fill them.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    /// As chat APIs and generations lines write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation sent to a model. The text is shared:
/// the same 25 KB system prompt goes into every call of a judge run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message {
    pub role: Role,
    pub content: Arc<str>,
}

impl Message {
    pub fn new(role: Role, content: impl Into<Arc<str>>) -> Message {
        Message {
            role,
            content: content.into(),
        }
    }
}

/// The JSON Schema an answer must follow, with the name providers ask for
/// (OpenAI's `json_schema.name`, Anthropic's tool name).
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSchema {
    pub name: String,
    pub schema: Arc<serde_json::Value>,
}

/// A call before it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// In order; a system message, if any, first.
    pub messages: Vec<Message>,
    pub schema: Option<OutputSchema>,
    /// Which of several samples of the same request this is (`--samples
    /// K`): 0 to K-1. It is part of the cache key, so K samples are K
    /// calls, and with a fixed `seed` sample `k` is sent with `seed + k`.
    pub sample: u32,
}

/// Why a model stopped writing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// It finished on its own (`stop`, `end_turn`, a forced tool call).
    Stop,
    /// It ran out of output tokens: the answer is cut off.
    Length,
    /// It declined to answer.
    Refusal,
    /// A provider's reason this client does not know.
    Other(String),
}

/// Tokens one call used, as the provider counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    /// Of `input_tokens`, those read from the provider's prompt cache
    /// (billed at the cached-input price).
    #[serde(default)]
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.output_tokens += other.output_tokens;
    }
}

/// What a model answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The answer's text: the message content, or for a forced tool call
    /// the tool's input as JSON text.
    pub text: String,
    /// The refusal message, when the provider reports one apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    pub finish: Finish,
    pub usage: Usage,
}
