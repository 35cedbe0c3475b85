//! `ftprep generate` and `ftprep pilot` as users run them: the binary
//! against the fake provider on 127.0.0.1 (`tests/support/llm_server.rs`),
//! with `--model openai:...` and no configuration file. A seeded plan must
//! give the same conversations on every run, a run killed mid-conversation
//! must resume at the next exchange without generating one twice, and the
//! output must be read by `judge` and `score` unchanged.

#[path = "support/llm_server.rs"]
mod llm_server;

mod common;

use assert_cmd::Command;
use llm_server::{LlmServer, Plan};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEY: &str = "sk-gen-41d7-never-written";
const SPEC: &str = "tests/fixtures/generate/returns.ftprep";

struct Project {
    dir: tempfile::TempDir,
    spec: PathBuf,
}

fn project(edit: impl Fn(String) -> String) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("returns.ftprep");
    let text = std::fs::read_to_string(common::root().join(SPEC)).unwrap();
    std::fs::write(&spec, edit(text)).unwrap();
    Project { dir, spec }
}

fn ftprep(project: &Project, server: &LlmServer) -> Command {
    let mut cmd = Command::cargo_bin("ftprep").unwrap();
    cmd.current_dir(project.dir.path())
        .env("NO_COLOR", "1")
        .env("OPENAI_BASE_URL", server.openai_base_url())
        .env("OPENAI_API_KEY", KEY)
        .env("XDG_CACHE_HOME", project.dir.path().join("cache"))
        .env("HOME", project.dir.path());
    cmd
}

fn generate(project: &Project, server: &LlmServer, n: usize, run: &str) -> Command {
    let mut cmd = ftprep(project, server);
    cmd.arg("generate")
        .arg(&project.spec)
        .args([
            "--n",
            &n.to_string(),
            "--seed",
            "7",
            "--model",
            "openai:gpt-test",
        ])
        .args(["--run", run, "--quiet"]);
    cmd
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn conversations(project: &Project, run: &str) -> Vec<Value> {
    lines(
        &project
            .dir
            .path()
            .join(format!("runs/{run}/conversations.jsonl")),
    )
}

/// Only what the conversation is: its id, messages and plan without the
/// usage (a replayed call reports the tokens it used when it was paid).
fn content(line: &Value) -> Value {
    let mut line = line.clone();
    if let Some(plan) = line.get_mut("plan").and_then(Value::as_object_mut) {
        plan.remove("usage");
    }
    line
}

#[test]
fn simulated_conversations_follow_the_plan_and_are_judged_and_scored() {
    let server = LlmServer::start(Plan::default());
    let p = project(|t| t);
    // 30 items of a 6-cell taxonomy: some share cell and persona, and are
    // still generated apart (each message one call of its own).
    generate(&p, &server, 30, "g").assert().success();
    let out = conversations(&p, "g");
    assert_eq!(out.len(), 30);
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(p.dir.path().join("runs/g/plan.json")).unwrap(),
    )
    .unwrap();
    for (i, line) in out.iter().enumerate() {
        assert_eq!(line["id"], format!("returns-s7-{i:05}"));
        let messages = line["messages"].as_array().unwrap();
        let turns = plan["items"][i]["turns"].as_u64().unwrap() as usize;
        assert!((2..=3).contains(&turns));
        assert_eq!(messages.len(), 2 * turns, "{line}");
        for (k, m) in messages.iter().enumerate() {
            let role = if k % 2 == 0 { "user" } else { "assistant" };
            assert_eq!(m["role"], role);
            assert!(!m["content"].as_str().unwrap().trim().is_empty());
        }
        assert_eq!(line["plan"]["mode"], "simulate");
        assert_eq!(line["plan"]["seed"], 7);
        assert_eq!(line["plan"]["cell"], plan["items"][i]["cell"]);
        assert_eq!(line["plan"]["persona"], plan["items"][i]["persona"]);
        assert_eq!(
            line["plan"]["usage"]["calls"].as_u64().unwrap() as usize,
            messages.len(),
            "one call per message when no length rule is broken"
        );
    }
    // The simulated user was given its persona and the assistant its own
    // prompt, turn by turn, each with the whole history.
    let calls = server.calls();
    assert_eq!(
        calls.len(),
        out.iter()
            .map(|l| l["messages"].as_array().unwrap().len())
            .sum::<usize>()
    );
    let user_calls: Vec<Value> = calls
        .iter()
        .map(|c| c.json())
        .filter(|b| {
            b["messages"][0]["content"]
                .as_str()
                .unwrap_or("")
                .starts_with("# Playing the user")
        })
        .collect();
    assert_eq!(user_calls.len() * 2, calls.len());
    assert!(user_calls.iter().all(|b| {
        b["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("## Who you are in this conversation")
    }));
    for name in [
        "coverage.txt",
        "coverage.json",
        "audit.txt",
        "audit.json",
        "plan.json",
    ] {
        assert!(p.dir.path().join("runs/g").join(name).is_file(), "{name}");
    }

    // `judge` and `score` read the output as it is.
    ftprep(&p, &server)
        .arg("judge")
        .arg(&p.spec)
        .arg("--in")
        .arg(p.dir.path().join("runs/g/conversations.jsonl"))
        .args([
            "--model",
            "openai:gpt-test",
            "--run",
            "j",
            "--quiet",
            "--no-calibrate",
        ])
        .assert()
        .success();
    ftprep(&p, &server)
        .arg("build")
        .arg(&p.spec)
        .args(["--out", "out"])
        .assert()
        .success();
    let score = ftprep(&p, &server)
        .arg("score")
        .args(["--scoring", "out/scoring.toml", "runs/j/judgments.jsonl"])
        .args(["--generations", "runs/g/conversations.jsonl"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&score.stdout);
    assert!(stdout.contains("30 records"), "{stdout}");
}

#[test]
fn a_seeded_plan_gives_the_same_conversations_on_every_run() {
    let server = LlmServer::start(Plan::default());
    let p = project(|t| t);
    generate(&p, &server, 6, "a")
        .arg("--no-cache")
        .assert()
        .success();
    generate(&p, &server, 6, "b")
        .arg("--no-cache")
        .assert()
        .success();
    let a: Vec<Value> = conversations(&p, "a").iter().map(content).collect();
    let b: Vec<Value> = conversations(&p, "b").iter().map(content).collect();
    assert_eq!(a, b);
    let plan =
        |run: &str| std::fs::read(p.dir.path().join(format!("runs/{run}/plan.json"))).unwrap();
    assert_eq!(plan("a"), plan("b"));
    // Another seed is another plan.
    let mut other = ftprep(&p, &server);
    other
        .arg("generate")
        .arg(&p.spec)
        .args(["--n", "6", "--seed", "8", "--model", "openai:gpt-test"])
        .args(["--run", "c", "--quiet", "--no-cache"])
        .assert()
        .success();
    assert_ne!(plan("a"), plan("c"));
}

#[test]
fn whole_mode_writes_each_conversation_in_one_call() {
    let server = LlmServer::start(Plan::default());
    let p = project(|t| t.replace("mode     simulate", "mode     whole"));
    generate(&p, &server, 5, "w").assert().success();
    let out = conversations(&p, "w");
    assert_eq!(out.len(), 5);
    assert_eq!(server.calls().len(), 5, "one call per conversation");
    for line in &out {
        assert_eq!(line["plan"]["mode"], "whole");
        let turns = line["plan"]["turns"].as_u64().unwrap() as usize;
        assert_eq!(line["messages"].as_array().unwrap().len(), 2 * turns);
    }
}

#[test]
fn a_breach_of_a_length_rule_is_asked_again_then_recorded() {
    let server = LlmServer::start(Plan::default());
    // No reply of the fake model fits a ratio limit of 0.01 words per
    // user word: each assistant turn is asked twice more, then kept.
    let p = project(|t| {
        t.replace(
            "ratio    0.5..3.0 limit 20.0",
            "ratio    0.001..0.005 limit 0.01",
        )
    });
    generate(&p, &server, 2, "r").assert().success();
    for line in conversations(&p, "r") {
        let turns = line["plan"]["turns"].as_u64().unwrap();
        let breaches = line["plan"]["breaches"].as_array().unwrap();
        let over: Vec<&Value> = breaches
            .iter()
            .filter(|b| b["kind"] == "ratio_over_limit")
            .collect();
        assert_eq!(over.len() as u64, turns, "{line}");
        assert!(over.iter().all(|b| b["retries"] == 2));
        // A user turn and three assistant attempts per exchange.
        assert_eq!(line["plan"]["usage"]["calls"].as_u64().unwrap(), turns * 4);
    }
    // With `breach record`, nothing is asked again.
    let server = LlmServer::start(Plan::default());
    let p = project(|t| {
        t.replace(
            "ratio    0.5..3.0 limit 20.0",
            "ratio    0.001..0.005 limit 0.01",
        )
        .replace("breach   retry", "breach   record")
    });
    generate(&p, &server, 2, "r").assert().success();
    for line in conversations(&p, "r") {
        let turns = line["plan"]["turns"].as_u64().unwrap();
        assert_eq!(line["plan"]["usage"]["calls"].as_u64().unwrap(), turns * 2);
    }
}

#[test]
fn a_run_killed_mid_conversation_resumes_at_the_next_exchange() {
    let n = 12;
    let reference_server = LlmServer::start(Plan::default());
    let reference = project(|t| t);
    generate(&reference, &reference_server, n, "g")
        .arg("--no-cache")
        .assert()
        .success();
    let expected: Vec<Value> = conversations(&reference, "g").iter().map(content).collect();
    let messages: usize = expected
        .iter()
        .map(|l| l["messages"].as_array().unwrap().len())
        .sum();

    let server = LlmServer::start(Plan::default().latency(Duration::from_millis(30)));
    let p = project(|t| t);
    let journal = p.dir.path().join("runs/g/journal.jsonl");
    let finished = || {
        std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let bin = assert_cmd::cargo::cargo_bin("ftprep");
    let mut rng = common::Rng(0x9e11_0a7e_0000_0003);
    let trials = 8;
    for _ in 0..trials {
        let target = (finished() + 1 + rng.below(4)).min(messages - 4);
        let mut child = std::process::Command::new(&bin)
            .current_dir(p.dir.path())
            .env("OPENAI_BASE_URL", server.openai_base_url())
            .env("OPENAI_API_KEY", KEY)
            .env("HOME", p.dir.path())
            .arg("generate")
            .arg(&p.spec)
            .args([
                "--n",
                &n.to_string(),
                "--seed",
                "7",
                "--model",
                "openai:gpt-test",
            ])
            .args(["--run", "g", "--quiet", "--no-cache"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while finished() < target {
            assert!(
                std::time::Instant::now() < deadline,
                "the run stopped finishing calls"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            finished() < messages,
            "a kill came after the run had finished"
        );
    }
    generate(&p, &server, n, "g")
        .arg("--no-cache")
        .assert()
        .success();
    let resumed: Vec<Value> = conversations(&p, "g").iter().map(content).collect();
    assert_eq!(
        resumed, expected,
        "a resumed run writes what an uninterrupted one does"
    );
    // No exchange was journaled twice: each call's key is on one line.
    let mut seen = HashMap::new();
    for line in lines(&journal) {
        *seen
            .entry(line["key"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(seen.len(), messages, "one journaled call per message");
    assert!(seen.values().all(|&k| k == 1), "a call was journaled twice");
    // Answers lost with a kill are those in flight: at most the default
    // concurrency (8) per kill.
    let sent = server.succeeded_count();
    assert!(
        sent <= messages + trials * 8,
        "{sent} answers for {messages} messages and {trials} kills"
    );
    // The key is in no file the runs wrote.
    for entry in walk(p.dir.path()) {
        let text = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&text).contains(KEY),
            "{} holds the key",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_dry_run_prints_the_coverage_and_sends_nothing() {
    let server = LlmServer::start(Plan::default());
    let p = project(|t| t);
    let output = generate(&p, &server, 40, "d")
        .arg("--dry-run")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("40 conversations planned"), "{stdout}");
    assert!(stdout.contains("problem"), "{stdout}");
    assert_eq!(server.calls().len(), 0);
    assert!(!p.dir.path().join("runs/d/journal.jsonl").exists());
}

#[test]
fn a_pilot_runs_the_loop_and_resumes_for_free() {
    let server = LlmServer::start(Plan::default());
    let p = project(|t| t);
    let run = |server: &LlmServer| {
        ftprep(&p, server)
            .arg("pilot")
            .arg(&p.spec)
            .args(["--n", "6", "--seed", "3", "--model", "openai:gpt-test"])
            .args([
                "--judge",
                "openai:gpt-test",
                "--quiet",
                "--accept-calibration",
            ])
            .output()
            .unwrap()
    };
    let first = run(&server);
    let stdout = String::from_utf8_lossy(&first.stdout);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Pass rate"), "{stdout}");
    assert!(stdout.contains("Next:"), "{stdout}");
    let dir = p.dir.path().join("runs/pilot-returns-s3");
    for name in [
        "build/scoring.toml",
        "build/prompts/assistant.md",
        "conversations.jsonl",
        "judgments.jsonl",
        "verdicts.jsonl",
        "summary.json",
        "report.html",
    ] {
        assert!(dir.join(name).is_file(), "{name}");
    }
    let calls = server.calls().len();
    assert!(calls > 0);
    let summary = std::fs::read(dir.join("summary.json")).unwrap();
    let judged = std::fs::read(dir.join("judgments.jsonl")).unwrap();
    // The same command again pays for nothing: every call is journaled,
    // and it writes the same results.
    let second = run(&server);
    assert!(second.status.success());
    assert_eq!(
        server.calls().len(),
        calls,
        "a second pilot sent calls again"
    );
    assert_eq!(std::fs::read(dir.join("summary.json")).unwrap(), summary);
    assert_eq!(std::fs::read(dir.join("judgments.jsonl")).unwrap(), judged);
}

/// What the simulated user is told for the first items of a seeded plan of
/// each shipped spec: the scenario card filled from the sampled cell and
/// persona, and the note of each turn (behaviour, words, last message).
#[test]
fn scenario_cards_of_the_shipped_specs() {
    use ftprep::flows::generate::Mode;
    use ftprep::flows::scripts::{self, Prompts};
    for path in common::shipped_specs() {
        let compilation = common::compile_path(&path);
        let spec = compilation.clean_spec().expect("a shipped spec compiles");
        let input = scripts::plan_input(spec);
        let plan = ftprep::generate::plan::plan(&input, 3, 1);
        let prompts = Prompts {
            assistant: "(assistant.md)".into(),
            user_simulator: "(user-simulator.md)".into(),
            generation: "(generation-prompt.md)".into(),
        };
        let mut text = String::new();
        for item in &plan.items {
            let script = scripts::script(spec, &input, &prompts, item, 1);
            text.push_str(&format!(
                "=== {} ({} exchanges)\n\n",
                script.id, script.exchanges
            ));
            match &script.mode {
                Mode::Simulate {
                    user_system,
                    turn_notes,
                } => {
                    text.push_str(user_system);
                    text.push_str("\n\n");
                    for (i, note) in turn_notes.iter().enumerate() {
                        text.push_str(&format!("turn {}: {note}\n", i + 1));
                    }
                }
                Mode::Whole { request, .. } => text.push_str(request),
            }
            text.push('\n');
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        common::settings("generate").bind(|| {
            insta::assert_snapshot!(format!("{name}-scenario-cards"), text);
        });
    }
}

#[test]
fn the_output_is_never_the_spec() {
    let server = LlmServer::start(Plan::default());
    let p = project(|t| t);
    let before = std::fs::read(&p.spec).unwrap();
    let output = generate(&p, &server, 2, "o")
        .arg("--out")
        .arg(&p.spec)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is the spec"));
    assert_eq!(std::fs::read(&p.spec).unwrap(), before);
    assert_eq!(server.calls().len(), 0);
}
