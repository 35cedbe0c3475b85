//! The engine against a real HTTP server on 127.0.0.1 that speaks both
//! dialects and injects faults (`tests/support/llm_server.rs`). Every test
//! counts what the server received: no call lost, none sent again beyond
//! the retries of failed attempts, and a finished call never sent twice.

#[path = "support/llm_server.rs"]
mod llm_server;

use ftprep::llm::chat::{ChatRequest, ChatResponse, Message, OutputSchema, Role};
use ftprep::llm::config::{Limits, Prices, Secret};
use ftprep::llm::engine::retry::RetryPolicy;
use ftprep::llm::engine::store::{CacheMode, Journal, Unusable, read_entries};
use ftprep::llm::engine::{Accept, Engine, Job, RunSettings, Stop, Target};
use ftprep::llm::provider::{
    Endpoint, Sampling, StructuredOutput, anthropic::Anthropic, openai::OpenAi,
};
use llm_server::{Fault, LlmServer, Plan, RetryAfter, When};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "sk-test-4f9a1c-never-written";

fn schema() -> Arc<Value> {
    Arc::new(json!({
        "type": "object",
        "properties": {
            "S1": {"type": "object", "properties": {"evidence": {"type": "string"}, "answer": {"type": "boolean"}}, "required": ["evidence", "answer"], "additionalProperties": false},
            "C1": {"type": "object", "properties": {"evidence": {"type": "string"}, "answer": {"type": "boolean"}}, "required": ["evidence", "answer"], "additionalProperties": false}
        },
        "required": ["S1", "C1"],
        "additionalProperties": false
    }))
}

fn target(base_url: &str, anthropic: bool) -> Target {
    Target {
        id: if anthropic { "claude" } else { "mini" }.into(),
        dialect: if anthropic { &Anthropic } else { &OpenAi },
        endpoint: Endpoint {
            base_url: base_url.trim_end_matches('/').into(),
            model: if anthropic { "claude-test" } else { "gpt-test" }.into(),
            sampling: Sampling {
                temperature: Some(0.0),
                top_p: None,
                max_tokens: 512,
                seed: None,
                stop: Vec::new(),
            },
            structured: if anthropic {
                StructuredOutput::Tool
            } else {
                StructuredOutput::JsonSchema
            },
        },
        api_key: Some(Secret::new(KEY)),
        timeout: Duration::from_secs(2),
        limits: Limits {
            concurrency: 8,
            ..Limits::default()
        },
        prices: Some(Prices {
            input: 1.0,
            cached_input: 0.5,
            output: 2.0,
            batch_discount: 0.5,
        }),
        retry: RetryPolicy {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(50),
            ..RetryPolicy::default()
        },
    }
}

fn jobs(n: usize) -> Vec<Job> {
    let system: Arc<str> = "You judge conversations. Answer in JSON.".into();
    (0..n)
        .map(|i| Job {
            tag: format!("conv-{i}"),
            target: 0,
            request: ChatRequest {
                messages: vec![
                    Message {
                        role: Role::System,
                        content: Arc::clone(&system),
                    },
                    Message::new(Role::User, format!("[U1] user: message number {i}")),
                ],
                schema: Some(OutputSchema {
                    name: "judge_answers".into(),
                    schema: schema(),
                }),
                sample: 0,
            },
        })
        .collect()
}

fn accept() -> Arc<Accept> {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    Arc::new(move |_request: &ChatRequest, response: &ChatResponse| {
        let value: Value =
            serde_json::from_str(&response.text).map_err(|e| (Unusable::NotJson, e.to_string()))?;
        if value.as_object().is_some_and(|o| o.len() < 2) {
            return Err((Unusable::MissingQuestions, "a question is missing".into()));
        }
        validator
            .validate(&value)
            .map_err(|e| (Unusable::BreaksSchema, e.to_string()))
    })
}

fn settings(dir: &Path, total: usize) -> RunSettings {
    RunSettings {
        label: "test".into(),
        total: total as u64,
        cache: CacheMode {
            path: Some(dir.join("cache.sqlite")),
            read: true,
            write: true,
        },
        max_cost: None,
        quiet: true,
    }
}

struct Run {
    report: ftprep::llm::engine::Report,
    journal: Journal,
}

fn run(engine: &Engine, dir: &Path, run: &str, jobs: Vec<Job>, settings: &RunSettings) -> Run {
    let mut journal = Journal::open(&dir.join(run).join("journal.jsonl")).unwrap();
    let report = engine
        .run(&mut journal, jobs.into_iter(), accept(), settings)
        .unwrap();
    Run { report, journal }
}

/// Every file under `dir`, read whole, as lossy text.
fn everything_written(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn every_call_is_sent_once_then_resumed_from_the_journal_then_from_the_cache() {
    let server = LlmServer::start(Plan::default());
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(vec![target(&server.openai_base_url(), false)]);
    let s = settings(dir.path(), 20);
    let first = run(&engine, dir.path(), "a", jobs(20), &s);
    assert_eq!(first.report.stop, None);
    assert_eq!(first.report.counters.sent, 20);
    assert_eq!(first.journal.len(), 20);
    assert_eq!(server.call_count(), 20);
    assert!(
        server
            .attempts()
            .values()
            .all(|a| a.seen == 1 && a.succeeded == 1)
    );
    // The key went in the right header, and nowhere on disk.
    assert!(
        server.calls()[0]
            .header("authorization")
            .is_some_and(|h| h == format!("Bearer {KEY}"))
    );
    // The same run again: everything is in its journal.
    let again = run(&engine, dir.path(), "a", jobs(20), &s);
    assert_eq!(again.report.counters.from_journal, 20);
    assert_eq!(
        server.call_count(),
        20,
        "a finished call is never sent again"
    );
    // Another run: everything is in the shared cache.
    let other = run(&engine, dir.path(), "b", jobs(20), &s);
    assert_eq!(other.report.counters.from_cache, 20);
    assert_eq!(other.journal.len(), 20);
    assert_eq!(server.call_count(), 20);
    // Without the cache, it is sent again.
    let mut no_cache = settings(dir.path(), 20);
    no_cache.cache.read = false;
    no_cache.cache.write = false;
    let fresh = run(&engine, dir.path(), "c", jobs(20), &no_cache);
    assert_eq!(fresh.report.counters.sent, 20);
    assert_eq!(server.call_count(), 40);
    assert!(!everything_written(dir.path()).contains(KEY));
}

#[test]
fn a_setting_that_cannot_change_the_answer_keeps_the_cache() {
    let server = LlmServer::start(Plan::default());
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), 5);
    let engine = Engine::new(vec![target(&server.openai_base_url(), false)]);
    run(&engine, dir.path(), "a", jobs(5), &s);
    let mut faster = target(&server.openai_base_url(), false);
    faster.limits.concurrency = 1;
    faster.timeout = Duration::from_secs(30);
    faster.id = "renamed".into();
    let cached = run(&Engine::new(vec![faster]), dir.path(), "b", jobs(5), &s);
    assert_eq!(cached.report.counters.from_cache, 5);
    let mut hotter = target(&server.openai_base_url(), false);
    hotter.endpoint.sampling.temperature = Some(0.8);
    let missed = run(&Engine::new(vec![hotter]), dir.path(), "c", jobs(5), &s);
    assert_eq!(missed.report.counters.sent, 5);
    assert_eq!(server.call_count(), 10);
}

#[test]
fn retry_after_is_respected_and_each_request_is_retried_once() {
    let server = LlmServer::start(Plan::default().fault(
        When::first_attempts(1),
        Fault::RateLimited(RetryAfter::Seconds(1)),
    ));
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(vec![target(&server.openai_base_url(), false)]);
    let done = run(&engine, dir.path(), "a", jobs(6), &settings(dir.path(), 6));
    assert_eq!(done.report.stop, None);
    assert_eq!(done.journal.len(), 6);
    let attempts = server.attempts();
    assert_eq!(attempts.len(), 6);
    assert!(
        attempts.values().all(|a| a.seen == 2 && a.succeeded == 1),
        "{attempts:?}"
    );
    // The second attempt of each came at least the second it was told to
    // wait after the first.
    let calls = server.calls();
    for key in attempts.keys() {
        let times: Vec<Duration> = calls
            .iter()
            .filter(|c| &c.key == key)
            .map(|c| c.arrived)
            .collect();
        assert!(
            times[1] - times[0] >= Duration::from_millis(950),
            "{times:?}"
        );
    }
}

#[test]
fn transient_failures_are_retried_and_nothing_is_lost() {
    for anthropic in [false, true] {
        transient_failures_in(anthropic);
    }
}

fn transient_failures_in(anthropic: bool) {
    for fault in [
        Fault::ServerError(500),
        Fault::ServerError(502),
        Fault::ServerError(503),
        Fault::Slow(Duration::from_secs(4)),
        Fault::Reset,
        Fault::ResetMidBody,
        Fault::CloseMidBody,
        Fault::TruncatedJson,
        Fault::MalformedJson,
    ] {
        let server =
            LlmServer::start(Plan::default().fault(When::first_attempts(2), fault.clone()));
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(vec![target(&server.openai_base_url(), false)]);
        let done = run(&engine, dir.path(), "a", jobs(4), &settings(dir.path(), 4));
        assert_eq!(done.report.stop, None, "{fault:?} (anthropic: {anthropic})");
        assert_eq!(done.journal.len(), 4, "{fault:?} (anthropic: {anthropic})");
        let attempts = server.attempts();
        // A slow answer is finished by the server after the client has
        // given up on it, so only the number of attempts tells.
        let slow = matches!(fault, Fault::Slow(_));
        assert!(
            attempts
                .values()
                .all(|a| a.seen == 3 && (slow || a.succeeded == 1)),
            "{fault:?}: {attempts:?}"
        );
        let entries = read_entries(&dir.path().join("a/journal.jsonl")).unwrap();
        assert!(entries.iter().all(|e| e.unusable.is_none()), "{fault:?}");
    }
}

#[test]
fn unusable_answers_are_asked_again_then_recorded_as_errors_with_their_class() {
    for (fault, class) in [
        (Fault::Refusal, Unusable::Refusal),
        (Fault::MaxTokens, Unusable::CutOff),
        (Fault::MissingRequired, Unusable::MissingQuestions),
        (Fault::WrongType, Unusable::BreaksSchema),
        (Fault::MalformedAnswer, Unusable::NotJson),
    ] {
        let server = LlmServer::start(Plan::default().fault(When::always(), fault.clone()));
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(vec![target(&server.openai_base_url(), false)]);
        let done = run(&engine, dir.path(), "a", jobs(3), &settings(dir.path(), 3));
        assert_eq!(done.report.stop, None, "{fault:?}");
        assert_eq!(done.report.counters.unusable, 3, "{fault:?}");
        // Asked, then asked again twice (the default), then finished:
        // paid for, journaled.
        assert!(server.attempts().values().all(|a| a.seen == 3), "{fault:?}");
        let entries = read_entries(&dir.path().join("a/journal.jsonl")).unwrap();
        assert_eq!(entries.len(), 3);
        for entry in &entries {
            let unusable = entry.unusable.as_ref().expect("recorded as unusable");
            assert_eq!(unusable.class, class, "{fault:?}");
        }
        // An unusable answer is not cached: another run asks again.
        let again = run(&engine, dir.path(), "b", jobs(3), &settings(dir.path(), 3));
        assert_eq!(again.report.counters.from_cache, 0, "{fault:?}");
    }
}

#[test]
fn an_exhausted_quota_stops_the_run_at_once_and_keeps_what_was_done() {
    let server = LlmServer::start(Plan::default().fault(When::from_call(6), Fault::QuotaExhausted));
    let dir = tempfile::tempdir().unwrap();
    let mut t = target(&server.openai_base_url(), false);
    t.limits.concurrency = 1;
    let engine = Engine::new(vec![t]);
    let done = run(
        &engine,
        dir.path(),
        "a",
        jobs(30),
        &settings(dir.path(), 30),
    );
    assert!(
        matches!(done.report.stop, Some(Stop::QuotaExhausted { .. })),
        "{:?}",
        done.report.stop
    );
    assert_eq!(done.journal.len(), 5);
    assert_eq!(server.call_count(), 6, "no call after the quota ran out");
    assert_eq!(done.report.unfinished, 25);
}

#[test]
fn a_refused_key_stops_the_run_with_the_providers_message_and_no_key_in_it() {
    let server = LlmServer::start(Plan::default().auth(llm_server::Auth::Key("sk-other".into())));
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(vec![target(&server.openai_base_url(), false)]);
    let done = run(
        &engine,
        dir.path(),
        "a",
        jobs(10),
        &settings(dir.path(), 10),
    );
    match &done.report.stop {
        Some(Stop::Fatal {
            status, message, ..
        }) => {
            assert_eq!(*status, 401);
            assert!(!message.contains(KEY), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        server.call_count() <= 8,
        "it stops early: {}",
        server.call_count()
    );
    assert!(!everything_written(dir.path()).contains(KEY));
}

#[test]
fn the_anthropic_dialect_answers_through_a_forced_tool() {
    let server = LlmServer::start(Plan::default());
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(vec![target(&server.anthropic_base_url(), true)]);
    let done = run(&engine, dir.path(), "a", jobs(5), &settings(dir.path(), 5));
    assert_eq!(done.report.stop, None);
    assert_eq!(done.journal.len(), 5);
    let call = &server.calls()[0];
    assert_eq!(call.header("x-api-key"), Some(KEY));
    assert!(call.header("anthropic-version").is_some());
    let body = call.json();
    assert_eq!(body["tool_choice"]["type"], "tool");
    assert_eq!(body["system"], "You judge conversations. Answer in JSON.");
}

#[test]
fn concurrency_stays_within_its_limit_and_backs_off_under_429s() {
    let server = LlmServer::start(Plan::default().latency(Duration::from_millis(50)));
    let dir = tempfile::tempdir().unwrap();
    let mut t = target(&server.openai_base_url(), false);
    t.limits.concurrency = 3;
    let engine = Engine::new(vec![t]);
    run(
        &engine,
        dir.path(),
        "a",
        jobs(24),
        &settings(dir.path(), 24),
    );
    assert!(server.peak_in_flight() <= 3, "{}", server.peak_in_flight());
    assert_eq!(server.call_count(), 24);
}

#[test]
fn max_cost_stops_before_the_cost_could_pass_it() {
    let server = LlmServer::start(Plan::default());
    let dir = tempfile::tempdir().unwrap();
    let mut t = target(&server.openai_base_url(), false);
    // A call can cost at most (input + 512 output tokens) at these prices.
    t.prices = Some(Prices {
        input: 1000.0,
        cached_input: 1000.0,
        output: 1000.0,
        batch_discount: 0.5,
    });
    t.limits.concurrency = 1;
    let engine = Engine::new(vec![t]);
    let mut s = settings(dir.path(), 50);
    s.max_cost = Some(2.0);
    let done = run(&engine, dir.path(), "a", jobs(50), &s);
    assert!(
        matches!(done.report.stop, Some(Stop::MaxCost { .. })),
        "{:?}",
        done.report.stop
    );
    let spent = done.report.counters.cost.unwrap();
    assert!(spent <= 2.0, "spent {spent}");
    assert!(server.call_count() >= 1 && server.call_count() < 50);
}
