//! The generation plan: which scenario cell, persona and length each of the
//! N conversations of a run gets, decided in code before any model is
//! called.
//!
//! Why it exists: the diversity of generated data must come from a declared,
//! weighted taxonomy, not from a model's idea of variety, and a run must be
//! reproducible: the same spec, N and seed give the same plan, byte for
//! byte, on every machine (the only randomness is `rng::Rng`, integer
//! arithmetic throughout).
//!
//! In: a [`PlanInput`], plain strings and weights in units of 1e-9 (the
//! caller converts the compiler's model into it, so this module does not
//! depend on it), N and a seed. Out: a [`Plan`], one [`Item`] per
//! conversation, serialisable.
//!
//! # The method
//!
//! **Cells (stratified).** For each dimension, the N items are shared out
//! among its values by largest-remainder quotas of the weights (Hamilton's
//! method: `floor(N·w/W)` each, the items left over to the largest
//! remainders, ties in a seeded order), so every value's count is within
//! one item of `N·w/W` and the counts are exact, not sampled. Dimensions
//! are then combined into cells, keeping those counts exactly:
//!
//! 1. *Cover.* When the cross product has no more cells than N, its cells
//!    are visited once in a seeded order and each gets one item while the
//!    quotas of its values last. When every value's quota is at least the
//!    number of cells it is part of (always so with equal weights and
//!    N ≥ cells), every cell is hit; otherwise the declared shares win and
//!    the cells left unhit are those of values too rare to reach all their
//!    cells (the coverage report lists them).
//! 2. *Nested stratification* of the remaining items. The items start as
//!    one group. For each dimension in turn, its remaining quotas are laid
//!    out as a low-discrepancy sequence (value `v`'s `j`-th occurrence at
//!    ideal time `(j + ½)/q_v`, sorted, ties in a seeded order of values),
//!    the groups are put in a seeded random order, and the sequence is dealt
//!    along them; each group is then split by the value it got. Any stretch
//!    of the sequence holds each value within about one occurrence of its
//!    share, so every group of items that agree on the earlier dimensions
//!    receives this dimension's values in proportion: each cell's count is
//!    close to `N·Π(w/W)` (off by a few items at most, far closer than
//!    independent draws), and the pairwise joints are balanced too because
//!    the groups are shuffled before each deal.
//! 3. The cells are put in a seeded random order and numbered: item `i`
//!    gets the `i`-th.
//!
//! **Per item, independent of N.** The persona (one value per trait pool by
//! weight; with probability `flaw_free` no flaw, else a primary flaw by
//! weight and one or two secondary flaws, even odds, by weight from kinds
//! other than the primary's, no repeats), the trajectory, the turn count
//! (uniform in the range) and each exchange's behaviour
//! ([`behaviour_for`]) come from `Rng::for_item(seed, index, stream)`, a
//! stream per purpose: they depend on the seed and the item's index only.
//!
//! **Balanced within the plan.** Exactly `round(N·edge_case_share)` items
//! (largest remainder) are edge cases, chosen by a seeded permutation; the
//! edge-case texts are dealt to them in a seeded cycle, so each text is used
//! within one time of every other. Likewise each value's subtopics are dealt
//! in a seeded cycle to the items of that value (uniform, and balanced).
//! An item has at most one subtopic: that of the first dimension, in
//! declared order, whose value has subtopics. Scenario lines are dealt in a
//! seeded cycle too, item `i` getting the `i mod len`-th of one seeded
//! order (with or without dimensions).
//!
//! # What holds
//!
//! - Same input, N and seed: the same plan, and the same JSON, anywhere.
//! - An item's id, persona, trajectory, turns, behaviours and scenario do
//!   not depend on N (a plan of 200 and one of 100 agree on those for items
//!   0 to 99).
//! - Cells, subtopics and edge cases are not prefix-stable: they are
//!   balanced over the whole plan, so the plan of 200 is not the plan of
//!   100 extended.
//! - Dimensions and trait pools without values are skipped; weights that
//!   are all zero count as equal; nothing panics on any input.

use super::rng::{Rng, UNIT};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// The version of the planning method, recorded in every plan: a change to
/// the method that changes plans for the same seed bumps it.
pub const PLAN_VERSION: u32 = 1;

/// A dimension of the taxonomy (or a trait pool of the personas).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DimensionIn {
    pub id: String,
    pub values: Vec<ValueIn>,
}

/// A value of a dimension: weight in units of 1e-9.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueIn {
    pub id: String,
    pub text: String,
    pub weight: u64,
    pub subtopics: Vec<String>,
}

/// A flaw of a persona, with the id of its kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlawIn {
    pub id: String,
    pub kind: String,
    pub weight: u64,
}

/// A weighted choice: a trajectory or a behaviour of the simulated user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightedIn {
    pub id: String,
    pub weight: u64,
}

/// What a plan is made from. Shares and weights are integers of 1e-9.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanInput {
    pub spec_id: String,
    pub dimensions: Vec<DimensionIn>,
    /// The share of items that are edge cases.
    pub edge_case_share: u64,
    pub edge_cases: Vec<String>,
    pub traits: Vec<DimensionIn>,
    /// The share of personas without a flaw.
    pub flaw_free: u64,
    pub flaws: Vec<FlawIn>,
    pub trajectories: Vec<WeightedIn>,
    pub behaviours: Vec<WeightedIn>,
    /// Exchanges per conversation, inclusive (either order).
    pub turns: (u32, u32),
    pub scenarios: Vec<String>,
}

/// A cell of the taxonomy: (dimension id, value id) per dimension.
pub type Cell = Vec<(String, String)>;

/// The plan of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// [`PLAN_VERSION`].
    pub version: u32,
    pub spec_id: String,
    pub seed: u64,
    pub items: Vec<Item>,
}

/// One conversation to generate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub index: u64,
    /// `{spec_id}-s{seed}-{index:05}`.
    pub id: String,
    /// (dimension id, value id), in the order of the input's dimensions;
    /// serialised as a JSON object in that order.
    #[serde(serialize_with = "pairs_as_map")]
    pub cell: Cell,
    pub subtopic: Option<String>,
    pub edge_case: Option<String>,
    pub persona: Persona,
    /// Exchanges (user message and assistant reply) of the conversation.
    pub turns: u32,
    pub scenario: Option<String>,
}

/// Who the simulated user is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Persona {
    /// (trait pool id, value id), in the order of the input's pools.
    #[serde(serialize_with = "pairs_as_map")]
    pub traits: Vec<(String, String)>,
    pub primary_flaw: Option<String>,
    pub secondary_flaws: Vec<String>,
    pub trajectory: Option<String>,
}

impl Item {
    /// The value of dimension `dimension` in this item's cell.
    pub fn value(&self, dimension: &str) -> Option<&str> {
        self.cell
            .iter()
            .find(|(d, _)| d == dimension)
            .map(|(_, v)| v.as_str())
    }
}

fn pairs_as_map<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// The id of item `index` of a plan.
pub fn item_id(spec_id: &str, seed: u64, index: u64) -> String {
    format!("{spec_id}-s{seed}-{index:05}")
}

/// The streams of `Rng::for_item`: one per purpose, so that adding a trait
/// pool does not change anyone's flaws, and a longer range of turns does
/// not change behaviours.
mod stream {
    pub const TRAITS: u64 = 1;
    pub const FLAWS: u64 = 2;
    pub const TRAJECTORY: u64 = 3;
    pub const TURNS: u64 = 4;
    /// Plus the exchange number.
    pub const BEHAVIOUR: u64 = 1 << 40;
    // Draws of the plan as a whole use the index `GLOBAL`.
    pub const GLOBAL: u64 = u64::MAX;
    /// Plus the dimension's index.
    pub const QUOTA_TIES: u64 = 2 << 40;
    pub const COVER: u64 = 3 << 40;
    /// Plus the dimension's index.
    pub const LAYOUT: u64 = 4 << 40;
    pub const ORDER: u64 = 5 << 40;
    pub const EDGE: u64 = 6 << 40;
    pub const EDGE_TEXTS: u64 = 7 << 40;
    pub const SCENARIOS: u64 = 8 << 40;
    /// Plus `dimension << 20 | value`.
    pub const SUBTOPICS: u64 = 9 << 40;
    pub const EDGE_TIES: u64 = 10 << 40;
}

fn global(seed: u64, stream: u64) -> Rng {
    Rng::for_item(seed, stream::GLOBAL, stream)
}

/// Largest-remainder (Hamilton) quotas of `n` for `weights`: they sum to
/// `n`, each within one of `n·w/W`; a zero weight gets nothing unless all
/// are zero (then they count as equal). Ties between remainders go in the
/// order of `ties`.
pub fn quotas(weights: &[u64], n: u64, ties: &mut Rng) -> Vec<u64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let all_zero = weights.iter().all(|&w| w == 0);
    let w = |i: usize| -> u128 { if all_zero { 1 } else { u128::from(weights[i]) } };
    let total: u128 = (0..weights.len()).map(w).sum();
    let n128 = u128::from(n);
    let mut out = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut given: u128 = 0;
    for i in 0..weights.len() {
        let product = n128 * w(i);
        let q = product / total;
        given += q;
        out.push(q as u64);
        remainders.push(product % total);
    }
    let rank = ties.permutation(weights.len());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        remainders[b]
            .cmp(&remainders[a])
            .then(rank[a].cmp(&rank[b]))
    });
    let left = (n128 - given) as usize;
    for &i in order.iter().take(left) {
        out[i] += 1;
    }
    out
}

/// `quotas` laid out as a sequence of value indices with low discrepancy:
/// value `v`'s `j`-th occurrence sits at ideal time `(j + ½)/q_v`, and
/// occurrences are sorted by time (compared exactly, as fractions), ties in
/// the order of `rank`.
fn quota_sequence(quotas: &[u64], rank: &[usize]) -> Vec<u32> {
    let mut slots: Vec<(u64, u32)> = Vec::new();
    for (v, &q) in quotas.iter().enumerate() {
        for j in 0..q {
            slots.push((2 * j + 1, v as u32));
        }
    }
    slots.sort_by(|&(ja, va), &(jb, vb)| {
        // ja / (2 q_a) against jb / (2 q_b).
        let left = u128::from(ja) * u128::from(quotas[vb as usize]);
        let right = u128::from(jb) * u128::from(quotas[va as usize]);
        left.cmp(&right)
            .then(rank[va as usize].cmp(&rank[vb as usize]))
            .then(ja.cmp(&jb))
    });
    slots.into_iter().map(|(_, v)| v).collect()
}

/// The cells of `n` items over dimensions of `sizes` values with per-value
/// `quotas`: row `k` of the result (`dims` entries from `k·dims`) is item
/// `k`'s value per dimension. See the module's documentation.
fn cells(sizes: &[usize], quotas: &[Vec<u64>], n: usize, seed: u64) -> Vec<u32> {
    let dims = sizes.len();
    if dims == 0 || n == 0 {
        return Vec::new();
    }
    let mut remaining: Vec<Vec<u64>> = quotas.to_vec();
    let mut rows: Vec<u32> = Vec::with_capacity(n * dims);

    // 1. Cover every cell once while the quotas allow, when N allows.
    let total = sizes
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .filter(|&t| t <= n);
    if let Some(total) = total {
        let order = global(seed, stream::COVER).permutation(total);
        let mut values = vec![0u32; dims];
        for cell in order {
            let mut c = cell;
            for d in (0..dims).rev() {
                values[d] = (c % sizes[d]) as u32;
                c /= sizes[d];
            }
            if values
                .iter()
                .enumerate()
                .all(|(d, &v)| remaining[d][v as usize] > 0)
            {
                for (d, &v) in values.iter().enumerate() {
                    remaining[d][v as usize] -= 1;
                }
                rows.extend_from_slice(&values);
            }
        }
    }

    // 2. Nested stratification of the rest.
    let covered = rows.len() / dims;
    let rest = n - covered;
    if rest > 0 {
        let mut assigned = vec![0u32; rest * dims];
        // Members in group order, and where each group starts.
        let mut members: Vec<u32> = (0..rest as u32).collect();
        let mut starts: Vec<usize> = vec![0];
        for d in 0..dims {
            let mut rng = global(seed, stream::LAYOUT + d as u64);
            let rank = rng.permutation(sizes[d]);
            let sequence = quota_sequence(&remaining[d], &rank);
            let group_order = rng.permutation(starts.len());
            // Deal the sequence along the groups in their shuffled order,
            // keyed for the split by (position of the group, value).
            let mut keyed: Vec<(u32, u32, u32)> = Vec::with_capacity(rest);
            let mut position = 0;
            for (g_rank, &g) in group_order.iter().enumerate() {
                let end = starts.get(g + 1).copied().unwrap_or(members.len());
                for &m in &members[starts[g]..end] {
                    let v = sequence.get(position).copied().unwrap_or(0);
                    position += 1;
                    assigned[m as usize * dims + d] = v;
                    keyed.push((g_rank as u32, v, m));
                }
            }
            keyed.sort_unstable();
            members.clear();
            starts.clear();
            let mut previous = None;
            for (i, &(g, v, m)) in keyed.iter().enumerate() {
                if previous != Some((g, v)) {
                    starts.push(i);
                    previous = Some((g, v));
                }
                members.push(m);
            }
        }
        rows.extend_from_slice(&assigned);
    }

    // 3. A seeded order of the cells.
    let order = global(seed, stream::ORDER).permutation(n);
    let mut out = Vec::with_capacity(n * dims);
    for k in order {
        out.extend_from_slice(&rows[k * dims..(k + 1) * dims]);
    }
    out
}

/// The persona of item `index`: see the module's documentation.
pub fn persona(input: &PlanInput, seed: u64, index: u64) -> Persona {
    persona_with(input, &first_of_id(&input.flaws), seed, index)
}

/// For each flaw, the index of the first flaw with its id (ids repeat only
/// in a spec the compiler rejects, but a persona must not hold one twice).
fn first_of_id(flaws: &[FlawIn]) -> Vec<usize> {
    let mut first: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    (0..flaws.len())
        .map(|i| *first.entry(flaws[i].id.as_str()).or_insert(i))
        .collect()
}

fn persona_with(input: &PlanInput, first: &[usize], seed: u64, index: u64) -> Persona {
    let mut rng = Rng::for_item(seed, index, stream::TRAITS);
    let traits = input
        .traits
        .iter()
        .filter_map(|pool| {
            let values = &pool.values;
            let v = rng.weighted_where(values.len(), |_| true, |i| values[i].weight)?;
            Some((pool.id.clone(), values[v].id.clone()))
        })
        .collect();

    let mut rng = Rng::for_item(seed, index, stream::FLAWS);
    let flaws = &input.flaws;
    let flaw_free = rng.chance(input.flaw_free);
    let mut primary_flaw = None;
    let mut secondary_flaws = Vec::new();
    let primary = if flaw_free {
        None
    } else {
        rng.weighted_where(flaws.len(), |_| true, |i| flaws[i].weight)
    };
    if let Some(p) = primary {
        let kind = &flaws[p].kind;
        let wanted = 1 + rng.below(2);
        // At most three, so a list is the cheapest set.
        let mut chosen: Vec<usize> = vec![p];
        for _ in 0..wanted {
            let free = |i: usize| chosen.iter().all(|&c| first[c] != first[i]);
            let weight = |i: usize| flaws[i].weight;
            let Some(k) = rng
                .weighted_where(flaws.len(), |i| flaws[i].kind != *kind && free(i), weight)
                .or_else(|| {
                    rng.weighted_where(flaws.len(), |i| flaws[i].kind == *kind && free(i), weight)
                })
            else {
                break;
            };
            chosen.push(k);
            secondary_flaws.push(flaws[k].id.clone());
        }
        primary_flaw = Some(flaws[p].id.clone());
    }

    let trajectories = &input.trajectories;
    let trajectory = Rng::for_item(seed, index, stream::TRAJECTORY)
        .weighted_where(trajectories.len(), |_| true, |i| trajectories[i].weight)
        .map(|t| trajectories[t].id.clone());

    Persona {
        traits,
        primary_flaw,
        secondary_flaws,
        trajectory,
    }
}

/// The number of exchanges of item `index`: uniform in `input.turns`.
pub fn turns_for(input: &PlanInput, seed: u64, index: u64) -> u32 {
    let (lo, hi) = input.turns;
    let drawn =
        Rng::for_item(seed, index, stream::TURNS).range_inclusive(u64::from(lo), u64::from(hi));
    // Within the two `u32` bounds, so it fits.
    u32::try_from(drawn).unwrap_or(hi.max(lo))
}

/// The behaviour the simulated user of item `index` shows in its message of
/// exchange `turn` (0-based), drawn by weight; `None` for the opening
/// message (turn 0, which answers nothing yet) and when the spec declares
/// no behaviours. Depends only on the seed, the index and the turn.
pub fn behaviour_for(input: &PlanInput, seed: u64, index: u64, turn: u32) -> Option<&str> {
    behaviour_index(&input.behaviours, seed, index, turn).map(|b| input.behaviours[b].id.as_str())
}

/// [`behaviour_for`] as an index into `behaviours`.
pub fn behaviour_index(
    behaviours: &[WeightedIn],
    seed: u64,
    index: u64,
    turn: u32,
) -> Option<usize> {
    if turn == 0 {
        return None;
    }
    Rng::for_item(seed, index, stream::BEHAVIOUR + u64::from(turn)).weighted_where(
        behaviours.len(),
        |_| true,
        |i| behaviours[i].weight,
    )
}

/// A seeded order of a value's subtopics and how many were dealt.
type Cycle = (Vec<usize>, usize);

/// The plan of `n` conversations for `input` with `seed`.
pub fn plan(input: &PlanInput, n: usize, seed: u64) -> Plan {
    // Dimensions with values, by their index in the input.
    let dims: Vec<usize> = (0..input.dimensions.len())
        .filter(|&d| !input.dimensions[d].values.is_empty())
        .collect();
    let sizes: Vec<usize> = dims
        .iter()
        .map(|&d| input.dimensions[d].values.len())
        .collect();
    let quota_lists: Vec<Vec<u64>> = dims
        .iter()
        .map(|&d| {
            let weights: Vec<u64> = input.dimensions[d]
                .values
                .iter()
                .map(|v| v.weight)
                .collect();
            quotas(
                &weights,
                n as u64,
                &mut global(seed, stream::QUOTA_TIES + d as u64),
            )
        })
        .collect();
    let rows = cells(&sizes, &quota_lists, n, seed);
    let width = dims.len();

    // Edge cases: an exact count, on a seeded choice of items.
    let mut edge_text: Vec<Option<usize>> = vec![None; n];
    if !input.edge_cases.is_empty() && input.edge_case_share > 0 {
        let share = input.edge_case_share.min(UNIT);
        let count = quotas(
            &[share, UNIT - share],
            n as u64,
            &mut global(seed, stream::EDGE_TIES),
        )[0] as usize;
        let mut chosen: Vec<usize> = global(seed, stream::EDGE).permutation(n);
        chosen.truncate(count);
        chosen.sort_unstable();
        let texts = global(seed, stream::EDGE_TEXTS).permutation(input.edge_cases.len());
        for (k, i) in chosen.into_iter().enumerate() {
            edge_text[i] = Some(texts[k % texts.len()]);
        }
    }

    let scenario_order = global(seed, stream::SCENARIOS).permutation(input.scenarios.len());
    // Subtopics: a seeded cycle per (dimension, value), dealt in item order.
    let mut subtopic_cycles: Vec<Vec<Option<Cycle>>> = dims
        .iter()
        .map(|&d| vec![None; input.dimensions[d].values.len()])
        .collect();

    let first_flaws = first_of_id(&input.flaws);
    let mut items = Vec::with_capacity(n);
    for i in 0..n {
        let index = i as u64;
        let row = &rows[i * width..(i + 1) * width];
        let mut cell = Vec::with_capacity(width);
        let mut subtopic = None;
        for (k, (&d, &v)) in dims.iter().zip(row).enumerate() {
            let dimension = &input.dimensions[d];
            let Some(value) = dimension.values.get(v as usize) else {
                continue;
            };
            cell.push((dimension.id.clone(), value.id.clone()));
            if subtopic.is_none() && !value.subtopics.is_empty() {
                let slot = &mut subtopic_cycles[k][v as usize];
                let (order, next) = slot.get_or_insert_with(|| {
                    let stream = stream::SUBTOPICS + (((d as u64) << 20) | u64::from(v));
                    (global(seed, stream).permutation(value.subtopics.len()), 0)
                });
                subtopic = Some(value.subtopics[order[*next % order.len()]].clone());
                *next += 1;
            }
        }
        items.push(Item {
            index,
            id: item_id(&input.spec_id, seed, index),
            cell,
            subtopic,
            edge_case: edge_text[i].map(|t| input.edge_cases[t].clone()),
            persona: persona_with(input, &first_flaws, seed, index),
            turns: turns_for(input, seed, index),
            scenario: (!scenario_order.is_empty())
                .then(|| input.scenarios[scenario_order[i % scenario_order.len()]].clone()),
        });
    }
    Plan {
        version: PLAN_VERSION,
        spec_id: input.spec_id.clone(),
        seed,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};

    fn w(x: f64) -> u64 {
        (x * UNIT as f64).round() as u64
    }

    fn dim(id: &str, values: &[(&str, f64)]) -> DimensionIn {
        DimensionIn {
            id: id.into(),
            values: values
                .iter()
                .map(|&(v, weight)| ValueIn {
                    id: v.into(),
                    text: format!("{v} text"),
                    weight: w(weight),
                    subtopics: Vec::new(),
                })
                .collect(),
        }
    }

    fn input() -> PlanInput {
        let mut topic = dim("topic", &[("work", 0.5), ("grief", 0.3), ("sleep", 0.2)]);
        topic.values[0].subtopics = vec!["deadlines".into(), "manager".into(), "exams".into()];
        PlanInput {
            spec_id: "therapy".into(),
            dimensions: vec![
                topic,
                dim("difficulty", &[("clear", 0.4), ("vague", 0.6)]),
                dim("style", &[("terse", 0.3), ("verbose", 0.2), ("plain", 0.5)]),
            ],
            edge_case_share: w(0.1),
            edge_cases: vec!["two languages".into(), "a secret".into()],
            traits: vec![dim(
                "age",
                &[("young", 0.3), ("middle", 0.5), ("older", 0.2)],
            )],
            flaw_free: w(0.2),
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
                    weight: w(0.2),
                },
            ],
            trajectories: vec![
                WeightedIn {
                    id: "stable".into(),
                    weight: w(0.4),
                },
                WeightedIn {
                    id: "improving".into(),
                    weight: w(0.6),
                },
            ],
            behaviours: vec![
                WeightedIn {
                    id: "engage".into(),
                    weight: w(0.55),
                },
                WeightedIn {
                    id: "ignore".into(),
                    weight: w(0.45),
                },
            ],
            turns: (3, 6),
            scenarios: Vec::new(),
        }
    }

    #[test]
    fn quotas_are_largest_remainder() {
        let mut rng = Rng::new(1);
        assert_eq!(quotas(&[w(0.5), w(0.3), w(0.2)], 10, &mut rng), [5, 3, 2]);
        assert_eq!(quotas(&[w(0.5), w(0.3), w(0.2)], 0, &mut rng), [0, 0, 0]);
        // 7 × (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4: the 0.5 remainder wins.
        assert_eq!(quotas(&[w(0.5), w(0.3), w(0.2)], 7, &mut rng), [4, 2, 1]);
        assert_eq!(quotas(&[0, 0], 3, &mut rng).iter().sum::<u64>(), 3);
        assert_eq!(quotas(&[0, 5], 3, &mut rng), [0, 3]);
        assert!(quotas(&[], 3, &mut rng).is_empty());
        assert_eq!(
            quotas(&[u64::MAX, u64::MAX], u64::MAX, &mut rng)
                .iter()
                .map(|&q| u128::from(q))
                .sum::<u128>(),
            u128::from(u64::MAX)
        );
        // Equal weights: which values get the extra item depends on the seed.
        let firsts: HashSet<Vec<u64>> = (0..20)
            .map(|s| quotas(&[1, 1, 1, 1, 1], 2, &mut Rng::new(s)))
            .collect();
        assert!(firsts.len() > 3);
    }

    #[test]
    fn quota_sequences_spread_each_value() {
        let q = [6u64, 3, 1];
        let seq = quota_sequence(&q, &[0, 1, 2]);
        assert_eq!(seq.len(), 10);
        // Every window of 5 holds the 0.6 value 2 or 3 times.
        for window in seq.windows(5) {
            let c = window.iter().filter(|&&v| v == 0).count();
            assert!((2..=4).contains(&c), "{seq:?}");
        }
        assert_eq!(quota_sequence(&[2, 2], &[1, 0]), [1, 0, 1, 0]);
    }

    #[test]
    fn marginals_match_the_quotas_exactly() {
        let input = input();
        for n in [0, 1, 7, 18, 100, 1001] {
            let plan = plan(&input, n, 42);
            assert_eq!(plan.items.len(), n);
            for (d, dimension) in input.dimensions.iter().enumerate() {
                let weights: Vec<u64> = dimension.values.iter().map(|v| v.weight).collect();
                let expected = quotas(
                    &weights,
                    n as u64,
                    &mut global(42, stream::QUOTA_TIES + d as u64),
                );
                for (v, value) in dimension.values.iter().enumerate() {
                    let count = plan
                        .items
                        .iter()
                        .filter(|i| i.value(&dimension.id) == Some(value.id.as_str()))
                        .count() as u64;
                    assert_eq!(count, expected[v], "n={n} {} {}", dimension.id, value.id);
                }
            }
        }
    }

    #[test]
    fn every_cell_is_hit_when_the_quotas_allow() {
        let equal = PlanInput {
            spec_id: "s".into(),
            dimensions: vec![
                dim("a", &[("a1", 1.0), ("a2", 1.0), ("a3", 1.0)]),
                dim("b", &[("b1", 1.0), ("b2", 1.0)]),
                dim("c", &[("c1", 1.0), ("c2", 1.0), ("c3", 1.0), ("c4", 1.0)]),
            ],
            ..PlanInput::default()
        };
        for n in [24, 25, 30, 47, 48, 100] {
            for seed in 0..5 {
                let plan = plan(&equal, n, seed);
                let hit: HashSet<Vec<(String, String)>> =
                    plan.items.iter().map(|i| i.cell.clone()).collect();
                assert_eq!(hit.len(), 24, "n={n} seed={seed}");
            }
        }
        // Unequal but feasible: each value's quota covers its cells.
        let input = input();
        let plan = plan(&input, 100, 3);
        let hit: HashSet<Vec<(String, String)>> =
            plan.items.iter().map(|i| i.cell.clone()).collect();
        assert_eq!(hit.len(), 18);
    }

    #[test]
    fn cells_are_close_to_the_product() {
        let input = input();
        let n = 10_000;
        let plan = plan(&input, n, 9);
        let mut counts: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        for item in &plan.items {
            *counts
                .entry(item.cell.iter().map(|(_, v)| v.clone()).collect())
                .or_default() += 1;
        }
        for (cell, count) in counts {
            let mut expected = n as f64;
            for (d, v) in input.dimensions.iter().zip(&cell) {
                let value = d.values.iter().find(|x| &x.id == v).unwrap();
                expected *= value.weight as f64 / UNIT as f64;
            }
            // Independent draws would be off by about √expected (up to 30).
            assert!(
                (count as f64 - expected).abs() <= 4.0,
                "{cell:?}: {count} against {expected}"
            );
        }
    }

    #[test]
    fn plans_are_deterministic_and_per_item_draws_do_not_depend_on_n() {
        let input = input();
        let a = plan(&input, 200, 7);
        let b = plan(&input, 200, 7);
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_ne!(a, plan(&input, 200, 8));
        let small = plan(&input, 100, 7);
        for (x, y) in small.items.iter().zip(&a.items) {
            assert_eq!(x.id, y.id);
            assert_eq!(x.persona, y.persona);
            assert_eq!(x.turns, y.turns);
            assert_eq!(x.scenario, y.scenario);
        }
        assert_eq!(a.items[3].id, "therapy-s7-00003");
    }

    #[test]
    fn personas_follow_the_rules() {
        let input = input();
        let plan = plan(&input, 5000, 1);
        let mut free = 0;
        let mut two = 0;
        for item in &plan.items {
            let p = &item.persona;
            assert_eq!(p.traits.len(), 1);
            assert!(p.trajectory.is_some());
            match &p.primary_flaw {
                None => {
                    free += 1;
                    assert!(p.secondary_flaws.is_empty());
                }
                Some(primary) => {
                    assert!((1..=2).contains(&p.secondary_flaws.len()));
                    two += usize::from(p.secondary_flaws.len() == 2);
                    let mut all = p.secondary_flaws.clone();
                    all.push(primary.clone());
                    let unique: HashSet<&String> = all.iter().collect();
                    assert_eq!(unique.len(), all.len(), "{p:?}");
                    let kind = |id: &str| {
                        input
                            .flaws
                            .iter()
                            .find(|f| f.id == id)
                            .unwrap()
                            .kind
                            .clone()
                    };
                    // The first secondary is of another kind (there is one).
                    assert_ne!(kind(&p.secondary_flaws[0]), kind(primary), "{p:?}");
                }
            }
            assert!((3..=6).contains(&item.turns));
        }
        assert!((900..=1100).contains(&free), "{free}");
        assert!((1800..=2200).contains(&two), "{two}");
    }

    #[test]
    fn one_kind_of_flaw_falls_back_to_the_same_kind() {
        let mut input = input();
        input.flaws.truncate(2);
        input.flaw_free = 0;
        let plan = plan(&input, 200, 2);
        for item in &plan.items {
            let p = &item.persona;
            assert!(p.primary_flaw.is_some());
            assert_eq!(p.secondary_flaws.len(), 1, "only one other flaw exists");
            assert_ne!(p.primary_flaw.as_ref(), p.secondary_flaws.first());
        }
        input.flaws.truncate(1);
        let plan = super::plan(&input, 20, 2);
        assert!(
            plan.items
                .iter()
                .all(|i| i.persona.secondary_flaws.is_empty())
        );
    }

    #[test]
    fn edge_cases_subtopics_and_behaviours() {
        let input = input();
        let plan = plan(&input, 1000, 5);
        let edge: Vec<&String> = plan
            .items
            .iter()
            .filter_map(|i| i.edge_case.as_ref())
            .collect();
        assert_eq!(edge.len(), 100);
        let first = edge
            .iter()
            .filter(|t| t.as_str() == "two languages")
            .count();
        assert_eq!(first, 50);
        let mut subtopics: BTreeMap<&str, usize> = BTreeMap::new();
        for item in &plan.items {
            if item.value("topic") == Some("work") {
                *subtopics
                    .entry(item.subtopic.as_deref().unwrap())
                    .or_default() += 1;
            } else {
                assert!(item.subtopic.is_none());
            }
        }
        let counts: Vec<usize> = subtopics.values().copied().collect();
        assert_eq!(counts.len(), 3);
        assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1);
        assert_eq!(behaviour_for(&input, 5, 3, 0), None);
        let b = behaviour_for(&input, 5, 3, 2);
        assert!(b.is_some());
        assert_eq!(b, behaviour_for(&input, 5, 3, 2));
        let engaged = (0..10_000)
            .filter(|&i| behaviour_for(&input, 5, i, 1) == Some("engage"))
            .count();
        assert!((5_300..=5_700).contains(&engaged), "{engaged}");
    }

    #[test]
    fn scenarios_cycle_without_dimensions() {
        let input = PlanInput {
            spec_id: "x".into(),
            scenarios: vec!["a".into(), "b".into(), "c".into()],
            turns: (2, 2),
            ..PlanInput::default()
        };
        let plan = plan(&input, 7, 1);
        let seen: Vec<&str> = plan
            .items
            .iter()
            .map(|i| i.scenario.as_deref().unwrap())
            .collect();
        assert_eq!(seen[0..3], seen[3..6]);
        assert_eq!(seen[0], seen[6]);
        let unique: HashSet<&&str> = seen[0..3].iter().collect();
        assert_eq!(unique.len(), 3);
        assert!(plan.items.iter().all(|i| i.cell.is_empty() && i.turns == 2));
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let mut input = input();
        input.dimensions.push(DimensionIn {
            id: "empty".into(),
            values: Vec::new(),
        });
        input.dimensions[1]
            .values
            .iter_mut()
            .for_each(|v| v.weight = 0);
        input.traits.push(DimensionIn::default());
        input.edge_case_share = u64::MAX;
        input.flaw_free = u64::MAX;
        input.turns = (u32::MAX, 0);
        let plan = plan(&input, 50, u64::MAX);
        assert_eq!(plan.items.len(), 50);
        assert!(plan.items.iter().all(|i| i.edge_case.is_some()));
        assert!(plan.items.iter().all(|i| i.persona.primary_flaw.is_none()));
        assert!(plan.items.iter().all(|i| i.cell.len() == 3));
        let empty = super::plan(&PlanInput::default(), 3, 0);
        assert_eq!(empty.items.len(), 3);
    }
}
