//! The benchmark generator makes valid specs at every size, so the
//! benchmarks measure compiling, not error reporting.

#[path = "../benches/support/mod.rs"]
mod support;

use ftprep::compile::compile;
use ftprep::source::SourceFile;

#[test]
fn generated_specs_compile_cleanly() {
    for k in [1, 3, 10] {
        let compilation = compile(SourceFile::new("gen.ftprep", support::generated_spec(k)));
        let errors: Vec<String> = compilation
            .diagnostics
            .iter()
            .filter(|d| d.severity == ftprep::diagnostics::Severity::Error)
            .map(|d| format!("{}: {}", d.code, d.message))
            .take(5)
            .collect();
        assert!(errors.is_empty(), "k={k}: {errors:?}");
        let spec = compilation.spec.expect("a spec");
        assert_eq!(spec.rubric.questions.len(), 4 + 16 * k);
    }
}

#[test]
fn generated_specs_grow_linearly() {
    let one = support::generated_spec(1).len();
    let hundred = support::generated_spec(100).len();
    // Linear up to the fixed header and footer, so sizes computed from
    // `generated_spec(1)` hold at scale.
    let ratio = hundred as f64 / one as f64;
    assert!((80.0..=100.0).contains(&ratio), "ratio {ratio}");
}
