//! The [`Crypto`] facade: one interface for real and symbolic cryptography, with cost
//! accounting on every call.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rsa::Pss;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::error::CryptoError;
use super::keys::{PrivateKey, PrivateMaterial, PublicKey, PublicMaterial, SymKey};
use super::keysource::{KeySource, KeySpec};
use super::ops::{Op, OpCounter};
use super::primitives::{self as prim, ct_eq};
use super::signable::Signable;
use super::symbolic::Oracle;
use crate::engine::rng::stream_seed;

/// Owner name of the RNG stream that seeds the symbolic oracle secret.
pub const ORACLE_OWNER: &str = "crypto/oracle";
/// Highest UDK generation: OMA domain identifiers carry the generation in three digits.
pub const MAX_UDK_GENERATION: u32 = 999;

/// Which cryptography a run uses (scenario key `crypto = "real" | "symbolic"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CryptoMode {
    /// Real RSA/AES/HMAC on real bytes.
    Real,
    /// Dolev–Yao symbolic terms: cheap tags, same lengths, same verification outcomes.
    #[default]
    Symbolic,
}

impl std::fmt::Display for CryptoMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CryptoMode::Real => "real",
            CryptoMode::Symbolic => "symbolic",
        })
    }
}

impl std::str::FromStr for CryptoMode {
    type Err = String;
    /// Parses "real" or "symbolic" (the scenario and CLI spelling).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "real" => Ok(CryptoMode::Real),
            "symbolic" => Ok(CryptoMode::Symbolic),
            other => Err(format!(
                "unknown crypto mode {other:?} (expected \"real\" or \"symbolic\")"
            )),
        }
    }
}

/// Signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum SigAlg {
    /// RSASSA-PSS, SHA-1, MGF1-SHA1, 20-byte salt (OMA DRM 2 default signature scheme).
    #[default]
    RsaPssSha1,
    /// RSASSA-PSS, SHA-256, MGF1-SHA256, 32-byte salt.
    RsaPssSha256,
}

impl SigAlg {
    /// PSS salt length in bytes (the hash length).
    pub fn salt_len(self) -> usize {
        match self {
            SigAlg::RsaPssSha1 => 20,
            SigAlg::RsaPssSha256 => 32,
        }
    }
    fn code(self) -> u64 {
        match self {
            SigAlg::RsaPssSha1 => 1,
            SigAlg::RsaPssSha256 => 2,
        }
    }
    fn hash_op(self, len: usize) -> Op {
        match self {
            SigAlg::RsaPssSha1 => Op::sha1(len),
            SigAlg::RsaPssSha256 => Op::sha256(len),
        }
    }
}

/// MAC algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum MacAlg {
    /// HMAC-SHA1 (OMA DRM 2 default MAC), 20-byte tag.
    #[default]
    HmacSha1,
    /// HMAC-SHA256, 32-byte tag.
    HmacSha256,
}

impl MacAlg {
    /// Tag length in bytes.
    pub fn tag_len(self) -> usize {
        match self {
            MacAlg::HmacSha1 => 20,
            MacAlg::HmacSha256 => 32,
        }
    }
    fn code(self) -> u64 {
        match self {
            MacAlg::HmacSha1 => 11,
            MacAlg::HmacSha256 => 12,
        }
    }
}

/// The crypto facade. Immutable after construction; share it (e.g. in an `Arc`) across actors.
#[derive(Clone)]
pub struct Crypto {
    mode: CryptoMode,
    oracle: Oracle,
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The oracle secret is never printed.
        write!(f, "Crypto({:?})", self.mode)
    }
}

impl Crypto {
    /// A facade for `mode`; the symbolic oracle secret is derived from the run seed
    /// (stream `(seed, "crypto/oracle", "symbolic")`) and never leaves this value.
    pub fn new(mode: CryptoMode, seed: u64) -> Self {
        Crypto {
            mode,
            oracle: Oracle::new(stream_seed(seed, ORACLE_OWNER, "symbolic")),
        }
    }

    /// The mode of this facade.
    pub fn mode(&self) -> CryptoMode {
        self.mode
    }

    /// The key pair for `spec`: in real mode from `source` (generated or cached RSA), in
    /// symbolic mode a symbolic key derived from the same RNG stream (no RSA work at all).
    pub fn key_pair(
        &self,
        source: &dyn KeySource,
        spec: &KeySpec,
    ) -> Result<PrivateKey, CryptoError> {
        spec.check()?;
        match self.mode {
            CryptoMode::Real => source.private_key(spec),
            CryptoMode::Symbolic => Ok(PrivateKey::symbolic(spec.symbolic_secret(), spec.bits)),
        }
    }

    // ----- signatures -----

    /// Signs `msg` with `key` (RSA-PSS). Real mode: the salt comes from a ChaCha stream seeded
    /// by SHA-256(key id ‖ alg ‖ H(msg)), so signatures are deterministic per run.
    pub fn sign<M: Signable + ?Sized>(
        &self,
        ops: &mut OpCounter,
        key: &PrivateKey,
        alg: SigAlg,
        msg: &M,
    ) -> Result<Vec<u8>, CryptoError> {
        match self.mode {
            CryptoMode::Real => {
                let bytes = msg.signed_bytes();
                ops.record(alg.hash_op(msg.signed_len()));
                ops.record(Op::RsaSign { bits: key.bits() });
                let rsa_key = match &key.material {
                    PrivateMaterial::Real(k) => k,
                    PrivateMaterial::Symbolic => return Err(CryptoError::SymbolicKeyInRealMode),
                };
                let hashed = hash_for(alg, &bytes);
                let mut seed = Sha256::new();
                seed.update(b"drmsim-pss-salt-v1");
                seed.update(key.id().as_bytes());
                seed.update(alg.code().to_be_bytes());
                seed.update(&hashed);
                let mut rng = ChaCha8Rng::from_seed(seed.finalize().into());
                let sig = match alg {
                    SigAlg::RsaPssSha1 => rsa_key.sign_with_rng(
                        &mut rng,
                        Pss::new_with_salt::<Sha1>(alg.salt_len()),
                        &hashed,
                    ),
                    SigAlg::RsaPssSha256 => rsa_key.sign_with_rng(
                        &mut rng,
                        Pss::new_with_salt::<Sha256>(alg.salt_len()),
                        &hashed,
                    ),
                };
                sig.map_err(|e| CryptoError::Rsa(e.to_string()))
            }
            CryptoMode::Symbolic => {
                let (digest, len) = msg.symbolic_digest_and_len();
                ops.record(alg.hash_op(len));
                ops.record(Op::RsaSign { bits: key.bits() });
                Ok(self.oracle.sign_tag(
                    &key.id(),
                    alg.code(),
                    digest,
                    key.public().modulus_bytes(),
                ))
            }
        }
    }

    /// Verifies `sig` over `msg` for `key`; `Err(BadSignature)` if it does not verify.
    pub fn verify<M: Signable + ?Sized>(
        &self,
        ops: &mut OpCounter,
        key: &PublicKey,
        alg: SigAlg,
        msg: &M,
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        match self.mode {
            CryptoMode::Real => {
                let bytes = msg.signed_bytes();
                ops.record(alg.hash_op(msg.signed_len()));
                ops.record(Op::RsaVerify { bits: key.bits() });
                let rsa_key = match &key.material {
                    PublicMaterial::Real { key, .. } => key,
                    PublicMaterial::Symbolic => return Err(CryptoError::SymbolicKeyInRealMode),
                };
                if sig.len() != key.modulus_bytes() {
                    return Err(CryptoError::BadSignature);
                }
                let hashed = hash_for(alg, &bytes);
                let r = match alg {
                    SigAlg::RsaPssSha1 => {
                        rsa_key.verify(Pss::new_with_salt::<Sha1>(alg.salt_len()), &hashed, sig)
                    }
                    SigAlg::RsaPssSha256 => {
                        rsa_key.verify(Pss::new_with_salt::<Sha256>(alg.salt_len()), &hashed, sig)
                    }
                };
                r.map_err(|_| CryptoError::BadSignature)
            }
            CryptoMode::Symbolic => {
                let (digest, len) = msg.symbolic_digest_and_len();
                ops.record(alg.hash_op(len));
                ops.record(Op::RsaVerify { bits: key.bits() });
                let expect =
                    self.oracle
                        .sign_tag(&key.id(), alg.code(), digest, key.modulus_bytes());
                if ct_eq(&expect, sig) {
                    Ok(())
                } else {
                    Err(CryptoError::BadSignature)
                }
            }
        }
    }

    /// [`Crypto::sign`] over plain bytes.
    pub fn sign_bytes(
        &self,
        ops: &mut OpCounter,
        key: &PrivateKey,
        alg: SigAlg,
        bytes: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.sign(ops, key, alg, bytes)
    }

    /// [`Crypto::verify`] over plain bytes.
    pub fn verify_bytes(
        &self,
        ops: &mut OpCounter,
        key: &PublicKey,
        alg: SigAlg,
        bytes: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        self.verify(ops, key, alg, bytes, sig)
    }

    /// [`Crypto::mac`] over plain bytes.
    pub fn mac_bytes(
        &self,
        ops: &mut OpCounter,
        key: &SymKey,
        alg: MacAlg,
        bytes: &[u8],
    ) -> Vec<u8> {
        self.mac(ops, key, alg, bytes)
    }

    // ----- MACs -----

    /// MAC of `msg` under `key`.
    pub fn mac<M: Signable + ?Sized>(
        &self,
        ops: &mut OpCounter,
        key: &SymKey,
        alg: MacAlg,
        msg: &M,
    ) -> Vec<u8> {
        match self.mode {
            CryptoMode::Real => {
                let bytes = msg.signed_bytes();
                ops.record(Op::hmac(msg.signed_len()));
                match alg {
                    MacAlg::HmacSha1 => prim::hmac_sha1(&key.0, &bytes).to_vec(),
                    MacAlg::HmacSha256 => prim::hmac_sha256(&key.0, &bytes).to_vec(),
                }
            }
            CryptoMode::Symbolic => {
                let (digest, len) = msg.symbolic_digest_and_len();
                ops.record(Op::hmac(len));
                self.oracle.mac_tag(key, alg.code(), digest, alg.tag_len())
            }
        }
    }

    /// Verifies a MAC tag; `Err(BadMac)` if it does not verify.
    pub fn verify_mac<M: Signable + ?Sized>(
        &self,
        ops: &mut OpCounter,
        key: &SymKey,
        alg: MacAlg,
        msg: &M,
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        let expect = self.mac(ops, key, alg, msg);
        if ct_eq(&expect, tag) {
            Ok(())
        } else {
            Err(CryptoError::BadMac)
        }
    }

    // ----- key transport -----

    /// RSAES-KEM-KDF2-KW-AES128 (OMA DRM 2 §7.2.1): Z random in [1, n−1],
    /// C1 = I2OSP(Z^e mod n, k), KEK = KDF2-SHA1(Z, 16), C2 = AES-WRAP(KEK, key_material);
    /// returns C1 ‖ C2. `key_material` is e.g. K_MAC ‖ K_REK (32 bytes).
    pub fn kem_wrap(
        &self,
        ops: &mut OpCounter,
        rng: &mut dyn RngCore,
        recipient: &PublicKey,
        key_material: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        prim::check_wrap_input(key_material.len())?;
        let k = recipient.modulus_bytes();
        ops.record(Op::RsaEncrypt {
            bits: recipient.bits(),
        });
        ops.record(Op::sha1(k + 4));
        ops.record(Op::key_wrap(key_material.len()));
        // Both modes draw exactly 32 bytes from the caller's stream (Z is generated from a
        // sub-stream seeded by them), so real and symbolic runs consume randomness alike and
        // reach the same protocol outcomes.
        let mut sub_seed = [0u8; 32];
        rng.fill_bytes(&mut sub_seed);
        match self.mode {
            CryptoMode::Real => {
                let rsa_key = recipient.rsa().ok_or(CryptoError::SymbolicKeyInRealMode)?;
                let mut sub = ChaCha8Rng::from_seed(sub_seed);
                let (mut c, z) = prim::rsa_kem_encapsulate(rsa_key, &mut sub)?;
                let kek = SymKey::from_slice(&prim::kdf2_sha1(&z, 16))?;
                c.extend_from_slice(&prim::aes_wrap(&kek, key_material)?);
                Ok(c)
            }
            CryptoMode::Symbolic => {
                let mut c = self.oracle.kem_c1(&recipient.id(), key_material, k);
                c.extend_from_slice(
                    &self
                        .oracle
                        .wrap(&self.oracle.kem_kek(&recipient.id()), key_material),
                );
                Ok(c)
            }
        }
    }

    /// Inverse of [`Crypto::kem_wrap`] with the recipient's private key; fails with
    /// `UnwrapFailed` for a wrong key or tampered ciphertext.
    pub fn kem_unwrap(
        &self,
        ops: &mut OpCounter,
        key: &PrivateKey,
        c: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let k = key.public().modulus_bytes();
        if c.len() < k + 24 || !(c.len() - k).is_multiple_of(8) {
            return Err(CryptoError::InvalidLength {
                what: "RSA-KEM ciphertext",
                len: c.len(),
            });
        }
        let (c1, c2) = c.split_at(k);
        ops.record(Op::RsaDecrypt { bits: key.bits() });
        ops.record(Op::sha1(k + 4));
        ops.record(Op::key_unwrap(c2.len()));
        match self.mode {
            CryptoMode::Real => {
                let rsa_key = key.rsa().ok_or(CryptoError::SymbolicKeyInRealMode)?;
                // A wrong private key yields a wrong Z, hence a wrong KEK, which the RFC 3394
                // integrity check catches: report that uniformly as UnwrapFailed.
                let z = prim::rsa_kem_decapsulate(rsa_key, c1)
                    .map_err(|_| CryptoError::UnwrapFailed)?;
                let kek = SymKey::from_slice(&prim::kdf2_sha1(&z, 16))?;
                prim::aes_unwrap(&kek, c2)
            }
            CryptoMode::Symbolic => {
                let pt = self.oracle.unwrap(&self.oracle.kem_kek(&key.id()), c2)?;
                // Bind C1 as real mode does (a modified C1 yields a wrong Z there).
                if !ct_eq(&self.oracle.kem_c1(&key.id(), &pt, k), c1) {
                    return Err(CryptoError::UnwrapFailed);
                }
                Ok(pt)
            }
        }
    }

    /// AES key wrap (RFC 3394) of `key_material` under a symmetric KEK (e.g. UDK, Master Key).
    pub fn wrap(
        &self,
        ops: &mut OpCounter,
        kek: &SymKey,
        key_material: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        prim::check_wrap_input(key_material.len())?;
        ops.record(Op::key_wrap(key_material.len()));
        match self.mode {
            CryptoMode::Real => prim::aes_wrap(kek, key_material),
            CryptoMode::Symbolic => Ok(self.oracle.wrap(&kek.words(), key_material)),
        }
    }

    /// AES key unwrap with integrity check; `UnwrapFailed` for a wrong KEK.
    pub fn unwrap(
        &self,
        ops: &mut OpCounter,
        kek: &SymKey,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        ops.record(Op::key_unwrap(wrapped.len()));
        match self.mode {
            CryptoMode::Real => prim::aes_unwrap(kek, wrapped),
            CryptoMode::Symbolic => self.oracle.unwrap(&kek.words(), wrapped),
        }
    }

    // ----- bulk encryption -----

    /// AES-128-CBC/PKCS#7 with a random IV prefixed to the output (seed 004 §11.4.2).
    pub fn cbc_encrypt(
        &self,
        ops: &mut OpCounter,
        rng: &mut dyn RngCore,
        key: &SymKey,
        plaintext: &[u8],
    ) -> Vec<u8> {
        ops.record(Op::aes_cbc(plaintext.len()));
        let mut iv = [0u8; 16];
        // Drawn in both modes so the caller's stream advances identically.
        rng.fill_bytes(&mut iv);
        match self.mode {
            CryptoMode::Real => prim::aes_cbc_encrypt(key, &iv, plaintext),
            CryptoMode::Symbolic => self.oracle.cbc_encrypt(key, plaintext),
        }
    }

    /// Inverse of [`Crypto::cbc_encrypt`]; `DecryptFailed` on wrong key/padding.
    pub fn cbc_decrypt(
        &self,
        ops: &mut OpCounter,
        key: &SymKey,
        data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        ops.record(Op::aes_cbc(data.len().saturating_sub(16)));
        match self.mode {
            CryptoMode::Real => prim::aes_cbc_decrypt(key, data),
            CryptoMode::Symbolic => self.oracle.cbc_decrypt(key, data),
        }
    }

    // ----- hashes and derivations (real in both modes: cheap, and identities must be stable) -----

    /// SHA-1 of `data`.
    pub fn sha1(&self, ops: &mut OpCounter, data: &[u8]) -> [u8; 20] {
        ops.record(Op::sha1(data.len()));
        prim::sha1(data)
    }

    /// SHA-256 of `data`.
    pub fn sha256(&self, ops: &mut OpCounter, data: &[u8]) -> [u8; 32] {
        ops.record(Op::sha256(data.len()));
        prim::sha256(data)
    }

    /// KDF2-SHA1(z, out_len) with empty otherInfo.
    pub fn kdf2_sha1(&self, ops: &mut OpCounter, z: &[u8], out_len: usize) -> Vec<u8> {
        for _ in 0..prim::kdf2_blocks(out_len) {
            ops.record(Op::sha1(z.len() + 4));
        }
        prim::kdf2_sha1(z, out_len)
    }

    /// One step back on the UDK hash chain: K(g−1) = KDF2-SHA1(K(g), 16).
    pub fn udk_previous(&self, ops: &mut OpCounter, udk: &SymKey) -> SymKey {
        ops.record(Op::sha1(SYM_KEY_LEN + 4));
        let out = prim::kdf2_sha1(&udk.0, 16);
        let mut k = [0u8; 16];
        k.copy_from_slice(&out);
        SymKey(k)
    }

    /// The UDK of generation `g` from the newest UDK (generation `newest_gen`), applying the
    /// hash chain `newest_gen − g` times ([DRM-DRM-v2.1] hash chain; seed 000 §7.4.2).
    pub fn udk_for_generation(
        &self,
        ops: &mut OpCounter,
        newest: &SymKey,
        newest_gen: u32,
        g: u32,
    ) -> Result<SymKey, CryptoError> {
        if g > newest_gen || newest_gen > MAX_UDK_GENERATION {
            return Err(CryptoError::GenerationOutOfRange {
                requested: g,
                newest: newest_gen,
            });
        }
        let mut k = *newest;
        for _ in g..newest_gen {
            k = self.udk_previous(ops, &k);
        }
        Ok(k)
    }
}

const SYM_KEY_LEN: usize = super::keys::SYM_KEY_BYTES;

fn hash_for(alg: SigAlg, bytes: &[u8]) -> Vec<u8> {
    match alg {
        SigAlg::RsaPssSha1 => Sha1::digest(bytes).to_vec(),
        SigAlg::RsaPssSha256 => Sha256::digest(bytes).to_vec(),
    }
}
