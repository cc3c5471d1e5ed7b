//! Virtual-time buckets that never exceed [`MAX_BUCKETS`]: when a record lands beyond the last
//! bucket the width grows tenfold and every ten buckets merge into one. The trace length is
//! unknown while streaming, so this keeps memory bounded while keeping widths round numbers.

/// Upper bound on the number of buckets.
pub const MAX_BUCKETS: u64 = 1000;
/// Width of the first buckets, ns (1 ms).
pub const INITIAL_BUCKET_NS: u64 = 1_000_000;

/// Accumulators of one bucket; inner vectors are indexed by protocol / server-kind index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bucket {
    pub completions: Vec<u64>,
    pub failures: Vec<u64>,
    /// Worker·ns per server kind.
    pub busy: Vec<u128>,
    /// Queue-length·ns per server kind.
    pub queue: Vec<u128>,
    /// Largest single-server queue length per server kind.
    pub queue_max: Vec<u32>,
}

fn add_at<T: Copy + Default + std::ops::AddAssign>(v: &mut Vec<T>, i: usize, x: T) {
    if v.len() <= i {
        v.resize(i + 1, T::default());
    }
    v[i] += x;
}

fn max_at(v: &mut Vec<u32>, i: usize, x: u32) {
    if v.len() <= i {
        v.resize(i + 1, 0);
    }
    v[i] = v[i].max(x);
}

fn merge_into(dst: &mut Bucket, src: &Bucket) {
    for (i, &x) in src.completions.iter().enumerate() {
        add_at(&mut dst.completions, i, x);
    }
    for (i, &x) in src.failures.iter().enumerate() {
        add_at(&mut dst.failures, i, x);
    }
    for (i, &x) in src.busy.iter().enumerate() {
        add_at(&mut dst.busy, i, x);
    }
    for (i, &x) in src.queue.iter().enumerate() {
        add_at(&mut dst.queue, i, x);
    }
    for (i, &x) in src.queue_max.iter().enumerate() {
        max_at(&mut dst.queue_max, i, x);
    }
}

/// The bucket array.
#[derive(Debug, Clone)]
pub(crate) struct TimeBuckets {
    pub width_ns: u64,
    pub buckets: Vec<Bucket>,
}

impl Default for TimeBuckets {
    fn default() -> Self {
        TimeBuckets {
            width_ns: INITIAL_BUCKET_NS,
            buckets: Vec::new(),
        }
    }
}

impl TimeBuckets {
    /// Makes sure the bucket holding `t_ns` exists (rescaling if needed); returns its index.
    fn ensure(&mut self, t_ns: u64) -> usize {
        while t_ns / self.width_ns >= MAX_BUCKETS {
            self.rescale();
        }
        let idx = (t_ns / self.width_ns) as usize;
        if self.buckets.len() <= idx {
            self.buckets.resize_with(idx + 1, Bucket::default);
        }
        idx
    }

    fn rescale(&mut self) {
        self.width_ns = self.width_ns.saturating_mul(10);
        let old = std::mem::take(&mut self.buckets);
        for chunk in old.chunks(10) {
            let mut b = Bucket::default();
            for src in chunk {
                merge_into(&mut b, src);
            }
            self.buckets.push(b);
        }
    }

    /// Counts one outcome of protocol `proto` at `t_ns`.
    pub fn outcome(&mut self, t_ns: u64, proto: usize, success: bool) {
        let i = self.ensure(t_ns);
        let b = &mut self.buckets[i];
        if success {
            add_at(&mut b.completions, proto, 1);
            add_at(&mut b.failures, proto, 0);
        } else {
            add_at(&mut b.failures, proto, 1);
        }
    }

    /// Notes a queue length observed at `t_ns` for server kind `kind`.
    pub fn queue_point(&mut self, t_ns: u64, kind: usize, queue_len: u32) {
        let i = self.ensure(t_ns);
        max_at(&mut self.buckets[i].queue_max, kind, queue_len);
    }

    /// Adds a constant (busy, queue) state of one server of kind `kind` over `[a, b)`.
    pub fn interval(&mut self, kind: usize, a: u64, b: u64, busy: u32, queue: u32) {
        if b <= a {
            return;
        }
        self.ensure(b - 1);
        let w = self.width_ns;
        let first = (a / w) as usize;
        let last = ((b - 1) / w) as usize;
        for idx in first..=last {
            let lo = (idx as u64).saturating_mul(w).max(a);
            let hi = (idx as u64 + 1).saturating_mul(w).min(b);
            let span = u128::from(hi.saturating_sub(lo));
            let bk = &mut self.buckets[idx];
            add_at(&mut bk.busy, kind, u128::from(busy) * span);
            add_at(&mut bk.queue, kind, u128::from(queue) * span);
            max_at(&mut bk.queue_max, kind, queue);
        }
    }

    /// Number of buckets needed to cover `[0, end_ns]`.
    pub fn count(&self, end_ns: u64) -> usize {
        let by_end = if end_ns == 0 {
            0
        } else {
            end_ns.div_ceil(self.width_ns).min(MAX_BUCKETS) as usize
        };
        by_end.max(self.buckets.len())
    }

    /// Effective width of bucket `i` when the run ends at `end_ns` (the last bucket is partial).
    pub fn effective_width(&self, i: usize, end_ns: u64) -> u64 {
        let start = (i as u64).saturating_mul(self.width_ns);
        let w = end_ns.saturating_sub(start).min(self.width_ns);
        if w == 0 {
            self.width_ns
        } else {
            w
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_merges_tens_and_keeps_sums() {
        let mut b = TimeBuckets::default();
        for ms in 0..999u64 {
            b.outcome(ms * 1_000_000, 0, true);
        }
        assert_eq!(b.width_ns, 1_000_000);
        b.outcome(1_500 * 1_000_000, 0, true);
        assert_eq!(b.width_ns, 10_000_000);
        assert_eq!(b.buckets[0].completions[0], 10);
        let total: u64 = b
            .buckets
            .iter()
            .map(|x| x.completions.first().copied().unwrap_or(0))
            .sum();
        assert_eq!(total, 1000);
    }

    #[test]
    fn interval_splits_across_buckets() {
        let mut b = TimeBuckets::default();
        // 2 busy workers from 0.5 ms to 2.5 ms.
        b.interval(0, 500_000, 2_500_000, 2, 1);
        assert_eq!(b.buckets[0].busy[0], 2 * 500_000);
        assert_eq!(b.buckets[1].busy[0], 2 * 1_000_000);
        assert_eq!(b.buckets[2].busy[0], 2 * 500_000);
        assert_eq!(b.buckets[2].queue_max[0], 1);
    }

    #[test]
    fn huge_time_does_not_overflow() {
        let mut b = TimeBuckets::default();
        b.outcome(u64::MAX, 0, false);
        b.interval(0, u64::MAX - 10, u64::MAX, 1, 0);
        assert!(b.buckets.len() as u64 <= MAX_BUCKETS);
    }
}
