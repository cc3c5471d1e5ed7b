//! Exclusive XML Canonicalization 1.0 without comments, empty InclusiveNamespaces PrefixList
//! (W3C xml-exc-c14n), the only canonicalization ROAP allows (seed 002 §5.3.3).
//!
//! The node-set rendered is always "an element's subtree, minus the subtrees of some
//! descendants, minus comments", with every attribute and namespace node of the included
//! elements. For such node-sets the output does not depend on anything outside the apex
//! element: exclusive c14n renders only visibly utilized namespaces and does not inherit
//! `xml:*` attributes. So a selected subtree canonicalizes exactly like a standalone tree,
//! and an in-memory [`Element`] (a PDU being built) uses the same code.

use super::dom::{Attr, Document, Element, Node};
use super::error::XmlError;
use super::names::{is_absolute_uri, is_ncname, is_uri_reference, Name, XML_NS};

/// Renders elements into canonical octets, optionally recording each element's span.
pub(crate) struct Renderer<'a> {
    out: Vec<u8>,
    /// Descendants of the apex with one of these names are left out with their subtree.
    exclude: &'a [Name],
    /// Namespace bindings rendered by output ancestors, innermost last ("" = default).
    rendered: Vec<(&'a str, &'a str)>,
    /// Byte span `[start, end)` of every rendered element, in document order.
    spans: Option<Vec<(usize, usize)>>,
    /// Reused per-element buffers (taken while an element's start tag is built, returned
    /// before its children are rendered), so rendering allocates only the output.
    used_buf: Vec<(&'a str, &'a str)>,
    attrs_buf: Vec<&'a Attr>,
}

impl<'a> Renderer<'a> {
    /// A renderer leaving out descendants named in `exclude`; `record_spans` keeps the byte
    /// span of every element (needed by the substring interpretation, seed 002 §1 item 1).
    pub(crate) fn new(exclude: &'a [Name], record_spans: bool, capacity: usize) -> Self {
        Renderer {
            out: Vec::with_capacity(capacity),
            exclude,
            rendered: Vec::with_capacity(16),
            spans: record_spans.then(Vec::new),
            used_buf: Vec::with_capacity(8),
            attrs_buf: Vec::with_capacity(8),
        }
    }

    /// The octets rendered so far and the recorded spans (empty unless requested).
    pub(crate) fn finish(self) -> (Vec<u8>, Vec<(usize, usize)>) {
        (self.out, self.spans.unwrap_or_default())
    }

    /// Renders a whole document: PIs around the root (comments dropped), each PI before the
    /// root followed by LF and each PI after it preceded by LF (C14N 1.0 §2.3, "Document Order").
    pub(crate) fn document(&mut self, doc: &'a Document) -> Result<(), XmlError> {
        for node in &doc.before {
            if self.top_level(node)? {
                self.out.push(b'\n');
            }
        }
        self.element(&doc.root)?;
        for node in &doc.after {
            if let Node::Pi { .. } = node {
                self.out.push(b'\n');
            }
            self.top_level(node)?;
        }
        Ok(())
    }

    /// Renders a node outside the root; returns whether anything was output.
    fn top_level(&mut self, node: &'a Node) -> Result<bool, XmlError> {
        match node {
            Node::Pi { target, data } => {
                self.pi(target, data)?;
                Ok(true)
            }
            Node::Comment(_) => Ok(false),
            Node::Text(t) if t.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) => Ok(false),
            Node::Text(_) | Node::Element(_) => Err(XmlError::InvalidTree(
                "text or element outside the document element".into(),
            )),
        }
    }

    fn pi(&mut self, target: &str, data: &str) -> Result<(), XmlError> {
        if !is_ncname(target) || target.eq_ignore_ascii_case("xml") || data.contains("?>") {
            return Err(XmlError::InvalidTree(format!(
                "processing instruction {target:?}"
            )));
        }
        check_chars(data)?;
        self.out.extend_from_slice(b"<?");
        self.out.extend_from_slice(target.as_bytes());
        if !data.is_empty() {
            self.out.push(b' ');
            self.out.extend_from_slice(data.as_bytes());
        }
        self.out.extend_from_slice(b"?>");
        Ok(())
    }

    /// Looks up the binding for `prefix` rendered by the nearest output ancestor.
    fn rendered_uri(&self, prefix: &str) -> Option<&'a str> {
        self.rendered
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, u)| *u)
    }

    /// Renders `el` and its subtree (minus excluded descendants).
    pub(crate) fn element(&mut self, el: &'a Element) -> Result<(), XmlError> {
        let span_index = self.spans.as_mut().map(|s| {
            s.push((0, 0));
            s.len() - 1
        });
        let start = self.out.len();
        let mark = self.rendered.len();
        // Namespaces visibly utilized by `el` (exc-c14n §3): the element's own prefix (the
        // default namespace when unprefixed) and the prefixes of its attributes; attribute
        // *values* such as `xsi:type="roap:X509SPKIHash"` utilize nothing.
        let mut used = std::mem::take(&mut self.used_buf);
        used.clear();
        check_name(el.prefix.as_deref(), &el.local)?;
        match (el.prefix.as_deref(), el.ns.as_deref()) {
            (Some("xmlns"), _) | (Some(_), None) | (None, Some("")) => {
                return Err(XmlError::InvalidTree(format!(
                    "element {} has prefix {:?} but namespace {:?}",
                    el.local, el.prefix, el.ns
                )))
            }
            (p, u) => use_ns(&mut used, p.unwrap_or(""), u.unwrap_or(""))?,
        }
        for a in &el.attrs {
            check_name(a.prefix.as_deref(), &a.local)?;
            match (a.prefix.as_deref(), a.ns.as_deref()) {
                (None, None) => {}
                (Some("xmlns"), _) | (Some(_), None) | (None, Some(_)) | (Some(_), Some("")) => {
                    return Err(XmlError::InvalidTree(format!(
                        "attribute {} has prefix {:?} but namespace {:?}",
                        a.local, a.prefix, a.ns
                    )))
                }
                (Some(p), Some(u)) => use_ns(&mut used, p, u)?,
            }
        }
        // Render a binding unless the nearest output ancestor already rendered the same one;
        // `xmlns=""` only undoes a non-empty default rendered above.
        used.retain(|&(p, u)| match self.rendered_uri(p) {
            Some(r) => r != u,
            None => !u.is_empty(),
        });
        used.sort_unstable_by(|a, b| a.0.cmp(b.0));
        // C14N 1.0 §2: documents with relative namespace URIs cannot be canonicalized. Every
        // utilized binding is rendered by its topmost user, so checking rendered ones and the
        // declarations written on output elements covers the output.
        let relative = el
            .ns_decls
            .iter()
            .map(|d| d.uri.as_str())
            .chain(used.iter().map(|&(_, u)| u))
            .find(|u| !u.is_empty() && !is_absolute_uri(u));
        if let Some(u) = relative {
            return Err(XmlError::RelativeNamespaceUri(u.to_string()));
        }
        // A tree built in memory must not yield octets our own parser refuses.
        if let Some((_, u)) = used.iter().find(|(_, u)| !is_uri_reference(u)) {
            return Err(XmlError::InvalidTree(format!(
                "namespace name {u:?} is not a URI"
            )));
        }

        self.out.push(b'<');
        write_qname(&mut self.out, el.prefix.as_deref(), &el.local);
        for &(p, u) in &used {
            if p.is_empty() {
                self.out.extend_from_slice(b" xmlns=\"");
            } else {
                self.out.extend_from_slice(b" xmlns:");
                self.out.extend_from_slice(p.as_bytes());
                self.out.extend_from_slice(b"=\"");
            }
            escape_attr(&mut self.out, u)?;
            self.out.push(b'"');
        }
        self.rendered.extend_from_slice(&used);
        // Attributes sorted by (namespace URI, local name), unqualified ones first (C14N §2.2).
        let mut attrs = std::mem::take(&mut self.attrs_buf);
        attrs.clear();
        attrs.extend(el.attrs.iter());
        if attrs.len() > 1 {
            attrs.sort_unstable_by(|a, b| {
                (a.ns.is_some(), a.ns.as_deref(), a.local.as_str()).cmp(&(
                    b.ns.is_some(),
                    b.ns.as_deref(),
                    b.local.as_str(),
                ))
            });
            if attrs
                .windows(2)
                .any(|w| w[0].ns == w[1].ns && w[0].local == w[1].local)
            {
                return Err(XmlError::InvalidTree(format!(
                    "duplicate attribute on {}",
                    el.local
                )));
            }
        }
        for &a in &attrs {
            self.out.push(b' ');
            write_qname(&mut self.out, a.prefix.as_deref(), &a.local);
            self.out.extend_from_slice(b"=\"");
            escape_attr(&mut self.out, &a.value)?;
            self.out.push(b'"');
        }
        self.out.push(b'>');
        self.used_buf = used;
        self.attrs_buf = attrs;

        for child in &el.children {
            match child {
                Node::Element(c) => {
                    if self.exclude.iter().any(|n| n.matches(c)) {
                        continue;
                    }
                    self.element(c)?;
                }
                Node::Text(t) => escape_text(&mut self.out, t)?,
                Node::Pi { target, data } => self.pi(target, data)?,
                Node::Comment(_) => {}
            }
        }

        self.out.extend_from_slice(b"</");
        write_qname(&mut self.out, el.prefix.as_deref(), &el.local);
        self.out.push(b'>');
        self.rendered.truncate(mark);
        if let (Some(spans), Some(i)) = (self.spans.as_mut(), span_index) {
            spans[i] = (start, self.out.len());
        }
        Ok(())
    }
}

/// Records that `prefix` is visibly utilized with binding `uri`; one prefix bound to two
/// URIs on one element cannot be serialized.
fn use_ns<'a>(
    used: &mut Vec<(&'a str, &'a str)>,
    prefix: &'a str,
    uri: &'a str,
) -> Result<(), XmlError> {
    if prefix == "xml" {
        // The xml namespace is bound implicitly and never declared (C14N §2.3 / exc-c14n §3).
        return if uri == XML_NS {
            Ok(())
        } else {
            Err(XmlError::InvalidTree(format!("prefix xml bound to {uri}")))
        };
    }
    if uri == XML_NS {
        return Err(XmlError::InvalidTree(format!(
            "prefix {prefix} bound to {uri}"
        )));
    }
    match used.iter().find(|(p, _)| *p == prefix) {
        Some((_, u)) if *u != uri => Err(XmlError::InvalidTree(format!(
            "prefix {prefix:?} bound to both {u} and {uri}"
        ))),
        Some(_) => Ok(()),
        None => {
            used.push((prefix, uri));
            Ok(())
        }
    }
}

fn check_name(prefix: Option<&str>, local: &str) -> Result<(), XmlError> {
    if !is_ncname(local) || prefix.is_some_and(|p| !is_ncname(p)) {
        return Err(XmlError::InvalidTree(format!(
            "invalid name {}{local}",
            prefix.map(|p| format!("{p}:")).unwrap_or_default()
        )));
    }
    Ok(())
}

fn write_qname(out: &mut Vec<u8>, prefix: Option<&str>, local: &str) {
    if let Some(p) = prefix {
        out.extend_from_slice(p.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

/// Fails on characters XML forbids (C0 controls other than TAB/LF/CR, U+FFFE, U+FFFF).
fn check_chars(s: &str) -> Result<(), XmlError> {
    match s.chars().find(|&c| !super::names::is_xml_char(c)) {
        Some(c) => Err(XmlError::InvalidTree(format!(
            "character U+{:04X} cannot be serialized",
            u32::from(c)
        ))),
        None => Ok(()),
    }
}

/// Whether byte `i` of `b` starts a character XML forbids.
#[inline]
fn forbidden_at(b: &[u8], i: usize) -> bool {
    match b[i] {
        0..=8 | 11 | 12 | 14..=31 => true,
        0xEF => b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)),
        _ => false,
    }
}

/// Byte classes for escaping: 0 = copy, 1 = forbidden-character candidate (C0 control or
/// first byte of U+FFFE/U+FFFF), 2.. = index + 2 into the replacement table.
const fn class_table(attr: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = 1;
        i += 1;
    }
    t[0xEF] = 1;
    t[b'&' as usize] = 2;
    t[b'<' as usize] = 3;
    t[b'\r' as usize] = 4;
    if attr {
        t[b'"' as usize] = 5;
        t[b'\t' as usize] = 6;
        t[b'\n' as usize] = 7;
    } else {
        t[b'>' as usize] = 8;
        t[b'\t' as usize] = 0;
        t[b'\n' as usize] = 0;
    }
    t
}

const TEXT_CLASSES: [u8; 256] = class_table(false);
const ATTR_CLASSES: [u8; 256] = class_table(true);
const REPLACEMENTS: [&[u8]; 7] = [
    b"&amp;", b"&lt;", b"&#xD;", b"&quot;", b"&#x9;", b"&#xA;", b"&gt;",
];

/// Text node escaping (C14N §2.3): `&`, `<`, `>` and CR as references, all else literal.
fn escape_text(out: &mut Vec<u8>, s: &str) -> Result<(), XmlError> {
    escape_with(out, s, &TEXT_CLASSES)
}

/// Attribute value escaping (C14N §2.3): `&`, `<`, `"`, TAB, LF and CR as references.
fn escape_attr(out: &mut Vec<u8>, s: &str) -> Result<(), XmlError> {
    escape_with(out, s, &ATTR_CLASSES)
}

#[inline]
fn escape_with(out: &mut Vec<u8>, s: &str, classes: &[u8; 256]) -> Result<(), XmlError> {
    let b = s.as_bytes();
    let mut last = 0;
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| classes[c as usize] != 0) {
        i += off;
        match classes[b[i] as usize] {
            1 => {
                if forbidden_at(b, i) {
                    return check_chars(s);
                }
            }
            k => {
                out.extend_from_slice(&b[last..i]);
                out.extend_from_slice(REPLACEMENTS[usize::from(k) - 2]);
                last = i + 1;
            }
        }
        i += 1;
    }
    out.extend_from_slice(&b[last..]);
    Ok(())
}

/// Canonical octets of `el`'s subtree as a standalone tree (the apex renders every binding
/// it visibly utilizes). This is how PDUs built in memory are encoded.
pub fn canonicalize_element(el: &Element) -> Result<Vec<u8>, XmlError> {
    canonicalize_element_excluding(el, &[])
}

/// Canonical octets of `el`'s subtree minus every descendant named in `exclude` (with its
/// subtree); the text around an excluded element stays (XPath node-set semantics).
pub fn canonicalize_element_excluding(el: &Element, exclude: &[Name]) -> Result<Vec<u8>, XmlError> {
    let mut r = Renderer::new(exclude, false, 1024);
    r.element(el)?;
    Ok(r.finish().0)
}

/// Canonical octets of a whole document (XML declaration dropped, comments dropped, PIs
/// outside the root kept with their separating LFs).
pub fn canonicalize_document(doc: &Document) -> Result<Vec<u8>, XmlError> {
    let mut r = Renderer::new(&[], false, 1024);
    r.document(doc)?;
    Ok(r.finish().0)
}
