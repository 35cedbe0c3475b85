//! Lint timings: every rule over the therapy spec, over a generated spec
//! of 2,004 questions (where the pairwise similarity rules must use their
//! word index, not compare every pair), and over 2,000 near-duplicate
//! questions (where they must report groups, not pairs).

mod support;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ftprep::compile::compile;
use ftprep::lint::{LintOptions, lint};
use ftprep::source::SourceFile;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let therapy =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/therapy.ftprep"))
            .expect("specs/therapy.ftprep");
    // 4 gate questions + 16 per unit: 125 units give 2,004 questions.
    let generated = support::generated_spec(125);
    // 2,000 questions from one template: nearly every pair looks alike,
    // which FT401 must report as a group (it gave 332,380 findings, one
    // per pair, in 14 s and 4.3 GB).
    let near_duplicates = support::near_duplicate_spec(2000);
    let mut group = c.benchmark_group("lint");
    group.sample_size(20);
    for (name, text) in [
        ("therapy", therapy),
        ("generated-2004-questions", generated),
        ("near-duplicate-2000-questions", near_duplicates),
    ] {
        let compilation = compile(SourceFile::new("bench.ftprep", text.clone()));
        let spec = compilation.spec.expect("the spec compiles");
        group.bench_with_input(BenchmarkId::new("all-rules", name), &spec, |b, spec| {
            b.iter(|| lint(black_box(spec), &text, &LintOptions::default()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
