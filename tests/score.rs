//! `ftprep score`: summaries, rejections with line numbers, the HTML
//! report's SVG, the spot-check, the training set, and a round trip of
//! every shipped spec's calibration examples.

mod common;

use assert_cmd::Command;
use common::{root, settings};
use predicates::prelude::*;
use std::fs;

fn ftprep() -> Command {
    let mut cmd = Command::cargo_bin("ftprep").unwrap();
    cmd.current_dir(root().join("tests/fixtures/score"));
    cmd
}

fn output_of(cmd: &mut Command) -> (String, String, i32) {
    let out = cmd.output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn summary_verdicts_and_spot_check() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name);
    let (stdout, _, code) = output_of(
        ftprep()
            .args(["score", "--scoring", "spec.ftprep", "judgments.jsonl"])
            .arg("--verdicts")
            .arg(p("verdicts.jsonl"))
            .arg("--summary")
            .arg(p("summary.json"))
            .args([
                "--sample",
                "6",
                "--seed",
                "7",
                "--generations",
                "generations.jsonl",
            ])
            .arg("--sample-out")
            .arg(p("spot.md")),
    );
    assert_eq!(code, 0);
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(p("summary.json")).unwrap()).unwrap();
    for key in ["records", "valid", "rejected", "passed", "pass_rate"] {
        assert!(summary.get(key).is_some(), "summary lacks {key}");
    }
    assert_eq!(summary["records"], 60);
    assert_eq!(summary["lines"]["total"], 80);
    // Every line is accounted for.
    let lines = &summary["lines"];
    assert_eq!(
        lines["total"].as_u64(),
        Some(
            lines["valid"].as_u64().unwrap()
                + lines["rejected"].as_u64().unwrap()
                + lines["blank"].as_u64().unwrap()
        )
    );
    let verdicts = fs::read_to_string(p("verdicts.jsonl")).unwrap();
    assert_eq!(verdicts.lines().count(), 60);
    let repeated: serde_json::Value =
        serde_json::from_str(verdicts.lines().next().unwrap()).unwrap();
    assert_eq!(repeated["judgments"], 3);
    assert!(repeated["majority"].is_object() && repeated["agreement"].is_object());
    settings("score").bind(|| {
        insta::assert_snapshot!("terminal-summary", stdout);
        insta::assert_snapshot!(
            "summary.json",
            fs::read_to_string(p("summary.json")).unwrap()
        );
        insta::assert_snapshot!("spot-check.md", fs::read_to_string(p("spot.md")).unwrap());
        insta::assert_snapshot!(
            "verdicts-head",
            verdicts.lines().take(3).collect::<Vec<_>>().join("\n")
        );
    });
}

#[test]
fn the_scoring_toml_scores_exactly_as_the_spec() {
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("ftprep")
        .unwrap()
        .arg("build")
        .arg(root().join("tests/fixtures/score/spec.ftprep"))
        .arg("--out")
        .arg(tmp.path())
        .assert()
        .success();
    let run = |scoring: &std::path::Path, verdicts: &str| {
        ftprep()
            .args(["score", "--scoring"])
            .arg(scoring)
            .arg("judgments.jsonl")
            .arg("--verdicts")
            .arg(tmp.path().join(verdicts))
            .assert()
            .success();
        fs::read_to_string(tmp.path().join(verdicts)).unwrap()
    };
    let from_spec = run(&root().join("tests/fixtures/score/spec.ftprep"), "a.jsonl");
    let from_toml = run(&tmp.path().join("scoring.toml"), "b.jsonl");
    assert_eq!(from_spec, from_toml);
}

#[test]
fn every_rejection_is_reported_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let rejects = tmp.path().join("rejects.jsonl");
    let expected = [
        (2, "not valid JSON"),
        (4, "no `id`"),
        (5, "neither `answers` nor `response`"),
        (6, "`response` holds no JSON object"),
        (7, "unknown question `Q99`"),
        (8, "question `S1` is answered twice"),
        (9, "`S1`: 1 is not true, false, YES, NO, NA or ERROR"),
        (10, "`S1`: \"maybe\" is not true"),
        (11, "no answer for `S2`"),
        (12, "`AK1` always applies and cannot be answered NA"),
    ];
    let mut assert = ftprep()
        .args([
            "score",
            "--scoring",
            "spec.ftprep",
            "bad.jsonl",
            "--summary",
        ])
        .arg(tmp.path().join("summary.json"))
        .assert()
        .success();
    for (line, reason) in expected {
        assert = assert.stderr(predicate::str::contains(format!(
            "bad.jsonl:{line}: rejected: {reason}"
        )));
    }
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["rejected"], 10);
    assert_eq!(summary["valid"], 2);
    assert_eq!(summary["lines"]["blank"], 1);

    ftprep()
        .args([
            "score",
            "--scoring",
            "spec.ftprep",
            "bad.jsonl",
            "--strict",
            "--rejects",
        ])
        .arg(&rejects)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("10 lines rejected (--strict)"));
    let written: Vec<serde_json::Value> = fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(written.len(), 10);
    assert_eq!(written[0]["line"], 2);
    assert_eq!(written[0]["kind"], "malformed");
    assert_eq!(written[0]["raw"], "this is not json");
    settings("score").bind(|| {
        insta::assert_snapshot!("rejects.jsonl", fs::read_to_string(&rejects).unwrap());
    });
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let input = fs::read_to_string(root().join("tests/fixtures/score/judgments.jsonl")).unwrap();
    let (stdout, _, code) = output_of(
        ftprep()
            .args(["score", "--scoring", "spec.ftprep", "-"])
            .write_stdin(input),
    );
    assert_eq!(code, 0);
    assert!(
        stdout.contains("80 lines: 80 valid, 0 rejected, 0 blank; 60 records"),
        "{stdout}"
    );
}

#[test]
fn the_html_report_draws_its_charts_in_svg() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report.html");
    ftprep()
        .args([
            "score",
            "--scoring",
            "spec.ftprep",
            "judgments.jsonl",
            "--report",
        ])
        .arg(&report)
        .assert()
        .success();
    let html = fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for forbidden in ["<script", "http://", "https://", "<link", "@import"] {
        let outside_svg_ns = html.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !outside_svg_ns.contains(forbidden),
            "the report loads {forbidden}"
        );
    }
    let svg = |class: &str| -> roxmltree::Document<'static> {
        let start = html
            .find(&format!("<svg class=\"{class}\""))
            .unwrap_or_else(|| panic!("no {class} chart"));
        let end = html[start..].find("</svg>").unwrap() + start + "</svg>".len();
        let text: &'static str = Box::leak(html[start..end].to_string().into_boxed_str());
        roxmltree::Document::parse(text)
            .unwrap_or_else(|e| panic!("{class} is not well-formed: {e}"))
    };
    let questions = 15;
    let count = |doc: &roxmltree::Document, class: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("class") == Some(class))
            .count()
    };
    let rates = svg("yes-rates");
    assert_eq!(count(&rates, "bar"), questions);
    let heatmap = svg("heatmap");
    assert_eq!(count(&heatmap, "cell"), questions * questions);
    let pass = svg("pass-rate");
    assert_eq!(count(&pass, "bar"), 1);
    assert!(
        pass.descendants()
            .any(|n| n.attribute("class") == Some("target"))
    );
    assert!(html.contains("<table class=\"gate\">"));
}

#[test]
fn the_training_set_holds_only_passing_conversations() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("train.jsonl");
    let verdicts = tmp.path().join("verdicts.jsonl");
    ftprep()
        .args([
            "score",
            "--scoring",
            "spec.ftprep",
            "judgments.jsonl",
            "--generations",
            "generations.jsonl",
            "--keep",
        ])
        .arg(&keep)
        .arg("--verdicts")
        .arg(&verdicts)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "generations.jsonl:61: skipped: role `robot`",
        ));
    let passing: std::collections::HashSet<String> = fs::read_to_string(&verdicts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["verdict"] == "pass")
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    let kept: Vec<serde_json::Value> = fs::read_to_string(&keep)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kept.len(), passing.len());
    for line in &kept {
        let object = line.as_object().unwrap();
        assert_eq!(
            object.keys().collect::<Vec<_>>(),
            ["messages"],
            "nothing but messages"
        );
        let content = line["messages"][0]["content"].as_str().unwrap();
        let id = content.rsplit(' ').next().unwrap();
        assert!(passing.contains(id), "{id} did not pass");
    }
    let mut manifest_path = keep.clone().into_os_string();
    manifest_path.push(".manifest.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["spec"], "returns");
    assert_eq!(manifest["kept"], kept.len());
    assert_eq!(manifest["invalid_generations"], 1);
    assert_eq!(
        manifest["judges"],
        serde_json::json!(["judge-a", "judge-b", "judge-c"])
    );
    assert_eq!(manifest["spec_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(
        manifest["judgments"][0]["sha256"].as_str().unwrap().len(),
        64
    );
}

/// Each shipped spec's calibration examples, written as judge output,
/// score exactly as the spec declares.
#[test]
fn calibration_examples_round_trip_through_the_scorer() {
    for path in common::shipped_specs() {
        let compilation = common::compile_path(&path);
        let spec = compilation.clean_spec().expect("a clean spec");
        let mut lines = String::new();
        let mut expected = Vec::new();
        for example in &spec.calibration {
            let answers: serde_json::Map<String, serde_json::Value> = example
                .answers
                .iter()
                .map(|a| {
                    let value = match a.value {
                        ftprep::model::AnswerValue::Yes => serde_json::json!(true),
                        ftprep::model::AnswerValue::No => serde_json::json!(false),
                        ftprep::model::AnswerValue::Na => serde_json::json!("NA"),
                    };
                    let evidence = a
                        .reason
                        .as_ref()
                        .map(|r| r.value.clone())
                        .unwrap_or_default();
                    (
                        spec.rubric.questions[a.question].id.name.clone(),
                        serde_json::json!({ "evidence": evidence, "answer": value }),
                    )
                })
                .collect();
            lines.push_str(
                &serde_json::json!({ "id": example.id.name, "answers": answers }).to_string(),
            );
            lines.push('\n');
            expected.push((example.id.name.clone(), example.expect.as_str()));
        }
        let tmp = tempfile::tempdir().unwrap();
        let verdicts = tmp.path().join("v.jsonl");
        Command::cargo_bin("ftprep")
            .unwrap()
            .args(["score", "--strict", "--scoring"])
            .arg(&path)
            .arg("-")
            .arg("--verdicts")
            .arg(&verdicts)
            .write_stdin(lines)
            .assert()
            .success();
        let got: Vec<(String, String)> = fs::read_to_string(&verdicts)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| {
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(a, b)| (a, b.to_string()))
            .collect();
        assert_eq!(got, expected, "{}", path.display());
    }
}

/// One file per judge: the judgments of an id are in several files, yet
/// each id is one record, with the same verdict as when its judgments are
/// on adjacent lines. `--grouped` on adjacent input gives the same too.
#[test]
fn judgments_of_an_id_form_one_record_wherever_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let all = fs::read_to_string(root().join("tests/fixtures/score/judgments.jsonl")).unwrap();
    // Split by judge: judge-a's lines (and lines without a judge) in one
    // file, the others in a second, so repeated ids are far apart.
    let (first, second): (Vec<&str>, Vec<&str>) = all
        .lines()
        .partition(|l| !l.contains("\"judge-b\"") && !l.contains("\"judge-c\""));
    assert!(!second.is_empty());
    fs::write(tmp.path().join("a.jsonl"), first.join("\n") + "\n").unwrap();
    fs::write(tmp.path().join("b.jsonl"), second.join("\n") + "\n").unwrap();
    let verdicts = |args: &[&str], out: &str| {
        ftprep()
            .arg("score")
            .args(args)
            .arg("--verdicts")
            .arg(tmp.path().join(out))
            .assert()
            .success();
        let text = fs::read_to_string(tmp.path().join(out)).unwrap();
        // Judge order within a record may differ; compare what is scored.
        let mut lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("judges");
                v
            })
            .collect();
        lines.sort_by_key(|v| v["id"].as_str().unwrap().to_string());
        lines
    };
    let adjacent = verdicts(
        &["--scoring", "spec.ftprep", "judgments.jsonl"],
        "adj.jsonl",
    );
    let grouped = verdicts(
        &["--scoring", "spec.ftprep", "--grouped", "judgments.jsonl"],
        "grouped.jsonl",
    );
    let a = tmp.path().join("a.jsonl");
    let b = tmp.path().join("b.jsonl");
    let split = verdicts(
        &[
            "--scoring",
            "spec.ftprep",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        "split.jsonl",
    );
    assert_eq!(adjacent.len(), 60);
    assert_eq!(adjacent, grouped);
    assert_eq!(adjacent, split);
    // --grouped trusts its input: on split input it scores each run of an
    // id apart, which is why it is not the default.
    let trusting = verdicts(
        &[
            "--scoring",
            "spec.ftprep",
            "--grouped",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        "trusting.jsonl",
    );
    assert!(trusting.len() > 60);
}
