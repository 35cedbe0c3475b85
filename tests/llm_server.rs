//! Tests of the fake LLM provider in `tests/support/llm_server.rs`, the
//! server that the tests and benchmarks of `ftprep judge` run against:
//! each dialect's request and answer shapes, answers that validate against
//! the schema they came from, every fault, the fault rules, the record, and
//! HTTP/1.1 itself (keep-alive, pipelining, chunked bodies, hundreds of
//! connections).
//!
//! The client here is a few lines over `std::net::TcpStream` on purpose: a
//! reset, a short body or a stall must reach the test as what it is, not as
//! an HTTP library's summary of it.

#[path = "support/llm_server.rs"]
mod llm_server;

use ftprep::compile::compile;
use ftprep::emit::{Templates, emit};
use ftprep::source::SourceFile;
use llm_server::{Attempts, Auth, Dialect, Fault, LlmServer, Plan, RateLimits, RetryAfter, When};
use serde_json::{Value, json};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

// ---------------------------------------------------------------------------
// A raw client
// ---------------------------------------------------------------------------

/// A hang bound for every read: a test fails instead of hanging.
const HANG: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// How a response failed to arrive.
#[derive(Debug, PartialEq)]
enum Broken {
    /// The connection was reset.
    Reset,
    /// The connection closed after `head` (whether the head had arrived)
    /// and `body` bytes of the body.
    Closed { head: bool, body: usize },
}

struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(server: &LlmServer) -> Client {
        let stream = TcpStream::connect(server.addr()).expect("connect");
        stream.set_read_timeout(Some(HANG)).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write the request");
    }

    fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Reply, Broken> {
        self.send_raw(&request_bytes(path, headers, body));
        self.read_reply()
    }

    fn read_more(&mut self) -> Result<usize, Broken> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => Err(Broken::Reset),
            Err(e) => panic!("read failed (a hang?): {e}"),
        }
    }

    fn read_reply(&mut self) -> Result<Reply, Broken> {
        let (head_len, status, headers) = loop {
            let mut slots = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut slots);
            match response
                .parse(&self.buf)
                .expect("a valid HTTP response head")
            {
                httparse::Status::Complete(n) => {
                    let headers = response
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_ascii_lowercase(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect::<Vec<_>>();
                    break (n, response.code.unwrap(), headers);
                }
                httparse::Status::Partial => {
                    if self.read_more()? == 0 {
                        return Err(Broken::Closed {
                            head: false,
                            body: 0,
                        });
                    }
                }
            }
        };
        self.buf.drain(..head_len);
        if status == 100 {
            return self.read_reply();
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map(|(_, v)| v.parse().unwrap())
            .expect("every response has a content-length");
        while self.buf.len() < length {
            match self.read_more() {
                Ok(0) => {
                    return Err(Broken::Closed {
                        head: true,
                        body: self.buf.len(),
                    });
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        let body = self.buf.drain(..length).collect();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// True once the server has closed the connection (EOF or reset).
    fn closed_by_server(&mut self) -> bool {
        matches!(self.read_more(), Ok(0) | Err(Broken::Reset))
    }
}

fn request_bytes(path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head =
        format!("POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

const OPENAI: &str = "/v1/chat/completions";
const ANTHROPIC: &str = "/v1/messages";
const OPENAI_KEY: (&str, &str) = ("authorization", "Bearer sk-test-openai");
const ANTHROPIC_HEADERS: [(&str, &str); 2] = [
    ("x-api-key", "sk-ant-test"),
    ("anthropic-version", "2023-06-01"),
];

fn openai(server: &LlmServer, body: &Value) -> Result<Reply, Broken> {
    Client::connect(server).post(OPENAI, &[OPENAI_KEY], body.to_string().as_bytes())
}

fn anthropic(server: &LlmServer, body: &Value) -> Result<Reply, Broken> {
    Client::connect(server).post(ANTHROPIC, &ANTHROPIC_HEADERS, body.to_string().as_bytes())
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/// The judge schema ftprep builds for the therapy spec: the schema the
/// answers of `ftprep judge` have to fit.
fn therapy_schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/therapy.ftprep");
    let text = std::fs::read_to_string(path).unwrap();
    let compilation = compile(SourceFile::new("therapy.ftprep", text.clone()));
    let spec = compilation
        .spec
        .as_ref()
        .expect("the therapy spec compiles");
    let artifacts = emit(spec, "therapy.ftprep", &text, &Templates::embedded()).unwrap();
    let schema = artifacts
        .iter()
        .find(|a| a.path == "judge-output.schema.json")
        .expect("a judge schema");
    serde_json::from_str(&schema.contents).unwrap()
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).expect("the schema compiles")
}

fn transcript(n: usize) -> String {
    format!(
        "[U1] user: I keep worrying about conversation {n}.\n[A1] assistant: That sounds hard. What worries you most?"
    )
}

fn openai_judge(schema: &Value, conversation: usize) -> Value {
    json!({
        "model": "gpt-judge",
        "messages": [
            {"role": "system", "content": "You are a judge. Answer in JSON."},
            {"role": "user", "content": transcript(conversation)}
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "judge", "strict": true, "schema": schema}}
    })
}

fn anthropic_judge(schema: &Value, conversation: usize) -> Value {
    json!({
        "model": "claude-judge",
        "max_tokens": 4096,
        "system": "You are a judge. Answer in JSON.",
        "messages": [{"role": "user", "content": transcript(conversation)}],
        "tools": [{"name": "answer", "description": "The judge's answers", "input_schema": schema}],
        "tool_choice": {"type": "tool", "name": "answer"}
    })
}

fn openai_content(reply: &Reply) -> Value {
    let body = reply.json();
    let content = body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("no content in {body}"));
    serde_json::from_str(content).unwrap_or_else(|e| panic!("content is not JSON ({e}): {content}"))
}

fn tool_input(reply: &Reply) -> Value {
    let body = reply.json();
    let block = body["content"]
        .as_array()
        .and_then(|blocks| blocks.iter().find(|b| b["type"] == "tool_use"))
        .unwrap_or_else(|| panic!("no tool_use block in {body}"));
    block["input"].clone()
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

#[test]
fn openai_answers_fit_the_schema_and_depend_only_on_the_conversation() {
    let schema = therapy_schema();
    let validator = validator(&schema);
    let server = LlmServer::start(Plan::default());

    let reply = openai(&server, &openai_judge(&schema, 1)).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-judge");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["message"]["refusal"], Value::Null);
    let usage = &body["usage"];
    assert!(
        usage["prompt_tokens"].as_u64().unwrap() > 1000,
        "the schema counts: {usage}"
    );
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);

    let first = openai_content(&reply);
    assert!(validator.is_valid(&first), "{first}");
    assert_eq!(first.as_object().unwrap().len(), 19);
    // Same request, same answer, byte for byte.
    let again = openai(&server, &openai_judge(&schema, 1)).unwrap();
    assert_eq!(again.body, reply.body);

    // Other conversations get other answers, and each fits.
    let answers: Vec<Value> = (2..12)
        .map(|n| openai_content(&openai(&server, &openai_judge(&schema, n)).unwrap()))
        .collect();
    for a in &answers {
        assert!(validator.is_valid(a), "{a}");
        assert_ne!(a, &first);
    }
    // Across conversations every kind of answer turns up: true, false, NA.
    let seen: std::collections::BTreeSet<String> = answers
        .iter()
        .flat_map(|a| {
            a.as_object()
                .unwrap()
                .values()
                .map(|q| q["answer"].to_string())
        })
        .collect();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["\"NA\"", "false", "true"]
    );

    let record = &server.calls()[0];
    assert_eq!(record.dialect, Some(Dialect::OpenAi));
    assert!(record.succeeded);
    assert_eq!(record.answer.as_ref(), Some(&first));
    assert_eq!(
        record.header("authorization"),
        Some("Bearer sk-test-openai")
    );
}

#[test]
fn anthropic_tool_answers_fit_the_schema_and_match_openai_for_the_same_conversation() {
    let schema = therapy_schema();
    let validator = validator(&schema);
    let server = LlmServer::start(Plan::default());

    let reply = anthropic(&server, &anthropic_judge(&schema, 3)).unwrap();
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["model"], "claude-judge");
    assert_eq!(body["stop_reason"], "tool_use");
    assert_eq!(
        body["content"].as_array().unwrap().len(),
        1,
        "a forced tool call has no text"
    );
    assert_eq!(body["content"][0]["name"], "answer");
    assert!(
        body["content"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("toolu_")
    );
    assert!(body["usage"]["input_tokens"].as_u64().unwrap() > 1000);
    assert!(body["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(body["usage"]["cache_read_input_tokens"], 0);
    assert!(reply.header("request-id").is_some());

    let input = tool_input(&reply);
    assert!(validator.is_valid(&input), "{input}");
    // The same conversation (system prompt and turns) in the other dialect.
    let via_openai = openai_content(&openai(&server, &openai_judge(&schema, 3)).unwrap());
    assert_eq!(input, via_openai);

    let record = &server.calls()[0];
    assert_eq!(record.header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(record.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(record.finish.as_deref(), Some("tool_use"));
}

#[test]
fn anthropic_structured_output_formats_answer_in_a_text_block() {
    let schema = therapy_schema();
    let validator = validator(&schema);
    let server = LlmServer::start(Plan::default());
    for format in [
        json!({"output_config": {"format": {"type": "json_schema", "schema": schema}}}),
        json!({"output_format": {"type": "json_schema", "schema": schema}}),
    ] {
        let mut request = json!({
            "model": "claude-judge", "max_tokens": 4096,
            "messages": [{"role": "user", "content": transcript(4)}]
        });
        request
            .as_object_mut()
            .unwrap()
            .extend(format.as_object().unwrap().clone());
        let body = anthropic(&server, &request).unwrap().json();
        assert_eq!(body["stop_reason"], "end_turn");
        assert_eq!(body["content"][0]["type"], "text");
        let answer: Value =
            serde_json::from_str(body["content"][0]["text"].as_str().unwrap()).unwrap();
        assert!(validator.is_valid(&answer), "{answer}");
    }
}

#[test]
fn generated_instances_fit_schemas_with_refs_combinators_and_bounds() {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {
            "verdict": {"type": "string", "enum": ["pass", "fail", "unclear"]},
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "note": {"type": "object", "properties": {"text": {"type": "string", "minLength": 30, "maxLength": 40}}, "required": ["text"], "additionalProperties": false}
        },
        "type": "object",
        "properties": {
            "verdict": {"$ref": "#/$defs/verdict"},
            "score": {"$ref": "#/$defs/score"},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
            "flag": {"type": ["boolean", "null"]},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "minItems": 2, "maxItems": 4},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"const": "x"}], "minItems": 2, "maxItems": 2},
            "notes": {"type": "array", "items": {"$ref": "#/$defs/note"}, "minItems": 1},
            "either": {"oneOf": [{"type": "integer", "minimum": 10, "maximum": 10}, {"type": "string", "enum": ["ten"]}]},
            "both": {"allOf": [
                {"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]},
                {"properties": {"b": {"type": "string", "format": "date-time"}}, "required": ["b"]}
            ]},
            "anything": {}
        },
        "required": ["verdict", "score", "ratio", "flag", "tags", "pair", "notes", "either", "both", "anything"],
        "additionalProperties": false
    });
    let validator = validator(&schema);
    let mut verdicts = std::collections::BTreeSet::new();
    for n in 0..64u8 {
        let seed = [n; 32];
        let value = llm_server::instance(&schema, &schema, &seed, "", 0);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{value}: {errors:?}");
        verdicts.insert(value["verdict"].as_str().unwrap().to_string());
    }
    assert_eq!(
        verdicts.len(),
        3,
        "every enum member is chosen for some conversation"
    );
}

#[test]
fn without_a_schema_the_answer_is_a_deterministic_text_cut_by_max_tokens() {
    let server = LlmServer::start(Plan::default());
    let request = |n: usize, max: Option<u64>| {
        let mut r =
            json!({"model": "m", "messages": [{"role": "user", "content": format!("hello {n}")}]});
        if let Some(max) = max {
            r["max_tokens"] = json!(max);
        }
        r
    };
    let a = openai(&server, &request(1, None)).unwrap().json();
    let text = a["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with("A ") && text.ends_with(")."), "{text}");
    assert_eq!(openai(&server, &request(1, None)).unwrap().json(), a);
    assert_ne!(
        openai(&server, &request(2, None)).unwrap().json()["choices"][0]["message"]["content"],
        text
    );

    let cut = openai(&server, &request(1, Some(2))).unwrap().json();
    assert_eq!(cut["choices"][0]["finish_reason"], "length");
    assert_eq!(cut["usage"]["completion_tokens"], 2);
    assert_eq!(
        cut["choices"][0]["message"]["content"].as_str().unwrap(),
        &text[..8]
    );
    assert!(
        !server.calls()[3].succeeded,
        "a cut answer is not a success"
    );

    let body = anthropic(
        &server,
        &json!({"model": "c", "max_tokens": 2, "messages": [{"role": "user", "content": "hello 1"}]}),
    )
    .unwrap()
    .json();
    assert_eq!(body["stop_reason"], "max_tokens");
    assert_eq!(body["content"][0]["text"].as_str().unwrap(), &text[..8]);
}

#[test]
fn n_choices_differ_and_json_object_needs_the_word_json() {
    let server = LlmServer::start(Plan::default());
    let body = openai(
        &server,
        &json!({"model": "m", "n": 3, "messages": [{"role": "user", "content": "reply in json"}], "response_format": {"type": "json_object"}}),
    )
    .unwrap()
    .json();
    let choices = body["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 3);
    let contents: std::collections::BTreeSet<&str> = choices
        .iter()
        .map(|c| c["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents.len(), 3);
    for c in contents {
        assert!(serde_json::from_str::<Value>(c).unwrap().is_object());
    }

    let refused = openai(
        &server,
        &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}}),
    )
    .unwrap();
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"]["type"], "invalid_request_error");
}

// ---------------------------------------------------------------------------
// Invalid requests and keys
// ---------------------------------------------------------------------------

#[test]
fn invalid_requests_get_each_providers_400() {
    let server = LlmServer::start(Plan::default());
    let missing_name = openai(
        &server,
        &json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}}),
    )
    .unwrap();
    assert_eq!(missing_name.status, 400);
    let error = &missing_name.json()["error"];
    assert_eq!(error["param"], "response_format.json_schema.name");
    assert_eq!(error["code"], "missing_required_parameter");

    let streaming = openai(
        &server,
        &json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
    )
    .unwrap();
    assert_eq!(streaming.status, 400);
    assert_eq!(streaming.json()["error"]["param"], "stream");

    let no_model = openai(
        &server,
        &json!({"messages": [{"role": "user", "content": "x"}]}),
    )
    .unwrap();
    assert_eq!(no_model.status, 400);

    let mut client = Client::connect(&server);
    let not_json = client.post(OPENAI, &[OPENAI_KEY], b"{not json").unwrap();
    assert_eq!(not_json.status, 400);
    assert!(
        not_json.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("parse the JSON body")
    );

    let no_max = anthropic(
        &server,
        &json!({"model": "c", "messages": [{"role": "user", "content": "x"}]}),
    )
    .unwrap();
    assert_eq!(no_max.status, 400);
    assert_eq!(
        no_max.json(),
        json!({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}, "request_id": no_max.json()["request_id"]})
    );
    let unknown_tool = anthropic(
        &server,
        &json!({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "tools": [{"name": "a", "input_schema": {"type": "object"}}], "tool_choice": {"type": "tool", "name": "b"}}),
    )
    .unwrap();
    assert_eq!(unknown_tool.status, 400);
    assert!(server.calls().iter().all(|r| !r.succeeded));
}

#[test]
fn keys_are_checked_in_each_dialects_header() {
    let server = LlmServer::start(Plan::default().auth(Auth::Key("sk-right".into())));
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}).to_string();

    let none = Client::connect(&server)
        .post(OPENAI, &[], body.as_bytes())
        .unwrap();
    assert_eq!(none.status, 401);
    assert!(
        none.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("didn't provide an API key")
    );
    let wrong = Client::connect(&server)
        .post(
            OPENAI,
            &[("authorization", "Bearer sk-wrong")],
            body.as_bytes(),
        )
        .unwrap();
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"]["code"], "invalid_api_key");
    let right = Client::connect(&server)
        .post(
            OPENAI,
            &[("authorization", "Bearer sk-right")],
            body.as_bytes(),
        )
        .unwrap();
    assert_eq!(right.status, 200);

    let anthropic_body =
        json!({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})
            .to_string();
    // The OpenAI header does not count for Anthropic.
    let bearer = Client::connect(&server)
        .post(
            ANTHROPIC,
            &[
                ("authorization", "Bearer sk-right"),
                ("anthropic-version", "2023-06-01"),
            ],
            anthropic_body.as_bytes(),
        )
        .unwrap();
    assert_eq!(bearer.status, 401);
    assert_eq!(bearer.json()["error"]["type"], "authentication_error");
    let no_version = Client::connect(&server)
        .post(
            ANTHROPIC,
            &[("x-api-key", "sk-right")],
            anthropic_body.as_bytes(),
        )
        .unwrap();
    assert_eq!(no_version.status, 400);
    assert_eq!(
        no_version.json()["error"]["message"],
        "anthropic-version: header is required"
    );
    let ok = Client::connect(&server)
        .post(
            ANTHROPIC,
            &[
                ("x-api-key", "sk-right"),
                ("anthropic-version", "2023-06-01"),
            ],
            anthropic_body.as_bytes(),
        )
        .unwrap();
    assert_eq!(ok.status, 200);

    let local = LlmServer::start(Plan::default().auth(Auth::None));
    assert_eq!(
        Client::connect(&local)
            .post(OPENAI, &[], body.as_bytes())
            .unwrap()
            .status,
        200
    );
}

#[test]
fn unknown_paths_say_which_endpoints_exist() {
    let server = LlmServer::start(Plan::default());
    let reply = Client::connect(&server)
        .post("/chat/completions", &[OPENAI_KEY], b"{}")
        .unwrap();
    assert_eq!(reply.status, 404);
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("an OpenAI base URL ends in /v1"),
        "{message}"
    );

    let mut client = Client::connect(&server);
    client.send_raw(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n");
    let models = client.read_reply().unwrap();
    assert_eq!(models.status, 200);
    assert_eq!(models.json()["object"], "list");
    assert_eq!(server.call_count(), 0, "neither is a call");
    assert_eq!(server.requests().len(), 2);
}

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

fn simple_openai(n: usize) -> Value {
    json!({"model": "gpt-test", "messages": [{"role": "user", "content": format!("question {n}")}]})
}

fn simple_anthropic(n: usize) -> Value {
    json!({"model": "claude-test", "max_tokens": 100, "messages": [{"role": "user", "content": format!("question {n}")}]})
}

#[test]
fn rate_limits_say_when_to_retry_in_three_ways() {
    for (retry, header, check) in [
        (
            RetryAfter::Seconds(7),
            "retry-after",
            Box::new(|v: &str| assert_eq!(v, "7")) as Box<dyn Fn(&str)>,
        ),
        (
            RetryAfter::HttpDate(120),
            "retry-after",
            Box::new(|v: &str| {
                // IMF-fixdate, two minutes from now.
                assert!(v.ends_with(" GMT") && v.len() == 29, "{v}");
                let now = llm_server::http_date(SystemTime::now());
                assert_ne!(v, now);
            }),
        ),
        (
            RetryAfter::Millis(250),
            "retry-after-ms",
            Box::new(|v: &str| assert_eq!(v, "250")),
        ),
    ] {
        let server = LlmServer::start(
            Plan::default().fault(When::always(), Fault::RateLimited(retry.clone())),
        );
        let reply = openai(&server, &simple_openai(1)).unwrap();
        assert_eq!(reply.status, 429);
        check(
            reply
                .header(header)
                .unwrap_or_else(|| panic!("{header} for {retry:?}")),
        );
        if retry == RetryAfter::Millis(250) {
            assert_eq!(reply.header("retry-after"), None);
        }
        let error = &reply.json()["error"];
        assert_eq!(error["code"], "rate_limit_exceeded");

        let reply = anthropic(&server, &simple_anthropic(1)).unwrap();
        assert_eq!(reply.status, 429);
        check(reply.header(header).unwrap());
        assert_eq!(reply.json()["error"]["type"], "rate_limit_error");
        assert_eq!(server.succeeded_count(), 0);
        assert!(
            server
                .calls()
                .iter()
                .all(|r| r.fault == Some(Fault::RateLimited(retry.clone())))
        );
    }
}

#[test]
fn quota_and_server_and_client_errors_have_each_providers_body() {
    let server = LlmServer::start(Plan::default().fault(When::always(), Fault::QuotaExhausted));
    let reply = openai(&server, &simple_openai(1)).unwrap();
    assert_eq!(reply.status, 429);
    assert_eq!(reply.json()["error"]["type"], "insufficient_quota");
    assert_eq!(reply.json()["error"]["code"], "insufficient_quota");
    assert_eq!(reply.header("retry-after"), None);
    let reply = anthropic(&server, &simple_anthropic(1)).unwrap();
    assert_eq!(reply.status, 400);
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Your credit balance is too low")
    );

    for (status, openai_type, anthropic_type) in [
        (500, "server_error", "api_error"),
        (503, "server_error", "api_error"),
        (529, "server_error", "overloaded_error"),
        (400, "invalid_request_error", "invalid_request_error"),
        (401, "invalid_request_error", "authentication_error"),
        (403, "invalid_request_error", "permission_error"),
        (404, "invalid_request_error", "not_found_error"),
    ] {
        let fault = if status >= 500 {
            Fault::ServerError(status)
        } else {
            Fault::ClientError(status)
        };
        server.set_plan(Plan::default().fault(When::always(), fault));
        let reply = openai(&server, &simple_openai(status as usize)).unwrap();
        assert_eq!(reply.status, status);
        assert_eq!(reply.json()["error"]["type"], openai_type, "{status}");
        let reply = anthropic(&server, &simple_anthropic(status as usize)).unwrap();
        assert_eq!(reply.status, status);
        let body = reply.json();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], anthropic_type, "{status}");
        assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
    }
    let not_found = openai(&server, &simple_openai(1)).unwrap();
    assert_eq!(not_found.json()["error"]["code"], "model_not_found");

    server.set_plan(Plan::default().fault(When::always(), Fault::ServerError(502)));
    let reply = openai(&server, &simple_openai(1)).unwrap();
    assert_eq!(reply.status, 502);
    assert_eq!(reply.header("content-type"), Some("text/html"));
    assert!(String::from_utf8_lossy(&reply.body).contains("502 Bad Gateway"));
}

#[test]
fn connection_faults_reach_the_client_as_resets_short_bodies_and_stalls() {
    let server = LlmServer::start(Plan::default().fault(When::always(), Fault::Reset));
    let mut client = Client::connect(&server);
    let body = simple_openai(1).to_string();
    match client.post(OPENAI, &[OPENAI_KEY], body.as_bytes()) {
        Err(Broken::Reset) | Err(Broken::Closed { head: false, .. }) => {}
        other => panic!("expected a reset before any response, got {other:?}"),
    }
    assert_eq!(server.calls()[0].status, 0);

    server.set_plan(Plan::default().fault(When::always(), Fault::ResetMidBody));
    match Client::connect(&server).post(OPENAI, &[OPENAI_KEY], body.as_bytes()) {
        Err(Broken::Reset) | Err(Broken::Closed { .. }) => {}
        other => panic!("expected a reset mid-body, got {other:?}"),
    }

    server.set_plan(Plan::default().fault(When::always(), Fault::CloseMidBody));
    match Client::connect(&server).post(OPENAI, &[OPENAI_KEY], body.as_bytes()) {
        Err(Broken::Closed { head: true, body }) => assert!(body > 0),
        other => panic!("expected a short body, got {other:?}"),
    }

    server.set_plan(Plan::default().fault(
        When::always(),
        Fault::StallMidBody(Duration::from_millis(300)),
    ));
    let start = Instant::now();
    let reply = Client::connect(&server)
        .post(OPENAI, &[OPENAI_KEY], body.as_bytes())
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(reply.status, 200);
    reply.json();

    server.set_plan(
        Plan::default()
            .latency(Duration::from_millis(50))
            .fault(When::always(), Fault::Slow(Duration::from_millis(300))),
    );
    let start = Instant::now();
    let reply = Client::connect(&server)
        .post(OPENAI, &[OPENAI_KEY], body.as_bytes())
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(350));
    assert_eq!(reply.status, 200);
    let calls = server.calls();
    assert_eq!(
        calls.iter().map(|r| r.succeeded).collect::<Vec<_>>(),
        [false, false, false, true, true],
        "a stalled or slow answer is still an answer"
    );
}

#[test]
fn body_faults_give_complete_responses_that_do_not_parse() {
    let server = LlmServer::start(Plan::default().fault(When::always(), Fault::TruncatedJson));
    for reply in [
        openai(&server, &simple_openai(1)).unwrap(),
        anthropic(&server, &simple_anthropic(1)).unwrap(),
    ] {
        assert_eq!(reply.status, 200);
        let error = serde_json::from_slice::<Value>(&reply.body).unwrap_err();
        assert!(error.is_eof(), "cut short, not garbled: {error}");
    }
    server.set_plan(Plan::default().fault(When::always(), Fault::MalformedJson));
    for reply in [
        openai(&server, &simple_openai(1)).unwrap(),
        anthropic(&server, &simple_anthropic(1)).unwrap(),
    ] {
        assert_eq!(reply.status, 200);
        let error = serde_json::from_slice::<Value>(&reply.body).unwrap_err();
        assert!(error.is_syntax(), "{error}");
    }
}

#[test]
fn answer_faults_refuse_cut_off_garble_and_break_the_schema() {
    let schema = therapy_schema();
    let validator = validator(&schema);
    let server = LlmServer::start(Plan::default().fault(When::always(), Fault::Refusal));
    let body = openai(&server, &openai_judge(&schema, 1)).unwrap().json();
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], Value::Null);
    assert!(message["refusal"].as_str().unwrap().contains("can't help"));
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let body = anthropic(&server, &anthropic_judge(&schema, 1))
        .unwrap()
        .json();
    assert_eq!(body["stop_reason"], "refusal");
    assert_eq!(body["content"], json!([]));

    server.set_plan(Plan::default().fault(When::always(), Fault::MaxTokens));
    let body = openai(&server, &openai_judge(&schema, 1)).unwrap().json();
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(serde_json::from_str::<Value>(content).unwrap_err().is_eof());
    let reply = anthropic(&server, &anthropic_judge(&schema, 1)).unwrap();
    assert_eq!(reply.json()["stop_reason"], "max_tokens");
    let input = tool_input(&reply);
    assert!(input.is_object() && !validator.is_valid(&input));

    server.set_plan(Plan::default().fault(When::always(), Fault::MalformedAnswer));
    let body = openai(&server, &openai_judge(&schema, 1)).unwrap().json();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(
        serde_json::from_str::<Value>(content)
            .unwrap_err()
            .is_syntax(),
        "{content}"
    );
    let body = anthropic(&server, &anthropic_judge(&schema, 1))
        .unwrap()
        .json();
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(
        body["content"][0]["type"], "text",
        "prose instead of the tool call"
    );

    for fault in [Fault::MissingRequired, Fault::WrongType] {
        server.set_plan(Plan::default().fault(When::always(), fault.clone()));
        let answer = openai_content(&openai(&server, &openai_judge(&schema, 1)).unwrap());
        assert!(!validator.is_valid(&answer), "{fault:?}: {answer}");
        let input = tool_input(&anthropic(&server, &anthropic_judge(&schema, 1)).unwrap());
        assert!(!validator.is_valid(&input), "{fault:?}: {input}");
        match fault {
            Fault::MissingRequired => assert!(answer.get("S1").is_none()),
            _ => assert_eq!(answer["S1"]["evidence"], json!(42), "a string's wrong type"),
        }
    }
    assert_eq!(server.succeeded_count(), 0);
}

// ---------------------------------------------------------------------------
// Fault rules and the record
// ---------------------------------------------------------------------------

#[test]
fn the_first_attempts_of_each_distinct_request_fail() {
    let server =
        LlmServer::start(Plan::default().fault(When::first_attempts(2), Fault::ServerError(503)));
    let statuses: Vec<u16> = [1, 2, 1, 1, 2, 2, 1]
        .iter()
        .map(|&n| openai(&server, &simple_openai(n)).unwrap().status)
        .collect();
    assert_eq!(statuses, [503, 503, 503, 200, 503, 200, 200]);
    // Ordered by body hash; compare as a multiset.
    let mut attempts: Vec<Attempts> = server.attempts().into_values().collect();
    attempts.sort_by_key(|a| a.seen);
    assert_eq!(
        attempts,
        [
            Attempts {
                seen: 3,
                succeeded: 1
            },
            Attempts {
                seen: 4,
                succeeded: 2
            }
        ]
    );
    assert_eq!(server.distinct_calls(), 2);
    let calls = server.calls();
    assert_eq!(
        calls.iter().map(|r| r.attempt).collect::<Vec<_>>(),
        [1, 1, 2, 3, 2, 3, 4]
    );
    assert_eq!(
        calls.iter().map(|r| r.call).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 7]
    );
}

#[test]
fn every_nth_from_call_and_body_rules_combine() {
    let server = LlmServer::start(
        Plan::default()
            .fault(
                When::body_contains("question 7").and(When::first_attempts(1)),
                Fault::Reset,
            )
            .fault(When::every_nth(3), Fault::ServerError(500))
            .fault(When::from_call(9), Fault::QuotaExhausted),
    );
    let mut outcomes = Vec::new();
    for n in [1, 2, 3, 7, 7, 4, 5, 6, 8, 9] {
        outcomes.push(match openai(&server, &simple_openai(n)) {
            Ok(reply) => reply.status,
            Err(_) => 0,
        });
    }
    // call 4 is the first attempt of "question 7"; call 9 is a third
    // call, and the earlier rule wins.
    // call:      1    2    3    4  5    6    7    8    9    10
    assert_eq!(outcomes, [200, 200, 500, 0, 200, 500, 200, 200, 500, 429]);
    let faults: Vec<Option<Fault>> = server.calls().into_iter().map(|r| r.fault).collect();
    assert_eq!(faults[3], Some(Fault::Reset));
    assert_eq!(faults[4], None);
    assert_eq!(faults[9], Some(Fault::QuotaExhausted));

    // A dialect rule leaves the other dialect alone.
    server.set_plan(
        Plan::default().fault(When::dialect(Dialect::Anthropic), Fault::ServerError(529)),
    );
    assert_eq!(openai(&server, &simple_openai(1)).unwrap().status, 200);
    assert_eq!(
        anthropic(&server, &simple_anthropic(1)).unwrap().status,
        529
    );
}

#[test]
fn clear_history_starts_counting_again_and_bodies_can_be_dropped() {
    let server = LlmServer::start(
        Plan::default()
            .keep_bodies(false)
            .fault(When::first_attempts(1), Fault::ServerError(500)),
    );
    assert_eq!(openai(&server, &simple_openai(1)).unwrap().status, 500);
    assert_eq!(openai(&server, &simple_openai(1)).unwrap().status, 200);
    let calls = server.calls();
    assert!(calls[0].body.is_empty());
    assert_eq!(calls[0].key, calls[1].key);
    assert!(calls[1].arrived >= calls[0].arrived);
    server.clear_history();
    assert_eq!(server.call_count(), 0);
    assert_eq!(
        openai(&server, &simple_openai(1)).unwrap().status,
        500,
        "attempts count from 1 again"
    );
    assert_eq!(server.calls()[0].call, 1);
}

#[test]
fn rate_limit_headers_count_down_and_can_be_enforced() {
    let limits = RateLimits {
        requests: 3,
        tokens: 1_000_000,
        window: Duration::from_secs(600),
        enforce: true,
    };
    let server = LlmServer::start(Plan::default().rate_limits(limits));
    let mut remaining = Vec::new();
    for n in 0..3 {
        let reply = openai(&server, &simple_openai(n)).unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-ratelimit-limit-requests"), Some("3"));
        let reset = reply.header("x-ratelimit-reset-requests").unwrap();
        assert!(reset.ends_with('s') && reset.contains('m'), "{reset}");
        remaining.push(
            reply
                .header("x-ratelimit-remaining-requests")
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let over = openai(&server, &simple_openai(9)).unwrap();
    assert_eq!(over.status, 429);
    let retry: u64 = over.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry));

    let server = LlmServer::start(Plan::default().rate_limits(RateLimits {
        requests: 50,
        tokens: 10_000,
        window: Duration::from_secs(60),
        enforce: false,
    }));
    let reply = anthropic(&server, &simple_anthropic(1)).unwrap();
    assert_eq!(
        reply.header("anthropic-ratelimit-requests-remaining"),
        Some("49")
    );
    let reset = reply.header("anthropic-ratelimit-requests-reset").unwrap();
    assert!(
        reset.len() == 20 && reset.ends_with('Z') && reset.as_bytes()[10] == b'T',
        "{reset}"
    );
    let tokens: u64 = reply
        .header("anthropic-ratelimit-input-tokens-remaining")
        .unwrap()
        .parse()
        .unwrap();
    assert!(tokens < 10_000);
}

#[test]
fn long_repeated_prefixes_are_reported_as_cached() {
    let server = LlmServer::start(Plan::default());
    let system = "Rubric line. ".repeat(800); // 10 KB, about 2,600 tokens
    let request = |n: usize| json!({"model": "m", "messages": [{"role": "system", "content": system}, {"role": "user", "content": format!("conversation {n}")}]});
    let first = openai(&server, &request(1)).unwrap().json();
    assert_eq!(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    let second = openai(&server, &request(2)).unwrap().json();
    let cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap();
    assert!(cached >= 1024 && cached.is_multiple_of(128), "{cached}");

    let request = |n: usize| {
        json!({"model": "c", "max_tokens": 100,
            "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": format!("conversation {n}")}]})
    };
    let first = anthropic(&server, &request(1)).unwrap().json();
    assert!(
        first["usage"]["cache_creation_input_tokens"]
            .as_u64()
            .unwrap()
            > 1024
    );
    assert_eq!(first["usage"]["cache_read_input_tokens"], 0);
    let second = anthropic(&server, &request(2)).unwrap().json();
    assert_eq!(
        second["usage"]["cache_read_input_tokens"],
        first["usage"]["cache_creation_input_tokens"]
    );
    assert_eq!(second["usage"]["cache_creation_input_tokens"], 0);
    assert!(second["usage"]["input_tokens"].as_u64().unwrap() < 100);
}

// ---------------------------------------------------------------------------
// HTTP/1.1
// ---------------------------------------------------------------------------

#[test]
fn keep_alive_pipelining_chunked_bodies_and_expect_continue() {
    let server = LlmServer::start(Plan::default());
    let mut client = Client::connect(&server);
    let one = simple_openai(1).to_string();
    let two = simple_openai(2).to_string();
    // Two requests in one write, answered in order on one connection.
    let mut both = request_bytes(OPENAI, &[OPENAI_KEY], one.as_bytes());
    both.extend(request_bytes(OPENAI, &[OPENAI_KEY], two.as_bytes()));
    client.send_raw(&both);
    let first = client.read_reply().unwrap();
    let second = client.read_reply().unwrap();
    assert_eq!(first.header("connection"), Some("keep-alive"));
    assert_ne!(first.body, second.body);

    // A chunked body, in pieces.
    let chunked = format!(
        "POST {OPENAI} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer k\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        10,
        &one[..10],
        one.len() - 10,
        &one[10..]
    );
    client.send_raw(chunked.as_bytes());
    let third = client.read_reply().unwrap();
    assert_eq!(
        third.body, first.body,
        "the same body, however it was framed"
    );

    // Expect: 100-continue gets its interim response before the body.
    client.send_raw(
        format!(
            "POST {OPENAI} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer k\r\nexpect: 100-continue\r\ncontent-length: {}\r\n\r\n",
            one.len()
        )
        .as_bytes(),
    );
    let mut interim = [0u8; 25];
    client.stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    client.send_raw(one.as_bytes());
    assert_eq!(client.read_reply().unwrap().body, first.body);

    // Connection: close is honoured.
    client.send_raw(
        format!(
            "POST {OPENAI} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer k\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{one}",
            one.len()
        )
        .as_bytes(),
    );
    assert_eq!(
        client.read_reply().unwrap().header("connection"),
        Some("close")
    );
    assert!(client.closed_by_server());

    assert_eq!(server.connections(), 1);
    assert!(server.calls().iter().all(|r| r.connection == 1));
    assert_eq!(server.call_count(), 5);
}

#[test]
fn idle_keep_alive_connections_are_closed_after_the_timeout() {
    let server = LlmServer::start(Plan::default().keep_alive_timeout(Duration::from_millis(50)));
    let mut client = Client::connect(&server);
    let body = simple_openai(1).to_string();
    assert_eq!(
        client
            .post(OPENAI, &[OPENAI_KEY], body.as_bytes())
            .unwrap()
            .status,
        200
    );
    // The server closes it without a word (the read waits at most HANG).
    assert!(client.closed_by_server());
}

#[test]
fn hundreds_of_concurrent_connections_are_served_at_once() {
    const N: usize = 300;
    let server = LlmServer::start(Plan::default().latency(Duration::from_millis(200)));
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|n| {
            let addr = server.addr();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let stream = TcpStream::connect(addr).unwrap();
                stream.set_read_timeout(Some(HANG)).unwrap();
                let mut client = Client {
                    stream,
                    buf: Vec::new(),
                };
                barrier.wait();
                let body = simple_openai(n).to_string();
                client
                    .post(OPENAI, &[OPENAI_KEY], body.as_bytes())
                    .unwrap()
                    .status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(statuses.iter().all(|&s| s == 200));
    assert_eq!(server.succeeded_count(), N);
    assert_eq!(server.distinct_calls(), N);
    assert_eq!(server.connections(), N as u64);
    assert!(server.peak_in_flight() <= N);
}

// ---------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------

#[test]
fn dates_and_durations_are_written_as_the_providers_write_them() {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(llm_server::http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(llm_server::rfc3339(t), "1994-11-06T08:49:37Z");
    let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
    assert_eq!(llm_server::rfc3339(leap), "2000-02-29T00:00:00Z");
    let cases = [
        (20, "20ms"),
        (1000, "1s"),
        (1500, "1.5s"),
        (360_000, "6m0s"),
        (3_723_000, "1h2m3s"),
        (61_250, "1m1.25s"),
    ];
    for (ms, want) in cases {
        assert_eq!(llm_server::go_duration(Duration::from_millis(ms)), want);
    }
}
