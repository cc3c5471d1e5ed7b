//! RFC 6960 DER encoding of [`OcspResponse`] with the RustCrypto `x509-ocsp` types.
//!
//! Shape (the only one produced and accepted): `OCSPResponse { successful, responseBytes {
//! id-pkix-ocsp-basic, BasicOCSPResponse { tbsResponseData { version v1 (omitted),
//! responderID byKey, producedAt, responses [one SingleResponse { certID (SHA-1),
//! certStatus, thisUpdate = producedAt }], responseExtensions [id-pkix-ocsp-nonce] when a
//! nonce was asked }, signatureAlgorithm id-RSASSA-PSS (default parameters: SHA-1,
//! MGF1-SHA1, salt 20, trailer 1), signature } } }`. No `certs`: verifiers know the
//! responder certificate (the trust store; `pki/ocsp-0.pem` in a PDU capture).
//!
//! Decoding is strict: anything the simulator would not itself produce (other hash or
//! signature algorithms, several SingleResponses, nextUpdate, unknown extensions) is refused,
//! and the received ResponseData must be byte-identical to the re-encoding of the decoded
//! fields, so the signature is checked over exactly the bytes that were sent.

use std::time::Duration;

use der::asn1::{GeneralizedTime, Null, ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode, Tag};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;
use x509_ocsp::{
    AsResponseBytes, BasicOcspResponse, CertStatus as DerStatus, OcspGeneralizedTime,
    OcspResponse as DerResponse, OcspResponseStatus, ResponderId, ResponseData, RevokedInfo,
    SingleResponse, Version,
};

use super::cert::{strip_leading_zeros, PKI_EPOCH_UNIX_SECS};
use super::ocsp::{CertId, CertStatus, OcspResponse};
use crate::engine::time::{SimTime, NS_PER_S};

/// id-RSASSA-PSS (RFC 4055).
const OID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// id-sha1.
const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
/// id-pkix-ocsp-nonce.
const OID_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// id-pkix-ocsp-basic.
const OID_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");

/// Why OCSP octets were refused (hostile or foreign input; never fatal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcspDerError {
    /// Not well-formed DER of an OCSPResponse.
    #[error("malformed OCSP DER: {0}")]
    Malformed(String),
    /// Well-formed, but not a shape this simulator accepts.
    #[error("unsupported OCSP response: {0}")]
    Unsupported(&'static str),
}

fn malformed(e: der::Error) -> OcspDerError {
    OcspDerError::Malformed(e.to_string())
}

fn to_time(t: SimTime) -> Result<OcspGeneralizedTime, der::Error> {
    let secs = PKI_EPOCH_UNIX_SECS.saturating_add(t.as_ns() / NS_PER_S);
    Ok(OcspGeneralizedTime(GeneralizedTime::from_unix_duration(
        Duration::from_secs(secs),
    )?))
}

fn from_time(t: &OcspGeneralizedTime) -> Result<SimTime, OcspDerError> {
    let secs = t.0.to_unix_duration().as_secs();
    let since = secs
        .checked_sub(PKI_EPOCH_UNIX_SECS)
        .ok_or(OcspDerError::Unsupported("time before the PKI epoch"))?;
    since
        .checked_mul(NS_PER_S)
        .map(SimTime::from_ns)
        .ok_or(OcspDerError::Unsupported("time out of range"))
}

fn pss_sha1() -> Result<AlgorithmIdentifierOwned, der::Error> {
    // RSASSA-PSS-params with every field at its default (SHA-1, MGF1-SHA1, 20, 1): an empty
    // SEQUENCE (RFC 4055 §3.1).
    Ok(AlgorithmIdentifierOwned {
        oid: OID_RSASSA_PSS,
        parameters: Some(Any::new(Tag::Sequence, Vec::<u8>::new())?),
    })
}

impl OcspResponse {
    fn response_data(&self) -> Result<ResponseData, der::Error> {
        let cert_status = match self.status {
            CertStatus::Good => DerStatus::good(),
            CertStatus::Revoked { at } => DerStatus::revoked(RevokedInfo {
                revocation_time: to_time(at)?,
                revocation_reason: None,
            }),
            CertStatus::Unknown => DerStatus::unknown(),
        };
        let id = &self.cert_id;
        let single = SingleResponse {
            cert_id: x509_ocsp::CertId {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: OID_SHA1,
                    parameters: Some(Null.into()),
                },
                issuer_name_hash: OctetString::new(id.issuer_name_hash.to_vec())?,
                issuer_key_hash: OctetString::new(id.issuer_key_hash.to_vec())?,
                serial_number: SerialNumber::from(id.serial),
            },
            cert_status,
            this_update: to_time(self.produced_at)?,
            next_update: None,
            single_extensions: None,
        };
        let response_extensions = match &self.nonce {
            Some(n) => Some(vec![Extension {
                extn_id: OID_NONCE,
                critical: false,
                // RFC 8954 §2.1: extnValue holds the DER of `Nonce ::= OCTET STRING`.
                extn_value: OctetString::new(OctetString::new(n.clone())?.to_der()?)?,
            }]),
            None => None,
        };
        Ok(ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(OctetString::new(self.responder_key_hash.to_vec())?),
            produced_at: to_time(self.produced_at)?,
            responses: vec![single],
            response_extensions,
        })
    }

    /// DER of the `ResponseData` (what the responder signs).
    pub fn response_data_der(&self) -> Result<Vec<u8>, der::Error> {
        self.response_data()?.to_der()
    }

    /// The complete DER `OCSPResponse`.
    pub fn to_der(&self) -> Result<Vec<u8>, der::Error> {
        let basic = BasicOcspResponse {
            tbs_response_data: self.response_data()?,
            signature_algorithm: pss_sha1()?,
            signature: der::asn1::BitString::from_bytes(&self.signature)?,
            certs: None,
        };
        DerResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(basic.to_response_bytes()?),
        }
        .to_der()
    }

    /// Parses a DER `OCSPResponse` of the shape [`OcspResponse::to_der`] writes. Never panics.
    pub fn from_der(bytes: &[u8]) -> Result<OcspResponse, OcspDerError> {
        let outer = DerResponse::from_der(bytes).map_err(malformed)?;
        if outer.response_status != OcspResponseStatus::Successful {
            return Err(OcspDerError::Unsupported(
                "responseStatus is not successful",
            ));
        }
        let rb = outer
            .response_bytes
            .ok_or(OcspDerError::Unsupported("no responseBytes"))?;
        if rb.response_type != OID_BASIC {
            return Err(OcspDerError::Unsupported("not a BasicOCSPResponse"));
        }
        let basic = BasicOcspResponse::from_der(rb.response.as_bytes()).map_err(malformed)?;
        if basic.signature_algorithm != pss_sha1().map_err(malformed)? {
            return Err(OcspDerError::Unsupported(
                "signature algorithm is not RSASSA-PSS-SHA1",
            ));
        }
        let signature = basic
            .signature
            .as_bytes()
            .ok_or(OcspDerError::Unsupported("signature has unused bits"))?
            .to_vec();
        let tbs = &basic.tbs_response_data;
        let ResponderId::ByKey(kh) = &tbs.responder_id else {
            return Err(OcspDerError::Unsupported("responderID is not byKey"));
        };
        let hash20 = |o: &OctetString| -> Result<[u8; 20], OcspDerError> {
            o.as_bytes()
                .try_into()
                .map_err(|_| OcspDerError::Unsupported("hash is not 20 bytes"))
        };
        let [single] = tbs.responses.as_slice() else {
            return Err(OcspDerError::Unsupported("not exactly one SingleResponse"));
        };
        let serial = strip_leading_zeros(single.cert_id.serial_number.as_bytes());
        if serial.len() > 8 {
            return Err(OcspDerError::Unsupported(
                "serial number longer than 64 bits",
            ));
        }
        let mut sb = [0u8; 8];
        sb[8 - serial.len()..].copy_from_slice(serial);
        let status = match single.cert_status {
            DerStatus::Good(_) => CertStatus::Good,
            DerStatus::Revoked(info) => CertStatus::Revoked {
                at: from_time(&info.revocation_time)?,
            },
            DerStatus::Unknown(_) => CertStatus::Unknown,
        };
        let nonce = tbs.nonce().map(|n| n.0.as_bytes().to_vec());
        let r = OcspResponse {
            responder_key_hash: hash20(kh)?,
            cert_id: CertId {
                issuer_name_hash: hash20(&single.cert_id.issuer_name_hash)?,
                issuer_key_hash: hash20(&single.cert_id.issuer_key_hash)?,
                serial: u64::from_be_bytes(sb),
            },
            status,
            produced_at: from_time(&tbs.produced_at)?,
            nonce,
            signature,
        };
        // Everything signed must be represented above: the re-encoding equals what was sent.
        let sent = tbs.to_der().map_err(malformed)?;
        if r.response_data_der().map_err(malformed)? != sent {
            return Err(OcspDerError::Unsupported(
                "ResponseData carries fields this simulator does not accept",
            ));
        }
        Ok(r)
    }
}
