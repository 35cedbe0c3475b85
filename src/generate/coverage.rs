//! The coverage report of a plan: what was sampled against what the spec
//! declared.
//!
//! Why it exists: a pilot is only worth judging if its conversations span
//! the taxonomy the author wrote down. The report shows, before any model
//! is called, each dimension's sampled distribution against its weights,
//! which cells of the cross product are hit, and the shares of edge cases,
//! flaws, trajectories, turn counts and the simulated user's behaviours.
//!
//! In: the [`PlanInput`] and the [`Plan`] made from it (or any subset of
//! its items, such as the conversations that were generated). Out: a
//! [`Coverage`], rendered as a plain-text table ([`Coverage::render`]) or
//! serialised as JSON. Both are deterministic: rows follow the input's
//! declared order and unhit cells the cross product's order.
//!
//! Shares are fractions of the items (behaviours: of the exchanges after
//! the first), declared shares are weights over the sum of their group's
//! weights (equal when all are zero), and differences are share minus
//! declared. Flaw shares are fractions of the items that have a flaw.

use super::plan::{DimensionIn, Plan, PlanInput, WeightedIn, behaviour_index};
use super::rng::{FastMap, FastSet, UNIT};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::fmt::Write as _;

/// How many unhit cells the report keeps (the count is always exact).
pub const UNHIT_KEPT: usize = 1000;
/// How many of them the text rendering shows.
pub const UNHIT_SHOWN: usize = 20;

/// The coverage of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub items: u64,
    pub seed: u64,
    pub dimensions: Vec<Shares>,
    pub cells: Cells,
    /// Only when the spec declares edge cases.
    pub edge_cases: Option<Share>,
    pub traits: Vec<Shares>,
    /// Only when the spec declares flaws.
    pub flaw_free: Option<Share>,
    pub flaws: Vec<FlawShare>,
    pub trajectories: Vec<ShareRow>,
    /// One row per turn count of the range (declared: uniform).
    pub turns: Vec<ShareRow>,
    /// Exchanges that have a behaviour (all but each conversation's first).
    pub exchanges: u64,
    pub behaviours: Vec<ShareRow>,
}

/// A group of weighted values: a dimension or a trait pool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shares {
    pub id: String,
    pub values: Vec<ShareRow>,
}

/// One value's sampled count and share against its declared share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShareRow {
    pub id: String,
    pub count: u64,
    pub share: f64,
    pub declared: f64,
    pub difference: f64,
}

/// A yes/no share: edge cases, flaw-free personas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub count: u64,
    pub share: f64,
    pub declared: f64,
    pub difference: f64,
}

/// A flaw as primary (against its weight) and as secondary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlawShare {
    pub id: String,
    pub kind: String,
    pub primary: u64,
    pub primary_share: f64,
    pub declared: f64,
    pub difference: f64,
    pub secondary: u64,
    pub secondary_share: f64,
}

/// The cells of the cross product of the dimensions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cells {
    /// The number of cells (saturating at `u64::MAX`).
    pub total: u64,
    pub hit: u64,
    pub unhit: u64,
    /// The first [`UNHIT_KEPT`] unhit cells, in the cross product's order.
    pub unhit_cells: Vec<CellKey>,
}

/// A cell: (dimension id, value id), serialised as an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CellKey(pub Vec<(String, String)>);

impl Serialize for CellKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl std::fmt::Display for CellKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (d, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{d}={v}")?;
        }
        Ok(())
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Each weight's share of the total (equal shares when all are zero).
fn declared(weights: &[u64]) -> Vec<f64> {
    let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if total == 0 {
        let n = weights.len().max(1) as f64;
        return weights.iter().map(|_| 1.0 / n).collect();
    }
    weights
        .iter()
        .map(|&w| (u128::from(w) as f64) / (total as f64))
        .collect()
}

fn rows(ids: &[&str], weights: &[u64], counts: &[u64], of: u64) -> Vec<ShareRow> {
    let declared = declared(weights);
    ids.iter()
        .zip(counts)
        .zip(declared)
        .map(|((id, &count), declared)| {
            let share = ratio(count, of);
            ShareRow {
                id: (*id).to_string(),
                count,
                share,
                declared,
                difference: share - declared,
            }
        })
        .collect()
}

fn share(count: u64, of: u64, declared: u64) -> Share {
    let s = ratio(count, of);
    let d = declared.min(UNIT) as f64 / UNIT as f64;
    Share {
        count,
        share: s,
        declared: d,
        difference: s - d,
    }
}

/// Index of each id (the first of a repeated id).
fn index_of<'a>(ids: impl Iterator<Item = &'a str>) -> FastMap<&'a str, usize> {
    let mut index = FastMap::default();
    for (i, id) in ids.enumerate() {
        index.entry(id).or_insert(i);
    }
    index
}

/// Counts of `chosen` over the ids of a group.
fn count_by_id<'a>(ids: &[&'a str], chosen: impl Iterator<Item = Option<&'a str>>) -> Vec<u64> {
    let index = index_of(ids.iter().copied());
    let mut counts = vec![0u64; ids.len()];
    for id in chosen.flatten() {
        if let Some(&i) = index.get(id) {
            counts[i] += 1;
        }
    }
    counts
}

/// The value of `dimension` in (dimension, value) pairs, looked for first at
/// position `k`, where a plan puts it.
fn value_at<'a>(pairs: &'a [(String, String)], k: usize, dimension: &str) -> Option<&'a str> {
    match pairs.get(k) {
        Some((d, v)) if d == dimension => Some(v),
        _ => pairs
            .iter()
            .find(|(d, _)| d == dimension)
            .map(|(_, v)| v.as_str()),
    }
}

fn group_shares<'a>(
    group: &'a DimensionIn,
    chosen: impl Iterator<Item = Option<&'a str>>,
    items: u64,
) -> Shares {
    let ids: Vec<&str> = group.values.iter().map(|v| v.id.as_str()).collect();
    let weights: Vec<u64> = group.values.iter().map(|v| v.weight).collect();
    let counts = count_by_id(&ids, chosen);
    Shares {
        id: group.id.clone(),
        values: rows(&ids, &weights, &counts, items),
    }
}

fn weighted_rows(list: &[WeightedIn], counts: &[u64], of: u64) -> Vec<ShareRow> {
    let ids: Vec<&str> = list.iter().map(|w| w.id.as_str()).collect();
    let weights: Vec<u64> = list.iter().map(|w| w.weight).collect();
    rows(&ids, &weights, counts, of)
}

/// The coverage of `plan`'s items against `input`.
pub fn coverage(input: &PlanInput, plan: &Plan) -> Coverage {
    let items = plan.items.len() as u64;
    let dims: Vec<&DimensionIn> = input
        .dimensions
        .iter()
        .filter(|d| !d.values.is_empty())
        .collect();
    let dimensions = dims
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let chosen = plan.items.iter().map(|i| value_at(&i.cell, k, &d.id));
            group_shares(d, chosen, items)
        })
        .collect();
    let traits = input
        .traits
        .iter()
        .filter(|t| !t.values.is_empty())
        .enumerate()
        .map(|(k, t)| {
            let chosen = plan
                .items
                .iter()
                .map(|i| value_at(&i.persona.traits, k, &t.id));
            group_shares(t, chosen, items)
        })
        .collect();

    let cells = cells(&dims, plan);

    let edge_cases = (!input.edge_cases.is_empty()).then(|| {
        let count = plan.items.iter().filter(|i| i.edge_case.is_some()).count() as u64;
        share(count, items, input.edge_case_share)
    });

    let flawed = plan
        .items
        .iter()
        .filter(|i| i.persona.primary_flaw.is_some())
        .count() as u64;
    let flaw_free =
        (!input.flaws.is_empty()).then(|| share(items - flawed, items, input.flaw_free));
    let flaw_ids: Vec<&str> = input.flaws.iter().map(|f| f.id.as_str()).collect();
    let primary = count_by_id(
        &flaw_ids,
        plan.items.iter().map(|i| i.persona.primary_flaw.as_deref()),
    );
    let secondary = count_by_id(
        &flaw_ids,
        plan.items
            .iter()
            .flat_map(|i| i.persona.secondary_flaws.iter().map(|f| Some(f.as_str()))),
    );
    let flaw_declared = declared(&input.flaws.iter().map(|f| f.weight).collect::<Vec<_>>());
    let flaws = input
        .flaws
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let primary_share = ratio(primary[i], flawed);
            FlawShare {
                id: f.id.clone(),
                kind: f.kind.clone(),
                primary: primary[i],
                primary_share,
                declared: flaw_declared[i],
                difference: primary_share - flaw_declared[i],
                secondary: secondary[i],
                secondary_share: ratio(secondary[i], flawed),
            }
        })
        .collect();

    let trajectory_ids: Vec<&str> = input.trajectories.iter().map(|t| t.id.as_str()).collect();
    let trajectory_counts = count_by_id(
        &trajectory_ids,
        plan.items.iter().map(|i| i.persona.trajectory.as_deref()),
    );
    let trajectories = weighted_rows(&input.trajectories, &trajectory_counts, items);

    let (lo, hi) = (
        input.turns.0.min(input.turns.1),
        input.turns.0.max(input.turns.1),
    );
    let turns = if hi - lo < 1000 {
        let mut counts = vec![0u64; (hi - lo) as usize + 1];
        for item in &plan.items {
            if let Some(c) = item
                .turns
                .checked_sub(lo)
                .and_then(|t| counts.get_mut(t as usize))
            {
                *c += 1;
            }
        }
        let labels: Vec<String> = (lo..=hi).map(|t| t.to_string()).collect();
        let ids: Vec<&str> = labels.iter().map(String::as_str).collect();
        rows(&ids, &vec![1; ids.len()], &counts, items)
    } else {
        Vec::new()
    };

    // Behaviours are drawn per exchange from the seed, as the flow draws
    // them: every exchange after each conversation's first.
    let mut exchanges = 0u64;
    let mut behaviour_counts = vec![0u64; input.behaviours.len()];
    if !input.behaviours.is_empty() {
        for item in &plan.items {
            for turn in 1..item.turns {
                if let Some(b) = behaviour_index(&input.behaviours, plan.seed, item.index, turn) {
                    exchanges += 1;
                    behaviour_counts[b] += 1;
                }
            }
        }
    }
    let behaviours = weighted_rows(&input.behaviours, &behaviour_counts, exchanges);

    Coverage {
        items,
        seed: plan.seed,
        dimensions,
        cells,
        edge_cases,
        traits,
        flaw_free,
        flaws,
        trajectories,
        turns,
        exchanges,
        behaviours,
    }
}

fn cells(dims: &[&DimensionIn], plan: &Plan) -> Cells {
    if dims.is_empty() {
        return Cells {
            total: 0,
            hit: 0,
            unhit: 0,
            unhit_cells: Vec::new(),
        };
    }
    let lookups: Vec<FastMap<&str, usize>> = dims
        .iter()
        .map(|d| index_of(d.values.iter().map(|v| v.id.as_str())))
        .collect();
    let value_of = |item: &super::plan::Item, k: usize| -> Option<usize> {
        let v = value_at(&item.cell, k, &dims[k].id)?;
        lookups[k].get(v).copied()
    };
    let cell_of = |key: &[usize]| {
        CellKey(
            dims.iter()
                .zip(key)
                .map(|(d, &v)| (d.id.clone(), d.values[v].id.clone()))
                .collect(),
        )
    };
    let sizes: Vec<usize> = dims.iter().map(|d| d.values.len()).collect();
    let total = sizes
        .iter()
        .fold(1u64, |acc, &s| acc.saturating_mul(s as u64));
    let mut unhit_cells = Vec::new();
    let mut key = vec![0usize; dims.len()];
    // Walks the cross product in order, last dimension fastest, until enough
    // unhit cells are listed: at most `hit + UNHIT_KEPT` steps.
    let next = |key: &mut [usize]| -> bool {
        for d in (0..key.len()).rev() {
            key[d] += 1;
            if key[d] < sizes[d] {
                return true;
            }
            key[d] = 0;
        }
        false
    };
    let radix = sizes
        .iter()
        .try_fold(1u128, |acc, &s| acc.checked_mul(s as u128));
    let hit = if radix.is_some() {
        // Cells as mixed-radix numbers: no allocation per item.
        let number = |key: &[usize]| {
            key.iter()
                .zip(&sizes)
                .fold(0u128, |acc, (&v, &s)| acc * s as u128 + v as u128)
        };
        let mut hit: FastSet<u128> = FastSet::default();
        for item in &plan.items {
            let found = (0..dims.len()).try_fold(0u128, |acc, k| {
                value_of(item, k).map(|v| acc * sizes[k] as u128 + v as u128)
            });
            if let Some(found) = found {
                hit.insert(found);
            }
        }
        loop {
            if !hit.contains(&number(&key)) {
                if unhit_cells.len() == UNHIT_KEPT {
                    break;
                }
                unhit_cells.push(cell_of(&key));
            }
            if !next(&mut key) {
                break;
            }
        }
        hit.len() as u64
    } else {
        let mut hit: FastSet<Vec<usize>> = FastSet::default();
        for item in &plan.items {
            let found: Option<Vec<usize>> = (0..dims.len()).map(|k| value_of(item, k)).collect();
            if let Some(found) = found {
                hit.insert(found);
            }
        }
        loop {
            if !hit.contains(&key) {
                if unhit_cells.len() == UNHIT_KEPT {
                    break;
                }
                unhit_cells.push(cell_of(&key));
            }
            if !next(&mut key) {
                break;
            }
        }
        hit.len() as u64
    };
    Cells {
        total,
        hit,
        unhit: total.saturating_sub(hit),
        unhit_cells,
    }
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn points(x: f64) -> String {
    format!("{:+.1}", x * 100.0)
}

/// A table with a header, columns right-aligned except the first.
fn table(out: &mut String, header: &[&str], body: &[Vec<String>]) {
    let columns = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in body {
        for (c, cell) in row.iter().enumerate().take(columns) {
            width[c] = width[c].max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: &[String]| {
        out.push_str("  ");
        for (c, cell) in cells.iter().enumerate().take(columns) {
            let pad = width[c].saturating_sub(cell.chars().count());
            if c == 0 {
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            } else {
                out.push_str("  ");
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            }
        }
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
    };
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    line(out, &head);
    for row in body {
        line(out, row);
    }
}

fn share_table(out: &mut String, first: &str, rows: &[ShareRow]) {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.count.to_string(),
                percent(r.share),
                percent(r.declared),
                points(r.difference),
            ]
        })
        .collect();
    table(
        out,
        &[first, "count", "share", "declared", "diff pp"],
        &body,
    );
}

fn share_line(out: &mut String, label: &str, s: &Share) {
    let _ = writeln!(
        out,
        "{label}: {} ({}, declared {}, {} pp)",
        s.count,
        percent(s.share),
        percent(s.declared),
        points(s.difference)
    );
}

impl Coverage {
    /// The report as plain text: one table per group, then the cells.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Coverage of {} items (seed {})", self.items, self.seed);
        for d in &self.dimensions {
            let _ = writeln!(out, "\nDimension {}", d.id);
            share_table(&mut out, "value", &d.values);
        }
        if self.cells.total > 0 {
            let _ = writeln!(
                out,
                "\nCells: {} of {} hit ({} unhit)",
                self.cells.hit, self.cells.total, self.cells.unhit
            );
            let shown = self.cells.unhit_cells.len().min(UNHIT_SHOWN);
            for cell in &self.cells.unhit_cells[..shown] {
                let _ = writeln!(out, "  unhit: {cell}");
            }
            if self.cells.unhit > shown as u64 {
                let _ = writeln!(out, "  ... and {} more", self.cells.unhit - shown as u64);
            }
        }
        if let Some(edge) = &self.edge_cases {
            out.push('\n');
            share_line(&mut out, "Edge cases", edge);
        }
        for t in &self.traits {
            let _ = writeln!(out, "\nTrait {}", t.id);
            share_table(&mut out, "value", &t.values);
        }
        if let Some(free) = &self.flaw_free {
            out.push('\n');
            share_line(&mut out, "Flaw-free personas", free);
            let body: Vec<Vec<String>> = self
                .flaws
                .iter()
                .map(|f| {
                    vec![
                        f.id.clone(),
                        f.kind.clone(),
                        f.primary.to_string(),
                        percent(f.primary_share),
                        percent(f.declared),
                        points(f.difference),
                        f.secondary.to_string(),
                        percent(f.secondary_share),
                    ]
                })
                .collect();
            out.push_str("Flaws (shares of the personas with a flaw)\n");
            table(
                &mut out,
                &[
                    "flaw",
                    "kind",
                    "primary",
                    "share",
                    "declared",
                    "diff pp",
                    "secondary",
                    "share",
                ],
                &body,
            );
        }
        if !self.trajectories.is_empty() {
            out.push_str("\nTrajectories\n");
            share_table(&mut out, "trajectory", &self.trajectories);
        }
        if !self.turns.is_empty() {
            out.push_str("\nTurns\n");
            share_table(&mut out, "exchanges", &self.turns);
        }
        if !self.behaviours.is_empty() {
            let _ = writeln!(
                out,
                "\nBehaviours over {} exchanges (after each opening message)",
                self.exchanges
            );
            share_table(&mut out, "behaviour", &self.behaviours);
        }
        out
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::plan::{DimensionIn, FlawIn, ValueIn, WeightedIn, plan};

    fn value(id: &str, weight: u64) -> ValueIn {
        ValueIn {
            id: id.into(),
            text: id.into(),
            weight,
            subtopics: Vec::new(),
        }
    }

    fn input() -> PlanInput {
        PlanInput {
            spec_id: "t".into(),
            dimensions: vec![
                DimensionIn {
                    id: "topic".into(),
                    values: vec![value("work", 900), value("grief", 100)],
                },
                DimensionIn {
                    id: "style".into(),
                    values: vec![value("terse", 1), value("plain", 1), value("verbose", 1)],
                },
            ],
            edge_case_share: UNIT / 10,
            edge_cases: vec!["x".into()],
            traits: vec![DimensionIn {
                id: "age".into(),
                values: vec![value("young", 1), value("old", 3)],
            }],
            flaw_free: UNIT / 5,
            flaws: vec![
                FlawIn {
                    id: "a".into(),
                    kind: "k".into(),
                    weight: 1,
                },
                FlawIn {
                    id: "b".into(),
                    kind: "l".into(),
                    weight: 1,
                },
            ],
            trajectories: vec![WeightedIn {
                id: "stable".into(),
                weight: 1,
            }],
            behaviours: vec![
                WeightedIn {
                    id: "engage".into(),
                    weight: 3,
                },
                WeightedIn {
                    id: "ignore".into(),
                    weight: 1,
                },
            ],
            turns: (2, 4),
            scenarios: Vec::new(),
        }
    }

    #[test]
    fn figures_follow_the_plan() {
        let input = input();
        let plan = plan(&input, 20, 1);
        let c = coverage(&input, &plan);
        assert_eq!(c.items, 20);
        assert_eq!(c.dimensions[0].values[0].count, 18);
        assert_eq!(c.dimensions[0].values[1].count, 2);
        assert!((c.dimensions[0].values[0].declared - 0.9).abs() < 1e-12);
        assert!(c.dimensions[0].values[0].difference.abs() < 1e-12);
        assert_eq!(c.cells.total, 6);
        // grief has 2 items for 3 styles: one of its cells stays unhit.
        assert_eq!(c.cells.hit, 5);
        assert_eq!(c.cells.unhit, 1);
        assert_eq!(c.cells.unhit_cells.len(), 1);
        assert_eq!(c.cells.unhit_cells[0].0[0].1, "grief");
        assert_eq!(c.edge_cases.as_ref().unwrap().count, 2);
        let exchanges: u64 = plan.items.iter().map(|i| u64::from(i.turns - 1)).sum();
        assert_eq!(c.exchanges, exchanges);
        assert_eq!(c.behaviours.iter().map(|b| b.count).sum::<u64>(), exchanges);
        assert_eq!(c.turns.len(), 3);
        let text = c.render();
        assert!(text.contains("Cells: 5 of 6 hit (1 unhit)"), "{text}");
        assert!(text.contains("  unhit: topic=grief style="), "{text}");
        assert!(text.contains("Dimension topic\n  value  count  share  declared  diff pp\n  work      18  90.0%     90.0%     +0.0\n"), "{text}");
        assert_eq!(text, coverage(&input, &plan).render());
        let json: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(json["cells"]["unhit_cells"][0]["topic"], "grief");
    }

    #[test]
    fn huge_cross_products_are_walked_only_as_far_as_needed() {
        let values: Vec<ValueIn> = (0..1000).map(|i| value(&format!("v{i}"), 1)).collect();
        let input = PlanInput {
            dimensions: (0..5)
                .map(|d| DimensionIn {
                    id: format!("d{d}"),
                    values: values.clone(),
                })
                .collect(),
            ..PlanInput::default()
        };
        let plan = plan(&input, 50, 3);
        let c = coverage(&input, &plan);
        assert_eq!(c.cells.total, 1_000_000_000_000_000);
        assert_eq!(c.cells.hit, 50);
        assert_eq!(c.cells.unhit_cells.len(), UNHIT_KEPT);
        assert!(c.render().contains("... and 999999999999930 more"));
    }

    #[test]
    fn empty_inputs_render() {
        let c = coverage(&PlanInput::default(), &plan(&PlanInput::default(), 0, 0));
        assert_eq!(c.items, 0);
        assert!(c.render().starts_with("Coverage of 0 items"));
    }
}
