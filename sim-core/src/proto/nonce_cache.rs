//! The RI's bounded cache of recently seen Device nonces (seed 003 §1: "letting the RI track
//! (a limited number of) Device nonces as a means to detect replay").

use std::collections::{BTreeMap, VecDeque};

/// Per-device FIFO of the last `per_device` nonces, for at most `max_devices` devices
/// (least recently active device evicted first).
#[derive(Debug, Clone)]
pub struct NonceCache {
    per_device: usize,
    max_devices: usize,
    seen: BTreeMap<String, (u64, VecDeque<Vec<u8>>)>,
    tick: u64,
}

impl NonceCache {
    /// A cache keeping `per_device` nonces for each of at most `max_devices` devices.
    pub fn new(per_device: usize, max_devices: usize) -> Self {
        NonceCache {
            per_device: per_device.max(1),
            max_devices: max_devices.max(1),
            seen: BTreeMap::new(),
            tick: 0,
        }
    }

    /// Records `nonce` for `device`; returns `false` if it was already in the cache (replay).
    pub fn check_and_insert(&mut self, device: &str, nonce: &[u8]) -> bool {
        self.tick += 1;
        let tick = self.tick;
        if let Some((last, q)) = self.seen.get_mut(device) {
            *last = tick;
            if q.iter().any(|n| n == nonce) {
                return false;
            }
            if q.len() == self.per_device {
                q.pop_front();
            }
            q.push_back(nonce.to_vec());
            return true;
        }
        if self.seen.len() == self.max_devices {
            // Evict the least recently active device (ties impossible: ticks are unique).
            if let Some(victim) = self
                .seen
                .iter()
                .min_by_key(|(_, (t, _))| *t)
                .map(|(k, _)| k.clone())
            {
                self.seen.remove(&victim);
            }
        }
        self.seen
            .insert(device.to_string(), (tick, VecDeque::from([nonce.to_vec()])));
        true
    }

    /// Devices currently tracked.
    pub fn devices(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_detected_within_window_and_forgotten_beyond_it() {
        let mut c = NonceCache::new(2, 10);
        assert!(c.check_and_insert("d", b"n1"));
        assert!(!c.check_and_insert("d", b"n1"));
        assert!(c.check_and_insert("d", b"n2"));
        assert!(c.check_and_insert("d", b"n3")); // evicts n1
        assert!(c.check_and_insert("d", b"n1"));
        assert!(c.check_and_insert("e", b"n1")); // per device
    }

    #[test]
    fn device_count_is_bounded() {
        let mut c = NonceCache::new(4, 2);
        c.check_and_insert("a", b"x");
        c.check_and_insert("b", b"x");
        c.check_and_insert("a", b"y"); // a is now more recent than b
        c.check_and_insert("c", b"x"); // evicts b
        assert_eq!(c.devices(), 2);
        assert!(!c.check_and_insert("a", b"x"));
        assert!(c.check_and_insert("b", b"x"));
    }
}
