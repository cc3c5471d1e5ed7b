//! The nonce stores servers keep for replay detection (seed 003 §1: "letting the RI track
//! (a limited number of) Device nonces as a means to detect replay"; seed 000's DEA, seed
//! 001's DEA, LRM and pairing targets), with the one rule every one of them follows:
//!
//! - a request is accepted only inside a **freshness window** the protocol can enforce by
//!   itself (its DRM time against the server's clock, a ticket's or key's expiry, …), which
//!   the caller checks first and passes here as `keep_until_ns`, the last instant at which a
//!   copy of this request could still pass that check;
//! - an accepted nonce is kept **at least until then** and forgotten only after: beyond it
//!   the window check refuses a replay by itself, so forgetting cannot reopen a replay;
//! - when the store is full of nonces still inside their windows, the new request is
//!   refused ([`Admit::Full`]: the caller answers with a status and notes a trace cause),
//!   never admitted by evicting a live nonce.
//!
//! `keep_until_ns = u64::MAX` is a nonce with no window (the PDU carries no time the server
//! can bind): kept for the life of the store, so only the count limit bounds it. Which window
//! each protocol uses, and why, is in docs/protocols.md ("Freshness windows").
//!
//! Bounds: at most `per_peer` live nonces per peer and `max_peers` peers with live nonces.
//! Memory is proportional to the live nonces, never to the traffic seen.

use std::collections::{BTreeMap, BTreeSet};

/// What the store says about a request's nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// New: recorded (kept until its window closes).
    Fresh,
    /// Seen inside its window: a replay.
    Replay,
    /// New, but the store holds its limit of nonces still inside their windows: refuse the
    /// request (retry later; nothing was recorded).
    Full,
}

/// Live nonces per peer, each with the instant until which it is kept.
#[derive(Debug, Clone)]
pub struct NonceCache {
    per_peer: usize,
    max_peers: usize,
    live: BTreeMap<Vec<u8>, BTreeMap<Vec<u8>, u64>>,
    /// (keep until, peer, nonce): what to forget first.
    by_expiry: BTreeSet<(u64, Vec<u8>, Vec<u8>)>,
    /// Requests refused because the store was full.
    pub refused_full: u64,
}

impl NonceCache {
    /// A store of at most `per_peer` live nonces for each of at most `max_peers` peers.
    pub fn new(per_peer: usize, max_peers: usize) -> Self {
        NonceCache {
            per_peer: per_peer.max(1),
            max_peers: max_peers.max(1),
            live: BTreeMap::new(),
            by_expiry: BTreeSet::new(),
            refused_full: 0,
        }
    }

    /// Forgets every nonce whose window closed before `now_ns`.
    fn expire(&mut self, now_ns: u64) {
        while let Some((until, peer, nonce)) = self.by_expiry.first().cloned() {
            if until >= now_ns {
                break;
            }
            self.by_expiry.pop_first();
            if let Some(m) = self.live.get_mut(&peer) {
                m.remove(&nonce);
                if m.is_empty() {
                    self.live.remove(&peer);
                }
            }
        }
    }

    /// Admits `nonce` from `peer` at `now_ns` if it is new, keeping it until `keep_until_ns`
    /// (the end of the request's freshness window; `u64::MAX` = no window).
    pub fn admit(&mut self, peer: &[u8], nonce: &[u8], now_ns: u64, keep_until_ns: u64) -> Admit {
        self.expire(now_ns);
        let known_peer = match self.live.get(peer) {
            Some(m) if m.contains_key(nonce) => return Admit::Replay,
            Some(m) if m.len() >= self.per_peer => None,
            Some(_) => Some(true),
            None if self.live.len() >= self.max_peers => None,
            None => Some(false),
        };
        if known_peer.is_none() {
            self.refused_full += 1;
            return Admit::Full;
        }
        let until = keep_until_ns.max(now_ns);
        self.live
            .entry(peer.to_vec())
            .or_default()
            .insert(nonce.to_vec(), until);
        self.by_expiry
            .insert((until, peer.to_vec(), nonce.to_vec()));
        Admit::Fresh
    }

    /// Peers with live nonces.
    pub fn devices(&self) -> usize {
        self.live.len()
    }

    /// Live nonces over all peers.
    pub fn len(&self) -> usize {
        self.by_expiry.len()
    }

    /// Whether no nonce is live.
    pub fn is_empty(&self) -> bool {
        self.by_expiry.is_empty()
    }
}

/// The end of the window of a request carrying a DRM time `request_ns` that the server
/// accepts within `tolerance_ns` of its clock (base ROAP `DeviceTimeError`): a copy is
/// refused by the time check from `request_ns + tolerance_ns` on.
pub fn drm_time_window_end(request_ns: u64, tolerance_ns: u64) -> u64 {
    request_ns.saturating_add(tolerance_ns)
}

/// Trace cause for a request refused because its server's nonce store is full.
pub fn note_full(ctx: &mut crate::engine::Ctx<'_, super::msg::SimMsg>, what: &str) {
    if ctx.tracing() {
        let actor = ctx.me().0;
        ctx.trace(crate::trace::TraceEvent::Note {
            actor,
            text: format!(
                "refused {what}: nonce store full (every nonce still inside its freshness window)"
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_for_its_whole_window_whatever_else_arrives() {
        let mut c = NonceCache::new(2, 10);
        assert_eq!(c.admit(b"d", b"n1", 0, 100), Admit::Fresh);
        assert_eq!(c.admit(b"d", b"n1", 5, 105), Admit::Replay);
        assert_eq!(c.admit(b"d", b"n2", 10, 110), Admit::Fresh);
        // Full of live nonces: a third is refused, n1 is not forgotten.
        assert_eq!(c.admit(b"d", b"n3", 20, 120), Admit::Full);
        assert_eq!(c.admit(b"d", b"n1", 100, 200), Admit::Replay);
        // After n1's window (100) it is forgotten, making room.
        assert_eq!(c.admit(b"d", b"n3", 101, 201), Admit::Fresh);
        assert_eq!(c.admit(b"d", b"n1", 101, 201), Admit::Full);
        assert_eq!(c.admit(b"e", b"n1", 101, 201), Admit::Fresh);
        assert_eq!(c.refused_full, 2);
    }

    #[test]
    fn peers_are_bounded_and_windowless_nonces_are_never_forgotten() {
        let mut c = NonceCache::new(4, 2);
        assert_eq!(c.admit(b"a", b"x", 0, u64::MAX), Admit::Fresh);
        assert_eq!(c.admit(b"b", b"x", 0, 10), Admit::Fresh);
        assert_eq!(c.admit(b"c", b"x", 5, 10), Admit::Full);
        assert_eq!(c.devices(), 2);
        assert_eq!(c.admit(b"c", b"x", 11, 20), Admit::Fresh);
        assert_eq!(c.admit(b"a", b"x", u64::MAX - 1, u64::MAX), Admit::Replay);
        assert_eq!(c.len(), 1);
    }
}
