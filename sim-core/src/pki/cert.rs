//! Certificates and certificate authorities.
//!
//! Real mode: X.509 v3 DER built with x509-cert's builder, signed by the CA with RSA PKCS#1 v1.5
//! SHA-256 (sha256WithRSAEncryption, the common CA choice; entity signatures in ROAP stay
//! RSA-PSS). Extended key usage carries the OMA key purposes (see [`KeyPurpose`]).
//! Symbolic mode: the same [`Certificate`] value, signed with a symbolic signature over a
//! structural digest of its fields; no DER is produced.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use der::asn1::{GeneralizedTime, SetOfVec, UtcTime, Utf8StringRef};
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode, Tag};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::error::PkiError;
use super::purpose::KeyPurpose;
use crate::crypto::{
    digest_bytes, Crypto, CryptoError, CryptoMode, DigestHasher, KeyId, Op, OpCounter, PrivateKey,
    PublicKey, SigAlg, Signable,
};
use crate::engine::time::{SimTime, NS_PER_S};

/// Unix time (seconds) of simulated time zero in certificate validity fields: 2026-01-01T00:00Z.
pub const PKI_EPOCH_UNIX_SECS: u64 = 1_767_225_600;
/// RFC 5280 §4.1.2.5 "no well-defined expiration date": 9999-12-31T23:59:59Z, as Unix seconds.
const X509_INFINITY_UNIX_SECS: u64 = 253_402_300_799;
/// Organisation name in every subject.
pub const PKI_ORGANIZATION: &str = "drmsim";
/// OID of sha256WithRSAEncryption.
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const OID_CN: &str = "2.5.4.3";
const OID_O: &str = "2.5.4.10";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";

struct CertInner {
    serial: u64,
    subject: String,
    issuer: String,
    public_key: PublicKey,
    purposes: Vec<KeyPurpose>,
    is_ca: bool,
    not_before: SimTime,
    not_after: SimTime,
    signature: Vec<u8>,
    /// DER of the whole certificate and of its TBSCertificate (real mode only).
    der: Option<(Vec<u8>, Vec<u8>)>,
}

/// A certificate (real X.509 DER or symbolic); cheap to clone.
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<CertInner>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = &self.inner;
        f.debug_struct("Certificate")
            .field("serial", &i.serial)
            .field("subject", &i.subject)
            .field("issuer", &i.issuer)
            .field("key_id", &i.public_key.id())
            .field("purposes", &i.purposes)
            .field("is_ca", &i.is_ca)
            .field("real", &i.der.is_some())
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.inner, &other.inner);
        a.serial == b.serial
            && a.subject == b.subject
            && a.issuer == b.issuer
            && a.public_key == b.public_key
            && a.purposes == b.purposes
            && a.is_ca == b.is_ca
            && a.not_before == b.not_before
            && a.not_after == b.not_after
            && a.signature == b.signature
            && a.der == b.der
    }
}
impl Eq for Certificate {}

/// Hashes the signed content and the signature, so PDU types that `#[derive(Hash)]` over a
/// certificate chain get a symbolic digest that changes with any certificate.
impl std::hash::Hash for Certificate {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.sym_tbs().symbolic_digest());
        state.write(&self.inner.signature);
    }
}

/// The to-be-signed content of a symbolic certificate.
struct SymbolicTbs<'a> {
    serial: u64,
    subject: &'a str,
    issuer: &'a str,
    key: KeyId,
    purposes: &'a [KeyPurpose],
    is_ca: bool,
    not_before: SimTime,
    not_after: SimTime,
}

impl SymbolicTbs<'_> {
    fn approx_len(&self) -> usize {
        // Roughly the size of the equivalent DER TBSCertificate.
        300 + self.subject.len() + self.issuer.len() + 12 * self.purposes.len()
    }
}

impl Signable for SymbolicTbs<'_> {
    fn signed_bytes(&self) -> Vec<u8> {
        // Only reached if a symbolic TBS were signed in real mode, which this module never does;
        // still give a canonical, injective encoding.
        let mut v = b"drmsim-symbolic-tbs-v1".to_vec();
        v.extend_from_slice(&self.symbolic_digest().to_be_bytes());
        v
    }
    fn symbolic_digest(&self) -> u64 {
        use std::hash::Hasher;
        let mut h = DigestHasher::new();
        h.word(0x7462_735f_6365_7274); // domain tag "tbs_cert"
        h.word(self.serial);
        h.word(digest_bytes(self.subject.as_bytes()));
        h.word(digest_bytes(self.issuer.as_bytes()));
        h.write(self.key.as_bytes());
        h.word(self.purposes.len() as u64);
        for p in self.purposes {
            h.word(p.code());
        }
        h.word(u64::from(self.is_ca));
        h.word(self.not_before.as_ns());
        h.word(self.not_after.as_ns());
        h.finish()
    }
    fn signed_len(&self) -> usize {
        self.approx_len()
    }
}

/// What a CA is asked to certify.
#[derive(Debug, Clone)]
pub struct CertRequest {
    /// Subject common name (the actor name, e.g. "device/17").
    pub subject: String,
    /// The key to certify.
    pub public_key: PublicKey,
    /// Key purposes to put in the extended key usage.
    pub purposes: Vec<KeyPurpose>,
    /// Start of validity (rounded down to whole seconds).
    pub not_before: SimTime,
    /// End of validity (rounded down to whole seconds); `SimTime::MAX` means no expiry.
    pub not_after: SimTime,
}

fn round_secs(t: SimTime) -> SimTime {
    if t == SimTime::MAX {
        t
    } else {
        SimTime::from_ns(t.as_ns() - t.as_ns() % NS_PER_S)
    }
}

impl Certificate {
    fn sym_tbs(&self) -> SymbolicTbs<'_> {
        let i = &self.inner;
        SymbolicTbs {
            serial: i.serial,
            subject: &i.subject,
            issuer: &i.issuer,
            key: i.public_key.id(),
            purposes: &i.purposes,
            is_ca: i.is_ca,
            not_before: i.not_before,
            not_after: i.not_after,
        }
    }

    /// Serial number (unique per issuer).
    pub fn serial(&self) -> u64 {
        self.inner.serial
    }
    /// Subject common name.
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }
    /// Issuer common name.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }
    /// The certified public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.inner.public_key
    }
    /// Key id of the certified key: SHA-1 of its DER SPKI (the Device ID / RI ID).
    pub fn key_id(&self) -> KeyId {
        self.inner.public_key.id()
    }
    /// Extended key usage purposes.
    pub fn purposes(&self) -> &[KeyPurpose] {
        &self.inner.purposes
    }
    /// Whether `purpose` is present.
    pub fn has_purpose(&self, purpose: KeyPurpose) -> bool {
        self.inner.purposes.contains(&purpose)
    }
    /// Whether this is a CA certificate (basicConstraints cA=TRUE).
    pub fn is_ca(&self) -> bool {
        self.inner.is_ca
    }
    /// Start of validity.
    pub fn not_before(&self) -> SimTime {
        self.inner.not_before
    }
    /// End of validity (`SimTime::MAX`: no expiry).
    pub fn not_after(&self) -> SimTime {
        self.inner.not_after
    }
    /// Whether `now` lies within the validity period.
    pub fn valid_at(&self, now: SimTime) -> bool {
        self.inner.not_before <= now && now <= self.inner.not_after
    }
    /// The issuer's signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.inner.signature
    }
    /// Whether this certificate is self-issued (subject = issuer).
    pub fn is_self_issued(&self) -> bool {
        self.inner.subject == self.inner.issuer
    }
    /// The DER encoding (real mode only).
    pub fn der(&self) -> Option<&[u8]> {
        self.inner.der.as_ref().map(|(d, _)| d.as_slice())
    }
    /// Size on the wire: the DER length, or for a symbolic certificate the size the equivalent
    /// DER would have (so PDU sizes match across modes).
    pub fn encoded_len(&self) -> usize {
        match &self.inner.der {
            Some((d, _)) => d.len(),
            None => {
                let tbs = self.sym_tbs().approx_len() + self.inner.public_key.modulus_bytes();
                tbs + 20 + self.inner.signature.len()
            }
        }
    }
    /// PEM ("CERTIFICATE") export of a real certificate.
    pub fn to_pem(&self) -> Result<String, PkiError> {
        let der = self.der().ok_or(PkiError::NoDer)?;
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der)
            .map_err(|e| PkiError::Encoding(e.to_string()))
    }

    /// Parses a DER certificate produced by this PKI (or any RSA X.509 v3 certificate with a
    /// CN in subject and issuer). Hostile input yields `PkiError::Parse`, never a panic.
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, PkiError> {
        let perr = |e: &dyn std::fmt::Display| PkiError::Parse(e.to_string());
        let cert = x509_cert::Certificate::from_der(der_bytes).map_err(|e| perr(&e))?;
        let tbs = &cert.tbs_certificate;
        let serial_bytes = tbs.serial_number.as_bytes();
        let serial_bytes = strip_leading_zeros(serial_bytes);
        if serial_bytes.len() > 8 {
            return Err(PkiError::Parse("serial number longer than 64 bits".into()));
        }
        let mut sb = [0u8; 8];
        sb[8 - serial_bytes.len()..].copy_from_slice(serial_bytes);
        let serial = u64::from_be_bytes(sb);
        let subject = common_name(&tbs.subject)?;
        let issuer = common_name(&tbs.issuer)?;
        let spki_der = tbs.subject_public_key_info.to_der().map_err(|e| perr(&e))?;
        let rsa_pub = RsaPublicKey::from_public_key_der(&spki_der).map_err(|e| perr(&e))?;
        let public_key = PublicKey::from_rsa(rsa_pub)?;
        let mut purposes = Vec::new();
        let mut is_ca = false;
        let bc_oid = ObjectIdentifier::new_unwrap(OID_BASIC_CONSTRAINTS);
        let eku_oid = ObjectIdentifier::new_unwrap(OID_EXT_KEY_USAGE);
        for ext in tbs.extensions.iter().flatten() {
            if ext.extn_id == bc_oid {
                let bc =
                    BasicConstraints::from_der(ext.extn_value.as_bytes()).map_err(|e| perr(&e))?;
                is_ca = bc.ca;
            } else if ext.extn_id == eku_oid {
                let eku =
                    ExtendedKeyUsage::from_der(ext.extn_value.as_bytes()).map_err(|e| perr(&e))?;
                purposes.extend(eku.0.iter().filter_map(KeyPurpose::from_oid));
            }
        }
        purposes.sort();
        purposes.dedup();
        let not_before = from_x509_time(&tbs.validity.not_before);
        let not_after = from_x509_time(&tbs.validity.not_after);
        let signature = cert
            .signature
            .as_bytes()
            .ok_or_else(|| PkiError::Parse("signature has unused bits".into()))?
            .to_vec();
        if cert.signature_algorithm.oid != ObjectIdentifier::new_unwrap(SHA256_WITH_RSA) {
            return Err(PkiError::Parse(format!(
                "unsupported signature algorithm {}",
                cert.signature_algorithm.oid
            )));
        }
        let tbs_der = tbs.to_der().map_err(|e| perr(&e))?;
        Ok(Certificate {
            inner: Arc::new(CertInner {
                serial,
                subject,
                issuer,
                public_key,
                purposes,
                is_ca,
                not_before,
                not_after,
                signature,
                der: Some((der_bytes.to_vec(), tbs_der)),
            }),
        })
    }

    /// Verifies this certificate's signature with the issuer's public key.
    pub fn verify_signature(
        &self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        issuer_key: &PublicKey,
    ) -> Result<(), CryptoError> {
        match crypto.mode() {
            CryptoMode::Symbolic => crypto.verify(
                ops,
                issuer_key,
                SigAlg::RsaPssSha256,
                &self.sym_tbs(),
                &self.inner.signature,
            ),
            CryptoMode::Real => {
                let (_, tbs_der) = self
                    .inner
                    .der
                    .as_ref()
                    .ok_or(CryptoError::SymbolicKeyInRealMode)?;
                ops.record(Op::sha256(tbs_der.len()));
                ops.record(Op::RsaVerify {
                    bits: issuer_key.bits(),
                });
                let rsa_key = issuer_key.rsa().ok_or(CryptoError::SymbolicKeyInRealMode)?;
                let hashed = Sha256::digest(tbs_der);
                rsa_key
                    .verify(
                        Pkcs1v15Sign::new::<Sha256>(),
                        &hashed,
                        &self.inner.signature,
                    )
                    .map_err(|_| CryptoError::BadSignature)
            }
        }
    }

    /// Issues a certificate for `req`, signed by `issuer_key` in the name of `issuer_name`.
    /// `self_signed` builds a root (issuer = subject, key = issuer_key).
    #[allow(clippy::too_many_arguments)]
    fn issue(
        crypto: &Crypto,
        ops: &mut OpCounter,
        issuer_name: &str,
        issuer_key: &PrivateKey,
        serial: u64,
        req: &CertRequest,
        is_ca: bool,
        self_signed: bool,
    ) -> Result<Certificate, PkiError> {
        let not_before = round_secs(req.not_before);
        let not_after = round_secs(req.not_after);
        if not_after < not_before {
            return Err(PkiError::BadValidity);
        }
        let mut purposes = req.purposes.clone();
        purposes.sort();
        purposes.dedup();
        match crypto.mode() {
            CryptoMode::Symbolic => {
                let tbs = SymbolicTbs {
                    serial,
                    subject: &req.subject,
                    issuer: issuer_name,
                    key: req.public_key.id(),
                    purposes: &purposes,
                    is_ca,
                    not_before,
                    not_after,
                };
                let signature = crypto.sign(ops, issuer_key, SigAlg::RsaPssSha256, &tbs)?;
                Ok(Certificate {
                    inner: Arc::new(CertInner {
                        serial,
                        subject: req.subject.clone(),
                        issuer: issuer_name.to_string(),
                        public_key: req.public_key.clone(),
                        purposes,
                        is_ca,
                        not_before,
                        not_after,
                        signature,
                        der: None,
                    }),
                })
            }
            CryptoMode::Real => {
                let enc = |e: &dyn std::fmt::Display| PkiError::Encoding(e.to_string());
                let ca_rsa = issuer_key
                    .rsa()
                    .ok_or(CryptoError::SymbolicKeyInRealMode)?
                    .clone();
                let spki_der = req
                    .public_key
                    .spki_der()
                    .ok_or(CryptoError::SymbolicKeyInRealMode)?;
                let spki = SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(|e| enc(&e))?;
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(ca_rsa);
                let subject = make_name(&req.subject)?;
                let issuer = make_name(issuer_name)?;
                let profile = if self_signed {
                    Profile::Root
                } else if is_ca {
                    Profile::SubCA {
                        issuer,
                        path_len_constraint: None,
                    }
                } else {
                    Profile::Leaf {
                        issuer,
                        enable_key_agreement: false,
                        // Devices and RIs receive RSA-KEM key transport (seed 004 §5.4.6.1).
                        enable_key_encipherment: true,
                    }
                };
                let validity = Validity {
                    not_before: to_x509_time(not_before)?,
                    not_after: to_x509_time(not_after)?,
                };
                let mut builder = CertificateBuilder::new(
                    profile,
                    SerialNumber::from(serial),
                    validity,
                    subject,
                    spki,
                    &signer,
                )
                .map_err(|e| enc(&e))?;
                if !purposes.is_empty() {
                    let eku = ExtendedKeyUsage(purposes.iter().map(|p| p.oid()).collect());
                    builder.add_extension(&eku).map_err(|e| enc(&e))?;
                }
                let cert = builder
                    .build::<rsa::pkcs1v15::Signature>()
                    .map_err(|e| enc(&e))?;
                let der_bytes = cert.to_der().map_err(|e| enc(&e))?;
                let tbs_der = cert.tbs_certificate.to_der().map_err(|e| enc(&e))?;
                ops.record(Op::sha256(tbs_der.len()));
                ops.record(Op::RsaSign {
                    bits: issuer_key.bits(),
                });
                let signature = cert
                    .signature
                    .as_bytes()
                    .ok_or_else(|| PkiError::Encoding("signature bit string".into()))?
                    .to_vec();
                Ok(Certificate {
                    inner: Arc::new(CertInner {
                        serial,
                        subject: req.subject.clone(),
                        issuer: issuer_name.to_string(),
                        public_key: req.public_key.clone(),
                        purposes,
                        is_ca,
                        not_before,
                        not_after,
                        signature,
                        der: Some((der_bytes, tbs_der)),
                    }),
                })
            }
        }
    }
}

/// SHA-1 of the DER Name `O=drmsim, CN=<cn>` (RFC 6960 CertID issuerNameHash; the same value
/// in both crypto modes, since it depends only on the name).
pub fn name_hash(cn: &str) -> [u8; 20] {
    use sha1::Sha1;
    let der = make_name(cn).and_then(|n| n.to_der().map_err(|e| PkiError::Encoding(e.to_string())));
    match der {
        Ok(d) => Sha1::digest(&d).into(),
        // Unencodable names (none the PKI issues) still get a stable, distinct value.
        Err(_) => Sha1::digest(cn.as_bytes()).into(),
    }
}

/// RFC 6960 KeyHash of a public key: SHA-1 of the subjectPublicKey BIT STRING value (without
/// tag, length and unused-bits octet). Symbolic keys have no SPKI: their key id stands in.
pub fn key_hash(key: &PublicKey) -> [u8; 20] {
    use sha1::Sha1;
    let bits = key
        .spki_der()
        .and_then(|d| spki::SubjectPublicKeyInfoRef::from_der(d).ok())
        .and_then(|s| {
            s.subject_public_key
                .as_bytes()
                .map(|b| Sha1::digest(b).into())
        });
    bits.unwrap_or(key.id().0)
}

pub(super) fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

fn make_name(cn: &str) -> Result<Name, PkiError> {
    let enc = |e: der::Error| PkiError::Encoding(e.to_string());
    let atv = |oid: &str, value: &str| -> Result<RelativeDistinguishedName, PkiError> {
        let a = AttributeTypeAndValue {
            oid: ObjectIdentifier::new_unwrap(oid),
            value: Any::new(Tag::Utf8String, value.as_bytes()).map_err(enc)?,
        };
        Ok(RelativeDistinguishedName(
            SetOfVec::try_from(vec![a]).map_err(enc)?,
        ))
    };
    Ok(RdnSequence(vec![
        atv(OID_O, PKI_ORGANIZATION)?,
        atv(OID_CN, cn)?,
    ]))
}

fn common_name(name: &Name) -> Result<String, PkiError> {
    let cn = ObjectIdentifier::new_unwrap(OID_CN);
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == cn {
                let s = Utf8StringRef::try_from(&atv.value)
                    .map_err(|e| PkiError::Parse(e.to_string()))?;
                return Ok(s.as_str().to_string());
            }
        }
    }
    Err(PkiError::Parse("name without common name".into()))
}

fn to_x509_time(t: SimTime) -> Result<Time, PkiError> {
    let enc = |e: der::Error| PkiError::Encoding(e.to_string());
    let secs = if t == SimTime::MAX {
        X509_INFINITY_UNIX_SECS
    } else {
        PKI_EPOCH_UNIX_SECS
            .saturating_add(t.as_ns() / NS_PER_S)
            .min(X509_INFINITY_UNIX_SECS)
    };
    let d = Duration::from_secs(secs);
    // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    if secs < 2_524_608_000 {
        Ok(Time::UtcTime(UtcTime::from_unix_duration(d).map_err(enc)?))
    } else {
        Ok(Time::GeneralTime(
            GeneralizedTime::from_unix_duration(d).map_err(enc)?,
        ))
    }
}

fn from_x509_time(t: &Time) -> SimTime {
    let secs = t.to_unix_duration().as_secs();
    if secs >= X509_INFINITY_UNIX_SECS {
        SimTime::MAX
    } else {
        SimTime::from_ns(
            secs.saturating_sub(PKI_EPOCH_UNIX_SECS)
                .saturating_mul(NS_PER_S),
        )
    }
}

/// A certificate authority (root or intermediate) with its key and serial counter.
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    key: PrivateKey,
    cert: Certificate,
    next_serial: u64,
}

impl CertificateAuthority {
    /// A self-signed root CA named `name`.
    pub fn new_root(
        crypto: &Crypto,
        ops: &mut OpCounter,
        name: &str,
        key: PrivateKey,
        not_before: SimTime,
        not_after: SimTime,
    ) -> Result<Self, PkiError> {
        let req = CertRequest {
            subject: name.to_string(),
            public_key: key.public().clone(),
            purposes: Vec::new(),
            not_before,
            not_after,
        };
        let cert = Certificate::issue(crypto, ops, name, &key, 1, &req, true, true)?;
        Ok(CertificateAuthority {
            key,
            cert,
            next_serial: 2,
        })
    }

    /// The CA's own certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }
    /// The CA's name (certificate subject).
    pub fn name(&self) -> &str {
        self.cert.subject()
    }
    /// The CA's key pair.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    fn take_serial(&mut self) -> u64 {
        let s = self.next_serial;
        self.next_serial += 1;
        s
    }

    /// Issues an end-entity certificate (Device, RI, LRM, DEA, OCSP responder).
    pub fn issue(
        &mut self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        req: &CertRequest,
    ) -> Result<Certificate, PkiError> {
        let serial = self.take_serial();
        let name = self.cert.subject().to_string();
        Certificate::issue(crypto, ops, &name, &self.key, serial, req, false, false)
    }

    /// Issues an intermediate CA certificate and returns the new CA.
    pub fn issue_sub_ca(
        &mut self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        name: &str,
        key: PrivateKey,
        not_before: SimTime,
        not_after: SimTime,
    ) -> Result<CertificateAuthority, PkiError> {
        let serial = self.take_serial();
        let req = CertRequest {
            subject: name.to_string(),
            public_key: key.public().clone(),
            purposes: Vec::new(),
            not_before,
            not_after,
        };
        let issuer = self.cert.subject().to_string();
        let cert = Certificate::issue(crypto, ops, &issuer, &self.key, serial, &req, true, false)?;
        Ok(CertificateAuthority {
            key,
            cert,
            next_serial: 1,
        })
    }
}

impl FromStr for KeyPurpose {
    type Err = PkiError;
    /// Parses a purpose from its spec name ("oma-kp-drmAgent") or dotted OID.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        super::purpose::ALL_PURPOSES
            .iter()
            .copied()
            .find(|p| p.name() == s || p.oid_str() == s)
            .ok_or_else(|| PkiError::Parse(format!("unknown key purpose {s:?}")))
    }
}
