//! XML bytes <-> DOM for PDUs: parsing with hostile-input limits and Exclusive XML
//! Canonicalization (without comments, empty InclusiveNamespaces PrefixList, seed 002 §5.3.3).
//!
//! This is a private shim written while the `xml` module (parser + C14N) was not yet on this
//! branch; everything PDU code needs goes through [`parse_root`] and [`c14n`] so the shim can
//! be swapped for `crate::xml` in one place.

use super::PduError;
use crate::xml::{Attr, Element, Node, NsDecl};
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// Largest PDU accepted by [`parse_root`] (a ROResponse with many ROs stays far below).
pub const MAX_PDU_BYTES: usize = 1 << 20;
/// Deepest element nesting accepted (ROAP PDUs nest about 10 deep).
pub const MAX_DEPTH: usize = 64;
/// Most elements accepted in one PDU.
pub const MAX_ELEMENTS: usize = 20_000;
/// Most attributes on one element.
pub const MAX_ATTRS: usize = 32;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

fn bad(msg: impl Into<String>) -> PduError {
    PduError::Xml(msg.into())
}

/// Parses `bytes` into the document element; DTDs are refused (no entity expansion attacks).
pub fn parse_root(bytes: &[u8]) -> Result<Element, PduError> {
    if bytes.len() > MAX_PDU_BYTES {
        return Err(bad(format!("PDU of {} bytes exceeds limit", bytes.len())));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;
    // Stack of open elements; each carries the in-scope namespace bindings as they were
    // after its own declarations.
    let mut stack: Vec<Element> = Vec::new();
    let mut scopes: Vec<Vec<(Option<String>, String)>> =
        vec![vec![(Some("xml".to_string()), XML_NS.to_string())]];
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let ev = reader.read_event().map_err(|e| bad(e.to_string()))?;
        let empty = matches!(ev, Event::Empty(_));
        match ev {
            Event::Start(s) | Event::Empty(s) => {
                if root.is_some() {
                    return Err(bad("content after document element"));
                }
                elements += 1;
                if elements > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err(bad("element count or depth limit exceeded"));
                }
                let (el, scope) = start_element(&s, scopes.last().expect("scope"))?;
                if empty {
                    close(el, &mut stack, &mut root);
                } else {
                    stack.push(el);
                    scopes.push(scope);
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| bad("unbalanced end tag"))?;
                scopes.pop();
                close(el, &mut stack, &mut root);
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::CData(c) => push_text(&mut stack, &c.xml10_content())?,
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref().map_err(|e| bad(e.to_string()))? {
                    Some(c) => c,
                    None => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(bad(format!("undeclared entity &{other};"))),
                    },
                };
                push_text(&mut stack, ch.encode_utf8(&mut [0u8; 4]))?;
            }
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::DocType(_) => return Err(bad("DTD not allowed in a PDU")),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(bad("unclosed element"));
    }
    root.ok_or_else(|| bad("no document element"))
}

fn close(el: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(el)),
        None => *root = Some(el),
    }
}

fn push_text(stack: &mut [Element], s: &str) -> Result<(), PduError> {
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(t)) = parent.children.last_mut() {
                t.push_str(s);
            } else {
                parent.children.push(Node::Text(s.to_string()));
            }
            Ok(())
        }
        None if s.chars().all(char::is_whitespace) => Ok(()),
        None => Err(bad("text outside the document element")),
    }
}

fn split(qname: &str) -> (Option<&str>, &str) {
    match qname.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, qname),
    }
}

fn resolve(scope: &[(Option<String>, String)], prefix: Option<&str>) -> Option<String> {
    scope
        .iter()
        .rev()
        .find(|(p, _)| p.as_deref() == prefix)
        .map(|(_, u)| u.clone())
        .filter(|u| !u.is_empty())
}

type Scope = Vec<(Option<String>, String)>;

fn start_element(s: &BytesStart<'_>, outer: &Scope) -> Result<(Element, Scope), PduError> {
    let name: String = s.name().as_ref().to_string();
    let mut scope = outer.clone();
    let mut ns_decls = Vec::new();
    let mut raw_attrs = Vec::new();
    for (i, a) in s.attributes().enumerate() {
        if i >= MAX_ATTRS {
            return Err(bad("too many attributes"));
        }
        let a = a.map_err(|e| bad(e.to_string()))?;
        let key: String = a.key.as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| bad(e.to_string()))?
            .into_owned();
        if key == "xmlns" {
            ns_decls.push(NsDecl {
                prefix: None,
                uri: value.clone(),
            });
            scope.push((None, value));
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            if value.is_empty() {
                return Err(bad("empty prefixed namespace declaration"));
            }
            ns_decls.push(NsDecl {
                prefix: Some(p.to_string()),
                uri: value.clone(),
            });
            scope.push((Some(p.to_string()), value));
        } else {
            raw_attrs.push((key, value));
        }
    }
    let (prefix, local) = split(&name);
    let ns = resolve(&scope, prefix);
    if prefix.is_some() && ns.is_none() {
        return Err(bad(format!("undeclared prefix in <{name}>")));
    }
    let mut attrs = Vec::with_capacity(raw_attrs.len());
    for (key, value) in raw_attrs {
        let (ap, al) = split(&key);
        let ans = match ap {
            Some(p) => Some(resolve(&scope, Some(p)).ok_or_else(|| bad("undeclared prefix"))?),
            None => None,
        };
        if attrs
            .iter()
            .any(|x: &Attr| x.local == al && x.ns.as_deref() == ans.as_deref())
        {
            return Err(bad("duplicate attribute"));
        }
        attrs.push(Attr {
            prefix: ap.map(str::to_string),
            local: al.to_string(),
            ns: ans,
            value,
        });
    }
    let el = Element {
        prefix: prefix.map(str::to_string),
        local: local.to_string(),
        ns,
        ns_decls,
        attrs,
        children: Vec::new(),
    };
    Ok((el, scope))
}

/// Exclusive Canonical XML (without comments) of `el` as a document subset apex.
pub fn c14n(el: &Element) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let mut rendered: Vec<(String, String)> = Vec::new();
    write_el(el, &mut out, &mut rendered);
    out
}

fn qname(prefix: &Option<String>, local: &str, out: &mut Vec<u8>) {
    if let Some(p) = prefix {
        out.extend_from_slice(p.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

fn write_el(el: &Element, out: &mut Vec<u8>, rendered: &mut Vec<(String, String)>) {
    let mark = rendered.len();
    // Visibly utilized prefixes: the element's own and those of its prefixed attributes.
    let mut needed: Vec<(String, String)> = Vec::with_capacity(2);
    let el_prefix = el.prefix.clone().unwrap_or_default();
    needed.push((el_prefix, el.ns.clone().unwrap_or_default()));
    for a in &el.attrs {
        if let (Some(p), Some(ns)) = (&a.prefix, &a.ns) {
            if p != "xml" && !needed.iter().any(|(q, _)| q == p) {
                needed.push((p.clone(), ns.clone()));
            }
        }
    }
    needed.sort();
    let mut decls: Vec<(String, String)> = Vec::new();
    for (p, uri) in needed {
        let current = rendered
            .iter()
            .rev()
            .find(|(q, _)| *q == p)
            .map(|(_, u)| u.as_str());
        let emit = match current {
            Some(u) => u != uri,
            None => !(p.is_empty() && uri.is_empty()),
        };
        if emit {
            decls.push((p, uri));
        }
    }
    out.push(b'<');
    qname(&el.prefix, &el.local, out);
    for (p, uri) in &decls {
        if p.is_empty() {
            out.extend_from_slice(b" xmlns=\"");
        } else {
            out.extend_from_slice(b" xmlns:");
            out.extend_from_slice(p.as_bytes());
            out.extend_from_slice(b"=\"");
        }
        escape_attr(uri, out);
        out.push(b'"');
    }
    rendered.extend(decls);
    let mut attrs: Vec<&Attr> = el.attrs.iter().collect();
    attrs.sort_by(|a, b| {
        (a.ns.as_deref().unwrap_or(""), a.local.as_str())
            .cmp(&(b.ns.as_deref().unwrap_or(""), b.local.as_str()))
    });
    for a in attrs {
        out.push(b' ');
        qname(&a.prefix, &a.local, out);
        out.extend_from_slice(b"=\"");
        escape_attr(&a.value, out);
        out.push(b'"');
    }
    out.push(b'>');
    for n in &el.children {
        match n {
            Node::Element(c) => write_el(c, out, rendered),
            Node::Text(t) => escape_text(t, out),
            Node::Comment(_) => {}
            Node::Pi { target, data } => {
                out.extend_from_slice(b"<?");
                out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(data.as_bytes());
                }
                out.extend_from_slice(b"?>");
            }
        }
    }
    out.extend_from_slice(b"</");
    qname(&el.prefix, &el.local, out);
    out.push(b'>');
    rendered.truncate(mark);
}

fn escape_text(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            _ => out.push(b),
        }
    }
}

fn escape_attr(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\t' => out.extend_from_slice(b"&#x9;"),
            b'\n' => out.extend_from_slice(b"&#xA;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            _ => out.push(b),
        }
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
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse_root(deep.as_bytes()).is_err());
    }
}
