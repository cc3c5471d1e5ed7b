//! A fixed set of worker threads pulling items from one shared iterator.
//!
//! The iterator is the work queue: it is lazy (sweep points are built on demand), so a
//! sweep of a million points never holds them all in memory, and its length bounds the
//! queue. Workers stop taking work as soon as `stop()` returns true; items already taken
//! finish.

use std::sync::Mutex;

/// Worker count for `jobs` (0 = every available core), never more than `items`.
pub fn worker_count(jobs: usize, items: u64) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let want = if jobs == 0 { cores } else { jobs };
    let items = usize::try_from(items).unwrap_or(usize::MAX);
    want.min(items).max(1)
}

/// Runs `work` on every item of `items` with `workers` threads, until the iterator is
/// exhausted or `stop()` returns true.
pub fn for_each<I, T, S, F>(items: I, workers: usize, stop: S, work: F)
where
    I: Iterator<Item = T> + Send,
    T: Send,
    S: Fn() -> bool + Sync,
    F: Fn(T) + Sync,
{
    let queue = Mutex::new(items);
    let next = || {
        if stop() {
            return None;
        }
        // A worker that panicked while holding the lock leaves a usable iterator.
        queue.lock().unwrap_or_else(|p| p.into_inner()).next()
    };
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                while let Some(item) = next() {
                    work(item);
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    #[test]
    fn every_item_once_with_many_workers() {
        let sum = AtomicU64::new(0);
        let count = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        for_each(
            1..=1000u64,
            4,
            || stop.load(Ordering::SeqCst),
            |i| {
                sum.fetch_add(i, Ordering::SeqCst);
                count.fetch_add(1, Ordering::SeqCst);
            },
        );
        assert_eq!(count.load(Ordering::SeqCst), 1000);
        assert_eq!(sum.load(Ordering::SeqCst), 500_500);
    }

    #[test]
    fn stop_flag_ends_the_loop() {
        let count = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        for_each(
            0..1000u64,
            1,
            || stop.load(Ordering::SeqCst),
            |i| {
                count.fetch_add(1, Ordering::SeqCst);
                if i == 9 {
                    stop.store(true, Ordering::SeqCst);
                }
            },
        );
        assert_eq!(count.load(Ordering::SeqCst), 10);
    }

    #[test]
    fn worker_count_bounds() {
        assert_eq!(worker_count(3, 100), 3);
        assert_eq!(worker_count(8, 2), 2);
        assert_eq!(worker_count(4, 0), 1);
        assert!(worker_count(0, 100) >= 1);
    }
}
