//! Error recovery is linear: `check` (parse, resolve, lint) and `fmt` on
//! hostile inputs of 10 KB, 100 KB and 1 MB (see
//! `support/pathological.rs`), and one 10 MB string. Throughput should be
//! about the same at every size; the figures are in docs/performance.md.
//!
//! Run with `cargo bench --bench recovery`.

#[path = "support/pathological.rs"]
mod pathological;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ftprep::compile::compile;
use ftprep::source::SourceFile;
use std::hint::black_box;
use std::time::Duration;

fn recovery(c: &mut Criterion) {
    let mut group = c.benchmark_group("recovery");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for kind in pathological::KINDS {
        for size in [10_000, 100_000, 1_000_000] {
            let text = pathological::hostile(kind, size);
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("check/{kind}"), size),
                &text,
                |b, text| b.iter(|| compile(SourceFile::new("h.ftprep", black_box(text.clone())))),
            );
        }
    }
    let text = pathological::hostile("long-string", 10_000_000);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("check/long-string", 10_000_000),
        &text,
        |b, text| b.iter(|| compile(SourceFile::new("h.ftprep", black_box(text.clone())))),
    );
    group.finish();
}

criterion_group!(benches, recovery);
criterion_main!(benches);
