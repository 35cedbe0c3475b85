//! The generation library from outside: a seeded plan is the same on every
//! run and machine (a committed snapshot of its JSON), its shares follow the
//! weights (exactly for the stratified parts, within sampling error for the
//! drawn ones), every cell is hit when N allows; the audit finds what was
//! injected and stays quiet on diverse text; `decide` errors are located.

mod common;

use ftprep::facts::{Decide, facts};
use ftprep::generate::audit::{Conversation, audit};
use ftprep::generate::coverage::coverage;
use ftprep::generate::plan::{
    DimensionIn, FlawIn, PlanInput, ValueIn, WeightedIn, behaviour_for, plan,
};
use ftprep::generate::rng::{Rng, UNIT};
use proptest::prelude::*;
use std::collections::HashSet;

fn w(x: f64) -> u64 {
    (x * UNIT as f64).round() as u64
}

fn dimension(id: &str, values: &[(&str, f64, &[&str])]) -> DimensionIn {
    DimensionIn {
        id: id.into(),
        values: values
            .iter()
            .map(|&(v, weight, subtopics)| ValueIn {
                id: v.into(),
                text: format!("The {v} value"),
                weight: w(weight),
                subtopics: subtopics.iter().map(|s| s.to_string()).collect(),
            })
            .collect(),
    }
}

fn weighted(items: &[(&str, f64)]) -> Vec<WeightedIn> {
    items
        .iter()
        .map(|&(id, weight)| WeightedIn {
            id: id.into(),
            weight: w(weight),
        })
        .collect()
}

/// A therapy-like input: three dimensions (4 × 3 × 3 = 36 cells), a trait
/// pool, two kinds of flaw, trajectories and behaviours.
fn therapy() -> PlanInput {
    PlanInput {
        spec_id: "therapy".into(),
        dimensions: vec![
            dimension(
                "topic",
                &[
                    ("work", 0.30, &["deadlines", "a difficult manager"]),
                    ("grief", 0.20, &[]),
                    ("relationships", 0.30, &["a breakup", "family", "friends"]),
                    ("sleep", 0.20, &[]),
                ],
            ),
            dimension(
                "difficulty",
                &[
                    ("clear", 0.4, &[]),
                    ("ambiguous", 0.35, &[]),
                    ("crisis", 0.25, &[]),
                ],
            ),
            dimension(
                "style",
                &[
                    ("terse", 0.3, &[]),
                    ("verbose", 0.2, &[]),
                    ("plain", 0.5, &[]),
                ],
            ),
        ],
        edge_case_share: w(0.10),
        edge_cases: vec![
            "The user writes in two languages at once.".into(),
            "The user asks the assistant to keep a secret from their therapist.".into(),
        ],
        traits: vec![dimension(
            "age",
            &[
                ("young", 0.3, &[]),
                ("middle", 0.5, &[]),
                ("older", 0.2, &[]),
            ],
        )],
        flaw_free: w(0.20),
        flaws: vec![
            FlawIn {
                id: "minimises".into(),
                kind: "communication".into(),
                weight: w(0.25),
            },
            FlawIn {
                id: "vague".into(),
                kind: "communication".into(),
                weight: w(0.15),
            },
            FlawIn {
                id: "yes_but".into(),
                kind: "resistance".into(),
                weight: w(0.20),
            },
            FlawIn {
                id: "hostile".into(),
                kind: "resistance".into(),
                weight: w(0.10),
            },
        ],
        trajectories: weighted(&[
            ("stable", 0.4),
            ("improving", 0.3),
            ("deteriorating", 0.15),
            ("volatile", 0.15),
        ]),
        behaviours: weighted(&[
            ("engage", 0.55),
            ("ignore", 0.15),
            ("tangent", 0.15),
            ("push_back", 0.15),
        ]),
        turns: (3, 6),
        scenarios: Vec::new(),
    }
}

#[test]
fn a_seeded_plan_is_the_committed_one() {
    let input = therapy();
    let small = plan(&input, 12, 20_261_201);
    let json = serde_json::to_string_pretty(&small).unwrap();
    assert_eq!(
        json,
        serde_json::to_string_pretty(&plan(&input, 12, 20_261_201)).unwrap()
    );
    let behaviours: Vec<String> = small
        .items
        .iter()
        .map(|item| {
            let turns: Vec<&str> = (0..item.turns)
                .map(|t| behaviour_for(&input, small.seed, item.index, t).unwrap_or("-"))
                .collect();
            format!("{}: {}", item.id, turns.join(" "))
        })
        .collect();
    common::settings("generate").bind(|| {
        insta::assert_snapshot!("therapy-plan-12", json);
        insta::assert_snapshot!("therapy-plan-12-behaviours", behaviours.join("\n"));
        insta::assert_snapshot!(
            "therapy-plan-12-coverage",
            coverage(&input, &small).render()
        );
    });
}

#[test]
fn shares_follow_the_weights_within_one_item() {
    let input = therapy();
    for n in [1usize, 5, 36, 37, 99, 100, 1000] {
        let p = plan(&input, n, 3);
        let c = coverage(&input, &p);
        for d in &c.dimensions {
            for v in &d.values {
                let expected = v.declared * n as f64;
                assert!(
                    (v.count as f64 - expected).abs() < 1.0 + 1e-9,
                    "n={n} {}.{}: {} against {expected}",
                    d.id,
                    v.id,
                    v.count
                );
            }
        }
        let edge = c.edge_cases.unwrap();
        assert!((edge.count as f64 - 0.1 * n as f64).abs() < 1.0 + 1e-9);
    }
}

#[test]
fn a_large_plan_matches_the_weights() {
    let input = therapy();
    let n = 20_000usize;
    let p = plan(&input, n, 11);
    let c = coverage(&input, &p);
    let exact = 1.0 / n as f64 + 1e-12;
    for d in &c.dimensions {
        for v in &d.values {
            assert!(
                v.difference.abs() <= exact,
                "{}.{}: {}",
                d.id,
                v.id,
                v.difference
            );
        }
    }
    assert_eq!(c.cells.hit, 36);
    assert_eq!(c.cells.unhit, 0);
    assert!(c.edge_cases.unwrap().difference.abs() <= exact);
    // Drawn per item: within four standard errors.
    let within = |share: f64, declared: f64, of: u64, what: &str| {
        let sigma = (declared * (1.0 - declared) / of as f64).sqrt();
        assert!(
            (share - declared).abs() <= 4.0 * sigma + 1e-12,
            "{what}: {share} against {declared} (σ {sigma})"
        );
    };
    let free = c.flaw_free.unwrap();
    within(free.share, free.declared, c.items, "flaw-free");
    let flawed = c.items - free.count;
    for f in &c.flaws {
        within(f.primary_share, f.declared, flawed, &f.id);
    }
    for t in c.traits.iter().flat_map(|t| &t.values) {
        within(t.share, t.declared, c.items, &t.id);
    }
    for t in &c.trajectories {
        within(t.share, t.declared, c.items, &t.id);
    }
    for t in &c.turns {
        within(t.share, t.declared, c.items, &t.id);
    }
    for b in &c.behaviours {
        within(b.share, b.declared, c.exchanges, &b.id);
    }
    // Secondary flaws: one or two, even odds.
    let two = p
        .items
        .iter()
        .filter(|i| i.persona.secondary_flaws.len() == 2)
        .count() as f64;
    within(two / flawed as f64, 0.5, flawed, "two secondary flaws");
    // Each cell near its product share: far closer than independent draws.
    let mut counts = std::collections::HashMap::new();
    for item in &p.items {
        *counts.entry(item.cell.clone()).or_insert(0u64) += 1;
    }
    for (cell, count) in counts {
        let mut expected = n as f64;
        for (d, v) in &cell {
            let dim = input.dimensions.iter().find(|x| &x.id == d).unwrap();
            let value = dim.values.iter().find(|x| &x.id == v).unwrap();
            expected *= value.weight as f64 / UNIT as f64;
        }
        assert!(
            (count as f64 - expected).abs() <= 4.0,
            "{cell:?}: {count} against {expected}"
        );
    }
}

#[test]
fn every_cell_is_hit_when_n_allows() {
    let input = therapy();
    // 36 cells; the `verbose` style (0.2) gets 0.2·N items and is part of
    // 12 cells, so N = 60 is the first N whose quotas reach every cell.
    for n in [60, 61, 72, 100, 500] {
        for seed in 0..10 {
            let c = coverage(&input, &plan(&input, n, seed));
            assert_eq!(
                c.cells.hit, 36,
                "n={n} seed={seed}: {:?}",
                c.cells.unhit_cells
            );
        }
    }
    // Equal weights: N = cells hits every cell exactly once.
    let mut equal = therapy();
    for d in &mut equal.dimensions {
        for v in &mut d.values {
            v.weight = 1;
        }
    }
    for seed in 0..10 {
        let p = plan(&equal, 36, seed);
        let cells: HashSet<_> = p.items.iter().map(|i| i.cell.clone()).collect();
        assert_eq!(cells.len(), 36);
    }
}

#[test]
fn per_item_draws_do_not_depend_on_n() {
    let input = therapy();
    let small = plan(&input, 50, 9);
    let large = plan(&input, 500, 9);
    for (a, b) in small.items.iter().zip(&large.items) {
        assert_eq!((&a.id, &a.persona, a.turns), (&b.id, &b.persona, b.turns));
    }
    assert_eq!(small.items[7].id, "therapy-s9-00007");
}

fn conversation(rng: &mut Rng, exchanges: usize) -> Conversation {
    let text = |words: usize, rng: &mut Rng| {
        (0..words)
            .map(|_| format!("t{:x}", rng.below(1 << 20)))
            .collect::<Vec<_>>()
            .join(" ")
            + "."
    };
    (0..exchanges)
        .flat_map(|_| {
            let u = 8 + rng.index(30);
            let a = u + rng.index(u / 3 + 1);
            [
                ("user".to_string(), text(u, rng)),
                ("assistant".to_string(), text(a, rng)),
            ]
        })
        .collect()
}

#[test]
fn the_audit_finds_what_was_injected_and_nothing_else() {
    let mut rng = Rng::new(77);
    let diverse: Vec<Conversation> = (0..400).map(|_| conversation(&mut rng, 6)).collect();
    let quiet = audit(&diverse);
    assert!(quiet.findings.is_empty(), "{}", quiet.render());

    let mut set = diverse.clone();
    for (i, c) in set.iter_mut().enumerate() {
        if i % 4 == 0 {
            // 25%: a stock phrase mid-message.
            c[3].1 = format!(
                "{} I want you to know that your feelings are valid {}",
                c[3].1, c[3].1
            );
        }
        if i % 3 == 0 {
            // 33%: the same opening.
            c[1].1 = format!("Thank you for sharing that with me. {}", c[1].1);
        }
    }
    set[399] = set[5].clone();
    let a = audit(&set);
    let codes: Vec<&str> = a.findings.iter().map(|f| f.code).collect();
    assert!(codes.contains(&"repeated-phrase-20"), "{}", a.render());
    assert!(codes.contains(&"identical-openings"), "{codes:?}");
    assert!(codes.contains(&"near-duplicates"), "{codes:?}");
    assert!(
        a.phrases
            .top
            .iter()
            .any(|p| p.text == "i want you to know that your feelings are valid")
    );
    assert_eq!(
        a.openings.top[0].text,
        "Thank you for sharing that with me."
    );
    assert_eq!(
        (a.near_duplicates.top[0].a, a.near_duplicates.top[0].b),
        (5, 399)
    );
    assert_eq!(a.near_duplicates.pairs, 1);
    let json: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
    assert_eq!(json["near_duplicates"]["top"][0]["b"], 399);
    common::settings("generate").bind(|| {
        insta::assert_snapshot!("audit-injected", a.render());
    });
}

#[test]
fn decide_errors_carry_their_offsets() {
    let text = "turns >= 2 and assistant_wrds_max < 150";
    let e = Decide::parse(text).unwrap_err();
    assert_eq!(&text[e.offset..e.offset + e.len], "assistant_wrds_max");
    assert_eq!(
        e.hint.as_deref(),
        Some("did you mean `assistant_words_max`?")
    );
    let text = "(turns >= 2 or ratio_max > 2";
    let e = Decide::parse(text).unwrap_err();
    assert_eq!((e.offset, e.len), (text.len(), 0));
    let d = Decide::parse("assistant_words_max < 150 and turns >= 2").unwrap();
    let f = facts(&[
        ("user", "Hello there"),
        ("assistant", "Hi, how can I help?"),
    ]);
    assert!(!d.eval(&|v| f.var(v)));
    assert!(
        Decide::parse("assistant_words_max < 150")
            .unwrap()
            .eval(&|v| f.var(v))
    );
}

fn arbitrary_input() -> impl Strategy<Value = (PlanInput, usize, u64)> {
    let weights = prop::collection::vec(0u64..3 * UNIT, 1..6);
    let dims = prop::collection::vec(weights.clone(), 0..4);
    (
        dims,
        prop::collection::vec(0u64..UNIT, 0..5),
        0u64..=UNIT,
        0usize..300,
        any::<u64>(),
    )
        .prop_map(|(dims, flaws, flaw_free, n, seed)| {
            let input = PlanInput {
                spec_id: "p".into(),
                dimensions: dims
                    .iter()
                    .enumerate()
                    .map(|(d, ws)| DimensionIn {
                        id: format!("d{d}"),
                        values: ws
                            .iter()
                            .enumerate()
                            .map(|(v, &weight)| ValueIn {
                                id: format!("v{v}"),
                                text: String::new(),
                                weight,
                                subtopics: vec!["a".into(), "b".into()],
                            })
                            .collect(),
                    })
                    .collect(),
                flaws: flaws
                    .iter()
                    .enumerate()
                    .map(|(i, &weight)| FlawIn {
                        id: format!("f{i}"),
                        kind: format!("k{}", i % 2),
                        weight,
                    })
                    .collect(),
                flaw_free,
                turns: (1, 4),
                edge_case_share: UNIT / 7,
                edge_cases: vec!["e".into()],
                ..PlanInput::default()
            };
            (input, n, seed)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn plans_keep_their_quotas((input, n, seed) in arbitrary_input()) {
        let p = plan(&input, n, seed);
        prop_assert_eq!(p.items.len(), n);
        prop_assert_eq!(&p, &plan(&input, n, seed));
        let c = coverage(&input, &p);
        for d in &c.dimensions {
            prop_assert_eq!(d.values.iter().map(|v| v.count).sum::<u64>(), n as u64);
            for v in &d.values {
                prop_assert!((v.count as f64 - v.declared * n as f64).abs() < 1.0 + 1e-6,
                    "{}.{}: {} against {}", d.id, v.id, v.count, v.declared * n as f64);
            }
        }
        for item in &p.items {
            if let Some(primary) = &item.persona.primary_flaw {
                prop_assert!(!item.persona.secondary_flaws.contains(primary));
                prop_assert!(item.persona.secondary_flaws.len() <= 2);
            }
        }
    }

    #[test]
    fn decide_never_panics_and_prints_what_it_parsed(text in "[a-z_ ()<>=!&|0-9.-]{0,40}") {
        match Decide::parse(&text) {
            Ok(d) => prop_assert_eq!(Decide::parse(&d.to_string()), Ok(d)),
            Err(e) => prop_assert!(e.offset + e.len <= text.len()),
        }
    }

    #[test]
    fn decide_round_trips_generated_expressions(
        parts in prop::collection::vec((0usize..10, 0usize..6, -1000i32..1000, any::<bool>()), 1..6)
    ) {
        let ops = ["<", "<=", ">", ">=", "==", "!="];
        let vars = Decide::variables();
        let mut text = String::new();
        for (i, &(v, o, n, and)) in parts.iter().enumerate() {
            if i > 0 {
                text.push_str(if and { " and " } else { " or " });
            }
            text.push_str(&format!("{} {} {}", vars[v], ops[o], f64::from(n) / 4.0));
        }
        let d = Decide::parse(&text).unwrap();
        prop_assert_eq!(d.to_string(), text);
    }
}
