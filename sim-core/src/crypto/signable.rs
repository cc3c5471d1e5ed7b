//! What gets signed or MACed: real mode signs canonical bytes, symbolic mode a cheap structural
//! digest, so symbolic runs never have to produce XML.

use std::hash::{Hash, Hasher};

/// Content that can be signed, MACed or verified through [`crate::crypto::Crypto`].
pub trait Signable {
    /// The canonical bytes covered by the signature/MAC in real mode (e.g. Exclusive C14N XML).
    fn signed_bytes(&self) -> Vec<u8>;
    /// A structural digest of the same content, used in symbolic mode. Two values with different
    /// signed content must (with overwhelming probability) have different digests.
    fn symbolic_digest(&self) -> u64;
    /// Length in bytes of [`Signable::signed_bytes`], used to charge hashing costs in both modes.
    /// The default builds the bytes; PDU types should override it with a cheap estimate so
    /// symbolic runs do not serialise.
    fn signed_len(&self) -> usize {
        self.signed_bytes().len()
    }
    /// [`Signable::symbolic_digest`] and [`Signable::signed_len`] together (symbolic mode
    /// needs both per signature; PDUs compute them in one walk).
    fn symbolic_digest_and_len(&self) -> (u64, usize) {
        (self.symbolic_digest(), self.signed_len())
    }
}

impl Signable for [u8] {
    fn signed_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }
    fn symbolic_digest(&self) -> u64 {
        digest_bytes(self)
    }
    fn signed_len(&self) -> usize {
        self.len()
    }
}

impl Signable for Vec<u8> {
    fn signed_bytes(&self) -> Vec<u8> {
        self.clone()
    }
    fn symbolic_digest(&self) -> u64 {
        digest_bytes(self)
    }
    fn signed_len(&self) -> usize {
        self.len()
    }
}

impl<const N: usize> Signable for [u8; N] {
    fn signed_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }
    fn symbolic_digest(&self) -> u64 {
        digest_bytes(self)
    }
    fn signed_len(&self) -> usize {
        N
    }
}

impl Signable for str {
    fn signed_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn symbolic_digest(&self) -> u64 {
        digest_bytes(self.as_bytes())
    }
    fn signed_len(&self) -> usize {
        self.len()
    }
}

const K0: u64 = 0xa076_1d64_78bd_642f;
const K1: u64 = 0xe703_7ed1_a0b4_28db;
const K2: u64 = 0x8ebc_6af0_9c88_c6e3;
const K3: u64 = 0x5899_65cc_7537_4cc3;

/// 64x64→128 multiply folded to 64 bits (the wyhash "mum" mixer).
#[inline]
pub(crate) fn mum(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

/// A deterministic, unkeyed structural hasher for [`Signable::symbolic_digest`].
///
/// Implements [`Hasher`] so PDU types can `#[derive(Hash)]` and call [`digest_of`]. Unlike std's
/// `DefaultHasher` it has no per-process randomness, so digests are identical across runs.
#[derive(Debug, Clone)]
pub struct DigestHasher {
    state: u64,
    len: u64,
    pending: u64,
    pending_len: u32,
}

impl Default for DigestHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl DigestHasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self {
            state: K0,
            len: 0,
            pending: 0,
            pending_len: 0,
        }
    }

    #[inline]
    fn absorb_word(&mut self, w: u64) {
        self.state = mum(self.state ^ w ^ K1, K2 ^ self.len.wrapping_mul(K0));
    }

    /// Feeds a u64 as one word (faster than `write`).
    #[inline]
    pub fn word(&mut self, w: u64) {
        self.len = self.len.wrapping_add(8);
        self.absorb_word(w);
    }
}

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.pending |= u64::from(b) << (8 * self.pending_len);
            self.pending_len += 1;
            self.len = self.len.wrapping_add(1);
            if self.pending_len == 8 {
                let w = self.pending;
                self.pending = 0;
                self.pending_len = 0;
                self.absorb_word(w);
            }
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }
    fn write_u32(&mut self, i: u32) {
        self.word(u64::from(i));
    }
    fn write_u8(&mut self, i: u8) {
        self.word(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }
    fn finish(&self) -> u64 {
        let mut s = self.state;
        if self.pending_len > 0 {
            s = mum(s ^ self.pending ^ K1, K3);
        }
        mum(s ^ K3, self.len ^ K0)
    }
}

/// Structural digest of any `Hash` value with [`DigestHasher`].
pub fn digest_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = DigestHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// Digest of a byte string (length-sensitive).
pub fn digest_bytes(bytes: &[u8]) -> u64 {
    // Two words per multiply (wyhash style) for speed on long inputs.
    let mut h = DigestHasher::new();
    let mut chunks = bytes.chunks_exact(16);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&c[..8]);
        b.copy_from_slice(&c[8..]);
        h.state = mum(
            u64::from_le_bytes(a) ^ h.state ^ K1,
            u64::from_le_bytes(b) ^ K2,
        );
    }
    h.len = (bytes.len() - chunks.remainder().len()) as u64;
    h.write(chunks.remainder());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_depends_on_every_byte_and_length() {
        let a = digest_bytes(b"hello world, signed");
        assert_eq!(a, digest_bytes(b"hello world, signed"));
        assert_ne!(a, digest_bytes(b"hello world, signeD"));
        assert_ne!(digest_bytes(b""), digest_bytes(b"\0"));
        assert_ne!(digest_bytes(b"\0"), digest_bytes(b"\0\0"));
        assert_ne!(digest_of(&("ab", "c")), digest_of(&("a", "bc")));
    }

    #[derive(Hash)]
    struct Pdu {
        nonce: u64,
        device_id: [u8; 20],
        domain: String,
    }

    #[test]
    fn derived_hash_digest_tracks_every_field() {
        let p = Pdu {
            nonce: 1,
            device_id: [3u8; 20],
            domain: "dom-001".into(),
        };
        let d = digest_of(&p);
        assert_eq!(d, digest_of(&p));
        let mut q = Pdu {
            nonce: 2,
            device_id: p.device_id,
            domain: p.domain.clone(),
        };
        assert_ne!(d, digest_of(&q));
        q.nonce = 1;
        q.device_id[19] = 4;
        assert_ne!(d, digest_of(&q));
        q.device_id[19] = 3;
        q.domain.push('x');
        assert_ne!(d, digest_of(&q));
        q.domain.pop();
        assert_eq!(d, digest_of(&q));
    }
}
