//! SCE Move via RI (seed 003 §9.1, §9.2): MoveDeviceRO and Move `<userDomain>`-constrained RO
//! request/response, RightsInfo and User Domain Authorizations. Namespace `sceroap`.

use super::common::*;
use super::ns;
use super::ro::{duration_parse, duration_to_xml, ProtectedRo};
use super::{PduError, Status};
use crate::xml::Element;

/// Most ROs moved in one request.
pub const MAX_MOVED: usize = 64;
/// Most User Domain Authorizations in one message (one per user domain).
pub const MAX_AUTHZ: usize = 64;

/// State Information of the portion being moved (seed 003 §9.1.3: partial Move).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct StateInfo {
    /// `<count>`: counts transferred.
    pub count: Option<u32>,
    /// `<interval>`: remaining interval transferred, seconds.
    pub interval_s: Option<u64>,
    /// `<accumulated>`: remaining accumulated time transferred, seconds.
    pub accumulated_s: Option<u64>,
}

/// One RO being moved with the state being transferred.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MovedRo {
    /// The RO as held by the Source Device (with the issuer's signature).
    pub protected_ro: ProtectedRo,
    /// State transferred (`None` = full Move of a stateless RO).
    pub state: Option<StateInfo>,
}

/// `<rightsInfo>` (sceroap:RightsInfo).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RightsInfo {
    /// `<roInfo>`+ entries.
    pub ros: Vec<MovedRo>,
}

impl RightsInfo {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = Element::plain("rightsInfo");
        for m in &self.ros {
            let mut r = Element::plain("roInfo").with_child(m.protected_ro.to_element());
            if let Some(s) = &m.state {
                let mut se = Element::plain("stateInfo");
                if let Some(c) = s.count {
                    se.push(leaf("count", c.to_string()));
                }
                if let Some(i) = s.interval_s {
                    se.push(leaf("interval", duration_to_xml(i)));
                }
                if let Some(a) = s.accumulated_s {
                    se.push(leaf("accumulated", duration_to_xml(a)));
                }
                r.push(se);
            }
            e.push(r);
        }
        e
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let mut ros = Vec::new();
        for r in k.some("roInfo", MAX_MOVED)? {
            let mut rk = Kids::of(r)?;
            let protected_ro = ProtectedRo::from_element(rk.req("protectedRO")?)?;
            let state = match rk.opt("stateInfo") {
                None => None,
                Some(s) => {
                    let mut sk = Kids::of(s)?;
                    let st = StateInfo {
                        count: sk.opt_text("count").map(|t| num("count", &t)).transpose()?,
                        interval_s: sk
                            .opt_text("interval")
                            .map(|t| duration_parse(&t))
                            .transpose()?,
                        accumulated_s: sk
                            .opt_text("accumulated")
                            .map(|t| duration_parse(&t))
                            .transpose()?,
                    };
                    sk.end()?;
                    Some(st)
                }
            };
            rk.end()?;
            ros.push(MovedRo {
                protected_ro,
                state,
            });
        }
        k.end()?;
        Ok(RightsInfo { ros })
    }
}

/// A DEA-signed User Domain Authorization (seed 003 §9.2.3 step 4; the same structure is
/// returned by rdpGetUserDomainAuthorization, seed 000 §7.2.2). Written as
/// `<RIUserDomainAuthorization>` or `<sourceDeviceUserDomainAuthorization>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserDomainAuthorization {
    /// Which element carries it on the wire; the DEA signs that element (seed 003 §9.2).
    pub holder: UdaHolder,
    /// `<userDomainID>`.
    pub user_domain_id: String,
    /// `<domainID>`: ROAP domain mapped onto the user domain (seed 000 §7.2.2 attribute).
    pub domain_id: Option<String>,
    /// `<entityId>`: the authorized RI/LRM/Device.
    pub entity_id: Identifier,
    /// `<deaID>`: the signing DEA.
    pub dea_id: Identifier,
    /// `<notBefore>`.
    pub not_before: DateTime,
    /// `<notAfter>`.
    pub not_after: Expiry,
    /// `<signature>` of the DEA over the element minus `<signature>`.
    pub signature: Vec<u8>,
}

/// The element a User Domain Authorization travels as. The DEA signs the element exactly as it
/// appears on the wire (its name included), so an authorization cannot change role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UdaHolder {
    /// `<RIUserDomainAuthorization>`: for an RI or LRM (seed 000 §7.2.2, seed 003 §9.2.3).
    Ri,
    /// `<sourceDeviceUserDomainAuthorization>`: for the moving Device (seed 003 §9.2.2).
    SourceDevice,
}

impl UdaHolder {
    /// The element name.
    pub fn element_name(self) -> &'static str {
        match self {
            UdaHolder::Ri => "RIUserDomainAuthorization",
            UdaHolder::SourceDevice => "sourceDeviceUserDomainAuthorization",
        }
    }
}

impl UserDomainAuthorization {
    /// DOM form as it travels (`<RIUserDomainAuthorization>` or
    /// `<sourceDeviceUserDomainAuthorization>`, per [`UserDomainAuthorization::holder`]).
    pub fn to_element(&self) -> Element {
        self.to_element_named(self.holder.element_name())
    }

    /// DOM form under `name`, in no namespace (embedded) or as its own root.
    pub fn to_element_named(&self, name: &str) -> Element {
        let mut e =
            Element::plain(name).with_child(leaf("userDomainID", self.user_domain_id.clone()));
        if let Some(d) = &self.domain_id {
            e.push(leaf("domainID", d.clone()));
        }
        e.with_child(self.entity_id.to_element("entityId"))
            .with_child(self.dea_id.to_element("deaID"))
            .with_child(leaf("notBefore", self.not_before.to_xml()))
            .with_child(leaf("notAfter", self.not_after.to_xml()))
            .with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form (any element name).
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let holder = if el.local == UdaHolder::SourceDevice.element_name() {
            UdaHolder::SourceDevice
        } else {
            UdaHolder::Ri
        };
        let r = UserDomainAuthorization {
            holder,
            user_domain_id: k.text("userDomainID")?,
            domain_id: k.opt_text("domainID"),
            entity_id: Identifier::from_element(k.req("entityId")?)?,
            dea_id: Identifier::from_element(k.req("deaID")?)?,
            not_before: DateTime::parse(&k.text("notBefore")?)?,
            not_after: Expiry::parse(&k.text("notAfter")?)?,
            signature: k.b64("signature")?,
        };
        k.end()?;
        Ok(r)
    }
}

fn sceroap_root(local: &str) -> Element {
    root("sceroap", ns::SCE_ROAP, local)
}

/// Move request: MoveDeviceRORequest (seed 003 §9.1.1) when `source_authorizations` is
/// empty and the root is `moveDeviceRORequest`; MoveUserDomainConstrainedRORequest (§9.2.1)
/// carries one `<sourceDeviceUserDomainAuthorization>` per user domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MoveRequest {
    /// `<reqID>`: the Source Device.
    pub req_id: Identifier,
    /// `<resID>`: the RI.
    pub res_id: Identifier,
    /// `<nonce>` (fresh on every retry, seed 003 §9.1.1).
    pub nonce: Vec<u8>,
    /// `<time>` DRM Time.
    pub time: DateTime,
    /// `<rightsInfo>`.
    pub rights_info: RightsInfo,
    /// `<sourceDeviceUserDomainAuthorization>`* (user-domain Move only).
    pub source_authorizations: Vec<UserDomainAuthorization>,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// Extensions.
    pub extensions: Vec<Ext>,
    /// `<signature>` of the Device.
    pub signature: Vec<u8>,
}

impl MoveRequest {
    /// DOM form under root `local`.
    pub fn to_element_named(&self, local: &str) -> Element {
        let mut e = sceroap_root(local)
            .with_child(self.req_id.to_element("reqID"))
            .with_child(self.res_id.to_element("resID"))
            .with_child(b64_leaf("nonce", &self.nonce))
            .with_child(leaf("time", self.time.to_xml()))
            .with_child(self.rights_info.to_element());
        for a in &self.source_authorizations {
            e.push(a.to_element_named("sourceDeviceUserDomainAuthorization"));
        }
        push_chain_ocsp(&mut e, &self.certificate_chain, &[]);
        push_exts(&mut e, &self.extensions);
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let r = MoveRequest {
            req_id: Identifier::from_element(k.req("reqID")?)?,
            res_id: Identifier::from_element(k.req("resID")?)?,
            nonce: k.b64("nonce")?,
            time: DateTime::parse(&k.text("time")?)?,
            rights_info: RightsInfo::from_element(k.req("rightsInfo")?)?,
            source_authorizations: k
                .many("sourceDeviceUserDomainAuthorization", MAX_AUTHZ)?
                .into_iter()
                .map(UserDomainAuthorization::from_element)
                .collect::<Result<_, _>>()?,
            certificate_chain: opt_chain(&mut k, "certificateChain")?,
            extensions: opt_exts(&mut k)?,
            signature: k.b64("signature")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// Move response. Seed 003 §9.1.3/§9.2.3 check reqID/resID/nonce and the signature before
/// the status, so every field is present whatever the status.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MoveResponse {
    /// `status` attribute.
    pub status: Status,
    /// `<reqID>`.
    pub req_id: Identifier,
    /// `<resID>`.
    pub res_id: Identifier,
    /// `<nonce>` echoed.
    pub nonce: Vec<u8>,
    /// `<RIUserDomainAuthorization>`* (user-domain Move only).
    pub ri_authorizations: Vec<UserDomainAuthorization>,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// `<ocspResponse>`*.
    pub ocsp_responses: Vec<Vec<u8>>,
    /// Extensions (Post Response URL, seed 003 §9.1.3).
    pub extensions: Vec<Ext>,
    /// `<signature>` of the RI.
    pub signature: Vec<u8>,
}

impl MoveResponse {
    /// DOM form under root `local`.
    pub fn to_element_named(&self, local: &str) -> Element {
        let mut e = sceroap_root(local)
            .with_attr("status", self.status.as_str())
            .with_child(self.req_id.to_element("reqID"))
            .with_child(self.res_id.to_element("resID"))
            .with_child(b64_leaf("nonce", &self.nonce));
        for a in &self.ri_authorizations {
            e.push(a.to_element_named("RIUserDomainAuthorization"));
        }
        push_chain_ocsp(&mut e, &self.certificate_chain, &self.ocsp_responses);
        push_exts(&mut e, &self.extensions);
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let r = MoveResponse {
            status,
            req_id: Identifier::from_element(k.req("reqID")?)?,
            res_id: Identifier::from_element(k.req("resID")?)?,
            nonce: k.b64("nonce")?,
            ri_authorizations: k
                .many("RIUserDomainAuthorization", MAX_AUTHZ)?
                .into_iter()
                .map(UserDomainAuthorization::from_element)
                .collect::<Result<_, _>>()?,
            certificate_chain: opt_chain(&mut k, "certificateChain")?,
            ocsp_responses: ocsp_list(&mut k)?,
            extensions: opt_exts(&mut k)?,
            signature: k.b64("signature")?,
        };
        k.end()?;
        Ok(r)
    }
}
