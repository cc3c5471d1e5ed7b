//! Protocol outcomes counted online, as actors report them through [`super::Ctx::outcome`]:
//! the outcome table, latency percentiles and expectations never depend on whether a trace
//! is written (issue 14). Memory is bounded: a fixed-size log-linear latency histogram per
//! protocol, never a list of samples.

use std::collections::BTreeMap;

/// Sub-buckets per power of two: a percentile is reported within 1/128 (0.8 %) of the
/// exact nearest-rank value, and exactly below 128 ns.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Buckets covering every u64: 128 exact values, then 128 per remaining power of two.
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

/// A log-linear histogram of nanosecond latencies (fixed 58 KiB, deterministic).
#[derive(Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    counts: Box<[u64]>,
    count: u64,
    sum_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.count)
            .field("min_ns", &self.min_ns)
            .field("max_ns", &self.max_ns)
            .finish()
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }
}

#[inline]
fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // ≥ SUB_BITS
    let shift = e - SUB_BITS;
    let mantissa = (v >> shift) & (SUB - 1);
    ((shift as u64 + 1) * SUB + mantissa) as usize
}

/// Largest value that falls into bucket `b`.
fn bucket_high(b: usize) -> u64 {
    let b = b as u64;
    if b < SUB {
        return b;
    }
    let shift = b / SUB - 1;
    let mantissa = b % SUB;
    (((SUB + mantissa + 1) as u128) << shift).saturating_sub(1) as u64
}

impl LatencyHistogram {
    /// Adds one sample.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.counts[bucket_of(ns)] += 1;
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Smallest sample (`None` when empty).
    pub fn min_ns(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min_ns)
    }

    /// Largest sample (`None` when empty).
    pub fn max_ns(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max_ns)
    }

    /// Integer mean (`None` when empty).
    pub fn mean_ns(&self) -> Option<u64> {
        (self.count > 0).then(|| (self.sum_ns / u128::from(self.count)) as u64)
    }

    /// Nearest-rank percentile `p` (0–100): the upper edge of the bucket holding the
    /// sample of rank ⌈p/100·n⌉, clamped to the observed min and max, so it is at most
    /// 0.8 % above the exact value and exact below 128 ns and at the extremes.
    pub fn percentile_ns(&self, p: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((p / 100.0) * self.count as f64).ceil().max(1.0) as u64;
        let rank = rank.min(self.count);
        let mut seen = 0;
        for (b, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(bucket_high(b).clamp(self.min_ns, self.max_ns));
            }
        }
        Some(self.max_ns)
    }
}

/// Outcomes of one protocol (from the initiators' view).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtocolOutcomes {
    /// Protocol runs that ended (every outcome record).
    pub started: u64,
    /// Runs that ended in `success`.
    pub completed: u64,
    /// Runs that ended in anything else (status, timeout, abandoned).
    pub failed: u64,
    /// Latency of the successful runs (first request to outcome).
    pub latency: LatencyHistogram,
}

/// Every protocol's outcomes, by protocol name (sorted: iteration is deterministic).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeTable {
    by_protocol: BTreeMap<String, ProtocolOutcomes>,
}

impl OutcomeTable {
    /// Counts one outcome; `status == "success"` is a completion.
    #[inline]
    pub fn record(&mut self, protocol: &str, status: &str, latency_ns: u64) {
        let p = match self.by_protocol.get_mut(protocol) {
            Some(p) => p,
            None => self.by_protocol.entry(protocol.to_string()).or_default(),
        };
        p.started += 1;
        if status == "success" {
            p.completed += 1;
            p.latency.record(latency_ns);
        } else {
            p.failed += 1;
        }
    }

    /// The protocols seen, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ProtocolOutcomes)> {
        self.by_protocol.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// One protocol's outcomes.
    pub fn get(&self, protocol: &str) -> Option<&ProtocolOutcomes> {
        self.by_protocol.get(protocol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(sorted: &[u64], p: f64) -> u64 {
        let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
        sorted[rank.min(sorted.len()) - 1]
    }

    #[test]
    fn buckets_are_contiguous_and_cover_u64() {
        for b in 0..BUCKETS - 1 {
            assert_eq!(bucket_of(bucket_high(b)), b, "bucket {b}");
            assert_eq!(bucket_of(bucket_high(b) + 1), b + 1, "bucket {b}+1");
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_high(BUCKETS - 1), u64::MAX);
    }

    #[test]
    fn percentiles_are_within_one_bucket_of_exact() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut h = LatencyHistogram::default();
        let mut v: Vec<u64> = (0..20_000)
            .map(|_| rng.gen_range(50_000u64..3_000_000_000))
            .collect();
        for &x in &v {
            h.record(x);
        }
        v.sort_unstable();
        for p in [0.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
            let got = h.percentile_ns(p).unwrap();
            let want = exact(&v, p);
            assert!(got >= want, "p{p}: {got} < {want}");
            assert!(
                (got - want) as f64 <= want as f64 / 128.0,
                "p{p}: {got} vs {want}"
            );
        }
        assert_eq!(h.percentile_ns(100.0), Some(v[v.len() - 1]));
        assert_eq!(h.min_ns(), Some(v[0]));
    }

    #[test]
    fn small_values_are_exact_and_table_counts() {
        let mut t = OutcomeTable::default();
        for (s, l) in [
            ("success", 3),
            ("success", 100),
            ("timeout", 0),
            ("success", 7),
        ] {
            t.record("registration", s, l);
        }
        let r = t.get("registration").unwrap();
        assert_eq!((r.started, r.completed, r.failed), (4, 3, 1));
        assert_eq!(r.latency.percentile_ns(50.0), Some(7));
        assert_eq!(r.latency.percentile_ns(100.0), Some(100));
        assert_eq!(r.latency.mean_ns(), Some(36));
        assert!(t.get("ro_acquisition").is_none());
    }
}
