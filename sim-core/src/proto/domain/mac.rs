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
use quick_xml::events::Event;
use quick_xml::Reader;

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

    /// The MAC inputs of every key in `keys` (the `<domainKey>`s of `response`, in order) as
    /// the receiving Device forms them from the octets it `received` (`None`: the PDU came
    /// as a struct, symbolic mode). Interpretation 2 parses the octets and canonicalises the
    /// node set, so any equivalent serialisation gives the same input; interpretation 1 takes
    /// the `<domainKey>` octets exactly as received (seed 002 §1 item 1: "no modifications or
    /// transformations"), which equals the sender's input only while the PDU stays in
    /// Exclusive Canonical Form. In symbolic mode the structural digest is kept when the
    /// received octets give the same input as the canonical encoding, and replaced by a
    /// digest of the received input otherwise, so both modes agree.
    pub fn all_received(
        mode: CryptoMode,
        response: &Pdu,
        received: Option<&[u8]>,
        keys: &[DomainKey],
        how: MacInterpretation,
    ) -> Result<Vec<Self>, PduError> {
        let Some(octets) = received else {
            return Self::all(mode, response, keys, how);
        };
        let input = |pdu: &[u8], i: usize| match how {
            MacInterpretation::NodeSet => domain_key_mac_input(pdu, i, how),
            MacInterpretation::Substring => raw_substring_mac_input(pdu, "domainKey", i),
        };
        match mode {
            CryptoMode::Real => keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let bytes = input(octets, i)?;
                    let mut m = Self::with_encoded(None, k, i, how)?;
                    m.len = bytes.len();
                    m.bytes = bytes;
                    Ok(m)
                })
                .collect(),
            CryptoMode::Symbolic => {
                let canonical = response.try_encode()?;
                keys.iter()
                    .enumerate()
                    .map(|(i, k)| {
                        let mut m = Self::with_encoded(None, k, i, how)?;
                        let got = input(octets, i)?;
                        if got != input(&canonical, i)? {
                            m.digest = digest_of(&("domainKeyMacOctets", &got));
                        }
                        Ok(m)
                    })
                    .collect()
            }
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

fn named(e: &quick_xml::events::BytesStart<'_>, local: &str) -> bool {
    e.local_name().into_inner() == local
}

/// Seed 002 §1 interpretation 1 on received octets: the bytes of the `index`-th element named
/// `local` (any prefix) from its start tag to its end tag, minus its first `<mac>` child
/// element, exactly as they are in `pdu` (no parsing into a tree, no canonicalization).
pub fn raw_substring_mac_input(pdu: &[u8], local: &str, index: usize) -> Result<Vec<u8>, PduError> {
    let bad = |why: String| PduError::Xml(why);
    let mut r = Reader::from_reader(pdu);
    let mut seen = 0usize;
    // Byte offsets: start of the target, start and end of its <mac>, and the depth inside it.
    let mut target: Option<(usize, usize)> = None;
    let mut mac: Option<(usize, Option<usize>)> = None;
    loop {
        let before = r.buffer_position() as usize;
        let ev = r.read_event().map_err(|e| bad(e.to_string()))?;
        let after = r.buffer_position() as usize;
        match ev {
            Event::Eof => break,
            Event::Start(e) => match &mut target {
                None if named(&e, local) => {
                    if seen == index {
                        target = Some((before, 1));
                    } else {
                        seen += 1;
                    }
                }
                Some((_, depth)) => {
                    if *depth == 1 && mac.is_none() && named(&e, "mac") {
                        mac = Some((before, None));
                    }
                    *depth += 1;
                }
                None => {}
            },
            Event::Empty(e) => {
                if let Some((_, 1)) = target {
                    if mac.is_none() && named(&e, "mac") {
                        mac = Some((before, Some(after)));
                    }
                } else if target.is_none() && named(&e, local) {
                    if seen == index {
                        return Ok(pdu[before..after].to_vec());
                    }
                    seen += 1;
                }
            }
            Event::End(_) => {
                if let Some((start, depth)) = &mut target {
                    *depth -= 1;
                    if *depth == 1 {
                        if let Some((m, end @ None)) = &mut mac {
                            let _ = m;
                            *end = Some(after);
                        }
                    }
                    if *depth == 0 {
                        let mut out = Vec::with_capacity(after - *start);
                        match mac {
                            Some((m, Some(e))) => {
                                out.extend_from_slice(&pdu[*start..m]);
                                out.extend_from_slice(&pdu[e..after]);
                            }
                            _ => out.extend_from_slice(&pdu[*start..after]),
                        }
                        return Ok(out);
                    }
                }
            }
            _ => {}
        }
    }
    Err(PduError::Missing {
        parent: "PDU".into(),
        element: format!("{local}[{index}]"),
    })
}
