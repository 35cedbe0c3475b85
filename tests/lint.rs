//! The lint rules: every registered rule has an explanation and a pair of
//! fixtures, `tests/fixtures/lint/<CODE>/fires.ftprep` where it reports
//! and `quiet.ftprep` where it does not; the findings of `fires` are
//! snapshots. The shipped specs stay clean under the default levels.

mod common;

use common::{compile_path, render, root, settings, shipped_specs};
use ftprep::compile::{compile, compile_with};
use ftprep::diagnostics::Diagnostics;
use ftprep::lint::rules::RULES;
use ftprep::lint::{LintOptions, find_rule};
use ftprep::source::SourceFile;
use std::collections::HashSet;

#[test]
fn every_rule_is_documented_and_unique() {
    let mut codes = HashSet::new();
    let mut names = HashSet::new();
    for rule in RULES.iter().map(|r| r.meta()) {
        assert!(codes.insert(rule.code), "{} registered twice", rule.code);
        assert!(names.insert(rule.name), "{} registered twice", rule.name);
        assert!(
            rule.code.starts_with("FT") && rule.code.len() == 5,
            "{}",
            rule.code
        );
        assert!(
            rule.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-'),
            "{} is not kebab-case",
            rule.name
        );
        let e = rule.explanation;
        assert!(
            e.starts_with(&format!("# {} {}", rule.code, rule.name)),
            "{}",
            rule.code
        );
        for part in [
            "**What it does.**",
            "**Why it matters.**",
            "**Bad**",
            "**Good**",
        ] {
            assert!(e.contains(part), "{}'s explanation lacks {part}", rule.code);
        }
        assert_eq!(find_rule(rule.code).map(|m| m.name), Some(rule.name));
        assert_eq!(find_rule(rule.name).map(|m| m.code), Some(rule.code));
        assert_eq!(
            find_rule(&rule.code.to_lowercase()).map(|m| m.code),
            Some(rule.code)
        );
    }
}

fn only(diagnostics: &Diagnostics, code: &str) -> Diagnostics {
    let mut out = Diagnostics::new();
    for d in diagnostics.iter().filter(|d| d.lint_code == Some(code)) {
        out.push(d.clone());
    }
    out
}

#[test]
fn every_rule_fires_on_its_fixture_and_stays_quiet_on_the_other() {
    for rule in RULES.iter().map(|r| r.meta()) {
        let dir = root().join("tests/fixtures/lint").join(rule.code);
        let fires = compile_path(&dir.join("fires.ftprep"));
        let quiet = compile_path(&dir.join("quiet.ftprep"));
        for (name, c) in [("fires", &fires), ("quiet", &quiet)] {
            let compiler_errors: Vec<String> = c
                .diagnostics
                .iter()
                .filter(|d| d.lint_code.is_none())
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            assert!(
                compiler_errors.is_empty(),
                "{}/{name}.ftprep must compile: {compiler_errors:?}",
                rule.code
            );
        }
        let found = only(&fires.diagnostics, rule.code);
        assert!(
            !found.is_empty(),
            "{} does not fire on fires.ftprep",
            rule.code
        );
        let silent = only(&quiet.diagnostics, rule.code);
        assert!(
            silent.is_empty(),
            "{} fires on quiet.ftprep:\n{}",
            rule.code,
            ftprep::diagnostics::render::render_all(
                &silent,
                &quiet.source,
                ftprep::diagnostics::render::RenderOptions::plain()
            )
        );
        for d in found.iter() {
            assert!(d.help.is_some(), "{}: finding without help", rule.code);
            let span = d.primary_span().expect("a located finding");
            assert!(span.end <= fires.source.text.len());
        }
        let rendered = ftprep::diagnostics::render::render_all(
            &found,
            &fires.source,
            ftprep::diagnostics::render::RenderOptions::plain(),
        );
        settings("lint").bind(|| {
            insta::assert_snapshot!(format!("{}-{}", rule.code, rule.name), rendered);
        });
    }
}

#[test]
fn shipped_specs_and_the_starter_are_clean() {
    let mut files = shipped_specs();
    files.push(root().join("tests/fixtures/lint/FT101/quiet.ftprep"));
    for path in files {
        let c = compile_path(&path);
        assert!(
            c.diagnostics.is_empty(),
            "{}:\n{}",
            path.display(),
            render(&c)
        );
    }
}

fn base() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/lint/FT203/fires.ftprep")).unwrap()
}

#[test]
fn levels_follow_the_command_line_then_the_spec_then_the_default() {
    let text = base();
    let levels = |text: &str, options: &LintOptions| -> Vec<String> {
        compile_with(SourceFile::new("t.ftprep", text), options)
            .diagnostics
            .iter()
            .filter(|d| d.lint_code == Some("FT203"))
            .map(|d| d.severity.to_string())
            .collect()
    };
    let none = LintOptions::default();
    assert_eq!(levels(&text, &none), ["warning"]);
    let deny = LintOptions {
        deny: vec!["compound-question".into()],
        ..Default::default()
    };
    assert_eq!(levels(&text, &deny), ["error"]);
    let deny_all = LintOptions {
        deny: vec!["warnings".into()],
        ..Default::default()
    };
    assert_eq!(levels(&text, &deny_all), ["error"]);
    let allow = LintOptions {
        allow: vec!["FT203".into()],
        ..Default::default()
    };
    assert!(levels(&text, &allow).is_empty());
    let in_spec = format!("{text}\nlint {{\n  deny FT203\n}}\n");
    assert_eq!(levels(&in_spec, &none), ["error"]);
    let warn = LintOptions {
        warn: vec!["FT203".into()],
        ..Default::default()
    };
    assert_eq!(
        levels(&in_spec, &warn),
        ["warning"],
        "the command line wins"
    );
    let deny_warnings = format!("{text}\nlint {{\n  deny warnings\n}}\n");
    assert_eq!(levels(&deny_warnings, &none), ["error"]);
}

#[test]
fn suppressions_need_a_reason_and_a_known_code() {
    let text = base();
    let global = |allow: &str| {
        let c = compile(SourceFile::new(
            "t.ftprep",
            format!("{text}\nlint {{\n  {allow}\n}}\n"),
        ));
        c.diagnostics
            .iter()
            .filter(|d| d.lint_code.is_none())
            .map(|d| d.code.to_string())
            .collect::<Vec<_>>()
    };
    assert!(global("allow FT203 \"the acknowledgement and the offer are one move\"").is_empty());
    assert_eq!(global("allow FT203"), ["suppression-without-reason"]);
    assert_eq!(global("allow FT999 \"x\""), ["unknown-lint"]);
    assert_eq!(global("qestions 10..20"), ["unknown-lint-setting"]);
    assert_eq!(global("questions 20..10"), ["invalid-lint-setting"]);
}

#[test]
fn lint_directive_errors_are_located_diagnostics() {
    let text = format!(
        "{}\nlint {{\n  allow FT2O3 \"typo\"\n  qestions 10..20\n  threshold 0.9..0.8\n  warn warnings\n  allow FT203\n}}\n",
        base()
    );
    let c = compile(SourceFile::new(
        "tests/fixtures/lint/directives.ftprep",
        text,
    ));
    settings("diagnostics").bind(|| {
        insta::assert_snapshot!("lint-directives", render(&c));
    });
}
