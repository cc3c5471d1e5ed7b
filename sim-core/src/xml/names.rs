//! XML 1.0 name and character classes, and the `{uri}local` / `local` selector names used by
//! the c14n vectors and the `drmsim xml c14n` command.

use super::dom::Element;
use super::error::XmlError;

/// The namespace URI permanently bound to the `xml` prefix (Namespaces in XML 1.0 §3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace URI of `xmlns` attributes; it may never be declared (Namespaces in XML 1.0 §3).
pub const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// Whether `c` may appear in an XML 1.0 document (production `Char`).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Whether `c` may start an XML name, colon excluded (production `NameStartChar` minus ':').
fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// Whether `c` may continue an XML name, colon excluded (production `NameChar` minus ':').
fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Whether `s` is a non-colonized name (Namespaces in XML 1.0, production `NCName`).
pub fn is_ncname(s: &str) -> bool {
    // ASCII fast path: nearly every name in a ROAP PDU.
    let b = s.as_bytes();
    if let Some((&first, rest)) = b.split_first() {
        if (first.is_ascii_alphabetic() || first == b'_')
            && rest
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        {
            return true;
        }
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start(c) => chars.all(is_name_char),
        _ => false,
    }
}

/// Whether `s` is an XML 1.0 `Name` (colons allowed anywhere), e.g. a PI target.
pub fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start(c) || c == ':' => chars.all(|c| is_name_char(c) || c == ':'),
        _ => false,
    }
}

/// Splits a qualified name `p:l` / `l` into prefix and local part, validating both as NCNames.
pub fn split_qname(qname: &str) -> Result<(Option<&str>, &str), XmlError> {
    // A byte search: ':' is ASCII, so the split falls on character boundaries.
    let (prefix, local) = match qname.bytes().position(|c| c == b':') {
        Some(i) => (Some(&qname[..i]), &qname[i + 1..]),
        None => (None, qname),
    };
    if !is_ncname(local) || prefix.is_some_and(|p| !is_ncname(p)) {
        return Err(XmlError::InvalidName(qname.to_string()));
    }
    Ok((prefix, local))
}

/// ASCII characters allowed literally in a namespace URI: RFC 3986 unreserved and reserved
/// characters except `[` `]` (a lookup table: every namespace declaration is checked).
const URI_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric();
        c += 1;
    }
    let extra = b"-._~:/?#@!$&'()*+,;=";
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
};

/// Whether `s` is an RFC 3986 URI reference made of ASCII URI characters only (what libxml2
/// demands of namespace names): unreserved, reserved but `[` `]` (IP literals have no place in
/// a namespace name), and `%` + two hex digits; a relative
/// reference must not have a colon in its first segment.
pub fn is_uri_reference(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
                {
                    return false;
                }
                i += 3;
                continue;
            }
            c if URI_CHAR[usize::from(c)] => {}
            _ => return false,
        }
        i += 1;
    }
    if is_absolute_uri(s) {
        return true;
    }
    let first_segment = s.split(['/', '?', '#']).next().unwrap_or("");
    !first_segment.contains(':')
}

/// Whether `s` starts with an RFC 3986 scheme (`ALPHA *(ALPHA / DIGIT / + / - / .) ":"`).
pub fn is_absolute_uri(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, _)) => {
            let mut c = scheme.bytes();
            c.next().is_some_and(|f| f.is_ascii_alphabetic())
                && c.all(|x| x.is_ascii_alphanumeric() || matches!(x, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

/// An expanded element name used to select or exclude elements: `{uri}local` or `local`
/// (no namespace), the notation of the c14n vectors' `.sel` files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// Namespace URI; `None` = no namespace.
    pub ns: Option<String>,
    /// Local name.
    pub local: String,
}

impl Name {
    /// Parses `{uri}local` or `local`; the local part must be an NCName, the URI non-empty.
    pub fn parse(s: &str) -> Result<Name, XmlError> {
        let bad = || XmlError::InvalidSelector(s.to_string());
        let (ns, local) = match s.strip_prefix('{') {
            Some(rest) => {
                let (uri, local) = rest.split_once('}').ok_or_else(bad)?;
                if uri.is_empty() {
                    return Err(bad());
                }
                (Some(uri.to_string()), local)
            }
            None => (None, s),
        };
        if !is_ncname(local) {
            return Err(bad());
        }
        Ok(Name {
            ns,
            local: local.to_string(),
        })
    }

    /// Whether `el` has this expanded name.
    pub fn matches(&self, el: &Element) -> bool {
        el.is(self.ns.as_deref(), &self.local)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.ns {
            Some(ns) => write!(f, "{{{ns}}}{}", self.local),
            None => f.write_str(&self.local),
        }
    }
}

impl std::str::FromStr for Name {
    type Err = XmlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Name::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_names_parse() {
        let n = Name::parse("{urn:oma:bac:dldrm:roap-1.0}domainKey").unwrap();
        assert_eq!(n.ns.as_deref(), Some("urn:oma:bac:dldrm:roap-1.0"));
        assert_eq!(n.local, "domainKey");
        assert_eq!(n.to_string(), "{urn:oma:bac:dldrm:roap-1.0}domainKey");
        let n = Name::parse("mac").unwrap();
        assert_eq!(n.ns, None);
        assert_eq!(n.local, "mac");
        for bad in ["", "{}a", "{urn:x", "{urn:x}", "p:a", "1a", "a b"] {
            assert!(
                matches!(Name::parse(bad), Err(XmlError::InvalidSelector(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn qnames_split_and_validate() {
        assert_eq!(split_qname("roap:nonce").unwrap(), (Some("roap"), "nonce"));
        assert_eq!(split_qname("nonce").unwrap(), (None, "nonce"));
        for bad in [":a", "a:", "a:b:c", "1x", "-a", ""] {
            assert!(split_qname(bad).is_err(), "{bad:?}");
        }
        assert!(is_ncname("é_1.-"));
        assert!(!is_xml_char('\u{1}'));
        assert!(!is_xml_char('\u{FFFE}'));
        assert!(is_xml_char('\u{1D11E}'));
    }

    #[test]
    fn namespace_uris_are_checked() {
        for ok in [
            "urn:oma:bac:dldrm:roap-1.0",
            "http://www.w3.org/2000/09/xmldsig#",
            "a/b",
            "%41",
        ] {
            assert!(is_uri_reference(ok), "{ok}");
        }
        for bad in [
            "urn:b ",
            ">urn",
            "urn:b[",
            "u\u{10FFFF}",
            "urn;:a",
            "%4",
            "a\\b",
        ] {
            assert!(!is_uri_reference(bad), "{bad}");
        }
        assert!(is_absolute_uri("urn:x") && is_absolute_uri("h+t.p-1:"));
        assert!(!is_absolute_uri("ur") && !is_absolute_uri("1a:b") && !is_absolute_uri(":x"));
    }
}
