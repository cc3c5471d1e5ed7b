//! Certificates and OCSP responses as PDU field octets.
//!
//! Real mode puts DER certificates in `<certificateChain>`; symbolic mode puts a handle
//! (`drmsim-symcert:` + subject) that only resolves to a certificate the simulated CA issued,
//! which is the Dolev–Yao reading of "certificates cannot be forged". OCSP responses travel
//! in a compact binary form carrying every field the responder signs (documented below),
//! standing in for the RFC 6960 DER, which carries the same fields.

use crate::crypto::{CryptoMode, KeyId};
use crate::engine::SimTime;
use crate::pdu::CertificateChain;
use crate::pki::{CertStatus, Certificate, OcspResponse};
use std::collections::BTreeMap;

const SYM_PREFIX: &[u8] = b"drmsim-symcert:";
const OCSP_MAGIC: &[u8] = b"DRMSIM-OCSP1";
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

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// Encodes an OCSP response: magic ‖ responderID(20) ‖ issuer ‖ serial(8) ‖ status(1)
/// ‖ revokedAt(8) ‖ producedAt(8) ‖ hasNonce(1) ‖ nonce ‖ signature, variable fields
/// length-prefixed with 2 bytes.
pub fn encode_ocsp(r: &OcspResponse) -> Vec<u8> {
    let mut out = Vec::with_capacity(80 + r.issuer.len() + r.signature.len());
    out.extend_from_slice(OCSP_MAGIC);
    out.extend_from_slice(r.responder_id.as_bytes());
    put_bytes(&mut out, r.issuer.as_bytes());
    out.extend_from_slice(&r.serial.to_be_bytes());
    let (code, at) = match r.status {
        CertStatus::Good => (0u8, 0u64),
        CertStatus::Revoked { at } => (1, at.as_ns()),
        CertStatus::Unknown => (2, 0),
    };
    out.push(code);
    out.extend_from_slice(&at.to_be_bytes());
    out.extend_from_slice(&r.produced_at.as_ns().to_be_bytes());
    match &r.nonce {
        Some(n) => {
            out.push(1);
            put_bytes(&mut out, n);
        }
        None => out.push(0),
    }
    put_bytes(&mut out, &r.signature);
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::BadOcsp("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes(b.try_into().expect("8 bytes")))
    }
    fn var(&mut self) -> Result<&'a [u8], WireError> {
        let b = self.take(2)?;
        let n = u16::from_be_bytes([b[0], b[1]]) as usize;
        self.take(n)
    }
}

/// Decodes what [`encode_ocsp`] wrote; never panics on hostile input.
pub fn decode_ocsp(bytes: &[u8]) -> Result<OcspResponse, WireError> {
    if bytes.len() > MAX_OCSP_BYTES {
        return Err(WireError::BadOcsp("too long"));
    }
    let mut r = Reader(bytes);
    if r.take(OCSP_MAGIC.len())? != OCSP_MAGIC {
        return Err(WireError::BadOcsp("bad magic"));
    }
    let responder_id = KeyId(r.take(20)?.try_into().expect("20 bytes"));
    let issuer =
        String::from_utf8(r.var()?.to_vec()).map_err(|_| WireError::BadOcsp("issuer not UTF-8"))?;
    let serial = r.u64()?;
    let code = r.u8()?;
    let at = r.u64()?;
    let status = match code {
        0 => CertStatus::Good,
        1 => CertStatus::Revoked {
            at: SimTime::from_ns(at),
        },
        2 => CertStatus::Unknown,
        _ => return Err(WireError::BadOcsp("bad status")),
    };
    let produced_at = SimTime::from_ns(r.u64()?);
    let nonce = match r.u8()? {
        0 => None,
        1 => Some(r.var()?.to_vec()),
        _ => return Err(WireError::BadOcsp("bad nonce flag")),
    };
    let signature = r.var()?.to_vec();
    if !r.0.is_empty() {
        return Err(WireError::BadOcsp("trailing bytes"));
    }
    Ok(OcspResponse {
        responder_id,
        issuer,
        serial,
        status,
        produced_at,
        nonce,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ocsp_round_trip_and_hostile_input() {
        let r = OcspResponse {
            responder_id: KeyId([7; 20]),
            issuer: "root".into(),
            serial: 42,
            status: CertStatus::Revoked {
                at: SimTime::from_secs(3),
            },
            produced_at: SimTime::from_secs(9),
            nonce: Some(vec![1, 2, 3]),
            signature: vec![9; 128],
        };
        let b = encode_ocsp(&r);
        assert_eq!(decode_ocsp(&b).unwrap(), r);
        for cut in 0..b.len() {
            assert!(decode_ocsp(&b[..cut]).is_err());
        }
        let mut extra = b.clone();
        extra.push(0);
        assert!(decode_ocsp(&extra).is_err());
    }
}
