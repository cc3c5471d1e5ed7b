//! Base ROAP messages (OMA-TS-DRM-DRM-V2_0 §5.4, namespace `urn:oma:bac:dldrm:roap-1.0`,
//! local children unqualified as in seed 002 §G.1.9) and the Metering Report protocol as
//! changed by seed 004 §5.4.6.

use super::common::*;
use super::ns;
use super::ro::ProtectedRo;
use super::{PduError, Status};
use crate::xml::Element;

/// Most algorithms / device IDs / RO IDs accepted in one list.
pub const MAX_LIST: usize = 64;
/// Most protected ROs in one ROResponse.
pub const MAX_ROS: usize = 256;

pub(crate) fn roap_root(local: &str) -> Element {
    root("roap", ns::ROAP, local)
}

pub(crate) fn opt_b64_attr(el: &Element, name: &str) -> Result<Option<Vec<u8>>, PduError> {
    match el.attr(name) {
        None => Ok(None),
        Some(v) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(v)
                .map(Some)
                .map_err(|_| PduError::BadBase64(format!("@{name}")))
        }
    }
}

pub(crate) fn with_b64_attr(e: Element, name: &str, v: &Option<Vec<u8>>) -> Element {
    use base64::Engine;
    match v {
        Some(b) => e.with_attr(name, base64::engine::general_purpose::STANDARD.encode(b)),
        None => e,
    }
}

pub(crate) fn with_status(e: Element, s: Status) -> Element {
    e.with_attr("status", s.as_str())
}

// ---------------------------------------------------------------- 4-pass registration

/// ROAP-DeviceHello (§5.4.2.1): first message of the 4-pass registration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceHello {
    /// Highest ROAP version supported (`<version>`, "1.0").
    pub version: String,
    /// Device IDs (`<deviceID>`+).
    pub device_ids: Vec<Identifier>,
    /// Supported algorithm URIs.
    pub supported_algorithms: Vec<String>,
    /// Extensions.
    pub extensions: Vec<Ext>,
}

impl DeviceHello {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = roap_root("deviceHello").with_child(leaf("version", self.version.clone()));
        for id in &self.device_ids {
            e.push(id.to_element("deviceID"));
        }
        for a in &self.supported_algorithms {
            e.push(leaf("supportedAlgorithm", a.clone()));
        }
        push_exts(&mut e, &self.extensions);
        e
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let version = k.text("version")?;
        if !version.starts_with("1.") {
            return Err(PduError::UnsupportedVersion(version));
        }
        let device_ids = k
            .some("deviceID", MAX_LIST)?
            .into_iter()
            .map(Identifier::from_element)
            .collect::<Result<_, _>>()?;
        let supported_algorithms = k
            .many("supportedAlgorithm", MAX_LIST)?
            .into_iter()
            .map(Element::text)
            .collect();
        let extensions = opt_exts(&mut k)?;
        k.end()?;
        Ok(DeviceHello {
            version,
            device_ids,
            supported_algorithms,
            extensions,
        })
    }
}

/// Body of a successful ROAP-RIHello.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RiHelloBody {
    /// `<selectedVersion>`.
    pub selected_version: String,
    /// `<riID>`.
    pub ri_id: Identifier,
    /// `<riNonce>`.
    pub ri_nonce: Vec<u8>,
    /// `<selectedAlgorithm>`*.
    pub selected_algorithms: Vec<String>,
    /// `<serverInfo>` opaque state returned in the RegistrationRequest.
    pub server_info: Option<Vec<u8>>,
    /// Extensions.
    pub extensions: Vec<Ext>,
}

/// ROAP-RIHello (§5.4.2.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RiHello {
    /// `status` attribute.
    pub status: Status,
    /// `sessionId` attribute (present on success).
    pub session_id: Option<String>,
    /// Present on success.
    pub body: Option<RiHelloBody>,
}

impl RiHello {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_status(roap_root("riHello"), self.status);
        if let Some(s) = &self.session_id {
            e = e.with_attr("sessionId", s.clone());
        }
        if let Some(b) = &self.body {
            e.push(leaf("selectedVersion", b.selected_version.clone()));
            e.push(b.ri_id.to_element("riID"));
            e.push(b64_leaf("riNonce", &b.ri_nonce));
            for a in &b.selected_algorithms {
                e.push(leaf("selectedAlgorithm", a.clone()));
            }
            if let Some(si) = &b.server_info {
                e.push(b64_leaf("serverInfo", si));
            }
            push_exts(&mut e, &b.extensions);
        }
        e
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let session_id = el.attr("sessionId").map(str::to_string);
        let mut k = Kids::of(el)?;
        let body = match k.opt("selectedVersion") {
            None => None,
            Some(v) => Some(RiHelloBody {
                selected_version: v.text(),
                ri_id: Identifier::from_element(k.req("riID")?)?,
                ri_nonce: k.b64("riNonce")?,
                selected_algorithms: k
                    .many("selectedAlgorithm", MAX_LIST)?
                    .into_iter()
                    .map(Element::text)
                    .collect(),
                server_info: k.opt_b64("serverInfo")?,
                extensions: opt_exts(&mut k)?,
            }),
        };
        k.end()?;
        Ok(RiHello {
            status,
            session_id,
            body,
        })
    }
}

/// ROAP-RegistrationRequest (§5.4.2.1.3); its signature covers the session transcript.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistrationRequest {
    /// `sessionId` attribute from the RIHello.
    pub session_id: String,
    /// `triggerNonce` attribute when sent in response to a trigger.
    pub trigger_nonce: Option<Vec<u8>>,
    /// `<nonce>`.
    pub nonce: Vec<u8>,
    /// `<time>` DRM Time.
    pub time: DateTime,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// `<trustedAuthorities>`: SPKI hashes of trusted roots.
    pub trusted_authorities: Vec<Identifier>,
    /// `<serverInfo>` echoed from the RIHello.
    pub server_info: Option<Vec<u8>>,
    /// Extensions.
    pub extensions: Vec<Ext>,
    /// `<signature>`.
    pub signature: Vec<u8>,
}

impl RegistrationRequest {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let e = roap_root("registrationRequest").with_attr("sessionId", self.session_id.clone());
        let mut e = with_b64_attr(e, "triggerNonce", &self.trigger_nonce)
            .with_child(b64_leaf("nonce", &self.nonce))
            .with_child(leaf("time", self.time.to_xml()));
        push_chain_ocsp(&mut e, &self.certificate_chain, &[]);
        if !self.trusted_authorities.is_empty() {
            let mut ta = Element::plain("trustedAuthorities");
            for t in &self.trusted_authorities {
                ta.push(t.key_identifier());
            }
            e.push(ta);
        }
        if let Some(si) = &self.server_info {
            e.push(b64_leaf("serverInfo", si));
        }
        push_exts(&mut e, &self.extensions);
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let session_id = req_attr(el, "sessionId")?;
        let trigger_nonce = opt_b64_attr(el, "triggerNonce")?;
        let mut k = Kids::of(el)?;
        let nonce = k.b64("nonce")?;
        let time = DateTime::parse(&k.text("time")?)?;
        let certificate_chain = opt_chain(&mut k, "certificateChain")?;
        let trusted_authorities = match k.opt("trustedAuthorities") {
            None => Vec::new(),
            Some(ta) => {
                let mut kk = Kids::of(ta)?;
                let v = kk
                    .many("keyIdentifier", MAX_LIST)?
                    .into_iter()
                    .map(Identifier::from_key_identifier)
                    .collect::<Result<_, _>>()?;
                kk.end()?;
                v
            }
        };
        let server_info = k.opt_b64("serverInfo")?;
        let extensions = opt_exts(&mut k)?;
        let signature = k.b64("signature")?;
        k.end()?;
        Ok(RegistrationRequest {
            session_id,
            trigger_nonce,
            nonce,
            time,
            certificate_chain,
            trusted_authorities,
            server_info,
            extensions,
            signature,
        })
    }
}

/// Body of a ROAP-RegistrationResponse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistrationResponseBody {
    /// `<riID>`.
    pub ri_id: Identifier,
    /// `<riURL>`: where subsequent ROAP requests go.
    pub ri_url: String,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// `<ocspResponse>`*.
    pub ocsp_responses: Vec<Vec<u8>>,
    /// Extensions.
    pub extensions: Vec<Ext>,
    /// `<signature>` over the session transcript.
    pub signature: Vec<u8>,
}

/// ROAP-RegistrationResponse (§5.4.2.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistrationResponse {
    /// `status` attribute.
    pub status: Status,
    /// `sessionId` attribute.
    pub session_id: String,
    /// Present on success.
    pub body: Option<RegistrationResponseBody>,
}

impl RegistrationResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_status(roap_root("registrationResponse"), self.status)
            .with_attr("sessionId", self.session_id.clone());
        if let Some(b) = &self.body {
            e.push(b.ri_id.to_element("riID"));
            e.push(leaf("riURL", b.ri_url.clone()));
            push_chain_ocsp(&mut e, &b.certificate_chain, &b.ocsp_responses);
            push_exts(&mut e, &b.extensions);
            e.push(b64_leaf("signature", &b.signature));
        }
        e
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let session_id = req_attr(el, "sessionId")?;
        let mut k = Kids::of(el)?;
        let body = match k.opt("riID") {
            None => None,
            Some(r) => Some(RegistrationResponseBody {
                ri_id: Identifier::from_element(r)?,
                ri_url: k.text("riURL")?,
                certificate_chain: opt_chain(&mut k, "certificateChain")?,
                ocsp_responses: ocsp_list(&mut k)?,
                extensions: opt_exts(&mut k)?,
                signature: k.b64("signature")?,
            }),
        };
        k.end()?;
        Ok(RegistrationResponse {
            status,
            session_id,
            body,
        })
    }
}

// ---------------------------------------------------------------- RO acquisition

/// ROAP-RORequest (§5.4.2.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoRequest {
    /// `triggerNonce` attribute.
    pub trigger_nonce: Option<Vec<u8>>,
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<domainID>` when requesting Domain ROs.
    pub domain_id: Option<String>,
    /// `<riID>`.
    pub ri_id: Identifier,
    /// `<nonce>`.
    pub nonce: Vec<u8>,
    /// `<time>`.
    pub time: DateTime,
    /// `<roInfo>/<roID>`+.
    pub ro_ids: Vec<String>,
    /// `<roInfo>/<dcfHash>`: SHA-1 of the DCF the ROs are for.
    pub dcf_hash: Option<Vec<u8>>,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// Extensions.
    pub extensions: Vec<Ext>,
    /// `<signature>`.
    pub signature: Vec<u8>,
}

impl RoRequest {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_b64_attr(roap_root("roRequest"), "triggerNonce", &self.trigger_nonce)
            .with_child(self.device_id.to_element("deviceID"));
        if let Some(d) = &self.domain_id {
            e.push(leaf("domainID", d.clone()));
        }
        e.push(self.ri_id.to_element("riID"));
        e.push(b64_leaf("nonce", &self.nonce));
        e.push(leaf("time", self.time.to_xml()));
        let mut info = Element::plain("roInfo");
        for r in &self.ro_ids {
            info.push(leaf("roID", r.clone()));
        }
        if let Some(h) = &self.dcf_hash {
            info.push(b64_leaf("dcfHash", h));
        }
        e.push(info);
        push_chain_ocsp(&mut e, &self.certificate_chain, &[]);
        push_exts(&mut e, &self.extensions);
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let trigger_nonce = opt_b64_attr(el, "triggerNonce")?;
        let mut k = Kids::of(el)?;
        let device_id = Identifier::from_element(k.req("deviceID")?)?;
        let domain_id = k.opt_text("domainID");
        let ri_id = Identifier::from_element(k.req("riID")?)?;
        let nonce = k.b64("nonce")?;
        let time = DateTime::parse(&k.text("time")?)?;
        let info = k.req("roInfo")?;
        let mut ik = Kids::of(info)?;
        let ro_ids = ik
            .some("roID", MAX_LIST)?
            .into_iter()
            .map(Element::text)
            .collect();
        let dcf_hash = ik.opt_b64("dcfHash")?;
        ik.end()?;
        let certificate_chain = opt_chain(&mut k, "certificateChain")?;
        let extensions = opt_exts(&mut k)?;
        let signature = k.b64("signature")?;
        k.end()?;
        Ok(RoRequest {
            trigger_nonce,
            device_id,
            domain_id,
            ri_id,
            nonce,
            time,
            ro_ids,
            dcf_hash,
            certificate_chain,
            extensions,
            signature,
        })
    }
}

/// Body of a ROAP-ROResponse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoResponseBody {
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<riID>`.
    pub ri_id: Identifier,
    /// `<nonce>` echoed from the request.
    pub nonce: Vec<u8>,
    /// `<protectedRO>`*.
    pub protected_ros: Vec<ProtectedRo>,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// `<ocspResponse>`*.
    pub ocsp_responses: Vec<Vec<u8>>,
    /// Extensions.
    pub extensions: Vec<Ext>,
    /// `<signature>`.
    pub signature: Vec<u8>,
}

/// ROAP-ROResponse (§5.4.2.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoResponse {
    /// `status` attribute.
    pub status: Status,
    /// Present on success.
    pub body: Option<RoResponseBody>,
}

impl RoResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_status(roap_root("roResponse"), self.status);
        if let Some(b) = &self.body {
            e.push(b.device_id.to_element("deviceID"));
            e.push(b.ri_id.to_element("riID"));
            e.push(b64_leaf("nonce", &b.nonce));
            for p in &b.protected_ros {
                e.push(p.to_element());
            }
            push_chain_ocsp(&mut e, &b.certificate_chain, &b.ocsp_responses);
            push_exts(&mut e, &b.extensions);
            e.push(b64_leaf("signature", &b.signature));
        }
        e
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let body = match k.opt("deviceID") {
            None => None,
            Some(d) => Some(RoResponseBody {
                device_id: Identifier::from_element(d)?,
                ri_id: Identifier::from_element(k.req("riID")?)?,
                nonce: k.b64("nonce")?,
                protected_ros: k
                    .many("protectedRO", MAX_ROS)?
                    .into_iter()
                    .map(ProtectedRo::from_element)
                    .collect::<Result<_, _>>()?,
                certificate_chain: opt_chain(&mut k, "certificateChain")?,
                ocsp_responses: ocsp_list(&mut k)?,
                extensions: opt_exts(&mut k)?,
                signature: k.b64("signature")?,
            }),
        };
        k.end()?;
        Ok(RoResponse { status, body })
    }
}

// ---------------------------------------------------------------- domains

/// ROAP-JoinDomainRequest (§5.4.4.1) and ROAP-LeaveDomainRequest (§5.4.5.1) share this shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainRequest {
    /// `triggerNonce` attribute.
    pub trigger_nonce: Option<Vec<u8>>,
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<riID>`.
    pub ri_id: Identifier,
    /// `<nonce>`.
    pub nonce: Vec<u8>,
    /// `<time>`.
    pub time: DateTime,
    /// `<domainID>` (domain identifier incl. 3-digit generation).
    pub domain_id: String,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// `<notMember/>` (LeaveDomainRequest only: Device is not a member any more).
    pub not_member: bool,
    /// Extensions.
    pub extensions: Vec<Ext>,
    /// `<signature>`.
    pub signature: Vec<u8>,
}

impl DomainRequest {
    /// DOM form under the root name `local` in namespace `roap`.
    pub fn to_element_named(&self, local: &str) -> Element {
        let mut e = with_b64_attr(roap_root(local), "triggerNonce", &self.trigger_nonce)
            .with_child(self.device_id.to_element("deviceID"))
            .with_child(self.ri_id.to_element("riID"))
            .with_child(b64_leaf("nonce", &self.nonce))
            .with_child(leaf("time", self.time.to_xml()))
            .with_child(leaf("domainID", self.domain_id.clone()));
        push_chain_ocsp(&mut e, &self.certificate_chain, &[]);
        if self.not_member {
            e.push(Element::plain("notMember"));
        }
        push_exts(&mut e, &self.extensions);
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form (any root name).
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let trigger_nonce = opt_b64_attr(el, "triggerNonce")?;
        let mut k = Kids::of(el)?;
        let r = DomainRequest {
            trigger_nonce,
            device_id: Identifier::from_element(k.req("deviceID")?)?,
            ri_id: Identifier::from_element(k.req("riID")?)?,
            nonce: k.b64("nonce")?,
            time: DateTime::parse(&k.text("time")?)?,
            domain_id: k.text("domainID")?,
            certificate_chain: opt_chain(&mut k, "certificateChain")?,
            not_member: k.opt("notMember").is_some(),
            extensions: opt_exts(&mut k)?,
            signature: k.b64("signature")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// ROAP-JoinDomainRequest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JoinDomainRequest(pub DomainRequest);

/// ROAP-LeaveDomainRequest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaveDomainRequest(pub DomainRequest);

impl JoinDomainRequest {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        self.0.to_element_named("joinDomainRequest")
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        DomainRequest::from_element(el).map(JoinDomainRequest)
    }
}

impl LeaveDomainRequest {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        self.0.to_element_named("leaveDomainRequest")
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        DomainRequest::from_element(el).map(LeaveDomainRequest)
    }
}

/// Body of a successful ROAP-JoinDomainResponse (seed 002 §5.4.4.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JoinDomainResponseBody {
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<riID>`.
    pub ri_id: Identifier,
    /// `<nonce>` echoed from the request.
    pub nonce: Vec<u8>,
    /// `<domainInfo>`.
    pub domain_info: DomainInfo,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// `<ocspResponse>`*.
    pub ocsp_responses: Vec<Vec<u8>>,
    /// Extensions (Hash Chain Support, seed 000 §7.4.1.2).
    pub extensions: Vec<Ext>,
    /// `<signature>`.
    pub signature: Vec<u8>,
}

/// ROAP-JoinDomainResponse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JoinDomainResponse {
    /// `status` attribute.
    pub status: Status,
    /// Present on success (error responses carry only the status, seed 000 §7.4.1.2).
    pub body: Option<JoinDomainResponseBody>,
}

impl JoinDomainResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_status(roap_root("joinDomainResponse"), self.status);
        if let Some(b) = &self.body {
            e.push(b.device_id.to_element("deviceID"));
            e.push(b.ri_id.to_element("riID"));
            e.push(b64_leaf("nonce", &b.nonce));
            e.push(b.domain_info.to_element());
            push_chain_ocsp(&mut e, &b.certificate_chain, &b.ocsp_responses);
            push_exts(&mut e, &b.extensions);
            e.push(b64_leaf("signature", &b.signature));
        }
        e
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let body = match k.opt("deviceID") {
            None => None,
            Some(d) => Some(JoinDomainResponseBody {
                device_id: Identifier::from_element(d)?,
                ri_id: Identifier::from_element(k.req("riID")?)?,
                nonce: k.b64("nonce")?,
                domain_info: DomainInfo::from_element(k.req("domainInfo")?)?,
                certificate_chain: opt_chain(&mut k, "certificateChain")?,
                ocsp_responses: ocsp_list(&mut k)?,
                extensions: opt_exts(&mut k)?,
                signature: k.b64("signature")?,
            }),
        };
        k.end()?;
        Ok(JoinDomainResponse { status, body })
    }
}

/// Body of a successful ROAP-LeaveDomainResponse (fields per seed 000 §7.5.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaveDomainResponseBody {
    /// `<nonce>` echoed from the request.
    pub nonce: Vec<u8>,
    /// `<domainID>` left.
    pub domain_id: String,
    /// Extensions (none defined).
    pub extensions: Vec<Ext>,
}

/// ROAP-LeaveDomainResponse (unsigned in ROAP v2.0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaveDomainResponse {
    /// `status` attribute.
    pub status: Status,
    /// Present on success.
    pub body: Option<LeaveDomainResponseBody>,
}

impl LeaveDomainResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_status(roap_root("leaveDomainResponse"), self.status);
        if let Some(b) = &self.body {
            e.push(b64_leaf("nonce", &b.nonce));
            e.push(leaf("domainID", b.domain_id.clone()));
            push_exts(&mut e, &b.extensions);
        }
        e
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let body = match k.opt("nonce") {
            None => None,
            Some(n) => Some(LeaveDomainResponseBody {
                nonce: b64_decode(n)?,
                domain_id: k.text("domainID")?,
                extensions: opt_exts(&mut k)?,
            }),
        };
        k.end()?;
        Ok(LeaveDomainResponse { status, body })
    }
}
