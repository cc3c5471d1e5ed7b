//! Exact percentiles and small-sample confidence intervals.

/// Nearest-rank percentile of an ascending-sorted slice: the smallest value such that at least
/// `p` percent of the samples are ≤ it (`sorted[ceil(p/100·n) − 1]`). Exact, no interpolation;
/// `None` for an empty slice. `p` is clamped to [0, 100]; p = 0 gives the minimum.
pub fn percentile_sorted(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
    let n = sorted.len();
    // Integer arithmetic in per-million units avoids float rounding at exact ranks
    // (e.g. p = 99.9 with n = 1000 must give rank 999, not 1000).
    let p_ppm = (p * 10_000.0).round() as u128;
    let rank = (p_ppm * n as u128).div_ceil(1_000_000) as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Nearest-rank percentile over `outcomes` outcomes of which `successes` (ascending) are the
/// successful ones, every failure ranked above every success — a failure is a run that
/// never completed, as if infinitely late. `Some(v)` when the rank falls on a success;
/// `None` when it falls on a failure (more than `100 − p` percent failed, so the percentile
/// is "failed", not a time); `None` too without outcomes.
pub fn percentile_with_failures(successes: &[u64], outcomes: u64, p: f64) -> Option<u64> {
    if outcomes == 0 {
        return None;
    }
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
    let p_ppm = (p * 10_000.0).round() as u128;
    let rank = (p_ppm * u128::from(outcomes)).div_ceil(1_000_000).max(1) as usize;
    successes.get(rank - 1).copied()
}

/// Two-sided 95% Student-t critical value for `df` degrees of freedom.
pub fn t_critical_95(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        31..=40 => 2.021,
        41..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// Mean and 95% t-interval half-width of `xs` (half-width 0 for fewer than two samples).
pub fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, 0.0);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    (mean, t_critical_95(n - 1) * (var / n as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_1_to_1000() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile_sorted(&v, 50.0), Some(500));
        assert_eq!(percentile_sorted(&v, 90.0), Some(900));
        assert_eq!(percentile_sorted(&v, 99.0), Some(990));
        assert_eq!(percentile_sorted(&v, 99.9), Some(999));
        assert_eq!(percentile_sorted(&v, 100.0), Some(1000));
        assert_eq!(percentile_sorted(&v, 0.0), Some(1));
    }

    #[test]
    fn small_samples() {
        assert_eq!(percentile_sorted(&[], 50.0), None);
        assert_eq!(percentile_sorted(&[7], 99.9), Some(7));
        // n = 4: p50 rank ceil(2) = 2, p90 rank ceil(3.6) = 4.
        assert_eq!(percentile_sorted(&[1, 2, 3, 4], 50.0), Some(2));
        assert_eq!(percentile_sorted(&[1, 2, 3, 4], 90.0), Some(4));
    }

    #[test]
    fn failures_rank_above_every_success() {
        // 100 outcomes, 98 successes 1..=98 ms: p50 = 50, p90 = 90, p99 falls on a failure.
        let ok: Vec<u64> = (1..=98).collect();
        assert_eq!(percentile_with_failures(&ok, 100, 50.0), Some(50));
        assert_eq!(percentile_with_failures(&ok, 100, 90.0), Some(90));
        assert_eq!(percentile_with_failures(&ok, 100, 98.0), Some(98));
        assert_eq!(percentile_with_failures(&ok, 100, 99.0), None);
        // No failures: the same as the plain percentile.
        let all: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile_with_failures(&all, 100, 99.0), Some(99));
        // 45% completion: even the median is a failure.
        let few: Vec<u64> = (1..=45).collect();
        assert_eq!(percentile_with_failures(&few, 100, 50.0), None);
        assert_eq!(percentile_with_failures(&[], 0, 50.0), None);
        assert_eq!(percentile_with_failures(&[], 3, 0.0), None);
    }

    #[test]
    fn ci_of_known_sample() {
        // 2, 4, 6: mean 4, s = 2, half-width = 4.303 * 2 / sqrt(3).
        let (m, h) = mean_ci95(&[2.0, 4.0, 6.0]);
        assert_eq!(m, 4.0);
        assert!((h - 4.303 * 2.0 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(mean_ci95(&[5.0]), (5.0, 0.0));
    }
}
