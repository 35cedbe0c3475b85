//! The engine: runs a plan of model calls reliably and cheaply, knowing
//! nothing about rubrics.
//!
//! In: [`Target`]s (a model, its dialect, limits, prices and retry
//! policy), a stream of [`Job`]s (a request for one target, with the flow's
//! label for it) and the flow's check of an answer ([`Accept`]). Out: every
//! finished call in the run's [`Journal`] (read back by key when the flow
//! writes its outputs) and a [`Report`].
//!
//! For each job, in order: a key already in the journal is finished (a
//! resumed run never sends it again); a key in the cache is answered from
//! it and journaled; otherwise the call waits for a place in its model's
//! [`limiter::Gate`] and for its token buckets, is sent, and is retried as
//! [`retry::RetryPolicy`] says on 429, 5xx, timeouts and resets. An answer
//! that came back but cannot be used (refused, cut off, not JSON, against
//! the schema) is asked again a few times, then finished as ERROR with its
//! class and raw text. An exhausted quota or an error retrying cannot fix
//! (400, 401, 404) stops the run: no new calls start, the ones in flight
//! finish and are journaled. So does Ctrl-C (a second one exits at once)
//! and `--max-cost`, which stops before the spent cost, the calls in flight
//! counted at their most, would pass it.
//!
//! Calls run on one thread (a current-thread tokio runtime): the work per
//! call is building a body and reading a short answer, and one thread keeps
//! hundreds in flight. Journal lines are written on a thread of their own
//! ([`store::Writer`]), so an `fsync` never stalls the calls.

pub mod cost;
pub mod key;
pub mod limiter;
pub mod progress;
pub mod retry;
pub mod store;

use crate::llm::chat::{ChatRequest, ChatResponse, Finish};
use crate::llm::config::{Limits, Model, Prices, Retries, Secret};
use crate::llm::provider::{Dialect, Endpoint, ProviderError};
use key::{CallKey, KeyMemo, call_key_with};
use limiter::{Gate, Limiter};
use progress::{Counters, Progress};
use retry::{RetryPolicy, Rng};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{Cache, CacheMode, Entry, Journal, Source, Unusable, UnusableDetail, Writer};

/// `text` with every occurrence of `key` replaced by `***`: provider
/// messages can echo the key they were sent ("Incorrect API key provided:
/// sk-..."), and nothing shown or journaled may hold it.
pub fn scrub(key: Option<&Secret>, text: &str) -> String {
    match key {
        Some(key) if key.expose().len() >= 4 => text.replace(key.expose(), "***"),
        _ => text.to_string(),
    }
}

/// One model, as the engine calls it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The configured name of the model: the judge's name in outputs.
    pub id: String,
    pub dialect: &'static dyn Dialect,
    pub endpoint: Endpoint,
    /// Read from the environment when the run starts; see
    /// [`crate::llm::config::Secret`].
    pub api_key: Option<Secret>,
    /// For one attempt, the answer's last byte included.
    pub timeout: Duration,
    pub limits: Limits,
    /// `None` when the configuration gives no prices: the cost is then
    /// unknown, and `--max-cost` refuses to run.
    pub prices: Option<Prices>,
    pub retry: RetryPolicy,
}

impl Target {
    /// The target of a configured model, with its key.
    pub fn from_model(model: &Model, retries: &Retries, api_key: Option<Secret>) -> Target {
        Target {
            id: model.id.clone(),
            dialect: crate::llm::provider::dialect(model.dialect),
            endpoint: Endpoint {
                base_url: model.base_url.trim_end_matches('/').to_string(),
                model: model.model.clone(),
                sampling: model.sampling.clone(),
                structured: model.structured_output,
            },
            api_key,
            timeout: model.timeout,
            limits: model.limits.clone(),
            prices: model.prices.clone(),
            retry: RetryPolicy {
                max_attempts: retries.max_attempts.max(1),
                max_elapsed: retries.max_elapsed,
                unusable_retries: retries.unusable_retries,
                ..RetryPolicy::default()
            },
        }
    }
}

impl std::fmt::Debug for dyn Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One call of a plan.
#[derive(Debug, Clone)]
pub struct Job {
    /// The flow's label, for messages: `conv-7 / S1 / sample 0`.
    pub tag: String,
    /// Index of its model among the engine's targets.
    pub target: usize,
    pub request: ChatRequest,
}

/// The flow's check of an answer: `Ok` when it can be used, else why not.
pub type Accept =
    dyn Fn(&ChatRequest, &ChatResponse) -> Result<(), (Unusable, String)> + Send + Sync;

/// What a [`JobSource`] has for the engine now.
pub enum Next {
    /// A job to run, with the source's token for it.
    Job(u64, Job),
    /// Nothing until a call in flight finishes.
    Wait,
    /// The plan is over.
    Done,
}

/// Where a run's jobs come from. A plan known in advance is an iterator
/// ([`Engine::run`]); a plan whose next call depends on an answer (a
/// conversation's next turn is written once its last turn is answered)
/// implements this, and hears of each finished call.
///
/// The engine asks for jobs until the source says [`Next::Wait`] (or its
/// bound of calls held is reached), then waits for a call to finish and
/// reports it. A call already in the journal is reported at once, with its
/// answer read back, so a resumed run replays what it paid for and sends
/// only what comes after.
pub trait JobSource {
    fn next(&mut self) -> Next;
    /// The job of `token` is finished: its journal line, or `None` when
    /// it was left unfinished (the run stopped, or every retry failed).
    fn finished(&mut self, token: u64, entry: Option<Box<Entry>>);
    /// Whether [`JobSource::finished`] needs the entries: calls already in
    /// the journal are then read back.
    fn wants_answers(&self) -> bool {
        true
    }
}

/// A plan known in advance.
struct Fixed<I>(I, u64);

impl<I: Iterator<Item = Job>> JobSource for Fixed<I> {
    fn next(&mut self) -> Next {
        match self.0.next() {
            Some(job) => {
                self.1 += 1;
                Next::Job(self.1, job)
            }
            None => Next::Done,
        }
    }

    fn finished(&mut self, _: u64, _: Option<Box<Entry>>) {}

    fn wants_answers(&self) -> bool {
        false
    }
}

/// Why a run stopped before its plan was done.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The account's quota or credit is used up.
    QuotaExhausted { model: String, message: String },
    /// The provider refused a call in a way retrying cannot fix.
    Fatal {
        model: String,
        status: u16,
        message: String,
    },
    /// Calls to a model kept failing after every retry.
    Failing { model: String, message: String },
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// The next call could have passed `--max-cost`.
    MaxCost { limit: f64 },
    /// The journal could not be written: nothing more can count.
    Journal(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::QuotaExhausted { model, message } => {
                write!(f, "the quota or credit of `{model}` is used up: {message}")
            }
            Stop::Fatal {
                model,
                status,
                message,
            } => write!(f, "`{model}` refused a call (HTTP {status}): {message}"),
            Stop::Failing { model, message } => write!(
                f,
                "calls to `{model}` keep failing after every retry: {message}"
            ),
            Stop::Interrupted => f.write_str("interrupted"),
            Stop::MaxCost { limit } => write!(
                f,
                "the next call could take the cost past --max-cost ${limit:.4}"
            ),
            Stop::Journal(e) => write!(f, "the journal cannot be written: {e}"),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    pub counters: Counters,
    /// What each target used and cost, in the engine's order of targets
    /// (the cost `None` when its prices are not configured).
    pub by_target: Vec<(crate::llm::chat::Usage, Option<f64>)>,
    pub stop: Option<Stop>,
    /// Calls left unfinished: not started after a stop, or given up after
    /// every retry. A run of the same plan sends them.
    pub unfinished: u64,
}

/// Settings of one run that are not a model's.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Shown before the progress figures: `judge`.
    pub label: String,
    /// Calls in the plan, for progress.
    pub total: u64,
    pub cache: CacheMode,
    pub max_cost: Option<f64>,
    pub quiet: bool,
}

/// Calls given up after every retry, in a row, before a model is taken
/// for down and the run stops.
const FAILURES_TO_STOP: u32 = 3;

/// The engine's view of one target while a run goes.
struct Live {
    target: Target,
    gate: Gate,
    limiter: Limiter,
    failures_in_a_row: Mutex<u32>,
    /// What its answers used and cost.
    spent: Mutex<(crate::llm::chat::Usage, f64)>,
}

/// What every call of a run shares.
struct Shared {
    client: reqwest::Client,
    writer: Writer,
    accept: Arc<Accept>,
    counters: Mutex<Counters>,
    stop: Mutex<Option<Stop>>,
    stopped: tokio::sync::Notify,
    progress: Progress,
    /// Cost spent, and cost reserved by calls in flight (at their most).
    spend: Mutex<(f64, f64)>,
    max_cost: Option<f64>,
    write_cache: bool,
}

impl Shared {
    fn is_stopped(&self) -> bool {
        lock(&self.stop).is_some()
    }

    fn stop(&self, why: Stop) {
        let mut stop = lock(&self.stop);
        if stop.is_none() {
            *stop = Some(why);
            drop(stop);
            self.stopped.notify_waiters();
        }
    }

    fn count(&self, change: impl FnOnce(&mut Counters)) {
        let mut counters = lock(&self.counters);
        change(&mut counters);
        self.progress.update(&counters);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How a job's task ended.
enum TaskEnd {
    /// Its line is in the journal at this offset.
    Journaled([u8; 32], u64, Box<Entry>),
    /// Not finished: not started after a stop, or given up.
    Unfinished,
}

/// The engine of one process.
pub struct Engine {
    targets: Vec<Target>,
    keys: KeyMemo,
}

impl Engine {
    pub fn new(targets: Vec<Target>) -> Engine {
        Engine {
            targets,
            keys: KeyMemo::default(),
        }
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The key of a job: what the journal and the cache know it by.
    pub fn key(&self, job: &Job) -> CallKey {
        call_key_with(&self.targets[job.target], &job.request, &self.keys)
    }

    /// Runs `jobs` to the end, or until something stops the run. Blocks
    /// the calling thread on a runtime of its own.
    pub fn run(
        &self,
        journal: &mut Journal,
        jobs: impl Iterator<Item = Job>,
        accept: Arc<Accept>,
        settings: &RunSettings,
    ) -> Result<Report, String> {
        self.run_source(journal, &mut Fixed(jobs, 0), accept, settings)
    }

    /// Runs a [`JobSource`] of calls, whose jobs may depend on the answers to
    /// earlier ones (a conversation's next turn), to its end or until
    /// something stops the run. Blocks the calling thread on a runtime of
    /// its own.
    pub fn run_source(
        &self,
        journal: &mut Journal,
        source: &mut dyn JobSource,
        accept: Arc<Accept>,
        settings: &RunSettings,
    ) -> Result<Report, String> {
        let unpriced = self.targets.iter().find(|t| t.prices.is_none());
        if let (Some(limit), Some(t)) = (settings.max_cost, unpriced) {
            return Err(format!(
                "--max-cost ${limit} needs the prices of `{}`: set `input` and `output` under [models.{}.prices] in ftprep.toml",
                t.id, t.id
            ));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the network runtime: {e}"))?;
        runtime.block_on(self.run_on_runtime(journal, source, accept, settings))
    }

    async fn run_on_runtime(
        &self,
        journal: &mut Journal,
        source: &mut dyn JobSource,
        accept: Arc<Accept>,
        settings: &RunSettings,
    ) -> Result<Report, String> {
        install_tls_provider();
        let max_concurrency: usize = self
            .targets
            .iter()
            .map(|t| t.limits.concurrency.max(1) as usize)
            .sum();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(max_concurrency)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let cache_path = settings.cache.path.as_deref();
        let write_cache = settings.cache.write && cache_path.is_some();
        let writer = Writer::start(journal.path(), cache_path.filter(|_| settings.cache.write))
            .map_err(|e| format!("cannot write the journal {}: {e}", journal.path().display()))?;
        // A cache that cannot be opened costs reuse, not the run.
        let cache = match cache_path.filter(|_| settings.cache.read) {
            Some(path) => match Cache::open(path) {
                Ok(cache) => Some(cache),
                Err(e) => {
                    eprintln!("warning: {e}; running without the cache");
                    None
                }
            },
            None => None,
        };
        let shared = Arc::new(Shared {
            client,
            writer,
            accept,
            counters: Mutex::new(Counters {
                total: settings.total,
                cost: Some(0.0),
                ..Counters::default()
            }),
            stop: Mutex::new(None),
            stopped: tokio::sync::Notify::new(),
            progress: Progress::new(&settings.label, settings.total, settings.quiet),
            spend: Mutex::new((0.0, 0.0)),
            max_cost: settings.max_cost,
            write_cache,
        });
        let live: Vec<Arc<Live>> = self
            .targets
            .iter()
            .map(|t| {
                Arc::new(Live {
                    gate: Gate::new(t.limits.concurrency as usize),
                    limiter: Limiter::new(&t.limits),
                    target: t.clone(),
                    failures_in_a_row: Mutex::new(0),
                    spent: Mutex::new(Default::default()),
                })
            })
            .collect();
        let watcher = tokio::spawn(watch_signals(Arc::clone(&shared)));

        // Tasks waiting for a place count against this bound too, so the
        // jobs held in memory stay few however long the plan.
        let most_pending = max_concurrency * 2 + 16;
        let mut tasks = tokio::task::JoinSet::new();
        let mut unfinished = 0u64;
        let mut seed = Rng::from_entropy();
        let wants_answers = source.wants_answers();
        loop {
            if tasks.len() >= most_pending {
                if let Some(end) = tasks.join_next().await {
                    settle(end, journal, &mut unfinished, &shared, source);
                }
                continue;
            }
            let (token, job) = match source.next() {
                Next::Job(token, job) => (token, job),
                Next::Wait => match tasks.join_next().await {
                    Some(end) => {
                        settle(end, journal, &mut unfinished, &shared, source);
                        continue;
                    }
                    // Nothing in flight can answer what the source waits
                    // for: its plan is over.
                    None => break,
                },
                Next::Done => break,
            };
            if shared.is_stopped() {
                unfinished += 1;
                source.finished(token, None);
                continue;
            }
            let target = &live[job.target];
            let key = call_key_with(&target.target, &job.request, &self.keys);
            if journal.contains(&key.key) {
                shared.count(|c| {
                    c.done += 1;
                    c.from_journal += 1;
                });
                let entry = if wants_answers {
                    match journal.reader().and_then(|mut r| r.get(&key.key)) {
                        Ok(entry) => entry,
                        Err(e) => {
                            shared.stop(Stop::Journal(format!("cannot read it back: {e}")));
                            None
                        }
                    }
                } else {
                    None
                };
                source.finished(token, entry.map(Box::new));
                continue;
            }
            let cached = cache
                .as_ref()
                .and_then(|c| c.get(&key.key))
                .filter(|response| (shared.accept)(&job.request, response).is_ok());
            match cached {
                Some(response) => {
                    let entry = Entry {
                        key: key.hex(),
                        tag: job.tag.clone(),
                        model: target.target.id.clone(),
                        source: Source::Cache,
                        attempts: 0,
                        latency_ms: 0,
                        response,
                        unusable: None,
                    };
                    let written = shared.writer.append(&key, &entry, false);
                    let shared = Arc::clone(&shared);
                    tasks.spawn(async move {
                        let end = journaled(&shared, key.key, written, entry).await;
                        shared.count(|c| {
                            c.done += 1;
                            c.from_cache += 1;
                        });
                        (token, end)
                    });
                }
                None => {
                    let rng = Rng::seeded(seed.next_u64());
                    let call = call(Arc::clone(&shared), Arc::clone(target), job, key, rng);
                    tasks.spawn(async move { (token, call.await) });
                }
            }
        }
        while let Some(end) = tasks.join_next().await {
            settle(end, journal, &mut unfinished, &shared, source);
        }
        watcher.abort();
        // An aborted task lets go of what it holds only once awaited.
        let _ = watcher.await;
        let shared = Arc::into_inner(shared).ok_or("a call outlived its run")?;
        shared.writer.finish();
        let counters = lock(&shared.counters).clone();
        shared.progress.finish(&counters);
        let stop = lock(&shared.stop).clone();
        let by_target = live
            .iter()
            .map(|l| {
                let (usage, cost) = *lock(&l.spent);
                (usage, l.target.prices.as_ref().map(|_| cost))
            })
            .collect();
        Ok(Report {
            counters,
            by_target,
            stop,
            unfinished,
        })
    }
}

/// Records a finished task's journal line in the index, and tells the
/// source.
fn settle(
    end: Result<(u64, TaskEnd), tokio::task::JoinError>,
    journal: &mut Journal,
    unfinished: &mut u64,
    shared: &Shared,
    source: &mut dyn JobSource,
) {
    match end {
        Ok((token, TaskEnd::Journaled(key, offset, entry))) => {
            journal.record(key, offset);
            source.finished(token, Some(entry));
        }
        Ok((token, TaskEnd::Unfinished)) => {
            *unfinished += 1;
            source.finished(token, None);
        }
        Err(e) => {
            // The token went down with the task: the source never hears
            // of it, and the stop ends the run.
            *unfinished += 1;
            shared.stop(Stop::Journal(format!("a call's task failed: {e}")));
        }
    }
}

/// Waits for a journal line to be on disk.
async fn journaled(
    shared: &Shared,
    key: [u8; 32],
    written: tokio::sync::oneshot::Receiver<std::io::Result<u64>>,
    entry: Entry,
) -> TaskEnd {
    match written.await {
        Ok(Ok(offset)) => TaskEnd::Journaled(key, offset, Box::new(entry)),
        Ok(Err(e)) => {
            shared.stop(Stop::Journal(e.to_string()));
            TaskEnd::Unfinished
        }
        Err(_) => {
            shared.stop(Stop::Journal("the journal's writer stopped".into()));
            TaskEnd::Unfinished
        }
    }
}

/// Ctrl-C or SIGTERM stops the run cleanly; a second one exits at once.
async fn watch_signals(shared: Arc<Shared>) {
    let first = signal_received().await;
    if !first {
        return;
    }
    shared.progress.note(
        "stopping: the calls in flight finish and are saved; press Ctrl-C again to quit at once",
    );
    shared.stop(Stop::Interrupted);
    if signal_received().await {
        shared
            .progress
            .note("quit: calls in flight were not saved; run the same command to resume");
        std::process::exit(130);
    }
}

async fn signal_received() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.is_ok(),
            r = term.recv() => r.is_some(),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// rustls needs a crypto provider chosen once per process: ring, which
/// builds without cmake (see Cargo.toml).
fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// What one attempt came back with.
enum Attempt {
    Answer(ChatResponse),
    Unusable(Unusable, String, ChatResponse),
    Retry {
        asked: Option<Duration>,
        why: String,
        rate_limited: bool,
    },
    Stop(Stop),
}

/// One job, from its place in the gate to its journal line.
async fn call(
    shared: Arc<Shared>,
    live: Arc<Live>,
    job: Job,
    key: CallKey,
    mut rng: Rng,
) -> TaskEnd {
    let target = &live.target;
    let place = live.gate.enter().await;
    if shared.is_stopped() {
        return TaskEnd::Unfinished;
    }
    let estimated_input = cost::estimate(&job.request);
    let max_output = u64::from(target.endpoint.sampling.max_tokens);
    // The most this call can add to the cost, held until it is known.
    let ceiling = cost::ceiling(target.prices.as_ref(), estimated_input, max_output).unwrap_or(0.0);
    if let Some(limit) = shared.max_cost {
        let mut spend = lock(&shared.spend);
        if spend.0 + spend.1 + ceiling > limit {
            drop(spend);
            shared.stop(Stop::MaxCost { limit });
            return TaskEnd::Unfinished;
        }
        spend.1 += ceiling;
    }
    let end = attempts(
        &shared,
        &live,
        &job,
        &key,
        estimated_input,
        max_output,
        &mut rng,
    )
    .await;
    lock(&shared.spend).1 -= ceiling;
    // The place bounds requests at the provider; waiting for the journal's
    // fsync is not one, so another call may use it meanwhile.
    drop(place);
    match end {
        Ended::Unfinished => TaskEnd::Unfinished,
        Ended::Answered {
            key,
            written,
            entry,
        } => {
            let end = journaled(&shared, key, written, *entry).await;
            shared.count(|c| c.done += 1);
            end
        }
    }
}

/// How a call's attempts ended: an answer on its way to the journal, or
/// nothing to journal.
enum Ended {
    Answered {
        key: [u8; 32],
        written: tokio::sync::oneshot::Receiver<std::io::Result<u64>>,
        entry: Box<Entry>,
    },
    Unfinished,
}

async fn attempts(
    shared: &Shared,
    live: &Live,
    job: &Job,
    key: &CallKey,
    estimated_input: u64,
    max_output: u64,
    rng: &mut Rng,
) -> Ended {
    let target = &live.target;
    let policy = &target.retry;
    let wire = target.dialect.request(&target.endpoint, &job.request);
    let first = Instant::now();
    let mut tries = 0u32;
    let mut unusable_tries: Vec<(Unusable, u32)> = Vec::new();
    loop {
        tries += 1;
        live.limiter.take(estimated_input, max_output).await;
        if shared.is_stopped() {
            return Ended::Unfinished;
        }
        let sent = Instant::now();
        let outcome = attempt(shared, live, &wire, job, estimated_input, max_output).await;
        let latency_ms = sent.elapsed().as_millis() as u64;
        let (retry_after, why, rate_limited) = match outcome {
            Attempt::Answer(response) => {
                live.gate.success();
                *lock(&live.failures_in_a_row) = 0;
                return finish(shared, live, job, key, response, None, tries, latency_ms);
            }
            Attempt::Unusable(class, detail, response) => {
                let count = match unusable_tries.iter_mut().find(|(c, _)| *c == class) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        unusable_tries.push((class, 1));
                        1
                    }
                };
                if count > policy.unusable_retries || tries >= policy.max_attempts {
                    let detail = UnusableDetail { class, detail };
                    shared.count(|c| c.unusable += 1);
                    return finish(
                        shared,
                        live,
                        job,
                        key,
                        response,
                        Some(detail),
                        tries,
                        latency_ms,
                    );
                }
                (None, format!("{}: {detail}", class.as_str()), false)
            }
            Attempt::Retry {
                asked,
                why,
                rate_limited,
            } => (asked, why, rate_limited),
            Attempt::Stop(stop) => {
                shared.stop(stop);
                return Ended::Unfinished;
            }
        };
        if rate_limited {
            live.gate.rate_limited();
        }
        let wait = policy.backoff(tries, retry_after, rng);
        if tries >= policy.max_attempts || first.elapsed() + wait > policy.max_elapsed {
            let mut failures = lock(&live.failures_in_a_row);
            *failures += 1;
            if *failures >= FAILURES_TO_STOP {
                drop(failures);
                shared.stop(Stop::Failing {
                    model: target.id.clone(),
                    message: why.clone(),
                });
            }
            shared.progress.note(&format!(
                "gave up on {} after {tries} attempts: {why} (a run of the same command tries it again)",
                job.tag
            ));
            return Ended::Unfinished;
        }
        shared.count(|c| c.retries += 1);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.stopped.notified() => return Ended::Unfinished,
        }
    }
}

/// Sends one attempt and reads what came back.
async fn attempt(
    shared: &Shared,
    live: &Live,
    wire: &crate::llm::provider::WireRequest,
    job: &Job,
    estimated_input: u64,
    max_output: u64,
) -> Attempt {
    let target = &live.target;
    let scrub = |text: &str| scrub(target.api_key.as_ref(), text);
    let mut request = shared
        .client
        .post(&wire.url)
        .timeout(target.timeout)
        .body(wire.body.clone());
    for (name, value) in &wire.headers {
        request = request.header(*name, value.as_str());
    }
    if let Some(key) = &target.api_key {
        let (name, value) = target.dialect.auth_header(key.expose());
        match reqwest::header::HeaderValue::from_str(&value) {
            Ok(mut value) => {
                value.set_sensitive(true);
                request = request.header(name, value);
            }
            Err(_) => {
                return Attempt::Stop(Stop::Fatal {
                    model: target.id.clone(),
                    status: 0,
                    message: "the API key holds characters a header cannot carry".into(),
                });
            }
        }
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            return Attempt::Retry {
                asked: None,
                why: scrub(&describe(&e)),
                rate_limited: false,
            };
        }
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    live.limiter.observe(&target.dialect.rate_limits(&headers));
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(e) => {
            return Attempt::Retry {
                asked: None,
                why: scrub(&format!("the answer was cut off: {}", describe(&e))),
                rate_limited: false,
            };
        }
    };
    if !(200..300).contains(&status) {
        return match target.dialect.error(status, &headers, &body) {
            ProviderError::RateLimited {
                retry_after,
                message,
            } => Attempt::Retry {
                asked: retry_after,
                why: scrub(&format!("HTTP 429: {message}")),
                rate_limited: true,
            },
            ProviderError::Transient {
                status,
                retry_after,
                message,
            } => Attempt::Retry {
                asked: retry_after,
                why: scrub(&format!("HTTP {status}: {message}")),
                rate_limited: false,
            },
            ProviderError::QuotaExhausted { message } => Attempt::Stop(Stop::QuotaExhausted {
                model: target.id.clone(),
                message: scrub(&message),
            }),
            ProviderError::Fatal { status, message } => Attempt::Stop(Stop::Fatal {
                model: target.id.clone(),
                status,
                message: scrub(&message),
            }),
        };
    }
    let response = match target.dialect.parse(&body) {
        Ok(response) => response,
        // A success whose body is not the provider's format (cut off by a
        // proxy, say) is sent again like a broken connection; that it was
        // billed is unlikely, and the answer cannot be read either way.
        Err(malformed) => {
            return Attempt::Retry {
                asked: None,
                why: scrub(&format!(
                    "HTTP {status} with a body that is not a {} answer: {}",
                    target.dialect.name(),
                    malformed.reason
                )),
                rate_limited: false,
            };
        }
    };
    // Paid for, whatever it says.
    live.limiter.settle(
        estimated_input,
        response.usage.input_tokens,
        max_output,
        response.usage.output_tokens,
    );
    let cost = cost::cost(target.prices.as_ref(), &response.usage);
    lock(&shared.spend).0 += cost.unwrap_or(0.0);
    {
        let mut spent = lock(&live.spent);
        spent.0.add(response.usage);
        spent.1 += cost.unwrap_or(0.0);
    }
    shared.count(|c| {
        c.sent += 1;
        c.usage.add(response.usage);
        c.cost = match (c.cost, cost) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    });
    if response.finish == Finish::Refusal || response.refusal.is_some() {
        let detail = response
            .refusal
            .clone()
            .unwrap_or_else(|| "the model declined to answer".into());
        return Attempt::Unusable(Unusable::Refusal, detail, response);
    }
    if response.finish == Finish::Length {
        return Attempt::Unusable(
            Unusable::CutOff,
            format!(
                "the answer reached max_tokens ({max_output}) before it ended; raise max_tokens"
            ),
            response,
        );
    }
    match (shared.accept)(&job.request, &response) {
        Ok(()) => Attempt::Answer(response),
        Err((class, detail)) => Attempt::Unusable(class, detail, response),
    }
}

/// What a transport error was, in words.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the connection broke while the answer was read"
    } else {
        "the request failed"
    };
    let mut cause = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({cause})")
    }
}

/// Sends a finished call to the journal (and a usable answer to the
/// cache); the caller waits for it to be on disk.
#[allow(clippy::too_many_arguments)]
fn finish(
    shared: &Shared,
    live: &Live,
    job: &Job,
    key: &CallKey,
    response: ChatResponse,
    unusable: Option<UnusableDetail>,
    attempts: u32,
    latency_ms: u64,
) -> Ended {
    let entry = Entry {
        key: key.hex(),
        tag: job.tag.clone(),
        model: live.target.id.clone(),
        source: Source::Network,
        attempts,
        latency_ms,
        response,
        unusable,
    };
    let written = shared.writer.append(key, &entry, shared.write_cache);
    Ended::Answered {
        key: key.key,
        written,
        entry: Box::new(entry),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::llm::config::Sampling;
    use crate::llm::provider::{StructuredOutput, openai::OpenAi};

    /// A target on `base_url`, for tests of the engine's parts.
    pub fn target(base_url: &str) -> Target {
        Target {
            id: "test".into(),
            dialect: &OpenAi,
            endpoint: Endpoint {
                base_url: base_url.trim_end_matches('/').into(),
                model: "m".into(),
                sampling: Sampling {
                    temperature: Some(0.0),
                    top_p: None,
                    max_tokens: 256,
                    seed: None,
                    stop: Vec::new(),
                },
                structured: StructuredOutput::JsonSchema,
            },
            api_key: Some(Secret::new("sk-test-secret")),
            timeout: Duration::from_secs(5),
            limits: Limits::default(),
            prices: None,
            retry: RetryPolicy::default(),
        }
    }

    #[test]
    fn a_key_is_scrubbed_from_messages() {
        let key = Secret::new("sk-live-abcdef");
        assert_eq!(
            scrub(Some(&key), "Incorrect API key provided: sk-live-abcdef."),
            "Incorrect API key provided: ***."
        );
        assert_eq!(scrub(None, "no key"), "no key");
    }
}
