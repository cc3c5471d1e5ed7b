//! Errors of the crypto facade.

use thiserror::Error;

/// A cryptographic operation failed.
///
/// Verification failures (`BadSignature`, `BadMac`, `UnwrapFailed`, `DecryptFailed`) are the
/// normal outcome for tampered or misdirected input and are not fatal; configuration errors are.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptoError {
    /// The signature does not verify for this key and content.
    #[error("signature verification failed")]
    BadSignature,
    /// The MAC does not verify for this key and content.
    #[error("MAC verification failed")]
    BadMac,
    /// Key unwrap failed its integrity check (wrong KEK or tampered ciphertext).
    #[error("key unwrap failed integrity check")]
    UnwrapFailed,
    /// Decryption failed (wrong key, bad padding or tampered ciphertext).
    #[error("decryption failed")]
    DecryptFailed,
    /// An input has a length the algorithm does not accept.
    #[error("invalid length for {what}: {len} bytes")]
    InvalidLength {
        /// Which input.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// Real mode was asked to use a symbolic key (it has no RSA material).
    #[error("real-mode operation given a symbolic key")]
    SymbolicKeyInRealMode,
    /// A key of an unsupported size was requested.
    #[error("unsupported RSA modulus size {bits} bits")]
    UnsupportedKeySize {
        /// Requested size.
        bits: u32,
    },
    /// A UDK generation newer than the newest known one was requested.
    #[error("generation {requested} is newer than the newest known generation {newest}")]
    GenerationOutOfRange {
        /// Requested generation.
        requested: u32,
        /// Newest known generation.
        newest: u32,
    },
    /// The RSA library reported an error.
    #[error("RSA error: {0}")]
    Rsa(String),
    /// Encoding (DER/PEM) failed.
    #[error("encoding error: {0}")]
    Encoding(String),
    /// A key source could not deliver a key.
    #[error("key source: {0}")]
    KeySource(String),
}

impl CryptoError {
    /// Whether the error indicates a broken configuration rather than hostile or wrong input.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            CryptoError::SymbolicKeyInRealMode
                | CryptoError::UnsupportedKeySize { .. }
                | CryptoError::Rsa(_)
                | CryptoError::Encoding(_)
                | CryptoError::KeySource(_)
        )
    }
}
