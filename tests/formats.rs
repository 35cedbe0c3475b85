//! `ftprep check --format json|github|sarif`: snapshots of each format on
//! a spec with findings and an error, and the SARIF validated against the
//! SARIF 2.1.0 schema (tests/fixtures/sarif-2.1.0-rtm.5.json, from
//! Microsoft's `@microsoft/jest-sarif` package, MIT; its one malformed
//! regex, the `language` pattern with a stray `]`, is corrected so the
//! schema compiles).

mod common;

use assert_cmd::Command;
use common::{root, settings};

fn check(format: &str, files: &[&str]) -> (String, i32) {
    let output = Command::cargo_bin("ftprep")
        .unwrap()
        .current_dir(root())
        .args(["check", "--format", format])
        .args(files)
        .output()
        .unwrap();
    (
        String::from_utf8(output.stdout).unwrap(),
        output.status.code().unwrap_or(-1),
    )
}

const FILES: &[&str] = &[
    "tests/fixtures/lint/FT203/fires.ftprep",
    "tests/fixtures/lint/FT207/fires.ftprep",
    "tests/fixtures/invalid/unknown-reference.ftprep",
];

#[test]
fn json_format() {
    let (out, code) = check("json", FILES);
    assert_eq!(code, 1, "errors remain");
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["version"], 1);
    let first = &value["diagnostics"][0];
    for key in [
        "code", "name", "level", "message", "file", "span", "start", "end", "help", "related",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
    settings("formats").bind(|| insta::assert_snapshot!("check.json", out));
}

#[test]
fn github_format() {
    let (out, code) = check("github", FILES);
    assert_eq!(code, 1);
    assert!(out.lines().all(|l| l.starts_with("::error ")
        || l.starts_with("::warning ")
        || l.starts_with("::notice ")));
    settings("formats").bind(|| insta::assert_snapshot!("check.github", out));
}

#[test]
fn sarif_format_matches_the_schema() {
    let (out, code) = check("sarif", FILES);
    assert_eq!(code, 1);
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/sarif-2.1.0-rtm.5.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not match its schema: {errors:#?}"
    );
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "FT203" && r["level"] == "warning")
    );
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "FT207" && r["level"] == "error")
    );
    assert!(results.iter().any(|r| r["ruleId"] == "unknown-reference"));
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), ftprep::lint::rules::RULES.len());
    settings("formats").bind(|| insta::assert_snapshot!("check.sarif", out));
}

#[test]
fn rules_and_explain() {
    let run = |args: &[&str]| {
        let output = Command::cargo_bin("ftprep")
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        (
            String::from_utf8(output.stdout).unwrap(),
            output.status.code().unwrap_or(-1),
        )
    };
    let (list, code) = run(&["rules"]);
    assert_eq!(code, 0);
    settings("formats").bind(|| insta::assert_snapshot!("rules", list));
    let (json, _) = run(&["rules", "--format", "json"]);
    let rules: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        rules.as_array().unwrap().len(),
        ftprep::lint::rules::RULES.len()
    );
    assert_eq!(rules[0]["code"], "FT001");
    let (by_code, code) = run(&["explain", "FT203"]);
    assert_eq!(code, 0);
    let (by_name, _) = run(&["explain", "compound-question"]);
    assert_eq!(by_code, by_name);
    settings("formats").bind(|| insta::assert_snapshot!("explain-FT203", by_code));
    let (_, code) = run(&["explain", "FT999"]);
    assert_eq!(code, 2);
}
