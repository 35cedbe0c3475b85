//! The generation benchmark: `ftprep generate` in simulate mode against a
//! loopback provider that answers 100 ms after each request, at
//! concurrency 64, against the ideal wall time.
//!
//! Each conversation is a chain: the simulated user's message, then the
//! assistant's reply, exchange after exchange, every call waiting for the
//! one before it. The ideal is the larger of the chain's length
//! (2 × exchanges × latency) and the throughput bound (calls / concurrency
//! × latency); the engine reaches it only if it keeps every place of the
//! gate busy while conversations wait for their next turn.
//!
//! ```text
//! cargo bench --bench generate                       # 500 conversations of 4 exchanges
//! cargo bench --bench generate -- --n 1000 --exchanges 8
//! ```
//!
//! The server is `tests/support/llm_server.rs` in this process; `ftprep`
//! (the release build, `target/release/ftprep`) runs as a child, so its
//! wall time is the command's as a user would see it. A run counts only if
//! the server answered every call once.

#[path = "../tests/support/llm_server.rs"]
mod llm_server;

use llm_server::{LlmServer, Plan};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n = arg("--n", 500);
    let exchanges = arg("--exchanges", 4);
    let concurrency = arg("--concurrency", 64);
    let latency = Duration::from_millis(arg("--latency-ms", 100));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/release/ftprep");
    if !bin.is_file() || !root.join("target/release/ftprep-llm").is_file() {
        eprintln!("build the release binaries first: cargo build --release --bins");
        std::process::exit(2);
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let spec = std::fs::read_to_string(root.join("tests/fixtures/generate/returns.ftprep"))
        .expect("the fixture spec")
        .replace("turns    2..3", &format!("turns    {exchanges}"));
    std::fs::write(dir.path().join("bench.ftprep"), spec).expect("write the spec");
    let server = LlmServer::start(Plan::default().latency(latency).keep_bodies(false));
    std::fs::write(
        dir.path().join("ftprep.toml"),
        format!(
            "[models.m]\nprovider = \"openai\"\nbase_url = \"{}\"\nmodel = \"bench\"\napi_key_env = \"BENCH_KEY\"\nmax_tokens = 256\n\n[models.m.limits]\nconcurrency = {concurrency}\n\n[roles]\njudge = [\"m\"]\ngenerate = \"m\"\nsimulate_user = \"m\"\n\n[run]\ncache = \"off\"\n",
            server.openai_base_url()
        ),
    )
    .expect("write the configuration");
    let calls = n * 2 * exchanges;
    let chain = latency.as_secs_f64() * (2 * exchanges) as f64;
    let throughput = latency.as_secs_f64() * calls as f64 / concurrency as f64;
    let ideal = chain.max(throughput);
    let start = Instant::now();
    let status = Command::new(&bin)
        .current_dir(dir.path())
        .env("BENCH_KEY", "sk-bench")
        .args(["generate", "bench.ftprep", "--quiet", "--seed", "1"])
        .args(["--n", &n.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run ftprep");
    let wall = start.elapsed().as_secs_f64();
    let answered = server.succeeded_count() as u64;
    println!(
        "generate: {n} conversations x {exchanges} exchanges = {calls} calls, concurrency {concurrency}, latency {} ms",
        latency.as_millis()
    );
    println!(
        "ideal {ideal:.2} s (chain {chain:.2} s, throughput {throughput:.2} s); wall {wall:.2} s = {:.3} x ideal; server answered {answered}; exit {status}",
        wall / ideal
    );
    if answered != calls || !status.success() {
        eprintln!("the run does not count: {answered} answers for {calls} calls");
        std::process::exit(1);
    }
}
