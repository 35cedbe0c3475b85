//! OpenAI's Chat Completions (`POST {base_url}/chat/completions`), which
//! OpenAI-compatible servers (vLLM, llama.cpp's server, Ollama, OpenRouter,
//! Together, Groq) speak too.
//!
//! The answer's schema goes as `response_format: {type: "json_schema",
//! json_schema: {name, strict: true, schema}}`; strict mode needs every
//! property required and `additionalProperties: false`, which the emitted
//! judge schema already has, and rejects `$schema`, which is dropped.

use super::{
    Dialect, Endpoint, MalformedResponse, ProviderError, RateLimits, StructuredOutput, WireRequest,
    error_message, header_u64, retry_after,
};
use crate::llm::chat::{ChatRequest, ChatResponse, Finish, Role, Usage};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

pub struct OpenAi;

/// The official API takes `max_completion_tokens` (its reasoning models
/// refuse `max_tokens`); compatible servers know `max_tokens`.
fn is_official(base_url: &str) -> bool {
    base_url.contains("://api.openai.com")
}

/// A schema as the providers take it: without its `$schema` keyword,
/// which OpenAI's strict mode rejects. It is written straight from the
/// emitted schema, which is not copied for every call.
pub struct ProviderSchema<'a>(pub &'a Value);

impl serde::Serialize for ProviderSchema<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self.0 {
            Value::Object(object) => {
                let kept = object.iter().filter(|(k, _)| *k != "$schema");
                let mut map = serializer.serialize_map(Some(kept.clone().count()))?;
                for (k, v) in kept {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// The request body, written without building a JSON tree: the system
/// prompt and the schema, most of every body, are serialised from where
/// they are.
#[derive(serde::Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormat<'a>>,
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
struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    json_schema: NamedSchema<'a>,
}

#[derive(serde::Serialize)]
struct NamedSchema<'a> {
    name: &'a str,
    strict: bool,
    schema: ProviderSchema<'a>,
}

#[derive(serde::Serialize)]
struct Tool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function<'a>,
}

#[derive(serde::Serialize)]
struct Function<'a> {
    name: &'a str,
    description: &'static str,
    parameters: ProviderSchema<'a>,
}

#[derive(serde::Serialize)]
struct ToolChoice<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: ChoiceName<'a>,
}

#[derive(serde::Serialize)]
struct ChoiceName<'a> {
    name: &'a str,
}

impl Dialect for OpenAi {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn request(&self, endpoint: &Endpoint, request: &ChatRequest) -> WireRequest {
        let sampling = &endpoint.sampling;
        let official = is_official(&endpoint.base_url);
        let mut body = Body {
            model: &endpoint.model,
            messages: request
                .messages
                .iter()
                .map(|m| WireMessage {
                    role: match m.role {
                        Role::System => "system",
                        Role::User => "user",
                        Role::Assistant => "assistant",
                    },
                    content: &m.content,
                })
                .collect(),
            max_tokens: (!official).then_some(sampling.max_tokens),
            max_completion_tokens: official.then_some(sampling.max_tokens),
            temperature: sampling.temperature,
            top_p: sampling.top_p,
            seed: sampling
                .seed
                .map(|seed| seed.wrapping_add(i64::from(request.sample))),
            stop: &sampling.stop,
            response_format: None,
            tools: None,
            tool_choice: None,
        };
        match (&request.schema, endpoint.structured) {
            (Some(schema), StructuredOutput::JsonSchema) => {
                body.response_format = Some(ResponseFormat {
                    kind: "json_schema",
                    json_schema: NamedSchema {
                        name: &schema.name,
                        strict: true,
                        schema: ProviderSchema(&schema.schema),
                    },
                });
            }
            // A function the model must call, for compatible servers that
            // have tools but not `response_format`.
            (Some(schema), StructuredOutput::Tool) => {
                body.tools = Some([Tool {
                    kind: "function",
                    function: Function {
                        name: &schema.name,
                        description: "Record the answer. Call this function exactly once with the complete answer.",
                        parameters: ProviderSchema(&schema.schema),
                    },
                }]);
                body.tool_choice = Some(ToolChoice {
                    kind: "function",
                    function: ChoiceName { name: &schema.name },
                });
            }
            _ => {}
        }
        WireRequest {
            url: format!("{}/chat/completions", endpoint.base_url),
            headers: vec![("content-type", "application/json".into())],
            body: serde_json::to_vec(&body).unwrap_or_default().into(),
        }
    }

    fn auth_header(&self, key: &str) -> (&'static str, String) {
        ("authorization", format!("Bearer {key}"))
    }

    fn parse(&self, body: &[u8]) -> Result<ChatResponse, MalformedResponse> {
        #[derive(Deserialize)]
        struct Completion {
            choices: Vec<Choice>,
            #[serde(default)]
            usage: Option<WireUsage>,
        }
        #[derive(Deserialize)]
        struct Choice {
            message: WireMessage,
            #[serde(default)]
            finish_reason: Option<String>,
        }
        #[derive(Deserialize)]
        struct WireMessage {
            #[serde(default)]
            content: Option<String>,
            #[serde(default)]
            refusal: Option<String>,
            #[serde(default)]
            tool_calls: Vec<ToolCall>,
        }
        #[derive(Deserialize)]
        struct ToolCall {
            function: Function,
        }
        #[derive(Deserialize)]
        struct Function {
            #[serde(default)]
            arguments: String,
        }
        #[derive(Deserialize)]
        struct WireUsage {
            #[serde(default)]
            prompt_tokens: u64,
            #[serde(default)]
            completion_tokens: u64,
            #[serde(default)]
            prompt_tokens_details: Option<Details>,
        }
        #[derive(Deserialize)]
        struct Details {
            #[serde(default)]
            cached_tokens: u64,
        }
        let completion: Completion =
            serde_json::from_slice(body).map_err(|e| MalformedResponse {
                reason: format!("the response is not a chat completion: {e}"),
            })?;
        let Some(choice) = completion.choices.into_iter().next() else {
            return Err(MalformedResponse {
                reason: "the response has no choices".into(),
            });
        };
        let usage = completion
            .usage
            .map(|u| Usage {
                input_tokens: u.prompt_tokens,
                cached_input_tokens: u.prompt_tokens_details.map_or(0, |d| d.cached_tokens),
                output_tokens: u.completion_tokens,
            })
            .unwrap_or_default();
        let refusal = choice.message.refusal.filter(|r| !r.is_empty());
        let finish = match choice.finish_reason.as_deref() {
            _ if refusal.is_some() => Finish::Refusal,
            Some("stop") | Some("tool_calls") | None => Finish::Stop,
            Some("length") => Finish::Length,
            Some("content_filter") => Finish::Refusal,
            Some(other) => Finish::Other(other.to_string()),
        };
        // A forced function call's arguments are the answer.
        let text = match choice.message.tool_calls.into_iter().next() {
            Some(call) => call.function.arguments,
            None => choice.message.content.unwrap_or_default(),
        };
        Ok(ChatResponse {
            text,
            refusal,
            finish,
            usage,
        })
    }

    fn error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        let message = error_message(body, "/error/message");
        let code = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
            v.pointer("/error/code")
                .or_else(|| v.pointer("/error/type"))
                .and_then(|c| c.as_str().map(str::to_string))
        });
        match (status, code.as_deref()) {
            (429, Some("insufficient_quota")) => ProviderError::QuotaExhausted { message },
            (429, _) => ProviderError::RateLimited {
                retry_after: retry_after(headers),
                message,
            },
            (408 | 409, _) | (500..=599, _) => ProviderError::Transient {
                status,
                retry_after: retry_after(headers),
                message,
            },
            _ => ProviderError::Fatal { status, message },
        }
    }

    fn rate_limits(&self, headers: &HeaderMap) -> RateLimits {
        RateLimits {
            requests_limit: header_u64(headers, "x-ratelimit-limit-requests"),
            requests_remaining: header_u64(headers, "x-ratelimit-remaining-requests"),
            // OpenAI counts input and output against one token limit.
            tokens_limit: header_u64(headers, "x-ratelimit-limit-tokens"),
            tokens_remaining: header_u64(headers, "x-ratelimit-remaining-tokens"),
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

    fn endpoint(base_url: &str) -> Endpoint {
        Endpoint {
            base_url: base_url.into(),
            model: "m".into(),
            sampling: Sampling {
                temperature: Some(0.0),
                top_p: None,
                max_tokens: 512,
                seed: Some(7),
                stop: Vec::new(),
            },
            structured: StructuredOutput::JsonSchema,
        }
    }

    #[test]
    fn stop_sequences_are_sent_only_when_set() {
        let request = ChatRequest {
            messages: vec![Message::new(Role::User, "hi")],
            schema: None,
            sample: 0,
        };
        let mut e = endpoint("http://127.0.0.1:9/v1");
        let body: Value = serde_json::from_slice(&OpenAi.request(&e, &request).body).unwrap();
        assert!(body.get("stop").is_none());
        e.sampling.stop = vec!["\n\n".into()];
        let body: Value = serde_json::from_slice(&OpenAi.request(&e, &request).body).unwrap();
        assert_eq!(body["stop"], json!(["\n\n"]));
        let body: Value = serde_json::from_slice(
            &crate::llm::provider::anthropic::Anthropic
                .request(&e, &request)
                .body,
        )
        .unwrap();
        assert_eq!(body["stop_sequences"], json!(["\n\n"]));
    }

    #[test]
    fn a_request_carries_the_strict_schema_and_the_sample_seed() {
        let schema = json!({"$schema": "x", "type": "object", "properties": {}, "required": [], "additionalProperties": false});
        let request = ChatRequest {
            messages: vec![
                Message::new(Role::System, "rules"),
                Message::new(Role::User, "[U1] user: hi"),
            ],
            schema: Some(OutputSchema {
                name: "judge".into(),
                schema: Arc::new(schema),
            }),
            sample: 2,
        };
        let wire = OpenAi.request(&endpoint("http://127.0.0.1:9/v1"), &request);
        assert_eq!(wire.url, "http://127.0.0.1:9/v1/chat/completions");
        let body: Value = serde_json::from_slice(&wire.body).unwrap();
        assert_eq!(body["seed"], 9);
        assert_eq!(body["max_tokens"], 512);
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        assert!(
            body["response_format"]["json_schema"]["schema"]
                .get("$schema")
                .is_none()
        );
        assert_eq!(body["messages"][0]["role"], "system");
        let official = OpenAi.request(&endpoint("https://api.openai.com/v1"), &request);
        let body: Value = serde_json::from_slice(&official.body).unwrap();
        assert_eq!(body["max_completion_tokens"], 512);
    }

    #[test]
    fn a_forced_function_call_carries_the_answer() {
        let mut e = endpoint("http://127.0.0.1:9/v1");
        e.structured = StructuredOutput::Tool;
        let request = ChatRequest {
            messages: vec![Message::new(Role::User, "x")],
            schema: Some(OutputSchema {
                name: "judge".into(),
                schema: Arc::new(json!({"type": "object"})),
            }),
            sample: 0,
        };
        let body: Value = serde_json::from_slice(&OpenAi.request(&e, &request).body).unwrap();
        assert_eq!(body["tool_choice"]["function"]["name"], "judge");
        assert!(body.get("response_format").is_none());
        let answer = br#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"judge","arguments":"{\"S1\":true}"}}]},"finish_reason":"tool_calls"}]}"#;
        let r = OpenAi.parse(answer).unwrap();
        assert_eq!(r.text, r#"{"S1":true}"#);
        assert_eq!(r.finish, Finish::Stop);
    }

    #[test]
    fn responses_refusals_and_cut_offs_are_read() {
        let ok = br#"{"choices":[{"message":{"content":"{}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":4}}}"#;
        let r = OpenAi.parse(ok).unwrap();
        assert_eq!(r.finish, Finish::Stop);
        assert_eq!(r.usage.cached_input_tokens, 4);
        let refusal = br#"{"choices":[{"message":{"content":null,"refusal":"I can't"},"finish_reason":"stop"}]}"#;
        assert_eq!(OpenAi.parse(refusal).unwrap().finish, Finish::Refusal);
        let cut = br#"{"choices":[{"message":{"content":"{\"S1\": {"},"finish_reason":"length"}]}"#;
        assert_eq!(OpenAi.parse(cut).unwrap().finish, Finish::Length);
        assert!(OpenAi.parse(b"{\"choices\": [").is_err());
    }

    #[test]
    fn errors_are_told_apart() {
        let headers = HeaderMap::new();
        let quota = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert!(matches!(
            OpenAi.error(429, &headers, quota),
            ProviderError::QuotaExhausted { .. }
        ));
        let limited = br#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#;
        assert!(matches!(
            OpenAi.error(429, &headers, limited),
            ProviderError::RateLimited { .. }
        ));
        assert!(matches!(
            OpenAi.error(503, &headers, b""),
            ProviderError::Transient { .. }
        ));
        let auth = OpenAi.error(
            401,
            &headers,
            br#"{"error":{"message":"Incorrect API key"}}"#,
        );
        assert_eq!(
            auth,
            ProviderError::Fatal {
                status: 401,
                message: "Incorrect API key".into()
            }
        );
    }
}
