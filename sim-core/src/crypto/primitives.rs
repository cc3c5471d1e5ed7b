//! Real-mode primitives: KDF2-SHA1, AES key wrap (RFC 3394), AES-128-CBC with prefixed IV,
//! HMAC, RSA-PSS and the raw RSA operations of RSA-KEM. Stateless; cost accounting is done by
//! the facade.

use aes::Aes128;
use aes_kw::KekAes128;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use rand::RngCore;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::error::CryptoError;
use super::keys::SymKey;

/// AES block size; also the length of the IV prefixed to AES-CBC ciphertexts.
pub const AES_BLOCK_BYTES: usize = 16;
/// Bytes added by RFC 3394 key wrap.
pub const KEY_WRAP_OVERHEAD_BYTES: usize = 8;

/// SHA-1 of `data`.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// KDF2 (ISO 18033-2 / ANSI X9.44) with SHA-1 and empty otherInfo, as used by OMA DRM 2
/// RSAES-KEM-KDF2-KW-AES128 and the UDK hash chain:
/// `T = SHA1(Z ‖ I2OSP(1,4)) ‖ SHA1(Z ‖ I2OSP(2,4)) ‖ …`, truncated to `out_len`.
pub fn kdf2_sha1(z: &[u8], out_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(out_len + 20);
    let mut counter: u32 = 1;
    while out.len() < out_len {
        let mut h = Sha1::new();
        h.update(z);
        h.update(counter.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        counter = counter.wrapping_add(1);
    }
    out.truncate(out_len);
    out
}

/// Number of SHA-1 blocks KDF2 computes for `out_len` bytes.
pub fn kdf2_blocks(out_len: usize) -> usize {
    out_len.div_ceil(20)
}

/// AES-128 key wrap (RFC 3394, default IV A6A6…). `key_material` must be a multiple of 8 bytes
/// and at least 16.
pub fn aes_wrap(kek: &SymKey, key_material: &[u8]) -> Result<Vec<u8>, CryptoError> {
    check_wrap_input(key_material.len())?;
    KekAes128::from(kek.0)
        .wrap_vec(key_material)
        .map_err(|_| CryptoError::InvalidLength {
            what: "key material to wrap",
            len: key_material.len(),
        })
}

/// AES-128 key unwrap with the RFC 3394 integrity check.
pub fn aes_unwrap(kek: &SymKey, wrapped: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err(CryptoError::InvalidLength {
            what: "wrapped key",
            len: wrapped.len(),
        });
    }
    KekAes128::from(kek.0)
        .unwrap_vec(wrapped)
        .map_err(|_| CryptoError::UnwrapFailed)
}

pub(crate) fn check_wrap_input(len: usize) -> Result<(), CryptoError> {
    if len < 16 || !len.is_multiple_of(8) {
        return Err(CryptoError::InvalidLength {
            what: "key material to wrap",
            len,
        });
    }
    Ok(())
}

/// AES-128-CBC with PKCS#7 padding; the 16-byte IV is prefixed to the ciphertext
/// (seed 004 §11.4.2: "Extract the IV which is prefixed to the encrypted data").
pub fn aes_cbc_encrypt(key: &SymKey, iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let enc = cbc::Encryptor::<Aes128>::new(&key.0.into(), iv.into());
    let ct = enc.encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let mut out = Vec::with_capacity(16 + ct.len());
    out.extend_from_slice(iv);
    out.extend_from_slice(&ct);
    out
}

/// Inverse of [`aes_cbc_encrypt`]; fails on bad length or bad padding.
pub fn aes_cbc_decrypt(key: &SymKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    check_cbc_len(data.len())?;
    let (iv, ct) = data.split_at(AES_BLOCK_BYTES);
    let iv: [u8; 16] = iv.try_into().map_err(|_| CryptoError::DecryptFailed)?;
    let dec = cbc::Decryptor::<Aes128>::new(&key.0.into(), &iv.into());
    dec.decrypt_padded_vec_mut::<Pkcs7>(ct)
        .map_err(|_| CryptoError::DecryptFailed)
}

pub(crate) fn check_cbc_len(len: usize) -> Result<(), CryptoError> {
    if len < 2 * AES_BLOCK_BYTES || !len.is_multiple_of(AES_BLOCK_BYTES) {
        return Err(CryptoError::InvalidLength {
            what: "AES-CBC ciphertext",
            len,
        });
    }
    Ok(())
}

/// Length of an AES-CBC output (IV + padded ciphertext) for `plaintext_len` bytes.
pub fn aes_cbc_output_len(plaintext_len: usize) -> usize {
    AES_BLOCK_BYTES + (plaintext_len / AES_BLOCK_BYTES + 1) * AES_BLOCK_BYTES
}

/// HMAC-SHA1 of `data`.
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    // HMAC accepts keys of any length, so new_from_slice cannot fail.
    let mut m = <Hmac<Sha1> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data);
    m.finalize().into_bytes().into()
}

/// HMAC-SHA256 of `data`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data);
    m.finalize().into_bytes().into()
}

/// Constant-time-style equality (timing is not observable in a simulation, but it costs nothing).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// I2OSP: big-endian, left-padded to `len` bytes.
pub(crate) fn i2osp(x: &BigUint, len: usize) -> Result<Vec<u8>, CryptoError> {
    let b = x.to_bytes_be();
    if b.len() > len {
        return Err(CryptoError::Rsa("integer too large for I2OSP".into()));
    }
    let mut out = vec![0u8; len - b.len()];
    out.extend_from_slice(&b);
    Ok(out)
}

/// RSA-KEM encapsulation (OMA DRM 2 §7.1 RSAES-KEM-KDF2-KW-AES128, ISO 18033-2 RSA-KEM):
/// draws Z uniformly in [1, n−1], returns `(C1 = I2OSP(Z^e mod n, k), Z as k octets)`.
pub fn rsa_kem_encapsulate(
    key: &RsaPublicKey,
    rng: &mut dyn RngCore,
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let n = key.n();
    let k = key.size();
    let top_bits = n.bits() % 8;
    let mut buf = vec![0u8; k];
    // Rejection sampling; each attempt succeeds with probability > 1/2, so 128 attempts fail
    // with probability < 2^-128.
    for _ in 0..128 {
        rng.fill_bytes(&mut buf);
        if top_bits != 0 {
            buf[0] &= (1u8 << top_bits) - 1;
        }
        let z = BigUint::from_bytes_be(&buf);
        if z >= *n || z == BigUint::from(0u8) {
            continue;
        }
        let c = z.modpow(key.e(), n);
        return Ok((i2osp(&c, k)?, i2osp(&z, k)?));
    }
    Err(CryptoError::Rsa("could not sample Z".into()))
}

/// RSA-KEM decapsulation: Z = I2OSP(C1^d mod n, k). Fails if C1 ≥ n or has the wrong length.
pub fn rsa_kem_decapsulate(key: &RsaPrivateKey, c1: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let k = key.size();
    if c1.len() != k {
        return Err(CryptoError::InvalidLength {
            what: "RSA-KEM C1",
            len: c1.len(),
        });
    }
    let c = BigUint::from_bytes_be(c1);
    if c >= *key.n() {
        return Err(CryptoError::DecryptFailed);
    }
    let z = rsa_raw_decrypt(key, &c)?;
    i2osp(&z, k)
}

/// Raw RSA private operation via CRT, checked by re-encryption.
///
/// No blinding: a simulator has no timing side channel to protect (RUSTSEC-2023-0071 does not
/// apply). The `rsa` crate's `hazmat` feature is not enabled in this workspace, hence this
/// small CRT implementation over its public key parts.
fn rsa_raw_decrypt(key: &RsaPrivateKey, c: &BigUint) -> Result<BigUint, CryptoError> {
    let primes = key.primes();
    let m = if primes.len() == 2 {
        let (p, q) = (&primes[0], &primes[1]);
        let one = BigUint::from(1u8);
        let two = BigUint::from(2u8);
        // Precomputed CRT values when the key has them (keys from RsaPrivateKey::new and
        // PKCS#8 do); otherwise derive them, q^-1 mod p by Fermat (p is prime).
        let dp = key.dp().cloned().unwrap_or_else(|| key.d() % (p - &one));
        let dq = key.dq().cloned().unwrap_or_else(|| key.d() % (q - &one));
        let qinv = key
            .qinv()
            .and_then(|x| x.to_biguint())
            .map(|x| x % p)
            .unwrap_or_else(|| q.modpow(&(p - &two), p));
        let m1 = c.modpow(&dp, p);
        let m2 = c.modpow(&dq, q);
        let diff = ((&m1 + p) - (&m2 % p)) % p;
        let h = (diff * qinv) % p;
        m2 + h * q
    } else {
        c.modpow(key.d(), key.n())
    };
    if m.modpow(key.e(), key.n()) != *c {
        return Err(CryptoError::DecryptFailed);
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kdf2_counter_starts_at_one() {
        let mut z = b"Z".to_vec();
        z.extend_from_slice(&1u32.to_be_bytes());
        assert_eq!(kdf2_sha1(b"Z", 16), sha1(&z)[..16].to_vec());
        let long = kdf2_sha1(b"Z", 45);
        assert_eq!(long.len(), 45);
        assert_eq!(&long[..16], &kdf2_sha1(b"Z", 16)[..]);
    }

    #[test]
    fn cbc_round_trip_and_lengths() {
        let key = SymKey([7u8; 16]);
        for len in [0usize, 1, 15, 16, 17, 100] {
            let pt = vec![0xabu8; len];
            let ct = aes_cbc_encrypt(&key, &[1u8; 16], &pt);
            assert_eq!(ct.len(), aes_cbc_output_len(len));
            assert_eq!(&ct[..16], &[1u8; 16]);
            assert_eq!(aes_cbc_decrypt(&key, &ct).unwrap(), pt);
        }
        assert!(aes_cbc_decrypt(&key, &[0u8; 17]).is_err());
    }
}
