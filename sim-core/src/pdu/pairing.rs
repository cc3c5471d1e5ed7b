//! Pairing-Key management (seed 001 §7.2.1): Join Domain for Pairing, Pairing Ticket,
//! Authentication, Import Initiation and Imported-RO messages. Namespace `dmp`.
//!
//! Where seed 001 is incomplete the readings chosen are documented in docs/pdus.md; the
//! essentials: every HMAC'd message carries `<mac>` over its canonical form minus `<mac>`;
//! the Pairing Ticket binds requester, target and expiry under the target's Master Key.

use super::common::*;
use super::ns;
use super::ro::{ProtectedRo, Rights};
use super::{PduError, Status};
use crate::xml::Element;

/// Most RO IDs / ROs in one import message.
pub const MAX_IMPORT_ROS: usize = 64;

fn dmp_root(local: &str) -> Element {
    root("dmp", ns::SCE_DMP, local)
}

fn ids(k: &mut Kids<'_>, name: &str) -> Result<Vec<String>, PduError> {
    Ok(k.some(name, MAX_IMPORT_ROS)?
        .into_iter()
        .map(Element::text)
        .collect())
}

fn with_status(e: Element, s: Status) -> Element {
    e.with_attr("status", s.as_str())
}

/// Join Domain Request for Pairing (§7.2.1.1): signed with the Device private key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PairingJoinDomainRequest {
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<deaID>`.
    pub dea_id: Identifier,
    /// `<userDomainID>`.
    pub user_domain_id: String,
    /// `<nonce>` (replay check).
    pub nonce: Vec<u8>,
    /// `<time>`.
    pub time: DateTime,
    /// `<certificateChain>` of the Device.
    pub certificate_chain: Option<CertificateChain>,
    /// `<signature>` (Device RSA).
    pub signature: Vec<u8>,
}

impl PairingJoinDomainRequest {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = dmp_root("joinDomainRequest")
            .with_child(self.device_id.to_element("deviceID"))
            .with_child(self.dea_id.to_element("deaID"))
            .with_child(leaf("userDomainID", self.user_domain_id.clone()))
            .with_child(b64_leaf("nonce", &self.nonce))
            .with_child(leaf("time", self.time.to_xml()));
        push_chain_ocsp(&mut e, &self.certificate_chain, &[]);
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let r = PairingJoinDomainRequest {
            device_id: Identifier::from_element(k.req("deviceID")?)?,
            dea_id: Identifier::from_element(k.req("deaID")?)?,
            user_domain_id: k.text("userDomainID")?,
            nonce: k.b64("nonce")?,
            time: DateTime::parse(&k.text("time")?)?,
            certificate_chain: opt_chain(&mut k, "certificateChain")?,
            signature: k.b64("signature")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// Success content of a Join Domain Response for Pairing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PairingJoinGrant {
    /// `<userDomainID>` joined.
    pub user_domain_id: String,
    /// `<encMasterKey>`: the Device's Master Key encrypted to its public key
    /// (KeyInfo = the Device's X509SPKIHash).
    pub enc_master_key: Encrypted,
    /// `<notAfter>`: Master Key lifetime.
    pub not_after: Expiry,
}

/// Join Domain Response for Pairing (§7.2.1.1): signed by the DEA (chosen: an unsigned
/// response would let anyone substitute a Master Key encrypted to the public Device key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PairingJoinDomainResponse {
    /// `status` attribute.
    pub status: Status,
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<deaID>`.
    pub dea_id: Identifier,
    /// `<nonce>` echoed.
    pub nonce: Vec<u8>,
    /// Present on success.
    pub grant: Option<PairingJoinGrant>,
    /// `<certificateChain>` of the DEA.
    pub certificate_chain: Option<CertificateChain>,
    /// `<signature>` (DEA RSA).
    pub signature: Vec<u8>,
}

impl PairingJoinDomainResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_status(dmp_root("joinDomainResponse"), self.status)
            .with_child(self.device_id.to_element("deviceID"))
            .with_child(self.dea_id.to_element("deaID"))
            .with_child(b64_leaf("nonce", &self.nonce));
        if let Some(g) = &self.grant {
            e.push(leaf("userDomainID", g.user_domain_id.clone()));
            e.push(g.enc_master_key.to_element("encMasterKey"));
            e.push(leaf("notAfter", g.not_after.to_xml()));
        }
        push_chain_ocsp(&mut e, &self.certificate_chain, &[]);
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let device_id = Identifier::from_element(k.req("deviceID")?)?;
        let dea_id = Identifier::from_element(k.req("deaID")?)?;
        let nonce = k.b64("nonce")?;
        let grant = match k.opt("userDomainID") {
            None => None,
            Some(u) => Some(PairingJoinGrant {
                user_domain_id: u.text(),
                enc_master_key: Encrypted::from_element(k.req("encMasterKey")?)?,
                not_after: Expiry::parse(&k.text("notAfter")?)?,
            }),
        };
        let r = PairingJoinDomainResponse {
            status,
            device_id,
            dea_id,
            nonce,
            grant,
            certificate_chain: opt_chain(&mut k, "certificateChain")?,
            signature: k.b64("signature")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// Imported-RO rights and the LRM signature over them (dmpPair, §7.2.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportedRights {
    /// The Imported-RO `<rights>`.
    pub rights: Rights,
    /// `<signature>` of the LRM that created the Imported RO.
    pub lrm_signature: Vec<u8>,
}

/// Pairing Ticket Request (§7.2.1.2, §7.2.1.3): HMAC under the requester's Master Key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PairingTicketRequest {
    /// `<requesterID>` (DEV1-ID / Source DRM Agent).
    pub requester_id: Identifier,
    /// `<targetID>` (LRM-ID / Destination DRM Agent).
    pub target_id: Identifier,
    /// `<nonce>`.
    pub nonce: Vec<u8>,
    /// `<importedRights>` (dmpPair only).
    pub imported_rights: Option<ImportedRights>,
    /// `<mac>`: HMAC under MK-requester.
    pub mac: Vec<u8>,
}

impl PairingTicketRequest {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = dmp_root("pairingTicketRequest")
            .with_child(self.requester_id.to_element("requesterID"))
            .with_child(self.target_id.to_element("targetID"))
            .with_child(b64_leaf("nonce", &self.nonce));
        if let Some(ir) = &self.imported_rights {
            e.push(
                Element::plain("importedRights")
                    .with_child(ir.rights.to_element())
                    .with_child(b64_leaf("signature", &ir.lrm_signature)),
            );
        }
        e.with_child(b64_leaf("mac", &self.mac))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let requester_id = Identifier::from_element(k.req("requesterID")?)?;
        let target_id = Identifier::from_element(k.req("targetID")?)?;
        let nonce = k.b64("nonce")?;
        let imported_rights = match k.opt("importedRights") {
            None => None,
            Some(ir) => {
                let mut ik = Kids::of(ir)?;
                let v = ImportedRights {
                    rights: Rights::from_element(ik.req("rights")?)?,
                    lrm_signature: ik.b64("signature")?,
                };
                ik.end()?;
                Some(v)
            }
        };
        let mac = k.b64("mac")?;
        k.end()?;
        Ok(PairingTicketRequest {
            requester_id,
            target_id,
            nonce,
            imported_rights,
            mac,
        })
    }
}

/// The Pairing Ticket (§7.2.1.2 figure 6: DEA-ID, E_MK-target(Pairing Key),
/// HMAC_MK-target), extended with requester, target and expiry under the same HMAC so the
/// target learns whom the Pairing Key was issued to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PairingTicket {
    /// `<deaID>`.
    pub dea_id: Identifier,
    /// `<requesterID>`.
    pub requester_id: Identifier,
    /// `<targetID>`.
    pub target_id: Identifier,
    /// `<notAfter>`.
    pub not_after: Expiry,
    /// `<encPairingKey>`: Pairing Key wrapped under MK-target (AES key wrap).
    pub enc_pairing_key: Encrypted,
    /// `<mac>`: HMAC under MK-target over the canonical ticket minus `<mac>`.
    pub mac: Vec<u8>,
}

impl PairingTicket {
    /// The ticket without `<mac>` (its HMAC input's node set).
    pub fn to_element_without_mac(&self) -> Element {
        Element::plain("pairingTicket")
            .with_child(self.dea_id.to_element("deaID"))
            .with_child(self.requester_id.to_element("requesterID"))
            .with_child(self.target_id.to_element("targetID"))
            .with_child(leaf("notAfter", self.not_after.to_xml()))
            .with_child(self.enc_pairing_key.to_element("encPairingKey"))
    }
    /// DOM form.
    pub fn to_element(&self) -> Element {
        self.to_element_without_mac()
            .with_child(b64_leaf("mac", &self.mac))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let t = PairingTicket {
            dea_id: Identifier::from_element(k.req("deaID")?)?,
            requester_id: Identifier::from_element(k.req("requesterID")?)?,
            target_id: Identifier::from_element(k.req("targetID")?)?,
            not_after: Expiry::parse(&k.text("notAfter")?)?,
            enc_pairing_key: Encrypted::from_element(k.req("encPairingKey")?)?,
            mac: k.b64("mac")?,
        };
        k.end()?;
        Ok(t)
    }
}

/// Pairing Ticket Response (§7.2.1.2/§7.2.1.3): HMAC under MK-requester.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PairingTicketResponse {
    /// `status` attribute.
    pub status: Status,
    /// `<requesterID>`.
    pub requester_id: Identifier,
    /// `<targetID>`.
    pub target_id: Identifier,
    /// `<nonce>` echoed.
    pub nonce: Vec<u8>,
    /// On success: `<pairingTicket>` and `<encPairingKey>` (Pairing Key under MK-requester;
    /// §7.2.1.3's "encrypted version of the Master Key" is read as this, a Master Key never
    /// leaves the DEA).
    pub grant: Option<(PairingTicket, Encrypted)>,
    /// `<mac>`: HMAC under MK-requester.
    pub mac: Vec<u8>,
}

impl PairingTicketResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_status(dmp_root("pairingTicketResponse"), self.status)
            .with_child(self.requester_id.to_element("requesterID"))
            .with_child(self.target_id.to_element("targetID"))
            .with_child(b64_leaf("nonce", &self.nonce));
        if let Some((t, k)) = &self.grant {
            e.push(t.to_element());
            e.push(k.to_element("encPairingKey"));
        }
        e.with_child(b64_leaf("mac", &self.mac))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let requester_id = Identifier::from_element(k.req("requesterID")?)?;
        let target_id = Identifier::from_element(k.req("targetID")?)?;
        let nonce = k.b64("nonce")?;
        let grant = match k.opt("pairingTicket") {
            None => None,
            Some(t) => Some((
                PairingTicket::from_element(t)?,
                Encrypted::from_element(k.req("encPairingKey")?)?,
            )),
        };
        let mac = k.b64("mac")?;
        k.end()?;
        Ok(PairingTicketResponse {
            status,
            requester_id,
            target_id,
            nonce,
            grant,
            mac,
        })
    }
}

/// Authentication Request (§7.2.1.2): requester → target, HMAC under the Pairing Key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthenticationRequest {
    /// `<requesterID>`.
    pub requester_id: Identifier,
    /// `<targetID>`.
    pub target_id: Identifier,
    /// `<nonce>`.
    pub nonce: Vec<u8>,
    /// `<pairingTicket>`.
    pub ticket: PairingTicket,
    /// `<mac>`: HMAC under the Pairing Key.
    pub mac: Vec<u8>,
}

impl AuthenticationRequest {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        dmp_root("authenticationRequest")
            .with_child(self.requester_id.to_element("requesterID"))
            .with_child(self.target_id.to_element("targetID"))
            .with_child(b64_leaf("nonce", &self.nonce))
            .with_child(self.ticket.to_element())
            .with_child(b64_leaf("mac", &self.mac))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let r = AuthenticationRequest {
            requester_id: Identifier::from_element(k.req("requesterID")?)?,
            target_id: Identifier::from_element(k.req("targetID")?)?,
            nonce: k.b64("nonce")?,
            ticket: PairingTicket::from_element(k.req("pairingTicket")?)?,
            mac: k.b64("mac")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// Authentication Response (§7.2.1.2): target → requester, HMAC under the Pairing Key over
/// a message echoing the request nonce (binds the response to the request).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthenticationResponse {
    /// `status` attribute.
    pub status: Status,
    /// `<requesterID>`.
    pub requester_id: Identifier,
    /// `<targetID>`.
    pub target_id: Identifier,
    /// `<nonce>` echoed from the request.
    pub nonce: Vec<u8>,
    /// `<mac>`: HMAC under the Pairing Key.
    pub mac: Vec<u8>,
}

impl AuthenticationResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        with_status(dmp_root("authenticationResponse"), self.status)
            .with_child(self.requester_id.to_element("requesterID"))
            .with_child(self.target_id.to_element("targetID"))
            .with_child(b64_leaf("nonce", &self.nonce))
            .with_child(b64_leaf("mac", &self.mac))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let r = AuthenticationResponse {
            status,
            requester_id: Identifier::from_element(k.req("requesterID")?)?,
            target_id: Identifier::from_element(k.req("targetID")?)?,
            nonce: k.b64("nonce")?,
            mac: k.b64("mac")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// Import Initiation (§7.2.1.2): LRM → DRM Agent, signed by the LRM.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportInitiation {
    /// `<lrmID>`.
    pub lrm_id: Identifier,
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<nonce>`.
    pub nonce: Vec<u8>,
    /// `<roID>`+ that could be imported.
    pub ro_ids: Vec<String>,
    /// `<certificateChain>` of the LRM.
    pub certificate_chain: Option<CertificateChain>,
    /// `<signature>` (LRM RSA).
    pub signature: Vec<u8>,
}

impl ImportInitiation {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = dmp_root("importInitiation")
            .with_child(self.lrm_id.to_element("lrmID"))
            .with_child(self.device_id.to_element("deviceID"))
            .with_child(b64_leaf("nonce", &self.nonce));
        for r in &self.ro_ids {
            e.push(leaf("roID", r.clone()));
        }
        push_chain_ocsp(&mut e, &self.certificate_chain, &[]);
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let r = ImportInitiation {
            lrm_id: Identifier::from_element(k.req("lrmID")?)?,
            device_id: Identifier::from_element(k.req("deviceID")?)?,
            nonce: k.b64("nonce")?,
            ro_ids: ids(&mut k, "roID")?,
            certificate_chain: opt_chain(&mut k, "certificateChain")?,
            signature: k.b64("signature")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// Imported-RO Request (§7.2.1.2): over the SAC, HMAC under the Pairing Key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportedRoRequest {
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<lrmID>`.
    pub lrm_id: Identifier,
    /// `<nonce>`.
    pub nonce: Vec<u8>,
    /// `<roID>`+ requested.
    pub ro_ids: Vec<String>,
    /// `<mac>`: HMAC under the Pairing Key.
    pub mac: Vec<u8>,
}

impl ImportedRoRequest {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = dmp_root("importedRORequest")
            .with_child(self.device_id.to_element("deviceID"))
            .with_child(self.lrm_id.to_element("lrmID"))
            .with_child(b64_leaf("nonce", &self.nonce));
        for r in &self.ro_ids {
            e.push(leaf("roID", r.clone()));
        }
        e.with_child(b64_leaf("mac", &self.mac))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let r = ImportedRoRequest {
            device_id: Identifier::from_element(k.req("deviceID")?)?,
            lrm_id: Identifier::from_element(k.req("lrmID")?)?,
            nonce: k.b64("nonce")?,
            ro_ids: ids(&mut k, "roID")?,
            mac: k.b64("mac")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// Imported-RO Response (§7.2.1.2, "Details are TBD"): Imported ROs whose `<rights>` are
/// signed by the LRM (`Ro::signature`), HMAC under the Pairing Key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportedRoResponse {
    /// `status` attribute.
    pub status: Status,
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<lrmID>`.
    pub lrm_id: Identifier,
    /// `<nonce>` echoed.
    pub nonce: Vec<u8>,
    /// `<protectedRO>`*.
    pub protected_ros: Vec<ProtectedRo>,
    /// `<mac>`: HMAC under the Pairing Key.
    pub mac: Vec<u8>,
}

impl ImportedRoResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_status(dmp_root("importedROResponse"), self.status)
            .with_child(self.device_id.to_element("deviceID"))
            .with_child(self.lrm_id.to_element("lrmID"))
            .with_child(b64_leaf("nonce", &self.nonce));
        for p in &self.protected_ros {
            e.push(p.to_element());
        }
        e.with_child(b64_leaf("mac", &self.mac))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let status = status_attr(el)?;
        let mut k = Kids::of(el)?;
        let r = ImportedRoResponse {
            status,
            device_id: Identifier::from_element(k.req("deviceID")?)?,
            lrm_id: Identifier::from_element(k.req("lrmID")?)?,
            nonce: k.b64("nonce")?,
            protected_ros: k
                .many("protectedRO", MAX_IMPORT_ROS)?
                .into_iter()
                .map(ProtectedRo::from_element)
                .collect::<Result<_, _>>()?,
            mac: k.b64("mac")?,
        };
        k.end()?;
        Ok(r)
    }
}
