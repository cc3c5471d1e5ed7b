//! Inputs of signatures and MACs that are not simply "the message minus `<signature>`":
//! the 4-pass registration transcript (OMA-TS-DRM-DRM-V2_0 §5.4.2.1.3/4), the Domain Key
//! MAC (seed 002) and the Metering Report MAC (seed 004 §5.4.6.1.2), each under both
//! interpretations seed 002 §1 distinguishes.

use super::codec;
use super::digest::{fnv1a_of, AuthRun, Fnv1a};
use super::roap::{DeviceHello, RegistrationRequest, RegistrationResponse, RiHello};
use super::{Pdu, PduError};
use crate::xml::{self, C14nVariant, Element, Name, Node, Selection};
use std::hash::Hasher;

/// How the octets under a key-confirmation MAC are obtained (seed 002 §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacInterpretation {
    /// Option 2 (agreed by seed 002): XPath node set of the element minus `<mac>`, then
    /// Exclusive C14N; namespaces used inside are declared on the apex.
    NodeSet,
    /// Option 1: the octet substring of the canonical PDU from the element's start tag to
    /// its end tag with `<mac>…</mac>` cut out; namespaces rendered by ancestors are not
    /// repeated.
    Substring,
}

/// Registration transcript the RegistrationRequest signature (`response` = `None`) or the
/// RegistrationResponse signature covers: canonical DeviceHello ‖ RIHello ‖ the request
/// (without its signature when it is the message being signed; complete otherwise) ‖ the
/// response without its signature.
pub fn registration_transcript(
    device_hello: &DeviceHello,
    ri_hello: &RiHello,
    request: &RegistrationRequest,
    response: Option<&RegistrationResponse>,
) -> Vec<u8> {
    let mut out = Pdu::DeviceHello(device_hello.clone()).encode();
    out.extend(Pdu::RiHello(ri_hello.clone()).encode());
    let req = Pdu::RegistrationRequest(request.clone());
    match response {
        None => out.extend(req.signed_bytes()),
        Some(resp) => {
            out.extend(req.encode());
            out.extend(Pdu::RegistrationResponse(resp.clone()).signed_bytes());
        }
    }
    out
}

/// Symbolic counterpart of [`registration_transcript`]: FNV-1a chaining of the structural
/// digests (request signature included when the response is the signed message).
pub fn registration_transcript_digest(
    device_hello: &DeviceHello,
    ri_hello: &RiHello,
    request: &RegistrationRequest,
    response: Option<&RegistrationResponse>,
) -> u64 {
    let mut h = Fnv1a::default();
    h.write_u64(Pdu::DeviceHello(device_hello.clone()).symbolic_digest());
    h.write_u64(Pdu::RiHello(ri_hello.clone()).symbolic_digest());
    let req = Pdu::RegistrationRequest(request.clone());
    match response {
        None => h.write_u64(req.symbolic_digest()),
        Some(resp) => {
            h.write_u64(fnv1a_of(&req));
            h.write_u64(Pdu::RegistrationResponse(resp.clone()).symbolic_digest());
        }
    }
    h.finish()
}

/// Removes the first `n` elements with local name `local` (any namespace, so a mix of
/// qualified and unqualified `domainKey`s counts as one sequence) in document order, with
/// their subtrees, so the `n`-th one becomes the first. Neither `<domainKey>` nor
/// `<meteringReport>` nests, so removing earlier ones leaves the target's ancestors — and so
/// the namespaces rendered above it — unchanged.
fn drop_first(el: &mut Element, local: &str, n: &mut usize) {
    let mut i = 0;
    while i < el.children.len() && *n > 0 {
        if let Node::Element(c) = &mut el.children[i] {
            if c.local == local {
                el.children.remove(i);
                *n -= 1;
                continue;
            }
            drop_first(c, local, n);
        }
        i += 1;
    }
}

fn nth<'a>(el: &'a Element, local: &str, n: &mut usize) -> Option<&'a Element> {
    if el.local == local {
        if *n == 0 {
            return Some(el);
        }
        *n -= 1;
    }
    el.elements().find_map(|c| nth(c, local, n))
}

/// MAC input of the `index`-th (document order) element named `local` (any namespace, so
/// both the qualified and the unqualified `domainKey` match) of a PDU, minus its `<mac>`
/// child, under either reading of seed 002 (via [`crate::xml::canonicalize`]).
pub fn subtree_mac_input(
    pdu_bytes: &[u8],
    local: &str,
    index: usize,
    how: MacInterpretation,
) -> Result<Vec<u8>, PduError> {
    let mut doc = codec::parse_document(pdu_bytes)?;
    let mut n = index;
    let target = nth(&doc.root, local, &mut n).ok_or_else(|| PduError::Missing {
        parent: doc.root.local.to_string(),
        element: format!("{local}[{index}]"),
    })?;
    let name = Name {
        ns: target.ns.as_deref().map(str::to_string),
        local: local.to_string(),
    };
    let mut skip = index;
    drop_first(&mut doc.root, local, &mut skip);
    let selection = Selection::element(name).excluding(Name {
        ns: None,
        local: "mac".into(),
    });
    let variant = match how {
        MacInterpretation::NodeSet => C14nVariant::XPathNodeSet,
        MacInterpretation::Substring => C14nVariant::Substring,
    };
    Ok(xml::canonicalize(&doc, &selection, variant)?)
}

/// MAC input of the `index`-th `<domainKey>` (qualified or not) of a JoinDomainResponse or
/// ProxyJoinUserDomainResponse (seed 002).
pub fn domain_key_mac_input(
    pdu_bytes: &[u8],
    index: usize,
    how: MacInterpretation,
) -> Result<Vec<u8>, PduError> {
    subtree_mac_input(pdu_bytes, "domainKey", index, how)
}

/// MAC input of the `<meteringReport>` of a MeteringReportSubmit (seed 004 §5.4.6.1.2).
pub fn metering_report_mac_input(
    pdu_bytes: &[u8],
    how: MacInterpretation,
) -> Result<Vec<u8>, PduError> {
    subtree_mac_input(pdu_bytes, "meteringReport", 0, how)
}

// ---------------------------------------------------------------- Signable

use crate::crypto::Signable;

impl Signable for Pdu {
    /// The message minus its `<signature>`/`<mac>`, canonical.
    fn signed_bytes(&self) -> Vec<u8> {
        Pdu::signed_bytes(self)
    }
    fn symbolic_digest(&self) -> u64 {
        Pdu::symbolic_digest(self)
    }
    /// Cheap estimate (no XML is produced).
    fn signed_len(&self) -> usize {
        self.estimated_size_bytes()
    }
    fn symbolic_digest_and_len(&self) -> (u64, usize) {
        self.symbolic_digest_and_size()
    }
}

/// The registration session transcript as a signable value (see [`registration_transcript`]).
#[derive(Debug, Clone, Copy)]
pub struct RegistrationTranscript<'a> {
    /// ROAP-DeviceHello of the session.
    pub device_hello: &'a DeviceHello,
    /// ROAP-RIHello of the session.
    pub ri_hello: &'a RiHello,
    /// ROAP-RegistrationRequest.
    pub request: &'a RegistrationRequest,
    /// ROAP-RegistrationResponse when it is the message being signed.
    pub response: Option<&'a RegistrationResponse>,
}

impl Signable for RegistrationTranscript<'_> {
    fn signed_bytes(&self) -> Vec<u8> {
        registration_transcript(
            self.device_hello,
            self.ri_hello,
            self.request,
            self.response,
        )
    }
    fn symbolic_digest(&self) -> u64 {
        registration_transcript_digest(
            self.device_hello,
            self.ri_hello,
            self.request,
            self.response,
        )
    }
    fn signed_len(&self) -> usize {
        let est = |p: Pdu| p.estimated_size_bytes();
        est(Pdu::DeviceHello(self.device_hello.clone()))
            + est(Pdu::RiHello(self.ri_hello.clone()))
            + est(Pdu::RegistrationRequest(self.request.clone()))
            + self
                .response
                .map_or(0, |r| est(Pdu::RegistrationResponse(r.clone())))
    }
}

/// Structural digest of `v` with its authenticator `run` (a `Vec<u8>` field) hashed as empty,
/// without copying `v`.
fn skip_digest<T: std::hash::Hash>(tag: &str, v: &T, run: AuthRun<'_>) -> u64 {
    super::digest::digest_skipping(tag, v, run).expect("a byte run is skipped in place")
}

/// [`skip_digest`] and the size estimate of `v`, in one walk.
fn skip_digest_and_len<T: std::hash::Hash>(tag: &str, v: &T, run: AuthRun<'_>) -> (u64, usize) {
    super::digest::digest_and_size_skipping(tag, v, run).expect("a byte run is skipped in place")
}

/// Structural digest of a value with its authenticator already blanked.
fn digest_blank<T: std::hash::Hash>(tag: &str, v: &T) -> u64 {
    fnv1a_of(&(tag, v))
}

impl Signable for super::common::DomainKey {
    /// `<domainKey>` minus `<mac>`, XPath node-set reading (seed 002 §5.3.3, normative).
    fn signed_bytes(&self) -> Vec<u8> {
        codec::c14n(&self.to_element_without_mac())
    }
    fn symbolic_digest(&self) -> u64 {
        skip_digest("domainKey", self, AuthRun::Bytes(&self.mac))
    }
    /// Structural estimate: symbolic runs never build the XML.
    fn signed_len(&self) -> usize {
        super::digest::estimate_size_of(self)
    }
    fn symbolic_digest_and_len(&self) -> (u64, usize) {
        skip_digest_and_len("domainKey", self, AuthRun::Bytes(&self.mac))
    }
}

impl Signable for super::metering::MeteringReport {
    /// `<meteringReport>` minus `<mac>`, node-set reading (seed 004 §5.4.6.1.2).
    fn signed_bytes(&self) -> Vec<u8> {
        codec::c14n(&self.to_element_without_mac())
    }
    fn symbolic_digest(&self) -> u64 {
        skip_digest("meteringReport", self, AuthRun::Bytes(&self.mac))
    }
    /// Structural estimate: symbolic runs never build the XML.
    fn signed_len(&self) -> usize {
        super::digest::estimate_size_of(self)
    }
    fn symbolic_digest_and_len(&self) -> (u64, usize) {
        skip_digest_and_len("meteringReport", self, AuthRun::Bytes(&self.mac))
    }
}

impl Signable for super::moves::UserDomainAuthorization {
    /// The authorization minus `<signature>` (DEA signature, seed 003 §9.2.3).
    fn signed_bytes(&self) -> Vec<u8> {
        // The element as it travels, name included (seed 003 §9.2.3 step 4 verifies what the
        // RI forwarded; signing a re-rooted copy would sign octets never sent).
        let mut e = self.to_element();
        e.children
            .retain(|n| !matches!(n, Node::Element(c) if c.local == "signature"));
        codec::c14n(&e)
    }
    fn symbolic_digest(&self) -> u64 {
        skip_digest(
            self.holder.element_name(),
            self,
            AuthRun::Bytes(&self.signature),
        )
    }
    /// Structural estimate: symbolic runs never build the XML.
    fn signed_len(&self) -> usize {
        super::digest::estimate_size_of(self)
    }
    fn symbolic_digest_and_len(&self) -> (u64, usize) {
        skip_digest_and_len(
            self.holder.element_name(),
            self,
            AuthRun::Bytes(&self.signature),
        )
    }
}

impl Signable for super::pairing::PairingTicket {
    /// The ticket minus `<mac>` (HMAC under MK-target, seed 001 §7.2.1.2).
    fn signed_bytes(&self) -> Vec<u8> {
        codec::c14n(&self.to_element_without_mac())
    }
    fn symbolic_digest(&self) -> u64 {
        skip_digest("pairingTicket", self, AuthRun::Bytes(&self.mac))
    }
    /// Structural estimate: symbolic runs never build the XML.
    fn signed_len(&self) -> usize {
        super::digest::estimate_size_of(self)
    }
    fn symbolic_digest_and_len(&self) -> (u64, usize) {
        skip_digest_and_len("pairingTicket", self, AuthRun::Bytes(&self.mac))
    }
}

impl Signable for super::ro::Ro {
    /// `<roap:ro>` minus its `<signature>` (issuer / LRM signature over the RO).
    fn signed_bytes(&self) -> Vec<u8> {
        let mut e = self.to_element();
        e.children
            .retain(|n| !matches!(n, Node::Element(c) if c.local == "signature"));
        codec::c14n(&e)
    }
    fn symbolic_digest(&self) -> u64 {
        super::digest::digest_skipping("ro", self, AuthRun::of_option(&self.signature))
            .unwrap_or_else(|| {
                let mut c = self.clone();
                c.signature = None;
                digest_blank("ro", &c)
            })
    }
    /// Structural estimate: symbolic runs never build the XML.
    fn signed_len(&self) -> usize {
        super::digest::estimate_size_of(self)
    }
    fn symbolic_digest_and_len(&self) -> (u64, usize) {
        super::digest::digest_and_size_skipping("ro", self, AuthRun::of_option(&self.signature))
            .unwrap_or_else(|| (self.symbolic_digest(), self.signed_len()))
    }
}

impl Signable for super::ro::ProtectedRo {
    /// The canonical `<roap:ro>` the `<mac>` of `<protectedRO>` covers.
    fn signed_bytes(&self) -> Vec<u8> {
        codec::c14n(&self.ro.to_element())
    }
    fn symbolic_digest(&self) -> u64 {
        digest_blank("protectedRO", &self.ro)
    }
    /// Structural estimate: symbolic runs never build the XML.
    fn signed_len(&self) -> usize {
        super::digest::estimate_size_of(&self.ro)
    }
    fn symbolic_digest_and_len(&self) -> (u64, usize) {
        super::digest::digest_and_size_skipping("protectedRO", &self.ro, AuthRun::Nothing)
            .expect("nothing to skip")
    }
}
