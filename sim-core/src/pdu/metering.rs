//! The Metering Report protocol as changed by seed 004 §5.4.6: ROAP-MeteringReportSubmit
//! (with the `<meteringReport>` MAC input) and the signed ROAP-MeteringReportResponse.

use super::common::*;
use super::roap::{opt_b64_attr, roap_root, with_b64_attr, with_status};
use super::{PduError, Status};
use crate::xml::Element;

/// `<meteringReport>` (seed 004 §5.4.6.1.2): encrypted report, wrapped KMAC|KMEK, MAC.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeteringReport {
    /// `<encryptedMeteringReport>` (xenc:EncryptedDataType; KeyInfo is a RetrievalMethod
    /// pointing at `#` + the encKey's Id).
    pub encrypted_report: Encrypted,
    /// `<encKey>` (xenc:EncryptedKeyType; KeyInfo is the RI's X509SPKIHash).
    pub enc_key: Encrypted,
    /// `<mac>` over the canonical `<meteringReport>` minus `<mac>` under KMAC.
    pub mac: Vec<u8>,
}

impl MeteringReport {
    /// `<meteringReport>` without its `<mac>`: the MAC input's node set.
    pub fn to_element_without_mac(&self) -> Element {
        Element::plain("meteringReport")
            .with_child(self.encrypted_report.to_element("encryptedMeteringReport"))
            .with_child(self.enc_key.to_element("encKey"))
    }
    /// DOM form.
    pub fn to_element(&self) -> Element {
        self.to_element_without_mac()
            .with_child(b64_leaf("mac", &self.mac))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let r = MeteringReport {
            encrypted_report: Encrypted::from_element(k.req("encryptedMeteringReport")?)?,
            enc_key: Encrypted::from_element(k.req("encKey")?)?,
            mac: k.b64("mac")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// ROAP-MeteringReportSubmit (seed 004 §5.4.6.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeteringReportSubmit {
    /// `triggerNonce` attribute.
    pub trigger_nonce: Option<Vec<u8>>,
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<riID>`.
    pub ri_id: Identifier,
    /// `<nonce>` (Device Nonce).
    pub nonce: Vec<u8>,
    /// `<time>` (Report Time).
    pub time: DateTime,
    /// `<meteringReport>`.
    pub metering_report: MeteringReport,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// Extensions (Peer Key Identifier, No OCSP Response, OCSP Responder Key Identifier).
    pub extensions: Vec<Ext>,
    /// `<signature>`.
    pub signature: Vec<u8>,
}

impl MeteringReportSubmit {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_b64_attr(
            roap_root("meteringReportSubmit"),
            "triggerNonce",
            &self.trigger_nonce,
        )
        .with_child(self.device_id.to_element("deviceID"))
        .with_child(self.ri_id.to_element("riID"))
        .with_child(b64_leaf("nonce", &self.nonce))
        .with_child(leaf("time", self.time.to_xml()))
        .with_child(self.metering_report.to_element());
        push_chain_ocsp(&mut e, &self.certificate_chain, &[]);
        push_exts(&mut e, &self.extensions);
        e.with_child(b64_leaf("signature", &self.signature))
    }
    /// Reads the DOM form.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let trigger_nonce = opt_b64_attr(el, "triggerNonce")?;
        let mut k = Kids::of(el)?;
        let r = MeteringReportSubmit {
            trigger_nonce,
            device_id: Identifier::from_element(k.req("deviceID")?)?,
            ri_id: Identifier::from_element(k.req("riID")?)?,
            nonce: k.b64("nonce")?,
            time: DateTime::parse(&k.text("time")?)?,
            metering_report: MeteringReport::from_element(k.req("meteringReport")?)?,
            certificate_chain: opt_chain(&mut k, "certificateChain")?,
            extensions: opt_exts(&mut k)?,
            signature: k.b64("signature")?,
        };
        k.end()?;
        Ok(r)
    }
}

/// Body of a ROAP-MeteringReportResponse (seed 004 §5.4.6.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeteringReportResponseBody {
    /// `<deviceID>`.
    pub device_id: Identifier,
    /// `<riID>`.
    pub ri_id: Identifier,
    /// `<deviceNonce>` echoed from the submit.
    pub device_nonce: Vec<u8>,
    /// `<certificateChain>`.
    pub certificate_chain: Option<CertificateChain>,
    /// `<ocspResponse>`*.
    pub ocsp_responses: Vec<Vec<u8>>,
    /// Extensions (Post Response URL).
    pub extensions: Vec<Ext>,
    /// `<signature>` (added by seed 004).
    pub signature: Vec<u8>,
}

/// ROAP-MeteringReportResponse. Seed 004 §11.3 has the Device check nonce and signature
/// before the status, so error responses may carry a body too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeteringReportResponse {
    /// `status` attribute.
    pub status: Status,
    /// The body (`<sequence minOccurs="0">`).
    pub body: Option<MeteringReportResponseBody>,
}

impl MeteringReportResponse {
    /// DOM form.
    pub fn to_element(&self) -> Element {
        let mut e = with_status(roap_root("meteringReportResponse"), self.status);
        if let Some(b) = &self.body {
            e.push(b.device_id.to_element("deviceID"));
            e.push(b.ri_id.to_element("riID"));
            e.push(b64_leaf("deviceNonce", &b.device_nonce));
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
            Some(d) => Some(MeteringReportResponseBody {
                device_id: Identifier::from_element(d)?,
                ri_id: Identifier::from_element(k.req("riID")?)?,
                device_nonce: k.b64("deviceNonce")?,
                certificate_chain: opt_chain(&mut k, "certificateChain")?,
                ocsp_responses: ocsp_list(&mut k)?,
                extensions: opt_exts(&mut k)?,
                signature: k.b64("signature")?,
            }),
        };
        k.end()?;
        Ok(MeteringReportResponse { status, body })
    }
}
