//! Precision of the lint rules on published rubrics written by others
//! (tests/fixtures/precision/, judged in JUDGEMENTS.md there). The findings
//! are a snapshot, so a rule change that adds or removes a finding on real
//! rubrics shows up in review and the judgement table can be updated.

mod common;

use common::{compile_path, ftprep_files, settings};

#[test]
fn findings_on_published_rubrics() {
    let files = ftprep_files("tests/fixtures/precision");
    assert!(files.len() >= 3);
    let mut report = String::new();
    for path in files {
        let compilation = compile_path(&path);
        let errors: Vec<String> = compilation
            .diagnostics
            .iter()
            .filter(|d| d.lint_code.is_none())
            .map(|d| d.message.clone())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        report.push_str(&format!("{}\n", common::relative(&path)));
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
    }
    settings("precision").bind(|| insta::assert_snapshot!("findings", report));
}
