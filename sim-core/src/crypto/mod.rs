//! Cryptography behind one interface: real (RSA-PSS, HMAC, RSA-KEM, AES key wrap, AES-CBC) and
//! symbolic (Dolev–Yao tags). Protocol code calls [`Crypto`] and never knows the mode.
//!
//! See `docs/crypto.md` for algorithms, symbolic semantics and cost operations.

mod error;
mod facade;
mod keys;
mod keysource;
mod ops;
pub mod primitives;
mod signable;
mod symbolic;

pub use error::CryptoError;
pub use facade::{Crypto, CryptoMode, MacAlg, SigAlg, MAX_UDK_GENERATION, ORACLE_OWNER};
pub use keys::{
    KeyId, KeyPair, PrivateKey, PublicKey, SymKey, DEFAULT_RSA_BITS, SUPPORTED_RSA_BITS,
    SYM_KEY_BYTES,
};
pub use keysource::{
    generate_rsa, GeneratingKeySource, KeySource, KeySpec, KEYGEN_VERSION, MAX_MEMO_KEYS,
    RSA_KEY_PURPOSE,
};
pub use ops::{Op, OpCounter, OpTotals, MAX_LOGGED_OPS};
pub use signable::{digest_bytes, digest_of, DigestHasher, Signable};
