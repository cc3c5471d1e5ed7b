//! Types shared by many PDUs (identifiers, times, certificate chains, extensions, xenc
//! blobs, domain information) and the small DOM building/reading helpers they use.

use super::{ns, PduError};
use crate::xml::{Element, Node};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::hash::{Hash, Hasher};

// ---------------------------------------------------------------- DOM helpers

/// `<local>text</local>` in no namespace (ROAP's unqualified local elements).
pub(crate) fn leaf(local: &str, text: impl Into<String>) -> Element {
    Element::plain(local).with_text(text)
}

/// `<local>base64(bytes)</local>`.
pub(crate) fn b64_leaf(local: &str, bytes: &[u8]) -> Element {
    leaf(local, B64.encode(bytes))
}

/// A root element `prefix:local` declaring its own namespace.
pub(crate) fn root(prefix: &str, uri: &str, local: &str) -> Element {
    Element::new(Some(prefix), local, Some(uri)).with_ns_decl(Some(prefix), uri)
}

/// The element's text, borrowed when it is a single text node (the canonical case).
pub(crate) fn text_of(el: &Element) -> std::borrow::Cow<'_, str> {
    match el.children.as_slice() {
        [] => std::borrow::Cow::Borrowed(""),
        [Node::Text(t)] => std::borrow::Cow::Borrowed(t.as_str()),
        _ => std::borrow::Cow::Owned(el.text()),
    }
}

/// Decodes base64 text, tolerating the whitespace line-wrapping XML allows in base64Binary.
pub(crate) fn b64_decode(el: &Element) -> Result<Vec<u8>, PduError> {
    let t = text_of(el);
    let res = if t.bytes().any(|c| c.is_ascii_whitespace()) {
        let compact: String = t.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        B64.decode(compact.as_bytes())
    } else {
        B64.decode(t.as_bytes())
    };
    res.map_err(|_| PduError::BadBase64(el.local.to_string()))
}

/// Sequential reader over an element's child elements, enforcing schema order. It walks the
/// children in place (no list of them is built): decoding reads each PDU element once.
pub(crate) struct Kids<'a> {
    parent: &'a Element,
    /// Children not yet consumed; non-element nodes in it are skipped.
    rest: &'a [Node],
}

impl<'a> Kids<'a> {
    /// Reader over `parent`'s children; non-whitespace text between elements is an error.
    pub(crate) fn of(parent: &'a Element) -> Result<Self, PduError> {
        for n in &parent.children {
            if let Node::Text(t) = n {
                if !t.bytes().all(|c| c.is_ascii_whitespace()) {
                    return Err(PduError::invalid(&parent.local, "mixed content"));
                }
            }
        }
        Ok(Kids {
            parent,
            rest: &parent.children,
        })
    }

    /// The next child element and its index in `rest`.
    fn peek(&self) -> Option<(usize, &'a Element)> {
        self.rest.iter().enumerate().find_map(|(i, n)| match n {
            Node::Element(e) => Some((i, e)),
            _ => None,
        })
    }

    /// The next child if it is named `local`.
    pub(crate) fn opt(&mut self, local: &str) -> Option<&'a Element> {
        match self.peek() {
            Some((i, e)) if e.local == local => {
                self.rest = &self.rest[i + 1..];
                Some(e)
            }
            _ => None,
        }
    }

    /// The next child, which must be named `local`.
    pub(crate) fn req(&mut self, local: &str) -> Result<&'a Element, PduError> {
        self.opt(local).ok_or_else(|| PduError::Missing {
            parent: self.parent.local.to_string(),
            element: local.to_string(),
        })
    }

    /// All consecutive next children named `local`, bounded by `max`.
    pub(crate) fn many(&mut self, local: &str, max: usize) -> Result<Vec<&'a Element>, PduError> {
        let mut v = Vec::new();
        while let Some(e) = self.opt(local) {
            if v.len() == max {
                return Err(PduError::invalid(local, "too many occurrences"));
            }
            v.push(e);
        }
        Ok(v)
    }

    /// One or more consecutive children named `local`.
    pub(crate) fn some(&mut self, local: &str, max: usize) -> Result<Vec<&'a Element>, PduError> {
        let v = self.many(local, max)?;
        if v.is_empty() {
            return Err(PduError::Missing {
                parent: self.parent.local.to_string(),
                element: local.to_string(),
            });
        }
        Ok(v)
    }

    /// All remaining children, bounded by `max`.
    pub(crate) fn many_any(&mut self, max: usize) -> Result<Vec<&'a Element>, PduError> {
        let mut v = Vec::new();
        for n in self.rest {
            if let Node::Element(e) = n {
                if v.len() == max {
                    return Err(PduError::invalid(&self.parent.local, "too many children"));
                }
                v.push(e);
            }
        }
        self.rest = &[];
        Ok(v)
    }

    /// Text of the required child `local`.
    pub(crate) fn text(&mut self, local: &str) -> Result<String, PduError> {
        Ok(self.req(local)?.text())
    }

    /// Text of the optional child `local`.
    pub(crate) fn opt_text(&mut self, local: &str) -> Option<String> {
        self.opt(local).map(Element::text)
    }

    /// Base64 content of the required child `local`.
    pub(crate) fn b64(&mut self, local: &str) -> Result<Vec<u8>, PduError> {
        b64_decode(self.req(local)?)
    }

    /// Base64 content of the optional child `local`.
    pub(crate) fn opt_b64(&mut self, local: &str) -> Result<Option<Vec<u8>>, PduError> {
        self.opt(local).map(b64_decode).transpose()
    }

    /// Skips children allowed by an `<any processContents="lax">` wildcard.
    pub(crate) fn skip_any(&mut self) {
        self.rest = &[];
    }

    /// Fails if unread children remain (closed content models).
    pub(crate) fn end(&self) -> Result<(), PduError> {
        match self.peek() {
            None => Ok(()),
            Some((_, e)) => Err(PduError::Unexpected {
                parent: self.parent.local.to_string(),
                element: e.local.to_string(),
            }),
        }
    }
}

/// Required attribute `local`.
pub(crate) fn req_attr(el: &Element, local: &str) -> Result<String, PduError> {
    el.attr(local)
        .map(str::to_string)
        .ok_or_else(|| PduError::Missing {
            parent: el.local.to_string(),
            element: format!("@{local}"),
        })
}

/// Parses a decimal number, mapping failure to a typed error.
pub(crate) fn num<T: std::str::FromStr>(el_name: &str, s: &str) -> Result<T, PduError> {
    s.trim()
        .parse()
        .map_err(|_| PduError::invalid(el_name, "not a number"))
}

/// Parses a `status` attribute.
pub(crate) fn status_attr(el: &Element) -> Result<super::Status, PduError> {
    let s = req_attr(el, "status")?;
    s.parse()
        .map_err(|_| PduError::invalid("status", "unknown status code"))
}

// ---------------------------------------------------------------- Identifier

/// `roap:Identifier`: a `<keyIdentifier xsi:type="roap:X509SPKIHash">` holding the SHA-1
/// hash of the entity's DER subjectPublicKeyInfo.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Identifier {
    /// SHA-1 of the DER-encoded subjectPublicKeyInfo (20 bytes in practice).
    pub hash: Vec<u8>,
}

/// The `xsi:type` value of an X509SPKIHash key identifier. Its `roap:` prefix is a QName in
/// content, which Exclusive C14N does not declare; decoders compare the string (seed 002
/// §5.3.3 fixes the prefixes ROAP PDUs may use).
pub const X509_SPKI_HASH: &str = "roap:X509SPKIHash";

impl Identifier {
    /// An identifier from a 20-byte SPKI hash.
    pub fn new(hash: impl Into<Vec<u8>>) -> Self {
        Identifier { hash: hash.into() }
    }

    /// `<name><keyIdentifier xsi:type="roap:X509SPKIHash"><hash>..</hash></keyIdentifier></name>`.
    pub fn to_element(&self, name: &str) -> Element {
        Element::plain(name).with_child(self.key_identifier())
    }

    /// The bare `<keyIdentifier>` element (as listed in `<trustedAuthorities>`).
    pub fn key_identifier(&self) -> Element {
        Element::plain("keyIdentifier")
            .with_ns_attr("xsi", ns::XSI, "type", X509_SPKI_HASH)
            .with_child(b64_leaf("hash", &self.hash))
    }

    /// Reads an identifier element written by [`Identifier::to_element`].
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let ki = k.req("keyIdentifier")?;
        k.end()?;
        Self::from_key_identifier(ki)
    }

    /// Reads a bare `<keyIdentifier>` element.
    pub fn from_key_identifier(ki: &Element) -> Result<Self, PduError> {
        match ki.ns_attr(ns::XSI, "type") {
            Some(t) if t == X509_SPKI_HASH => {}
            _ => return Err(PduError::invalid("keyIdentifier", "unsupported xsi:type")),
        }
        let mut kk = Kids::of(ki)?;
        let hash = kk.b64("hash")?;
        kk.end()?;
        Ok(Identifier { hash })
    }
}

// The `Hash` impls below hash every field (so they agree with `Eq`) after a `u16` giving
// the markup bytes the element costs beyond its field payloads; the size estimator of
// `digest` adds those, FNV-1a digests just absorb a constant.

impl Hash for Identifier {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u16(150);
        self.hash.hash(h);
    }
}

impl Hash for Ext {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u16(110);
        self.critical.hash(h);
        self.ext.hash(h);
    }
}

pub use super::keys::*;

// ---------------------------------------------------------------- time

/// An XML Schema `dateTime` in UTC with one-second resolution (ROAP writes `…Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct DateTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix_s: u64,
}

/// Latest representable instant (9999-12-31T23:59:59Z).
pub const MAX_UNIX_S: u64 = 253_402_300_799;

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl DateTime {
    /// The instant `unix_s` seconds after the epoch (clamped to year 9999).
    pub fn from_unix_s(unix_s: u64) -> Self {
        DateTime {
            unix_s: unix_s.min(MAX_UNIX_S),
        }
    }

    /// `YYYY-MM-DDThh:mm:ssZ`.
    pub fn to_xml(&self) -> String {
        let days = (self.unix_s / 86_400) as i64;
        let secs = self.unix_s % 86_400;
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )
    }

    /// Parses `YYYY-MM-DDThh:mm:ss[.fff]Z` (UTC only, as ROAP requires).
    pub fn parse(s: &str) -> Result<Self, PduError> {
        let err = || PduError::invalid("dateTime", "not a UTC xs:dateTime");
        let b = s.as_bytes();
        if b.len() < 20 || !s.is_ascii() || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return Err(err());
        }
        if b[13] != b':' || b[16] != b':' || *b.last().ok_or_else(err)? != b'Z' {
            return Err(err());
        }
        let n = |r: std::ops::Range<usize>| -> Result<u32, PduError> {
            let t = &s[r];
            if t.bytes().all(|c| c.is_ascii_digit()) {
                t.parse().map_err(|_| err())
            } else {
                Err(err())
            }
        };
        let (y, mo, d, h, mi, se) = (
            n(0..4)?,
            n(5..7)?,
            n(8..10)?,
            n(11..13)?,
            n(14..16)?,
            n(17..19)?,
        );
        let frac = &s[19..s.len() - 1];
        if !(frac.is_empty()
            || (frac.len() > 1
                && frac.starts_with('.')
                && frac[1..].bytes().all(|c| c.is_ascii_digit())))
        {
            return Err(err());
        }
        if y < 1970 || !(1..=12).contains(&mo) || d == 0 || h > 23 || mi > 59 || se > 59 {
            return Err(err());
        }
        let dim = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo as usize - 1]
            + u32::from(mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
        if d > dim {
            return Err(err());
        }
        let days = days_from_civil(i64::from(y), mo, d) as u64;
        Ok(DateTime {
            unix_s: days * 86_400 + u64::from(h) * 3600 + u64::from(mi) * 60 + u64::from(se),
        })
    }
}

/// `roap:dateTimeOrInfinite` (seed 002 §5.4.4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Expiry {
    /// A UTC instant.
    At(DateTime),
    /// The literal `Infinite`.
    Infinite,
}

impl Expiry {
    /// Text form.
    pub fn to_xml(&self) -> String {
        match self {
            Expiry::At(t) => t.to_xml(),
            Expiry::Infinite => "Infinite".to_string(),
        }
    }

    /// Parses text form.
    pub fn parse(s: &str) -> Result<Self, PduError> {
        if s == "Infinite" {
            Ok(Expiry::Infinite)
        } else {
            DateTime::parse(s).map(Expiry::At)
        }
    }
}

// ---------------------------------------------------------------- certificates

/// Most certificates accepted in one chain.
pub const MAX_CHAIN_LEN: usize = 16;
/// Most OCSP responses accepted in one PDU.
pub const MAX_OCSP: usize = 16;

/// `roap:CertificateChain`: DER certificates, end entity first, root excluded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CertificateChain {
    /// DER-encoded certificates.
    pub certificates: Vec<Vec<u8>>,
}

impl CertificateChain {
    /// `<name><certificate>..</certificate>*</name>`.
    pub fn to_element(&self, name: &str) -> Element {
        let mut e = Element::plain(name);
        for c in &self.certificates {
            e.push(b64_leaf("certificate", c));
        }
        e
    }

    /// Reads a certificate chain element.
    pub fn from_element(el: &Element) -> Result<Self, PduError> {
        let mut k = Kids::of(el)?;
        let certificates = k
            .many("certificate", MAX_CHAIN_LEN)?
            .into_iter()
            .map(b64_decode)
            .collect::<Result<_, _>>()?;
        k.end()?;
        Ok(CertificateChain { certificates })
    }
}

/// Reads an optional `<certificateChain>` child.
pub(crate) fn opt_chain(
    k: &mut Kids<'_>,
    name: &str,
) -> Result<Option<CertificateChain>, PduError> {
    k.opt(name).map(CertificateChain::from_element).transpose()
}

/// Reads the `<ocspResponse>*` children.
pub(crate) fn ocsp_list(k: &mut Kids<'_>) -> Result<Vec<Vec<u8>>, PduError> {
    k.many("ocspResponse", MAX_OCSP)?
        .into_iter()
        .map(b64_decode)
        .collect()
}

/// Appends `<certificateChain>`, `<ocspResponse>*` as present.
pub(crate) fn push_chain_ocsp(e: &mut Element, chain: &Option<CertificateChain>, ocsp: &[Vec<u8>]) {
    if let Some(c) = chain {
        e.push(c.to_element("certificateChain"));
    }
    for o in ocsp {
        e.push(b64_leaf("ocspResponse", o));
    }
}

// ---------------------------------------------------------------- extensions

/// Most extensions accepted in one `<extensions>` element.
pub const MAX_EXTENSIONS: usize = 16;

/// A ROAP extension (OMA-TS-DRM-DRM-V2_0 §5.4.2; Hash Chain Support from DRM v2.1; Post
/// Response URL from seed 004 §5.4.6.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Extension {
    /// Peer Key Identifier: the peer key the sender already stores (`None` in a DeviceHello
    /// context means "send nothing", ROAP writes it empty).
    PeerKeyIdentifier(Option<Identifier>),
    /// No OCSP Response: the sender caches valid OCSP responses.
    NoOcspResponse,
    /// OCSP Responder Key Identifier: the responder key the sender stores.
    OcspResponderKeyIdentifier(Identifier),
    /// Hash Chain Support (DRM v2.1 domain key hash chains).
    HashChainSupport,
    /// Post Response URL `<prURL>` (seed 004; `critical` SHALL be true).
    PostResponseUrl(String),
}

/// One `<extension>` with its `critical` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ext {
    /// The `critical` attribute.
    pub critical: bool,
    /// The extension.
    pub ext: Extension,
}

impl Ext {
    /// A non-critical extension (Post Response URL is forced critical, seed 004).
    pub fn new(ext: Extension) -> Self {
        let critical = matches!(ext, Extension::PostResponseUrl(_));
        Ext { critical, ext }
    }

    fn xsi_type(&self) -> &'static str {
        match self.ext {
            Extension::PeerKeyIdentifier(_) => "roap:PeerKeyIdentifier",
            Extension::NoOcspResponse => "roap:NoOCSPResponse",
            Extension::OcspResponderKeyIdentifier(_) => "roap:OCSPResponderKeyIdentifier",
            Extension::HashChainSupport => "roap:HashChainSupport",
            Extension::PostResponseUrl(_) => "roap:PostResponseURL",
        }
    }

    fn to_element(&self) -> Element {
        let mut e = Element::plain("extension")
            .with_ns_attr("xsi", ns::XSI, "type", self.xsi_type())
            .with_attr("critical", if self.critical { "true" } else { "false" });
        match &self.ext {
            Extension::PeerKeyIdentifier(Some(id)) | Extension::OcspResponderKeyIdentifier(id) => {
                e.push(id.to_element("identifier"))
            }
            Extension::PostResponseUrl(u) => e.push(leaf("prURL", u.clone())),
            _ => {}
        }
        e
    }

    /// `Ok(None)` for an unknown non-critical extension, which ROAP says to ignore.
    fn from_element(el: &Element) -> Result<Option<Self>, PduError> {
        let critical = match el.attr("critical") {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(_) => return Err(PduError::invalid("extension", "bad critical flag")),
        };
        let ty = el.ns_attr(ns::XSI, "type").unwrap_or("");
        let mut k = Kids::of(el)?;
        let ext = match ty {
            "roap:PeerKeyIdentifier" => Extension::PeerKeyIdentifier(
                k.opt("identifier")
                    .map(Identifier::from_element)
                    .transpose()?,
            ),
            "roap:NoOCSPResponse" => Extension::NoOcspResponse,
            "roap:OCSPResponderKeyIdentifier" => Extension::OcspResponderKeyIdentifier(
                Identifier::from_element(k.req("identifier")?)?,
            ),
            "roap:HashChainSupport" => Extension::HashChainSupport,
            "roap:PostResponseURL" => Extension::PostResponseUrl(k.text("prURL")?),
            other if critical => return Err(PduError::UnknownCriticalExtension(other.to_string())),
            _ => return Ok(None),
        };
        k.end()?;
        Ok(Some(Ext { critical, ext }))
    }
}

/// Appends `<extensions>` when `exts` is non-empty.
pub(crate) fn push_exts(e: &mut Element, exts: &[Ext]) {
    if !exts.is_empty() {
        let mut x = Element::plain("extensions");
        for ext in exts {
            x.push(ext.to_element());
        }
        e.push(x);
    }
}

/// Reads an optional `<extensions>` child.
pub(crate) fn opt_exts(k: &mut Kids<'_>) -> Result<Vec<Ext>, PduError> {
    let Some(x) = k.opt("extensions") else {
        return Ok(Vec::new());
    };
    let mut kk = Kids::of(x)?;
    let mut v = Vec::new();
    for e in kk.many("extension", MAX_EXTENSIONS)? {
        if let Some(ext) = Ext::from_element(e)? {
            v.push(ext);
        }
    }
    kk.end()?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_matches_hand_computed_instants() {
        // 2004-12-22T03:02:00Z (seed 002 example) = 12774 days + 3h2m after the epoch.
        let t = DateTime::parse("2004-12-22T03:02:00Z").unwrap();
        assert_eq!(t.unix_s, 12_774 * 86_400 + 3 * 3600 + 2 * 60);
        assert_eq!(t.to_xml(), "2004-12-22T03:02:00Z");
        assert_eq!(DateTime::from_unix_s(0).to_xml(), "1970-01-01T00:00:00Z");
        assert_eq!(
            DateTime::parse("2000-02-29T00:00:00.5Z").unwrap().unix_s,
            951_782_400
        );
        assert_eq!(
            DateTime::from_unix_s(MAX_UNIX_S).to_xml(),
            "9999-12-31T23:59:59Z"
        );
        for bad in [
            "2001-02-29T00:00:00Z",
            "2004-12-22T03:02:00",
            "2004-12-22 03:02:00Z",
            "",
            "2004-12-22T03:02:00+01:00",
            "２004-12-22T03:02:00Z",
        ] {
            assert!(DateTime::parse(bad).is_err(), "{bad}");
        }
    }
}
