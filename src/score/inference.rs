//! The tests and intervals `ftprep compare` reports: the difference of two
//! pass rates (Newcombe's interval), and, on the scores of records two runs
//! share, a paired t-test and a Wilcoxon signed-rank test.
//!
//! Distributions come from `statrs` (Student's t, the standard normal). The
//! Wilcoxon test's exact null distribution is counted here, since statrs has
//! none: it is the number of ways to give signs to the ranks, which a short
//! dynamic programme counts exactly. Every choice is documented in
//! docs/scoring.md (`ftprep compare`), and the tests below check each
//! function against values computed with SciPy 1.17.1 and published
//! examples.

use super::stats::wilson;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// The largest sample the Wilcoxon test's exact distribution is counted
/// for; above it, the normal approximation (SciPy's default switches at
/// the same size).
pub const WILCOXON_EXACT_MAX: usize = 50;

/// Newcombe's hybrid score interval (his method 10) at 95% for the
/// difference `b − a` of two independent proportions, each given as
/// (successes, n): built from the two Wilson intervals, so it stays inside
/// [−1, 1] and behaves at rates near 0 or 1, where the normal
/// approximation does not. `None` when either n is 0.
pub fn newcombe(a: (u64, u64), b: (u64, u64)) -> Option<(f64, f64)> {
    let (la, ua) = wilson(a.0, a.1)?;
    let (lb, ub) = wilson(b.0, b.1)?;
    let pa = a.0 as f64 / a.1 as f64;
    let pb = b.0 as f64 / b.1 as f64;
    let d = pb - pa;
    let low = d - ((pb - lb).powi(2) + (ua - pa).powi(2)).sqrt();
    let high = d + ((ub - pb).powi(2) + (pa - la).powi(2)).sqrt();
    Some((low.max(-1.0), high.min(1.0)))
}

/// A paired t-test of differences against a mean of 0.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedT {
    pub n: usize,
    pub mean: f64,
    /// The sample standard deviation of the differences (n − 1).
    pub sd: f64,
    /// The 95% interval of the mean difference.
    pub interval: Option<(f64, f64)>,
    /// `None` when the differences do not vary (the statistic is 0/0 or
    /// infinite): every pair moved by the same amount.
    pub t: Option<f64>,
    pub df: u64,
    /// Two-sided.
    pub p: Option<f64>,
}

/// The paired t-test of `diffs`; `None` with fewer than two.
pub fn paired_t(diffs: &[f64]) -> Option<PairedT> {
    let n = diffs.len();
    if n < 2 {
        return None;
    }
    let mean = diffs.iter().sum::<f64>() / n as f64;
    let variance = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = variance.sqrt();
    let df = (n - 1) as u64;
    let se = sd / (n as f64).sqrt();
    // Differences computed from exact scores that are all equal still
    // leave rounding noise in the sum: below this, they do not vary.
    let varies = sd > 1e-12 * mean.abs().max(1.0);
    let dist = StudentsT::new(0.0, 1.0, df as f64).ok();
    let (t, p, interval) = match (&dist, varies) {
        (Some(dist), true) => {
            let t = mean / se;
            let p = (2.0 * dist.sf(t.abs())).min(1.0);
            let q = dist.inverse_cdf(0.975);
            (Some(t), Some(p), Some((mean - q * se, mean + q * se)))
        }
        _ => (None, None, None),
    };
    Some(PairedT {
        n,
        mean,
        sd,
        interval,
        t,
        df,
        p,
    })
}

/// How a Wilcoxon test's p-value was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WilcoxonMethod {
    /// The exact distribution of the signed-rank sum, given the ranks
    /// (tied ranks included), by counting.
    Exact,
    /// The normal approximation, its variance corrected for ties, without
    /// continuity correction.
    Normal,
}

impl WilcoxonMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            WilcoxonMethod::Exact => "exact",
            WilcoxonMethod::Normal => "normal",
        }
    }
}

/// A Wilcoxon signed-rank test of paired differences against 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Wilcoxon {
    /// Differences that are not zero: the sample ranked.
    pub n: usize,
    /// Zero differences, dropped before ranking (Wilcoxon's own rule).
    pub zeros: usize,
    /// Groups of tied absolute differences, which share their mean rank.
    pub tie_groups: usize,
    /// The sum of the ranks of positive differences, and of negative ones.
    pub w_plus: f64,
    pub w_minus: f64,
    /// min(W+, W−): the two-sided statistic, as SciPy reports it.
    pub statistic: f64,
    pub method: WilcoxonMethod,
    /// The standardised W+, for the normal approximation.
    pub z: Option<f64>,
    /// Two-sided.
    pub p: f64,
}

/// The Wilcoxon signed-rank test of `diffs`. Zero differences are dropped
/// (Wilcoxon's rule, SciPy's `zero_method="wilcox"` default); tied absolute
/// differences get their mean rank. With at most [`WILCOXON_EXACT_MAX`]
/// differences left, the p-value is exact: the distribution of W+ over
/// the 2ⁿ equally likely sign assignments of these ranks, counted (with
/// ties it is the exact distribution given the ties, as a complete
/// permutation test finds). Above, the normal approximation with the tie
/// correction of the variance. `None` when no difference is left.
///
/// Ties are found by exact equality: `compare` computes differences from
/// exact fractions, and equal reduced fractions give equal floats.
pub fn wilcoxon(diffs: &[f64]) -> Option<Wilcoxon> {
    let mut nonzero: Vec<f64> = diffs
        .iter()
        .copied()
        .filter(|d| *d != 0.0 && d.is_finite())
        .collect();
    let zeros = diffs.iter().filter(|d| **d == 0.0).count();
    let n = nonzero.len();
    if n == 0 {
        return None;
    }
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    // Ranks doubled, so mean ranks of ties are whole numbers.
    let mut doubled = vec![0u64; n];
    let mut tie_groups = 0;
    let mut tie_term = 0.0; // Σ (t³ − t)
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && nonzero[j].abs() == nonzero[i].abs() {
            j += 1;
        }
        // Ranks i+1 ..= j share their mean (i+1+j)/2, doubled.
        let rank2 = (i + 1 + j) as u64;
        for r in &mut doubled[i..j] {
            *r = rank2;
        }
        let t = (j - i) as f64;
        if j - i > 1 {
            tie_groups += 1;
            tie_term += t * t * t - t;
        }
        i = j;
    }
    let plus2: u64 = nonzero
        .iter()
        .zip(&doubled)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum();
    let total2 = (n * (n + 1)) as u64;
    let minus2 = total2 - plus2;
    let (w_plus, w_minus) = (plus2 as f64 / 2.0, minus2 as f64 / 2.0);
    let statistic = w_plus.min(w_minus);
    let nf = n as f64;
    let (method, z, p) = if n <= WILCOXON_EXACT_MAX {
        // counts[s]: sign assignments whose doubled W+ is s. At most 2⁵⁰
        // of them, which u64 holds.
        let mut counts = vec![0u64; total2 as usize + 1];
        counts[0] = 1;
        let mut reach = 0usize;
        for &r in &doubled {
            let r = r as usize;
            for s in (0..=reach).rev() {
                if counts[s] > 0 {
                    counts[s + r] += counts[s];
                }
            }
            reach += r;
        }
        let all = (1u64 << n) as f64;
        let low: u64 = counts[..=plus2 as usize].iter().sum();
        let high: u64 = counts[plus2 as usize..].iter().sum();
        let p = (2.0 * low.min(high) as f64 / all).min(1.0);
        (WilcoxonMethod::Exact, None, p)
    } else {
        let mean = nf * (nf + 1.0) / 4.0;
        let variance = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0;
        let z = (w_plus - mean) / variance.sqrt();
        let p = Normal::new(0.0, 1.0)
            .map(|normal| (2.0 * normal.cdf(-z.abs())).min(1.0))
            .unwrap_or(f64::NAN);
        (WilcoxonMethod::Normal, Some(z), p)
    };
    Some(Wilcoxon {
        n,
        zeros,
        tie_groups,
        w_plus,
        w_minus,
        statistic,
        method,
        z,
        p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn newcombe_matches_his_published_example() {
        // Newcombe (1998), Statistics in Medicine 17:873, table II, example
        // (a): 56/70 against 48/80, method 10 gives 0.0524 to 0.3339.
        let (low, high) = newcombe((48, 80), (56, 70)).unwrap();
        assert!(close(low, 0.0524, 5e-5), "{low}");
        assert!(close(high, 0.3339, 5e-5), "{high}");
        // The other way round, the interval is mirrored.
        let (low2, high2) = newcombe((56, 70), (48, 80)).unwrap();
        assert!(close(low2, -high, 1e-12) && close(high2, -low, 1e-12));
        assert_eq!(newcombe((0, 0), (1, 2)), None);
    }

    #[test]
    fn newcombe_stays_inside_the_possible_differences() {
        let (low, high) = newcombe((0, 5), (5, 5)).unwrap();
        assert!(low > 0.0 && high <= 1.0, "{low} {high}");
    }

    // The values below were computed with SciPy 1.17.1:
    // scipy.stats.ttest_rel(b, a) and scipy.stats.wilcoxon(b, a) (or of the
    // differences), and scipy.stats.t.ppf(0.975, df) for the interval.

    #[test]
    fn the_paired_t_test_matches_scipy() {
        let diffs = [0.5, -0.25, 1.0, 0.75, 0.0, 1.5, -0.5, 0.25];
        let t = paired_t(&diffs).unwrap();
        assert_eq!((t.n, t.df), (8, 7));
        assert!(close(t.mean, 0.40625, 1e-12));
        // ttest_1samp(d, 0): statistic 1.721892064184557, pvalue 0.12876171321826999
        assert!(close(t.t.unwrap(), 1.721892064184557, 1e-9), "{t:?}");
        assert!(close(t.p.unwrap(), 0.12876171321826999, 1e-9), "{t:?}");
        let (low, high) = t.interval.unwrap();
        // mean ± t.ppf(0.975, 7) * sd / sqrt(8)
        assert!(close(low, -0.15164130003598508, 1e-9), "{low}");
        assert!(close(high, 0.9641413000359851, 1e-9), "{high}");
    }

    #[test]
    fn the_paired_t_test_is_undefined_when_nothing_varies() {
        let t = paired_t(&[0.1, 0.1, 0.1]).unwrap();
        assert_eq!((t.t, t.p, t.interval), (None, None, None));
        assert!(paired_t(&[0.3]).is_none());
        assert!(paired_t(&[]).is_none());
    }

    #[test]
    fn wilcoxon_without_ties_is_exact_and_matches_scipy() {
        let diffs = [0.5, -0.25, 1.1, 0.75, 1.5, -0.6, 0.3, 0.9, 1.2, -0.1];
        let w = wilcoxon(&diffs).unwrap();
        assert_eq!(w.method, WilcoxonMethod::Exact);
        assert_eq!((w.n, w.zeros, w.tie_groups), (10, 0, 0));
        // wilcoxon: statistic 8.0, pvalue 0.048828125
        assert_eq!(w.statistic, 8.0);
        assert_eq!((w.w_plus, w.w_minus), (47.0, 8.0));
        assert!(close(w.p, 0.048828125, 1e-12), "{w:?}");
    }

    #[test]
    fn wilcoxon_with_ties_and_zeros_is_the_complete_permutation_test() {
        // n ≤ 13 with ties and zeros: SciPy's default is then the complete
        // permutation test: statistic 5.5, pvalue 0.05078125.
        let diffs = [0.5, -0.5, 1.0, 0.0, 1.0, 0.25, 0.75, 0.5, -0.25, 1.0];
        let w = wilcoxon(&diffs).unwrap();
        assert_eq!((w.n, w.zeros, w.tie_groups), (9, 1, 3));
        assert_eq!(w.method, WilcoxonMethod::Exact);
        assert_eq!(w.statistic, 5.5);
        assert!(close(w.p, 0.05078125, 1e-12), "{w:?}");
    }

    #[test]
    fn wilcoxon_on_a_large_sample_uses_the_normal_approximation() {
        // 60 differences, (k mod 23)/10 − 0.5 with every third negated:
        // ties, and three zeros. wilcoxon(d) gives statistic 634.5, pvalue
        // 0.1269263776676731 (the asymptotic method, as for n > 50).
        let diffs: Vec<f64> = (0..60)
            .map(|k| {
                let d = (k % 23) as f64 / 10.0 - 0.5;
                if k % 3 == 0 { -d } else { d }
            })
            .collect();
        let w = wilcoxon(&diffs).unwrap();
        assert_eq!(w.method, WilcoxonMethod::Normal);
        assert!(w.z.is_some());
        assert_eq!(w.statistic, 634.5, "{w:?}");
        assert_eq!((w.n, w.zeros), (57, 3));
        assert!(close(w.p, 0.1269263776676731, 1e-9), "{w:?}");
    }

    #[test]
    fn wilcoxon_with_nothing_but_zeros_has_no_test() {
        assert!(wilcoxon(&[0.0, 0.0]).is_none());
        assert!(wilcoxon(&[]).is_none());
    }
}
