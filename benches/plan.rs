//! Planning and auditing timings: a plan of 100,000 cells over a
//! therapy-like taxonomy (with its coverage report), and the diversity
//! audit of 5,000 conversations of 15 exchanges, generated here from a
//! seeded vocabulary (8.39 million words), with a few stock phrases
//! and openings mixed in so that the audit's candidate paths do work.

use criterion::{Criterion, criterion_group, criterion_main};
use ftprep::generate::audit::{Conversation, audit};
use ftprep::generate::coverage::coverage;
use ftprep::generate::plan::{DimensionIn, FlawIn, PlanInput, ValueIn, WeightedIn, plan};
use ftprep::generate::rng::{Rng, UNIT};
use std::hint::black_box;

fn values(prefix: &str, weights: &[u64]) -> Vec<ValueIn> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &w)| ValueIn {
            id: format!("{prefix}{i}"),
            text: format!("The {prefix} value number {i}"),
            weight: w * (UNIT / 100),
            subtopics: (0..3)
                .map(|s| format!("{prefix}{i} subtopic {s}"))
                .collect(),
        })
        .collect()
}

fn input() -> PlanInput {
    PlanInput {
        spec_id: "bench".into(),
        dimensions: vec![
            DimensionIn {
                id: "topic".into(),
                values: values("topic", &[20, 15, 15, 10, 10, 10, 5, 5, 5, 5]),
            },
            DimensionIn {
                id: "difficulty".into(),
                values: values("difficulty", &[40, 35, 25]),
            },
            DimensionIn {
                id: "style".into(),
                values: values("style", &[30, 20, 20, 15, 15]),
            },
        ],
        edge_case_share: UNIT / 10,
        edge_cases: (0..8).map(|i| format!("edge case {i}")).collect(),
        traits: vec![
            DimensionIn {
                id: "age".into(),
                values: values("age", &[30, 50, 20]),
            },
            DimensionIn {
                id: "setting".into(),
                values: values("setting", &[25, 25, 25, 25]),
            },
        ],
        flaw_free: UNIT / 5,
        flaws: (0..9)
            .map(|i| FlawIn {
                id: format!("flaw{i}"),
                kind: format!("kind{}", i % 3),
                weight: (10 + i) * (UNIT / 100),
            })
            .collect(),
        trajectories: ["stable", "improving", "deteriorating", "volatile"]
            .iter()
            .zip([40, 30, 15, 15])
            .map(|(id, w)| WeightedIn {
                id: (*id).into(),
                weight: w * (UNIT / 100),
            })
            .collect(),
        behaviours: ["engage", "ignore", "tangent", "push_back"]
            .iter()
            .zip([55, 15, 15, 15])
            .map(|(id, w)| WeightedIn {
                id: (*id).into(),
                weight: w * (UNIT / 100),
            })
            .collect(),
        turns: (3, 15),
        scenarios: Vec::new(),
    }
}

/// A vocabulary of 4,000 made-up words, drawn with a skewed frequency so
/// that common words repeat as they do in prose.
fn vocabulary(rng: &mut Rng) -> Vec<String> {
    let syllables = [
        "ka", "lo", "mi", "ren", "sa", "to", "vel", "ur", "ne", "dra", "po", "li", "an", "es",
        "th", "or", "qua", "zi", "be", "mon",
    ];
    (0..4000)
        .map(|_| {
            let n = 1 + rng.index(3);
            (0..n)
                .map(|_| syllables[rng.index(syllables.len())])
                .collect()
        })
        .collect()
}

fn sentence(rng: &mut Rng, vocabulary: &[String], words: usize, out: &mut String) {
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        // The minimum of two draws: low indices are more frequent.
        let w = rng.index(vocabulary.len()).min(rng.index(vocabulary.len()));
        out.push_str(&vocabulary[w]);
    }
    out.push('.');
}

fn message(rng: &mut Rng, vocabulary: &[String], words: usize) -> String {
    let mut out = String::new();
    let mut left = words;
    while left > 0 {
        let n = (6 + rng.index(14)).min(left);
        if !out.is_empty() {
            out.push(' ');
        }
        sentence(rng, vocabulary, n, &mut out);
        left -= n;
    }
    out
}

fn conversations(n: usize, exchanges: usize) -> Vec<Conversation> {
    let mut rng = Rng::new(2026);
    let vocabulary = vocabulary(&mut rng);
    let stock = [
        "It sounds like you are carrying a lot right now.",
        "Thank you for telling me.",
        "What feels most important to you today?",
    ];
    (0..n)
        .map(|_| {
            let mut c = Vec::with_capacity(exchanges * 2);
            for _ in 0..exchanges {
                let u = 20 + rng.index(60);
                let a = u + rng.index(u / 2 + 1);
                c.push(("user".to_string(), message(&mut rng, &vocabulary, u)));
                let mut reply = message(&mut rng, &vocabulary, a);
                if rng.index(10) == 0 {
                    reply = format!("{} {reply}", stock[rng.index(stock.len())]);
                }
                c.push(("assistant".to_string(), reply));
            }
            c
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let input = input();
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.bench_function("plan-100000", |b| {
        b.iter(|| plan(black_box(&input), 100_000, 7))
    });
    let planned = plan(&input, 100_000, 7);
    group.bench_function("coverage-100000", |b| {
        b.iter(|| coverage(black_box(&input), &planned))
    });
    let set = conversations(5000, 15);
    let words: usize = set
        .iter()
        .flatten()
        .map(|(_, t)| ftprep::facts::word_count(t) as usize)
        .sum();
    eprintln!("audit input: {} conversations, {words} words", set.len());
    group.bench_function("audit-5000x15", |b| b.iter(|| audit(black_box(&set))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
