//! Key types valid in both crypto modes.
//!
//! A [`PublicKey`] always has a 20-byte [`KeyId`]: in real mode the SHA-1 of the DER
//! `subjectPublicKeyInfo` (the OMA DRM Device/RI ID), in symbolic mode a SHA-1 over the symbolic
//! key secret's public half. Symbolic keys carry no RSA material at all.

use std::fmt;
use std::sync::Arc;

use rand::RngCore;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::{Digest, Sha1};

use super::error::CryptoError;

/// Length of a symmetric key (AES-128, HMAC keys of OMA DRM).
pub const SYM_KEY_BYTES: usize = 16;
/// Default RSA modulus size.
pub const DEFAULT_RSA_BITS: u32 = 1024;
/// RSA modulus sizes the simulator accepts.
pub const SUPPORTED_RSA_BITS: [u32; 3] = [1024, 2048, 3072];

/// A 128-bit symmetric key (K_MAC, K_REK, KEK, UDK, Master/Pairing key, K_MEK).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymKey(pub [u8; SYM_KEY_BYTES]);

impl SymKey {
    /// A fresh random key drawn from `rng`.
    pub fn random(rng: &mut dyn RngCore) -> Self {
        let mut k = [0u8; SYM_KEY_BYTES];
        rng.fill_bytes(&mut k);
        SymKey(k)
    }
    /// A key from exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; SYM_KEY_BYTES] =
            bytes.try_into().map_err(|_| CryptoError::InvalidLength {
                what: "symmetric key",
                len: bytes.len(),
            })?;
        Ok(SymKey(arr))
    }
    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; SYM_KEY_BYTES] {
        &self.0
    }
    pub(crate) fn words(&self) -> [u64; 2] {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&self.0[..8]);
        b.copy_from_slice(&self.0[8..]);
        [u64::from_le_bytes(a), u64::from_le_bytes(b)]
    }
}

impl fmt::Debug for SymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key bytes stay out of logs and traces; a short fingerprint identifies the key.
        let fp = Sha1::digest(self.0);
        write!(f, "SymKey(fp={})", hex::encode(&fp[..4]))
    }
}

/// 20-byte key identifier: SHA-1 of the DER subjectPublicKeyInfo (OMA DRM Device ID / RI ID).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 20]);

impl KeyId {
    /// The identifier bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }
    /// Lower-case hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub(crate) fn words(&self) -> [u64; 3] {
        let b = &self.0;
        let w = |i: usize| {
            let mut a = [0u8; 8];
            let end = (i + 8).min(20);
            a[..end - i].copy_from_slice(&b[i..end]);
            u64::from_le_bytes(a)
        };
        [w(0), w(8), w(16)]
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[derive(Clone)]
pub(crate) enum PublicMaterial {
    Real {
        key: Arc<RsaPublicKey>,
        spki_der: Arc<[u8]>,
    },
    Symbolic,
}

/// An RSA public key (real) or its symbolic stand-in; cheap to clone.
#[derive(Clone)]
pub struct PublicKey {
    id: KeyId,
    bits: u32,
    pub(crate) material: PublicMaterial,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.bits == other.bits
    }
}
impl Eq for PublicKey {}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
        self.bits.hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.material {
            PublicMaterial::Real { .. } => "real",
            PublicMaterial::Symbolic => "symbolic",
        };
        write!(f, "PublicKey({kind}, {} bits, id={})", self.bits, self.id)
    }
}

impl PublicKey {
    /// Wraps a real RSA public key; computes its DER SPKI and SHA-1 key id.
    pub fn from_rsa(key: RsaPublicKey) -> Result<Self, CryptoError> {
        let der = key
            .to_public_key_der()
            .map_err(|e| CryptoError::Encoding(e.to_string()))?;
        let spki_der: Arc<[u8]> = Arc::from(der.as_bytes());
        let id = KeyId(Sha1::digest(&spki_der).into());
        let bits = u32::try_from(key.n().bits()).unwrap_or(u32::MAX);
        Ok(PublicKey {
            id,
            bits,
            material: PublicMaterial::Real {
                key: Arc::new(key),
                spki_der,
            },
        })
    }

    /// The key identifier (Device ID / RI ID).
    pub fn id(&self) -> KeyId {
        self.id
    }
    /// Modulus size in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }
    /// Modulus size in bytes (signature and RSA-KEM C1 length).
    pub fn modulus_bytes(&self) -> usize {
        (self.bits as usize).div_ceil(8)
    }
    /// Whether this key carries real RSA material.
    pub fn is_real(&self) -> bool {
        matches!(self.material, PublicMaterial::Real { .. })
    }
    /// The underlying RSA key (real mode only).
    pub fn rsa(&self) -> Option<&RsaPublicKey> {
        match &self.material {
            PublicMaterial::Real { key, .. } => Some(key),
            PublicMaterial::Symbolic => None,
        }
    }
    /// The DER subjectPublicKeyInfo (real mode only).
    pub fn spki_der(&self) -> Option<&[u8]> {
        match &self.material {
            PublicMaterial::Real { spki_der, .. } => Some(spki_der),
            PublicMaterial::Symbolic => None,
        }
    }
    /// PEM ("PUBLIC KEY") export (real mode only; symbolic keys have no encoding).
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        match &self.material {
            PublicMaterial::Real { key, .. } => key
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| CryptoError::Encoding(e.to_string())),
            PublicMaterial::Symbolic => Err(CryptoError::SymbolicKeyInRealMode),
        }
    }
}

#[derive(Clone)]
pub(crate) enum PrivateMaterial {
    Real(Arc<RsaPrivateKey>),
    /// Symbolic: no material is needed; the id was derived from a secret when the key was
    /// minted, and only `sim_core::crypto` can mint a `PrivateKey`, so holding one for an id
    /// proves it was handed out by the key's owner.
    Symbolic,
}

/// A key pair: [`PrivateKey`] always carries its public half.
pub type KeyPair = PrivateKey;

/// A private key together with its public half (a key pair); cheap to clone.
#[derive(Clone)]
pub struct PrivateKey {
    public: PublicKey,
    pub(crate) material: PrivateMaterial,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(public={:?})", self.public)
    }
}

impl PrivateKey {
    /// Wraps a real RSA private key.
    pub fn from_rsa(key: RsaPrivateKey) -> Result<Self, CryptoError> {
        let public = PublicKey::from_rsa(key.to_public_key())?;
        Ok(PrivateKey {
            public,
            material: PrivateMaterial::Real(Arc::new(key)),
        })
    }

    /// Parses a PKCS#8 DER private key (the key-cache file format).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let key =
            RsaPrivateKey::from_pkcs8_der(der).map_err(|e| CryptoError::Encoding(e.to_string()))?;
        Self::from_rsa(key)
    }

    /// PKCS#8 DER encoding (real keys only).
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        match &self.material {
            PrivateMaterial::Real(k) => k
                .to_pkcs8_der()
                .map(|d| d.as_bytes().to_vec())
                .map_err(|e| CryptoError::Encoding(e.to_string())),
            PrivateMaterial::Symbolic => Err(CryptoError::SymbolicKeyInRealMode),
        }
    }

    /// A symbolic key derived from a 32-byte secret: its id is SHA-1 over the secret, so ids
    /// cannot be chosen without the secret. Only the crypto module mints these.
    pub(crate) fn symbolic(secret: [u8; 32], bits: u32) -> Self {
        let mut h = Sha1::new();
        h.update(b"drmsim-symbolic-key-v1");
        h.update(bits.to_be_bytes());
        h.update(secret);
        let id = KeyId(h.finalize().into());
        PrivateKey {
            public: PublicKey {
                id,
                bits,
                material: PublicMaterial::Symbolic,
            },
            material: PrivateMaterial::Symbolic,
        }
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }
    /// Key id of the public half.
    pub fn id(&self) -> KeyId {
        self.public.id
    }
    /// Modulus size in bits.
    pub fn bits(&self) -> u32 {
        self.public.bits
    }
    /// The underlying RSA key (real keys only).
    pub fn rsa(&self) -> Option<&RsaPrivateKey> {
        match &self.material {
            PrivateMaterial::Real(k) => Some(k),
            PrivateMaterial::Symbolic => None,
        }
    }
}
