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

/// A small spec with a taxonomy, personas, a user simulator and the
/// generation settings, and one calibration example of `exchanges`
/// exchanges answering `C1` with `answer`.
fn generation_spec(extra_question: &str, exchanges: usize, answer: &str) -> String {
    let turns: String = (0..exchanges)
        .map(|i| format!("  user \"question {i}\" assistant \"answer number {i}\"\n"))
        .collect();
    format!(
        r#"
domain d {{ title "T" role "a helper" audience "people" }}
rubric {{
  threshold 0.5
  gate safety "Safety" {{ S1 "Does the response avoid insults?" }}
  category a "A" weight 1 {{
    A1 "Does the response greet the user?"
    C1 "Does the response refer back to an earlier turn?" {{ {extra_question} }}
  }}
}}
calibration x "X" expect pass {{
{turns}  answers {{ S1 yes "ok" A1 yes "r" C1 {answer} "r" }}
}}
generation {{ turns 2..4  mode whole  ratio 1..1.5 limit 2  breach record  training "You help." }}
taxonomy {{
  edge_cases 0.1
  edge_case "In two languages."
  dimension style "Style" {{
    value terse "Short" weight 0.5 {{ subtopic "lowercase" about "Very short." }}
    value verbose "Long" weight 0.5
  }}
}}
personas {{
  flaw_free 0.2
  trait age "Age" {{ value young "Young" weight 0.5 value old "Old" weight 0.5 }}
  flaws talk "Talk" {{ flaw vague "Vague" weight 1 {{ about "Says little." play "Say little." }} }}
  trajectory calm "Calm" weight 1
}}
user_simulator {{
  behaviour engage "Engages" weight 1
  words style.verbose 40..100
  words style.terse 2..10
  note "Stay in character."
}}
"#
    )
}

#[test]
fn the_generation_constructs_lower_into_the_model() {
    let text = generation_spec("min_turns 2 facts words, longest", 2, "yes");
    let compilation = compile(SourceFile::new("t.ftprep", text.clone()));
    assert_eq!(diagnostics(&text), Vec::<String>::new());
    let spec = compilation.spec.expect("a spec");
    use ftprep::model::{BreachPolicy, FactKind, GenerationMode};
    let generation = &spec.generation;
    assert_eq!(generation.mode, GenerationMode::Whole);
    assert!(generation.mode_explicit);
    assert_eq!(generation.breach, BreachPolicy::Record);
    let ratio = generation.ratio.as_ref().expect("a ratio");
    assert_eq!(
        (
            ratio.min.units,
            ratio.max.units,
            ratio.limit.as_ref().map(|l| l.units)
        ),
        (1_000_000_000, 1_500_000_000, Some(2_000_000_000))
    );
    assert_eq!(
        generation.training.as_ref().map(|t| t.value.as_str()),
        Some("You help.")
    );
    let taxonomy = spec.taxonomy.as_ref().expect("a taxonomy");
    assert_eq!(
        taxonomy.edge_cases.as_ref().map(|d| d.units),
        Some(100_000_000)
    );
    assert_eq!(taxonomy.edge_case_texts.len(), 1);
    let style = &taxonomy.dimensions[0];
    assert_eq!(style.values[0].subtopics.len(), 1);
    assert_eq!(
        style.values[0].about.as_ref().map(|t| t.value.as_str()),
        Some("Very short.")
    );
    let personas = spec.personas.as_ref().expect("personas");
    assert_eq!(
        personas.flaw_free.as_ref().map(|d| d.units),
        Some(200_000_000)
    );
    assert_eq!(personas.traits[0].values.len(), 2);
    let flaw = &personas.flaw_kinds[0].flaws[0];
    assert_eq!(
        flaw.play.as_ref().map(|t| t.value.as_str()),
        Some("Say little.")
    );
    assert_eq!(personas.trajectories[0].id.name, "calm");
    let simulator = spec.user_simulator.as_ref().expect("a simulator");
    // `words` resolves to indices: style is dimension 0, verbose its value 1.
    let targets: Vec<(usize, usize, u32, u32)> = simulator
        .words
        .iter()
        .map(|w| (w.dimension, w.value, w.min, w.max))
        .collect();
    assert_eq!(targets, [(0, 1, 40, 100), (0, 0, 2, 10)]);
    let (_, value) = spec.words_target(&simulator.words[0]).unwrap();
    assert_eq!(value.id.name, "verbose");
    let c1 = &spec.rubric.questions[spec.rubric.question_index("C1").unwrap()];
    assert_eq!(c1.min_turns, Some(2));
    assert_eq!(c1.facts, [FactKind::Words, FactKind::Longest]);
    // Without `mode`, a spec with a simulator simulates; without one, whole.
    let text = generation_spec("", 1, "yes").replace("mode whole  ", "");
    let spec = compile(SourceFile::new("t.ftprep", text.clone()))
        .spec
        .unwrap();
    assert_eq!(spec.generation.mode, GenerationMode::Simulate);
    assert!(!spec.generation.mode_explicit);
    let start = text.find("user_simulator {").unwrap();
    let without = &text[..start];
    let spec = compile(SourceFile::new("t.ftprep", without.to_string()))
        .spec
        .unwrap();
    assert_eq!(spec.generation.mode, GenerationMode::Whole);
    assert!(spec.user_simulator.is_none());
}

#[test]
fn a_question_with_min_turns_is_not_asked_of_a_shorter_example() {
    // Answered in a long enough example: fine.
    assert_eq!(
        diagnostics(&generation_spec("min_turns 2", 2, "yes")),
        Vec::<String>::new()
    );
    // Not asked of a one-exchange example: `na`, though it has no `when`.
    assert_eq!(
        diagnostics(&generation_spec("min_turns 2", 1, "na")),
        Vec::<String>::new()
    );
    let found = diagnostics(&generation_spec("min_turns 2", 1, "yes"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("answer-not-asked"), "{found:?}");
    // Without `min_turns`, N/A on an unconditional question is still an error.
    let found = diagnostics(&generation_spec("", 1, "na"));
    assert!(
        found.iter().any(|d| d.starts_with("na-not-allowed")),
        "{found:?}"
    );
}

#[test]
fn a_decided_question_is_checked_against_the_examples() {
    // "answer number 0" has three words.
    let text = generation_spec("decide \"assistant_words_max <= 3\"", 1, "yes");
    assert_eq!(diagnostics(&text), Vec::<String>::new());
    let spec = compile(SourceFile::new("t.ftprep", text)).spec.unwrap();
    let c1 = &spec.rubric.questions[spec.rubric.question_index("C1").unwrap()];
    let (decide, _) = c1.decide.as_ref().expect("parsed");
    assert_eq!(decide.to_string(), "assistant_words_max <= 3");
    let found = diagnostics(&generation_spec(
        "decide \"assistant_words_max < 3\"",
        1,
        "yes",
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("decide-mismatch"), "{found:?}");
    let found = diagnostics(&generation_spec("decide \"words < 3\"", 1, "yes"));
    assert!(found[0].starts_with("invalid-decide"), "{found:?}");
}

#[test]
fn a_spec_without_the_generation_blocks_has_none_of_them() {
    let path = common::root().join("tests/fixtures/valid/minimal.ftprep");
    let text = std::fs::read_to_string(path).unwrap();
    let spec = compile(SourceFile::new("minimal.ftprep", text))
        .spec
        .unwrap();
    assert!(spec.taxonomy.is_none() && spec.personas.is_none() && spec.user_simulator.is_none());
    let g = &spec.generation;
    assert!(g.ratio.is_none() && g.training.is_none() && !g.mode_explicit);
    assert_eq!(g.mode, ftprep::model::GenerationMode::Whole);
    assert_eq!(g.breach, ftprep::model::BreachPolicy::Retry);
    assert!(
        spec.rubric
            .questions
            .iter()
            .all(|q| q.min_turns.is_none() && q.facts.is_empty() && q.decide.is_none())
    );
}
