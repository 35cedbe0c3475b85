//! The command line as users run it: exit codes, files written, `--check`.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

fn ftprep() -> Command {
    let mut cmd = Command::cargo_bin("ftprep").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn minimal() -> PathBuf {
    common::root().join("tests/fixtures/valid/minimal.ftprep")
}

/// `ftprep build` of the minimal spec into `out`, with `--templates`.
fn build_minimal_with_templates(templates: &Path, out: &Path) -> assert_cmd::assert::Assert {
    ftprep()
        .arg("build")
        .arg(minimal())
        .arg("--out")
        .arg(out)
        .arg("--templates")
        .arg(templates)
        .assert()
}

/// A `--templates` directory under `tmp` holding one override.
fn templates_dir(tmp: &Path, name: &str, text: &str) -> PathBuf {
    let templates = tmp.join("templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(templates.join(name), text).unwrap();
    templates
}

const ARTIFACTS: [&str; 9] = [
    "prompts/evaluation-prompt.md",
    "prompts/generation-prompt.md",
    "prompts/assistant.md",
    "prompts/user-simulator.md",
    "prompts/training-system.md",
    "reference/domain-frameworks.md",
    "reference/evaluation-rubric.md",
    "scoring.toml",
    "judge-output.schema.json",
];

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

#[test]
fn build_writes_the_nine_artifacts_and_is_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    ftprep()
        .args(["build"])
        .arg(minimal())
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote 9 files"));
    let mut expected: Vec<String> = ARTIFACTS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(files_under(&out), expected);
    let first: Vec<Vec<u8>> = ARTIFACTS
        .iter()
        .map(|f| fs::read(out.join(f)).unwrap())
        .collect();

    // A second build into another directory gives the same bytes.
    let out2 = tmp.path().join("out2");
    ftprep()
        .arg("build")
        .arg(minimal())
        .arg("--out")
        .arg(&out2)
        .assert()
        .success();
    for (file, bytes) in ARTIFACTS.iter().zip(&first) {
        assert_eq!(&fs::read(out2.join(file)).unwrap(), bytes, "{file} differs");
    }
    // Rebuilding in place changes nothing.
    ftprep()
        .arg("build")
        .arg(minimal())
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("0 changed, 9 unchanged"));
}

#[test]
fn artifacts_do_not_depend_on_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    fs::copy(minimal(), tmp.path().join("spec.ftprep")).unwrap();
    ftprep()
        .current_dir(tmp.path())
        .args(["build", "spec.ftprep", "--out", "a"])
        .assert()
        .success();
    ftprep()
        .arg("build")
        .arg(tmp.path().join("spec.ftprep"))
        .arg("--out")
        .arg(tmp.path().join("b"))
        .assert()
        .success();
    for file in ARTIFACTS {
        let a = fs::read_to_string(tmp.path().join("a").join(file)).unwrap();
        let b = fs::read_to_string(tmp.path().join("b").join(file)).unwrap();
        assert_eq!(a, b, "{file}");
        assert!(
            !a.contains(&*tmp.path().to_string_lossy()),
            "{file} embeds a path"
        );
    }
}

#[test]
fn check_flag_catches_an_edited_artifact_and_passes_after_rebuild() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let build = |check: bool| {
        let mut cmd = ftprep();
        cmd.arg("build").arg(minimal()).arg("--out").arg(&out);
        if check {
            cmd.arg("--check");
        }
        cmd.assert()
    };
    build(false).success();
    build(true)
        .success()
        .stderr(predicate::str::contains("up to date"));

    let prompt = out.join("prompts/evaluation-prompt.md");
    let original = fs::read_to_string(&prompt).unwrap();
    fs::write(&prompt, original.replace("Safety gate", "Safety  gate")).unwrap();
    build(true)
        .code(1)
        .stdout(predicate::str::contains("-## Safety  gate"))
        .stdout(predicate::str::contains("+## Safety gate"))
        .stderr(predicate::str::contains("1 artifact in"));
    // --check never writes.
    assert!(
        fs::read_to_string(&prompt)
            .unwrap()
            .contains("Safety  gate")
    );

    fs::remove_file(out.join("scoring.toml")).unwrap();
    build(true)
        .code(1)
        .stdout(predicate::str::contains("missing: "));

    build(false).success();
    build(true).success();
    assert_eq!(fs::read_to_string(&prompt).unwrap(), original);
}

#[test]
fn build_leaves_other_files_alone_and_leaves_no_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fs::create_dir_all(out.join("prompts")).unwrap();
    fs::write(out.join("notes.md"), "my notes").unwrap();
    fs::write(out.join("prompts/mine.md"), "my prompt").unwrap();
    fs::write(out.join("scoring.toml"), "stale").unwrap();
    ftprep()
        .arg("build")
        .arg(minimal())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(out.join("notes.md")).unwrap(),
        "my notes"
    );
    assert_eq!(
        fs::read_to_string(out.join("prompts/mine.md")).unwrap(),
        "my prompt"
    );
    assert!(
        fs::read_to_string(out.join("scoring.toml"))
            .unwrap()
            .contains("version = 1")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| fs::metadata(out.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode("prompts/evaluation-prompt.md"),
            0o644,
            "a new artifact is world-readable"
        );
        fs::set_permissions(out.join("scoring.toml"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(out.join("scoring.toml"), "stale again").unwrap();
        ftprep()
            .arg("build")
            .arg(minimal())
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        assert_eq!(
            mode("scoring.toml"),
            0o600,
            "a replaced file keeps its permissions"
        );
    }
    let leftovers: Vec<String> = files_under(&out)
        .into_iter()
        .filter(|f| f.contains(".ftprep-") || f.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_spec_with_errors_writes_nothing_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let bad = common::root().join("tests/fixtures/invalid/bad-weights.ftprep");
    ftprep()
        .arg("build")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("ftprep::weights-sum"))
        .stderr(predicate::str::contains("bad-weights.ftprep:"))
        .stderr(predicate::str::contains("no artifacts written"));
    assert!(!out.exists());
}

#[test]
fn check_reports_every_file_and_exits_with_the_worst_code() {
    let bad = common::root().join("tests/fixtures/invalid/missing-gate.ftprep");
    ftprep()
        .arg("check")
        .arg(minimal())
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("minimal.ftprep: ok"))
        .stderr(predicate::str::contains("ftprep::missing-gate"));
    ftprep().arg("check").arg(minimal()).assert().success();
}

#[test]
fn usage_and_io_errors_exit_2() {
    ftprep().assert().code(2);
    ftprep().args(["build"]).assert().code(2);
    ftprep().args(["frobnicate"]).assert().code(2);
    ftprep()
        .args(["check", "does/not/exist.ftprep"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read does/not/exist.ftprep",
        ));
    ftprep().arg("--version").assert().success();
    ftprep().arg("--help").assert().success();
}

#[test]
fn non_utf8_spec_is_a_located_diagnostic() {
    let bad = common::root().join("tests/fixtures/invalid/non-utf8.ftprep");
    ftprep()
        .arg("check")
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("non-utf8.ftprep:2:21"))
        .stderr(predicate::str::contains("ftprep::invalid-utf8"));
}

#[test]
fn init_writes_a_spec_that_builds_cleanly_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    ftprep()
        .current_dir(tmp.path())
        .args(["init", "my_domain"])
        .assert()
        .success();
    let spec = tmp.path().join("my_domain.ftprep");
    assert!(
        fs::read_to_string(&spec)
            .unwrap()
            .contains("domain my_domain {")
    );
    ftprep()
        .current_dir(tmp.path())
        .args(["check", "my_domain.ftprep"])
        .assert()
        .success()
        .stderr(predicate::str::contains("error").not())
        .stderr(predicate::str::contains("warning").not());
    ftprep()
        .current_dir(tmp.path())
        .args(["build", "my_domain.ftprep"])
        .assert()
        .success();
    assert!(tmp.path().join("out/my_domain/scoring.toml").exists());

    fs::write(&spec, "mine").unwrap();
    ftprep()
        .current_dir(tmp.path())
        .args(["init", "my_domain"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(fs::read_to_string(&spec).unwrap(), "mine");

    ftprep()
        .current_dir(tmp.path())
        .args(["init", "9lives"])
        .assert()
        .code(2);
}

#[test]
fn per_question_judging_emits_one_prompt_per_question_and_warns_on_leftovers() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("spec.ftprep");
    let text = fs::read_to_string(minimal()).unwrap();
    fs::write(
        &spec,
        text.replace("calls    single", "calls    per_question"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    ftprep()
        .arg("build")
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote 15 files"));
    let s1 = fs::read_to_string(out.join("prompts/judge/S1.md")).unwrap();
    assert!(s1.contains("**S1.** Does the response avoid stating"));
    assert!(s1.contains("safety-gate question"));
    assert!(!s1.contains("**E1.**"));
    for id in ["S1", "S2", "E1", "E2", "R1", "R2"] {
        assert!(out.join(format!("prompts/judge/{id}.md")).exists());
    }

    // Back to one call: the per-question prompts are left in place, named.
    fs::write(&spec, text).unwrap();
    ftprep()
        .arg("build")
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "S1.md was not produced by this build",
        ));
    assert!(out.join("prompts/judge/S1.md").exists());
}

#[test]
fn a_broken_template_is_reported_even_when_the_build_does_not_render_it() {
    // The minimal spec judges in one call, so it renders no per-question
    // prompt; its syntax error must still fail the build.
    let tmp = tempfile::tempdir().unwrap();
    let templates = templates_dir(
        tmp.path(),
        "judge-question.md.j2",
        "{% for q in rubric.questions %}unclosed\n",
    );
    let out = tmp.path().join("out");
    build_minimal_with_templates(&templates, &out)
        .code(2)
        .stderr(predicate::str::contains("template error"))
        .stderr(predicate::str::contains("judge-question.md.j2"));
    assert!(!out.exists());
}

#[test]
fn templates_can_be_overridden_and_undefined_names_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = templates_dir(
        tmp.path(),
        "evaluation-prompt.md.j2",
        "Judge {{ spec.title }}: {{ rubric.question_count }} questions.\n",
    );
    let out = tmp.path().join("out");
    build_minimal_with_templates(&templates, &out).success();
    assert_eq!(
        fs::read_to_string(out.join("prompts/evaluation-prompt.md")).unwrap(),
        "Judge Helpful answers about returning a product: 6 questions.\n"
    );

    fs::write(
        templates.join("evaluation-prompt.md.j2"),
        "{{ spec.no_such_field }}\n",
    )
    .unwrap();
    build_minimal_with_templates(&templates, &tmp.path().join("out2"))
        .code(2)
        .stderr(predicate::str::contains("template error"))
        .stderr(predicate::str::contains("undefined"));
    assert!(!tmp.path().join("out2").exists());

    fs::write(templates.join("evaluation-prompt.md.j2"), "ok\n").unwrap();
    fs::write(templates.join("evalution-prompt.md.j2"), "typo\n").unwrap();
    build_minimal_with_templates(&templates, &tmp.path().join("out3"))
        .code(2)
        .stderr(predicate::str::contains("does not override any template"));
}

#[test]
fn check_reads_standard_input_and_directories() {
    let text = fs::read_to_string(minimal()).unwrap();
    ftprep()
        .args(["check", "-"])
        .write_stdin(text.clone())
        .assert()
        .success()
        .stderr(predicate::str::contains("<stdin>: ok"));
    ftprep()
        .args(["check", "-"])
        .write_stdin(text.replace("threshold 0.75", "threshold 7.5"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("<stdin>:"));
    // A directory: every spec under it, in order.
    let out = ftprep()
        .arg("check")
        .arg(common::root().join("specs"))
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let oks: Vec<&str> = stderr.lines().filter(|l| l.contains(": ok")).collect();
    assert_eq!(oks.len(), common::shipped_specs().len(), "{stderr}");
    let tmp = tempfile::tempdir().unwrap();
    ftprep()
        .arg("check")
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no .ftprep files found"));
}

#[test]
fn build_takes_several_specs_each_into_its_own_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let specs = common::shipped_specs();
    ftprep()
        .arg("build")
        .args(&specs)
        .arg("--out")
        .arg(tmp.path())
        .assert()
        .success();
    for id in ["therapy", "customer_support", "code_review"] {
        assert!(
            tmp.path().join(id).join("scoring.toml").is_file(),
            "{id}: {:?}",
            files_under(tmp.path())
        );
    }
    // Two specs of one domain would overwrite each other: refused.
    let again = tmp.path().join("again");
    ftprep()
        .arg("build")
        .arg(minimal())
        .arg(minimal())
        .arg("--out")
        .arg(&again)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("would overwrite each other"));
}

#[test]
fn max_diagnostics_bounds_the_report_and_says_what_it_left_out() {
    // The minimal spec has seven count warnings; denying the last one in
    // the file (FT106, on its few-shot example) makes it an error.
    let spec = minimal();
    let full = ftprep()
        .arg("check")
        .arg(&spec)
        .args(["--max-diagnostics", "0", "--deny", "FT106"])
        .assert();
    let full = String::from_utf8_lossy(&full.get_output().stderr).into_owned();
    let shown = |text: &str| text.matches("\n  × ").count() + text.matches("\n  ⚠ ").count();
    let total = shown(&format!("\n{full}"));
    assert_eq!(total, 7, "{full}");
    let cut = ftprep()
        .arg("check")
        .arg(&spec)
        .args(["--max-diagnostics", "1", "--deny", "FT106"])
        .assert()
        .code(1);
    let cut = String::from_utf8_lossy(&cut.get_output().stderr).into_owned();
    assert_eq!(shown(&format!("\n{cut}")), 1, "{cut}");
    assert!(
        cut.contains(&format!("… and {} more not shown", total - 1)),
        "{cut}"
    );
    // The error is kept before any warning, and the summary counts all.
    assert!(cut.contains("× the spec has 1 few-shot example"), "{cut}");
    assert!(cut.contains("1 error, 6 warnings"), "{cut}");
}
