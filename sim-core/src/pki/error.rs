//! PKI errors and chain-validation failures (mapped onto ROAP status values).

use thiserror::Error;

use crate::crypto::CryptoError;

/// Issuing, encoding or parsing a certificate failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PkiError {
    /// A crypto operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Building or encoding an X.509 structure failed.
    #[error("X.509 encoding: {0}")]
    Encoding(String),
    /// A DER certificate could not be parsed or is not one this simulator understands.
    #[error("certificate parse: {0}")]
    Parse(String),
    /// The operation needs a DER certificate but this one is symbolic.
    #[error("symbolic certificate has no DER encoding")]
    NoDer,
    /// A validity period ends before it starts.
    #[error("validity period ends before it starts")]
    BadValidity,
}

impl PkiError {
    /// Configuration/encoding errors are fatal; parse errors come from hostile input and are not.
    pub fn is_fatal(&self) -> bool {
        match self {
            PkiError::Crypto(e) => e.is_fatal(),
            PkiError::Parse(_) => false,
            PkiError::Encoding(_) | PkiError::NoDer | PkiError::BadValidity => true,
        }
    }
}

/// Why a certificate chain did not validate. `index` counts from the leaf (0).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChainError {
    /// No certificates were presented.
    #[error("no certificate chain")]
    Empty,
    /// The chain is longer than the validator accepts.
    #[error("certificate chain longer than {max}")]
    TooLong {
        /// The bound.
        max: usize,
    },
    /// The top certificate's issuer is not a trusted root.
    #[error("issuer {issuer:?} of certificate {index} is not a trusted root")]
    UntrustedRoot {
        /// Certificate whose issuer is unknown.
        index: usize,
        /// The issuer name.
        issuer: String,
    },
    /// Certificate `index` does not name certificate `index + 1` as its issuer.
    #[error("certificate {index} is not issued by the next certificate in the chain")]
    IssuerMismatch {
        /// The certificate.
        index: usize,
    },
    /// An issuing certificate is not a CA.
    #[error("certificate {index} is used as an issuer but is not a CA")]
    NotCa {
        /// The certificate.
        index: usize,
    },
    /// A certificate signature does not verify.
    #[error("signature of certificate {index} does not verify")]
    BadSignature {
        /// The certificate.
        index: usize,
    },
    /// A certificate is not yet valid.
    #[error("certificate {index} is not yet valid")]
    NotYetValid {
        /// The certificate.
        index: usize,
    },
    /// A certificate has expired.
    #[error("certificate {index} has expired")]
    Expired {
        /// The certificate.
        index: usize,
    },
    /// A certificate is revoked.
    #[error("certificate {index} (serial {serial}) is revoked")]
    Revoked {
        /// The certificate.
        index: usize,
        /// Its serial number.
        serial: u64,
    },
    /// No acceptable revocation information (missing, stale, wrong nonce, or bad responder).
    #[error("no valid revocation status for certificate {index}: {reason}")]
    RevocationUnknown {
        /// The certificate.
        index: usize,
        /// Why.
        reason: &'static str,
    },
    /// The leaf lacks a required key purpose or carries a forbidden one.
    #[error("leaf certificate key purposes do not fit: {reason}")]
    WrongPurpose {
        /// Which rule failed.
        reason: String,
    },
}

impl ChainError {
    /// The ROAP status value a responder reports for this failure (seed 000 §7.4.1, seed 004
    /// §11.2): an empty chain is "NoCertificateChain", an unknown root
    /// "TrustedRootCertificateNotPresent", everything else (including revocation and a wrong
    /// key purpose) "InvalidCertificateChain".
    pub fn roap_status(&self) -> &'static str {
        match self {
            ChainError::Empty => "NoCertificateChain",
            ChainError::UntrustedRoot { .. } => "TrustedRootCertificateNotPresent",
            _ => "InvalidCertificateChain",
        }
    }

    /// Chain failures are protocol outcomes, never fatal to the run.
    pub fn is_fatal(&self) -> bool {
        false
    }
}
