//! Simulated PKI: root and intermediate CAs, certificates for Devices, RIs, LRMs, DEAs and OCSP
//! responders, chain validation with ROAP status mapping, revocation and OCSP.
//!
//! Works in both crypto modes: real X.509 DER (x509-cert builder) or symbolic certificates.

mod cert;
mod chain;
mod error;
mod ocsp;
mod ocsp_der;
mod purpose;

pub use cert::{
    key_hash, name_hash, CertRequest, Certificate, CertificateAuthority, PKI_EPOCH_UNIX_SECS,
    PKI_ORGANIZATION,
};
pub use chain::{PurposeRule, Revocation, TrustStore, MAX_CHAIN_LEN};
pub use error::{ChainError, PkiError};
pub use ocsp::{CertId, CertStatus, OcspResponder, OcspResponse, RevocationList};
pub use ocsp_der::OcspDerError;
pub use purpose::{KeyPurpose, ALL_PURPOSES};
