//! Provider dialects behind one small interface.
//!
//! A [`Dialect`] knows one wire format: how a [`ChatRequest`] becomes an
//! HTTP request (URL, headers, JSON body), how a successful response body
//! becomes a [`ChatResponse`], what an error response means
//! ([`ProviderError`]: retry, slow down, or stop the run), and what the
//! rate-limit headers say. It does no I/O: the engine sends the request
//! and hands back status, headers and body. Two dialects cover the
//! servers users run: [`openai`] (OpenAI's Chat Completions, which vLLM,
//! llama.cpp's server, Ollama, OpenRouter, Together and Groq also speak)
//! and [`anthropic`] (the Messages API).

pub mod anthropic;
pub mod openai;

use super::chat::{ChatRequest, ChatResponse};
use std::time::Duration;

pub use crate::llm::config::{Sampling, StructuredOutput};

/// Everything a dialect needs to address one model.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Without a trailing `/`: `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    pub sampling: Sampling,
    pub structured: StructuredOutput,
}

/// An HTTP request to send, without the API key (the engine adds it, as
/// a header marked sensitive, from [`Dialect::auth_header`]).
#[derive(Debug, Clone)]
pub struct WireRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// Shared by every attempt of a call: a retry sends it without a copy.
    pub body: bytes::Bytes,
}

/// What an error response means for the run.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderError {
    /// Too many requests or tokens: wait (as long as the provider asks,
    /// when it says) and send again, with less concurrency.
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// The provider failed or is overloaded (5xx, Anthropic's 529): send
    /// again after a backoff.
    Transient {
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
    /// The account's quota or credit is used up: stop the run at once.
    QuotaExhausted { message: String },
    /// Sending again cannot help (a bad key, an unknown model, a request
    /// the provider refuses): stop the run with the provider's message.
    Fatal { status: u16, message: String },
}

impl ProviderError {
    pub fn message(&self) -> &str {
        match self {
            ProviderError::RateLimited { message, .. }
            | ProviderError::Transient { message, .. }
            | ProviderError::QuotaExhausted { message }
            | ProviderError::Fatal { message, .. } => message,
        }
    }
}

/// A success response whose body could not be read as this dialect's
/// answer (not JSON, or no message in it).
#[derive(Debug, Clone, PartialEq)]
pub struct MalformedResponse {
    pub reason: String,
}

/// What the rate-limit headers of a response say is left, as far as the
/// provider sends them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateLimits {
    /// Per minute.
    pub requests_limit: Option<u64>,
    pub requests_remaining: Option<u64>,
    /// Input and output tokens together (OpenAI).
    pub tokens_limit: Option<u64>,
    pub tokens_remaining: Option<u64>,
    pub input_tokens_limit: Option<u64>,
    pub input_tokens_remaining: Option<u64>,
    pub output_tokens_limit: Option<u64>,
    pub output_tokens_remaining: Option<u64>,
}

/// One wire format.
pub trait Dialect: Send + Sync {
    /// `openai` or `anthropic`: part of the cache key.
    fn name(&self) -> &'static str;

    /// The HTTP request for `request`.
    fn request(&self, endpoint: &Endpoint, request: &ChatRequest) -> WireRequest;

    /// The header that carries the API key, and its value.
    fn auth_header(&self, key: &str) -> (&'static str, String);

    /// Reads a 2xx response body.
    fn parse(&self, body: &[u8]) -> Result<ChatResponse, MalformedResponse>;

    /// What a non-2xx response means.
    fn error(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> ProviderError;

    /// What the response's rate-limit headers say.
    fn rate_limits(&self, headers: &reqwest::header::HeaderMap) -> RateLimits;
}

/// The dialect of a provider named in the configuration.
pub fn dialect(provider: crate::llm::config::Dialect) -> &'static dyn Dialect {
    match provider {
        crate::llm::config::Dialect::OpenAi => &openai::OpenAi,
        crate::llm::config::Dialect::Anthropic => &anthropic::Anthropic,
    }
}

/// `Retry-After` (seconds, or an HTTP date) or `retry-after-ms`, as the
/// providers and their SDKs send them.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let ms = text("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok());
    if let Some(ms) = ms.filter(|ms| ms.is_finite() && *ms >= 0.0) {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = text("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A header as a whole number.
fn header_u64(headers: &reqwest::header::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The text of a provider's error body, for messages: its `message` field
/// where it has one, the body itself (shortened) otherwise.
fn error_message(body: &[u8], pointer: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if let Some(message) = parsed
        .as_ref()
        .and_then(|v| v.pointer(pointer))
        .and_then(|m| m.as_str())
    {
        return message.to_string();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(no body)".to_string();
    }
    let cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_milliseconds_or_a_date() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        let mut dated = HeaderMap::new();
        let soon = std::time::SystemTime::now() + Duration::from_secs(30);
        dated.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(soon)).unwrap(),
        );
        let wait = retry_after(&dated).expect("a date");
        assert!(wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28));
        let mut past = HeaderMap::new();
        past.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&past), Some(Duration::ZERO));
    }
}
