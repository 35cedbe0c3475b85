//! Finding near-duplicate texts without comparing every pair.
//!
//! Each text is a set of content stems; two texts are similar when their
//! Jaccard similarity |A ∩ B| / |A ∪ B| reaches a threshold `t`. This is
//! the AllPairs algorithm with prefix filtering: order every set's tokens
//! from rarest to commonest; two sets can only reach `t` if they share a
//! token among the first |A| - ceil(t·|A|) + 1 of either, so only those
//! prefix tokens are indexed, and only pairs that meet in the index are
//! compared. On a rubric of thousands of questions that shares boilerplate
//! words, this compares a small fraction of the pairs.

use std::collections::HashMap;

/// A pair of similar texts: indices into the input, and their similarity.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarPair {
    pub first: usize,
    pub second: usize,
    pub similarity: f64,
}

/// Every pair (first < second) of `sets` whose Jaccard similarity is at
/// least `threshold` (0 < threshold ≤ 1), in input order.
pub fn similar_pairs(sets: &[Vec<String>], threshold: f64) -> Vec<SimilarPair> {
    let mut pairs = Vec::new();
    for_each_similar_pair(sets, threshold, |pair| pairs.push(pair));
    pairs.sort_by_key(|p| (p.second, p.first));
    pairs
}

/// Texts that look alike, linked through similar pairs: a group of many
/// near-duplicates is one cluster, however many pairs it has.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Indices into the input, ascending.
    pub members: Vec<usize>,
    /// The most similar pair inside it (the earliest in input order, on a
    /// tie).
    pub closest: SimilarPair,
}

/// The clusters of `sets` at `threshold`: the connected groups of the
/// graph whose edges are the similar pairs, ordered by their first member.
/// The pairs are not kept, so memory stays linear in the number of sets
/// even when nearly every pair is similar.
pub fn similar_clusters(sets: &[Vec<String>], threshold: f64) -> Vec<Cluster> {
    let mut parent: Vec<usize> = (0..sets.len()).collect();
    let mut closest: Vec<Option<SimilarPair>> = vec![None; sets.len()];
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let closer = |a: &SimilarPair, b: &SimilarPair| {
        a.similarity > b.similarity
            || (a.similarity == b.similarity && (a.second, a.first) < (b.second, b.first))
    };
    for_each_similar_pair(sets, threshold, |pair| {
        let (a, b) = (
            root(&mut parent, pair.first),
            root(&mut parent, pair.second),
        );
        let (keep, gone) = (a.min(b), a.max(b));
        let mut best = closest[keep].take();
        for candidate in [closest[gone].take(), Some(pair)].into_iter().flatten() {
            if best.as_ref().is_none_or(|b| closer(&candidate, b)) {
                best = Some(candidate);
            }
        }
        parent[gone] = keep;
        closest[keep] = best;
    });
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); sets.len()];
    for i in 0..sets.len() {
        let r = root(&mut parent, i);
        members[r].push(i);
    }
    members
        .into_iter()
        .zip(closest)
        .filter_map(|(members, closest)| {
            Some(Cluster {
                closest: closest?,
                members,
            })
        })
        .collect()
}

/// Calls `found` with every similar pair, in no documented order.
fn for_each_similar_pair(sets: &[Vec<String>], threshold: f64, mut found: impl FnMut(SimilarPair)) {
    let threshold = threshold.clamp(f64::MIN_POSITIVE, 1.0);
    // Token frequencies, then each set as token ids sorted rarest first.
    let mut frequency: HashMap<&str, usize> = HashMap::new();
    for set in sets {
        for token in set {
            *frequency.entry(token).or_default() += 1;
        }
    }
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut by_rarity: Vec<(&str, usize)> = frequency.iter().map(|(t, f)| (*t, *f)).collect();
    by_rarity.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
    for (rank, (token, _)) in by_rarity.iter().enumerate() {
        ids.insert(token, rank);
    }
    let ordered: Vec<Vec<usize>> = sets
        .iter()
        .map(|set| {
            let mut v: Vec<usize> = set.iter().map(|t| ids[t.as_str()]).collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();

    // Posting lists by token id, and for each set the last set it was
    // compared with, so a candidate met through several tokens is compared
    // once (a marker array: no hashing in the inner loop).
    let mut index: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
    let mut last_compared: Vec<usize> = vec![usize::MAX; sets.len()];
    for (i, tokens) in ordered.iter().enumerate() {
        if tokens.is_empty() {
            continue;
        }
        let required = ((threshold * tokens.len() as f64) - 1e-9).ceil().max(1.0) as usize;
        let prefix = tokens.len() - required.min(tokens.len()) + 1;
        for token in &tokens[..prefix.min(tokens.len())] {
            if let Some(candidates) = index.get(*token) {
                for &j in candidates {
                    if last_compared[j] == i {
                        continue;
                    }
                    last_compared[j] = i;
                    // Size filter: |B| must reach t·|A| for Jaccard ≥ t.
                    let (small, large) = if ordered[j].len() < tokens.len() {
                        (ordered[j].len(), tokens.len())
                    } else {
                        (tokens.len(), ordered[j].len())
                    };
                    if (small as f64) < threshold * large as f64 - 1e-9 {
                        continue;
                    }
                    let similarity = jaccard(&ordered[j], tokens);
                    if similarity >= threshold {
                        found(SimilarPair {
                            first: j,
                            second: i,
                            similarity,
                        });
                    }
                }
            }
        }
        for token in &tokens[..prefix.min(tokens.len())] {
            index[*token].push(i);
        }
    }
}

/// Jaccard similarity of two sorted, deduplicated id lists.
fn jaccard(a: &[usize], b: &[usize]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &str) -> Vec<String> {
        words.split_whitespace().map(str::to_string).collect()
    }

    /// The index finds exactly the pairs a comparison of every pair finds.
    #[test]
    fn prefix_filtering_loses_no_pair() {
        let mut state = 12345u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let vocabulary: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
        let sets: Vec<Vec<String>> = (0..200)
            .map(|_| {
                let n = 2 + (next() % 6) as usize;
                let mut s: Vec<String> = (0..n)
                    .map(|_| vocabulary[(next() % 12) as usize].clone())
                    .collect();
                s.sort();
                s.dedup();
                s
            })
            .collect();
        for threshold in [0.3, 0.5, 0.6, 0.8, 1.0] {
            let fast: Vec<(usize, usize)> = similar_pairs(&sets, threshold)
                .into_iter()
                .map(|p| (p.first, p.second))
                .collect();
            let mut slow = Vec::new();
            for j in 0..sets.len() {
                for i in 0..j {
                    let a: std::collections::BTreeSet<_> = sets[i].iter().collect();
                    let b: std::collections::BTreeSet<_> = sets[j].iter().collect();
                    let inter = a.intersection(&b).count() as f64;
                    let union = a.union(&b).count() as f64;
                    if union > 0.0 && inter / union >= threshold {
                        slow.push((i, j));
                    }
                }
            }
            assert_eq!(fast, slow, "threshold {threshold}");
        }
    }

    #[test]
    fn clusters_join_chains_and_keep_their_closest_pair() {
        let sets = vec![
            set("a b c d"),
            set("x y"),
            set("a b c e"),
            set("a b c e f"),
            set("x y z"),
            set("lonely"),
        ];
        let clusters = similar_clusters(&sets, 0.6);
        assert_eq!(clusters.len(), 2);
        assert_eq!(clusters[0].members, vec![0, 2, 3]);
        assert_eq!(
            (clusters[0].closest.first, clusters[0].closest.second),
            (2, 3)
        );
        assert_eq!(clusters[1].members, vec![1, 4]);
        // Every pair the pairwise search finds lies inside one cluster.
        for pair in similar_pairs(&sets, 0.6) {
            assert!(
                clusters
                    .iter()
                    .any(|c| c.members.contains(&pair.first) && c.members.contains(&pair.second))
            );
        }
    }

    #[test]
    fn similar_sets_pair_up() {
        let sets = vec![
            set("name emotion user"),
            set("name emotion feel"),
            set("crisis line"),
        ];
        let pairs = similar_pairs(&sets, 0.5);
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].first, pairs[0].second), (0, 1));
    }
}
