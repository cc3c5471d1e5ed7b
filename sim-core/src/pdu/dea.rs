//! RI/LRM ↔ DEA messages of the SCE Domain TS (seed 000): Get User Domain Authorization
//! (§7.2.2), Proxy Join User Domain (§7.4), Proxy Leave User Domain (§7.5). Elements are in
//! the `dom` namespace with SCE-GEN `gen:Request`/`gen:Response` content, children
//! unqualified. Their `<signature>` is a MAC under the MK of the RI–DEA context.

use super::common::*;
use super::moves::{UserDomainAuthorization, MAX_AUTHZ};
use super::ns;
use super::roap::DomainRequest;
use super::{PduError, Status};
use crate::xml::Element;

/// Most user domains asked for in one Get User Domain Authorization Request.
pub const MAX_USER_DOMAINS: usize = 64;

/// The SCE-GEN request/response header fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GenHeader {
    /// `<triggerNone/>` (requests only): the request was not triggered.
    pub trigger_none: bool,
    /// `<sessionId>`.
    pub session_id: Option<String>,
    /// `<reqID>`: the requester (RI/LRM).
    pub req_id: Identifier,
    /// `<resID>`: the responder (DEA).
    pub res_id: Identifier,
    /// `<nonce>`.
    pub nonce: Vec<u8>,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
}

impl GenHeader {
    fn push(&self, e: &mut Element) {
        if self.trigger_none {
            e.push(Element::plain("triggerNone"));
        }
        if let Some(s) = &self.session_id {
            e.push(leaf("sessionId", s.clone()));
        }
        e.push(self.req_id.to_element("reqID"));
        e.push(self.res_id.to_element("resID"));
        e.push(b64_leaf("nonce", &self.nonce));
        push_chain_ocsp(e, &self.certificate_chain, &[]);
    }
    fn read(k: &mut Kids<'_>) -> Result<Self, PduError> {
        Ok(GenHeader {
            trigger_none: k.opt("triggerNone").is_some(),
            session_id: k.opt_text("sessionId"),
            req_id: Identifier::from_element(k.req("reqID")?)?,
            res_id: Identifier::from_element(k.req("resID")?)?,
            nonce: k.b64("nonce")?,
            certificate_chain: opt_chain(k, "certificateChain")?,
        })
    }
}

fn dom_root(local: &str) -> Element {
    root("dom", ns::SCE_DOM, local)
}

/// One `<userDomainID domainID="..">` of a Get User Domain Authorization Request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserDomainRequest {
    /// The User Domain ID.
    pub user_domain_id: String,
    /// `domainID` attribute: ROAP Domain to map onto it; absent = no Proxy Join allowed.
    pub domain_id: Option<String>,
}

/// `rdpGetUserDomainAuthorization` (seed 000 §7.2.2): RI/LRM → DEA.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GetUserDomainAuthorizationRequest {
    /// Header.
    pub header: GenHeader,
    /// `<reqInfo><userDomainID>`+.
    pub user_domains: Vec<UserDomainRequest>,
    /// `<signature>` (MAC).
    pub signature: Vec<u8>,
}

impl GetUserDomainAuthorizationRequest {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = dom_root("rdpGetUserDomainAuthorization");
        self.header.push(&mut e);
        let mut info = Element::plain("reqInfo");
        for u in &self.user_domains {
            let mut x = leaf("userDomainID", u.user_domain_id.clone());
            if let Some(d) = &u.domain_id {
                x = x.with_attr("domainID", d.clone());
            }
            info.push(x);
        }
        e.with_child(info)
            .with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let header = GenHeader::read(&mut k)?;
        let info = k.req("reqInfo")?;
        let mut ik = Kids::of(info)?;
        let user_domains = ik
            .some("userDomainID", MAX_USER_DOMAINS)?
            .into_iter()
            .map(|u| UserDomainRequest {
                user_domain_id: u.text(),
                domain_id: u.attr("domainID").map(str::to_string),
            })
            .collect();
        ik.skip_any();
        let signature = k.b64("signature")?;
        k.end()?;
        Ok(GetUserDomainAuthorizationRequest {
            header,
            user_domains,
            signature,
        })
    }
}

/// `rdpGetUserDomainAuthorizationResponse`: DEA → RI/LRM. Seed 000 does not spell the
/// response out; it returns one DEA-signed [`UserDomainAuthorization`] per granted domain,
/// the structure seed 003 §9.2.3 has the RI forward as `<RIUserDomainAuthorization>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GetUserDomainAuthorizationResponse {
    /// `status` attribute.
    pub status: Status,
    /// Header.
    pub header: GenHeader,
    /// `<resInfo><RIUserDomainAuthorization>`+ (absent on error).
    pub authorizations: Option<Vec<UserDomainAuthorization>>,
    /// `<resInfo><userDomainKey>`*: the UDKs of the granted User Domains, AES-wrapped under
    /// the MK (drmsim's reading, see [`UserDomainKeyGrant`]); only inside `<resInfo>`, so
    /// empty whenever `authorizations` is `None`.
    pub user_domain_keys: Vec<UserDomainKeyGrant>,
    /// `<signature>` (MAC).
    pub signature: Vec<u8>,
}

/// Most `<userDomainKey>` elements in one response (one per generation per User Domain).
pub const MAX_UDK_GRANTS: usize = 4096;

/// `<userDomainKey userDomainID=".." generation="g" [hashChain="true"]><encKey>`: one UDK
/// the DEA hands an authorized RI/LRM so it can issue User Domain ROs (seed 000 §7.2.2/§7.4
/// leave open how the issuer obtains the UDK; drmsim's reading: in the Get User Domain
/// Authorization Response, AES-wrapped (kw-aes128) under the MK of the requester's context).
/// With `hash_chain` only the newest generation is sent and the receiver derives older ones
/// as K(g−1) = KDF2-SHA1(K(g), 16) ([DRM-DRM-v2.1], seed 000 §7.4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserDomainKeyGrant {
    /// `userDomainID` attribute.
    pub user_domain_id: String,
    /// `generation` attribute: the generation of the wrapped UDK.
    pub generation: u32,
    /// `hashChain` attribute: older generations follow from this one by the hash chain.
    pub hash_chain: bool,
    /// `<encKey>`: the UDK AES-wrapped under the MK.
    pub enc_key: Encrypted,
}

impl UserDomainKeyGrant {
    fn to_element(&self) -> Element {
        let mut e = Element::plain("userDomainKey")
            .with_attr("userDomainID", self.user_domain_id.clone())
            .with_attr("generation", self.generation.to_string());
        if self.hash_chain {
            e = e.with_attr("hashChain", "true");
        }
        e.with_child(self.enc_key.to_element("encKey"))
    }

    fn from_element(el: &Element) -> Result<Self, PduError> {
        let generation = req_attr(el, "generation")?
            .parse::<u32>()
            .map_err(|_| PduError::invalid("userDomainKey", "generation is not a number"))?;
        let hash_chain = match el.attr("hashChain") {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(PduError::invalid("userDomainKey", "hashChain")),
        };
        let mut k = Kids::of(el)?;
        let enc_key = Encrypted::from_element(k.req("encKey")?)?;
        k.end()?;
        Ok(UserDomainKeyGrant {
            user_domain_id: req_attr(el, "userDomainID")?,
            generation,
            hash_chain,
            enc_key,
        })
    }
}

impl GetUserDomainAuthorizationResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = dom_root("rdpGetUserDomainAuthorizationResponse")
            .with_attr("status", self.status.as_str());
        self.header.push(&mut e);
        if let Some(v) = &self.authorizations {
            let mut info = Element::plain("resInfo");
            for a in v {
                info.push(a.to_element_named("RIUserDomainAuthorization"));
            }
            for g in &self.user_domain_keys {
                info.push(g.to_element());
            }
            e.push(info);
        }
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let header = GenHeader::read(&mut k)?;
        let mut user_domain_keys = Vec::new();
        let authorizations = match k.opt("resInfo") {
            None => None,
            Some(info) => {
                let mut ik = Kids::of(info)?;
                let v = ik
                    .many("RIUserDomainAuthorization", MAX_AUTHZ)?
                    .into_iter()
                    .map(UserDomainAuthorization::from_element)
                    .collect::<Result<_, _>>()?;
                user_domain_keys = ik
                    .many("userDomainKey", MAX_UDK_GRANTS)?
                    .into_iter()
                    .map(UserDomainKeyGrant::from_element)
                    .collect::<Result<_, _>>()?;
                ik.end()?;
                Some(v)
            }
        };
        let signature = k.b64("signature")?;
        k.end()?;
        Ok(GetUserDomainAuthorizationResponse {
            status,
            header,
            authorizations,
            user_domain_keys,
            signature,
        })
    }
}

/// `rdpProxyJoinUserDomainRequest` (§7.4.1) or `rdpProxyLeaveUserDomainRequest` (§7.5.1):
/// RI → DEA carrying the Device's ROAP request verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyDomainRequest {
    /// Header.
    pub header: GenHeader,
    /// `<reqInfo><joinDomainRequest>` / `<leaveDomainRequest>`: the Device's request, with
    /// its Device signature (the DEA verifies it, so it is kept field for field).
    pub device_request: DomainRequest,
    /// `<reqInfo><deviceCertificateChain>`: required when the request has no chain.
    pub device_certificate_chain: Option<CertificateChain>,
    /// `<signature>` (MAC under the MK of the DEA's ResContext).
    pub signature: Vec<u8>,
}

impl ProxyDomainRequest {
    /// DOM form; `join` selects the Join or Leave variant.
    pub fn to_element(&self, join: bool) -> Element {
        let (root_name, inner) = if join {
            ("rdpProxyJoinUserDomainRequest", "joinDomainRequest")
        } else {
            ("rdpProxyLeaveUserDomainRequest", "leaveDomainRequest")
        };
        let mut e = dom_root(root_name);
        self.header.push(&mut e);
        // The embedded request is the ROAP message itself (seed 000 §7.4.1 "as received"),
        // so it keeps its qualified roap: name and its own namespace declaration.
        let mut info =
            Element::plain("reqInfo").with_child(self.device_request.to_element_named(inner));
        if let Some(c) = &self.device_certificate_chain {
            info.push(c.to_element("deviceCertificateChain"));
        }
        e.with_child(info)
            .with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form; `join` selects the Join or Leave variant.
    pub fn from_element(el: &Element, join: bool) -> Result<Self, PduError> {
        let inner = if join {
            "joinDomainRequest"
        } else {
            "leaveDomainRequest"
        };
        let mut k = Kids::of(el)?;
        let header = GenHeader::read(&mut k)?;
        let info = k.req("reqInfo")?;
        let mut ik = Kids::of(info)?;
        let dr = ik.req(inner)?;
        if dr.ns.as_deref() != Some(ns::ROAP) {
            return Err(PduError::invalid(inner, "must be the roap: message"));
        }
        let device_request = DomainRequest::from_element(dr)?;
        let device_certificate_chain = opt_chain(&mut ik, "deviceCertificateChain")?;
        ik.skip_any();
        if device_request.certificate_chain.is_none() && device_certificate_chain.is_none() {
            return Err(PduError::Missing {
                parent: "reqInfo".into(),
                element: "deviceCertificateChain".into(),
            });
        }
        let signature = k.b64("signature")?;
        k.end()?;
        Ok(ProxyDomainRequest {
            header,
            device_request,
            device_certificate_chain,
            signature,
        })
    }
}

/// `<resInfo>` of a successful Proxy Join User Domain Response (§7.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyJoinResInfo {
    /// `<domainInfo>` for the v2.x Device.
    pub domain_info: Option<DomainInfo>,
    /// `<deviceID>` copied from the request.
    pub device_id: Option<Identifier>,
    /// `<hashChainSupport/>`: the DEA uses hash chains for the UDK.
    pub hash_chain_support: bool,
}

/// `rdpProxyJoinUserDomainResponse` (§7.4.2): DEA → RI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyJoinUserDomainResponse {
    /// `status` attribute.
    pub status: Status,
    /// Header.
    pub header: GenHeader,
    /// `<resInfo>` (absent on error, formatted per SCE-GEN).
    pub res_info: Option<ProxyJoinResInfo>,
    /// `<signature>` (MAC under the MK of the RI's ReqContext).
    pub signature: Vec<u8>,
}

impl ProxyJoinUserDomainResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e =
            dom_root("rdpProxyJoinUserDomainResponse").with_attr("status", self.status.as_str());
        self.header.push(&mut e);
        if let Some(r) = &self.res_info {
            let mut info = Element::plain("resInfo");
            if let Some(d) = &r.domain_info {
                info.push(d.to_element());
            }
            if let Some(d) = &r.device_id {
                info.push(d.to_element("deviceID"));
            }
            if r.hash_chain_support {
                info.push(Element::plain("hashChainSupport"));
            }
            e.push(info);
        }
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let header = GenHeader::read(&mut k)?;
        let res_info = match k.opt("resInfo") {
            None => None,
            Some(info) => {
                let mut ik = Kids::of(info)?;
                let r = ProxyJoinResInfo {
                    domain_info: ik
                        .opt("domainInfo")
                        .map(DomainInfo::from_element)
                        .transpose()?,
                    device_id: ik
                        .opt("deviceID")
                        .map(Identifier::from_element)
                        .transpose()?,
                    hash_chain_support: ik.opt("hashChainSupport").is_some(),
                };
                ik.end()?;
                Some(r)
            }
        };
        let signature = k.b64("signature")?;
        k.end()?;
        Ok(ProxyJoinUserDomainResponse {
            status,
            header,
            res_info,
            signature,
        })
    }
}

/// `rdpProxyLeaveUserDomainResponse` (§7.5.2): DEA → RI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyLeaveUserDomainResponse {
    /// `status` attribute.
    pub status: Status,
    /// Header.
    pub header: GenHeader,
    /// `<resInfo><userDomainId>`, `<deviceId>` (absent on error).
    pub res_info: Option<(String, Identifier)>,
    /// `<signature>` (MAC).
    pub signature: Vec<u8>,
}

impl ProxyLeaveUserDomainResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e =
            dom_root("rdpProxyLeaveUserDomainResponse").with_attr("status", self.status.as_str());
        self.header.push(&mut e);
        if let Some((ud, dev)) = &self.res_info {
            e.push(
                Element::plain("resInfo")
                    .with_child(leaf("userDomainId", ud.clone()))
                    .with_child(dev.to_element("deviceId")),
            );
        }
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let header = GenHeader::read(&mut k)?;
        let res_info = match k.opt("resInfo") {
            None => None,
            Some(info) => {
                let mut ik = Kids::of(info)?;
                let ud = ik.text("userDomainId")?;
                let dev = Identifier::from_element(ik.req("deviceId")?)?;
                ik.end()?;
                Some((ud, dev))
            }
        };
        let signature = k.b64("signature")?;
        k.end()?;
        Ok(ProxyLeaveUserDomainResponse {
            status,
            header,
            res_info,
            signature,
        })
    }
}
