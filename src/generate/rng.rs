//! The generator behind every random choice of a generation plan.
//!
//! Why a generator of our own: a plan must be the same on every machine,
//! platform and Rust version for the same seed (a pilot is re-run, resumed
//! and compared by seed), so nothing here may depend on `std`'s hashers, on
//! pointer width or on floating-point rounding. SplitMix64 (Steele, Lea and
//! Flood, 2014) is a few lines of 64-bit integer arithmetic, passes BigCrush,
//! and every step is a bijection, so it is well defined everywhere.
//!
//! In: a seed, an item index and a stream number. Out: 64-bit draws, uniform
//! integers without modulo bias (Lemire's multiply-and-reject), a uniform
//! `f64` in `[0, 1)`, Bernoulli draws against shares in units of 1e-9, a
//! weighted choice over `u64` weights, and Fisher–Yates shuffles.
//!
//! `Rng::for_item(seed, index, stream)` derives the state by hashing the
//! three numbers with the SplitMix64 finaliser, so an item's draws for one
//! purpose (its persona, its turn count, the behaviour at its third
//! exchange) depend only on those three numbers: not on the plan's size,
//! not on other items, and not on the order in which anything was drawn.
//! (This is a different generator from the xorshift jitter of
//! `llm::engine::retry::Rng`, which only has to spread retries, not repeat.)

/// The golden-ratio increment of SplitMix64.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 finaliser (Stafford's "Mix13"): a bijection of `u64`
/// whose output bits each depend on every input bit.
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The weight of a certainty: shares and weights are integers of 1e-9.
pub const UNIT: u64 = 1_000_000_000;

/// A fast `Hasher` for the crate's maps whose keys are hashes already or
/// short ids (SipHash, `std`'s default, resists hostile keys, which
/// nothing here has to). Eight bytes at a time through the finaliser.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = mix64(self.0 ^ u64::from_le_bytes(word)).wrapping_add(chunk.len() as u64);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = mix64(self.0 ^ v);
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// A `HashSet` with [`FastHasher`].
pub type FastSet<K> = std::collections::HashSet<K, std::hash::BuildHasherDefault<FastHasher>>;

/// A SplitMix64 generator. Cloning it forks an identical sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator started from `seed` (any value, zero included).
    pub const fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The generator of one purpose (`stream`) of one item (`index`) of the
    /// plan seeded with `seed`. The three numbers are hashed one after the
    /// other through the finaliser, with distinct odd multipliers so that
    /// swapping them gives a different state.
    pub const fn for_item(seed: u64, index: u64, stream: u64) -> Rng {
        let a = mix64(seed ^ 0x6a09_e667_f3bc_c908);
        let b = mix64(a ^ index.wrapping_mul(0xbb67_ae85_84ca_a73b));
        let c = mix64(b ^ stream.wrapping_mul(0x3c6e_f372_fe94_f82b));
        Rng { state: c }
    }

    /// The next 64 uniform bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix64(self.state)
    }

    /// A uniform integer in `[0, n)`; 0 when `n` is 0. Lemire's method
    /// ("Fast random integer generation in an interval", 2019): the high
    /// half of a 128-bit product, with the few low halves that would bias
    /// it rejected, so every value is exactly equally likely.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            // 2^64 mod n: the number of low halves to reject.
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// A uniform index into a slice of length `len`; 0 when `len` is 0.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A uniform integer in `[lo, hi]`, either order of the bounds.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(),
        }
    }

    /// A uniform draw from `[0, 1)` with 53 bits of precision.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `share / 1e9` (exact, in integers); a share of
    /// 1e9 or more is always true, 0 never.
    pub fn chance(&mut self, share: u64) -> bool {
        self.below(UNIT) < share
    }

    /// An index drawn with probability proportional to its weight. Weights
    /// of 0 are never drawn; when every weight is 0 the draw is uniform, so
    /// a spec whose weights the linter already rejects still plans. `None`
    /// only for an empty slice.
    pub fn weighted(&mut self, weights: &[u64]) -> Option<usize> {
        self.weighted_where(weights.len(), |_| true, |i| weights[i])
    }

    /// An index of `0..len` for which `eligible` holds, drawn with
    /// probability proportional to `weight` (uniform among the eligible when
    /// all their weights are 0); `None`, drawing nothing, when no index is
    /// eligible. The same draw as `weighted` over the eligible weights in
    /// order, without collecting them.
    pub fn weighted_where(
        &mut self,
        len: usize,
        eligible: impl Fn(usize) -> bool,
        weight: impl Fn(usize) -> u64,
    ) -> Option<usize> {
        let mut count = 0usize;
        let mut total: u128 = 0;
        for i in (0..len).filter(|&i| eligible(i)) {
            count += 1;
            total += u128::from(weight(i));
        }
        if count == 0 {
            return None;
        }
        let nth_eligible = |k: usize| (0..len).filter(|&i| eligible(i)).nth(k);
        if total == 0 {
            let k = self.index(count);
            return nth_eligible(k);
        }
        // Weights summing past 2^64 are scaled down by a power of two, the
        // same on every machine (a zero weight stays zero; a tiny one may
        // become zero, which only weights near 2^64 times smaller can).
        let shift = (128 - total.leading_zeros()).saturating_sub(64);
        let scaled = |i: usize| weight(i) >> shift;
        let total: u64 = (0..len).filter(|&i| eligible(i)).map(scaled).sum();
        if total == 0 {
            let k = self.index(count);
            return nth_eligible(k);
        }
        let mut point = self.below(total);
        let mut last = None;
        for i in (0..len).filter(|&i| eligible(i)) {
            let w = scaled(i);
            if point < w {
                return Some(i);
            }
            point -= w;
            last = Some(i);
        }
        // Unreachable: `point < total`, the sum of the scaled weights.
        last
    }

    /// Shuffles a slice in place (Fisher–Yates, uniform over orders).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// A uniformly random order of `0..len`.
    pub fn permutation(&mut self, len: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..len).collect();
        self.shuffle(&mut order);
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference outputs of SplitMix64 seeded with 1234567 (from the
    /// author's C code, as in Vigna's `splitmix64.c`).
    #[test]
    fn matches_the_reference_sequence() {
        let mut rng = Rng::new(1234567);
        let expected = [
            6457827717110365317u64,
            3203168211198807973,
            9817491932198370423,
            4593380528125082431,
            16408922859458223821,
        ];
        for e in expected {
            assert_eq!(rng.next_u64(), e);
        }
    }

    #[test]
    fn item_streams_are_fixed_and_distinct() {
        let a = Rng::for_item(7, 3, 1).next_u64();
        assert_eq!(a, Rng::for_item(7, 3, 1).next_u64());
        assert_ne!(a, Rng::for_item(7, 3, 2).next_u64());
        assert_ne!(a, Rng::for_item(7, 4, 1).next_u64());
        assert_ne!(a, Rng::for_item(8, 3, 1).next_u64());
        // Swapped arguments are different streams.
        assert_ne!(
            Rng::for_item(1, 2, 3).next_u64(),
            Rng::for_item(3, 2, 1).next_u64()
        );
    }

    #[test]
    fn below_is_in_range_and_unbiased() {
        let mut rng = Rng::new(42);
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            let v = rng.below(7) as usize;
            counts[v] += 1;
        }
        for c in counts {
            // 10,000 expected, σ ≈ 93.
            assert!((9_500..=10_500).contains(&c), "{counts:?}");
        }
        // The largest bound, where nearly half of all draws are rejected.
        let n = (1u64 << 63) + 1;
        for _ in 0..1000 {
            assert!(rng.below(n) < n);
        }
        assert!(rng.below(u64::MAX) < u64::MAX);
    }

    #[test]
    fn ranges_units_and_chances() {
        let mut rng = Rng::new(9);
        for _ in 0..1000 {
            let v = rng.range_inclusive(3, 6);
            assert!((3..=6).contains(&v));
            assert_eq!(rng.range_inclusive(5, 5), 5);
            let r = rng.range_inclusive(6, 3);
            assert!((3..=6).contains(&r));
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
        }
        let _ = rng.range_inclusive(0, u64::MAX);
        assert!((0..1000).all(|_| !rng.chance(0)));
        assert!((0..1000).all(|_| rng.chance(UNIT)));
        assert!((0..1000).all(|_| rng.chance(u64::MAX)));
        let hits = (0..100_000).filter(|_| rng.chance(UNIT / 5)).count();
        assert!((19_000..=21_000).contains(&hits), "{hits}");
    }

    #[test]
    fn weighted_choice_follows_the_weights() {
        let mut rng = Rng::new(5);
        assert_eq!(rng.weighted(&[]), None);
        let weights = [UNIT / 2, 0, UNIT / 4, UNIT / 4];
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[rng.weighted(&weights).unwrap()] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((19_200..=20_800).contains(&counts[0]), "{counts:?}");
        assert!((9_400..=10_600).contains(&counts[2]), "{counts:?}");
        // All zero: uniform. Enormous: scaled, still proportional.
        let zero = [0u64; 3];
        assert!((0..100).all(|_| rng.weighted(&zero).unwrap() < 3));
        let huge = [u64::MAX, u64::MAX, 0];
        let mut c = [0u32; 3];
        for _ in 0..10_000 {
            c[rng.weighted(&huge).unwrap()] += 1;
        }
        assert_eq!(c[2], 0);
        assert!((4_500..=5_500).contains(&c[0]), "{c:?}");
    }

    #[test]
    fn weighted_where_draws_as_weighted_over_the_eligible() {
        let weights = [5u64, 0, 3, 9, 1, 0];
        let eligible = |i: usize| i.is_multiple_of(2);
        let subset: Vec<u64> = (0..6)
            .filter(|&i| eligible(i))
            .map(|i| weights[i])
            .collect();
        let (mut a, mut b) = (Rng::new(3), Rng::new(3));
        for _ in 0..1000 {
            let x = a.weighted_where(6, eligible, |i| weights[i]).unwrap();
            let y = b.weighted(&subset).unwrap();
            assert_eq!(x, 2 * y);
        }
        assert_eq!(a.weighted_where(6, |_| false, |i| weights[i]), None);
        assert_eq!(a, b, "nothing eligible draws nothing");
        let zero = |i: usize| i == 1 || i == 5;
        assert!((0..100).all(|_| zero(a.weighted_where(6, zero, |i| weights[i]).unwrap())));
    }

    #[test]
    fn shuffles_are_permutations() {
        let mut rng = Rng::new(11);
        let p = rng.permutation(100);
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(p, sorted);
        assert!(rng.permutation(0).is_empty());
        let mut one = [1];
        rng.shuffle(&mut one);
        assert_eq!(one, [1]);
    }
}
