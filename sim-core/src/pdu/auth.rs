//! Inputs of signatures and MACs that are not simply "the message minus `<signature>`":
//! the 4-pass registration transcript (OMA-TS-DRM-DRM-V2_0 §5.4.2.1.3/4), the Domain Key
//! MAC (seed 002) and the Metering Report MAC (seed 004 §5.4.6.1.2), each under both
//! interpretations seed 002 §1 distinguishes.

use super::codec;
use super::digest::{fnv1a_of, Fnv1a};
use super::roap::{DeviceHello, RegistrationRequest, RegistrationResponse, RiHello};
use super::{Pdu, PduError};
use crate::xml::{Element, Node};
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

fn nth_named<'a>(el: &'a Element, local: &str, n: &mut usize) -> Option<&'a Element> {
    if el.local == local {
        if *n == 0 {
            return Some(el);
        }
        *n -= 1;
    }
    el.elements().find_map(|c| nth_named(c, local, n))
}

fn without_mac(el: &Element) -> Element {
    let mut e = el.clone();
    e.children
        .retain(|n| !matches!(n, Node::Element(c) if c.local == "mac" && c.ns.is_none()));
    e
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// MAC input of the `index`-th (document order) element named `local` of a PDU, minus its
/// `<mac>` child. The PDU is first brought to Exclusive Canonical Form, as ROAP requires
/// PDUs to be sent (seed 002 §5.3.3), so [`MacInterpretation::Substring`] cuts real octets.
pub fn subtree_mac_input(
    pdu_bytes: &[u8],
    local: &str,
    index: usize,
    how: MacInterpretation,
) -> Result<Vec<u8>, PduError> {
    let root = codec::parse_root(pdu_bytes)?;
    let mut n = index;
    let target = nth_named(&root, local, &mut n).ok_or_else(|| PduError::Missing {
        parent: root.local.clone(),
        element: format!("{local}[{index}]"),
    })?;
    match how {
        MacInterpretation::NodeSet => Ok(codec::c14n(&without_mac(target))),
        MacInterpretation::Substring => {
            let canon = codec::c14n(&root);
            let qname = match &target.prefix {
                Some(p) => format!("{p}:{local}"),
                None => local.to_string(),
            };
            // Canonical form escapes '<' in text and attributes, so every '<' is markup.
            let open = format!("<{qname}");
            let close = format!("</{qname}>");
            let mut pos = 0;
            let mut seen = 0;
            let start = loop {
                let p = find(&canon, open.as_bytes(), pos)
                    .ok_or_else(|| PduError::invalid(local, "not found in canonical form"))?;
                let next = canon.get(p + open.len()).copied();
                if matches!(next, Some(b'>') | Some(b' ')) {
                    // Only count occurrences with the same qualified name as the target.
                    if seen == index_among_same_qname(&root, target, local) {
                        break p;
                    }
                    seen += 1;
                }
                pos = p + 1;
            };
            let end = find(&canon, close.as_bytes(), start)
                .ok_or_else(|| PduError::invalid(local, "unterminated"))?
                + close.len();
            let slice = &canon[start..end];
            // The <mac> child is the last child; no other <mac> occurs inside these elements.
            let ms = find(slice, b"<mac>", 0).ok_or_else(|| PduError::Missing {
                parent: local.to_string(),
                element: "mac".into(),
            })?;
            let me = find(slice, b"</mac>", ms)
                .ok_or_else(|| PduError::invalid("mac", "unterminated"))?
                + 6;
            let mut out = slice[..ms].to_vec();
            out.extend_from_slice(&slice[me..]);
            Ok(out)
        }
    }
}

/// Position of `target` among elements with its own prefix and local name, document order.
fn index_among_same_qname(root: &Element, target: &Element, local: &str) -> usize {
    fn walk(e: &Element, t: &Element, local: &str, count: &mut usize) -> bool {
        if std::ptr::eq(e, t) {
            return true;
        }
        if e.local == local && e.prefix == t.prefix {
            *count += 1;
        }
        e.elements().any(|c| walk(c, t, local, count))
    }
    let mut c = 0;
    walk(root, target, local, &mut c);
    c
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
