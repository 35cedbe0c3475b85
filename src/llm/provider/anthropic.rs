//! Anthropic's Messages API (`POST {base_url}/v1/messages`).
//!
//! The system prompt goes in `system`, not among the messages. The
//! answer's schema goes as the input schema of one tool the model is made
//! to call (`tool_choice: {type: "tool"}`); the tool's `input` is the
//! answer. `max_tokens` is required by the API.

use super::openai::ProviderSchema;
use super::{
    Dialect, Endpoint, MalformedResponse, ProviderError, RateLimits, StructuredOutput, WireRequest,
    error_message, header_u64, retry_after,
};
use crate::llm::chat::{ChatRequest, ChatResponse, Finish, Role, Usage};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

pub struct Anthropic;

/// The request body, written without building a JSON tree (see
/// `openai::Body`).
#[derive(serde::Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<[Tool<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoice<'a>>,
}

#[derive(serde::Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(serde::Serialize)]
struct Tool<'a> {
    name: &'a str,
    description: &'static str,
    input_schema: ProviderSchema<'a>,
}

#[derive(serde::Serialize)]
struct ToolChoice<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
}

/// The API version this client speaks.
pub const VERSION: &str = "2023-06-01";

impl Dialect for Anthropic {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn request(&self, endpoint: &Endpoint, request: &ChatRequest) -> WireRequest {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| &*m.content)
            .collect();
        let joined;
        let system = match system.as_slice() {
            [] => None,
            [one] => Some(*one),
            several => {
                joined = several.join("\n\n");
                Some(joined.as_str())
            }
        };
        let sampling = &endpoint.sampling;
        let schema = match (&request.schema, endpoint.structured) {
            (Some(schema), StructuredOutput::Tool | StructuredOutput::JsonSchema) => Some(schema),
            _ => None,
        };
        let body = Body {
            model: &endpoint.model,
            max_tokens: sampling.max_tokens,
            system,
            messages: request
                .messages
                .iter()
                .filter(|m| m.role != Role::System)
                .map(|m| WireMessage {
                    role: if m.role == Role::User { "user" } else { "assistant" },
                    content: &m.content,
                })
                .collect(),
            temperature: sampling.temperature,
            top_p: sampling.top_p,
            stop_sequences: &sampling.stop,
            tools: schema.map(|s| {
                [Tool {
                    name: &s.name,
                    description: "Record the answer. Call this tool exactly once with the complete answer.",
                    input_schema: ProviderSchema(&s.schema),
                }]
            }),
            tool_choice: schema.map(|s| ToolChoice {
                kind: "tool",
                name: &s.name,
            }),
        };
        WireRequest {
            url: format!("{}/v1/messages", endpoint.base_url),
            headers: vec![
                ("content-type", "application/json".into()),
                ("anthropic-version", VERSION.into()),
            ],
            body: serde_json::to_vec(&body).unwrap_or_default().into(),
        }
    }

    fn auth_header(&self, key: &str) -> (&'static str, String) {
        ("x-api-key", key.to_string())
    }

    fn parse(&self, body: &[u8]) -> Result<ChatResponse, MalformedResponse> {
        #[derive(Deserialize)]
        struct Message {
            content: Vec<Block>,
            #[serde(default)]
            stop_reason: Option<String>,
            #[serde(default)]
            usage: Option<WireUsage>,
        }
        #[derive(Deserialize)]
        #[serde(tag = "type")]
        enum Block {
            #[serde(rename = "text")]
            Text { text: String },
            #[serde(rename = "tool_use")]
            ToolUse { input: Value },
            #[serde(other)]
            Other,
        }
        #[derive(Deserialize)]
        struct WireUsage {
            #[serde(default)]
            input_tokens: u64,
            #[serde(default)]
            output_tokens: u64,
            #[serde(default)]
            cache_read_input_tokens: Option<u64>,
            #[serde(default)]
            cache_creation_input_tokens: Option<u64>,
        }
        let message: Message = serde_json::from_slice(body).map_err(|e| MalformedResponse {
            reason: format!("the response is not a message: {e}"),
        })?;
        let usage = message
            .usage
            .map(|u| {
                // `input_tokens` leaves out what was read from or written to
                // the prompt cache; all of it is input.
                let read = u.cache_read_input_tokens.unwrap_or(0);
                Usage {
                    input_tokens: u.input_tokens
                        + read
                        + u.cache_creation_input_tokens.unwrap_or(0),
                    cached_input_tokens: read,
                    output_tokens: u.output_tokens,
                }
            })
            .unwrap_or_default();
        // A forced tool call's input is the answer; otherwise the text.
        let mut tool_input = None;
        let mut text = String::new();
        for block in message.content {
            match block {
                Block::ToolUse { input } if tool_input.is_none() => tool_input = Some(input),
                Block::Text { text: t } => text.push_str(&t),
                _ => {}
            }
        }
        let finish = match message.stop_reason.as_deref() {
            Some("end_turn") | Some("tool_use") | Some("stop_sequence") | None => Finish::Stop,
            Some("max_tokens") => Finish::Length,
            Some("refusal") => Finish::Refusal,
            Some(other) => Finish::Other(other.to_string()),
        };
        let refusal = (finish == Finish::Refusal && !text.is_empty()).then(|| text.clone());
        Ok(ChatResponse {
            text: match tool_input {
                Some(input) => input.to_string(),
                None => text,
            },
            refusal,
            finish,
            usage,
        })
    }

    fn error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        let message = error_message(body, "/error/message");
        let kind = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
            v.pointer("/error/type")
                .and_then(|t| t.as_str().map(str::to_string))
        });
        let credit = message.to_lowercase().contains("credit balance");
        match (status, kind.as_deref()) {
            (_, Some("billing_error")) => ProviderError::QuotaExhausted { message },
            (400 | 402 | 403, _) if credit => ProviderError::QuotaExhausted { message },
            (429, _) | (_, Some("rate_limit_error")) => ProviderError::RateLimited {
                retry_after: retry_after(headers),
                message,
            },
            (408 | 409 | 500..=599, _) | (_, Some("overloaded_error" | "api_error")) => {
                ProviderError::Transient {
                    status,
                    retry_after: retry_after(headers),
                    message,
                }
            }
            _ => ProviderError::Fatal { status, message },
        }
    }

    fn rate_limits(&self, headers: &HeaderMap) -> RateLimits {
        let get = |name: &str| header_u64(headers, &format!("anthropic-ratelimit-{name}"));
        RateLimits {
            requests_limit: get("requests-limit"),
            requests_remaining: get("requests-remaining"),
            input_tokens_limit: get("input-tokens-limit"),
            input_tokens_remaining: get("input-tokens-remaining"),
            output_tokens_limit: get("output-tokens-limit"),
            output_tokens_remaining: get("output-tokens-remaining"),
            ..RateLimits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chat::{Message, OutputSchema};
    use crate::llm::provider::Sampling;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn the_system_prompt_goes_apart_and_the_schema_as_a_forced_tool() {
        let endpoint = Endpoint {
            base_url: "http://127.0.0.1:9".into(),
            model: "claude".into(),
            sampling: Sampling {
                temperature: Some(0.0),
                top_p: None,
                max_tokens: 256,
                seed: None,
                stop: Vec::new(),
            },
            structured: StructuredOutput::Tool,
        };
        let request = ChatRequest {
            messages: vec![
                Message::new(Role::System, "rules"),
                Message::new(Role::User, "transcript"),
            ],
            schema: Some(OutputSchema {
                name: "record_answers".into(),
                schema: Arc::new(json!({"type": "object"})),
            }),
            sample: 0,
        };
        let wire = Anthropic.request(&endpoint, &request);
        assert_eq!(wire.url, "http://127.0.0.1:9/v1/messages");
        let body: Value = serde_json::from_slice(&wire.body).unwrap();
        assert_eq!(body["system"], "rules");
        assert_eq!(body["messages"].as_array().unwrap().len(), 1);
        assert_eq!(body["tool_choice"]["name"], "record_answers");
        assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
    }

    #[test]
    fn a_tool_call_is_the_answer() {
        let body = br#"{"content":[{"type":"text","text":"Here."},{"type":"tool_use","id":"t","name":"record_answers","input":{"S1":{"answer":true}}}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":7,"cache_read_input_tokens":100}}"#;
        let r = Anthropic.parse(body).unwrap();
        assert_eq!(r.text, r#"{"S1":{"answer":true}}"#);
        assert_eq!(r.finish, Finish::Stop);
        assert_eq!(r.usage.input_tokens, 105);
        assert_eq!(r.usage.cached_input_tokens, 100);
        let cut = br#"{"content":[{"type":"text","text":"{\"S1\""}],"stop_reason":"max_tokens"}"#;
        assert_eq!(Anthropic.parse(cut).unwrap().finish, Finish::Length);
    }

    #[test]
    fn errors_are_told_apart() {
        let headers = HeaderMap::new();
        let overloaded =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert!(matches!(
            Anthropic.error(529, &headers, overloaded),
            ProviderError::Transient { .. }
        ));
        let credit = br#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#;
        assert!(matches!(
            Anthropic.error(400, &headers, credit),
            ProviderError::QuotaExhausted { .. }
        ));
        let bad = br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: required"}}"#;
        assert!(matches!(
            Anthropic.error(400, &headers, bad),
            ProviderError::Fatal { status: 400, .. }
        ));
    }

    #[test]
    fn rate_limit_headers_are_read() {
        use reqwest::header::HeaderValue;
        let mut headers = HeaderMap::new();
        headers.insert(
            "anthropic-ratelimit-requests-remaining",
            HeaderValue::from_static("49"),
        );
        headers.insert(
            "anthropic-ratelimit-output-tokens-limit",
            HeaderValue::from_static("8000"),
        );
        let limits = Anthropic.rate_limits(&headers);
        assert_eq!(limits.requests_remaining, Some(49));
        assert_eq!(limits.output_tokens_limit, Some(8000));
        assert_eq!(limits.input_tokens_remaining, None);
    }
}
