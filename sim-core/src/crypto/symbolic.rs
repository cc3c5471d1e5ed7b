//! Symbolic (Dolev–Yao) mode: every cryptographic value is a tag computed with a fast keyed mix
//! from a per-run oracle secret that only the [`super::Crypto`] instance holds.
//!
//! Security here comes from encapsulation, not hardness: the secret never leaves the facade, so
//! simulated actors (including adversaries) can only obtain a signature by calling `sign` with
//! the private key, a MAC by calling `mac` with the key, and plaintext by calling an unwrap with
//! the right key. Outputs have the same lengths as in real mode so PDU sizes (and therefore
//! network timing) do not depend on the crypto mode.

use super::error::CryptoError;
use super::keys::{KeyId, SymKey};
use super::signable::mum;

const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;
const P2: u64 = 0x8ebc_6af0_9c88_c6e3;
const P3: u64 = 0x5899_65cc_7537_4cc3;

/// Domain separators so a tag of one kind is never valid as another.
#[derive(Clone, Copy)]
#[repr(u64)]
pub(crate) enum Domain {
    Sign = 1,
    Mac = 2,
    Wrap = 3,
    WrapStream = 4,
    Kem = 5,
    KemC1 = 6,
    Cbc = 7,
    CbcStream = 8,
    Expand = 9,
}

/// The per-run oracle secret (256 bits).
#[derive(Clone)]
pub(crate) struct Oracle {
    k: [u64; 4],
}

impl Oracle {
    pub(crate) fn new(seed_bytes: [u8; 32]) -> Self {
        let mut k = [0u64; 4];
        for (i, w) in k.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&seed_bytes[i * 8..i * 8 + 8]);
            *w = u64::from_le_bytes(b);
        }
        Oracle { k }
    }

    /// Keyed PRF over a domain and a list of words.
    #[inline]
    pub(crate) fn prf(&self, domain: Domain, words: &[u64]) -> u64 {
        let mut s = mum(self.k[0] ^ (domain as u64).wrapping_mul(P0), self.k[1] ^ P1);
        for (i, &w) in words.iter().enumerate() {
            s = mum(s ^ w ^ P2, self.k[2] ^ (i as u64).wrapping_mul(P3) ^ P0);
        }
        mum(s ^ self.k[3], (words.len() as u64) ^ P3)
    }

    /// PRF over a word prefix followed by arbitrary bytes.
    pub(crate) fn prf_bytes(&self, domain: Domain, prefix: &[u64], bytes: &[u8]) -> u64 {
        let mut words = Vec::with_capacity(prefix.len() + bytes.len() / 8 + 2);
        words.extend_from_slice(prefix);
        words.push(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            words.push(u64::from_le_bytes(b));
        }
        let rem = chunks.remainder();
        if !rem.is_empty() {
            let mut b = [0u8; 8];
            b[..rem.len()].copy_from_slice(rem);
            words.push(u64::from_le_bytes(b));
        }
        self.prf(domain, &words)
    }

    /// Expands a seed word into `out.len()` bytes of keystream / tag material.
    pub(crate) fn expand(&self, seed: u64, out: &mut [u8]) {
        for (i, chunk) in out.chunks_mut(8).enumerate() {
            let w = mum(
                seed ^ (i as u64 + 1).wrapping_mul(P0) ^ self.k[2],
                self.k[3] ^ P1 ^ (Domain::Expand as u64),
            );
            let b = w.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
    }

    /// Symbolic signature tag of `len` bytes binding key id, algorithm and content digest.
    pub(crate) fn sign_tag(&self, id: &KeyId, alg: u64, digest: u64, len: usize) -> Vec<u8> {
        let [a, b, c] = id.words();
        let t = self.prf(Domain::Sign, &[a, b, c, alg, digest]);
        let mut out = vec![0u8; len];
        self.expand(t, &mut out);
        out
    }

    /// Symbolic MAC tag of `len` bytes binding key, algorithm and content digest.
    pub(crate) fn mac_tag(&self, key: &SymKey, alg: u64, digest: u64, len: usize) -> Vec<u8> {
        let [a, b] = key.words();
        let t = self.prf(Domain::Mac, &[a, b, alg, digest]);
        let mut out = vec![0u8; len];
        self.expand(t, &mut out);
        out
    }

    /// Deterministic authenticated "wrap" (SIV style): 8-byte synthetic IV ‖ plaintext ⊕ stream.
    /// Same length as RFC 3394 output.
    pub(crate) fn wrap(&self, kek: &[u64; 2], pt: &[u8]) -> Vec<u8> {
        let iv = self.prf_bytes(Domain::Wrap, kek, pt);
        let mut out = Vec::with_capacity(8 + pt.len());
        out.extend_from_slice(&iv.to_le_bytes());
        out.extend_from_slice(pt);
        self.xor_stream(Domain::WrapStream, kek, iv, &mut out[8..]);
        out
    }

    /// Inverse of [`Oracle::wrap`]; the synthetic IV is the integrity check.
    pub(crate) fn unwrap(&self, kek: &[u64; 2], ct: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if ct.len() < 24 || !ct.len().is_multiple_of(8) {
            return Err(CryptoError::InvalidLength {
                what: "wrapped key",
                len: ct.len(),
            });
        }
        let mut ivb = [0u8; 8];
        ivb.copy_from_slice(&ct[..8]);
        let iv = u64::from_le_bytes(ivb);
        let mut pt = ct[8..].to_vec();
        self.xor_stream(Domain::WrapStream, kek, iv, &mut pt);
        if self.prf_bytes(Domain::Wrap, kek, &pt) != iv {
            return Err(CryptoError::UnwrapFailed);
        }
        Ok(pt)
    }

    /// Symbolic RSA-KEM: the KEK is bound to the recipient's key id; C1 is filler of modulus
    /// length; C2 is a symbolic wrap. Only a holder of the matching private key can call unwrap.
    pub(crate) fn kem_kek(&self, id: &KeyId) -> [u64; 2] {
        let [a, b, c] = id.words();
        let k0 = self.prf(Domain::Kem, &[a, b, c, 0]);
        let k1 = self.prf(Domain::Kem, &[a, b, c, 1]);
        [k0, k1]
    }

    /// Filler C1 bytes for the symbolic KEM.
    pub(crate) fn kem_c1(&self, id: &KeyId, pt: &[u8], len: usize) -> Vec<u8> {
        let [a, b, c] = id.words();
        let t = self.prf_bytes(Domain::KemC1, &[a, b, c], pt);
        let mut out = vec![0u8; len];
        self.expand(t, &mut out);
        out
    }

    /// Symbolic AES-CBC: 16-byte synthetic IV ‖ (plaintext ‖ PKCS#7 pad) ⊕ stream; same length
    /// as real mode. The IV doubles as an integrity tag, so a wrong key always fails.
    pub(crate) fn cbc_encrypt(&self, key: &SymKey, pt: &[u8]) -> Vec<u8> {
        let kw = key.words();
        let t = self.prf_bytes(Domain::Cbc, &kw, pt);
        let pad = 16 - pt.len() % 16;
        let mut out = Vec::with_capacity(16 + pt.len() + pad);
        out.extend_from_slice(&t.to_le_bytes());
        out.extend_from_slice(&mum(t ^ P2, self.k[0]).to_le_bytes());
        out.extend_from_slice(pt);
        out.resize(16 + pt.len() + pad, pad as u8);
        self.xor_stream(Domain::CbcStream, &kw, t, &mut out[16..]);
        out
    }

    /// Inverse of [`Oracle::cbc_encrypt`].
    pub(crate) fn cbc_decrypt(&self, key: &SymKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        super::primitives::check_cbc_len(data.len())?;
        let kw = key.words();
        let mut tb = [0u8; 8];
        tb.copy_from_slice(&data[..8]);
        let t = u64::from_le_bytes(tb);
        let mut body = data[16..].to_vec();
        self.xor_stream(Domain::CbcStream, &kw, t, &mut body);
        let pad = usize::from(*body.last().ok_or(CryptoError::DecryptFailed)?);
        if pad == 0 || pad > 16 || pad > body.len() {
            return Err(CryptoError::DecryptFailed);
        }
        body.truncate(body.len() - pad);
        if self.prf_bytes(Domain::Cbc, &kw, &body) != t
            || data[8..16] != mum(t ^ P2, self.k[0]).to_le_bytes()
        {
            return Err(CryptoError::DecryptFailed);
        }
        Ok(body)
    }

    fn xor_stream(&self, domain: Domain, key: &[u64; 2], iv: u64, buf: &mut [u8]) {
        let seed = self.prf(domain, &[key[0], key[1], iv]);
        for (i, chunk) in buf.chunks_mut(8).enumerate() {
            let w = mum(seed ^ (i as u64 + 1).wrapping_mul(P1), self.k[1] ^ P3).to_le_bytes();
            for (b, k) in chunk.iter_mut().zip(w) {
                *b ^= k;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_wrap_needs_the_same_key() {
        let o = Oracle::new([9u8; 32]);
        let pt = [5u8; 32];
        let ct = o.wrap(&[1, 2], &pt);
        assert_eq!(ct.len(), 40);
        assert_eq!(o.unwrap(&[1, 2], &ct).unwrap(), pt.to_vec());
        assert_eq!(o.unwrap(&[1, 3], &ct), Err(CryptoError::UnwrapFailed));
        let other = Oracle::new([8u8; 32]);
        assert_eq!(other.unwrap(&[1, 2], &ct), Err(CryptoError::UnwrapFailed));
    }

    #[test]
    fn symbolic_cbc_round_trip() {
        let o = Oracle::new([1u8; 32]);
        let k = SymKey([3u8; 16]);
        for len in [0usize, 5, 16, 33] {
            let pt = vec![0x42u8; len];
            let ct = o.cbc_encrypt(&k, &pt);
            assert_eq!(ct.len(), super::super::primitives::aes_cbc_output_len(len));
            assert_eq!(o.cbc_decrypt(&k, &ct).unwrap(), pt);
            assert!(o.cbc_decrypt(&SymKey([4u8; 16]), &ct).is_err());
        }
    }
}
