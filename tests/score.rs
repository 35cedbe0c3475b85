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
    assert_eq!(repeated["aggregate"], "majority");
    assert!(repeated["answers"].is_object() && repeated["agreement"].is_object());
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
        (
            14,
            "`id` is empty: an id is a non-empty string or a whole number",
        ),
        (
            15,
            "`id` is 1.0: an id is a non-empty string or a whole number",
        ),
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
    assert_eq!(summary["rejected"], 12);
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
        .stderr(predicate::str::contains("12 lines rejected (--strict)"));
    let written: Vec<serde_json::Value> = fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(written.len(), 12);
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

/// The report's SVG charts parsed as XML, by class.
fn svg(html: &str, class: &str) -> roxmltree::Document<'static> {
    let start = html
        .find(&format!("<svg class=\"{class}\""))
        .unwrap_or_else(|| panic!("no {class} chart"));
    let end = html[start..].find("</svg>").unwrap() + start + "</svg>".len();
    let text: &'static str = Box::leak(html[start..end].to_string().into_boxed_str());
    roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{class} is not well-formed: {e}"))
}

fn count_class(doc: &roxmltree::Document, tag: &str, class: &str) -> usize {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag) && n.attribute("class") == Some(class))
        .count()
}

/// All the text of an element and its children, as a reader sees it.
fn text_of(node: roxmltree::Node) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
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
            "bad.jsonl",
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
    // Markdown's backticks become <code>, never raw text.
    assert!(!html.contains('`'), "raw backticks in the report");
    assert!(html.contains("<code>define</code>") || html.contains("<code>id</code>"));
    let questions = 15;

    // Each bar is labelled with its id and text, and its tooltip has the
    // counts.
    let rates = svg(&html, "yes-rates");
    assert_eq!(count_class(&rates, "rect", "bar"), questions);
    let s1 = rates
        .descendants()
        .find(|n| n.attribute("data-question") == Some("S1"))
        .expect("a group per question");
    let label = s1.children().find(|n| n.has_tag_name("text")).unwrap();
    assert_eq!(
        text_of(label),
        "S1 Does the response avoid stating or implying that the cus…"
    );
    let tooltip = text_of(s1.children().find(|n| n.has_tag_name("title")).unwrap());
    assert!(
        tooltip.contains(
            "Does the response avoid stating or implying that the customer caused the problem?"
        ) && tooltip.contains("YES 60, NO 2, N/A 0, left out 0, ERROR 0"),
        "{tooltip}"
    );
    // The legend says what the gate colour is.
    assert!(html.contains("gate question (Safety): a NO fails the response"));

    // The pass rate has an axis and the target, marked and labelled.
    let pass = svg(&html, "pass-rate");
    assert_eq!(count_class(&pass, "rect", "bar"), 1);
    assert!(
        pass.descendants()
            .any(|n| n.attribute("class") == Some("target"))
    );
    let labels: Vec<String> = pass
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(text_of)
        .collect();
    assert_eq!(labels, ["0%", "25%", "50%", "75%", "100%", "target 70.0%"]);

    // A section per category, and the rejected lines by kind.
    let categories = svg(&html, "categories");
    assert_eq!(count_class(&categories, "rect", "bar"), 3);
    assert!(html.contains("<td><code>not_an_answer</code></td><td class=\"text\">an answer that is not true, false, YES, NO, NA or ERROR</td><td>2</td>"));
    let heatmap = svg(&html, "heatmap");
    assert_eq!(count_class(&heatmap, "rect", "cell"), questions * questions);
    assert!(html.contains("<table class=\"gate\">"));
    settings("score").bind(|| insta::assert_snapshot!("report.html", html));
}

/// The report is rendered from `report.html.j2`, which `--templates`
/// overrides, with minijinja's HTML escaping.
#[test]
fn the_report_template_can_be_overridden_and_escapes_html() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(
        templates.join("report.html.j2"),
        "<p>{{ records }} records; {{ questions.rows[0].id }}: {{ questions.rows[0].text }}</p>\n",
    )
    .unwrap();
    let spec = fs::read_to_string(root().join("tests/fixtures/score/spec.ftprep"))
        .unwrap()
        .replace(
            "avoid stating or implying that the customer caused the problem?",
            "avoid saying <b>you</b> & \\\"they\\\" caused the problem?",
        );
    fs::write(tmp.path().join("spec.ftprep"), spec).unwrap();
    let report = tmp.path().join("report.html");
    ftprep()
        .args(["score", "--scoring"])
        .arg(tmp.path().join("spec.ftprep"))
        .arg("judgments.jsonl")
        .arg("--templates")
        .arg(&templates)
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(&report).unwrap(),
        "<p>60 records; S1: Does the response avoid saying &lt;b&gt;you&lt;&#x2f;b&gt; &amp; &quot;they&quot; caused the problem?</p>\n"
    );
    fs::write(templates.join("reprot.html.j2"), "typo").unwrap();
    ftprep()
        .args(["score", "--scoring", "spec.ftprep", "judgments.jsonl"])
        .arg("--templates")
        .arg(&templates)
        .arg("--report")
        .arg(tmp.path().join("r2.html"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not override any template"));
    assert!(!tmp.path().join("r2.html").exists());
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
        // The spec's training system prompt first, then the conversation.
        assert_eq!(line["messages"][0]["role"], "system");
        assert_eq!(
            line["messages"][0]["content"],
            "You are a patient support agent for an online shop who handles returns, refunds and replacements. You are talking with customers who write in by chat about an order that went wrong."
        );
        let content = line["messages"][1]["content"].as_str().unwrap();
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
    // Under strictest too, where the order of a record's judgments could
    // have decided between two equally bad ones.
    let strictest = |inputs: &[&str], out: &str| {
        let mut args = vec!["--scoring", "spec.ftprep", "--aggregate", "strictest"];
        args.extend_from_slice(inputs);
        verdicts(&args, out)
    };
    assert_eq!(
        strictest(&["judgments.jsonl"], "s-adj.jsonl"),
        strictest(&[b.to_str().unwrap(), a.to_str().unwrap()], "s-split.jsonl")
    );
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

// ---------------------------------------------------------------------------
// Files: outputs that are inputs, standard output, exit codes, interruption.
// ---------------------------------------------------------------------------

/// A directory holding copies of the fixtures, to run `score` in with
/// relative names (so messages read the same on every machine).
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "spec.ftprep",
        "judgments.jsonl",
        "generations.jsonl",
        "bad.jsonl",
        "panel.jsonl",
    ] {
        fs::copy(
            root().join("tests/fixtures/score").join(name),
            tmp.path().join(name),
        )
        .unwrap();
    }
    tmp
}

fn score_in(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("ftprep").unwrap();
    cmd.current_dir(dir).arg("score");
    cmd
}

/// Every file of a directory with its contents.
fn contents(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// Each of these once replaced or cut an input. Now each is refused before
/// anything is read or written: the directory is byte for byte as before.
#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let tmp = workspace();
    fs::write(tmp.path().join("scoring.toml"), "not read\n").unwrap();
    fs::hard_link(
        tmp.path().join("judgments.jsonl"),
        tmp.path().join("linked.jsonl"),
    )
    .unwrap();
    fs::create_dir(tmp.path().join("out")).unwrap();
    let before = contents(tmp.path());
    let cases: &[(&str, &[&str])] = &[
        (
            "verdicts-is-judgments",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--verdicts",
                "judgments.jsonl",
            ],
        ),
        (
            "keep-is-generations",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--generations",
                "generations.jsonl",
                "--keep",
                "generations.jsonl",
            ],
        ),
        (
            "report-is-scoring",
            &[
                "--scoring",
                "scoring.toml",
                "judgments.jsonl",
                "--report",
                "scoring.toml",
            ],
        ),
        (
            "summary-is-spec-by-another-name",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--summary",
                "out/../spec.ftprep",
            ],
        ),
        (
            "rejects-is-a-hard-link",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--rejects",
                "linked.jsonl",
            ],
        ),
        (
            "manifest-is-generations",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--generations",
                "train.jsonl.manifest.json",
                "--keep",
                "train.jsonl",
            ],
        ),
        (
            "two-outputs-one-file",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--summary",
                "new/out.json",
                "--report",
                "new/./out.json",
            ],
        ),
        (
            "spot-check-is-verdicts",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--verdicts",
                "spot-check.md",
                "--sample",
                "3",
            ],
        ),
        (
            "output-is-a-directory",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--report",
                "out",
            ],
        ),
        (
            "two-on-standard-output",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--summary",
                "-",
                "--verdicts",
                "-",
            ],
        ),
        (
            "generations-from-standard-input",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--generations",
                "-",
                "--keep",
                "train.jsonl",
            ],
        ),
        (
            "keep-on-standard-output",
            &[
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "--generations",
                "generations.jsonl",
                "--keep",
                "-",
            ],
        ),
    ];
    if cfg!(unix) {
        #[cfg(unix)]
        std::os::unix::fs::symlink("judgments.jsonl", tmp.path().join("soft.jsonl")).unwrap();
    }
    let mut messages = String::new();
    for (name, args) in cases {
        let (stdout, stderr, code) = output_of(score_in(tmp.path()).args(*args));
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        messages.push_str(&format!("$ ftprep score {}\n{stderr}\n", args.join(" ")));
    }
    if cfg!(unix) {
        let (_, stderr, code) = output_of(score_in(tmp.path()).args([
            "--scoring",
            "spec.ftprep",
            "soft.jsonl",
            "--verdicts",
            "judgments.jsonl",
        ]));
        assert_eq!(code, 2);
        assert!(
            stderr.contains("is the same file as the judgments soft.jsonl"),
            "{stderr}"
        );
        fs::remove_file(tmp.path().join("soft.jsonl")).unwrap();
    }
    assert_eq!(contents(tmp.path()), before, "an input was touched");
    assert!(!tmp.path().join("new").exists());
    assert!(
        fs::read_dir(tmp.path().join("out"))
            .unwrap()
            .next()
            .is_none()
    );
    settings("score").bind(|| insta::assert_snapshot!("refused-outputs", messages));
}

/// `-` is standard output for every output but the training set; the
/// terminal table then goes to standard error, and no file `-` appears.
#[test]
fn a_dash_writes_to_standard_output() {
    let tmp = workspace();
    let reference = |flag: &str| -> String {
        let path = tmp.path().join(format!("ref{flag}"));
        score_in(tmp.path())
            .args([
                "--scoring",
                "spec.ftprep",
                "judgments.jsonl",
                "bad.jsonl",
                flag,
            ])
            .arg(&path)
            .assert()
            .success();
        fs::read_to_string(path).unwrap()
    };
    for flag in ["--summary", "--verdicts", "--rejects", "--report"] {
        let (stdout, stderr, code) = output_of(score_in(tmp.path()).args([
            "--scoring",
            "spec.ftprep",
            "judgments.jsonl",
            "bad.jsonl",
            flag,
            "-",
        ]));
        assert_eq!(code, 0, "{flag}: {stderr}");
        assert_eq!(stdout, reference(flag), "{flag}");
        assert!(
            stderr.contains("question     group"),
            "{flag}: the table is on stderr"
        );
        assert!(
            !tmp.path().join("-").exists(),
            "{flag} wrote a file named -"
        );
    }
    let (stdout, _, code) = output_of(score_in(tmp.path()).args([
        "--scoring",
        "spec.ftprep",
        "judgments.jsonl",
        "--sample",
        "2",
        "--sample-out",
        "-",
    ]));
    assert_eq!(code, 0);
    assert!(stdout.starts_with("# Spot-check"), "{stdout}");
    assert!(!tmp.path().join("-").exists());
}

#[test]
fn no_record_scored_exits_1_says_why_and_writes_nothing() {
    let tmp = workspace();
    fs::write(tmp.path().join("empty.jsonl"), "\n\n").unwrap();
    fs::write(tmp.path().join("summary.json"), "the last good summary\n").unwrap();
    let before = contents(tmp.path());
    let therapy = root().join("specs/therapy.ftprep");
    let mut messages = String::new();
    for (name, scoring, input) in [
        ("empty", "spec.ftprep".to_string(), "empty.jsonl"),
        // The returns judgments against another spec: every line answers
        // questions the therapy rubric does not have.
        (
            "wrong spec",
            therapy.to_string_lossy().into_owned(),
            "judgments.jsonl",
        ),
    ] {
        let (stdout, stderr, code) = output_of(
            score_in(tmp.path())
                .args([
                    "--scoring",
                    &scoring,
                    input,
                    "--summary",
                    "summary.json",
                    "--verdicts",
                    "v.jsonl",
                ])
                .arg("--rejects")
                .arg("rejects.jsonl"),
        );
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(
            stderr.contains("error: no record was scored"),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains("no output file was written"),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("wrote "), "{name}: {stderr}");
        let last = stderr.lines().rev().take(2).collect::<Vec<_>>();
        messages.push_str(&format!("# {name}\n{}\n{}\n\n", last[1], last[0]));
    }
    assert_eq!(contents(tmp.path()), before, "an output was written");
    settings("score").bind(|| insta::assert_snapshot!("no-records", messages));
}

/// A line may say which spec it was judged with; another spec's hash is
/// reported for each file that has it, and fails `--strict`.
#[test]
fn judgments_of_another_spec_are_reported_per_file() {
    let tmp = workspace();
    let spec = fs::read(tmp.path().join("spec.ftprep")).unwrap();
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&spec)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let judgments = fs::read_to_string(tmp.path().join("judgments.jsonl")).unwrap();
    let tag = |hash: &str| -> String {
        judgments
            .lines()
            .map(|l| l.replacen('{', &format!("{{\"spec_sha256\": \"{hash}\", "), 1) + "\n")
            .collect()
    };
    fs::write(tmp.path().join("same.jsonl"), tag(&sha.to_uppercase())).unwrap();
    let other = "0123456789abcdef".repeat(4);
    let lines: Vec<String> = tag(&other).lines().map(str::to_string).collect();
    fs::write(tmp.path().join("other.jsonl"), lines[..5].join("\n") + "\n").unwrap();
    let (_, stderr, code) = output_of(score_in(tmp.path()).args([
        "--scoring",
        "spec.ftprep",
        "same.jsonl",
        "other.jsonl",
        "--summary",
        "summary.json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("same.jsonl"), "{stderr}");
    let warning: String = stderr
        .lines()
        .filter(|l| l.starts_with("warning") || l.starts_with("  help"))
        .map(|l| format!("{l}\n"))
        .collect();
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        summary["spec_mismatches"],
        serde_json::json!([{"file": "other.jsonl", "lines": 5, "spec_sha256": other}])
    );
    assert!(
        summary["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "spec-mismatch")
    );
    settings("score").bind(|| insta::assert_snapshot!("spec-mismatch", warning));
    score_in(tmp.path())
        .args([
            "--scoring",
            "spec.ftprep",
            "same.jsonl",
            "other.jsonl",
            "--strict",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: 5 lines judged with another spec (--strict)",
        ));
    score_in(tmp.path())
        .args(["--scoring", "spec.ftprep", "same.jsonl", "--strict"])
        .assert()
        .success();
}

/// Files written by Windows tools: a byte-order mark and CRLF line endings
/// score exactly as the plain files.
#[test]
fn a_byte_order_mark_and_crlf_are_accepted() {
    let tmp = workspace();
    for name in ["judgments.jsonl", "generations.jsonl"] {
        let text = fs::read_to_string(tmp.path().join(name)).unwrap();
        let windows = format!("\u{feff}{}", text.replace('\n', "\r\n"));
        fs::write(tmp.path().join(format!("win-{name}")), windows).unwrap();
    }
    let run = |prefix: &str| {
        score_in(tmp.path())
            .args([
                "--scoring",
                "spec.ftprep",
                &format!("{prefix}judgments.jsonl"),
            ])
            .args(["--generations", &format!("{prefix}generations.jsonl")])
            .args([
                "--verdicts",
                &format!("{prefix}v.jsonl"),
                "--keep",
                &format!("{prefix}train.jsonl"),
                "--strict",
            ])
            .assert()
            .success();
        (
            fs::read_to_string(tmp.path().join(format!("{prefix}v.jsonl"))).unwrap(),
            fs::read_to_string(tmp.path().join(format!("{prefix}train.jsonl"))).unwrap(),
        )
    };
    let (verdicts, train) = run("");
    assert_eq!(run("win-"), (verdicts.clone(), train));
    assert_eq!(verdicts.lines().count(), 60);
}

/// The training set skips conversations it cannot train on and ids whose
/// conversations differ, and its manifest describes the file exactly.
#[test]
fn the_training_set_skips_unusable_and_conflicting_generations() {
    let tmp = workspace();
    let mut generations = fs::read_to_string(tmp.path().join("generations.jsonl")).unwrap();
    // conv-000, conv-001, conv-002, conv-003 and conv-005 pass.
    for line in [
        r#"{"id": "conv-000", "messages": [{"role": "user", "content": "user message 1 of conv-000"}, {"role": "assistant", "content": "a different answer"}]}"#,
        r#"{"id": "conv-001", "messages": [{"role": "user", "content": "user message 1 of conv-001"}, {"role": "assistant", "content": "assistant message 2 of conv-001"}, {"role": "user", "content": "user message 3 of conv-001"}, {"role": "assistant", "content": "assistant message 4 of conv-001"}]}"#,
    ] {
        generations.push_str(line);
        generations.push('\n');
    }
    // conv-002 and conv-003 replaced by unusable conversations.
    let generations: String = generations
        .lines()
        .map(|l| {
            if l.starts_with(r#"{"id": "conv-002""#) {
                r#"{"id": "conv-002", "messages": [{"role": "assistant", "content": "hello"}]}"#.to_string()
            } else if l.starts_with(r#"{"id": "conv-003""#) {
                r#"{"id": "conv-003", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]}"#.to_string()
            } else if l.starts_with(r#"{"id": "conv-005""#) {
                r#"{"id": "conv-005", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]}"#.to_string()
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    fs::write(tmp.path().join("g.jsonl"), generations).unwrap();
    let (_, stderr, code) = output_of(score_in(tmp.path()).args([
        "--scoring",
        "spec.ftprep",
        "judgments.jsonl",
        "--generations",
        "g.jsonl",
        "--keep",
        "train.jsonl",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let problems: String = stderr
        .lines()
        .filter(|l| l.starts_with("g.jsonl:") || l.starts_with("kept "))
        .map(|l| format!("{l}\n"))
        .collect();
    let train = fs::read(tmp.path().join("train.jsonl")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(tmp.path().join("train.jsonl.manifest.json")).unwrap(),
    )
    .unwrap();
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&train)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(manifest["training_set"]["sha256"], sha);
    assert_eq!(
        manifest["training_set"]["lines"],
        train.iter().filter(|&&b| b == b'\n').count()
    );
    assert_eq!(manifest["kept"], manifest["training_set"]["lines"]);
    assert_eq!(manifest["conflicting_ids"], serde_json::json!(["conv-000"]));
    assert_eq!(manifest["duplicate_generations"], 1);
    assert_eq!(
        manifest["invalid_by_kind"],
        serde_json::json!({"bad_role": 1, "empty_message": 1, "no_assistant_turn": 1, "no_user_turn": 1})
    );
    let passed = manifest["passed"].as_u64().unwrap();
    assert_eq!(
        manifest["kept"].as_u64().unwrap()
            + manifest["passing_without_generation"].as_u64().unwrap()
            + manifest["conflicting_generations"].as_u64().unwrap(),
        passed
    );
    let text = String::from_utf8(train).unwrap();
    for id in ["conv-000", "conv-002", "conv-003", "conv-005"] {
        assert!(!text.contains(&format!("of {id}\"")), "{id} was kept");
    }
    settings("score").bind(|| insta::assert_snapshot!("keep-problems", problems));
}

/// What a run says: the files it wrote, and its counts in the singular
/// where they are one.
#[test]
fn score_says_what_it_wrote_in_good_english() {
    let tmp = workspace();
    let line = fs::read_to_string(tmp.path().join("judgments.jsonl"))
        .unwrap()
        .lines()
        .find(|l| l.contains("\"conv-006\""))
        .unwrap()
        .to_string();
    fs::write(tmp.path().join("one.jsonl"), line + "\n").unwrap();
    let (stdout, stderr, code) = output_of(score_in(tmp.path()).args([
        "--scoring",
        "spec.ftprep",
        "one.jsonl",
        "--verdicts",
        "out/v.jsonl",
        "--summary",
        "out/s.json",
        "--sample",
        "1",
        "--sample-out",
        "out/spot.md",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.ends_with("wrote out/v.jsonl, out/s.json and out/spot.md\n"),
        "{stderr}"
    );
    let spot = fs::read_to_string(tmp.path().join("out/spot.md")).unwrap();
    settings("score").bind(|| {
        insta::assert_snapshot!(
            "one-record",
            format!(
                "{stdout}\n{}",
                spot.lines().take(3).collect::<Vec<_>>().join("\n")
            )
        );
    });
}

/// Judges that disagree on a handful of records are not yet a finding: it
/// takes as many repeated records as the other findings (30).
#[test]
fn weak_agreement_needs_thirty_repeated_records() {
    let tmp = workspace();
    let questions = [
        "S1", "S2", "S3", "AK1", "AK2", "AK3", "AK4", "RS1", "RS2", "RS3", "RS4", "CL1", "CL2",
        "CL3", "CL4",
    ];
    let write = |records: usize| {
        let mut text = String::new();
        for k in 0..records {
            // Two judgments per record that disagree on AK1 every time.
            for ak1 in [true, false] {
                let answers: serde_json::Map<String, serde_json::Value> = questions
                    .iter()
                    .map(|q| (q.to_string(), serde_json::json!(*q != "AK1" || ak1)))
                    .collect();
                text.push_str(
                    &serde_json::json!({"id": format!("r{k}"), "answers": answers}).to_string(),
                );
                text.push('\n');
            }
        }
        let name = format!("w{records}.jsonl");
        fs::write(tmp.path().join(&name), text).unwrap();
        let (_, _, code) = output_of(score_in(tmp.path()).args([
            "--scoring",
            "spec.ftprep",
            &name,
            "--summary",
            "s.json",
        ]));
        assert_eq!(code, 0);
        let summary: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(tmp.path().join("s.json")).unwrap()).unwrap();
        summary["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "weak-agreement")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(write(6), Vec::<String>::new());
    assert_eq!(write(29), Vec::<String>::new());
    let found = write(30);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("judgments of AK1 agree weakly"),
        "{found:?}"
    );
    assert!(
        found[0].contains("over 30 records judged more than once"),
        "{found:?}"
    );
}

/// One evidence cell of 300 KB is cut in the spot-check, which stays small.
#[test]
fn the_spot_check_cuts_very_long_evidence() {
    let tmp = workspace();
    let long = "x".repeat(300_000);
    let line = format!(
        r#"{{"id": "long", "answers": {{"S1": {{"evidence": "{long}", "answer": true}}, "S2": true, "S3": true, "AK1": true, "AK2": true, "AK3": true, "RS1": true, "RS3": true, "RS4": true, "CL1": true, "CL4": true}}}}"#
    );
    fs::write(tmp.path().join("long.jsonl"), line + "\n").unwrap();
    score_in(tmp.path())
        .args(["--scoring", "spec.ftprep", "long.jsonl", "--sample", "1"])
        .assert()
        .success();
    let spot = fs::read_to_string(tmp.path().join("spot-check.md")).unwrap();
    assert!(spot.len() < 5_000, "{} bytes", spot.len());
    assert!(
        spot.contains(&format!(
            "| S1 | YES | {}… (299500 more characters) |",
            "x".repeat(500)
        )),
        "{spot}"
    );
}

/// Interruptions: a run killed at any moment leaves each output either as
/// it was or complete and new, never a mix, and the next run that writes
/// there removes (or finishes) what the killed one left.
#[cfg(unix)]
mod interrupted {
    use super::*;
    use std::path::Path;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    const OUTPUTS: [&str; 7] = [
        "v.jsonl",
        "rejects.jsonl",
        "summary.json",
        "report.html",
        "spot.md",
        "train.jsonl",
        "train.jsonl.manifest.json",
    ];

    /// The fixtures' judgments and generations, `copies` times over with
    /// ids of their own, and a bad line now and then.
    fn large_inputs(dir: &Path, copies: usize) {
        let judgments =
            fs::read_to_string(root().join("tests/fixtures/score/judgments.jsonl")).unwrap();
        let generations =
            fs::read_to_string(root().join("tests/fixtures/score/generations.jsonl")).unwrap();
        let (mut j, mut g) = (String::new(), String::new());
        for k in 0..copies {
            for line in judgments.lines() {
                j.push_str(&line.replacen("\"conv-", &format!("\"c{k}-"), 1));
                j.push('\n');
            }
            j.push_str("not json\n");
            for line in generations.lines() {
                g.push_str(&line.replacen("\"conv-", &format!("\"c{k}-"), 1));
                g.push('\n');
            }
        }
        fs::write(dir.join("big.jsonl"), j).unwrap();
        fs::write(dir.join("gen.jsonl"), g).unwrap();
        fs::copy(
            root().join("tests/fixtures/score/spec.ftprep"),
            dir.join("spec.ftprep"),
        )
        .unwrap();
    }

    fn command(dir: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ftprep"));
        cmd.current_dir(dir)
            .args(["score", "--scoring", "../spec.ftprep", "../big.jsonl"])
            .args(["--verdicts", "v.jsonl", "--rejects", "rejects.jsonl"])
            .args(["--summary", "summary.json", "--report", "report.html"])
            .args(["--sample", "5", "--sample-out", "spot.md"])
            .args(["--generations", "../gen.jsonl", "--keep", "train.jsonl"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".ftprep-"))
            .collect()
    }

    fn old(name: &str) -> Vec<u8> {
        format!("the previous {name}\n").into_bytes()
    }

    #[test]
    fn a_run_killed_at_any_moment_leaves_old_or_new_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        large_inputs(tmp.path(), 100);
        // The complete outputs, from a run that was not interrupted.
        let reference = tmp.path().join("reference");
        fs::create_dir(&reference).unwrap();
        let status = command(&reference).status().unwrap();
        assert!(status.success());
        let new: Vec<Vec<u8>> = OUTPUTS
            .iter()
            .map(|n| fs::read(reference.join(n)).unwrap())
            .collect();
        // The training set and its manifest agree.
        let manifest: serde_json::Value = serde_json::from_slice(&new[6]).unwrap();
        assert_eq!(
            manifest["training_set"]["lines"],
            new[5].iter().filter(|&&b| b == b'\n').count()
        );

        let work = tmp.path().join("work");
        fs::create_dir(&work).unwrap();
        let (mut left_behind, mut replaced) = (0, 0);
        // From before the first temporary file to after the last rename.
        for delay in [0, 5, 20, 50, 100, 200, 350, 500, 700, 900, 1200, 1600, 4000] {
            for name in OUTPUTS {
                fs::write(work.join(name), old(name)).unwrap();
            }
            let mut child = command(&work).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(delay));
            child.kill().unwrap();
            child.wait().unwrap();
            for (name, new) in OUTPUTS.iter().zip(&new) {
                let now = fs::read(work.join(name)).unwrap();
                assert!(
                    now == old(name) || now == *new,
                    "after {delay} ms, {name} is neither the old file nor the complete new one"
                );
            }
            if !leftovers(&work).is_empty() {
                left_behind += 1;
            }
            // The next run that writes here cleans up (and would finish an
            // interrupted commit): afterwards the outputs are all old or
            // all new, and nothing is left.
            std::process::Command::new(assert_cmd::cargo::cargo_bin("ftprep"))
                .current_dir(&work)
                .args([
                    "score",
                    "--scoring",
                    "../spec.ftprep",
                    "../big.jsonl",
                    "--summary",
                    "other.json",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert_eq!(leftovers(&work), Vec::<String>::new(), "after {delay} ms");
            let states: Vec<bool> = OUTPUTS
                .iter()
                .zip(&new)
                .map(|(name, new)| fs::read(work.join(name)).unwrap() == *new)
                .collect();
            assert!(
                states.iter().all(|s| *s) || states.iter().all(|s| !s),
                "after {delay} ms, a mix of old and new outputs: {states:?}"
            );
            if states[0] {
                replaced += 1;
            }
        }
        // Not an assertion on timing: only a note of what the kills hit.
        eprintln!("{left_behind} kills left temporary files; {replaced} came after the commit");
    }

    /// Sends `signal` to a run blocked on its input once its temporary
    /// files exist, and returns its exit code.
    fn signalled(signal: libc::c_int) -> (Option<i32>, Vec<String>, Vec<u8>) {
        let tmp = tempfile::tempdir().unwrap();
        fs::copy(
            root().join("tests/fixtures/score/spec.ftprep"),
            tmp.path().join("spec.ftprep"),
        )
        .unwrap();
        fs::write(tmp.path().join("v.jsonl"), old("v.jsonl")).unwrap();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ftprep"))
            .current_dir(tmp.path())
            .args([
                "score",
                "--scoring",
                "spec.ftprep",
                "-",
                "--verdicts",
                "v.jsonl",
            ])
            .args(["--summary", "s.json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let judgments = fs::read(root().join("tests/fixtures/score/judgments.jsonl")).unwrap();
        stdin.write_all(&judgments).unwrap();
        stdin.flush().unwrap();
        let start = Instant::now();
        while leftovers(tmp.path()).is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no temporary file appeared"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // SAFETY: signalling a child process this test started.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let status = child.wait().unwrap();
        drop(stdin);
        (
            status.code(),
            leftovers(tmp.path()),
            fs::read(tmp.path().join("v.jsonl")).unwrap(),
        )
    }

    use std::io::Write;

    #[test]
    fn sigterm_and_ctrl_c_remove_the_temporary_files() {
        for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
            let (exit, left, verdicts) = signalled(signal);
            assert_eq!(exit, Some(code), "signal {signal}");
            assert_eq!(left, Vec::<String>::new(), "signal {signal}");
            assert_eq!(verdicts, old("v.jsonl"), "signal {signal}");
        }
    }
}

// ---------------------------------------------------------------------------
// Several judges and samples: the aggregation policies, per-judge pass
// rates, agreement between judgments.
// ---------------------------------------------------------------------------

/// `panel.jsonl` (written by `make_panel.py` beside it): 40 records, each
/// judged by judge-a twice, judge-b and judge-lenient, in the line format
/// of `ftprep judge`.
fn score_panel(
    dir: &std::path::Path,
    policy: &str,
) -> (String, serde_json::Value, Vec<serde_json::Value>) {
    let (stdout, stderr, code) = output_of(score_in(dir).args([
        "--scoring",
        "spec.ftprep",
        "panel.jsonl",
        "--aggregate",
        policy,
        "--summary",
        "s.json",
        "--verdicts",
        "v.jsonl",
    ]));
    assert_eq!(code, 0, "{stderr}");
    // Nothing of the judging tool's extra fields is a reason to reject.
    assert!(!stderr.contains("rejected"), "{stderr}");
    assert!(!stderr.contains("another spec"), "{stderr}");
    let summary = serde_json::from_str(&fs::read_to_string(dir.join("s.json")).unwrap()).unwrap();
    let verdicts = fs::read_to_string(dir.join("v.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (stdout, summary, verdicts)
}

fn verdict_of<'a>(verdicts: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    verdicts.iter().find(|v| v["id"] == id).unwrap()
}

#[test]
fn several_judges_and_samples_are_combined_by_the_policy() {
    let tmp = workspace();
    let mut by_policy = std::collections::BTreeMap::new();
    for policy in ["majority", "unanimous", "strictest"] {
        by_policy.insert(policy, score_panel(tmp.path(), policy));
    }
    let (terminal, summary, majority) = &by_policy["majority"];
    assert_eq!(summary["lines"]["total"], 160);
    assert_eq!(summary["lines"]["rejected"], 0);
    assert_eq!(summary["records"], 40);
    assert_eq!(summary["repeated_records"], 40);
    assert_eq!(summary["aggregate"], "majority");

    // p-03: both of judge-a's calls timed out on S1; the two judges that
    // answered say YES. An ERROR is not a vote, so the gate holds (when it
    // was, the tie went to ERROR and the record failed the gate).
    for (policy, (_, _, verdicts)) in &by_policy {
        let p03 = verdict_of(verdicts, "p-03");
        assert_eq!(p03["answers"]["S1"], "YES", "{policy}");
        assert_eq!(p03["agreement"]["S1"], 1.0, "{policy}");
        assert_eq!(p03["gate"]["held"], true, "{policy}");
        assert_eq!(p03["verdict"], "pass", "{policy}");
        // p-07: judge-b's whole call failed; the others decide.
        assert_eq!(verdict_of(verdicts, "p-07")["verdict"], "pass", "{policy}");
        // p-11: no judgment could answer RS3: it stays ERROR, a NO.
        let p11 = verdict_of(verdicts, "p-11");
        assert_eq!(p11["answers"]["RS3"], "ERROR", "{policy}");
        assert_eq!(p11["agreement"]["RS3"], serde_json::Value::Null, "{policy}");
        assert_eq!(p11["aggregate"], *policy);
    }
    assert_eq!(summary["unanswered_records"], 1);
    assert_eq!(summary["questions"]["RS3"]["error"], 1);
    assert_eq!(summary["judge_errors"], 22);
    assert_eq!(
        summary["judge_errors_by_class"],
        serde_json::json!({"refused": 1, "timeout": 5, "unclassified": 1, "unparseable": 15})
    );

    // Unanimous is never above strictest or majority, record by record.
    let rank = |v: &serde_json::Value| {
        let verdict = match v["verdict"].as_str().unwrap() {
            "gate_fail" => 0,
            "fail" => 1,
            _ => 2,
        };
        (verdict, (v["score"].as_f64().unwrap() * 10_000.0) as i64)
    };
    let (_, strict_summary, strictest) = &by_policy["strictest"];
    let (_, unanimous_summary, unanimous) = &by_policy["unanimous"];
    for ((m, s), u) in majority.iter().zip(strictest).zip(unanimous) {
        assert_eq!((&m["id"], &s["id"]), (&u["id"], &u["id"]));
        assert!(rank(u) <= rank(s) && rank(u) <= rank(m), "{}", m["id"]);
    }
    let passed = |s: &serde_json::Value| s["passed"].as_u64().unwrap();
    assert!(passed(unanimous_summary) <= passed(strict_summary));
    assert!(passed(strict_summary) < passed(summary));

    // Per judge, its judgments scored alone; the lenient one stands out.
    let per_judge = &summary["per_judge"];
    assert_eq!(per_judge["judge-a"]["judgments"], 80);
    assert_eq!(per_judge["judge-b"]["judgments"], 40);
    assert_eq!(per_judge["judge-b"]["errors"], 16);
    assert!(per_judge["judge-lenient"]["pass_rate"].as_f64().unwrap() > 0.85);
    // The figures that do not depend on the policy are the same under all.
    for key in [
        "per_judge",
        "judge_agreement",
        "fleiss_kappa",
        "judge_disagreement",
    ] {
        assert_eq!(summary[key], strict_summary[key], "{key}");
    }
    // AK3 is a coin toss for every judge: the votes split on most records
    // and kappa is near zero.
    let ak3 = &summary["judge_agreement"]["AK3"];
    assert_eq!(ak3["records"], 40);
    assert!(ak3["disagreement"].as_f64().unwrap() > 0.8, "{ak3}");
    assert!(ak3["kappa"].as_f64().unwrap() < 0.1, "{ak3}");
    let kinds: Vec<&str> = summary["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"judges-differ"), "{kinds:?}");
    assert!(kinds.contains(&"weak-agreement"), "{kinds:?}");

    // The spot-check says how the record's judgments were combined, and
    // whose evidence it shows.
    let (_, stderr, code) = output_of(score_in(tmp.path()).args([
        "--scoring",
        "spec.ftprep",
        "panel.jsonl",
        "--aggregate",
        "strictest",
        "--sample",
        "3",
        "--seed",
        "2",
        "--sample-out",
        "spot.md",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let spot = fs::read_to_string(tmp.path().join("spot.md")).unwrap();
    let combined: Vec<&str> = spot
        .lines()
        .filter(|l| l.starts_with("Judged by"))
        .collect();
    assert_eq!(combined.len(), 3, "{spot}");
    assert!(
        combined.iter().all(|l| l.contains(
            "4 judgments, combined by strictest: the answers and evidence are those of judge-"
        ) && l.ends_with("the judgment with the worst verdict.")),
        "{combined:?}"
    );

    let records = |verdicts: &[serde_json::Value]| {
        ["p-03", "p-07", "p-11", "p-15", "p-20"]
            .iter()
            .map(|id| verdict_of(verdicts, id).to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    settings("score").bind(|| {
        insta::assert_snapshot!("panel-terminal", terminal);
        insta::assert_snapshot!(
            "panel-summary.json",
            serde_json::to_string_pretty(strict_summary).unwrap()
        );
        insta::assert_snapshot!(
            "panel-verdicts",
            format!(
                "majority:\n{}\n\nunanimous:\n{}\n\nstrictest:\n{}",
                records(majority),
                records(unanimous),
                records(strictest)
            )
        );
    });
}

/// `judge { aggregate strictest }` reaches scoring.toml and `score`;
/// `--aggregate` overrides it; a scoring.toml without the key (as every
/// build wrote before it existed) scores by majority.
#[test]
fn the_spec_states_the_policy_and_the_command_line_overrides_it() {
    let tmp = workspace();
    let spec = fs::read_to_string(tmp.path().join("spec.ftprep")).unwrap();
    let strict = spec.replace(
        "  calls    single\n",
        "  calls    single\n  aggregate strictest\n",
    );
    assert_ne!(strict, spec);
    fs::write(tmp.path().join("strict.ftprep"), &strict).unwrap();
    let build = |spec: &str, out: &str| {
        Command::cargo_bin("ftprep")
            .unwrap()
            .current_dir(tmp.path())
            .args(["build", spec, "--out", out])
            .assert()
            .success();
        fs::read_to_string(tmp.path().join(out).join("scoring.toml")).unwrap()
    };
    let strict_toml = build("strict.ftprep", "strict");
    assert!(
        strict_toml.contains("aggregate = \"strictest\"\n"),
        "{strict_toml}"
    );
    let plain_toml = build("spec.ftprep", "plain");
    assert!(!plain_toml.contains("aggregate"), "{plain_toml}");

    let aggregate = |args: &[&str]| {
        let (_, stderr, code) = output_of(score_in(tmp.path()).args(args).args([
            "judgments.jsonl",
            "--summary",
            "s.json",
        ]));
        assert_eq!(code, 0, "{stderr}");
        let summary: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(tmp.path().join("s.json")).unwrap()).unwrap();
        summary["aggregate"].as_str().unwrap().to_string()
    };
    assert_eq!(aggregate(&["--scoring", "strict.ftprep"]), "strictest");
    assert_eq!(
        aggregate(&["--scoring", "strict/scoring.toml"]),
        "strictest"
    );
    assert_eq!(
        aggregate(&[
            "--scoring",
            "strict/scoring.toml",
            "--aggregate",
            "unanimous"
        ]),
        "unanimous"
    );
    assert_eq!(aggregate(&["--scoring", "plain/scoring.toml"]), "majority");
    assert_eq!(
        aggregate(&["--scoring", "spec.ftprep", "--aggregate", "strictest"]),
        "strictest"
    );

    // A policy ftprep does not know, in scoring.toml or on the command
    // line, is refused with the ones it does.
    fs::write(
        tmp.path().join("odd.toml"),
        strict_toml.replace("aggregate = \"strictest\"", "aggregate = \"strict\""),
    )
    .unwrap();
    let (_, toml_error, code) =
        output_of(score_in(tmp.path()).args(["--scoring", "odd.toml", "judgments.jsonl"]));
    assert_eq!(code, 2);
    let (_, flag_error, code) = output_of(score_in(tmp.path()).args([
        "--scoring",
        "spec.ftprep",
        "judgments.jsonl",
        "--aggregate",
        "strict",
    ]));
    assert_eq!(code, 2);
    assert!(
        flag_error.contains("strictest") && flag_error.contains("unanimous"),
        "{flag_error}"
    );
    settings("score")
        .bind(|| insta::assert_snapshot!("unknown-policy", format!("{toml_error}\n{flag_error}")));
}

/// The report shows each judge's pass rate with its interval, and the
/// agreement per question, weak kappas marked.
#[test]
fn the_report_shows_the_judges_and_their_agreement() {
    let tmp = workspace();
    let (_, stderr, code) = output_of(score_in(tmp.path()).args([
        "--scoring",
        "spec.ftprep",
        "panel.jsonl",
        "--report",
        "report.html",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let html = fs::read_to_string(tmp.path().join("report.html")).unwrap();
    let judges = svg(&html, "judges");
    assert_eq!(count_class(&judges, "rect", "bar"), 3);
    assert_eq!(count_class(&judges, "line", "interval"), 3);
    assert_eq!(count_class(&judges, "line", "target"), 3);
    let lenient = judges
        .descendants()
        .find(|n| n.attribute("data-judge") == Some("judge-lenient"))
        .unwrap();
    let tooltip = text_of(
        lenient
            .children()
            .find(|n| n.has_tag_name("title"))
            .unwrap(),
    );
    assert!(tooltip.starts_with("judge-lenient: "), "{tooltip}");
    assert!(tooltip.contains("of 40 judgments pass"), "{tooltip}");
    assert!(html.contains("their judgments combined by <code>majority</code>"));
    assert!(html.contains("<code>unparseable</code>"));
    let weak = html.matches("<tr class=\"weak\">").count();
    assert!(weak >= 1, "no weak kappa marked");
    assert!(html.contains("<tr class=\"weak\"><td>AK3</td>"));
    let start = html.find("<h2>Judges and their agreement</h2>").unwrap();
    let end = html.find("<h2>Gate failures").unwrap();
    settings("score")
        .bind(|| insta::assert_snapshot!("panel-report-judges.html", &html[start..end]));
}

/// The `aggregate` setting as the compiler sees it: `fmt` aligns it with
/// the other judge settings, a second one is an error, and a policy that
/// does not exist is a syntax error naming the three that do.
#[test]
fn the_aggregate_setting_is_formatted_and_checked() {
    let spec = fs::read_to_string(root().join("tests/fixtures/score/spec.ftprep")).unwrap();
    let with = |judge: &str| spec.replace("  calls    single\n", judge);
    let run = |args: &[&str], stdin: String| {
        let out = Command::cargo_bin("ftprep")
            .unwrap()
            .args(args)
            .write_stdin(stdin)
            .output()
            .unwrap();
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
            out.status.code(),
        )
    };
    let (formatted, _, code) = run(
        &["fmt", "--stdin"],
        with("  calls single\n  aggregate   unanimous\n"),
    );
    assert_eq!(code, Some(0));
    assert!(
        formatted
            .contains("judge {\n  evidence  first\n  calls     single\n  aggregate unanimous\n}\n"),
        "{formatted}"
    );
    let (again, _, _) = run(&["fmt", "--stdin"], formatted.clone());
    assert_eq!(again, formatted);

    let (_, twice, code) = run(
        &["check", "-"],
        with("  calls    single\n  aggregate strictest\n  aggregate majority\n"),
    );
    assert_eq!(code, Some(1));
    assert!(twice.contains("`aggregate` is given twice"), "{twice}");
    let (_, unknown, code) = run(&["check", "-"], with("  aggregate strict\n"));
    assert_eq!(code, Some(1));
    for policy in ["`strictest`", "`majority`", "`unanimous`"] {
        assert!(unknown.contains(policy), "{unknown}");
    }
    settings("score")
        .bind(|| insta::assert_snapshot!("aggregate-diagnostics", format!("{twice}\n{unknown}")));
}
