//! `ftprep judge --calibrate` of a complete spec against a real model:
//! llama.cpp's OpenAI-compatible server with SmolLM2-135M, as
//! `scripts/local-llm start` serves it. The spec is the minimal fixture
//! (a rubric of six questions, three calibration examples): the shipped
//! specs' evaluation prompts are 8,300 tokens and more, past SmolLM2's
//! 8,192-token window (the server refuses them, and `ftprep judge` stops
//! with its message), and a call to this model on two cores takes tens of
//! seconds. This checks the plumbing (the
//! request a real server accepts, constrained JSON that validates, the
//! journal, the calibration table), not the verdicts: a model this small
//! judges badly.
//!
//! The test runs when `FTPREP_LOCAL_LLM_URL` names the server's base URL
//! (`.ci/run` starts one and sets it); without it, it is skipped with a
//! notice, unless `FTPREP_REQUIRE_LOCAL_LLM` is set: then it fails.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::time::Duration;

#[test]
fn a_real_model_judges_the_calibration_examples() {
    let Some(url) = std::env::var_os("FTPREP_LOCAL_LLM_URL") else {
        if std::env::var_os("FTPREP_REQUIRE_LOCAL_LLM").is_some() {
            panic!(
                "FTPREP_LOCAL_LLM_URL is not set: start scripts/local-llm and set it to the base URL"
            );
        }
        // Written to the stderr handle itself: the harness captures
        // `eprintln!`, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\na_real_model_judges_the_calibration_examples: SKIPPED, FTPREP_LOCAL_LLM_URL is not set \
             (scripts/local-llm start prints the URL; CI sets FTPREP_REQUIRE_LOCAL_LLM=1)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("minimal.ftprep");
    std::fs::copy(
        common::root().join("tests/fixtures/valid/minimal.ftprep"),
        &spec,
    )
    .unwrap();
    let run = Command::cargo_bin("ftprep")
        .unwrap()
        .current_dir(dir.path())
        .env("OPENAI_BASE_URL", &url)
        .env_remove("OPENAI_API_KEY")
        .env("HOME", dir.path())
        .env("NO_COLOR", "1")
        .arg("judge")
        .arg(&spec)
        .args([
            "--calibrate",
            "--accept-calibration",
            "--no-cache",
            "--model",
            "openai:local",
            "--run",
            "local",
            "--quiet",
        ])
        .timeout(Duration::from_secs(1800))
        .assert();
    let output = run.get_output();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("calibration of `openai:local`"), "{stdout}");

    let run_dir = dir.path().join("runs/local");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("calibration.json")).unwrap())
            .unwrap();
    let examples = results[0]["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 3, "the spec has three calibration examples");

    // Every call finished: an answer that validates against the emitted
    // schema, or an ERROR with its class.
    let out = dir.path().join("out");
    Command::cargo_bin("ftprep")
        .unwrap()
        .arg("build")
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("judge-output.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let journal = std::fs::read_to_string(run_dir.join("journal.jsonl")).unwrap();
    let entries: Vec<Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 3);
    let mut valid = 0;
    for entry in &entries {
        match entry.get("unusable") {
            Some(unusable) => assert!(unusable["class"].is_string(), "{entry}"),
            None => {
                let text = entry["response"]["text"].as_str().unwrap();
                let answer: Value = serde_json::from_str(text).unwrap();
                assert!(validator.is_valid(&answer), "{text}");
                valid += 1;
            }
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "\nlocal model: {valid} of {} calibration answers valid against the schema",
        entries.len()
    );
}

/// `ftprep pilot --n 3` against the same server: calibration, three
/// simulated conversations (the model plays both sides), their judgments,
/// the score and the report. Plumbing only: SmolLM2 writes and judges
/// badly, and at temperature 0 it often repeats itself until `max_tokens`,
/// so its turns are cut off and the conversations end in ERROR (the
/// pilot then stops after generation and says so); what must hold is that
/// every step that runs does so on a real server, journals its calls and
/// writes its files, and that a second run sends nothing. The loop to the
/// report is tested end to end against the loopback server
/// (tests/generate.rs).
#[test]
fn a_real_model_runs_a_tiny_pilot() {
    let Some(url) = std::env::var_os("FTPREP_LOCAL_LLM_URL") else {
        if std::env::var_os("FTPREP_REQUIRE_LOCAL_LLM").is_some() {
            panic!("FTPREP_LOCAL_LLM_URL is not set");
        }
        let _ = writeln!(
            std::io::stderr(),
            "\na_real_model_runs_a_tiny_pilot: SKIPPED, FTPREP_LOCAL_LLM_URL is not set"
        );
        return;
    };
    let url = url.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("returns.ftprep");
    let text =
        std::fs::read_to_string(common::root().join("tests/fixtures/generate/returns.ftprep"))
            .unwrap()
            .replace("turns    2..3", "turns    2")
            .replace("breach   retry", "breach   record");
    std::fs::write(&spec, text).unwrap();
    std::fs::write(
        dir.path().join("ftprep.toml"),
        format!(
            "[models.writer]\nprovider = \"openai\"\nbase_url = \"{url}\"\nmodel = \"local\"\ntemperature = 0.0\nmax_tokens = 256\nstop = [\"\\n\\n\"]\n\n\
             [models.judge]\nprovider = \"openai\"\nbase_url = \"{url}\"\nmodel = \"local\"\ntemperature = 0.0\nmax_tokens = 1024\n\n\
             [models.judge.limits]\nconcurrency = 1\n\n[models.writer.limits]\nconcurrency = 1\n\n\
             [roles]\njudge = [\"judge\"]\ngenerate = \"writer\"\nsimulate_user = \"writer\"\n\n[run]\ncache = \"off\"\n"
        ),
    )
    .unwrap();
    let pilot = || {
        Command::cargo_bin("ftprep")
            .unwrap()
            .current_dir(dir.path())
            .env_remove("OPENAI_API_KEY")
            .env("HOME", dir.path())
            .env("NO_COLOR", "1")
            .arg("pilot")
            .arg(&spec)
            .args(["--n", "3", "--seed", "1", "--quiet", "--accept-calibration"])
            .timeout(Duration::from_secs(1800))
            .output()
            .unwrap()
    };
    let first = pilot();
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
    let run = dir.path().join("runs/pilot-returns-s1");
    assert!(
        run.join("build/prompts/user-simulator.md").is_file(),
        "{stderr}"
    );
    assert!(run.join("generate/plan.json").is_file(), "{stderr}");
    let journal = |step: &str| {
        std::fs::read_to_string(run.join(step).join("journal.jsonl"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    // Each conversation's first call, at least, reached the model and was
    // journaled (an answer, or an ERROR with its class).
    assert!(journal("generate") >= 3, "{stdout}\n{stderr}");
    let _ = writeln!(
        std::io::stderr(),
        "\nlocal pilot: exit {:?}; {} generation and {} judge calls journaled\n{stdout}",
        first.status.code(),
        journal("generate"),
        journal("judge")
    );
    if first.status.success() {
        assert!(stdout.contains("Pass rate"), "{stdout}");
        assert!(run.join("report.html").is_file());
    } else {
        // SmolLM2-135M often loops until max_tokens: its turns are then
        // cut off, which is an ERROR, and the pilot says where it stopped.
        assert!(stderr.contains("pilot: stopped at"), "{stderr}");
    }
    // A second run sends nothing: every call it needs is journaled.
    let calls = (journal("generate"), journal("judge"));
    let second = pilot();
    assert_eq!(second.status.code(), first.status.code());
    assert_eq!((journal("generate"), journal("judge")), calls);
}
