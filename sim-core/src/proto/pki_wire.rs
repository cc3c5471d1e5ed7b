//! Certificates and OCSP responses as PDU field octets.
//!
//! Real mode puts DER certificates in `<certificateChain>`; symbolic mode puts a handle
//! (`drmsim-symcert:` + subject) that only resolves to a certificate the simulated CA issued,
//! which is the Dolev–Yao reading of "certificates cannot be forged". OCSP responses travel
//! as RFC 6960 DER in both modes (`pki/ocsp_der.rs`).

use crate::crypto::CryptoMode;
use crate::pdu::CertificateChain;
use crate::pki::{Certificate, OcspDerError, OcspResponse};
use std::collections::BTreeMap;

const SYM_PREFIX: &[u8] = b"drmsim-symcert:";
/// Longest OCSP response accepted.
pub const MAX_OCSP_BYTES: usize = 8 * 1024;

/// Why certificate or OCSP octets could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A certificate's octets are neither a known handle nor parseable DER.
    #[error("certificate {index} of the chain cannot be decoded")]
    BadCertificate {
        /// Position in the chain.
        index: usize,
    },
    /// An OCSP response's octets are malformed.
    #[error("malformed OCSP response: {0}")]
    BadOcsp(&'static str),
}

/// Every certificate the CA issued, by wire octets, so receivers can resolve symbolic
/// handles and skip re-parsing DER they have already parsed.
#[derive(Debug, Clone, Default)]
pub struct CertDirectory {
    by_bytes: BTreeMap<Vec<u8>, Certificate>,
}

impl CertDirectory {
    /// Wire octets of `cert` in `mode`.
    pub fn cert_bytes(mode: CryptoMode, cert: &Certificate) -> Vec<u8> {
        match (mode, cert.der()) {
            (CryptoMode::Real, Some(der)) => der.to_vec(),
            _ => [SYM_PREFIX, cert.subject().as_bytes()].concat(),
        }
    }

    /// Every registered certificate, in wire-octet order.
    pub fn certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.by_bytes.values()
    }

    /// Registers an issued certificate.
    pub fn register(&mut self, mode: CryptoMode, cert: &Certificate) {
        self.by_bytes
            .insert(Self::cert_bytes(mode, cert), cert.clone());
    }

    /// The `<certificateChain>` for `chain`.
    pub fn encode_chain(mode: CryptoMode, chain: &[Certificate]) -> CertificateChain {
        CertificateChain {
            certificates: chain.iter().map(|c| Self::cert_bytes(mode, c)).collect(),
        }
    }

    /// Decodes a received chain. Unknown DER is parsed (so a tampered certificate reaches
    /// signature validation and fails there); unknown symbolic handles are undecodable.
    pub fn decode_chain(
        &self,
        mode: CryptoMode,
        chain: &CertificateChain,
    ) -> Result<Vec<Certificate>, WireError> {
        chain
            .certificates
            .iter()
            .enumerate()
            .map(|(index, bytes)| {
                if let Some(c) = self.by_bytes.get(bytes) {
                    return Ok(c.clone());
                }
                match mode {
                    CryptoMode::Real => Certificate::from_der(bytes)
                        .map_err(|_| WireError::BadCertificate { index }),
                    CryptoMode::Symbolic => Err(WireError::BadCertificate { index }),
                }
            })
            .collect()
    }
}

/// Encodes an OCSP response as RFC 6960 DER (both crypto modes: the same octets and sizes).
pub fn encode_ocsp(r: &OcspResponse) -> Result<Vec<u8>, WireError> {
    r.to_der()
        .map_err(|_| WireError::BadOcsp("unencodable response"))
}

/// Decodes a DER OCSP response; never panics on hostile input.
pub fn decode_ocsp(bytes: &[u8]) -> Result<OcspResponse, WireError> {
    if bytes.len() > MAX_OCSP_BYTES {
        return Err(WireError::BadOcsp("too long"));
    }
    OcspResponse::from_der(bytes).map_err(|e| {
        WireError::BadOcsp(match e {
            OcspDerError::Malformed(_) => "malformed DER",
            OcspDerError::Unsupported(why) => why,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;
    use crate::pki::{CertId, CertStatus};

    #[test]
    fn ocsp_round_trip_and_hostile_input() {
        let r = OcspResponse {
            responder_key_hash: [7; 20],
            cert_id: CertId {
                issuer_name_hash: [1; 20],
                issuer_key_hash: [2; 20],
                serial: 42,
            },
            status: CertStatus::Revoked {
                at: SimTime::from_secs(3),
            },
            produced_at: SimTime::from_secs(9),
            nonce: Some(vec![1, 2, 3]),
            signature: vec![9; 128],
        };
        let b = encode_ocsp(&r).unwrap();
        assert_eq!(b[0], 0x30, "DER SEQUENCE");
        assert_eq!(decode_ocsp(&b).unwrap(), r);
        for cut in 0..b.len() {
            assert!(decode_ocsp(&b[..cut]).is_err());
        }
        let mut extra = b.clone();
        extra.push(0);
        assert!(decode_ocsp(&extra).is_err());
    }
}
