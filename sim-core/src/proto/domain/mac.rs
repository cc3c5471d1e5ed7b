//! The Domain Key MAC input (seed 002) as a [`Signable`], under either interpretation.
//!
//! Real mode MACs the octets [`crate::pdu::domain_key_mac_input`] extracts from the canonical
//! JoinDomainResponse: the XPath node set of `<domainKey>` minus `<mac>` run through
//! Exclusive C14N (option 2, `NodeSet`), or the raw substring of the PDU (option 1,
//! `Substring`). The two differ by the namespace declarations option 2 adds — on
//! `<roap:domainKey>` in the qualified form, on `<roap:X509SPKIHash>` in the unqualified one
//! (seed 002 §1) — so they never agree. Symbolic mode never produces XML; it folds the
//! interpretation into the structural digest so a mismatch fails there too.

use crate::crypto::{digest_of, CryptoMode, Signable};
use crate::pdu::{domain_key_mac_input, DomainKey, MacInterpretation, Pdu, PduError};

/// What a Domain Key MAC covers.
#[derive(Debug, Clone)]
pub struct DomainKeyMacInput {
    /// Real mode: the octets (empty in symbolic mode).
    bytes: Vec<u8>,
    /// Symbolic mode: digest of the key minus its MAC and the interpretation.
    digest: u64,
    /// Length charged for hashing.
    len: usize,
}

fn interpretation_code(how: MacInterpretation) -> u8 {
    match how {
        MacInterpretation::NodeSet => 2,
        MacInterpretation::Substring => 1,
    }
}

impl DomainKeyMacInput {
    /// The MAC input of the `index`-th `<domainKey>` of `response` (a JoinDomainResponse or
    /// anything carrying `<domainInfo>`), read per `how`. In real mode `response` is encoded
    /// canonically (ROAP PDUs travel in Exclusive Canonical Form, seed 002 §5.3.3, so the
    /// receiver re-encoding the decoded PDU reproduces the octets it received).
    pub fn new(
        mode: CryptoMode,
        response: &Pdu,
        key: &DomainKey,
        index: usize,
        how: MacInterpretation,
    ) -> Result<Self, PduError> {
        let bytes = match mode {
            CryptoMode::Real => Some(response.try_encode()?),
            CryptoMode::Symbolic => None,
        };
        Self::with_encoded(bytes.as_deref(), key, index, how)
    }

    /// The MAC inputs of every key in `keys` (the `<domainKey>`s of `response`, in order),
    /// encoding `response` once.
    pub fn all(
        mode: CryptoMode,
        response: &Pdu,
        keys: &[DomainKey],
        how: MacInterpretation,
    ) -> Result<Vec<Self>, PduError> {
        let bytes = match mode {
            CryptoMode::Real => Some(response.try_encode()?),
            CryptoMode::Symbolic => None,
        };
        keys.iter()
            .enumerate()
            .map(|(i, k)| Self::with_encoded(bytes.as_deref(), k, i, how))
            .collect()
    }

    /// From the canonical PDU octets (`None` in symbolic mode).
    fn with_encoded(
        pdu_bytes: Option<&[u8]>,
        key: &DomainKey,
        index: usize,
        how: MacInterpretation,
    ) -> Result<Self, PduError> {
        let mut blank = key.clone();
        blank.mac.clear();
        let digest = digest_of(&("domainKeyMac", interpretation_code(how), &blank));
        match pdu_bytes {
            Some(pdu) => {
                let bytes = domain_key_mac_input(pdu, index, how)?;
                Ok(DomainKeyMacInput {
                    len: bytes.len(),
                    bytes,
                    digest,
                })
            }
            // Estimated size of the canonical element: fixed markup plus base64 octets.
            None => Ok(DomainKeyMacInput {
                bytes: Vec::new(),
                digest,
                len: 420 + (key.enc_key.cipher.len() + key.ri_id.hash.len()) * 4 / 3,
            }),
        }
    }

    /// The octets (real mode).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Signable for DomainKeyMacInput {
    fn signed_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }
    fn symbolic_digest(&self) -> u64 {
        self.digest
    }
    fn signed_len(&self) -> usize {
        self.len
    }
}
