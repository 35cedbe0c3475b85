//! Snapshot tests: every artifact of every shipped spec, and the rendered
//! diagnostics of every invalid fixture. Review changes with
//! `cargo insta review` (see snapshots/README.md).

mod common;

use common::{compile_path, fixtures, render, settings, shipped_specs};
use ftprep::emit::{Templates, emit};

#[test]
fn artifacts_of_every_shipped_spec() {
    let specs = shipped_specs();
    let mut expected = std::collections::BTreeSet::new();
    assert!(specs.len() >= 3, "expected the three shipped specs");
    for path in specs {
        let compilation = compile_path(&path);
        let rendered = render(&compilation);
        let spec = compilation
            .clean_spec()
            .unwrap_or_else(|| panic!("{} does not compile:\n{rendered}", path.display()));
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let artifacts = emit(
            spec,
            &name,
            &compilation.source.text,
            &Templates::embedded(),
        )
        .expect("the embedded templates render");
        settings("artifacts").bind(|| {
            for artifact in &artifacts {
                let snapshot = format!("{stem}__{}", artifact.path.replace('/', "__"));
                expected.insert(format!("{snapshot}.snap"));
                insta::assert_snapshot!(snapshot, artifact.contents);
            }
        });
    }
    // A renamed question or spec must not leave its old snapshots behind.
    let on_disk: std::collections::BTreeSet<String> =
        std::fs::read_dir(common::root().join("snapshots/artifacts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".snap"))
            .collect();
    let stale: Vec<&String> = on_disk.difference(&expected).collect();
    assert!(
        stale.is_empty(),
        "snapshots of artifacts no spec produces: {stale:?}"
    );
}

/// The judge's output schema of a spec with `evidence none`, which no
/// shipped spec uses: each answer carries its question, with no evidence
/// field, and a conditional question still accepts "NA".
#[test]
fn judge_output_schema_without_evidence() {
    let path = common::root().join("specs/therapy.ftprep");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\n  evidence first\n"));
    let text = text.replace("\n  evidence first\n", "\n  evidence none\n");
    let compilation =
        ftprep::compile::compile(ftprep::source::SourceFile::new("therapy.ftprep", text));
    let spec = compilation.clean_spec().expect("the spec compiles");
    assert!(!spec.judge.evidence_first);
    assert!(spec.rubric.questions.iter().any(|q| q.is_conditional()));
    let artifacts = emit(
        spec,
        "minimal.ftprep",
        &compilation.source.text,
        &Templates::embedded(),
    )
    .expect("the embedded templates render");
    let schema = artifacts
        .iter()
        .find(|a| a.path == "judge-output.schema.json")
        .expect("a schema");
    settings("variants").bind(|| {
        insta::assert_snapshot!(
            "therapy_evidence_none__judge-output.schema.json",
            schema.contents
        );
    });
}

/// The errors of broken `--templates` overrides, as `ftprep build` prints
/// them: each names the template and line, and its help says what to do
/// for that kind of error.
#[test]
fn template_errors() {
    let compilation = compile_path(&common::root().join("tests/fixtures/valid/minimal.ftprep"));
    let spec = compilation.clean_spec().expect("the fixture compiles");
    let cases = [
        ("syntax", "{% for q in rubric.questions %}\n{{ q.id }}\n"),
        ("undefined", "Judge {{ spec.no_such_field }}\n"),
        ("unknown_filter", "{{ spec.title | shout }}\n"),
        (
            "missing_import",
            "{% import \"helpers.j2\" as h %}{{ h.x() }}\n",
        ),
    ];
    for (name, template) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("evaluation-prompt.md.j2"), template).unwrap();
        let templates = Templates::from_dir(dir.path()).expect("the directory reads");
        let error = emit(spec, "minimal.ftprep", &compilation.source.text, &templates)
            .expect_err("a broken template fails the build");
        let shown = format!(
            "error: {}\n  help: {}\n",
            error.message,
            error.help.as_deref().unwrap_or("")
        );
        settings("templates").bind(|| {
            insta::assert_snapshot!(format!("template_error__{name}"), shown);
        });
    }
}

#[test]
fn diagnostics_of_every_invalid_fixture() {
    let fixtures = fixtures("invalid");
    assert!(fixtures.len() >= 9);
    for path in fixtures {
        let compilation = compile_path(&path);
        assert!(
            compilation.diagnostics.has_errors(),
            "{} should not compile",
            path.display()
        );
        for diagnostic in compilation.diagnostics.iter() {
            assert!(
                diagnostic.primary_span().is_some(),
                "{}: `{}` has no location",
                path.display(),
                diagnostic.message
            );
            assert!(
                diagnostic.help.is_some(),
                "{}: `{}` has no help",
                path.display(),
                diagnostic.message
            );
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        settings("diagnostics").bind(|| {
            insta::assert_snapshot!(stem, render(&compilation));
        });
    }
}

/// Every error code the compiler can report has a fixture whose snapshot
/// shows it, so no diagnostic reaches users unreviewed.
#[test]
fn every_compiler_diagnostic_has_a_snapshot() {
    let mut codes = std::collections::BTreeSet::new();
    let mut stack = vec![common::root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for part in text.split("Diagnostic::error(").skip(1) {
                    let part = part.trim_start();
                    if let Some((code, _)) = part.strip_prefix('"').and_then(|r| r.split_once('"'))
                    {
                        codes.insert(code.to_string());
                    }
                }
            }
        }
    }
    assert!(codes.len() > 20, "{codes:?}");
    let mut shown = String::new();
    for entry in std::fs::read_dir(common::root().join("snapshots/diagnostics")).unwrap() {
        shown.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !shown.contains(&format!("ftprep::{c}")))
        .collect();
    assert!(
        missing.is_empty(),
        "diagnostics without a snapshot: {missing:?}"
    );
}
