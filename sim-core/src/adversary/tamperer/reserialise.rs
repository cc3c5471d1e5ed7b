//! Non-canonical re-serialisation of a PDU: the same XML information set (the same XPath
//! node set, hence the same Exclusive C14N output, seed 002 §5.3.3) written differently, as
//! an intermediary (a proxy, a gateway re-encoding XML) may forward it. Seed 002 §5.3.3 makes
//! senders canonicalise, but a receiver computing MAC input per interpretation 1 (the octets
//! of the PDU as received) only interoperates while nobody touches the octets.
//!
//! What is changed (each is an equivalence of the XPath data model that Exclusive C14N
//! undoes, W3C xml-exc-c14n §3 / C14N 1.0 §1.1):
//! - an XML declaration is prepended;
//! - attributes are written in reverse order, single-quoted, with white space around `=`;
//!   namespace declarations come after the attributes;
//! - the root's namespace binding is redeclared (same prefix, same URI) on every child of
//!   the root, where no element or attribute name uses it (exclusive c14n drops it);
//! - empty elements are written `<a/>` instead of `<a></a>`;
//! - start and end tags carry white space before `>`;
//! - the first character of each text node and of each attribute value is written as a
//!   character reference, and `>` in text as `&#62;`.
//!
//! Not changed, because it is not an equivalence under Exclusive C14N: prefixes (c14n keeps
//! them; seed 002 §5.3.3 also forbids prefixes other than the schema's), white space between
//! elements (text nodes are part of the node set), comments (harmless to c14n without
//! comments, but they would split a text node in the PDU decoder's view).

use crate::xml::{self, Element, Limits, Node, XmlError};

/// Re-serialises the XML document `canonical` (a PDU's octets) non-canonically.
pub fn reserialise(canonical: &[u8]) -> Result<Vec<u8>, XmlError> {
    let doc = xml::parse(canonical, &Limits::default())?;
    let mut out = String::with_capacity(canonical.len() * 2);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let root_decls: Vec<(String, String)> = doc
        .root
        .ns_decls
        .iter()
        .filter_map(|d| Some((d.prefix.as_ref()?.to_string(), d.uri.to_string())))
        .collect();
    write_element(&mut out, &doc.root, 0, &root_decls);
    Ok(out.into_bytes())
}

fn qname(prefix: Option<&str>, local: &str) -> String {
    match prefix {
        Some(p) => format!("{p}:{local}"),
        None => local.to_string(),
    }
}

/// `c` as a decimal character reference.
fn char_ref(out: &mut String, c: char) {
    out.push_str(&format!("&#{};", c as u32));
}

fn write_attr_value(out: &mut String, v: &str) {
    for (i, c) in v.chars().enumerate() {
        match c {
            _ if i == 0 => char_ref(out, c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '\'' => out.push_str("&apos;"),
            // Literal white space other than a space would be normalised by the parser.
            '\t' | '\n' | '\r' => char_ref(out, c),
            _ => out.push(c),
        }
    }
}

fn write_text(out: &mut String, t: &str) {
    for (i, c) in t.chars().enumerate() {
        match c {
            _ if i == 0 && !c.is_whitespace() => char_ref(out, c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&#62;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
}

/// Whether `el` or one of its attributes uses `prefix` in its name.
fn uses_prefix(el: &Element, prefix: &str) -> bool {
    el.prefix.as_deref() == Some(prefix)
        || el.attrs.iter().any(|a| a.prefix.as_deref() == Some(prefix))
}

fn write_element(out: &mut String, el: &Element, depth: usize, root_decls: &[(String, String)]) {
    let name = qname(el.prefix.as_deref(), &el.local);
    out.push('<');
    out.push_str(&name);
    for a in el.attrs.iter().rev() {
        out.push_str("  ");
        out.push_str(&qname(a.prefix.as_deref(), &a.local));
        out.push_str(" = '");
        write_attr_value(out, &a.value);
        out.push('\'');
    }
    for d in &el.ns_decls {
        match &d.prefix {
            Some(p) => out.push_str(&format!("\n  xmlns:{p}='")),
            None => out.push_str("\n  xmlns='"),
        }
        write_attr_value(out, &d.uri);
        out.push('\'');
    }
    if depth == 1 {
        for (p, uri) in root_decls {
            let declared_here = el.ns_decls.iter().any(|d| d.prefix.as_deref() == Some(p));
            if !declared_here && !uses_prefix(el, p) {
                out.push_str(&format!(" xmlns:{p}=\"{uri}\""));
            }
        }
    }
    if el.children.is_empty() {
        out.push_str(" />");
        return;
    }
    out.push_str(" >");
    for c in &el.children {
        match c {
            Node::Element(e) => write_element(out, e, depth + 1, root_decls),
            Node::Text(t) => write_text(out, t),
            // Dropped by canonicalization without comments; a canonical PDU has none.
            Node::Comment(_) => {}
            Node::Pi { target, data } => {
                out.push_str(&format!("<?{target} {data}?>"));
            }
        }
    }
    out.push_str("</");
    out.push_str(&name);
    out.push_str("\n>");
}
