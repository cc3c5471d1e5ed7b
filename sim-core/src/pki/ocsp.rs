//! Revocation: the authoritative revocation list of the simulated CAs, and OCSP responses
//! (status good/revoked, producedAt, nonce, responder signature).
//!
//! An OCSP response is an RFC 6960 BasicOCSPResponse with one SingleResponse, DER-encoded with
//! the `x509-ocsp` types (`ocsp_der.rs`) in both crypto modes, so PDU sizes agree; real mode
//! signs the DER ResponseData with RSASSA-PSS-SHA1 (`docs/crypto.md`, *OCSP*).

use std::collections::BTreeMap;

use crate::crypto::{
    digest_bytes, Crypto, CryptoError, DigestHasher, OpCounter, PrivateKey, SigAlg, Signable,
};
use crate::engine::time::{SimTime, NS_PER_S};

use super::cert::{key_hash, name_hash, Certificate};

fn floor_secs(t: SimTime) -> SimTime {
    SimTime::from_ns(t.as_ns() - t.as_ns() % NS_PER_S)
}

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
    pub(super) fn code(self) -> (u64, u64) {
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

/// RFC 6960 CertID of one certificate, hash algorithm SHA-1: SHA-1 of the DER issuer Name,
/// SHA-1 of the issuer's subjectPublicKey BIT STRING value, and the serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertId {
    /// SHA-1 of the DER encoding of the issuer's Name (`O=drmsim, CN=<issuer>`).
    pub issuer_name_hash: [u8; 20],
    /// SHA-1 of the issuer's public key (BIT STRING contents; [`key_hash`]).
    pub issuer_key_hash: [u8; 20],
    /// Serial number of the certificate asked about.
    pub serial: u64,
}

impl CertId {
    /// The CertID of `cert`, issued by `issuer`.
    pub fn of(cert: &Certificate, issuer: &Certificate) -> CertId {
        CertId {
            issuer_name_hash: name_hash(cert.issuer()),
            issuer_key_hash: key_hash(issuer.public_key()),
            serial: cert.serial(),
        }
    }
}

/// A signed OCSP response for one certificate: the fields of an RFC 6960 BasicOCSPResponse
/// with one SingleResponse. On the wire it is DER (`to_der`/`from_der`, `ocsp_der.rs`) in
/// both crypto modes; real mode signs the DER `ResponseData` with RSA-PSS-SHA1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OcspResponse {
    /// ResponderID byKey: SHA-1 of the responder's public key ([`key_hash`]).
    pub responder_key_hash: [u8; 20],
    /// The certificate asked about.
    pub cert_id: CertId,
    /// Its status.
    pub status: CertStatus,
    /// When the response was produced (whole seconds: GeneralizedTime), also `thisUpdate`.
    pub produced_at: SimTime,
    /// The requester's nonce, echoed in the id-pkix-ocsp-nonce extension (RFC 8954).
    pub nonce: Option<Vec<u8>>,
    /// Responder signature (RSA-PSS-SHA1) over the DER `ResponseData`.
    pub signature: Vec<u8>,
}

impl OcspResponse {
    /// DER size of the response (exact for the shapes this simulator produces).
    pub fn encoded_len(&self) -> usize {
        self.to_der().map_or(0, |d| d.len())
    }

    /// Whether this response is about `cert` (serial and issuer name hash; the issuer key
    /// hash is checked during chain validation, where the issuer certificate is known).
    pub fn is_about(&self, cert: &Certificate) -> bool {
        self.cert_id.serial == cert.serial()
            && self.cert_id.issuer_name_hash == name_hash(cert.issuer())
    }
}

impl Signable for OcspResponse {
    fn signed_bytes(&self) -> Vec<u8> {
        // The DER ResponseData (RFC 6960 §4.2.1 tbsResponseData). Encoding only fails for
        // values no decoder accepts; an empty message then fails verification.
        self.response_data_der().unwrap_or_default()
    }
    fn symbolic_digest(&self) -> u64 {
        use std::hash::Hasher;
        let mut h = DigestHasher::new();
        h.word(0x6f63_7370); // "ocsp"
        h.write(&self.responder_key_hash);
        h.write(&self.cert_id.issuer_name_hash);
        h.write(&self.cert_id.issuer_key_hash);
        h.word(self.cert_id.serial);
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
        // Structural size of the DER ResponseData (same in both modes): responderID 24,
        // producedAt 17, CertID 70, status 2 (+19 revoked), thisUpdate 17, nonce 17 + len.
        let status = if matches!(self.status, CertStatus::Revoked { .. }) {
            21
        } else {
            2
        };
        let nonce = self.nonce.as_ref().map_or(0, |n| 21 + n.len());
        8 + 24 + 17 + 74 + status + 17 + nonce
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

    /// A signed `unknown` response (RFC 6960 §2.2: "the responder doesn't know about the
    /// certificate being requested") on serial `serial` of `issuer` (named `issuer_name`), at
    /// `now`, echoing `nonce`.
    #[allow(clippy::too_many_arguments)]
    pub fn respond_unknown(
        &self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        issuer_name: &str,
        issuer: &Certificate,
        serial: u64,
        now: SimTime,
        nonce: Option<&[u8]>,
    ) -> Result<OcspResponse, CryptoError> {
        let mut r = OcspResponse {
            responder_key_hash: key_hash(self.key.public()),
            cert_id: CertId {
                issuer_name_hash: name_hash(issuer_name),
                issuer_key_hash: key_hash(issuer.public_key()),
                serial,
            },
            status: CertStatus::Unknown,
            produced_at: floor_secs(now),
            nonce: nonce.map(<[u8]>::to_vec),
            signature: Vec::new(),
        };
        r.signature = crypto.sign(ops, &self.key, SigAlg::RsaPssSha1, &r)?;
        Ok(r)
    }

    /// A signed response on `cert`'s status (issued by `issuer`) in `list` at `now`, echoing
    /// `nonce`.
    #[allow(clippy::too_many_arguments)]
    pub fn respond(
        &self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        list: &RevocationList,
        cert: &Certificate,
        issuer: &Certificate,
        now: SimTime,
        nonce: Option<&[u8]>,
    ) -> Result<OcspResponse, CryptoError> {
        // GeneralizedTime carries whole seconds: round here so both modes hold what DER holds.
        let status = match list.status(cert.issuer(), cert.serial(), now) {
            CertStatus::Revoked { at } => CertStatus::Revoked { at: floor_secs(at) },
            s => s,
        };
        let mut r = OcspResponse {
            responder_key_hash: key_hash(self.key.public()),
            cert_id: CertId::of(cert, issuer),
            status,
            produced_at: floor_secs(now),
            nonce: nonce.map(<[u8]>::to_vec),
            signature: Vec::new(),
        };
        r.signature = crypto.sign(ops, &self.key, SigAlg::RsaPssSha1, &r)?;
        Ok(r)
    }
}
