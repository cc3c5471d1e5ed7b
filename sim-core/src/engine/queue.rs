//! The event queue: a radix heap over integer virtual time ordered by (time, insertion
//! sequence), so events at the same instant run in the order they were scheduled (FIFO ties),
//! plus a slab holding the payloads so queue entries stay small. Cancelled entries are
//! tombstoned and skipped.

use super::time::SimTime;

/// Handle of a scheduled entry: slab slot and its generation (stale handles do nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    slot: u32,
    gen: u32,
}

impl EntryId {
    /// A stable 64-bit number for traces.
    pub fn as_u64(self) -> u64 {
        ((self.gen as u64) << 32) | self.slot as u64
    }
}

struct Slot<T> {
    gen: u32,
    item: Option<T>,
}

/// Live entries are limited so a slot index fits the low bits of a heap key.
pub const MAX_LIVE_ENTRIES: usize = 1 << SLOT_BITS;
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// A deterministic priority queue of `T` keyed by virtual time.
///
/// Queue entries are 16 bytes: the time, and the insertion sequence shifted left with the
/// slab slot in the low 24 bits — ordering by that word is ordering by sequence, because the
/// sequence occupies the high bits.
pub struct EventQueue<T> {
    heap: RadixHeap,
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    next_seq: u64,
    live: usize,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> EventQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: RadixHeap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            live: 0,
        }
    }

    /// Schedules `item` at `at`; ties with equal `at` pop in insertion order.
    ///
    /// # Panics
    /// When more than [`MAX_LIVE_ENTRIES`] entries would be pending at once (a runaway
    /// scenario; every actor's timers and in-flight messages count).
    #[inline]
    pub fn push(&mut self, at: SimTime, item: T) -> EntryId {
        let slot = match self.free.pop() {
            Some(s) => {
                let e = &mut self.slots[s as usize];
                e.item = Some(item);
                s
            }
            None => {
                assert!(
                    self.slots.len() < MAX_LIVE_ENTRIES,
                    "event queue limit of {MAX_LIVE_ENTRIES} pending entries exceeded"
                );
                self.slots.push(Slot {
                    gen: 0,
                    item: Some(item),
                });
                (self.slots.len() - 1) as u32
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push((at.0, (seq << SLOT_BITS) | slot as u64));
        self.live += 1;
        EntryId {
            slot,
            gen: self.slots[slot as usize].gen,
        }
    }

    /// Removes the earliest live entry.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, EntryId, T)> {
        while let Some((at, key)) = self.heap.pop() {
            let slot = (key & SLOT_MASK) as u32;
            let e = &mut self.slots[slot as usize];
            let item = e.item.take();
            let id = EntryId { slot, gen: e.gen };
            e.gen = e.gen.wrapping_add(1);
            self.free.push(slot);
            if let Some(item) = item {
                self.live -= 1;
                return Some((SimTime(at), id, item));
            }
        }
        None
    }

    /// Time of the earliest live entry (cancelled entries at the top are discarded first, so
    /// a horizon check never lets a later live entry slip past it).
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some((at, key)) = self.heap.peek() {
            let slot = (key & SLOT_MASK) as u32;
            let e = &mut self.slots[slot as usize];
            if e.item.is_some() {
                return Some(SimTime(at));
            }
            self.heap.pop();
            e.gen = e.gen.wrapping_add(1);
            self.free.push(slot);
        }
        None
    }

    /// Cancels a scheduled entry; returns it if it was still pending.
    pub fn cancel(&mut self, id: EntryId) -> Option<T> {
        let e = self.slots.get_mut(id.slot as usize)?;
        if e.gen != id.gen {
            return None;
        }
        let item = e.item.take();
        if item.is_some() {
            self.live -= 1;
        }
        item
    }

    /// The pending entry behind `id`, if still pending.
    pub fn get(&self, id: EntryId) -> Option<&T> {
        let e = self.slots.get(id.slot as usize)?;
        if e.gen != id.gen {
            return None;
        }
        e.item.as_ref()
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.live
    }

    /// The entry that will pop next, when it is already known without work (it shares the
    /// current instant): lets the engine prefetch what that event will touch.
    #[inline]
    pub fn next_ready(&self) -> Option<&T> {
        let key = self.heap.next_ready()?;
        self.slots[(key & SLOT_MASK) as usize].item.as_ref()
    }

    /// Whether no live entry remains.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Removes every live entry, in (time, sequence) order.
    pub fn drain_ordered(&mut self) -> Vec<(SimTime, T)> {
        let mut out = Vec::with_capacity(self.live);
        while let Some((at, _, x)) = self.pop() {
            out.push((at, x));
        }
        out
    }
}

/// A radix heap of `(time, key)` pairs for monotone integer time (Ahuja et al. 1990): an entry
/// lives in the bucket named by the highest bit in which its time differs from `last`, the
/// time of the most recent minimum. A pop takes from bucket 0 (time == `last`); when that is
/// empty, the lowest non-empty bucket is scanned for its minimum, `last` advances to it and
/// the bucket's entries move to lower buckets. Each entry moves at most 64 times in its life
/// and usually two or three (delays span a few powers of two), so pops cost far less than a
/// heap's sift-down.
///
/// FIFO ties hold without comparing keys: entries are appended in push order (rising
/// sequence) and a bucket is only ever redistributed into buckets that are empty, so every
/// bucket, bucket 0 included, stays in sequence order.
///
/// Time must not go below `last`. The engine never schedules in the past, but a horizon stop
/// peeks (which may advance `last` beyond `now`) and a caller may then schedule at `now`;
/// such entries go to a small ordinary heap, `early`, which is always drained first (every
/// entry in it is earlier than every entry in the buckets).
struct RadixHeap {
    buckets: [Vec<(u64, u64)>; 65],
    /// Entries of bucket 0 before this index were already popped.
    head0: usize,
    /// Bit i set = bucket i non-empty (bucket 0 counts only entries at or after `head0`).
    occupied: u128,
    last: u64,
    early: std::collections::BinaryHeap<std::cmp::Reverse<(u64, u64)>>,
}

impl Default for RadixHeap {
    fn default() -> Self {
        RadixHeap {
            buckets: std::array::from_fn(|_| Vec::new()),
            head0: 0,
            occupied: 0,
            last: 0,
            early: Default::default(),
        }
    }
}

#[inline]
fn bucket_of(t: u64, last: u64) -> usize {
    (64 - (t ^ last).leading_zeros()) as usize
}

impl RadixHeap {
    #[inline]
    fn push(&mut self, x: (u64, u64)) {
        if x.0 < self.last {
            self.early.push(std::cmp::Reverse(x));
            return;
        }
        let b = bucket_of(x.0, self.last);
        self.buckets[b].push(x);
        self.occupied |= 1 << b;
    }

    /// Makes bucket 0 hold the minimum (when non-empty); returns false when empty.
    #[inline]
    fn settle(&mut self) -> bool {
        if self.occupied & 1 != 0 {
            return true;
        }
        let rest = self.occupied;
        if rest == 0 {
            return false;
        }
        let i = rest.trailing_zeros() as usize;
        let mut moving = std::mem::take(&mut self.buckets[i]);
        self.occupied &= !(1 << i);
        let min = moving.iter().map(|e| e.0).min().expect("occupied bucket");
        self.last = min;
        self.buckets[0].clear();
        self.head0 = 0;
        for &e in &moving {
            let b = bucket_of(e.0, min);
            self.buckets[b].push(e);
            self.occupied |= 1 << b;
        }
        moving.clear();
        self.buckets[i] = moving;
        true
    }

    #[inline]
    fn peek(&mut self) -> Option<(u64, u64)> {
        if let Some(std::cmp::Reverse(x)) = self.early.peek() {
            return Some(*x);
        }
        if !self.settle() {
            return None;
        }
        Some(self.buckets[0][self.head0])
    }

    /// The key of the next entry if it is at the head of bucket 0 (no settling needed).
    #[inline]
    fn next_ready(&self) -> Option<u64> {
        if !self.early.is_empty() {
            return None;
        }
        self.buckets[0].get(self.head0).map(|e| e.1)
    }

    #[inline]
    fn pop(&mut self) -> Option<(u64, u64)> {
        if let Some(std::cmp::Reverse(x)) = self.early.pop() {
            return Some(x);
        }
        if !self.settle() {
            return None;
        }
        let b0 = &mut self.buckets[0];
        let x = b0[self.head0];
        self.head0 += 1;
        if self.head0 == b0.len() {
            b0.clear();
            self.head0 = 0;
            self.occupied &= !1;
        }
        Some(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_are_fifo_and_time_ordered() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), "b1");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "b2");
        q.push(SimTime(5), "b3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, _, x)| x).collect();
        assert_eq!(order, ["a", "b1", "b2", "b3"]);
    }

    #[test]
    fn peek_skips_cancelled_entries() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime(1), 1);
        q.push(SimTime(9), 2);
        q.cancel(a);
        assert_eq!(q.peek_time(), Some(SimTime(9)));
        assert_eq!(q.pop().map(|(t, _, x)| (t, x)), Some((SimTime(9), 2)));
        assert_eq!(q.peek_time(), None);
    }

    #[test]
    fn radix_heap_pops_in_time_then_push_order() {
        // Against a sorted reference: random delays from "now", interleaved pops and peeks,
        // many equal times (FIFO ties), and pushes below `last` after a peek advanced it.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut h = RadixHeap::default();
        let mut all: Vec<(u64, u64)> = Vec::new();
        let mut now = 0u64;
        for seq in 0..20_000u64 {
            let span = [1u64, 4, 1000, 1 << 40][rng.gen_range(0..4)];
            let x = (now + rng.gen_range(0..span), seq);
            h.push(x);
            all.push(x);
            match rng.gen_range(0..4) {
                0 | 1 => {
                    all.sort();
                    let want = all.remove(0);
                    assert_eq!(h.pop(), Some(want));
                    now = want.0;
                }
                2 => {
                    all.sort();
                    assert_eq!(h.peek(), all.first().copied());
                }
                _ => {}
            }
        }
        all.sort();
        let rest: Vec<_> = std::iter::from_fn(|| h.pop()).collect();
        assert_eq!(rest, all);
        assert_eq!(h.peek(), None);
    }

    #[test]
    fn push_at_now_after_a_peek_past_it_still_pops_first() {
        let mut q = EventQueue::new();
        q.push(SimTime(100), "late");
        // A horizon check peeks at t=100 while the clock is still at 10 ...
        assert_eq!(q.peek_time(), Some(SimTime(100)));
        // ... then the caller schedules at the clock's time.
        q.push(SimTime(10), "now-a");
        q.push(SimTime(10), "now-b");
        q.push(SimTime(100), "late-2");
        let order: Vec<_> = std::iter::from_fn(|| q.pop())
            .map(|(t, _, x)| (t.0, x))
            .collect();
        assert_eq!(
            order,
            [(10, "now-a"), (10, "now-b"), (100, "late"), (100, "late-2")]
        );
    }

    #[test]
    fn cancel_skips_and_stale_handles_are_inert() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime(1), 1);
        let _b = q.push(SimTime(2), 2);
        assert_eq!(q.cancel(a), Some(1));
        assert_eq!(q.cancel(a), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop().map(|(t, _, x)| (t, x)), Some((SimTime(2), 2)));
        // Slot of `a` is reused; the old handle must not cancel the new entry.
        let c = q.push(SimTime(3), 3);
        assert_eq!(q.cancel(a), None);
        assert_eq!(q.get(c), Some(&3));
        assert!(q.pop().is_some());
        assert!(q.is_empty());
    }
}
