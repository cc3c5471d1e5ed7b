//! The trigger nonces a Device and an RI remember (issue 11, the one replay-store rule of
//! `nonce_cache.rs` applied to ROAP triggers).
//!
//! - [`SeenTriggers`], at each Device: the nonces of the triggers it acted on. Under drmsim's
//!   reading (`Variants::trigger_carries_time`) each is kept until the trigger's signed
//!   `<notAfter>` plus the time tolerance has passed on the Device's DRM clock — after that
//!   the Device refuses the trigger as expired by itself, so forgetting cannot reopen a
//!   replay — and a Device holding its limit of live nonces refuses a new trigger
//!   ([`SeenAdmit::Full`]) rather than forgetting one. As written (ROAP §5.2.1 triggers carry
//!   no time) no window exists: the Device keeps the newest nonces and forgets the oldest
//!   ([`SeenAdmit::Fresh`] after an eviction), which is the finding "a trigger replayed after
//!   enough others is acted on again" (docs/attacks.md).
//! - [`IssuedTriggers`], at each RI: the nonces of the triggers it issued, so a request
//!   echoing one as `triggerNonce` is counted as triggered. The RI knows when it issued a
//!   trigger, so each nonce is kept for the trigger's lifetime plus the tolerance plus the
//!   Device's retry span (the last instant a request could still echo it); a full store
//!   refuses to issue a trigger (`TriggerError::StoreFull`).
//!
//! Both are O(log n) per operation (two ordered maps) and allocate nothing until the first
//! nonce: a million Devices that never see a trigger cost one pointer each.

use std::collections::BTreeMap;

/// What a Device's store says about a trigger nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeenAdmit {
    /// New: recorded.
    Fresh,
    /// Seen and still remembered: a replay.
    Replay,
    /// New, but the store holds its limit of nonces still inside their windows: refuse the
    /// trigger (nothing recorded).
    Full,
}

#[derive(Debug, Clone, Default)]
struct Live {
    /// Nonce → (keep until, insertion number).
    by_nonce: BTreeMap<Vec<u8>, (u64, u64)>,
    /// (keep until, insertion number) → nonce: what to forget first.
    by_expiry: BTreeMap<(u64, u64), Vec<u8>>,
    next: u64,
}

impl Live {
    fn expire(&mut self, now: u64) {
        while let Some((&(until, seq), _)) = self.by_expiry.first_key_value() {
            if until >= now {
                break;
            }
            if let Some(n) = self.by_expiry.remove(&(until, seq)) {
                self.by_nonce.remove(&n);
            }
        }
    }

    fn insert(&mut self, nonce: &[u8], until: u64) {
        let seq = self.next;
        self.next += 1;
        self.by_nonce.insert(nonce.to_vec(), (until, seq));
        self.by_expiry.insert((until, seq), nonce.to_vec());
    }

    fn pop_oldest(&mut self) {
        if let Some((_, n)) = self.by_expiry.pop_first() {
            self.by_nonce.remove(&n);
        }
    }

    fn len(&self) -> usize {
        self.by_nonce.len()
    }
}

/// The trigger nonces one Device remembers (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct SeenTriggers {
    live: Option<Box<Live>>,
    /// Triggers refused because the store was full of live nonces.
    pub refused_full: u64,
}

impl SeenTriggers {
    /// Admits `nonce` at DRM time `now`, keeping it until `keep_until` (`None`: no window,
    /// the literal text; the oldest nonce is forgotten when `limit` is reached).
    pub fn admit(
        &mut self,
        nonce: &[u8],
        now: u64,
        keep_until: Option<u64>,
        limit: usize,
    ) -> SeenAdmit {
        let live = self.live.get_or_insert_with(Box::default);
        live.expire(now);
        if live.by_nonce.contains_key(nonce) {
            return SeenAdmit::Replay;
        }
        if live.len() >= limit.max(1) {
            if keep_until.is_some() {
                self.refused_full += 1;
                return SeenAdmit::Full;
            }
            live.pop_oldest();
        }
        live.insert(nonce, keep_until.unwrap_or(u64::MAX).max(now));
        SeenAdmit::Fresh
    }

    /// Whether `nonce` is remembered at DRM time `now` (nothing is recorded).
    pub fn contains(&self, nonce: &[u8], now: u64) -> bool {
        self.live
            .as_ref()
            .and_then(|l| l.by_nonce.get(nonce))
            .is_some_and(|&(until, _)| until >= now)
    }

    /// Live nonces.
    pub fn len(&self) -> usize {
        self.live.as_ref().map_or(0, |l| l.len())
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The nonces of the triggers one RI issued (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct IssuedTriggers {
    live: Live,
    /// Triggers not issued because the store was full.
    pub refused_full: u64,
}

impl IssuedTriggers {
    /// Records `nonce`, issued at `now` and echoed at the latest at `keep_until`; `false`
    /// (nothing recorded) when `limit` nonces are still live.
    pub fn remember(&mut self, nonce: &[u8], now: u64, keep_until: u64, limit: usize) -> bool {
        self.live.expire(now);
        if self.live.len() >= limit.max(1) {
            self.refused_full += 1;
            return false;
        }
        self.live.insert(nonce, keep_until.max(now));
        true
    }

    /// Whether `nonce` is a trigger nonce this RI issued and still expects echoes of.
    pub fn knows(&mut self, nonce: &[u8], now: u64) -> bool {
        self.live.expire(now);
        self.live.by_nonce.contains_key(nonce)
    }

    /// Live nonces.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether no nonce is live.
    pub fn is_empty(&self) -> bool {
        self.live.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_keeps_each_nonce_for_its_window_and_refuses_when_full() {
        let mut s = SeenTriggers::default();
        assert!(s.is_empty());
        assert_eq!(s.admit(b"a", 0, Some(100), 2), SeenAdmit::Fresh);
        assert_eq!(s.admit(b"b", 10, Some(50), 2), SeenAdmit::Fresh);
        assert_eq!(s.admit(b"c", 20, Some(200), 2), SeenAdmit::Full);
        assert_eq!(s.admit(b"a", 99, Some(300), 2), SeenAdmit::Replay);
        // b's window closed at 50: room for c; a is still refused.
        assert_eq!(s.admit(b"c", 51, Some(200), 2), SeenAdmit::Fresh);
        assert_eq!(s.admit(b"a", 100, Some(300), 2), SeenAdmit::Replay);
        assert!(s.contains(b"c", 200));
        assert!(!s.contains(b"c", 201));
        assert_eq!(s.refused_full, 1);
    }

    #[test]
    fn without_a_window_the_oldest_nonce_is_forgotten() {
        let mut s = SeenTriggers::default();
        for n in [b"a", b"b", b"c"] {
            assert_eq!(s.admit(n, 0, None, 2), SeenAdmit::Fresh);
        }
        // `a` was pushed out: the literal text acts on it again.
        assert_eq!(s.admit(b"a", 1, None, 2), SeenAdmit::Fresh);
        assert_eq!(s.admit(b"c", 1, None, 2), SeenAdmit::Replay);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn an_ri_refuses_to_issue_when_full_and_forgets_after_the_window() {
        let mut r = IssuedTriggers::default();
        assert!(r.remember(b"a", 0, 10, 1));
        assert!(!r.remember(b"b", 5, 15, 1));
        assert!(r.knows(b"a", 10));
        assert!(!r.knows(b"a", 11));
        assert!(r.remember(b"b", 11, 20, 1));
        assert_eq!(r.refused_full, 1);
        assert_eq!(r.len(), 1);
    }
}
