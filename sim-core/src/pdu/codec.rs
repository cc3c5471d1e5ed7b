//! XML bytes <-> DOM for PDUs, through the `xml` module: parsing with hostile-input limits
//! and Exclusive XML Canonicalization (without comments, empty InclusiveNamespaces
//! PrefixList, seed 002 §5.3.3).

use super::PduError;
use crate::xml::{self, Element, Limits, XmlError};

/// Largest PDU accepted by [`parse_root`] (a ROResponse with many ROs stays far below).
pub const MAX_PDU_BYTES: usize = 256 * 1024;

fn limits() -> Limits {
    Limits {
        max_input_bytes: MAX_PDU_BYTES,
        ..Limits::default()
    }
}

impl From<XmlError> for PduError {
    fn from(e: XmlError) -> Self {
        PduError::Xml(e.to_string())
    }
}

/// Parses `bytes` into a document (DTDs refused, limits enforced).
pub fn parse_document(bytes: &[u8]) -> Result<xml::Document, PduError> {
    Ok(xml::parse(bytes, &limits())?)
}

/// Parses `bytes` into the document element.
pub fn parse_root(bytes: &[u8]) -> Result<Element, PduError> {
    parse_document(bytes).map(|d| d.root)
}

/// Exclusive Canonical XML of `el` as a document subset apex.
pub fn try_c14n(el: &Element) -> Result<Vec<u8>, PduError> {
    Ok(xml::canonicalize_element(el)?)
}

/// Exclusive Canonical XML of a tree built by this module. Such trees only use constant,
/// absolute namespace URIs and well-formed names; a failure means the simulator put
/// characters XML cannot carry into a field, which [`crate::xml::XmlError::is_fatal`]
/// classifies as a fatal simulator bug.
pub fn c14n(el: &Element) -> Vec<u8> {
    match xml::canonicalize_element(el) {
        Ok(v) => v,
        Err(e) => panic!("PDU tree cannot be canonicalized (simulator bug): {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_c14n_declares_namespaces_where_used() {
        let doc = br#"<a:r xmlns:a="urn:a" xmlns:b="urn:b" z="1" b:y="&lt;2&gt;"><c><b:d/></c> x &amp; y</a:r>"#;
        let el = parse_root(doc).unwrap();
        let out = String::from_utf8(c14n(&el)).unwrap();
        assert_eq!(
            out,
            r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b" z="1" b:y="&lt;2>"><c><b:d></b:d></c> x &amp; y</a:r>"#
        );
    }

    #[test]
    fn hostile_inputs_are_errors() {
        assert!(parse_root(b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>").is_err());
        assert!(parse_root(b"<a><b></a>").is_err());
        assert!(parse_root(b"<p:a/>").is_err());
        assert!(parse_root(b"").is_err());
        assert!(parse_root(&[0xff, 0xfe]).is_err());
        assert!(parse_root("<a>".repeat(100).as_bytes()).is_err());
        assert!(parse_root(&vec![b' '; MAX_PDU_BYTES + 1]).is_err());
    }
}
