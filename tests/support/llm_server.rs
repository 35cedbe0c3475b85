//! A fake LLM provider on 127.0.0.1 for the tests and benchmarks of
//! `ftprep judge`: a real HTTP/1.1 server that speaks OpenAI's Chat
//! Completions (`POST /v1/chat/completions`) and Anthropic's Messages API
//! (`POST /v1/messages`), answers deterministically, and injects the faults
//! that real providers and networks produce.
//!
//! Why a hand-made server over `tokio::net` rather than a framework: the
//! faults live below HTTP. A connection reset with no response, a reset or a
//! clean close halfway through a body whose `content-length` promised more,
//! or a body that stalls between two writes, all need the socket itself.
//! Requests are parsed with `httparse`; keep-alive, pipelining, chunked
//! request bodies and `Expect: 100-continue` work, and the listener has a
//! deep backlog and `TCP_NODELAY`, so hundreds of pooled connections are
//! fine.
//!
//! What flows in: a [`Plan`] (latency, fault rules, key checking, rate-limit
//! headers), replaceable while the server runs with [`LlmServer::set_plan`].
//! What flows out: the HTTP responses, and a record of every request
//! ([`Request`]: path, headers, body, arrival time, attempt number, the fault
//! applied, the answer sent) that tests read through [`LlmServer`]'s helpers.
//!
//! Answers: when a request carries a JSON Schema (OpenAI
//! `response_format: {type: "json_schema"}`, an Anthropic tool's
//! `input_schema` chosen by `tool_choice`, or Anthropic's `output_config` /
//! `output_format`), the answer is an instance generated from that schema;
//! every boolean, enum member and `anyOf` branch is chosen by a hash of the
//! conversation (system prompt and messages, the same in either dialect) and
//! the property's path. The same conversation always gets the same answer;
//! different conversations get different ones. Without a schema the answer
//! is a deterministic sentence. Token counts are bytes / 4. With tools and
//! `tool_choice` `auto` or `any`, Anthropic requests get a call of the first
//! tool. Not served: streaming (`stream: true` gets a 400 saying so),
//! OpenAI function calling, images.
//!
//! Fault rules ([`When`] + [`Fault`]) are tried in order and the first that
//! matches applies. "The first K attempts of each distinct request" counts
//! attempts by the SHA-256 of the request body, so a client that retries
//! with the same body sees the fault K times and then a success.
//!
//! Start it with [`LlmServer::start`]: it runs on its own thread with its own
//! tokio runtime, so a test can drive it from synchronous code while a child
//! process (`ftprep judge`) talks to it. Dropping the server stops it.
#![allow(dead_code)]

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

// ===========================================================================
// The plan: what the server does
// ===========================================================================

/// Which API a request spoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// OpenAI Chat Completions, `POST /v1/chat/completions`.
    OpenAi,
    /// Anthropic Messages, `POST /v1/messages`.
    Anthropic,
}

/// How a 429 says when to come back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// No retry header at all.
    Absent,
    /// `retry-after: N` (delta seconds).
    Seconds(u64),
    /// `retry-after: <HTTP-date>`, N seconds from now (whole seconds).
    HttpDate(u64),
    /// `retry-after-ms: N` (as OpenAI's and Azure's servers send), with no
    /// `retry-after`.
    Millis(u64),
}

/// A fault the server injects instead of (or into) the normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 with the provider's rate-limit error body.
    RateLimited(RetryAfter),
    /// Exhausted quota or credit: OpenAI's 429 `insufficient_quota`,
    /// Anthropic's 400 "Your credit balance is too low". Not retryable.
    QuotaExhausted,
    /// 500, 502, 503 or 529 (Anthropic's `overloaded_error`). 502 comes with
    /// an HTML body, as from a proxy in front of the API.
    ServerError(u16),
    /// 400, 401, 403, 404, 413, 422 ... with the provider's error body.
    ClientError(u16),
    /// The normal answer, this much later than the plan's latency.
    Slow(Duration),
    /// The connection is reset (RST) before any byte of a response.
    Reset,
    /// Headers and half the body, then a reset.
    ResetMidBody,
    /// Headers and half the body, then a clean close: the body is shorter
    /// than its `content-length`.
    CloseMidBody,
    /// Headers and half the body, a pause of this long, then the rest.
    StallMidBody(Duration),
    /// A complete 200 response whose JSON body is cut in half (its
    /// `content-length` matches the cut body).
    TruncatedJson,
    /// A complete 200 response whose body is not valid JSON.
    MalformedJson,
    /// A valid response whose answer is not valid JSON (an Anthropic forced
    /// tool call becomes a plain text reply instead).
    MalformedAnswer,
    /// The model refuses: OpenAI `message.refusal`, Anthropic
    /// `stop_reason: "refusal"`.
    Refusal,
    /// The answer cut off at the token limit: `finish_reason: "length"` /
    /// `stop_reason: "max_tokens"`, with half the JSON.
    MaxTokens,
    /// Valid JSON that lacks the schema's first required property.
    MissingRequired,
    /// Valid JSON whose first leaf has a type the schema does not allow.
    WrongType,
}

impl Fault {
    /// Whether a request with this fault still got a complete, valid
    /// answer (a slow or stalled one).
    pub fn still_answers(&self) -> bool {
        matches!(self, Fault::Slow(_) | Fault::StallMidBody(_))
    }
}

/// When a fault rule applies: every condition given must hold. Build with
/// the constructors and combine with [`When::and`]:
/// `When::body_contains("conv-7").and(When::first_attempts(2))`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct When {
    first_attempts: Option<u32>,
    every_nth: Option<u64>,
    from_call: Option<u64>,
    body_contains: Option<String>,
    dialect: Option<Dialect>,
}

impl When {
    /// Every call.
    pub fn always() -> When {
        When::default()
    }

    /// The first `k` attempts of every distinct request (same body bytes,
    /// by SHA-256).
    pub fn first_attempts(k: u32) -> When {
        When {
            first_attempts: Some(k),
            ..When::default()
        }
    }

    /// Every `n`th call the server receives (the `n`th, `2n`th, ...),
    /// counted over both dialects from 1.
    pub fn every_nth(n: u64) -> When {
        When {
            every_nth: Some(n.max(1)),
            ..When::default()
        }
    }

    /// The `n`th call (from 1) and every one after it: quota running out.
    pub fn from_call(n: u64) -> When {
        When {
            from_call: Some(n),
            ..When::default()
        }
    }

    /// Calls whose raw body contains `s` (as bytes, so after JSON
    /// escaping).
    pub fn body_contains(s: impl Into<String>) -> When {
        When {
            body_contains: Some(s.into()),
            ..When::default()
        }
    }

    /// Calls in one dialect.
    pub fn dialect(dialect: Dialect) -> When {
        When {
            dialect: Some(dialect),
            ..When::default()
        }
    }

    /// Both conditions (for a condition given in both, `other`'s wins).
    pub fn and(self, other: When) -> When {
        When {
            first_attempts: other.first_attempts.or(self.first_attempts),
            every_nth: other.every_nth.or(self.every_nth),
            from_call: other.from_call.or(self.from_call),
            body_contains: other.body_contains.or(self.body_contains),
            dialect: other.dialect.or(self.dialect),
        }
    }

    fn matches(&self, call: u64, attempt: u32, body: &[u8], dialect: Dialect) -> bool {
        self.first_attempts.is_none_or(|k| attempt <= k)
            && self.every_nth.is_none_or(|n| call.is_multiple_of(n))
            && self.from_call.is_none_or(|n| call >= n)
            && self
                .body_contains
                .as_ref()
                .is_none_or(|s| memchr::memmem::find(body, s.as_bytes()).is_some())
            && self.dialect.is_none_or(|d| d == dialect)
    }
}

/// Which API keys the server accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// A key must be sent in the dialect's header (`Authorization: Bearer`
    /// for OpenAI, `x-api-key` for Anthropic); any value is accepted.
    AnyKey,
    /// Exactly this key, in the dialect's header.
    Key(String),
    /// No key needed (a local OpenAI-compatible server). Anthropic still
    /// needs `anthropic-version`.
    None,
}

/// Rate-limit headers over a fixed window that starts at the first call and
/// restarts when it has passed: `x-ratelimit-*` for OpenAI,
/// `anthropic-ratelimit-*` for Anthropic. Tokens are the prompt's plus
/// `max_tokens` (1,024 when absent), counted before answering as OpenAI
/// does. With `enforce`, a call over either limit gets a 429 whose
/// `retry-after` is the rest of the window (and does not count).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    pub requests: u64,
    pub tokens: u64,
    pub window: Duration,
    pub enforce: bool,
}

/// What the server does: latency, fault rules, key checks, headers.
#[derive(Clone, Debug)]
pub struct Plan {
    latency: Duration,
    rules: Vec<(When, Fault)>,
    auth: Auth,
    rate_limits: Option<RateLimits>,
    keep_bodies: bool,
    keep_alive_timeout: Option<Duration>,
}

impl Default for Plan {
    fn default() -> Plan {
        Plan {
            latency: Duration::ZERO,
            rules: Vec::new(),
            auth: Auth::AnyKey,
            rate_limits: None,
            keep_bodies: true,
            keep_alive_timeout: None,
        }
    }
}

impl Plan {
    /// Every response (errors included) is sent this long after its request
    /// has arrived.
    pub fn latency(mut self, latency: Duration) -> Plan {
        self.latency = latency;
        self
    }

    /// Adds a fault rule; rules are tried in the order added.
    pub fn fault(mut self, when: When, fault: Fault) -> Plan {
        self.rules.push((when, fault));
        self
    }

    pub fn auth(mut self, auth: Auth) -> Plan {
        self.auth = auth;
        self
    }

    pub fn rate_limits(mut self, limits: RateLimits) -> Plan {
        self.rate_limits = Some(limits);
        self
    }

    /// Whether to keep each request's body in the record (on by default; a
    /// benchmark of thousands of 30 KB requests turns it off).
    pub fn keep_bodies(mut self, keep: bool) -> Plan {
        self.keep_bodies = keep;
        self
    }

    /// Closes a keep-alive connection that has been idle this long, without
    /// a word, as servers and load balancers do: a client must not reuse
    /// it.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Plan {
        self.keep_alive_timeout = Some(timeout);
        self
    }
}

// ===========================================================================
// The record: what the server saw
// ===========================================================================

/// One request as the server received it, and what it did with it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Arrival order among all requests, from 1.
    pub seq: u64,
    /// Arrival order among calls (the two completion endpoints), from 1;
    /// 0 for anything else. The `n` of [`When::every_nth`] and
    /// [`When::from_call`].
    pub call: u64,
    /// Which TCP connection carried it, from 1 (equal numbers: a reused
    /// keep-alive connection).
    pub connection: u64,
    pub method: String,
    pub path: String,
    /// Header names lower-cased, in the order sent.
    pub headers: Vec<(String, String)>,
    /// Empty when the plan does not keep bodies.
    pub body: Vec<u8>,
    /// Hex SHA-256 of the body: what makes two requests "the same request".
    pub key: String,
    /// How many times this body has arrived, this one included.
    pub attempt: u32,
    /// When the whole request had arrived, since the server started.
    pub arrived: Duration,
    pub dialect: Option<Dialect>,
    /// The fault applied, if any.
    pub fault: Option<Fault>,
    /// The HTTP status sent (0 when the connection was reset before one).
    pub status: u16,
    /// `finish_reason` / `stop_reason` of a 200 answer.
    pub finish: Option<String>,
    /// The answer sent: the JSON instance for a schema request, a string
    /// otherwise (the first choice when `n` > 1).
    pub answer: Option<Value>,
    /// A complete, valid answer was sent (possibly slowly).
    pub succeeded: bool,
}

impl Request {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when it is not JSON or was not kept).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// How one distinct request (one body) fared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attempts {
    pub seen: u32,
    pub succeeded: u32,
}

// ===========================================================================
// The server
// ===========================================================================

/// Where and how the server runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// 0 for any free port.
    pub port: u16,
    /// Worker threads of the server's runtime.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            port: 0,
            threads: 1,
        }
    }
}

/// A running fake provider; dropping it stops it.
pub struct LlmServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    plan: Mutex<Arc<Plan>>,
    log: Mutex<Log>,
    started: Instant,
    connections: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    prompt_cache: Mutex<HashSet<[u8; 32]>>,
    window: Mutex<Option<Window>>,
}

#[derive(Default)]
struct Log {
    requests: Vec<Request>,
    attempts: HashMap<String, u32>,
    seq: u64,
    calls: u64,
}

struct Window {
    start: Instant,
    requests: u64,
    tokens: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not make every later assertion fail
    // with a poisoned lock instead of its own message.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LlmServer {
    /// Starts on a free port with one worker thread.
    pub fn start(plan: Plan) -> LlmServer {
        LlmServer::start_with(plan, Options::default())
    }

    /// Starts on its own thread and runtime; returns once it listens.
    ///
    /// Panics when it cannot listen (a test cannot go on without it).
    pub fn start_with(plan: Plan, options: Options) -> LlmServer {
        let shared = Arc::new(Shared {
            plan: Mutex::new(Arc::new(plan)),
            log: Mutex::new(Log::default()),
            started: Instant::now(),
            connections: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            peak_in_flight: AtomicUsize::new(0),
            prompt_cache: Mutex::new(HashSet::new()),
            window: Mutex::new(None),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("llm-server".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(options.threads.max(1))
                    .thread_name("llm-server-worker")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot start a tokio runtime: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match listen(options.port) {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready_tx.send(Err(format!(
                                "cannot listen on 127.0.0.1:{}: {e}",
                                options.port
                            )));
                            return;
                        }
                    };
                    let _ = ready_tx.send(listener.local_addr().map_err(|e| e.to_string()));
                    serve(listener, thread_shared, shutdown_rx).await;
                });
            })
            .expect("spawn the llm-server thread");
        let addr = match ready_rx.recv() {
            Ok(Ok(addr)) => addr,
            Ok(Err(e)) => panic!("fake LLM server: {e}"),
            Err(_) => panic!("fake LLM server: its thread ended before listening"),
        };
        LlmServer {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT/v1`, the `base_url` an OpenAI client takes.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT`, the `base_url` an Anthropic client takes.
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the plan; requests already received keep the old one.
    pub fn set_plan(&self, plan: Plan) {
        *lock(&self.shared.plan) = Arc::new(plan);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.log).requests.clone()
    }

    /// The calls (completion requests) so far, in arrival order.
    pub fn calls(&self) -> Vec<Request> {
        lock(&self.shared.log)
            .requests
            .iter()
            .filter(|r| r.call > 0)
            .cloned()
            .collect()
    }

    pub fn call_count(&self) -> usize {
        lock(&self.shared.log)
            .requests
            .iter()
            .filter(|r| r.call > 0)
            .count()
    }

    /// Calls answered completely and validly.
    pub fn succeeded_count(&self) -> usize {
        lock(&self.shared.log)
            .requests
            .iter()
            .filter(|r| r.succeeded)
            .count()
    }

    /// For each distinct call body (by hex SHA-256): how often it came and
    /// how often it was answered.
    pub fn attempts(&self) -> BTreeMap<String, Attempts> {
        let log = lock(&self.shared.log);
        let mut out: BTreeMap<String, Attempts> = BTreeMap::new();
        for r in log.requests.iter().filter(|r| r.call > 0) {
            let a = out.entry(r.key.clone()).or_default();
            a.seen += 1;
            a.succeeded += u32::from(r.succeeded);
        }
        out
    }

    /// How many distinct call bodies arrived.
    pub fn distinct_calls(&self) -> usize {
        self.attempts().len()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The most requests being handled at once (from arrival until the
    /// response was written): a client's real concurrency.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.peak_in_flight.load(Ordering::SeqCst)
    }

    /// Forgets the requests, attempt counts, call numbering, peak
    /// concurrency, prompt cache and rate-limit window (not the plan).
    pub fn clear_history(&self) {
        *lock(&self.shared.log) = Log::default();
        lock(&self.shared.prompt_cache).clear();
        *lock(&self.shared.window) = None;
        self.shared.peak_in_flight.store(
            self.shared.in_flight.load(Ordering::SeqCst),
            Ordering::SeqCst,
        );
    }

    /// Waits until at least `n` calls have arrived, at most `timeout`
    /// (a hang bound, not a timing assumption). True if they did.
    pub fn wait_for_calls(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.call_count() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for LlmServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn listen(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    // Deep enough for a client that opens hundreds of connections at once;
    // the kernel caps it at net.core.somaxconn.
    socket.listen(4096)
}

async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors and the like: wait, go on.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::spawn(connection(shared.clone(), stream, id));
            }
        }
    }
}

// ===========================================================================
// HTTP/1.1
// ===========================================================================

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 32 * 1024 * 1024;

struct RawRequest {
    method: String,
    path: String,
    http10: bool,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn wants_close(&self) -> bool {
        let connection = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.http10 {
            !connection.contains("keep-alive")
        } else {
            connection.contains("close")
        }
    }
}

/// A response and how it goes out on the wire.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delivery: Delivery,
    extra_delay: Duration,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Whole,
    Reset,
    ResetMidBody,
    CloseMidBody,
    StallMidBody(Duration),
}

enum ReadError {
    /// The peer closed (or went idle past the keep-alive timeout) between
    /// requests: nothing to answer.
    Gone,
    /// A request the server cannot read: answer this status, then close.
    Bad(u16, &'static str),
}

async fn connection(shared: Arc<Shared>, mut stream: TcpStream, id: u64) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        let idle = lock(&shared.plan).keep_alive_timeout;
        let raw = match read_request(&mut stream, &mut buf, idle).await {
            Ok(raw) => raw,
            Err(ReadError::Gone) => return,
            Err(ReadError::Bad(status, message)) => {
                let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
                let response = Response {
                    status,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: body.to_string().into_bytes(),
                    delivery: Delivery::Whole,
                    extra_delay: Duration::ZERO,
                };
                let _ = write_response(&mut stream, &response, true).await;
                return;
            }
        };
        let close = raw.wants_close();
        let in_flight = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.peak_in_flight.fetch_max(in_flight, Ordering::SeqCst);
        let (response, latency) = handle(&shared, id, raw);
        tokio::time::sleep(latency + response.extra_delay).await;
        let keep = write_response(&mut stream, &response, close).await;
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !keep {
            return;
        }
    }
}

/// Reads one request from the connection; `buf` carries bytes already read
/// past the previous request (pipelining).
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    idle: Option<Duration>,
) -> Result<RawRequest, ReadError> {
    // The head.
    let (head_len, method, path, http10, headers) = loop {
        let mut slots = [httparse::EMPTY_HEADER; 96];
        let mut req = httparse::Request::new(&mut slots);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(n)) => {
                let headers: Vec<(String, String)> = req
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                break (
                    n,
                    req.method.unwrap_or("").to_string(),
                    req.path.unwrap_or("").to_string(),
                    req.version == Some(0),
                    headers,
                );
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > MAX_HEAD {
                    return Err(ReadError::Bad(431, "request header fields too large"));
                }
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(ReadError::Bad(431, "too many request header fields"));
            }
            Err(_) => return Err(ReadError::Bad(400, "malformed HTTP request")),
        }
        // Only an idle connection (nothing of the next request yet) times
        // out; a half-sent head is waited for.
        let read = if buf.is_empty() {
            match idle {
                Some(idle) => match tokio::time::timeout(idle, read_more(stream, buf)).await {
                    Ok(read) => read,
                    Err(_) => return Err(ReadError::Gone),
                },
                None => read_more(stream, buf).await,
            }
        } else {
            read_more(stream, buf).await
        };
        if read == 0 {
            return Err(ReadError::Gone);
        }
    };
    buf.drain(..head_len);
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_string())
    };
    if find("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
    }
    let chunked =
        find("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(stream, buf).await?
    } else {
        let length = match find("content-length") {
            None => 0,
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| ReadError::Bad(400, "invalid content-length"))?,
        };
        if length > MAX_BODY {
            return Err(ReadError::Bad(413, "request body larger than 32 MB"));
        }
        while buf.len() < length {
            if read_more(stream, buf).await == 0 {
                return Err(ReadError::Gone);
            }
        }
        buf.drain(..length).collect()
    };
    Ok(RawRequest {
        method,
        path,
        http10,
        headers,
        body,
    })
}

/// Bytes read; 0 at end of stream or on an error (either ends the
/// connection).
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> usize {
    buf.reserve(16 * 1024);
    stream.read_buf(buf).await.unwrap_or(0)
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let (start, size) = loop {
            match httparse::parse_chunk_size(buf) {
                Ok(httparse::Status::Complete((start, size))) => break (start, size),
                Ok(httparse::Status::Partial) => {
                    if read_more(stream, buf).await == 0 {
                        return Err(ReadError::Gone);
                    }
                }
                Err(_) => return Err(ReadError::Bad(400, "invalid chunk size")),
            }
        };
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if body.len().saturating_add(size) > MAX_BODY {
            return Err(ReadError::Bad(413, "request body larger than 32 MB"));
        }
        if size == 0 {
            // Trailers, if any, end with an empty line.
            buf.drain(..start);
            loop {
                if let Some(end) = find_crlf(buf) {
                    let empty = end == 0;
                    buf.drain(..end + 2);
                    if empty {
                        return Ok(body);
                    }
                } else if read_more(stream, buf).await == 0 {
                    return Err(ReadError::Gone);
                }
            }
        }
        while buf.len() < start + size + 2 {
            if read_more(stream, buf).await == 0 {
                return Err(ReadError::Gone);
            }
        }
        body.extend_from_slice(&buf[start..start + size]);
        buf.drain(..start + size + 2);
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

/// Writes the response as its delivery says; false when the connection
/// must not be used again.
async fn write_response(stream: &mut TcpStream, response: &Response, close: bool) -> bool {
    if response.delivery == Delivery::Reset {
        reset(stream);
        return false;
    }
    let close = close || response.delivery != Delivery::Whole;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str(&format!("content-length: {}\r\n", response.body.len()));
    head.push_str(if close {
        "connection: close\r\n\r\n"
    } else {
        "connection: keep-alive\r\n\r\n"
    });
    let mut bytes = head.into_bytes();
    let half = response.body.len() / 2;
    match response.delivery {
        Delivery::Whole => {
            bytes.extend_from_slice(&response.body);
            if stream.write_all(&bytes).await.is_err() {
                return false;
            }
        }
        Delivery::ResetMidBody => {
            bytes.extend_from_slice(&response.body[..half]);
            let _ = stream.write_all(&bytes).await;
            let _ = stream.flush().await;
            reset(stream);
            return false;
        }
        Delivery::CloseMidBody => {
            bytes.extend_from_slice(&response.body[..half]);
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
            return false;
        }
        Delivery::StallMidBody(pause) => {
            bytes.extend_from_slice(&response.body[..half]);
            if stream.write_all(&bytes).await.is_err() {
                return false;
            }
            tokio::time::sleep(pause).await;
            if stream.write_all(&response.body[half..]).await.is_err() {
                return false;
            }
        }
        Delivery::Reset => unreachable!("handled above"),
    }
    !close
}

/// A zero linger time makes the close send RST instead of FIN.
fn reset(stream: &TcpStream) {
    let _ = stream.set_zero_linger();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Site Overloaded",
        _ => "Unknown",
    }
}

// ===========================================================================
// Routing and the decision for one request
// ===========================================================================

fn handle(shared: &Shared, connection: u64, raw: RawRequest) -> (Response, Duration) {
    let plan = lock(&shared.plan).clone();
    let arrived = shared.started.elapsed();
    let path = raw.path.split('?').next().unwrap_or("").to_string();
    let endpoint = match path.as_str() {
        "/v1/chat/completions" => Some(Dialect::OpenAi),
        "/v1/messages" => Some(Dialect::Anthropic),
        _ => None,
    };
    let key = hex(&Sha256::digest(&raw.body));

    // Numbering, attempts and the fault rule are decided together, under
    // the log's lock, so that concurrent arrivals get distinct numbers.
    let (index, call, fault) = {
        let mut log = lock(&shared.log);
        log.seq += 1;
        let seq = log.seq;
        let (call, attempt, fault) = match endpoint {
            Some(dialect) if raw.method == "POST" => {
                log.calls += 1;
                let call = log.calls;
                let attempt = {
                    let a = log.attempts.entry(key.clone()).or_insert(0);
                    *a += 1;
                    *a
                };
                let fault = plan
                    .rules
                    .iter()
                    .find(|(when, _)| when.matches(call, attempt, &raw.body, dialect))
                    .map(|(_, fault)| fault.clone());
                (call, attempt, fault)
            }
            _ => (0, 0, None),
        };
        log.requests.push(Request {
            seq,
            call,
            connection,
            method: raw.method.clone(),
            path: raw.path.clone(),
            headers: raw.headers.clone(),
            body: if plan.keep_bodies {
                raw.body.clone()
            } else {
                Vec::new()
            },
            key,
            attempt,
            arrived,
            dialect: endpoint.filter(|_| call > 0),
            fault: fault.clone(),
            status: 0,
            finish: None,
            answer: None,
            succeeded: false,
        });
        (log.requests.len() - 1, call, fault)
    };

    let outcome = match endpoint {
        Some(dialect) if raw.method == "POST" => {
            respond_call(shared, &plan, dialect, &raw, fault.as_ref())
        }
        Some(dialect) => Outcome::error(error_response(
            dialect,
            405,
            ErrorKind::Invalid(format!(
                "{} {} is not supported; use POST",
                raw.method, raw.path
            )),
        )),
        None => route_other(&raw, &path),
    };

    {
        let mut log = lock(&shared.log);
        // clear_history may have run meanwhile; then there is nothing to
        // update.
        if let Some(r) = log.requests.get_mut(index).filter(|r| r.call == call) {
            r.status = if outcome.response.delivery == Delivery::Reset {
                0
            } else {
                outcome.response.status
            };
            r.finish = outcome.finish.clone();
            r.answer = outcome.answer.clone();
            r.succeeded = outcome.succeeded;
        }
    }
    (outcome.response, plan.latency)
}

/// Requests other than the two completion endpoints.
fn route_other(raw: &RawRequest, path: &str) -> Outcome {
    let anthropic = raw.header("anthropic-version").is_some() || raw.header("x-api-key").is_some();
    let dialect = if anthropic {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    };
    if raw.method == "GET" && path == "/v1/models" {
        let body = if anthropic {
            json!({
                "data": [{"type": "model", "id": "fake-model", "display_name": "Fake model", "created_at": "2026-01-01T00:00:00Z"}],
                "has_more": false, "first_id": "fake-model", "last_id": "fake-model"
            })
        } else {
            json!({"object": "list", "data": [{"id": "fake-model", "object": "model", "created": FIXED_CREATED, "owned_by": "ftprep-tests"}]})
        };
        return Outcome::error(json_response(200, body, Vec::new()));
    }
    let hint = match path {
        "/chat/completions" => " (an OpenAI base URL ends in /v1)",
        "/v1/v1/messages" | "/messages" => " (an Anthropic base URL has no /v1)",
        _ => "",
    };
    Outcome::error(error_response(
        dialect,
        404,
        ErrorKind::NotFound(format!(
            "unknown endpoint {} {}{hint}; this server has POST /v1/chat/completions and POST /v1/messages",
            raw.method, raw.path
        )),
    ))
}

struct Outcome {
    response: Response,
    finish: Option<String>,
    answer: Option<Value>,
    succeeded: bool,
}

impl Outcome {
    fn error(response: Response) -> Outcome {
        Outcome {
            response,
            finish: None,
            answer: None,
            succeeded: false,
        }
    }
}

fn respond_call(
    shared: &Shared,
    plan: &Plan,
    dialect: Dialect,
    raw: &RawRequest,
    fault: Option<&Fault>,
) -> Outcome {
    // Keys, then the request itself, as the real APIs check them: a fault
    // rule never hides a malformed request.
    if let Some(response) = check_auth(dialect, raw, &plan.auth) {
        return Outcome::error(response);
    }
    let body: Value = match serde_json::from_slice(&raw.body) {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(_) | Err(_) => {
            let message = match dialect {
                Dialect::OpenAi => "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)".to_string(),
                Dialect::Anthropic => "The request body is not valid JSON.".to_string(),
            };
            return Outcome::error(error_response(dialect, 400, ErrorKind::Invalid(message)));
        }
    };
    let parsed = match dialect {
        Dialect::OpenAi => parse_openai(&body, &raw.body),
        Dialect::Anthropic => parse_anthropic(&body, &raw.body),
    };
    let request = match parsed {
        Ok(request) => request,
        Err(invalid) => return Outcome::error(invalid.response(dialect)),
    };

    let limits = plan.rate_limits.as_ref().map(|limits| {
        rate_window(
            shared,
            limits,
            request.prompt_tokens + request.answer_estimate,
        )
    });
    let rate_headers = limits
        .as_ref()
        .map(|w| rate_limit_headers(dialect, w))
        .unwrap_or_default();
    if let Some(w) = limits.as_ref().filter(|w| w.over) {
        let secs = w.reset.as_millis().div_ceil(1000).max(1) as u64;
        let mut response =
            error_response(dialect, 429, ErrorKind::RateLimited(request.model.clone()));
        response.headers.extend(rate_headers);
        response
            .headers
            .push(("retry-after".into(), secs.to_string()));
        return Outcome::error(response);
    }

    let with_headers = |mut response: Response| {
        response.headers.extend(rate_headers.clone());
        response
    };
    match fault {
        Some(Fault::RateLimited(retry)) => {
            let mut response =
                error_response(dialect, 429, ErrorKind::RateLimited(request.model.clone()));
            match retry {
                RetryAfter::Absent => {}
                RetryAfter::Seconds(s) => {
                    response.headers.push(("retry-after".into(), s.to_string()))
                }
                RetryAfter::HttpDate(s) => response.headers.push((
                    "retry-after".into(),
                    http_date(SystemTime::now() + Duration::from_secs(*s)),
                )),
                RetryAfter::Millis(ms) => response
                    .headers
                    .push(("retry-after-ms".into(), ms.to_string())),
            }
            return Outcome::error(with_headers(response));
        }
        Some(Fault::QuotaExhausted) => {
            let status = match dialect {
                Dialect::OpenAi => 429,
                Dialect::Anthropic => 400,
            };
            return Outcome::error(with_headers(error_response(
                dialect,
                status,
                ErrorKind::Quota,
            )));
        }
        Some(Fault::ServerError(status)) => {
            return Outcome::error(with_headers(error_response(
                dialect,
                *status,
                ErrorKind::Server,
            )));
        }
        Some(Fault::ClientError(status)) => {
            let kind = match status {
                401 => ErrorKind::BadKey,
                404 => ErrorKind::ModelNotFound(request.model.clone()),
                _ => ErrorKind::Invalid(
                    "the request was refused (a fault of the fake server)".into(),
                ),
            };
            return Outcome::error(with_headers(error_response(dialect, *status, kind)));
        }
        _ => {}
    }

    let usage_cache = prompt_cache(shared, &request);
    let mut outcome = answer(dialect, &request, fault, usage_cache);
    outcome.response.headers.extend(rate_headers);
    match fault {
        Some(Fault::Slow(d)) => outcome.response.extra_delay = *d,
        Some(Fault::Reset) => outcome.response.delivery = Delivery::Reset,
        Some(Fault::ResetMidBody) => outcome.response.delivery = Delivery::ResetMidBody,
        Some(Fault::CloseMidBody) => outcome.response.delivery = Delivery::CloseMidBody,
        Some(Fault::StallMidBody(d)) => outcome.response.delivery = Delivery::StallMidBody(*d),
        Some(Fault::TruncatedJson) => {
            let half = outcome.response.body.len() / 2;
            outcome.response.body.truncate(half);
        }
        Some(Fault::MalformedJson) => {
            // `{"id"= ...`: broken at the first key, not at the end, so a
            // parser that stops early cannot accept a prefix.
            if let Some(colon) = outcome.response.body.iter().position(|&b| b == b':') {
                outcome.response.body[colon] = b'=';
            }
        }
        _ => {}
    }
    if fault.is_some_and(|f| !f.still_answers()) {
        outcome.succeeded = false;
    }
    outcome
}

fn check_auth(dialect: Dialect, raw: &RawRequest, auth: &Auth) -> Option<Response> {
    if dialect == Dialect::Anthropic && raw.header("anthropic-version").is_none() {
        return Some(error_response(
            dialect,
            400,
            ErrorKind::Invalid("anthropic-version: header is required".into()),
        ));
    }
    let sent = match dialect {
        Dialect::OpenAi => raw
            .header("authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim),
        Dialect::Anthropic => raw.header("x-api-key").map(str::trim),
    };
    let missing = || match dialect {
        Dialect::OpenAi => error_response(dialect, 401, ErrorKind::NoKey),
        Dialect::Anthropic => error_response(
            dialect,
            401,
            ErrorKind::Auth("x-api-key header is required".into()),
        ),
    };
    match (auth, sent) {
        (Auth::None, _) => None,
        (_, None) | (_, Some("")) => Some(missing()),
        (Auth::AnyKey, Some(_)) => None,
        (Auth::Key(want), Some(got)) if want == got => None,
        (Auth::Key(_), Some(_)) => Some(error_response(dialect, 401, ErrorKind::BadKey)),
    }
}

// ===========================================================================
// Error bodies, as each provider writes them
// ===========================================================================

enum ErrorKind {
    Invalid(String),
    NotFound(String),
    ModelNotFound(String),
    NoKey,
    BadKey,
    Auth(String),
    RateLimited(String),
    Quota,
    Server,
}

fn error_response(dialect: Dialect, status: u16, kind: ErrorKind) -> Response {
    if status == 502 {
        let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>fake-proxy</center>\r\n</body>\r\n</html>\r\n";
        return Response {
            status,
            headers: vec![("content-type".into(), "text/html".into())],
            body: html.as_bytes().to_vec(),
            delivery: Delivery::Whole,
            extra_delay: Duration::ZERO,
        };
    }
    match dialect {
        Dialect::OpenAi => {
            let (message, kind, param, code): (String, &str, Value, Value) = match kind {
                ErrorKind::Invalid(m) => (m, "invalid_request_error", Value::Null, Value::Null),
                ErrorKind::NotFound(m) => (m, "invalid_request_error", Value::Null, Value::Null),
                ErrorKind::ModelNotFound(model) => (
                    format!("The model `{model}` does not exist or you do not have access to it."),
                    "invalid_request_error",
                    Value::Null,
                    json!("model_not_found"),
                ),
                ErrorKind::NoKey => (
                    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).".into(),
                    "invalid_request_error",
                    Value::Null,
                    Value::Null,
                ),
                ErrorKind::BadKey | ErrorKind::Auth(_) => (
                    "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.".into(),
                    "invalid_request_error",
                    Value::Null,
                    json!("invalid_api_key"),
                ),
                ErrorKind::RateLimited(model) => (
                    format!("Rate limit reached for {model} in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 1s."),
                    "requests",
                    Value::Null,
                    json!("rate_limit_exceeded"),
                ),
                ErrorKind::Quota => (
                    "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.".into(),
                    "insufficient_quota",
                    Value::Null,
                    json!("insufficient_quota"),
                ),
                ErrorKind::Server => (
                    match status {
                        503 => "The server is overloaded or not ready yet.".into(),
                        _ => "The server had an error while processing your request. Sorry about that!".into(),
                    },
                    "server_error",
                    Value::Null,
                    Value::Null,
                ),
            };
            json_response(
                status,
                json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
                Vec::new(),
            )
        }
        Dialect::Anthropic => {
            let (kind, message): (&str, String) = match kind {
                ErrorKind::Invalid(m) => (
                    match status {
                        403 => "permission_error",
                        404 => "not_found_error",
                        413 => "request_too_large",
                        _ => "invalid_request_error",
                    },
                    m,
                ),
                ErrorKind::NotFound(m) => ("not_found_error", m),
                ErrorKind::ModelNotFound(model) => ("not_found_error", format!("model: {model}")),
                ErrorKind::NoKey | ErrorKind::BadKey => ("authentication_error", "invalid x-api-key".into()),
                ErrorKind::Auth(m) => ("authentication_error", m),
                ErrorKind::RateLimited(_) => (
                    "rate_limit_error",
                    "This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.".into(),
                ),
                ErrorKind::Quota => (
                    "invalid_request_error",
                    "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.".into(),
                ),
                ErrorKind::Server => match status {
                    529 => ("overloaded_error", "Overloaded".into()),
                    _ => ("api_error", "Internal server error".into()),
                },
            };
            let request_id = format!("req_fake{:016x}", request_counter());
            json_response(
                status,
                json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}),
                vec![("request-id".into(), request_id)],
            )
        }
    }
}

fn request_counter() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed) + 1
}

fn json_response(status: u16, body: Value, mut headers: Vec<(String, String)>) -> Response {
    headers.insert(0, ("content-type".into(), "application/json".into()));
    Response {
        status,
        headers,
        body: body.to_string().into_bytes(),
        delivery: Delivery::Whole,
        extra_delay: Duration::ZERO,
    }
}

// ===========================================================================
// Requests of each dialect, read into one shape
// ===========================================================================

/// A completion request, whichever dialect it came in; it borrows the
/// parsed body (a 30 KB prompt is not copied).
struct Call<'a> {
    model: String,
    /// SHA-256 of the conversation (system prompt and turns, role and
    /// text), the same in both dialects.
    seed: [u8; 32],
    target: Target<'a>,
    max_tokens: Option<u64>,
    choices: usize,
    prompt_tokens: u64,
    /// The answer's tokens as a rate limiter counts them beforehand.
    answer_estimate: u64,
    /// The cacheable prefix: its hash and its tokens.
    cache_prefix: Option<([u8; 32], u64)>,
}

enum Target<'a> {
    Text,
    /// OpenAI `json_object`: any JSON object.
    JsonObject,
    Schema {
        schema: &'a Value,
        via: Via,
    },
}

#[derive(PartialEq)]
enum Via {
    ResponseFormat,
    Tool(String),
    OutputFormat,
}

struct Invalid {
    message: String,
    param: Option<String>,
    code: Option<&'static str>,
}

impl Invalid {
    fn new(message: impl Into<String>) -> Invalid {
        Invalid {
            message: message.into(),
            param: None,
            code: None,
        }
    }

    fn param(mut self, param: &str, code: &'static str) -> Invalid {
        self.param = Some(param.to_string());
        self.code = Some(code);
        self
    }

    fn response(self, dialect: Dialect) -> Response {
        match dialect {
            Dialect::OpenAi => json_response(
                400,
                json!({"error": {"message": self.message, "type": "invalid_request_error", "param": self.param, "code": self.code}}),
                Vec::new(),
            ),
            Dialect::Anthropic => error_response(dialect, 400, ErrorKind::Invalid(self.message)),
        }
    }
}

fn tokens(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4).max(1)
}

/// The text of a message's `content`: a string, or the `text` of its parts
/// (other parts as their JSON).
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .map(|p| match p.get("text").and_then(Value::as_str) {
                Some(t) => t.to_string(),
                None => p.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn conversation_seed(turns: &[(String, String)]) -> [u8; 32] {
    let mut h = Sha256::new();
    for (role, text) in turns {
        h.update(role.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.update([0]);
    }
    h.finalize().into()
}

fn positive(body: &Value, name: &str) -> Result<Option<u64>, Invalid> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Ok(Some(n)),
            _ => Err(Invalid::new(format!(
                "Invalid '{name}': expected an integer of at least 1, got {v}."
            ))
            .param(name, "invalid_value")),
        },
    }
}

fn parse_openai<'a>(body: &'a Value, raw: &[u8]) -> Result<Call<'a>, Invalid> {
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        return Err(Invalid::new(
            "stream: true is not supported by the fake server; leave it out or send false",
        )
        .param("stream", "unsupported_value"));
    }
    let model = match body.get("model").and_then(Value::as_str) {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => return Err(Invalid::new("you must provide a model parameter")),
    };
    let messages = match body.get("messages").and_then(Value::as_array) {
        Some(m) if !m.is_empty() => m,
        Some(_) => {
            return Err(Invalid::new("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.")
                .param("messages", "empty_array"));
        }
        None => {
            return Err(Invalid::new("Missing required parameter: 'messages'.")
                .param("messages", "missing_required_parameter"));
        }
    };
    let mut turns = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let Some(role) = m.get("role").and_then(Value::as_str) else {
            return Err(
                Invalid::new(format!("Missing required parameter: 'messages[{i}].role'."))
                    .param(&format!("messages[{i}].role"), "missing_required_parameter"),
            );
        };
        if !matches!(role, "system" | "developer" | "user" | "assistant" | "tool") {
            return Err(Invalid::new(format!(
                "Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool', 'function' and 'developer'."
            ))
            .param(&format!("messages[{i}].role"), "invalid_value"));
        }
        let text = content_text(m.get("content").unwrap_or(&Value::Null));
        turns.push((role.to_string(), text));
    }
    let max_tokens = match positive(body, "max_completion_tokens")? {
        Some(n) => Some(n),
        None => positive(body, "max_tokens")?,
    };
    let choices = positive(body, "n")?.unwrap_or(1).min(8) as usize;
    let target = match body.get("response_format") {
        None | Some(Value::Null) => Target::Text,
        Some(rf) => match rf.get("type").and_then(Value::as_str) {
            Some("text") => Target::Text,
            Some("json_object") => {
                let mentions_json = turns
                    .iter()
                    .any(|(_, t)| t.to_ascii_lowercase().contains("json"));
                if !mentions_json {
                    return Err(Invalid::new("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.")
                        .param("messages", "invalid_value"));
                }
                Target::JsonObject
            }
            Some("json_schema") => {
                let Some(js) = rf.get("json_schema").filter(|v| v.is_object()) else {
                    return Err(Invalid::new(
                        "Missing required parameter: 'response_format.json_schema'.",
                    )
                    .param("response_format.json_schema", "missing_required_parameter"));
                };
                if js
                    .get("name")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err(Invalid::new(
                        "Missing required parameter: 'response_format.json_schema.name'.",
                    )
                    .param(
                        "response_format.json_schema.name",
                        "missing_required_parameter",
                    ));
                }
                match js.get("schema") {
                    Some(schema) if schema.is_object() => Target::Schema {
                        schema,
                        via: Via::ResponseFormat,
                    },
                    _ => Target::JsonObject,
                }
            }
            _ => {
                return Err(Invalid::new(format!(
                    "Invalid value: {}. Supported values are: 'text', 'json_object' and 'json_schema'.",
                    rf.get("type").unwrap_or(&Value::Null)
                ))
                .param("response_format.type", "invalid_value"));
            }
        },
    };
    // OpenAI caches the longest prefix it has seen; the system message is
    // the part a judge repeats on every call.
    let cache_prefix = turns
        .first()
        .filter(|(role, _)| role == "system" || role == "developer")
        .map(|(_, text)| {
            let mut h = Sha256::new();
            h.update(b"openai\0");
            h.update(text.as_bytes());
            (h.finalize().into(), tokens(text.len()))
        });
    Ok(Call {
        model,
        seed: conversation_seed(&turns),
        answer_estimate: max_tokens.unwrap_or(1024),
        target,
        max_tokens,
        choices,
        prompt_tokens: tokens(raw.len()),
        cache_prefix,
    })
}

fn parse_anthropic<'a>(body: &'a Value, raw: &[u8]) -> Result<Call<'a>, Invalid> {
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        return Err(Invalid::new(
            "stream: true is not supported by the fake server; leave it out or send false",
        )
        .param("stream", "unsupported_value"));
    }
    let model = match body.get("model").and_then(Value::as_str) {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => return Err(Invalid::new("model: Field required")),
    };
    let max_tokens = match body.get("max_tokens") {
        None => return Err(Invalid::new("max_tokens: Field required")),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => n,
            _ => {
                return Err(Invalid::new(
                    "max_tokens: Input should be greater than or equal to 1",
                ));
            }
        },
    };
    let messages = match body.get("messages").and_then(Value::as_array) {
        Some(m) if !m.is_empty() => m,
        Some(_) => return Err(Invalid::new("messages: at least one message is required")),
        None => return Err(Invalid::new("messages: Field required")),
    };
    let mut turns = Vec::new();
    // The prefix to the last block marked `cache_control`: tools, then
    // system, then messages, as Anthropic orders a prompt.
    let mut prefix = Sha256::new();
    prefix.update(b"anthropic\0");
    let mut prefix_bytes = 0usize;
    let mut cached: Option<([u8; 32], usize)> = None;
    // Hashing the prefix costs a pass over the prompt: only when something
    // is marked.
    let marks = memchr::memmem::find(raw, b"cache_control").is_some();
    let mut mark = |text: &str, marked: bool, prefix: &mut Sha256, bytes: &mut usize| {
        if !marks {
            return;
        }
        prefix.update(text.as_bytes());
        *bytes += text.len();
        if marked {
            cached = Some((prefix.clone().finalize().into(), *bytes));
        }
    };
    let tools = body.get("tools").and_then(Value::as_array);
    for tool in tools.into_iter().flatten().filter(|_| marks) {
        mark(
            &tool.to_string(),
            tool.get("cache_control").is_some(),
            &mut prefix,
            &mut prefix_bytes,
        );
    }
    match body.get("system") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            mark(s, false, &mut prefix, &mut prefix_bytes);
            turns.push(("system".to_string(), s.clone()));
        }
        Some(Value::Array(blocks)) => {
            let mut text = Vec::new();
            for b in blocks {
                let t = b.get("text").and_then(Value::as_str).unwrap_or("");
                mark(
                    t,
                    b.get("cache_control").is_some(),
                    &mut prefix,
                    &mut prefix_bytes,
                );
                text.push(t.to_string());
            }
            turns.push(("system".to_string(), text.join("\n")));
        }
        Some(_) => {
            return Err(Invalid::new(
                "system: Input should be a valid string or a list of text blocks",
            ));
        }
    }
    for (i, m) in messages.iter().enumerate() {
        let role = match m.get("role").and_then(Value::as_str) {
            Some(r @ ("user" | "assistant")) => r,
            Some(other) => {
                return Err(Invalid::new(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant', got '{other}'"
                )));
            }
            None => return Err(Invalid::new(format!("messages.{i}.role: Field required"))),
        };
        let content = m.get("content").unwrap_or(&Value::Null);
        match content {
            Value::Array(blocks) => {
                for b in blocks {
                    let t = b
                        .get("text")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| b.to_string());
                    mark(
                        &t,
                        b.get("cache_control").is_some(),
                        &mut prefix,
                        &mut prefix_bytes,
                    );
                }
            }
            Value::String(s) => mark(s, false, &mut prefix, &mut prefix_bytes),
            _ => {
                return Err(Invalid::new(format!(
                    "messages.{i}.content: Field required"
                )));
            }
        }
        turns.push((role.to_string(), content_text(content)));
    }

    let format_schema = body
        .pointer("/output_config/format")
        .or_else(|| body.get("output_format"))
        .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_schema"))
        .and_then(|f| f.get("schema"));
    let choice = body.get("tool_choice");
    let choice_type = choice.and_then(|c| c.get("type")).and_then(Value::as_str);
    let tool_named = |name: &str| {
        tools
            .into_iter()
            .flatten()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
    };
    let tool = match choice_type {
        Some("tool") => {
            let name = choice
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            match tool_named(name) {
                Some(t) => Some(t),
                None => {
                    return Err(Invalid::new(format!(
                        "tool_choice: tool '{name}' is not one of the tools given"
                    )));
                }
            }
        }
        Some("none") => None,
        Some("any") | Some("auto") | None
            if format_schema.is_none() || choice_type == Some("any") =>
        {
            tools.and_then(|t| t.first())
        }
        Some("any") | Some("auto") | None => None,
        Some(other) => {
            return Err(Invalid::new(format!(
                "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none', got '{other}'"
            )));
        }
    };
    let target = match (tool, format_schema) {
        (Some(tool), _) => {
            let name = tool
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            match tool.get("input_schema") {
                Some(schema) if schema.is_object() => Target::Schema {
                    schema,
                    via: Via::Tool(name),
                },
                _ => {
                    return Err(Invalid::new(format!(
                        "tools.{name}.input_schema: Field required"
                    )));
                }
            }
        }
        (None, Some(schema)) => Target::Schema {
            schema,
            via: Via::OutputFormat,
        },
        (None, None) => Target::Text,
    };
    Ok(Call {
        model,
        seed: conversation_seed(&turns),
        answer_estimate: max_tokens,
        target,
        max_tokens: Some(max_tokens),
        choices: 1,
        prompt_tokens: tokens(raw.len()),
        cache_prefix: cached.map(|(hash, bytes)| (hash, tokens(bytes))),
    })
}

// ===========================================================================
// Prompt caching and rate limits
// ===========================================================================

/// Cached tokens for this call: the prefix was seen before and is long
/// enough (1,024 tokens, both providers' minimum). OpenAI caches in steps
/// of 128 tokens. Returns (read, written).
fn prompt_cache(shared: &Shared, call: &Call) -> (u64, u64) {
    let Some((hash, prefix_tokens)) = call.cache_prefix else {
        return (0, 0);
    };
    if prefix_tokens < 1024 {
        return (0, 0);
    }
    let seen = !lock(&shared.prompt_cache).insert(hash);
    if seen {
        (prefix_tokens, 0)
    } else {
        (0, prefix_tokens)
    }
}

struct WindowState {
    limits: RateLimits,
    requests_left: u64,
    tokens_left: u64,
    reset: Duration,
    over: bool,
}

fn rate_window(shared: &Shared, limits: &RateLimits, tokens: u64) -> WindowState {
    let mut window = lock(&shared.window);
    let now = Instant::now();
    let w = match window.as_mut() {
        Some(w) if now.duration_since(w.start) < limits.window => w,
        _ => window.insert(Window {
            start: now,
            requests: 0,
            tokens: 0,
        }),
    };
    let over =
        limits.enforce && (w.requests >= limits.requests || w.tokens + tokens > limits.tokens);
    if !over {
        w.requests += 1;
        w.tokens += tokens;
    }
    WindowState {
        limits: limits.clone(),
        requests_left: limits.requests.saturating_sub(w.requests),
        tokens_left: limits.tokens.saturating_sub(w.tokens),
        reset: limits.window.saturating_sub(now.duration_since(w.start)),
        over,
    }
}

fn rate_limit_headers(dialect: Dialect, w: &WindowState) -> Vec<(String, String)> {
    let h = |n: &str, v: String| (n.to_string(), v);
    match dialect {
        Dialect::OpenAi => vec![
            h("x-ratelimit-limit-requests", w.limits.requests.to_string()),
            h("x-ratelimit-limit-tokens", w.limits.tokens.to_string()),
            h(
                "x-ratelimit-remaining-requests",
                w.requests_left.to_string(),
            ),
            h("x-ratelimit-remaining-tokens", w.tokens_left.to_string()),
            h("x-ratelimit-reset-requests", go_duration(w.reset)),
            h("x-ratelimit-reset-tokens", go_duration(w.reset)),
        ],
        Dialect::Anthropic => {
            let reset = rfc3339(SystemTime::now() + w.reset);
            vec![
                h(
                    "anthropic-ratelimit-requests-limit",
                    w.limits.requests.to_string(),
                ),
                h(
                    "anthropic-ratelimit-requests-remaining",
                    w.requests_left.to_string(),
                ),
                h("anthropic-ratelimit-requests-reset", reset.clone()),
                h(
                    "anthropic-ratelimit-tokens-limit",
                    w.limits.tokens.to_string(),
                ),
                h(
                    "anthropic-ratelimit-tokens-remaining",
                    w.tokens_left.to_string(),
                ),
                h("anthropic-ratelimit-tokens-reset", reset.clone()),
                h(
                    "anthropic-ratelimit-input-tokens-limit",
                    w.limits.tokens.to_string(),
                ),
                h(
                    "anthropic-ratelimit-input-tokens-remaining",
                    w.tokens_left.to_string(),
                ),
                h("anthropic-ratelimit-input-tokens-reset", reset.clone()),
                h(
                    "anthropic-ratelimit-output-tokens-limit",
                    w.limits.tokens.to_string(),
                ),
                h(
                    "anthropic-ratelimit-output-tokens-remaining",
                    w.tokens_left.to_string(),
                ),
                h("anthropic-ratelimit-output-tokens-reset", reset),
            ]
        }
    }
}

// ===========================================================================
// Answers
// ===========================================================================

/// Unix time in every `created`, so a response is the same bytes each time.
const FIXED_CREATED: u64 = 1_767_225_600;

/// The answer text of one choice, and how it ended.
struct Text {
    text: String,
    value: Value,
    finish_cut: bool,
}

fn answer(dialect: Dialect, call: &Call, fault: Option<&Fault>, cache: (u64, u64)) -> Outcome {
    let mut choices = Vec::new();
    for index in 0..call.choices {
        let seed = if index == 0 {
            call.seed
        } else {
            let mut h = Sha256::new();
            h.update(call.seed);
            h.update((index as u64).to_le_bytes());
            h.finalize().into()
        };
        choices.push(choice_value(call, &seed, fault));
    }
    let id_hash = hex(&call.seed[..12]);
    match dialect {
        Dialect::OpenAi => openai_answer(call, fault, cache, &id_hash, choices),
        Dialect::Anthropic => anthropic_answer(call, fault, cache, &id_hash, choices.remove(0)),
    }
}

/// The generated value of one choice, with the content faults applied.
fn choice_value(
    call: &Call,
    seed: &[u8; 32],
    fault: Option<&Fault>,
) -> (Value, Option<&'static str>) {
    match &call.target {
        Target::Text => (Value::String(sentence(seed)), None),
        Target::JsonObject => (json!({"answer": sentence(seed)}), None),
        Target::Schema { schema, .. } => {
            let mut value = instance(schema, schema, seed, "", 0);
            let broke = match fault {
                Some(Fault::MissingRequired) => remove_first_required(schema, &mut value),
                Some(Fault::WrongType) => break_first_leaf(schema, schema, &mut value, 0),
                _ => false,
            };
            (value, if broke { Some("schema") } else { None })
        }
    }
}

fn sentence(seed: &[u8; 32]) -> String {
    const WORDS: [&str; 16] = [
        "calm", "steady", "clear", "brief", "kind", "plain", "exact", "quiet", "careful", "direct",
        "warm", "honest", "patient", "simple", "gentle", "firm",
    ];
    let w = |i: usize| WORDS[usize::from(seed[i]) % WORDS.len()];
    format!(
        "A {} and {} reply from the fake model ({}).",
        w(0),
        w(1),
        hex(&seed[..4])
    )
}

/// Cuts `text` to about `max_tokens` tokens, at a character boundary.
fn cut(text: &str, max_bytes: usize) -> String {
    let mut end = max_bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

fn final_text(call: &Call, value: &Value, fault: Option<&Fault>) -> Text {
    let full = match value {
        Value::String(s) if matches!(call.target, Target::Text) => s.clone(),
        v => serde_json::to_string(v).unwrap_or_default(),
    };
    if matches!(fault, Some(Fault::MaxTokens)) {
        return Text {
            text: cut(&full, full.len() / 2),
            value: value.clone(),
            finish_cut: true,
        };
    }
    if let Some(max) = call.max_tokens
        && tokens(full.len()) > max
    {
        return Text {
            text: cut(&full, (max as usize).saturating_mul(4)),
            value: value.clone(),
            finish_cut: true,
        };
    }
    if matches!(fault, Some(Fault::MalformedAnswer)) && !matches!(call.target, Target::Text) {
        // A trailing comma before the closing brace: JSON that a model
        // writes and a strict parser refuses.
        let mut text = full.clone();
        if text.ends_with('}') {
            text.pop();
            text.push_str(",}");
        } else {
            text.push(',');
        }
        return Text {
            text,
            value: value.clone(),
            finish_cut: false,
        };
    }
    Text {
        text: full,
        value: value.clone(),
        finish_cut: false,
    }
}

fn openai_answer(
    call: &Call,
    fault: Option<&Fault>,
    cache: (u64, u64),
    id_hash: &str,
    choices: Vec<(Value, Option<&'static str>)>,
) -> Outcome {
    let mut out = Vec::new();
    let mut completion_tokens = 0;
    let mut first: Option<(String, Option<Value>, bool)> = None;
    for (index, (value, _)) in choices.iter().enumerate() {
        let (message, finish, tokens_used, ok) = if matches!(fault, Some(Fault::Refusal)) {
            let refusal = "I'm sorry, but I can't help with that request.";
            (
                json!({"role": "assistant", "content": null, "refusal": refusal, "annotations": []}),
                "stop",
                tokens(refusal.len()),
                false,
            )
        } else {
            let t = final_text(call, value, fault);
            let used = if t.finish_cut {
                call.max_tokens
                    .unwrap_or(u64::MAX)
                    .min(tokens(t.text.len()).max(1))
            } else {
                tokens(t.text.len())
            };
            (
                json!({"role": "assistant", "content": t.text, "refusal": null, "annotations": []}),
                if t.finish_cut { "length" } else { "stop" },
                used,
                !t.finish_cut,
            )
        };
        completion_tokens += tokens_used;
        if first.is_none() {
            first = Some((finish.to_string(), ok.then(|| value.clone()), ok));
        }
        out.push(
            json!({"index": index, "message": message, "logprobs": null, "finish_reason": finish}),
        );
    }
    let cached = cache.0 / 128 * 128;
    let body = json!({
        "id": format!("chatcmpl-{id_hash}"),
        "object": "chat.completion",
        "created": FIXED_CREATED,
        "model": call.model,
        "choices": out,
        "usage": {
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": call.prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached.min(call.prompt_tokens), "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake"
    });
    let (finish, value, ok) = first.unwrap_or(("stop".into(), None, false));
    let schema_ok = choices.first().is_some_and(|(_, broke)| broke.is_none());
    Outcome {
        response: json_response(
            200,
            body,
            vec![
                ("x-request-id".into(), format!("req_{id_hash}")),
                ("openai-processing-ms".into(), "1".into()),
            ],
        ),
        finish: Some(finish),
        answer: value,
        succeeded: ok && schema_ok,
    }
}

fn anthropic_answer(
    call: &Call,
    fault: Option<&Fault>,
    cache: (u64, u64),
    id_hash: &str,
    choice: (Value, Option<&'static str>),
) -> Outcome {
    let (value, broke) = choice;
    let tool = match &call.target {
        Target::Schema {
            via: Via::Tool(name),
            ..
        } => Some(name.clone()),
        _ => None,
    };
    let (content, stop, output_tokens, ok): (Value, &str, u64, bool) = match fault {
        Some(Fault::Refusal) => (json!([]), "refusal", 1, false),
        Some(Fault::MalformedAnswer) if tool.is_some() => {
            // The model answers in prose instead of calling the tool.
            let text = format!("I think the answer is yes. {}", sentence(&call.seed));
            (
                json!([{"type": "text", "text": text}]),
                "end_turn",
                tokens(text.len()),
                false,
            )
        }
        _ => match &tool {
            Some(name) => {
                let full = serde_json::to_string(&value).unwrap_or_default();
                let cut_short = matches!(fault, Some(Fault::MaxTokens))
                    || call.max_tokens.is_some_and(|max| tokens(full.len()) > max);
                let input = if cut_short {
                    partial_object(&value)
                } else {
                    value.clone()
                };
                let block = json!({"type": "tool_use", "id": format!("toolu_{id_hash}"), "name": name, "input": input});
                let used = if cut_short {
                    call.max_tokens.unwrap_or(1).min(tokens(full.len()))
                } else {
                    tokens(full.len())
                };
                (
                    json!([block]),
                    if cut_short { "max_tokens" } else { "tool_use" },
                    used,
                    !cut_short,
                )
            }
            None => {
                let t = final_text(call, &value, fault);
                let used = if t.finish_cut {
                    call.max_tokens
                        .unwrap_or(1)
                        .min(tokens(t.text.len()).max(1))
                } else {
                    tokens(t.text.len())
                };
                let malformed = matches!(fault, Some(Fault::MalformedAnswer));
                (
                    json!([{"type": "text", "text": t.text}]),
                    if t.finish_cut {
                        "max_tokens"
                    } else {
                        "end_turn"
                    },
                    used,
                    !t.finish_cut && !malformed,
                )
            }
        },
    };
    let (read, written) = cache;
    let input_tokens = call.prompt_tokens.saturating_sub(read + written);
    let mut body = json!({
        "id": format!("msg_{id_hash}"),
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
            "output_tokens": output_tokens,
            "service_tier": "standard"
        }
    });
    if stop == "refusal" {
        body["stop_details"] = json!({"type": "refusal", "explanation": "The request was declined (a fault of the fake server)."});
    }
    Outcome {
        response: json_response(
            200,
            body,
            vec![("request-id".into(), format!("req_{id_hash}"))],
        ),
        finish: Some(stop.to_string()),
        answer: ok.then_some(value),
        succeeded: ok && broke.is_none(),
    }
}

/// The first half of an object's properties (for a tool call cut off by
/// the token limit): a valid object, not a valid answer.
fn partial_object(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let keep = map.len() / 2;
            Value::Object(
                map.iter()
                    .take(keep)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        }
        _ => json!({}),
    }
}

// ===========================================================================
// Instances of a JSON Schema
// ===========================================================================

const MAX_DEPTH: usize = 24;

/// A 64-bit choice for the property at `path` of the conversation `seed`.
fn pick(seed: &[u8; 32], path: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(path.as_bytes());
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// Follows a local `$ref` (`#`, `#/$defs/X`, any JSON pointer into the
/// root); other keywords beside it are kept over the target's.
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> std::borrow::Cow<'a, Value> {
    let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
        return std::borrow::Cow::Borrowed(schema);
    };
    let target = match reference.strip_prefix('#') {
        Some("") => Some(root),
        Some(pointer) => root.pointer(pointer),
        None => None,
    };
    match (target, schema.as_object()) {
        (Some(target), Some(siblings)) if siblings.len() > 1 => {
            let mut merged = target.as_object().cloned().unwrap_or_default();
            for (k, v) in siblings.iter().filter(|(k, _)| *k != "$ref") {
                merged.insert(k.clone(), v.clone());
            }
            std::borrow::Cow::Owned(Value::Object(merged))
        }
        (Some(target), _) => std::borrow::Cow::Borrowed(target),
        (None, _) => std::borrow::Cow::Owned(json!({})),
    }
}

/// `allOf` folded into one schema: properties and `required` joined, other
/// keywords from the first that has them.
fn merge_all_of(schema: &Value, root: &Value) -> Value {
    let mut merged: Map<String, Value> = schema.as_object().cloned().unwrap_or_default();
    let parts = merged.remove("allOf");
    for part in parts
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let part = resolve(part, root);
        let part = if part.get("allOf").is_some() {
            merge_all_of(&part, root)
        } else {
            part.into_owned()
        };
        let Some(part) = part.as_object() else {
            continue;
        };
        for (k, v) in part {
            match (k.as_str(), merged.get_mut(k)) {
                ("properties", Some(Value::Object(props))) => {
                    if let Some(more) = v.as_object() {
                        for (pk, pv) in more {
                            props.entry(pk.clone()).or_insert_with(|| pv.clone());
                        }
                    }
                }
                ("required", Some(Value::Array(req))) => {
                    for r in v.as_array().into_iter().flatten() {
                        if !req.contains(r) {
                            req.push(r.clone());
                        }
                    }
                }
                (_, Some(_)) => {}
                (_, None) => {
                    merged.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(merged)
}

fn types_of(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => {
            // No `type`: the keywords say what it is.
            if schema.get("properties").is_some() || schema.get("required").is_some() {
                vec!["object".into()]
            } else if schema.get("items").is_some() || schema.get("prefixItems").is_some() {
                vec!["array".into()]
            } else {
                vec!["string".into()]
            }
        }
    }
}

/// An instance of `schema` (inside `root`) for the conversation `seed`, at
/// `path` (`/S1/answer`). Honoured: `$ref`, `allOf`, `anyOf`, `oneOf`,
/// `const`, `enum`, `type` (one or several), `properties` (all of them, in
/// order) and `required`, `items`, `prefixItems`, `minItems`/`maxItems`,
/// `minLength`/`maxLength`, `minimum`/`maximum` (and exclusive), some
/// `format`s. Not honoured: `pattern`, `uniqueItems`, `multipleOf`,
/// `not`, conditionals.
pub fn instance(schema: &Value, root: &Value, seed: &[u8; 32], path: &str, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    match schema {
        Value::Bool(true) => return Value::String(format!("fake {}", hex(&seed[..4]))),
        Value::Bool(false) => return Value::Null,
        _ => {}
    }
    let schema = resolve(schema, root);
    let schema: std::borrow::Cow<Value> = if schema.get("allOf").is_some() {
        std::borrow::Cow::Owned(merge_all_of(&schema, root))
    } else {
        schema
    };
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(options) = schema
        .get("enum")
        .and_then(Value::as_array)
        .filter(|o| !o.is_empty())
    {
        return options[(pick(seed, path) % options.len() as u64) as usize].clone();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema
            .get(key)
            .and_then(Value::as_array)
            .filter(|b| !b.is_empty())
        {
            let branch =
                &branches[(pick(seed, &format!("{path}#{key}")) % branches.len() as u64) as usize];
            // Keywords beside anyOf (a description, say) stay out of the
            // branch; a branch is a whole schema.
            return instance(branch, root, seed, path, depth + 1);
        }
    }
    let types = types_of(&schema);
    let ty = if types.is_empty() {
        "string".to_string()
    } else {
        types[(pick(seed, &format!("{path}#type")) % types.len() as u64) as usize].clone()
    };
    let h = pick(seed, path);
    match ty.as_str() {
        "null" => Value::Null,
        "boolean" => Value::Bool(h & 1 == 1),
        "integer" | "number" => {
            let num = |k: &str| schema.get(k).and_then(Value::as_f64);
            let lo = num("minimum")
                .or(num("exclusiveMinimum").map(|x| x + 1.0))
                .unwrap_or(0.0);
            let hi = num("maximum")
                .or(num("exclusiveMaximum").map(|x| x - 1.0))
                .unwrap_or(lo + 100.0)
                .max(lo);
            if ty == "integer" {
                let (lo, hi) = (lo.ceil() as i64, hi.floor() as i64);
                let span = (hi - lo).max(0) as u64 + 1;
                json!(lo + (h % span) as i64)
            } else {
                json!(lo + (hi - lo) * ((h % 1001) as f64 / 1000.0))
            }
        }
        "string" => {
            let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .map(|m| m as usize);
            let mut s = match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => "2026-01-01T00:00:00Z".to_string(),
                Some("date") => "2026-01-01".to_string(),
                Some("time") => "00:00:00Z".to_string(),
                Some("email") => format!("fake{}@example.com", hex(&h.to_le_bytes()[..2])),
                Some("uri") | Some("url") => {
                    format!("https://example.com/{}", hex(&h.to_le_bytes()[..4]))
                }
                Some("uuid") => {
                    let b = h.to_le_bytes();
                    format!(
                        "{}-0000-4000-8000-{}000000000000",
                        hex(&b[..4]),
                        hex(&b[4..6])
                    )[..36]
                        .to_string()
                }
                _ => {
                    let label = if path.is_empty() {
                        "answer"
                    } else {
                        path.trim_start_matches('/')
                    };
                    format!("fake {label} {}", hex(&h.to_le_bytes()[..4]))
                }
            };
            while s.chars().count() < min {
                s.push('.');
            }
            if let Some(max) = max {
                s = s.chars().take(max).collect();
            }
            Value::String(s)
        }
        "array" => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .map(|m| m as usize)
                .unwrap_or(min + 3);
            let prefix = schema.get("prefixItems").and_then(Value::as_array);
            let count = (1 + (h % 3) as usize).clamp(min, max.max(min));
            let items = schema.get("items");
            let mut out = Vec::with_capacity(count);
            for i in 0..count {
                let sub = prefix.and_then(|p| p.get(i)).or(items);
                let item_path = format!("{path}/{i}");
                out.push(match sub {
                    Some(sub) => instance(sub, root, seed, &item_path, depth + 1),
                    None => Value::String(format!(
                        "fake {}",
                        hex(&pick(seed, &item_path).to_le_bytes()[..4])
                    )),
                });
            }
            Value::Array(out)
        }
        _ => {
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    out.insert(
                        name.clone(),
                        instance(sub, root, seed, &format!("{path}/{name}"), depth + 1),
                    );
                }
            }
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = name.as_str()
                    && !out.contains_key(name)
                {
                    out.insert(
                        name.to_string(),
                        Value::String(format!("fake {}", hex(&h.to_le_bytes()[..4]))),
                    );
                }
            }
            Value::Object(out)
        }
    }
}

/// Removes the first property of `schema`'s `required` from the answer.
fn remove_first_required(schema: &Value, value: &mut Value) -> bool {
    let first = schema
        .get("required")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(Value::as_str)
        .or_else(|| {
            schema
                .get("properties")
                .and_then(Value::as_object)
                .and_then(|p| p.keys().next())
                .map(String::as_str)
        });
    match (first, value.as_object_mut()) {
        (Some(name), Some(map)) => map.shift_remove(name).is_some(),
        _ => false,
    }
}

/// Replaces the first leaf (following first properties and items) with a
/// value its schema does not allow.
fn break_first_leaf(schema: &Value, root: &Value, value: &mut Value, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let schema = resolve(schema, root).into_owned();
    match value {
        Value::Object(map) if !map.is_empty() => {
            let Some(first) = map.keys().next().cloned() else {
                return false;
            };
            let sub = schema
                .pointer(&format!(
                    "/properties/{}",
                    first.replace('~', "~0").replace('/', "~1")
                ))
                .cloned()
                .unwrap_or(json!({}));
            let child = map.get_mut(&first).expect("the first key is there");
            break_first_leaf(&sub, root, child, depth + 1)
        }
        Value::Array(items) if !items.is_empty() => {
            let sub = schema.get("items").cloned().unwrap_or(json!({}));
            break_first_leaf(&sub, root, &mut items[0], depth + 1)
        }
        _ => {
            let candidates = [
                json!("yes"),
                json!(42),
                json!(true),
                json!(null),
                json!([]),
                json!({}),
            ];
            for c in candidates {
                if !allows(&schema, root, &c, 0) {
                    *value = c;
                    return true;
                }
            }
            false
        }
    }
}

/// Whether `value`'s type (and `enum`/`const`) fits `schema`: enough to
/// pick a value of the wrong type, not a validator.
fn allows(schema: &Value, root: &Value, value: &Value, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    let schema = resolve(schema, root);
    match schema.as_ref() {
        Value::Bool(b) => return *b,
        Value::Object(m) if m.is_empty() => return true,
        _ => {}
    }
    if let Some(c) = schema.get("const") {
        return c == value;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        return options.contains(value);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            return branches.iter().any(|b| allows(b, root, value, depth + 1));
        }
    }
    if schema.get("type").is_none() {
        return true;
    }
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    types_of(&schema)
        .iter()
        .any(|t| t == actual || (t == "number" && actual == "integer"))
}

// ===========================================================================
// Small formats
// ===========================================================================

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn split_time(t: SystemTime) -> (i64, u32, u32, u64, u64, u64, u64) {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil(days);
    let rem = secs % 86_400;
    // 1970-01-01 was a Thursday (4 with Sunday as 0).
    let weekday = (days + 4).rem_euclid(7) as u64;
    (y, m, d, rem / 3600, rem / 60 % 60, rem % 60, weekday)
}

/// An IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, hh, mm, ss, wd) = split_time(t);
    format!(
        "{}, {d:02} {} {y:04} {hh:02}:{mm:02}:{ss:02} GMT",
        DAYS[wd as usize],
        MONTHS[(m - 1) as usize]
    )
}

/// RFC 3339 in UTC, whole seconds: `2026-12-01T21:58:31Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let (y, m, d, hh, mm, ss, _) = split_time(t);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// A duration the way OpenAI's reset headers write it (Go's
/// `time.Duration`): `20ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`.
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m, s_ms) = (ms / 3_600_000, ms / 60_000 % 60, ms % 60_000);
    let s = if s_ms % 1000 == 0 {
        format!("{}", s_ms / 1000)
    } else {
        format!("{}.{:03}", s_ms / 1000, s_ms % 1000)
            .trim_end_matches('0')
            .to_string()
    };
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}
