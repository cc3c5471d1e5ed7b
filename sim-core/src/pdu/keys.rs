//! Key-carrying elements: xenc `EncryptedKey`/`EncryptedData` blobs with their `ds:KeyInfo`,
//! and ROAP domain information with its (qualified or unqualified) domain keys (seed 002).

use super::common::{b64_leaf, leaf, req_attr, Expiry, Identifier, Kids};
use super::{ns, PduError};
use crate::xml::Element;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::hash::{Hash, Hasher};

/// The `<ds:KeyInfo>` content of an xenc blob.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyInfo {
    /// `<roap:X509SPKIHash><hash>..</hash></roap:X509SPKIHash>`: a public key.
    SpkiHash(Vec<u8>),
    /// `<roap:DomainIdentifier>id</roap:DomainIdentifier>`: a domain key.
    DomainId(String),
    /// `<ds:RetrievalMethod URI=".."/>`: points at another blob (seed 004 §5.4.6.1.2).
    Retrieval(String),
}

/// An `xenc:EncryptedKeyType`/`EncryptedDataType` element: `Id`, `EncryptionMethod`,
/// `KeyInfo`, `CipherData/CipherValue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The `Id` attribute.
    pub id: Option<String>,
    /// `xenc:EncryptionMethod/@Algorithm`.
    pub algorithm: String,
    /// `ds:KeyInfo` content.
    pub key_info: Option<KeyInfo>,
    /// `xenc:CipherValue` bytes.
    pub cipher: Vec<u8>,
}

/// RSA-KEM-KDF2-KW-AES128 (ROAP key transport to a Device public key).
pub const ALG_KEM: &str =
    "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-1#rsaes-kem-kdf2-kw-aes128";
/// AES-128 key wrap (ROAP wrapping under a domain key).
pub const ALG_KW_AES128: &str = "http://www.w3.org/2001/04/xmlenc#kw-aes128";
/// AES-128-CBC (metering report and content encryption).
pub const ALG_AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";

impl Encrypted {
    /// Builds `<name>` with xenc/ds children.
    pub fn to_element(&self, name: &str) -> Element {
        let mut e = Element::plain(name);
        if let Some(id) = &self.id {
            e = e.with_attr("Id", id.clone());
        }
        e.push(
            Element::new(Some("xenc"), "EncryptionMethod", Some(ns::XENC))
                .with_attr("Algorithm", self.algorithm.clone()),
        );
        if let Some(ki) = &self.key_info {
            let inner = match ki {
                KeyInfo::SpkiHash(h) => Element::new(Some("roap"), "X509SPKIHash", Some(ns::ROAP))
                    .with_child(b64_leaf("hash", h)),
                KeyInfo::DomainId(d) => {
                    Element::new(Some("roap"), "DomainIdentifier", Some(ns::ROAP))
                        .with_text(d.clone())
                }
                KeyInfo::Retrieval(u) => Element::new(Some("ds"), "RetrievalMethod", Some(ns::DS))
                    .with_attr("URI", u.clone()),
            };
            e.push(Element::new(Some("ds"), "KeyInfo", Some(ns::DS)).with_child(inner));
        }
        e.push(
            Element::new(Some("xenc"), "CipherData", Some(ns::XENC)).with_child(
                Element::new(Some("xenc"), "CipherValue", Some(ns::XENC))
                    .with_text(B64.encode(&self.cipher)),
            ),
        );
        e
    }

    /// Reads an xenc blob element.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let id = el.attr("Id").map(str::to_string);
        let mut k = Kids::of(el)?;
        let m = k.req("EncryptionMethod")?;
        let algorithm = req_attr(m, "Algorithm")?;
        let key_info = match k.opt("KeyInfo") {
            None => None,
            Some(ki) => {
                let mut kk = Kids::of(ki)?;
                let v = if let Some(h) = kk.opt("X509SPKIHash") {
                    let mut hk = Kids::of(h)?;
                    let hash = hk.b64("hash")?;
                    hk.end()?;
                    KeyInfo::SpkiHash(hash)
                } else if let Some(d) = kk.opt("DomainIdentifier") {
                    KeyInfo::DomainId(d.text())
                } else if let Some(r) = kk.opt("RetrievalMethod") {
                    KeyInfo::Retrieval(req_attr(r, "URI")?)
                } else {
                    return Err(PduError::invalid("KeyInfo", "unsupported key information"));
                };
                kk.end()?;
                Some(v)
            }
        };
        let cd = k.req("CipherData")?;
        let mut ck = Kids::of(cd)?;
        let cipher = ck.b64("CipherValue")?;
        ck.end()?;
        k.end()?;
        Ok(Encrypted {
            id,
            algorithm,
            key_info,
            cipher,
        })
    }
}

// ---------------------------------------------------------------- domains

/// Most domain keys accepted in one `<domainInfo>` (one per generation, 3-digit counter).
pub const MAX_DOMAIN_KEYS: usize = 1000;

/// `roap:ProtectedDomainKey`: wrapped KMAC|KD, the issuing RI, key-confirmation MAC.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainKey {
    /// Written as `<roap:domainKey>` (seed 002, qualified) instead of `<domainKey>`.
    pub qualified: bool,
    /// `<encKey Id="domain id incl. generation">` wrapping KMAC and KD to the Device key.
    pub enc_key: Encrypted,
    /// `<riID>` of the issuing RI.
    pub ri_id: Identifier,
    /// `<mac>` over the canonical `<domainKey>` minus `<mac>` under KMAC (seed 002).
    pub mac: Vec<u8>,
}

impl DomainKey {
    /// The `<domainKey>` element (qualified per `self.qualified`).
    pub fn to_element(&self) -> Element {
        self.to_element_without_mac()
            .with_child(b64_leaf("mac", &self.mac))
    }

    /// The element without its `<mac>`: the MAC input's node set (seed 002).
    pub fn to_element_without_mac(&self) -> Element {
        let e = if self.qualified {
            Element::new(Some("roap"), "domainKey", Some(ns::ROAP))
        } else {
            Element::plain("domainKey")
        };
        e.with_child(self.enc_key.to_element("encKey"))
            .with_child(self.ri_id.to_element("riID"))
    }

    /// Reads either form; `qualified` records which.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let qualified = match el.ns.as_deref() {
            Some(ns::ROAP) => true,
            None => false,
            Some(_) => return Err(PduError::invalid("domainKey", "wrong namespace")),
        };
        let mut k = Kids::of(el)?;
        let enc_key = Encrypted::from_element(k.req("encKey")?)?;
        let ri_id = Identifier::from_element(k.req("riID")?)?;
        let mac = k.b64("mac")?;
        k.end()?;
        Ok(DomainKey {
            qualified,
            enc_key,
            ri_id,
            mac,
        })
    }
}

/// `roap:DomainInfo`: lifetime and one or more domain keys (seed 002, seed 000 §7.4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainInfo {
    /// `<notAfter>`: expiry of the domain context.
    pub not_after: Expiry,
    /// `<domainKey>`+ (all generations, or the latest one with hash chains).
    pub domain_keys: Vec<DomainKey>,
}

impl DomainInfo {
    /// The `<domainInfo>` element.
    pub fn to_element(&self) -> Element {
        let mut e =
            Element::plain("domainInfo").with_child(leaf("notAfter", self.not_after.to_xml()));
        for dk in &self.domain_keys {
            e.push(dk.to_element());
        }
        e
    }

    /// Reads `<domainInfo>`; at least one domain key is required.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let not_after = Expiry::parse(&k.text("notAfter")?)?;
        let domain_keys = k
            .some("domainKey", MAX_DOMAIN_KEYS)?
            .into_iter()
            .map(DomainKey::from_element)
            .collect::<Result<_, _>>()?;
        k.end()?;
        Ok(DomainInfo {
            not_after,
            domain_keys,
        })
    }
}

// Markup estimate first, then every field (see `pdu::digest`).
impl Hash for Encrypted {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u16(300);
        self.id.hash(h);
        self.algorithm.hash(h);
        self.key_info.hash(h);
        self.cipher.hash(h);
    }
}
