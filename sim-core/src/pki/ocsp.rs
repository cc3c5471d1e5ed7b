//! Revocation: the authoritative revocation list of the simulated CAs, and OCSP responses
//! (status good/revoked, producedAt, nonce, responder signature).
//!
//! The OCSP response is this simulator's own structure (a subset of RFC 6960 BasicOCSPResponse:
//! one SingleResponse, certificate identified by issuer name and serial number), signed with
//! RSA-PSS-SHA1 over a canonical, length-prefixed byte encoding in real mode. It is not DER
//! OCSP; `docs/crypto.md` says why (no OCSP crate in the dependency family).

use std::collections::BTreeMap;

use crate::crypto::{
    digest_bytes, Crypto, CryptoError, DigestHasher, KeyId, OpCounter, PrivateKey, SigAlg, Signable,
};
use crate::engine::time::SimTime;

use super::cert::Certificate;

/// Bound on the number of entries of a [`RevocationList`].
pub const MAX_REVOKED: usize = 1 << 20;

/// Revocation status of one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked at the given time.
    Revoked {
        /// Revocation time.
        at: SimTime,
    },
    /// The responder does not know the certificate.
    Unknown,
}

impl CertStatus {
    fn code(self) -> (u64, u64) {
        match self {
            CertStatus::Good => (0, 0),
            CertStatus::Revoked { at } => (1, at.as_ns()),
            CertStatus::Unknown => (2, 0),
        }
    }
}

/// Revoked certificates, keyed by (issuer name, serial).
#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    revoked: BTreeMap<(String, u64), SimTime>,
}

impl RevocationList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes `cert` as of `at`. Returns false if it was already revoked or the list is full.
    pub fn revoke(&mut self, cert: &Certificate, at: SimTime) -> bool {
        let key = (cert.issuer().to_string(), cert.serial());
        if self.revoked.contains_key(&key) || self.revoked.len() >= MAX_REVOKED {
            return false;
        }
        self.revoked.insert(key, at);
        true
    }

    /// Status of (issuer, serial) at time `now` (revocations in the future do not count yet).
    pub fn status(&self, issuer: &str, serial: u64, now: SimTime) -> CertStatus {
        match self.revoked.get(&(issuer.to_string(), serial)) {
            Some(&at) if at <= now => CertStatus::Revoked { at },
            _ => CertStatus::Good,
        }
    }

    /// Number of revoked certificates.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }
}

/// A signed OCSP response for one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OcspResponse {
    /// Key id of the responder (SHA-1 of its SPKI, the RFC 6960 byKey ResponderID).
    pub responder_id: KeyId,
    /// Issuer name of the certificate asked about.
    pub issuer: String,
    /// Serial number of the certificate asked about.
    pub serial: u64,
    /// Its status.
    pub status: CertStatus,
    /// When the response was produced.
    pub produced_at: SimTime,
    /// The requester's nonce, echoed (replay protection).
    pub nonce: Option<Vec<u8>>,
    /// Responder signature (RSA-PSS-SHA1) over everything above.
    pub signature: Vec<u8>,
}

impl OcspResponse {
    /// Approximate DER size of the equivalent RFC 6960 response (for PDU sizing).
    pub fn encoded_len(&self) -> usize {
        120 + self.issuer.len()
            + self.nonce.as_ref().map_or(0, |n| n.len() + 8)
            + self.signature.len()
    }
}

impl Signable for OcspResponse {
    fn signed_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(96 + self.issuer.len());
        v.extend_from_slice(b"drmsim-ocsp-v1");
        v.extend_from_slice(self.responder_id.as_bytes());
        v.extend_from_slice(&(self.issuer.len() as u64).to_be_bytes());
        v.extend_from_slice(self.issuer.as_bytes());
        v.extend_from_slice(&self.serial.to_be_bytes());
        let (code, at) = self.status.code();
        v.extend_from_slice(&code.to_be_bytes());
        v.extend_from_slice(&at.to_be_bytes());
        v.extend_from_slice(&self.produced_at.as_ns().to_be_bytes());
        match &self.nonce {
            Some(n) => {
                v.push(1);
                v.extend_from_slice(&(n.len() as u64).to_be_bytes());
                v.extend_from_slice(n);
            }
            None => v.push(0),
        }
        v
    }
    fn symbolic_digest(&self) -> u64 {
        use std::hash::Hasher;
        let mut h = DigestHasher::new();
        h.word(0x6f63_7370); // "ocsp"
        h.write(self.responder_id.as_bytes());
        h.word(digest_bytes(self.issuer.as_bytes()));
        h.word(self.serial);
        let (code, at) = self.status.code();
        h.word(code);
        h.word(at);
        h.word(self.produced_at.as_ns());
        match &self.nonce {
            Some(n) => {
                h.word(1);
                h.word(digest_bytes(n));
            }
            None => h.word(0),
        }
        h.finish()
    }
    fn signed_len(&self) -> usize {
        14 + 20 + 8 + self.issuer.len() + 8 + 16 + 8 + 9 + self.nonce.as_ref().map_or(0, Vec::len)
    }
}

/// An OCSP responder: a key certified with `id-kp-OCSPSigning`.
#[derive(Debug, Clone)]
pub struct OcspResponder {
    cert: Certificate,
    key: PrivateKey,
}

impl OcspResponder {
    /// A responder using `key`, certified by `cert`.
    pub fn new(cert: Certificate, key: PrivateKey) -> Self {
        OcspResponder { cert, key }
    }

    /// The responder's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// A signed response on `cert`'s status in `list` at `now`, echoing `nonce`.
    pub fn respond(
        &self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        list: &RevocationList,
        cert: &Certificate,
        now: SimTime,
        nonce: Option<&[u8]>,
    ) -> Result<OcspResponse, CryptoError> {
        let mut r = OcspResponse {
            responder_id: self.key.id(),
            issuer: cert.issuer().to_string(),
            serial: cert.serial(),
            status: list.status(cert.issuer(), cert.serial(), now),
            produced_at: now,
            nonce: nonce.map(<[u8]>::to_vec),
            signature: Vec::new(),
        };
        r.signature = crypto.sign(ops, &self.key, SigAlg::RsaPssSha1, &r)?;
        Ok(r)
    }
}
