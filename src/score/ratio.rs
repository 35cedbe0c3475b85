//! Exact non-negative fractions for scores.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Div, Mul};

/// A reduced fraction `num / den` with `den > 0`.
///
/// Scores are sums of small fractions (YES / questions) times weights in
/// units of 10⁻⁹, so `i128` holds them with a wide margin; the compiler
/// rejects categories large enough to approach the limit (see
/// `check_exact_scoring` in `model::lower`). Overflow saturates rather than
/// wraps, which can only happen beyond that limit.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: i128,
    den: i128,
}

/// Binary (Stein's) GCD: shifts and subtractions instead of the divisions
/// of Euclid's, several times faster on the small numbers scores are made
/// of. Scoring a million records computes millions of these.
pub(crate) fn gcd_u64(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

fn gcd(a: i128, b: i128) -> i128 {
    let (a, b) = (a.unsigned_abs(), b.unsigned_abs());
    if let (Ok(x), Ok(y)) = (u64::try_from(a), u64::try_from(b)) {
        return gcd_u64(x, y) as i128;
    }
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    x as i128
}

impl Ratio {
    /// `num / den`, reduced. A zero denominator gives zero.
    pub fn new(num: i128, den: i128) -> Self {
        if den == 0 {
            return Ratio::zero();
        }
        let sign = if den < 0 { -1 } else { 1 };
        // The common case fits 64 bits, where division is much cheaper.
        if let (Ok(n), Ok(d)) = (i64::try_from(num), i64::try_from(den))
            && n != i64::MIN
            && d != i64::MIN
        {
            let g = gcd(num, den).max(1) as i64;
            let s = sign as i64;
            return Ratio {
                num: (s * n / g) as i128,
                den: (s * d / g) as i128,
            };
        }
        let g = gcd(num, den).max(1);
        Ratio {
            num: sign * num / g,
            den: sign * den / g,
        }
    }

    pub fn zero() -> Self {
        Ratio { num: 0, den: 1 }
    }

    pub fn one() -> Self {
        Ratio { num: 1, den: 1 }
    }

    pub fn from_int(n: i128) -> Self {
        Ratio { num: n, den: 1 }
    }

    pub fn numer(&self) -> i128 {
        self.num
    }

    pub fn denom(&self) -> i128 {
        self.den
    }

    /// The value rounded half-to-even to `places` decimal places, as text:
    /// the one rounding ftprep applies, and only for display.
    pub fn to_decimal_string(&self, places: u32) -> String {
        let scale = 10i128.pow(places);
        let scaled = self.num.saturating_mul(scale);
        let mut q = scaled.div_euclid(self.den);
        let r = scaled.rem_euclid(self.den);
        match (2 * r).cmp(&self.den) {
            Ordering::Greater => q += 1,
            Ordering::Equal if q % 2 != 0 => q += 1,
            _ => {}
        }
        let sign = if q < 0 { "-" } else { "" };
        let q = q.abs();
        if places == 0 {
            return format!("{sign}{q}");
        }
        format!(
            "{sign}{}.{:0width$}",
            q / scale,
            q % scale,
            width = places as usize
        )
    }

    /// An `f64` approximation, for statistics and JSON only.
    pub fn to_f64(&self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl Add for Ratio {
    type Output = Ratio;
    fn add(self, other: Ratio) -> Ratio {
        let g = gcd(self.den, other.den).max(1);
        let den = (self.den / g).saturating_mul(other.den);
        let num = self
            .num
            .saturating_mul(other.den / g)
            .saturating_add(other.num.saturating_mul(self.den / g));
        Ratio::new(num, den)
    }
}

impl Mul for Ratio {
    type Output = Ratio;
    fn mul(self, other: Ratio) -> Ratio {
        let g1 = gcd(self.num, other.den).max(1);
        let g2 = gcd(other.num, self.den).max(1);
        Ratio::new(
            (self.num / g1).saturating_mul(other.num / g2),
            (self.den / g2).saturating_mul(other.den / g1),
        )
    }
}

impl Div for Ratio {
    type Output = Ratio;
    fn div(self, other: Ratio) -> Ratio {
        // Dividing is multiplying by the reciprocal.
        #[allow(clippy::suspicious_arithmetic_impl)]
        let quotient = self * Ratio::new(other.den, other.num);
        quotient
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        // Cross-multiplication; both denominators are positive.
        self.num
            .saturating_mul(other.den)
            .cmp(&other.num.saturating_mul(self.den))
    }
}

impl fmt::Debug for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string(4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_gcd_agrees_with_euclid() {
        fn euclid(mut a: u64, mut b: u64) -> u64 {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        }
        for a in 0..200u64 {
            for b in 0..200u64 {
                assert_eq!(gcd_u64(a, b), euclid(a, b), "gcd({a}, {b})");
            }
        }
        let big = [u64::MAX, 1 << 63, 999_999_999_989, 720_720_000_000_000];
        for &a in &big {
            for &b in &big {
                assert_eq!(gcd_u64(a, b), euclid(a, b), "gcd({a}, {b})");
            }
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        let third = Ratio::new(1, 3);
        assert_eq!(third + third + third, Ratio::one());
        assert_eq!(Ratio::new(2, 4), Ratio::new(1, 2));
        assert_eq!(Ratio::new(3, 10) * Ratio::new(10, 3), Ratio::one());
        assert!(Ratio::new(3, 4) >= Ratio::new(75, 100));
        assert!(Ratio::new(74, 100) < Ratio::new(3, 4));
    }

    #[test]
    fn rounding_is_half_to_even() {
        assert_eq!(Ratio::new(1, 8).to_decimal_string(2), "0.12");
        assert_eq!(Ratio::new(3, 8).to_decimal_string(2), "0.38");
        assert_eq!(Ratio::new(2, 3).to_decimal_string(4), "0.6667");
        assert_eq!(Ratio::one().to_decimal_string(2), "1.00");
    }
}
