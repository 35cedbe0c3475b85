//! Semantics of the model and scoring, checked through whole specs.

mod common;

use ftprep::compile::compile;
use ftprep::source::SourceFile;

/// A spec with three categories of one question each and a one-question
/// gate, with the given weights, threshold and calibration answers.
fn spec(weights: [&str; 3], threshold: &str, answers: [&str; 3], expect: &str) -> String {
    format!(
        r#"
domain d {{ title "T" role "a helper" audience "people" }}
rubric {{
  threshold {threshold}
  gate safety "Safety" {{ S1 "Does the response avoid insults?" }}
  category a "A" weight {wa} {{ A1 "Does the response greet the user?" }}
  category b "B" weight {wb} {{ B1 "Does the response answer the question?" }}
  category c "C" weight {wc} {{ C1 "Does the response say goodbye?" }}
}}
calibration x "X" expect {expect} {{
  user "hi" assistant "hello"
  answers {{ S1 yes "ok" A1 {x} "r" B1 {y} "r" C1 {z} "r" }}
}}
generation {{ turns 1 }}
"#,
        wa = weights[0],
        wb = weights[1],
        wc = weights[2],
        x = answers[0],
        y = answers[1],
        z = answers[2],
    )
}

/// The compiler's own diagnostics (lint findings aside: these specs are
/// deliberately small).
fn diagnostics(text: &str) -> Vec<String> {
    let compilation = compile(SourceFile::new("t.ftprep", text));
    compilation
        .diagnostics
        .iter()
        .filter(|d| d.lint_code.is_none())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

#[test]
fn a_score_that_ties_the_threshold_passes_exactly() {
    // 0.7 + 0.1 is 0.7999999999999999 in binary floating point.
    let (a, b) = (std::hint::black_box(0.7f64), std::hint::black_box(0.1f64));
    assert!(a + b < 0.8);
    let text = spec(["0.7", "0.1", "0.2"], "0.8", ["yes", "yes", "no"], "pass");
    assert_eq!(diagnostics(&text), Vec::<String>::new());
    let text = spec(["0.7", "0.1", "0.2"], "0.8", ["yes", "yes", "no"], "fail");
    let found = diagnostics(&text);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].contains("expected to fail but scores 0.8000 and passes"),
        "{found:?}"
    );
}

#[test]
fn weights_must_sum_to_one_within_a_billionth() {
    let thirds = spec(
        ["0.333333333", "0.333333333", "0.333333333"],
        "0.6",
        ["yes", "yes", "no"],
        "pass",
    );
    assert_eq!(diagnostics(&thirds), Vec::<String>::new());
    let off = spec(
        ["0.33333333", "0.33333333", "0.33333333"],
        "0.6",
        ["yes", "yes", "no"],
        "pass",
    );
    assert!(diagnostics(&off)[0].starts_with("weights-sum: category weights sum to 0.99999999"));
}

#[test]
fn na_policies_change_the_category_score() {
    let text = |na: &str, answer: &str, expect: &str| {
        format!(
            r#"
domain d {{ title "T" role "a helper" audience "people" }}
rubric {{
  threshold 0.75
  gate safety "Safety" {{ S1 "Does the response avoid insults?" }}
  category a "A" weight 1 {{
    A1 "Does the response greet the user?"
    A2 "Does the response give a hotline?" {{ when "the user is in crisis" na {na} }}
  }}
}}
calibration x "X" expect {expect} {{
  user "hi" assistant "hello"
  answers {{ S1 yes "ok" A1 yes "r" A2 {answer} "r" }}
}}
generation {{ turns 1 }}
"#
        )
    };
    // Dropped: 1/1 passes. Counted as NO: 1/2 fails. Counted as YES: 2/2.
    assert!(diagnostics(&text("drop", "na", "pass")).is_empty());
    assert!(diagnostics(&text("no", "na", "fail")).is_empty());
    assert!(diagnostics(&text("yes", "na", "pass")).is_empty());
    assert!(diagnostics(&text("no", "yes", "pass")).is_empty());
}

#[test]
fn exact_scoring_limits_category_size() {
    let category = |n: usize| {
        let questions: String = (0..n)
            .map(|i| format!("    Q{i} \"Does the response do thing {i}?\"\n"))
            .collect();
        format!(
            "domain d {{ title \"T\" role \"r\" audience \"a\" }}\nrubric {{\n  threshold 0.75\n  gate g \"G\" {{ S1 \"Does it avoid harm?\" }}\n  category c \"C\" weight 1 {{\n{questions}  }}\n}}\ngeneration {{ turns 1 }}\n"
        )
    };
    assert_eq!(diagnostics(&category(46)), Vec::<String>::new());
    let found = diagnostics(&category(47));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("rubric-too-large"));
}

#[test]
fn references_may_point_forward_and_suggest_the_nearest_name() {
    let text = r#"
rubric {
  threshold 0.75
  gate safety "Safety" { S1 "Does the response avoid diagnosing?" checks never.diagnose }
  category a "A" weight 1 { A1 "Does the response greet the user?" checks always.greet }
}
always { greet "Greet the user by name" }
never { diagnose "Name a diagnosis" }
domain d { title "T" role "a helper" audience "people" }
generation { turns 1 }
"#;
    assert!(diagnostics(text).is_empty(), "{:?}", diagnostics(text));
    let typo = text.replace("checks always.greet", "checks always.gret");
    let compilation = compile(SourceFile::new("t.ftprep", typo.clone()));
    let diagnostic = compilation
        .diagnostics
        .iter()
        .find(|d| d.lint_code.is_none())
        .unwrap();
    assert_eq!(diagnostic.code, "unknown-reference");
    assert_eq!(
        diagnostic.help.as_deref(),
        Some("did you mean `always.greet`?")
    );
    let span = diagnostic.primary_span().unwrap();
    assert_eq!(&typo[span.range()], "always.gret");
}

#[test]
fn every_syntax_error_of_a_file_is_reported_in_one_run() {
    let text = r#"
domain d {
  titel "T"
  role "a helper"
  audience "people"
}
rubric {
  treshold 0.75
  gate safety "Safety" { S1 "Does the response avoid insults?" }
  category a "A" weight 1 { A1 "Does the response greet the user?" }
}
generation { turns 1 lenght "x" }
"#;
    let found = diagnostics(text);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|d| d.starts_with("syntax-error")));
}

#[test]
fn the_syntax_tree_keeps_comments_and_spans() {
    let text = "# head\ndomain d { # inline\n  title \"T\" }\n# tail\n";
    let parsed = ftprep::syntax::parse(text);
    let comments: Vec<&str> = parsed
        .file
        .comments
        .iter()
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(comments, [" head", " inline", " tail"]);
    for comment in &parsed.file.comments {
        assert!(text[comment.span.range()].starts_with('#'));
    }
    let ftprep::syntax::ast::Item::Domain(domain) = &parsed.file.items[0] else {
        panic!("expected a domain");
    };
    assert_eq!(&text[domain.id.span.range()], "d");
    assert_eq!(&text[domain.properties[0].value.span.range()], "\"T\"");
    assert_eq!(
        &text[domain.span.range()],
        "domain d { # inline\n  title \"T\" }"
    );
}
