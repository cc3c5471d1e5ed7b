//! What travels between actors: ROAP/SCE PDUs (as canonical XML bytes in real mode, as
//! structs in symbolic mode), OCSP exchanges, and the HTTP GET of a Post Response URL.

use crate::crypto::CryptoMode;
use crate::engine::Message;
use crate::pdu::{Pdu, PduError};
use std::sync::{Arc, OnceLock};

/// A PDU in transit. Cloning is cheap (shared).
#[derive(Debug, Clone)]
pub struct Wire(Arc<WireInner>);

#[derive(Debug)]
struct WireInner {
    kind: &'static str,
    size_bytes: u32,
    body: WireBody,
    /// Content identity for repeat detection (`repeats.rs`), computed at most once per
    /// message however many copies the network makes.
    identity: OnceLock<[u8; 32]>,
}

#[derive(Debug)]
enum WireBody {
    /// Real mode: the Exclusive-Canonical XML octets; the receiver parses them.
    Xml(Vec<u8>),
    /// Symbolic mode: the struct itself; size is the PDU's estimated encoded size.
    Struct(Box<Pdu>),
}

impl Wire {
    /// Packs `pdu` for the wire in `mode`.
    pub fn new(mode: CryptoMode, pdu: Pdu) -> Wire {
        let kind = pdu.kind();
        match mode {
            CryptoMode::Real => {
                let xml = pdu.encode();
                Wire(Arc::new(WireInner {
                    kind,
                    size_bytes: xml.len() as u32,
                    body: WireBody::Xml(xml),
                    identity: OnceLock::new(),
                }))
            }
            CryptoMode::Symbolic => Wire(Arc::new(WireInner {
                kind,
                size_bytes: pdu.estimated_size_bytes() as u32,
                body: WireBody::Struct(Box::new(pdu)),
                identity: OnceLock::new(),
            })),
        }
    }

    /// Raw octets claimed to be a PDU of `kind` (tamperers, replayers, fuzzing).
    pub fn from_xml(kind: &'static str, xml: Vec<u8>) -> Wire {
        Wire(Arc::new(WireInner {
            kind,
            size_bytes: xml.len() as u32,
            body: WireBody::Xml(xml),
            identity: OnceLock::new(),
        }))
    }

    /// Message type for traces.
    pub fn kind(&self) -> &'static str {
        self.0.kind
    }

    /// Size on the wire.
    pub fn size_bytes(&self) -> u32 {
        self.0.size_bytes
    }

    /// The XML octets (real mode only).
    pub fn xml(&self) -> Option<&[u8]> {
        match &self.0.body {
            WireBody::Xml(x) => Some(x),
            WireBody::Struct(_) => None,
        }
    }

    /// Whether `other` is this very message sent again (a stored response re-sent, a network
    /// duplicate), not merely one with equal content.
    pub fn same_message(&self, other: &Wire) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The PDU: parsed from the octets in real mode (hostile input gives a typed error).
    pub fn open(&self) -> Result<Pdu, PduError> {
        match &self.0.body {
            WireBody::Xml(x) => Pdu::decode(x),
            WireBody::Struct(p) => Ok((**p).clone()),
        }
    }

    /// The PDU of a symbolic message, moved out without a copy when this is the message's
    /// last handle (the usual case: the network made no duplicate and no store kept it);
    /// `Err(self)` for octets, which the caller parses with [`Wire::open`].
    pub fn take_struct(self) -> Result<Pdu, Wire> {
        if !matches!(self.0.body, WireBody::Struct(_)) {
            return Err(self);
        }
        match Arc::try_unwrap(self.0) {
            Ok(WireInner {
                body: WireBody::Struct(p),
                ..
            }) => Ok(*p),
            Ok(inner) => Err(Wire(Arc::new(inner))),
            Err(shared) => match &shared.body {
                WireBody::Struct(p) => Ok((**p).clone()),
                WireBody::Xml(_) => Err(Wire(shared)),
            },
        }
    }

    /// The PDU, without a copy where [`Wire::take_struct`] can; on a decoding error, the
    /// error and the message (to answer it by its kind and octets). The second value is the
    /// message when it was octets (callers that need [`Wire::xml`] after opening).
    pub fn into_pdu(self) -> Result<(Pdu, Option<Wire>), (Wire, PduError)> {
        match self.take_struct() {
            Ok(p) => Ok((p, None)),
            Err(w) => match w.open() {
                Ok(p) => Ok((p, Some(w))),
                Err(e) => Err((w, e)),
            },
        }
    }

    /// A content identity of the message: SHA-256 of its octets when it travels as octets
    /// (real mode, an adversary's re-serialisation), else SHA-256 of the PDU's structural
    /// digest (every field, signature included). Computed once per message and cached, so
    /// network duplicates of one message hash it once.
    pub fn identity(&self) -> [u8; 32] {
        *self.0.identity.get_or_init(|| match &self.0.body {
            WireBody::Xml(x) => crate::crypto::primitives::sha256(x),
            WireBody::Struct(p) => {
                crate::crypto::primitives::sha256(&crate::pdu::digest::fnv1a_of(&**p).to_be_bytes())
            }
        })
    }
}

/// An OCSP request: "what is the status of certificate `serial` from `issuer`?"
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspQuery {
    /// Issuer name of the certificate.
    pub issuer: String,
    /// Its serial number.
    pub serial: u64,
    /// Requester nonce to echo (ROAP registration binds the RI's OCSP response to it).
    pub nonce: Option<Vec<u8>>,
}

/// Every message of the protocol layer.
#[derive(Debug, Clone)]
pub enum SimMsg {
    /// A ROAP or SCE PDU.
    Pdu(Wire),
    /// OCSP request (RFC 6960 over HTTP).
    OcspRequest(Arc<OcspQuery>),
    /// OCSP response, in its wire encoding (see `pki_wire`).
    OcspResponse(Arc<Vec<u8>>),
    /// HTTP GET of a URL (Post Response URL, seed 003 §9.1.3 / seed 004 §5.4.6.2).
    HttpGet(Arc<str>),
    /// HTTP answer to a GET: status code and, on 200, a ROAP trigger.
    HttpResponse {
        /// The URL fetched.
        url: Arc<str>,
        /// HTTP status code.
        status: u16,
        /// The trigger returned on success.
        trigger: Option<Wire>,
    },
}

impl Message for SimMsg {
    fn kind(&self) -> &'static str {
        match self {
            SimMsg::Pdu(w) => w.kind(),
            SimMsg::OcspRequest(_) => "ocsp:request",
            SimMsg::OcspResponse(_) => "ocsp:response",
            SimMsg::HttpGet(_) => "http:get",
            SimMsg::HttpResponse { .. } => "http:response",
        }
    }

    fn size_bytes(&self) -> u32 {
        match self {
            SimMsg::Pdu(w) => w.size_bytes(),
            // Typical RFC 6960 request with a nonce extension.
            SimMsg::OcspRequest(_) => 120,
            SimMsg::OcspResponse(b) => b.len() as u32,
            SimMsg::HttpGet(u) => 200 + u.len() as u32,
            SimMsg::HttpResponse { trigger, .. } => {
                150 + trigger.as_ref().map_or(0, Wire::size_bytes)
            }
        }
    }
}
