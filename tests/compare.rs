//! `ftprep compare RUN_A RUN_B`: runs scored by `ftprep score`, compared.
//! The anchor (tests/fixtures/compare/make_anchor.py): a base model and a
//! fine-tuned one answering the same 14 simulated users, 0.701 against
//! 0.831 mean score, paired t-test p = 0.0165.

mod common;

use assert_cmd::Command;
use common::{root, settings};
use serde_json::Value;
use std::fs;
use std::path::Path;

fn ftprep(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::cargo_bin("ftprep")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// A directory with the spec and `run/verdicts.jsonl` scored from each
/// `(run, judgments fixture)`.
fn runs(runs: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::copy(
        root().join("tests/fixtures/score/spec.ftprep"),
        dir.join("spec.ftprep"),
    )
    .unwrap();
    for (run, fixture) in runs {
        fs::create_dir(dir.join(run)).unwrap();
        let judgments = format!("{run}.judgments.jsonl");
        fs::copy(
            root().join("tests/fixtures").join(fixture),
            dir.join(&judgments),
        )
        .unwrap();
        let verdicts = format!("{run}/verdicts.jsonl");
        let (_, stderr, code) = ftprep(
            dir,
            &[
                "score",
                "--scoring",
                "spec.ftprep",
                &judgments,
                "--verdicts",
                &verdicts,
            ],
        );
        assert_eq!(code, 0, "{stderr}");
    }
    tmp
}

fn anchor() -> tempfile::TempDir {
    runs(&[
        ("base", "compare/base.jsonl"),
        ("tuned", "compare/tuned.jsonl"),
    ])
}

fn close(value: &Value, expected: f64, tolerance: f64) -> bool {
    value
        .as_f64()
        .is_some_and(|x| (x - expected).abs() <= tolerance)
}

#[test]
fn the_anchor_is_reproduced() {
    let tmp = anchor();
    let dir = tmp.path();
    let (text, stderr, code) = ftprep(dir, &["compare", "base", "tuned"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    let (json, _, code) = ftprep(dir, &["compare", "base", "tuned", "--format", "json"]);
    assert_eq!(code, 0);
    let c: Value = serde_json::from_str(&json).unwrap();

    // The origin's figures: 0.701 against 0.831, p = 0.0165 over 14 pairs.
    assert!(close(&c["a"]["mean_score"], 0.701, 0.0005), "{}", c["a"]);
    assert!(close(&c["b"]["mean_score"], 0.831, 0.0005), "{}", c["b"]);
    let p = &c["paired"];
    assert_eq!(p["shared"], 14);
    assert_eq!(p["t_test"]["df"], 13);
    // SciPy 1.17.1, ttest_rel(tuned, base): statistic 2.750440217317684,
    // pvalue 0.016523942179943168, confidence_interval() 0.02783874712137295
    // to 0.23168506240243658.
    assert!(close(&p["t_test"]["t"], 2.750440217317684, 1e-4), "{p}");
    assert!(close(&p["t_test"]["p"], 0.016523942179943168, 1e-7), "{p}");
    assert!(
        close(&p["interval"]["low"], 0.02783874712137295, 1e-4),
        "{p}"
    );
    assert!(
        close(&p["interval"]["high"], 0.23168506240243658, 1e-4),
        "{p}"
    );
    assert!(
        close(&p["mean_difference"], 0.12976190476190477, 1e-4),
        "{p}"
    );
    // SciPy's wilcoxon of the 13 differences that are not zero, as exact
    // fractions: statistic 12.0, pvalue 0.015380859375 (its complete
    // permutation test: ties, n <= 13).
    let w = &p["wilcoxon"];
    assert_eq!(
        (w["statistic"].as_f64(), w["n"].as_u64()),
        (Some(12.0), Some(13))
    );
    assert_eq!(
        (w["zeros"].as_u64(), w["method"].as_str()),
        (Some(1), Some("exact"))
    );
    assert!(close(&w["p"], 0.015380859375, 1e-7), "{w}");
    // Newcombe's interval of the pass-rate difference, 10/14 − 6/14.
    let d = &c["pass_rate_difference"];
    assert!(close(&d["difference"], 4.0 / 14.0, 1e-4));
    assert!(
        d["interval"]["low"].as_f64() < Some(0.0) && d["interval"]["high"].as_f64() > Some(0.5)
    );
    assert!(c["warnings"].as_array().unwrap().is_empty());
    // Sorted by the size of the change.
    let changes: Vec<f64> = c["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["difference"].as_f64().unwrap().abs())
        .collect();
    assert!(changes.windows(2).all(|w| w[0] >= w[1]), "{changes:?}");

    // A run named by its verdicts file reads the same.
    let (by_file, _, code) = ftprep(
        dir,
        &["compare", "base/verdicts.jsonl", "tuned/verdicts.jsonl"],
    );
    assert_eq!(code, 0);
    assert_eq!(by_file, text);
    settings("compare").bind(|| {
        insta::assert_snapshot!("anchor", text);
        insta::assert_snapshot!("anchor.json", json);
    });
}

/// The score fixture's two judged sets have no id in common.
#[test]
fn runs_without_shared_ids_are_compared_without_a_paired_section() {
    let tmp = runs(&[
        ("one", "score/judgments.jsonl"),
        ("panel", "score/panel.jsonl"),
    ]);
    let (text, stderr, code) = ftprep(tmp.path(), &["compare", "one", "panel"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.contains("no paired statistics: the runs share no id"),
        "{text}"
    );
    settings("compare").bind(|| insta::assert_snapshot!("no-shared-ids", text));
}

#[test]
fn runs_of_different_specs_and_older_verdicts_are_warned_about() {
    let tmp = anchor();
    let dir = tmp.path();
    let tuned = fs::read_to_string(dir.join("tuned/verdicts.jsonl")).unwrap();
    let other: String = tuned
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let line = v.as_object_mut().unwrap();
            line.insert(
                "spec_sha256".into(),
                Value::String("0123456789abcdef".repeat(4)),
            );
            line.remove("answers");
            format!("{v}\n")
        })
        .collect();
    fs::write(dir.join("other.jsonl"), other).unwrap();
    let (text, stderr, code) = ftprep(dir, &["compare", "base", "other.jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    let warnings: String = text
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(warnings.lines().count(), 2, "{text}");
    let (same, _, _) = ftprep(dir, &["compare", "base", "base/verdicts.jsonl"]);
    assert!(
        same.contains("warning: A and B are the same file"),
        "{same}"
    );
    settings("compare").bind(|| insta::assert_snapshot!("warnings", warnings));
}

#[test]
fn unreadable_runs_are_clear_errors() {
    let tmp = anchor();
    let dir = tmp.path();
    fs::create_dir(dir.join("empty-run")).unwrap();
    fs::write(dir.join("empty.jsonl"), "").unwrap();
    fs::write(
        dir.join("broken.jsonl"),
        "not json\n{\"id\": \"x\"}\n{\"id\": \"y\", \"verdict\": \"pass\", \"score\": 2}\n",
    )
    .unwrap();
    let mut said = String::new();
    for (a, b) in [
        ("empty-run", "tuned"),
        ("missing.jsonl", "tuned"),
        ("base", "empty.jsonl"),
        ("base", "broken.jsonl"),
    ] {
        let (stdout, stderr, code) = ftprep(dir, &["compare", a, b]);
        assert_eq!(code, 2, "{a} {b}: {stdout}");
        assert_eq!(stdout, "");
        said.push_str(&format!("$ ftprep compare {a} {b}\n{stderr}\n"));
    }
    // A run with some bad lines is compared, and the lines are named.
    let mixed = fs::read_to_string(dir.join("tuned/verdicts.jsonl")).unwrap() + "not json\n";
    fs::write(dir.join("mixed.jsonl"), mixed).unwrap();
    let (_, stderr, code) = ftprep(dir, &["compare", "base", "mixed.jsonl"]);
    assert_eq!(code, 0);
    said.push_str(&format!("$ ftprep compare base mixed.jsonl\n{stderr}"));
    settings("compare").bind(|| insta::assert_snapshot!("errors", said));
}
