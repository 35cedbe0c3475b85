//! `ftprep init`: a neutral starter for the domain it is given, clean under
//! check, lint and fmt, and `--out -` for standard output.

mod common;

use assert_cmd::Command;
use common::settings;
use predicates::prelude::*;
use std::fs;

fn ftprep(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("ftprep").unwrap();
    cmd.current_dir(dir);
    cmd
}

/// The starter names the domain it was asked for, and nothing of the
/// online-shop returns spec it used to be under another name.
#[test]
fn the_starter_is_neutral_and_names_its_domain() {
    let tmp = tempfile::tempdir().unwrap();
    ftprep(tmp.path())
        .args(["init", "tenant_intake"])
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote tenant_intake.ftprep"));
    let text = fs::read_to_string(tmp.path().join("tenant_intake.ftprep")).unwrap();
    assert!(text.contains("domain tenant_intake {"));
    assert!(text.contains("title    \"Tenant intake\""));
    let line = |key: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("no {key}"))
            .to_string()
    };
    for key in ["role ", "audience "] {
        let l = line(key);
        assert!(l.contains("tenant intake") && l.contains('<'), "{l}");
    }
    for shop in [
        "shop",
        "refund",
        "kettle",
        "parcel",
        "order",
        "returns policy",
        "customer",
    ] {
        assert!(
            !text.to_lowercase().contains(shop),
            "the starter still speaks of `{shop}`"
        );
    }
    for command in [
        vec!["check", "tenant_intake.ftprep"],
        vec!["fmt", "--check", "tenant_intake.ftprep"],
    ] {
        ftprep(tmp.path())
            .args(&command)
            .assert()
            .success()
            .stderr(predicate::str::contains("warning").not())
            .stderr(predicate::str::contains("error").not());
    }
    ftprep(tmp.path())
        .args(["build", "tenant_intake.ftprep"])
        .assert()
        .success();
    settings("init").bind(|| insta::assert_snapshot!("tenant_intake.ftprep", text));
}

#[test]
fn out_dash_prints_the_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let printed = ftprep(tmp.path())
        .args(["init", "tenant_intake", "--out", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        fs::read_dir(tmp.path()).unwrap().next().is_none(),
        "a file was written"
    );
    ftprep(tmp.path())
        .args(["init", "tenant_intake"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8(printed).unwrap(),
        fs::read_to_string(tmp.path().join("tenant_intake.ftprep")).unwrap()
    );
    // Printed, it can be piped straight into a check.
    let spec = fs::read(tmp.path().join("tenant_intake.ftprep")).unwrap();
    ftprep(tmp.path())
        .args(["fmt", "--stdin"])
        .write_stdin(spec.clone())
        .assert()
        .success()
        .stdout(predicate::eq(spec));
}
