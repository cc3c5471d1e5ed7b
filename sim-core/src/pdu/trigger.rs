//! Triggers: the ROAP Trigger (`roap:roapTrigger`, OMA-TS-DRM-DRM-V2_0 §5.2.1, plus the
//! v2.1 meteringReport and the SCE Move triggers) and the SCE Proxy Leave User Domain
//! Trigger (`gen:trigger`, seed 000 §7.6.1).

use super::common::*;
use super::ns;
use super::PduError;
use crate::xml::Element;

/// Most RO/content IDs or device IDs in one trigger.
pub const MAX_TRIGGER_ITEMS: usize = 64;

/// Which ROAP protocol a trigger starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TriggerKind {
    /// `<registrationRequest>`: 4-pass registration.
    Registration,
    /// `<roAcquisition>`: 2-pass RO acquisition.
    RoAcquisition,
    /// `<joinDomain>`.
    JoinDomain,
    /// `<leaveDomain>` (also sent by an RI for a DEA, seed 000 §7.6.2).
    LeaveDomain,
    /// `<meteringReport>` (DRM v2.1 metering).
    MeteringReport,
    /// `<moveDeviceRO>` (SCE, seed 003 §9.1.1).
    MoveDeviceRo,
    /// `<moveUserDomainConstrainedRO>` (SCE, seed 003 §9.2.1).
    MoveUserDomainConstrainedRo,
}

impl TriggerKind {
    /// Every kind.
    pub const ALL: [TriggerKind; 7] = [
        TriggerKind::Registration,
        TriggerKind::RoAcquisition,
        TriggerKind::JoinDomain,
        TriggerKind::LeaveDomain,
        TriggerKind::MeteringReport,
        TriggerKind::MoveDeviceRo,
        TriggerKind::MoveUserDomainConstrainedRo,
    ];

    /// Element name inside `<roap:roapTrigger>`.
    pub fn element_name(self) -> &'static str {
        match self {
            TriggerKind::Registration => "registrationRequest",
            TriggerKind::RoAcquisition => "roAcquisition",
            TriggerKind::JoinDomain => "joinDomain",
            TriggerKind::LeaveDomain => "leaveDomain",
            TriggerKind::MeteringReport => "meteringReport",
            TriggerKind::MoveDeviceRo => "moveDeviceRO",
            TriggerKind::MoveUserDomainConstrainedRo => "moveUserDomainConstrainedRO",
        }
    }
}

/// ROAP Trigger.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoapTrigger {
    /// `version` attribute ("1.0").
    pub version: String,
    /// Protocol to start.
    pub kind: TriggerKind,
    /// `id` attribute of the trigger element.
    pub id: Option<String>,
    /// `<riID>`.
    pub ri_id: Identifier,
    /// `<riAlias>`.
    pub ri_alias: Option<String>,
    /// `<deviceID>`: the Device the trigger is for (DRM v2.1 extended triggers carry it; a
    /// v2.0 trigger does not). Inside the signed/MACed element, so it cannot be changed.
    pub device_id: Option<Identifier>,
    /// `<nonce>` (echoed as `triggerNonce` in the request).
    pub nonce: Option<Vec<u8>>,
    /// `<notAfter>`: the last instant the Device may act on the trigger (drmsim's reading,
    /// `Variants::trigger_carries_time`; a ROAP §5.2.1 trigger carries no time). Inside the
    /// signed/MACed element, so it cannot be changed.
    pub not_after: Option<DateTime>,
    /// `<roapURL>`.
    pub roap_url: String,
    /// `<domainID>` (joinDomain, leaveDomain, domain roAcquisition).
    pub domain_id: Option<String>,
    /// `<roID>`* (roAcquisition and Move triggers; flattened from ROAP's `<roInfo>`).
    pub ro_ids: Vec<String>,
    /// `<contentID>`*.
    pub content_ids: Vec<String>,
    /// `<signature>` (mandatory for triggers of already registered contexts).
    pub signature: Option<Vec<u8>>,
    /// `<encKey>` carrying the MAC key of the signature for domain triggers.
    pub enc_key: Option<Encrypted>,
}

impl RoapTrigger {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut t = Element::plain(self.kind.element_name());
        if let Some(id) = &self.id {
            t = t.with_attr("id", id.clone());
        }
        t.push(self.ri_id.to_element("riID"));
        if let Some(a) = &self.ri_alias {
            t.push(leaf("riAlias", a.clone()));
        }
        if let Some(d) = &self.device_id {
            t.push(d.to_element("deviceID"));
        }
        if let Some(n) = &self.nonce {
            t.push(b64_leaf("nonce", n));
        }
        if let Some(d) = &self.not_after {
            t.push(leaf("notAfter", d.to_xml()));
        }
        t.push(leaf("roapURL", self.roap_url.clone()));
        if let Some(d) = &self.domain_id {
            t.push(leaf("domainID", d.clone()));
        }
        for r in &self.ro_ids {
            t.push(leaf("roID", r.clone()));
        }
        for c in &self.content_ids {
            t.push(leaf("contentID", c.clone()));
        }
        let mut e = root("roap", ns::ROAP, "roapTrigger")
            .with_attr("version", self.version.clone())
            .with_child(t);
        if let Some(s) = &self.signature {
            e.push(b64_leaf("signature", s));
        }
        if let Some(k) = &self.enc_key {
            e.push(k.to_element("encKey"));
        }
        e
    }

    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let version = req_attr(el, "version")?;
        let mut k = Kids::of(el)?;
        let (kind, t) = TriggerKind::ALL
            .iter()
            .find_map(|kd| k.opt(kd.element_name()).map(|t| (*kd, t)))
            .ok_or_else(|| PduError::Missing {
                parent: "roapTrigger".into(),
                element: "trigger type".into(),
            })?;
        let signature = k.opt_b64("signature")?;
        let enc_key = k.opt("encKey").map(Encrypted::from_element).transpose()?;
        k.end()?;
        let mut tk = Kids::of(t)?;
        let r = RoapTrigger {
            version,
            kind,
            id: t.attr("id").map(str::to_string),
            ri_id: Identifier::from_element(tk.req("riID")?)?,
            ri_alias: tk.opt_text("riAlias"),
            device_id: tk
                .opt("deviceID")
                .map(Identifier::from_element)
                .transpose()?,
            nonce: tk.opt_b64("nonce")?,
            not_after: tk
                .opt_text("notAfter")
                .map(|s| DateTime::parse(&s))
                .transpose()?,
            roap_url: tk.text("roapURL")?,
            domain_id: tk.opt_text("domainID"),
            ro_ids: tk
                .many("roID", MAX_TRIGGER_ITEMS)?
                .into_iter()
                .map(Element::text)
                .collect(),
            content_ids: tk
                .many("contentID", MAX_TRIGGER_ITEMS)?
                .into_iter()
                .map(Element::text)
                .collect(),
            signature,
            enc_key,
        };
        tk.end()?;
        Ok(r)
    }
}

/// The `type` of the SCE Proxy Leave User Domain Trigger.
pub const PROXY_LEAVE_TRIGGER_TYPE: &str = "rdpProxyLeaveUserDomain";

/// Proxy Leave User Domain Trigger (seed 000 §7.6.1): DEA → RI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyLeaveUserDomainTrigger {
    /// `id` attribute.
    pub id: Option<String>,
    /// `<resID>`: the DEA's ID.
    pub res_id: Identifier,
    /// `<resAlias>`.
    pub res_alias: Option<String>,
    /// `<nonce>`.
    pub nonce: Vec<u8>,
    /// `<reqURL>`.
    pub req_url: String,
    /// `<body><trgInfo><domainID>`: the User Domain.
    pub domain_id: String,
    /// `<body><trgInfo><deviceID>`+: v2.x Devices to leave.
    pub device_ids: Vec<Identifier>,
    /// `<signature>`: MAC under the MK of the ReqContext (optional per table 4).
    pub signature: Option<Vec<u8>>,
}

impl ProxyLeaveUserDomainTrigger {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = root("gen", ns::SCE_GEN, "trigger");
        if let Some(id) = &self.id {
            e = e.with_attr("id", id.clone());
        }
        e = e
            .with_attr("type", PROXY_LEAVE_TRIGGER_TYPE)
            .with_attr("version", "1.0")
            .with_child(self.res_id.to_element("resID"));
        if let Some(a) = &self.res_alias {
            e.push(leaf("resAlias", a.clone()));
        }
        e.push(b64_leaf("nonce", &self.nonce));
        e.push(leaf("reqURL", self.req_url.clone()));
        let mut info =
            Element::plain("trgInfo").with_child(leaf("domainID", self.domain_id.clone()));
        for d in &self.device_ids {
            info.push(d.to_element("deviceID"));
        }
        e.push(Element::plain("body").with_child(info));
        if let Some(s) = &self.signature {
            e.push(b64_leaf("signature", s));
        }
        e
    }

    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        if req_attr(el, "type")? != PROXY_LEAVE_TRIGGER_TYPE {
            return Err(PduError::invalid("trigger", "unsupported gen:trigger type"));
        }
        if req_attr(el, "version")? != "1.0" {
            return Err(PduError::UnsupportedVersion(req_attr(el, "version")?));
        }
        let mut k = Kids::of(el)?;
        let res_id = Identifier::from_element(k.req("resID")?)?;
        let res_alias = k.opt_text("resAlias");
        let nonce = k.b64("nonce")?;
        let req_url = k.text("reqURL")?;
        let body = k.req("body")?;
        let signature = k.opt_b64("signature")?;
        k.end()?;
        let mut bk = Kids::of(body)?;
        let info = bk.req("trgInfo")?;
        bk.end()?;
        let mut ik = Kids::of(info)?;
        let domain_id = ik.text("domainID")?;
        let device_ids = ik
            .some("deviceID", MAX_TRIGGER_ITEMS)?
            .into_iter()
            .map(Identifier::from_element)
            .collect::<Result<_, _>>()?;
        ik.skip_any();
        Ok(ProxyLeaveUserDomainTrigger {
            id: el.attr("id").map(str::to_string),
            res_id,
            res_alias,
            nonce,
            req_url,
            domain_id,
            device_ids,
            signature,
        })
    }
}
