//! `ftprep judge` as users run it: the binary against the fake provider on
//! 127.0.0.1 (`tests/support/llm_server.rs`), with no configuration file
//! (`--model openai:...`, `OPENAI_BASE_URL`, `OPENAI_API_KEY`). The
//! judgments must be read by `ftprep score` unchanged, a run must resume
//! after SIGKILL with the same judgments and without sending a finished
//! call again, and the key must reach no file and no output.

#[path = "support/llm_server.rs"]
mod llm_server;

mod common;

use assert_cmd::Command;
use llm_server::{Fault, LlmServer, Plan, When};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEY: &str = "sk-e2e-7c2f9-never-written";

/// A project in a temporary directory: a copy of a spec and conversations.
struct Project {
    dir: tempfile::TempDir,
    spec: PathBuf,
    conversations: PathBuf,
}

fn project(spec: &str, n: usize) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.ftprep");
    std::fs::copy(common::root().join(spec), &spec_path).unwrap();
    let conversations = dir.path().join("conversations.jsonl");
    let mut text = String::new();
    for i in 0..n {
        let line = serde_json::json!({
            "id": format!("c{i}"),
            "messages": [
                {"role": "user", "content": format!("I ordered item {i} and it arrived broken.")},
                {"role": "assistant", "content": format!("I'm sorry item {i} arrived damaged. Would you like a refund or a replacement?")},
                {"role": "user", "content": "A replacement, please."},
                {"role": "assistant", "content": "Done: a replacement ships today."}
            ]
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(&conversations, text).unwrap();
    Project {
        dir,
        spec: spec_path,
        conversations,
    }
}

fn judge(project: &Project, server: &LlmServer) -> Command {
    judge_named(project, server, "r")
}

fn judge_named(project: &Project, server: &LlmServer, run: &str) -> Command {
    let mut cmd = Command::cargo_bin("ftprep").unwrap();
    cmd.current_dir(project.dir.path())
        .env("NO_COLOR", "1")
        .env("OPENAI_BASE_URL", server.openai_base_url())
        .env("OPENAI_API_KEY", KEY)
        .env("XDG_CACHE_HOME", project.dir.path().join("cache"))
        .env("HOME", project.dir.path())
        .arg("judge")
        .arg(&project.spec)
        .arg("--in")
        .arg(&project.conversations)
        .args(["--model", "openai:gpt-test", "--run", run, "--quiet"]);
    cmd
}

fn judgments(project: &Project) -> Vec<Value> {
    let text = std::fs::read_to_string(project.dir.path().join("runs/r/judgments.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A judgment without what differs between runs of the same calls: how
/// long they took, whether the answer was cached, and the tokens the
/// provider's own prompt cache saved.
fn answers_only(mut line: Value) -> Value {
    if let Some(object) = line.as_object_mut() {
        object.remove("latency_ms");
        object.remove("cached");
        object.remove("usage");
    }
    line
}

/// Every file under `dir`, as lossy text.
fn everything_written(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    out
}

#[test]
fn judgments_are_written_in_input_order_and_scored_unchanged() {
    let server = LlmServer::start(Plan::default());
    let p = project("tests/fixtures/valid/minimal.ftprep", 12);
    let run = judge(&p, &server).arg("--no-calibrate").assert().success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(stderr.contains("wrote 12 judgments"), "{stderr}");
    let lines = judgments(&p);
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
    assert_eq!(ids, expected);
    for line in &lines {
        assert_eq!(line["judge"], "openai:gpt-test");
        assert_eq!(line["sample"], 0);
        assert_eq!(line["answers"].as_object().unwrap().len(), 6, "{line}");
        assert!(line["spec_sha256"].as_str().is_some_and(|s| s.len() == 64));
    }
    assert_eq!(server.call_count(), 12);
    // `ftprep score` reads them as they are.
    let mut score = Command::cargo_bin("ftprep").unwrap();
    score
        .current_dir(p.dir.path())
        .args(["score", "--scoring"])
        .arg(&p.spec)
        .arg("runs/r/judgments.jsonl")
        .assert()
        .success();
    // Judged again: from the journal, nothing sent.
    judge(&p, &server).arg("--no-calibrate").assert().success();
    assert_eq!(server.call_count(), 12);
    // Another run: from the cache, nothing sent.
    judge_named(&p, &server, "other")
        .arg("--no-calibrate")
        .assert()
        .success();
    assert_eq!(server.call_count(), 12);
    let out = run.get_output();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
    assert!(!stderr.contains(KEY));
    assert!(!everything_written(p.dir.path()).contains(KEY));
}

#[test]
fn per_question_calls_are_merged_into_one_line_per_conversation() {
    let server = LlmServer::start(Plan::default());
    // The customer-support spec judges one question per call.
    let p = project("specs/customer-support.ftprep", 3);
    judge(&p, &server).arg("--no-calibrate").assert().success();
    let lines = judgments(&p);
    assert_eq!(lines.len(), 3);
    let questions = lines[0]["answers"].as_object().unwrap().len();
    assert!(questions >= 15, "{}", lines[0]);
    assert_eq!(server.call_count(), 3 * questions);
}

#[test]
fn several_judges_and_samples_each_give_a_line() {
    let server = LlmServer::start(Plan::default());
    let p = project("tests/fixtures/valid/minimal.ftprep", 4);
    judge(&p, &server)
        .args([
            "--model",
            "openai:gpt-other",
            "--samples",
            "2",
            "--no-calibrate",
        ])
        .assert()
        .success();
    let lines = judgments(&p);
    assert_eq!(lines.len(), 4 * 2 * 2);
    assert_eq!(lines[0]["judge"], "openai:gpt-test");
    assert_eq!(lines[1]["sample"], 1);
    assert_eq!(lines[2]["judge"], "openai:gpt-other");
    assert_eq!(server.call_count(), 16);
}

#[test]
fn the_judge_is_checked_against_the_calibration_examples_first() {
    let server = LlmServer::start(Plan::default());
    let p = project("tests/fixtures/valid/minimal.ftprep", 3);
    // The fake judge answers by a hash of the conversation, not by the
    // rubric: it disagrees with the authors somewhere.
    let run = judge(&p, &server).assert().code(1);
    let out = run.get_output();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stdout.contains("calibration of `openai:gpt-test`"),
        "{stdout}"
    );
    assert!(stderr.contains("--accept-calibration"), "{stderr}");
    assert!(!p.dir.path().join("runs/r/judgments.jsonl").exists());
    let examples = server.call_count();
    assert!(examples >= 1);
    // Told to go on, it judges; the examples are not asked again.
    judge(&p, &server)
        .arg("--accept-calibration")
        .assert()
        .success();
    assert_eq!(server.call_count(), examples + 3);
    assert!(p.dir.path().join("runs/r/calibration.json").is_file());
}

#[test]
fn a_dry_run_sends_nothing_and_counts_what_it_would() {
    let server = LlmServer::start(Plan::default());
    let p = project("tests/fixtures/valid/minimal.ftprep", 5);
    let run = judge(&p, &server).arg("--dry-run").assert().success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(stdout.contains("nothing is sent"), "{stdout}");
    assert!(stdout.contains("to send"), "{stdout}");
    assert_eq!(server.call_count(), 0);
    // A run, then a dry run: everything is finished.
    judge(&p, &server).arg("--no-calibrate").assert().success();
    let run = judge(&p, &server)
        .args(["--dry-run", "--no-calibrate"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(stdout.contains("5 finished in this run"), "{stdout}");
}

#[test]
fn an_answer_that_cannot_be_used_is_an_error_answer_with_its_reason() {
    let server =
        LlmServer::start(Plan::default().fault(When::body_contains("item 1 "), Fault::Refusal));
    let p = project("tests/fixtures/valid/minimal.ftprep", 3);
    judge(&p, &server).arg("--no-calibrate").assert().success();
    let lines = judgments(&p);
    let refused = &lines[1];
    assert_eq!(refused["errors"][0]["class"], "refusal", "{refused}");
    for (_, answer) in refused["answers"].as_object().unwrap() {
        assert_eq!(answer["answer"], "ERROR");
    }
    assert!(lines[0].get("errors").is_none());
}

#[test]
fn a_missing_key_for_the_official_server_is_said_by_name() {
    let p = project("tests/fixtures/valid/minimal.ftprep", 1);
    let mut cmd = Command::cargo_bin("ftprep").unwrap();
    let run = cmd
        .current_dir(p.dir.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env("HOME", p.dir.path())
        .arg("judge")
        .arg(&p.spec)
        .arg("--in")
        .arg(&p.conversations)
        .args(["--model", "openai:gpt-4o-mini"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
}

/// SIGKILL at random points: the judgments of the run that finishes are
/// those of a run never stopped, and a call the journal has is never sent
/// again. A kill can lose only the calls in flight (perhaps answered, not
/// yet journaled), so across all trials the answers sent again are at most
/// the kills times the calls in flight.
#[cfg(unix)]
#[test]
fn a_run_killed_at_random_points_resumes_to_the_same_judgments() {
    let n = 60;
    let server = LlmServer::start(Plan::default().latency(Duration::from_millis(40)));
    let reference = project("tests/fixtures/valid/minimal.ftprep", n);
    judge(&reference, &server)
        .arg("--no-calibrate")
        .assert()
        .success();
    let expected: Vec<Value> = judgments(&reference)
        .into_iter()
        .map(answers_only)
        .collect();

    let server = LlmServer::start(Plan::default().latency(Duration::from_millis(40)));
    let p = project("tests/fixtures/valid/minimal.ftprep", n);
    let journal = p.dir.path().join("runs/r/journal.jsonl");
    let finished = || {
        std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let bin = assert_cmd::cargo::cargo_bin("ftprep");
    let mut rng = common::Rng(0x6b11_1e57_0000_0001);
    let trials = 20;
    for _ in 0..trials {
        // The kill comes when the journal has a few more lines: a point in
        // the run's progress, not in time, so every trial stops a run
        // part-way, some calls finished and others in flight.
        let target = (finished() + 1 + rng.below(3)).min(n - 20);
        let mut child = std::process::Command::new(&bin)
            .current_dir(p.dir.path())
            .env("OPENAI_BASE_URL", server.openai_base_url())
            .env("OPENAI_API_KEY", KEY)
            .env("XDG_CACHE_HOME", p.dir.path().join("no-cache"))
            .env("HOME", p.dir.path())
            .arg("judge")
            .arg(&p.spec)
            .arg("--in")
            .arg(&p.conversations)
            .args([
                "--model",
                "openai:gpt-test",
                "--run",
                "r",
                "--quiet",
                "--no-calibrate",
                "--no-cache",
            ])
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
        assert!(finished() < n, "a kill came after the run had finished");
    }
    judge(&p, &server)
        .args(["--no-calibrate", "--no-cache"])
        .assert()
        .success();
    let resumed: Vec<Value> = judgments(&p).into_iter().map(answers_only).collect();
    assert_eq!(resumed.len(), expected.len());
    for (got, want) in resumed.iter().zip(&expected) {
        assert_eq!(got, want, "a resumed judgment differs");
    }
    let attempts = server.attempts();
    assert_eq!(attempts.len(), n, "every conversation was asked");
    let extra: u32 = attempts
        .values()
        .map(|a| a.succeeded.saturating_sub(1))
        .sum();
    // Each kill can lose at most the calls in flight: the default
    // concurrency, 8.
    assert!(
        extra <= trials * 8,
        "{extra} answers were sent again, more than {trials} kills with 8 calls in flight can lose"
    );
}

#[test]
fn cache_why_says_which_part_of_the_key_missed() {
    let server = LlmServer::start(Plan::default());
    let p = project("tests/fixtures/valid/minimal.ftprep", 4);
    judge(&p, &server).arg("--no-calibrate").assert().success();
    let why = |p: &Project| {
        let mut cmd = Command::cargo_bin("ftprep").unwrap();
        let run = cmd
            .current_dir(p.dir.path())
            .env("OPENAI_BASE_URL", server.openai_base_url())
            .env("XDG_CACHE_HOME", p.dir.path().join("cache"))
            .env("HOME", p.dir.path())
            .args(["cache", "why"])
            .arg(&p.spec)
            .arg("--in")
            .arg(&p.conversations)
            .args(["--model", "openai:gpt-test"])
            .assert()
            .success();
        String::from_utf8_lossy(&run.get_output().stdout).into_owned()
    };
    assert!(
        why(&p).contains("4 of 4 calls would be answered"),
        "{}",
        why(&p)
    );
    // The threshold is applied by the scorer, not asked of the judge: a
    // new one keeps every answer.
    let text = std::fs::read_to_string(&p.spec).unwrap();
    std::fs::write(&p.spec, text.replacen("threshold 0.75", "threshold 0.8", 1)).unwrap();
    assert!(
        why(&p).contains("4 of 4 calls would be answered"),
        "{}",
        why(&p)
    );
    // A question's new wording changes the evaluation prompt and the
    // schema: every call misses, and that is why.
    let edited = text.replace(
        "at least one concrete next step?",
        "at least one specific next step?",
    );
    assert_ne!(edited, text);
    std::fs::write(&p.spec, edited).unwrap();
    let after = why(&p);
    assert!(after.contains("0 of 4 calls"), "{after}");
    assert!(
        after.contains("4 miss: the nearest entry differs in the output schema and system prompt"),
        "{after}"
    );
    let mut stats = Command::cargo_bin("ftprep").unwrap();
    let run = stats
        .current_dir(p.dir.path())
        .env("XDG_CACHE_HOME", p.dir.path().join("cache"))
        .env("HOME", p.dir.path())
        .args(["cache", "stats"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&run.get_output().stdout).contains("4 answers"));
}

/// Ctrl-C stops a run cleanly: the calls in flight finish and are
/// journaled, the command says how to resume and exits 130, and running
/// it again finishes the rest without sending a finished call twice.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let server = LlmServer::start(Plan::default().latency(Duration::from_millis(50)));
    let n = 40;
    let p = project("tests/fixtures/valid/minimal.ftprep", n);
    let journal = p.dir.path().join("runs/r/journal.jsonl");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ftprep"))
        .current_dir(p.dir.path())
        .env("OPENAI_BASE_URL", server.openai_base_url())
        .env("OPENAI_API_KEY", KEY)
        .env("XDG_CACHE_HOME", p.dir.path().join("cache"))
        .env("HOME", p.dir.path())
        .arg("judge")
        .arg(&p.spec)
        .arg("--in")
        .arg(&p.conversations)
        .args([
            "--model",
            "openai:gpt-test",
            "--run",
            "r",
            "--quiet",
            "--no-calibrate",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once some calls are finished and others are in flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count()) < 8 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run finished no call"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: sends SIGINT to a child this test started and still owns.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("run the same command to resume"),
        "{stderr}"
    );
    let finished = std::fs::read_to_string(&journal).unwrap().lines().count();
    assert!(finished < n, "the run stopped part-way ({finished} of {n})");
    // Every call that was sent finished: none in flight was dropped.
    assert_eq!(server.succeeded_count(), finished, "{stderr}");
    judge(&p, &server).arg("--no-calibrate").assert().success();
    assert_eq!(judgments(&p).len(), n);
    assert!(server.attempts().values().all(|a| a.seen == 1));
}

/// Conversations of one exchange (even ids) and of two (odd ids).
fn short_and_long(p: &Project, n: usize) {
    let mut text = String::new();
    for i in 0..n {
        let mut messages = vec![
            serde_json::json!({"role": "user", "content": format!("Order {i} arrived broken.")}),
            serde_json::json!({"role": "assistant", "content": "I'm sorry. A replacement or a refund?"}),
        ];
        if i % 2 == 1 {
            messages.push(serde_json::json!({"role": "user", "content": "A replacement."}));
            messages.push(serde_json::json!({"role": "assistant", "content": "It ships today."}));
        }
        text.push_str(
            &serde_json::json!({"id": format!("c{i}"), "messages": messages}).to_string(),
        );
        text.push('\n');
    }
    std::fs::write(&p.conversations, text).unwrap();
}

#[test]
fn questions_not_asked_or_decided_by_the_program_cost_no_call_and_are_scored_as_such() {
    let server = LlmServer::start(Plan::default());
    // E2 `min_turns 2`, R2 `decide "assistant_words_max < 150"`, per question.
    let p = project("tests/fixtures/judge/facts.ftprep", 0);
    short_and_long(&p, 4);
    judge(&p, &server).arg("--no-calibrate").assert().success();
    // Per conversation: 6 questions less R2 (decided), less E2 on the two
    // 1-exchange conversations.
    assert_eq!(server.call_count(), 4 * 5 - 2);
    // R1 names facts: they come before the transcript.
    let bodies: Vec<String> = server
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("Facts computed by the program (exact, do not re-count):")),
        "no facts block sent"
    );
    let lines = judgments(&p);
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0]["answers"]["E2"],
        serde_json::json!({
            "answer": "na",
            "not_asked": "min_turns",
            "evidence": "not asked by the program: it needs 2 exchanges (min_turns 2), the conversation has 1"
        })
    );
    assert!(lines[1]["answers"]["E2"].get("not_asked").is_none());
    assert_eq!(
        lines[0]["answers"]["R2"],
        serde_json::json!({
            "answer": "yes",
            "decided": "program",
            "evidence": "decided by the program: assistant_words_max = 7, < 150"
        })
    );

    // Scored: a 1-exchange conversation whose E2 would be NO passes,
    // since E2 was not asked (E1 yes, R1 no, R2 yes: 1 × 0.5 + 0.5 × 0.5).
    let mut line = lines[0].clone();
    for q in ["S1", "S2", "E1"] {
        line["answers"][q] = serde_json::json!({"answer": true});
    }
    line["answers"]["R1"] = serde_json::json!({"answer": false});
    let mut asked_no = line.clone();
    asked_no["id"] = "c-asked".into();
    asked_no["answers"]["E2"] = serde_json::json!({"answer": false});
    let mut text = String::new();
    for l in [&line, &asked_no] {
        text.push_str(&l.to_string());
        text.push('\n');
    }
    let scored = p.dir.path().join("scored.jsonl");
    std::fs::write(&scored, text).unwrap();
    let run = Command::cargo_bin("ftprep")
        .unwrap()
        .current_dir(p.dir.path())
        .env("NO_COLOR", "1")
        .args(["score", "--scoring"])
        .arg(&p.spec)
        .arg(&scored)
        .args(["--verdicts", "verdicts.jsonl", "--summary", "summary.json"])
        .assert()
        .success();
    let verdicts: Vec<Value> = std::fs::read_to_string(p.dir.path().join("verdicts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts[0]["verdict"], "pass", "{}", verdicts[0]);
    assert_eq!(verdicts[0]["score"], 0.75);
    assert_eq!(verdicts[1]["verdict"], "fail", "{}", verdicts[1]);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(p.dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        summary["not_asked"],
        serde_json::json!({"min_turns": {"E2": 1}})
    );
    let out = run.get_output();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Not asked: E2 on 1 record (fewer exchanges than its min_turns)"),
        "{text}"
    );
    // The judge's own lines are scored too.
    Command::cargo_bin("ftprep")
        .unwrap()
        .current_dir(p.dir.path())
        .args(["score", "--scoring"])
        .arg(&p.spec)
        .arg("runs/r/judgments.jsonl")
        .assert()
        .success();
}
