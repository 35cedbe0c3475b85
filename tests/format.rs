//! `ftprep fmt`: the shipped specs and fixtures are formatted; formatting
//! is idempotent, keeps every comment and preserves the resolved model,
//! over every fixture and over messed-up variants of the shipped and
//! generated specs (proptest); snapshots of formatting messy input; the
//! CLI's `--check`, `--stdin` and files with syntax errors.

mod common;

#[path = "../benches/support/mod.rs"]
mod support;

use assert_cmd::Command;
use common::{fixtures, relative, root, settings, shipped_specs};
use ftprep::compile::compile;
use ftprep::format::format_source;
use ftprep::source::SourceFile;
use proptest::prelude::*;
use std::fs;
use std::path::PathBuf;

/// Every lint rule's fixtures (`tests/fixtures/lint/<CODE>/*.ftprep`).
fn lint_fixtures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(root().join("tests/fixtures/lint")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.is_dir() {
            files.extend(common::ftprep_files(&relative(&dir)));
        }
    }
    files
}

/// The fixtures kept in the canonical layout: the valid ones, the lint
/// rules' (which are valid specs) and the precision and scoring corpora.
/// (The invalid fixtures are kept as written: some test layouts.)
fn kept_formatted() -> Vec<PathBuf> {
    let mut files = shipped_specs();
    for kind in ["valid", "precision", "score"] {
        files.extend(fixtures(kind));
    }
    files.extend(lint_fixtures());
    files.sort();
    files
}

/// Every fixture whose syntax is valid (the formatter refuses the rest).
fn formattable_fixtures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["valid", "invalid", "precision", "score"] {
        files.extend(fixtures(kind));
    }
    files.extend(lint_fixtures());
    files.sort();
    files
        .into_iter()
        .filter(|p| {
            fs::read_to_string(p)
                .map(|text| format_source(&text).is_ok())
                .unwrap_or(false)
        })
        .collect()
}

/// What a spec means, without where it was written: the model's debug
/// form with spans (`12..34`) blanked, and every diagnostic's code and
/// message.
fn meaning(text: &str) -> String {
    let compilation = compile(SourceFile::new("spec.ftprep", text));
    let mut out = format!("{:#?}\n", compilation.spec);
    for d in compilation.diagnostics.iter() {
        out.push_str(&format!("{} {}\n", d.code, d.message));
    }
    blank_spans(&out)
}

fn blank_spans(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let a = digits(i);
        if a > 0 && bytes[i + a..].starts_with(b"..") {
            let b = digits(i + a + 2);
            if b > 0 {
                out.push('_');
                i += a + 2 + b;
                continue;
            }
        }
        let c = text[i..].chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn comments_of(text: &str) -> Vec<String> {
    let parsed = ftprep::syntax::parse(text);
    let mut comments: Vec<String> = parsed
        .file
        .comments
        .iter()
        .map(|c| c.text.trim_end().to_string())
        .collect();
    comments.sort();
    comments
}

/// The properties every formatting must have.
fn assert_formats_well(name: &str, text: &str) -> String {
    let formatted = format_source(text).unwrap_or_else(|_| panic!("{name} does not format"));
    let again = format_source(&formatted).expect("formatted text parses");
    assert_eq!(again, formatted, "{name}: formatting is not idempotent");
    assert_eq!(
        meaning(text),
        meaning(&formatted),
        "{name}: formatting changed the model"
    );
    assert_eq!(
        comments_of(text),
        comments_of(&formatted),
        "{name}: formatting lost or changed a comment"
    );
    formatted
}

#[test]
fn shipped_specs_and_fixtures_are_formatted() {
    let mut unformatted = Vec::new();
    for path in kept_formatted() {
        let text = fs::read_to_string(&path).unwrap();
        if format_source(&text).map_or(true, |f| f != text) {
            unformatted.push(relative(&path));
        }
    }
    assert!(
        unformatted.is_empty(),
        "not formatted (run `cargo run -- fmt specs tests/fixtures/valid tests/fixtures/lint tests/fixtures/precision tests/fixtures/score`): {unformatted:?}"
    );
}

#[test]
fn formatting_is_idempotent_and_keeps_the_model_of_every_fixture() {
    let files: Vec<PathBuf> = shipped_specs()
        .into_iter()
        .chain(formattable_fixtures())
        .chain(common::ftprep_files("tests/fixtures/format"))
        .collect();
    assert!(files.len() > 60, "{} files", files.len());
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        assert_formats_well(&relative(&path), &text);
    }
}

#[test]
fn files_with_syntax_errors_are_refused() {
    for name in [
        "syntax-error",
        "unclosed-block",
        "unterminated-string",
        "invalid-escape",
    ] {
        let path = root().join(format!("tests/fixtures/invalid/{name}.ftprep"));
        let text = fs::read_to_string(path).unwrap();
        let errors = format_source(&text).expect_err(name);
        assert!(errors.has_errors());
    }
}

#[test]
fn messy_input_snapshots() {
    for path in common::ftprep_files("tests/fixtures/format") {
        let text = fs::read_to_string(&path).unwrap();
        let formatted = assert_formats_well(&relative(&path), &text);
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        settings("format").bind(|| insta::assert_snapshot!(name, formatted));
    }
}

// ---------------------------------------------------------------------------
// Messed-up variants
// ---------------------------------------------------------------------------

/// Rewrites the whitespace between tokens of `text` (never inside strings,
/// text blocks or comments) with choices drawn from `choices`: spaces
/// become other runs of spaces or a line break, line breaks get random
/// indentation, and, when `comments` is set, comments are inserted. With
/// `comments` unset, the number of line breaks in a run is kept at one or
/// two (a blank line), so the formatted result must equal the original's.
fn mess_up(text: &str, choices: &[u8], comments: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() * 2);
    let mut k = 0usize;
    let mut pick = |n: u8| {
        let c = choices.get(k % choices.len().max(1)).copied().unwrap_or(0);
        k += 1;
        c % n
    };
    let mut inserted = 0;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if let Some(body) = rest.strip_prefix("\"\"\"") {
            let end = body.find("\"\"\"").map(|e| e + 6).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            i += end;
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() {
                match rest.as_bytes()[j] {
                    b'\\' => j += 2,
                    b'"' => {
                        j += 1;
                        break;
                    }
                    _ => j += 1,
                }
            }
            out.push_str(&rest[..j]);
            i += j;
        } else if rest.starts_with('#') {
            let end = rest.find('\n').unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            i += end;
        } else if rest.starts_with([' ', '\n', '\t']) {
            let run = rest.len() - rest.trim_start_matches([' ', '\n', '\t']).len();
            let newlines = rest[..run].matches('\n').count();
            let before_comment = rest[run..].starts_with('#');
            let at_end = run == rest.len();
            if at_end || before_comment || out.is_empty() {
                out.push_str(&rest[..run]);
            } else {
                let spaces = " ".repeat(pick(7) as usize);
                match newlines {
                    0 => {
                        if pick(3) == 0 {
                            out.push('\n');
                            out.push_str(&spaces);
                        } else {
                            out.push(' ');
                            out.push_str(&spaces);
                        }
                    }
                    1 => {
                        out.push_str(&spaces);
                        out.push('\n');
                        out.push_str(&spaces);
                    }
                    _ => {
                        out.push_str("\n\n");
                        out.push_str(&spaces);
                    }
                }
                if comments && pick(5) == 0 {
                    inserted += 1;
                    out.push_str(&format!("# inserted {inserted}\n"));
                }
            }
            i += run;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn corpus() -> Vec<(String, String)> {
    // Formatted first, so that the canonical text is known (the shipped
    // specs are formatted already; another test checks that).
    let mut texts: Vec<(String, String)> = shipped_specs()
        .iter()
        .map(|p| {
            let text = fs::read_to_string(p).unwrap();
            (
                relative(p),
                format_source(&text).expect("a shipped spec formats"),
            )
        })
        .collect();
    let generated = format_source(&support::generated_spec(2)).expect("generated spec formats");
    texts.push(("generated".into(), generated));
    texts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whitespace is not part of the layout: a messed-up spec formats
    /// back to exactly the canonical text.
    #[test]
    fn whitespace_does_not_change_the_layout(choices in prop::collection::vec(any::<u8>(), 1..64)) {
        for (name, text) in corpus() {
            let messy = mess_up(&text, &choices, false);
            let formatted = format_source(&messy)
                .unwrap_or_else(|_| panic!("{name}: the messed-up text does not parse"));
            prop_assert!(formatted == text, "{}: differs after formatting a messed-up copy", name);
        }
    }

    /// With comments inserted anywhere between tokens: idempotent, every
    /// comment kept, the model unchanged.
    #[test]
    fn inserted_comments_survive(choices in prop::collection::vec(any::<u8>(), 1..64)) {
        for (name, text) in corpus() {
            let messy = mess_up(&text, &choices, true);
            assert_formats_well(&name, &messy);
        }
    }
}

// ---------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------

fn ftprep() -> Command {
    Command::cargo_bin("ftprep").unwrap()
}

#[test]
fn check_prints_a_diff_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let messy = root().join("tests/fixtures/format/messy.ftprep");
    let path = tmp.path().join("messy.ftprep");
    fs::copy(&messy, &path).unwrap();
    let before = fs::read(&path).unwrap();
    let out = ftprep()
        .args(["fmt", "--check"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("(as written)") && stdout.contains("(formatted)"));
    assert!(stdout.lines().any(|l| l.starts_with('+')));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("1 file would be reformatted")
    );
    assert_eq!(fs::read(&path).unwrap(), before, "--check wrote the file");

    // Formatting in place, then --check passes.
    ftprep().arg("fmt").arg(&path).assert().success();
    let after = fs::read_to_string(&path).unwrap();
    assert_eq!(
        after,
        format_source(&String::from_utf8(before).unwrap()).unwrap()
    );
    ftprep()
        .args(["fmt", "--check"])
        .arg(tmp.path())
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "0 files would be reformatted, 1 already formatted",
        ));
}

#[test]
fn stdin_formats_to_stdout() {
    let messy = fs::read_to_string(root().join("tests/fixtures/format/messy.ftprep")).unwrap();
    let out = ftprep()
        .args(["fmt", "--stdin"])
        .write_stdin(messy.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format_source(&messy).unwrap()
    );
}

#[test]
fn a_file_with_syntax_errors_is_left_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("broken.ftprep");
    let text =
        fs::read_to_string(root().join("tests/fixtures/invalid/syntax-error.ftprep")).unwrap();
    fs::write(&broken, &text).unwrap();
    let messy = tmp.path().join("messy.ftprep");
    fs::copy(root().join("tests/fixtures/format/messy.ftprep"), &messy).unwrap();
    let out = ftprep()
        .args(["--color", "never", "fmt"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("ftprep::syntax-error"), "{stderr}");
    assert!(
        stderr.contains("not formatted: fix the syntax errors first"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 file reformatted, 0 already formatted, 1 left unchanged"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&broken).unwrap(), text);
    // The other file was still formatted.
    let formatted = fs::read_to_string(&messy).unwrap();
    assert_eq!(format_source(&formatted).unwrap(), formatted);

    // --stdin with a syntax error writes nothing to standard output.
    ftprep()
        .args(["fmt", "--stdin"])
        .write_stdin(text)
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn the_starter_spec_is_formatted() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("returns.ftprep");
    ftprep()
        .args(["init", "returns", "--out"])
        .arg(&path)
        .assert()
        .success();
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(format_source(&text).unwrap(), text);
}

#[test]
fn a_file_keeps_its_line_breaks_and_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::root().join("tests/fixtures/valid/minimal.ftprep"))
        .unwrap();
    for (name, bytes) in [
        ("crlf.ftprep", text.replace('\n', "\r\n").into_bytes()),
        ("cr.ftprep", text.replace('\n', "\r").into_bytes()),
        (
            "bom.ftprep",
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        // A formatted file in any style is already formatted ...
        ftprep()
            .args(["fmt", "--check"])
            .arg(&path)
            .assert()
            .success()
            .stderr(predicates::str::contains("0 files would be reformatted"));
        // ... it compiles cleanly ...
        ftprep().arg("check").arg(&path).assert().success();
        // ... and once messed up, formatting gives back the same bytes.
        let messy = String::from_utf8(bytes.clone())
            .unwrap()
            .replace("  title", "      title");
        std::fs::write(&path, &messy).unwrap();
        ftprep().arg("fmt").arg(&path).assert().success();
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name}");
    }
}

#[test]
fn stdin_keeps_windows_line_breaks() {
    let text = std::fs::read_to_string(common::root().join("tests/fixtures/valid/minimal.ftprep"))
        .unwrap()
        .replace('\n', "\r\n");
    ftprep()
        .args(["fmt", "--stdin"])
        .write_stdin(text.clone())
        .assert()
        .success()
        .stdout(text);
}
