//! Compile-stage benchmarks: parse, resolve (lower) and emit, on the
//! therapy spec and on generated specs of 1x, 10x and 100x its size in
//! bytes; `all` is the whole pipeline, as `ftprep build` runs it.
//!
//! Run with `cargo bench --bench compile`; the figures are in
//! docs/performance.md.

mod support;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ftprep::compile::compile;
use ftprep::emit::{Templates, emit};
use ftprep::source::SourceFile;
use std::hint::black_box;

fn inputs() -> Vec<(String, String)> {
    let therapy =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/therapy.ftprep"))
            .expect("specs/therapy.ftprep");
    let unit = support::generated_spec(1).len();
    let mut inputs = Vec::new();
    for factor in [1, 10, 100] {
        let k = (therapy.len() * factor).div_ceil(unit);
        inputs.push((format!("generated-{factor}x"), support::generated_spec(k)));
    }
    inputs.insert(0, ("therapy".to_string(), therapy));
    inputs
}

fn stages(c: &mut Criterion) {
    let templates = Templates::embedded();
    for (name, text) in inputs() {
        let compilation = compile(SourceFile::new("bench.ftprep", text.clone()));
        assert!(
            !compilation.diagnostics.has_errors(),
            "{name} must compile cleanly"
        );
        let mut group = c.benchmark_group("compile");
        group.throughput(Throughput::Bytes(text.len() as u64));
        if text.len() > 1_000_000 {
            group.sample_size(10);
            group.measurement_time(std::time::Duration::from_secs(20));
        }
        group.bench_with_input(BenchmarkId::new("parse", &name), &text, |b, text| {
            b.iter(|| ftprep::syntax::parse(black_box(text)))
        });
        let parsed = ftprep::syntax::parse(&text);
        group.bench_with_input(
            BenchmarkId::new("resolve", &name),
            &parsed.file,
            |b, file| b.iter(|| ftprep::model::lower(black_box(file))),
        );
        let spec = compilation.spec.as_ref().expect("a spec");
        group.bench_with_input(BenchmarkId::new("emit", &name), spec, |b, spec| {
            b.iter(|| emit(black_box(spec), "bench.ftprep", &text, &templates))
        });
        group.bench_with_input(BenchmarkId::new("all", &name), &text, |b, text| {
            b.iter(|| {
                let compilation = compile(SourceFile::new("bench.ftprep", black_box(text.clone())));
                let spec = compilation.spec.as_ref().expect("a spec");
                emit(spec, "bench.ftprep", text, &templates)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
