//! ROAP/SCE protocol data units: typed structs, their DOM form, Exclusive-Canonical XML
//! encoding, hostile-input-safe decoding, signature/MAC inputs and symbolic digests.
//!
//! Every message is a variant of [`Pdu`]; see docs/pdus.md for namespaces, element names and
//! the readings chosen where the seeds are ambiguous.

pub mod auth;
mod codec;
pub mod common;
pub mod dea;
pub mod digest;
pub mod keys;
pub mod metering;
pub mod moves;
pub mod pairing;
pub mod ro;
pub mod roap;
pub mod sample;
pub mod status;
pub mod trigger;

pub use auth::{
    domain_key_mac_input, metering_report_mac_input, registration_transcript, MacInterpretation,
    RegistrationTranscript,
};
pub use common::{
    CertificateChain, DateTime, DomainInfo, DomainKey, Encrypted, Expiry, Ext, Extension,
    Identifier, KeyInfo,
};
pub use status::Status;

use crate::xml::Element;
use dea::*;
use digest::AuthRun;
use metering::*;
use moves::*;
use pairing::*;
use roap::*;
use trigger::*;

/// Namespace URIs (and the prefixes PDUs use for them).
pub mod ns {
    /// `roap`: ROAP messages and triggers (OMA-TS-DRM-DRM-V2_0).
    pub const ROAP: &str = "urn:oma:bac:dldrm:roap-1.0";
    /// `sceroap`: SCE ROAP extensions (Move, seed 003). Chosen URI, see docs/pdus.md.
    pub const SCE_ROAP: &str = "urn:oma:xml:sce:roap-1.0";
    /// `gen`: SCE-GEN (generic request/response/trigger). Chosen URI.
    pub const SCE_GEN: &str = "urn:oma:xml:sce:gen-1.0";
    /// `dom`: SCE Domain TS (DEA ↔ RI messages, seed 000). Chosen URI.
    pub const SCE_DOM: &str = "urn:oma:xml:sce:dom-1.0";
    /// `dmp`: SCE pairing-key management (seed 001). Chosen URI.
    pub const SCE_DMP: &str = "urn:oma:xml:sce:dmp-1.0";
    /// `xsi`: XML Schema instance (`xsi:type`).
    pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
    /// `ds`: XML-DSig.
    pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
    /// `xenc`: XML-Enc.
    pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
    /// `o-ex`: ODRL expression language.
    pub const ODRL_EX: &str = "http://odrl.net/1.1/ODRL-EX";
    /// `o-dd`: ODRL data dictionary.
    pub const ODRL_DD: &str = "http://odrl.net/1.1/ODRL-DD";
    /// `oma-dd`: OMA REL data dictionary.
    pub const OMA_DD: &str = "http://www.openmobilealliance.com/oma-dd";
}

/// Why a PDU could not be decoded. Every variant is fatal for the PDU (it cannot be used);
/// [`PduError::status`] gives the ROAP status to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PduError {
    /// Not well-formed XML, or a parser limit was hit.
    #[error("malformed XML: {0}")]
    Xml(String),
    /// The document element is not a known message.
    #[error("unknown message <{local}> in namespace {ns:?}")]
    UnknownRoot {
        /// Namespace of the root.
        ns: Option<String>,
        /// Local name of the root.
        local: String,
    },
    /// A mandatory element or attribute is missing.
    #[error("<{parent}> lacks mandatory {element}")]
    Missing {
        /// Parent element.
        parent: String,
        /// Missing element (or `@attribute`).
        element: String,
    },
    /// An element not allowed at this position.
    #[error("<{parent}> has unexpected child <{element}>")]
    Unexpected {
        /// Parent element.
        parent: String,
        /// Offending child.
        element: String,
    },
    /// A value violates its type.
    #[error("invalid <{element}>: {reason}")]
    Invalid {
        /// Element (or attribute) name.
        element: String,
        /// What is wrong.
        reason: String,
    },
    /// Content of a base64Binary element is not base64.
    #[error("bad base64 in <{0}>")]
    BadBase64(String),
    /// A critical extension this implementation does not know.
    #[error("unknown critical extension {0:?}")]
    UnknownCriticalExtension(String),
    /// A protocol version this implementation does not support.
    #[error("unsupported version {0:?}")]
    UnsupportedVersion(String),
}

impl PduError {
    pub(crate) fn invalid(element: &str, reason: &str) -> Self {
        PduError::Invalid {
            element: element.to_string(),
            reason: reason.to_string(),
        }
    }

    /// The ROAP status a receiver answers with.
    pub fn status(&self) -> Status {
        match self {
            PduError::UnknownRoot { .. } => Status::UnknownRequest,
            PduError::UnknownCriticalExtension(_) => Status::UnknownCriticalExtension,
            PduError::UnsupportedVersion(_) => Status::UnsupportedVersion,
            _ => Status::MalformedRequest,
        }
    }

    /// Always true: a PDU that fails to decode is dropped (the session may still answer it
    /// with [`PduError::status`]).
    pub fn is_fatal(&self) -> bool {
        true
    }
}

macro_rules! pdus {
    ($( $(#[$doc:meta])* $var:ident($ty:ty) = $prefix:literal : $local:literal in $ns:expr,
        auth $auth:expr, to |$x:ident| $to:expr, from |$e:ident| $from:expr; )*) => {
        /// Every ROAP / SCE message.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Pdu {
            $( $(#[$doc])* $var($ty), )*
        }

        /// Every message kind string, in [`Pdu`] declaration order.
        pub const ALL_KINDS: &[&str] = &[ $( concat!($prefix, ":", $local), )* ];

        impl Pdu {
            /// `prefix:localName` of the message, e.g. `roap:meteringReportSubmit`.
            pub fn kind(&self) -> &'static str {
                match self { $( Pdu::$var(_) => concat!($prefix, ":", $local), )* }
            }

            /// Index of [`Pdu::kind`] in [`ALL_KINDS`].
            pub fn kind_index(&self) -> usize {
                let k = self.kind();
                ALL_KINDS.iter().position(|x| *x == k).unwrap_or(0)
            }

            /// Name of the child element carrying the signature or MAC, if the message is
            /// authenticated.
            pub fn authenticator(&self) -> Option<&'static str> {
                match self { $( Pdu::$var(_) => $auth, )* }
            }

            /// The DOM tree of the message.
            pub fn to_element(&self) -> Element {
                match self { $( Pdu::$var($x) => $to, )* }
            }

            /// Reads a message from its DOM tree, dispatching on the root's namespace and
            /// local name.
            pub fn from_element(el: &Element) -> Result<Pdu, PduError> {
                $( if el.local == $local && el.ns.as_deref() == Some($ns) {
                    let $e = el;
                    return Ok(Pdu::$var($from?));
                } )*
                Err(PduError::UnknownRoot { ns: el.ns.as_deref().map(str::to_string), local: el.local.to_string() })
            }
        }
    };
}

const SIG: Option<&str> = Some("signature");
const MAC: Option<&str> = Some("mac");

pdus! {
    /// ROAP-DeviceHello.
    DeviceHello(DeviceHello) = "roap":"deviceHello" in ns::ROAP, auth None,
        to |x| x.to_element(), from |e| DeviceHello::from_element(e);
    /// ROAP-RIHello.
    RiHello(RiHello) = "roap":"riHello" in ns::ROAP, auth None,
        to |x| x.to_element(), from |e| RiHello::from_element(e);
    /// ROAP-RegistrationRequest.
    RegistrationRequest(RegistrationRequest) = "roap":"registrationRequest" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| RegistrationRequest::from_element(e);
    /// ROAP-RegistrationResponse.
    RegistrationResponse(RegistrationResponse) = "roap":"registrationResponse" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| RegistrationResponse::from_element(e);
    /// ROAP-RORequest.
    RoRequest(RoRequest) = "roap":"roRequest" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| RoRequest::from_element(e);
    /// ROAP-ROResponse.
    RoResponse(RoResponse) = "roap":"roResponse" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| RoResponse::from_element(e);
    /// ROAP-JoinDomainRequest.
    JoinDomainRequest(JoinDomainRequest) = "roap":"joinDomainRequest" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| JoinDomainRequest::from_element(e);
    /// ROAP-JoinDomainResponse.
    JoinDomainResponse(JoinDomainResponse) = "roap":"joinDomainResponse" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| JoinDomainResponse::from_element(e);
    /// ROAP-LeaveDomainRequest.
    LeaveDomainRequest(LeaveDomainRequest) = "roap":"leaveDomainRequest" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| LeaveDomainRequest::from_element(e);
    /// ROAP-LeaveDomainResponse (unsigned).
    LeaveDomainResponse(LeaveDomainResponse) = "roap":"leaveDomainResponse" in ns::ROAP, auth None,
        to |x| x.to_element(), from |e| LeaveDomainResponse::from_element(e);
    /// ROAP-MeteringReportSubmit (seed 004).
    MeteringReportSubmit(MeteringReportSubmit) = "roap":"meteringReportSubmit" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| MeteringReportSubmit::from_element(e);
    /// ROAP-MeteringReportResponse (seed 004).
    MeteringReportResponse(MeteringReportResponse) = "roap":"meteringReportResponse" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| MeteringReportResponse::from_element(e);
    /// ROAP Trigger.
    RoapTrigger(RoapTrigger) = "roap":"roapTrigger" in ns::ROAP, auth SIG,
        to |x| x.to_element(), from |e| RoapTrigger::from_element(e);
    /// MoveDeviceRORequest (seed 003 §9.1.1).
    MoveDeviceRoRequest(MoveRequest) = "sceroap":"moveDeviceRORequest" in ns::SCE_ROAP, auth SIG,
        to |x| x.to_element_named("moveDeviceRORequest"), from |e| MoveRequest::from_element(e);
    /// MoveDeviceROResponse (seed 003 §9.1.3).
    MoveDeviceRoResponse(MoveResponse) = "sceroap":"moveDeviceROResponse" in ns::SCE_ROAP, auth SIG,
        to |x| x.to_element_named("moveDeviceROResponse"), from |e| MoveResponse::from_element(e);
    /// MoveUserDomainConstrainedRORequest (seed 003 §9.2.1).
    MoveUserDomainConstrainedRoRequest(MoveRequest) = "sceroap":"moveUserDomainConstrainedRORequest" in ns::SCE_ROAP, auth SIG,
        to |x| x.to_element_named("moveUserDomainConstrainedRORequest"), from |e| MoveRequest::from_element(e);
    /// MoveUserDomainConstrainedROResponse (seed 003 §9.2.3).
    MoveUserDomainConstrainedRoResponse(MoveResponse) = "sceroap":"moveUserDomainConstrainedROResponse" in ns::SCE_ROAP, auth SIG,
        to |x| x.to_element_named("moveUserDomainConstrainedROResponse"), from |e| MoveResponse::from_element(e);
    /// Get User Domain Authorization Request (seed 000 §7.2.2).
    GetUserDomainAuthorizationRequest(GetUserDomainAuthorizationRequest) = "dom":"rdpGetUserDomainAuthorization" in ns::SCE_DOM, auth SIG,
        to |x| x.to_element(), from |e| GetUserDomainAuthorizationRequest::from_element(e);
    /// Get User Domain Authorization Response.
    GetUserDomainAuthorizationResponse(GetUserDomainAuthorizationResponse) = "dom":"rdpGetUserDomainAuthorizationResponse" in ns::SCE_DOM, auth SIG,
        to |x| x.to_element(), from |e| GetUserDomainAuthorizationResponse::from_element(e);
    /// Proxy Join User Domain Request (seed 000 §7.4.1).
    ProxyJoinUserDomainRequest(ProxyDomainRequest) = "dom":"rdpProxyJoinUserDomainRequest" in ns::SCE_DOM, auth SIG,
        to |x| x.to_element(true), from |e| ProxyDomainRequest::from_element(e, true);
    /// Proxy Join User Domain Response (seed 000 §7.4.2).
    ProxyJoinUserDomainResponse(ProxyJoinUserDomainResponse) = "dom":"rdpProxyJoinUserDomainResponse" in ns::SCE_DOM, auth SIG,
        to |x| x.to_element(), from |e| ProxyJoinUserDomainResponse::from_element(e);
    /// Proxy Leave User Domain Request (seed 000 §7.5.1).
    ProxyLeaveUserDomainRequest(ProxyDomainRequest) = "dom":"rdpProxyLeaveUserDomainRequest" in ns::SCE_DOM, auth SIG,
        to |x| x.to_element(false), from |e| ProxyDomainRequest::from_element(e, false);
    /// Proxy Leave User Domain Response (seed 000 §7.5.2).
    ProxyLeaveUserDomainResponse(ProxyLeaveUserDomainResponse) = "dom":"rdpProxyLeaveUserDomainResponse" in ns::SCE_DOM, auth SIG,
        to |x| x.to_element(), from |e| ProxyLeaveUserDomainResponse::from_element(e);
    /// Proxy Leave User Domain Trigger (seed 000 §7.6.1).
    ProxyLeaveUserDomainTrigger(ProxyLeaveUserDomainTrigger) = "gen":"trigger" in ns::SCE_GEN, auth SIG,
        to |x| x.to_element(), from |e| ProxyLeaveUserDomainTrigger::from_element(e);
    /// Join Domain Request for Pairing (seed 001 §7.2.1.1).
    PairingJoinDomainRequest(PairingJoinDomainRequest) = "dmp":"joinDomainRequest" in ns::SCE_DMP, auth SIG,
        to |x| x.to_element(), from |e| PairingJoinDomainRequest::from_element(e);
    /// Join Domain Response for Pairing (seed 001 §7.2.1.1).
    PairingJoinDomainResponse(PairingJoinDomainResponse) = "dmp":"joinDomainResponse" in ns::SCE_DMP, auth SIG,
        to |x| x.to_element(), from |e| PairingJoinDomainResponse::from_element(e);
    /// Pairing Ticket Request (seed 001 §7.2.1.2).
    PairingTicketRequest(PairingTicketRequest) = "dmp":"pairingTicketRequest" in ns::SCE_DMP, auth MAC,
        to |x| x.to_element(), from |e| PairingTicketRequest::from_element(e);
    /// Pairing Ticket Response (seed 001 §7.2.1.2).
    PairingTicketResponse(PairingTicketResponse) = "dmp":"pairingTicketResponse" in ns::SCE_DMP, auth MAC,
        to |x| x.to_element(), from |e| PairingTicketResponse::from_element(e);
    /// Authentication Request (seed 001 §7.2.1.2).
    AuthenticationRequest(AuthenticationRequest) = "dmp":"authenticationRequest" in ns::SCE_DMP, auth MAC,
        to |x| x.to_element(), from |e| AuthenticationRequest::from_element(e);
    /// Authentication Response (seed 001 §7.2.1.2).
    AuthenticationResponse(AuthenticationResponse) = "dmp":"authenticationResponse" in ns::SCE_DMP, auth MAC,
        to |x| x.to_element(), from |e| AuthenticationResponse::from_element(e);
    /// Import Initiation (seed 001 §7.2.1.2).
    ImportInitiation(ImportInitiation) = "dmp":"importInitiation" in ns::SCE_DMP, auth SIG,
        to |x| x.to_element(), from |e| ImportInitiation::from_element(e);
    /// Imported-RO Request (seed 001 §7.2.1.2).
    ImportedRoRequest(ImportedRoRequest) = "dmp":"importedRORequest" in ns::SCE_DMP, auth MAC,
        to |x| x.to_element(), from |e| ImportedRoRequest::from_element(e);
    /// Imported-RO Response (seed 001 §7.2.1.2).
    ImportedRoResponse(ImportedRoResponse) = "dmp":"importedROResponse" in ns::SCE_DMP, auth MAC,
        to |x| x.to_element(), from |e| ImportedRoResponse::from_element(e);
}

impl Pdu {
    /// The message in Exclusive Canonical Form (how ROAP PDUs are sent, seed 002 §5.3.3).
    ///
    /// Panics only if a string field holds characters XML cannot carry (e.g. U+0000), a
    /// simulator bug; use [`Pdu::try_encode`] where fields come from untrusted sources.
    pub fn encode(&self) -> Vec<u8> {
        codec::c14n(&self.to_element())
    }

    /// [`Pdu::encode`] that reports unencodable field content as [`PduError::Xml`].
    pub fn try_encode(&self) -> Result<Vec<u8>, PduError> {
        codec::try_c14n(&self.to_element())
    }

    /// Decodes a received PDU; hostile input yields a [`PduError`], never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Pdu, PduError> {
        let root = codec::parse_root(bytes)?;
        Pdu::from_element(&root)
    }

    /// The DOM tree without the signature/MAC element.
    pub fn to_element_unsigned(&self) -> Element {
        let mut e = self.to_element();
        if let Some(a) = self.authenticator() {
            e.children.retain(
                |n| !matches!(n, crate::xml::Node::Element(c) if c.local == a && c.ns.is_none()),
            );
        }
        e
    }

    /// Canonical octets the signature (or MAC) is computed over: the message without its
    /// `<signature>`/`<mac>` element (seed 004 §5.4.6.1.1). For the registration request and
    /// response use [`registration_transcript`] instead.
    pub fn signed_bytes(&self) -> Vec<u8> {
        codec::c14n(&self.to_element_unsigned())
    }

    /// Deterministic structural hash of every field except the signature/MAC (FNV-1a over
    /// the derived `Hash` encoding; see [`digest`]). Used in symbolic crypto mode.
    ///
    /// Computed in one walk of the message, without copying it: the walk skips the one
    /// signature/MAC byte run (see [`digest::SkipRun`]), which hashes exactly as the message
    /// with that value emptied would. Only a trigger's optional signature (cleared to `None`,
    /// which changes the encoding beyond the byte run) takes the copying path.
    pub fn symbolic_digest(&self) -> u64 {
        digest::digest_skipping(self.kind(), self, self.authenticator_run()).unwrap_or_else(|| {
            let mut c = self.clone();
            c.clear_authenticator();
            digest::fnv1a_of(&(c.kind(), &c))
        })
    }

    /// [`Pdu::symbolic_digest`] and [`Pdu::estimated_size_bytes`] in one walk (what signing
    /// and verifying in symbolic mode need).
    pub fn symbolic_digest_and_size(&self) -> (u64, usize) {
        match digest::digest_and_size_skipping(self.kind(), self, self.authenticator_run()) {
            Some((d, part)) => (d, part + digest::ROOT_OVERHEAD),
            None => (self.symbolic_digest(), self.estimated_size_bytes()),
        }
    }

    /// Where the signature/MAC value sits (what the symbolic digest leaves out).
    fn authenticator_run(&self) -> AuthRun<'_> {
        fn b(v: &[u8]) -> AuthRun<'_> {
            AuthRun::Bytes(v)
        }
        const NONE: AuthRun<'static> = AuthRun::Nothing;
        match self {
            Pdu::DeviceHello(_) | Pdu::RiHello(_) | Pdu::LeaveDomainResponse(_) => NONE,
            Pdu::RegistrationRequest(x) => b(&x.signature),
            Pdu::RegistrationResponse(x) => x.body.as_ref().map_or(NONE, |y| b(&y.signature)),
            Pdu::RoRequest(x) => b(&x.signature),
            Pdu::RoResponse(x) => x.body.as_ref().map_or(NONE, |y| b(&y.signature)),
            Pdu::JoinDomainRequest(x) => b(&x.0.signature),
            Pdu::LeaveDomainRequest(x) => b(&x.0.signature),
            Pdu::JoinDomainResponse(x) => x.body.as_ref().map_or(NONE, |y| b(&y.signature)),
            Pdu::MeteringReportSubmit(x) => b(&x.signature),
            Pdu::MeteringReportResponse(x) => x.body.as_ref().map_or(NONE, |y| b(&y.signature)),
            Pdu::RoapTrigger(x) => AuthRun::of_option(&x.signature),
            Pdu::MoveDeviceRoRequest(x) | Pdu::MoveUserDomainConstrainedRoRequest(x) => {
                b(&x.signature)
            }
            Pdu::MoveDeviceRoResponse(x) | Pdu::MoveUserDomainConstrainedRoResponse(x) => {
                b(&x.signature)
            }
            Pdu::GetUserDomainAuthorizationRequest(x) => b(&x.signature),
            Pdu::GetUserDomainAuthorizationResponse(x) => b(&x.signature),
            Pdu::ProxyJoinUserDomainRequest(x) | Pdu::ProxyLeaveUserDomainRequest(x) => {
                b(&x.signature)
            }
            Pdu::ProxyJoinUserDomainResponse(x) => b(&x.signature),
            Pdu::ProxyLeaveUserDomainResponse(x) => b(&x.signature),
            Pdu::ProxyLeaveUserDomainTrigger(x) => AuthRun::of_option(&x.signature),
            Pdu::PairingJoinDomainRequest(x) => b(&x.signature),
            Pdu::PairingJoinDomainResponse(x) => b(&x.signature),
            Pdu::PairingTicketRequest(x) => b(&x.mac),
            Pdu::PairingTicketResponse(x) => b(&x.mac),
            Pdu::AuthenticationRequest(x) => b(&x.mac),
            Pdu::AuthenticationResponse(x) => b(&x.mac),
            Pdu::ImportInitiation(x) => b(&x.signature),
            Pdu::ImportedRoRequest(x) => b(&x.mac),
            Pdu::ImportedRoResponse(x) => b(&x.mac),
        }
    }

    /// A cheap estimate of `self.encode().len()` that produces no XML (symbolic mode).
    pub fn estimated_size_bytes(&self) -> usize {
        digest::estimate_size(self)
    }

    /// Empties the signature/MAC value(s) in place.
    pub fn clear_authenticator(&mut self) {
        fn c(v: &mut Vec<u8>) {
            v.clear()
        }
        match self {
            Pdu::DeviceHello(_) | Pdu::RiHello(_) | Pdu::LeaveDomainResponse(_) => {}
            Pdu::RegistrationRequest(x) => c(&mut x.signature),
            Pdu::RegistrationResponse(x) => {
                if let Some(b) = &mut x.body {
                    c(&mut b.signature)
                }
            }
            Pdu::RoRequest(x) => c(&mut x.signature),
            Pdu::RoResponse(x) => {
                if let Some(b) = &mut x.body {
                    c(&mut b.signature)
                }
            }
            Pdu::JoinDomainRequest(x) => c(&mut x.0.signature),
            Pdu::LeaveDomainRequest(x) => c(&mut x.0.signature),
            Pdu::JoinDomainResponse(x) => {
                if let Some(b) = &mut x.body {
                    c(&mut b.signature)
                }
            }
            Pdu::MeteringReportSubmit(x) => c(&mut x.signature),
            Pdu::MeteringReportResponse(x) => {
                if let Some(b) = &mut x.body {
                    c(&mut b.signature)
                }
            }
            Pdu::RoapTrigger(x) => x.signature = None,
            Pdu::MoveDeviceRoRequest(x) | Pdu::MoveUserDomainConstrainedRoRequest(x) => {
                c(&mut x.signature)
            }
            Pdu::MoveDeviceRoResponse(x) | Pdu::MoveUserDomainConstrainedRoResponse(x) => {
                c(&mut x.signature)
            }
            Pdu::GetUserDomainAuthorizationRequest(x) => c(&mut x.signature),
            Pdu::GetUserDomainAuthorizationResponse(x) => c(&mut x.signature),
            Pdu::ProxyJoinUserDomainRequest(x) | Pdu::ProxyLeaveUserDomainRequest(x) => {
                c(&mut x.signature)
            }
            Pdu::ProxyJoinUserDomainResponse(x) => c(&mut x.signature),
            Pdu::ProxyLeaveUserDomainResponse(x) => c(&mut x.signature),
            Pdu::ProxyLeaveUserDomainTrigger(x) => x.signature = None,
            Pdu::PairingJoinDomainRequest(x) => c(&mut x.signature),
            Pdu::PairingJoinDomainResponse(x) => c(&mut x.signature),
            Pdu::PairingTicketRequest(x) => c(&mut x.mac),
            Pdu::PairingTicketResponse(x) => c(&mut x.mac),
            Pdu::AuthenticationRequest(x) => c(&mut x.mac),
            Pdu::AuthenticationResponse(x) => c(&mut x.mac),
            Pdu::ImportInitiation(x) => c(&mut x.signature),
            Pdu::ImportedRoRequest(x) => c(&mut x.mac),
            Pdu::ImportedRoResponse(x) => c(&mut x.mac),
        }
    }
}

/// Exclusive Canonical XML of any DOM element (as a document subset apex).
pub fn canonicalize(el: &Element) -> Vec<u8> {
    codec::c14n(el)
}

/// Parses PDU bytes into a DOM tree with the PDU parser's limits.
pub fn parse_element(bytes: &[u8]) -> Result<Element, PduError> {
    codec::parse_root(bytes)
}
