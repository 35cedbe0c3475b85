//! Precision of the lint rules on rubrics the rules were not written
//! against (tests/fixtures/precision/, judged in JUDGEMENTS.md there). The
//! findings are snapshots, so a rule change that adds or removes a finding
//! shows up in review and the judgement table can be updated.
//!
//! Two corpora: published rubrics written by others, which have no
//! anchors or calibration examples; and specs written with the method at
//! its minimum of three calibration examples (a spec written for this
//! corpus, and each shipped spec cut to its first passing, failing and
//! gate-failing example), where the anchor and calibration rules have
//! something to read.

mod common;

use common::{compile_path, ftprep_files, settings, shipped_specs};
use ftprep::compile::{Compilation, compile};
use ftprep::source::SourceFile;

/// The findings of one file, one line each, under its name; the file must
/// compile (lint findings only).
fn report(name: &str, compilation: &Compilation) -> String {
    let errors: Vec<String> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.lint_code.is_none())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?}");
    let mut report = format!("{name}\n");
    for d in compilation.diagnostics.sorted() {
        let line = d
            .primary_span()
            .map(|s| {
                compilation
                    .source
                    .line_index
                    .line_col(&compilation.source.text, s.start)
                    .line
            })
            .unwrap_or(0);
        report.push_str(&format!(
            "  {} {} (line {line}): {}\n",
            d.short_code(),
            d.code,
            d.message
        ));
    }
    report
}

#[test]
fn findings_on_published_rubrics() {
    let files = ftprep_files("tests/fixtures/precision");
    assert!(files.len() >= 3);
    let mut out = String::new();
    for path in files {
        out.push_str(&report(&common::relative(&path), &compile_path(&path)));
    }
    settings("precision").bind(|| insta::assert_snapshot!("findings", out));
}

/// A spec's text with only the first calibration example of each verdict:
/// the method's minimum of three. Calibration blocks open at the start of
/// a line with `calibration` and close with a `}` alone on a line.
fn first_of_each_verdict(text: &str) -> String {
    let mut out = String::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if skipping {
            skipping = line.trim_end() != "}";
            continue;
        }
        if let Some(rest) = line.strip_prefix("calibration ") {
            let verdict = rest
                .split_whitespace()
                .skip_while(|w| *w != "expect")
                .nth(1)
                .unwrap_or("");
            if seen.contains(&verdict) {
                skipping = true;
                continue;
            }
            seen.push(verdict);
        }
        out.push_str(line);
    }
    out
}

#[test]
fn findings_on_specs_with_three_calibration_examples() {
    let mut out = String::new();
    for path in ftprep_files("tests/fixtures/precision/method") {
        out.push_str(&report(&common::relative(&path), &compile_path(&path)));
    }
    for path in shipped_specs() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = format!(
            "{} (first pass, fail and gate_fail)",
            common::relative(&path)
        );
        let compilation = compile(SourceFile::new(&name, first_of_each_verdict(&text)));
        let spec = compilation.spec.as_ref().expect("the cut spec compiles");
        assert_eq!(spec.calibration.len(), 3, "{name}");
        out.push_str(&report(&name, &compilation));
    }
    settings("precision").bind(|| insta::assert_snapshot!("three_calibration_examples", out));
}
