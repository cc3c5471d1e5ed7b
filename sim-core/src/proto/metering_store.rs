//! The Device's Metering Information store (seed 004): usage is recorded per RO; a report
//! snapshots it; only a verified Success deletes exactly what was reported (§11.3), so uses
//! recorded while a report is in flight are never lost.

use std::collections::BTreeMap;

/// Metered uses per (RI, RO id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeteringStore {
    uses: BTreeMap<(String, String), u64>,
    /// Bound on distinct (RI, RO) entries; further ROs' uses are still counted in `overflow`.
    max_entries: usize,
    overflow_uses: u64,
}

/// What a Metering Report carries: the uses per RO at snapshot time.
pub type MeteringSnapshot = Vec<(String, u64)>;

impl MeteringStore {
    /// A store tracking at most `max_entries` ROs.
    pub fn new(max_entries: usize) -> Self {
        MeteringStore {
            uses: BTreeMap::new(),
            max_entries: max_entries.max(1),
            overflow_uses: 0,
        }
    }

    /// Records one metered use of `ro_id` issued by `ri`.
    pub fn record_use(&mut self, ri: &str, ro_id: &str) {
        let key = (ri.to_string(), ro_id.to_string());
        if let Some(n) = self.uses.get_mut(&key) {
            *n += 1;
        } else if self.uses.len() < self.max_entries {
            self.uses.insert(key, 1);
        } else {
            self.overflow_uses += 1;
        }
    }

    /// The metering information for `ri` to put in a report.
    pub fn snapshot(&self, ri: &str) -> MeteringSnapshot {
        self.uses
            .range((ri.to_string(), String::new())..)
            .take_while(|((r, _), _)| r == ri)
            .map(|((_, ro), n)| (ro.clone(), *n))
            .collect()
    }

    /// Deletes what `snapshot` reported, keeping uses recorded since (seed 004 §11.3:
    /// "Delete any existing Metering Information that corresponds to the data sent").
    pub fn delete_reported(&mut self, ri: &str, snapshot: &MeteringSnapshot) {
        for (ro, n) in snapshot {
            let key = (ri.to_string(), ro.clone());
            if let Some(cur) = self.uses.get_mut(&key) {
                *cur = cur.saturating_sub(*n);
                if *cur == 0 {
                    self.uses.remove(&key);
                }
            }
        }
    }

    /// Total uses not yet reported successfully.
    pub fn pending_uses(&self) -> u64 {
        self.uses.values().sum::<u64>() + self.overflow_uses
    }

    /// Uses pending for `ri`.
    pub fn pending_for(&self, ri: &str) -> u64 {
        self.snapshot(ri).iter().map(|(_, n)| n).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_deletes_only_what_was_reported() {
        let mut m = MeteringStore::new(100);
        m.record_use("ri/0", "ro-a");
        m.record_use("ri/0", "ro-a");
        m.record_use("ri/1", "ro-b");
        let snap = m.snapshot("ri/0");
        assert_eq!(snap, vec![("ro-a".to_string(), 2)]);
        m.record_use("ri/0", "ro-a"); // while the report is in flight
        m.delete_reported("ri/0", &snap);
        assert_eq!(m.pending_for("ri/0"), 1);
        assert_eq!(m.pending_for("ri/1"), 1);
        assert_eq!(m.pending_uses(), 2);
    }
}
