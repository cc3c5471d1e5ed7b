//! Where RSA keys come from. Key generation is deterministic: the RNG is
//! `engine::rng::stream(seed, owner, "rsa-key")`, so the same `(seed, owner, bits)` yields the
//! same key on every machine (for the pinned `rsa` crate version). sim-core does no IO, so
//! caching on disk lives in `scenarios::keycache`, behind the [`KeySource`] trait.

use std::collections::BTreeMap;
use std::sync::Mutex;

use rand::RngCore;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

use super::error::CryptoError;
use super::keys::{PrivateKey, SUPPORTED_RSA_BITS};
use crate::engine::rng::stream;

/// RNG purpose string for RSA key generation streams.
pub const RSA_KEY_PURPOSE: &str = "rsa-key";
/// Version tag of the key-derivation procedure; part of cache names so a change of procedure
/// (or of the `rsa` crate's prime generation) never reuses stale keys.
pub const KEYGEN_VERSION: &str = "drmsim-rsa-keygen-v1/rsa-0.9.10";
/// Bound on the number of keys memoised by [`GeneratingKeySource`].
pub const MAX_MEMO_KEYS: usize = 1 << 20;

/// The derivation inputs of one key pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeySpec {
    /// Master seed of the run.
    pub seed: u64,
    /// Stable owner name (actor name, e.g. "device/17", "ca/root").
    pub owner: String,
    /// RSA modulus size in bits.
    pub bits: u32,
}

impl KeySpec {
    /// A spec for `(seed, owner, bits)`.
    pub fn new(seed: u64, owner: impl Into<String>, bits: u32) -> Self {
        KeySpec {
            seed,
            owner: owner.into(),
            bits,
        }
    }

    /// Checks the modulus size is supported.
    pub fn check(&self) -> Result<(), CryptoError> {
        if SUPPORTED_RSA_BITS.contains(&self.bits) {
            Ok(())
        } else {
            Err(CryptoError::UnsupportedKeySize { bits: self.bits })
        }
    }

    /// Stable hex name for this spec: SHA-256 over the keygen version and the derivation inputs,
    /// length-prefixed. Used as the cache file name.
    pub fn cache_name(&self) -> String {
        let mut h = Sha256::new();
        h.update(KEYGEN_VERSION.as_bytes());
        h.update(self.seed.to_be_bytes());
        h.update((self.owner.len() as u64).to_be_bytes());
        h.update(self.owner.as_bytes());
        h.update(self.bits.to_be_bytes());
        hex::encode(h.finalize())
    }

    /// 32 bytes of secret for a symbolic key with these inputs (same stream as real keygen).
    pub(crate) fn symbolic_secret(&self) -> [u8; 32] {
        let mut s = [0u8; 32];
        stream(self.seed, &self.owner, RSA_KEY_PURPOSE).fill_bytes(&mut s);
        s
    }
}

/// Generates the real RSA key for `spec` (slow: ~20 ms at 1024 bits, ~200 ms at 2048 bits in
/// release builds).
pub fn generate_rsa(spec: &KeySpec) -> Result<PrivateKey, CryptoError> {
    spec.check()?;
    let mut rng = stream(spec.seed, &spec.owner, RSA_KEY_PURPOSE);
    let key = RsaPrivateKey::new(&mut rng, spec.bits as usize)
        .map_err(|e| CryptoError::Rsa(e.to_string()))?;
    PrivateKey::from_rsa(key)
}

/// Supplies real RSA key pairs for `(seed, owner, bits)`.
pub trait KeySource: Send + Sync {
    /// The key pair for `spec`; must equal [`generate_rsa`]`(spec)`.
    fn private_key(&self, spec: &KeySpec) -> Result<PrivateKey, CryptoError>;
}

/// In-memory generating key source with a bounded memo (no IO).
#[derive(Default)]
pub struct GeneratingKeySource {
    memo: Mutex<BTreeMap<KeySpec, PrivateKey>>,
}

impl GeneratingKeySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }
}

impl KeySource for GeneratingKeySource {
    fn private_key(&self, spec: &KeySpec) -> Result<PrivateKey, CryptoError> {
        if let Ok(m) = self.memo.lock() {
            if let Some(k) = m.get(spec) {
                return Ok(k.clone());
            }
        }
        let key = generate_rsa(spec)?;
        if let Ok(mut m) = self.memo.lock() {
            if m.len() < MAX_MEMO_KEYS {
                m.insert(spec.clone(), key.clone());
            }
        }
        Ok(key)
    }
}
