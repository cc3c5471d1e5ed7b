//! A small namespace-resolved XML tree: what the parser produces, what PDUs are built from,
//! and what Exclusive Canonicalization walks.
//!
//! Names, prefixes and namespace URIs are [`Atom`]s (shared immutable strings): the parser
//! interns them per document, so the URI declared once is shared by every element in that
//! namespace instead of being copied into each (decode speed, issue 3).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use super::intern::intern;

/// An immutable, cheaply cloned string for names, prefixes and namespace URIs.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Atom(Arc<str>);

impl Atom {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `a` and `b` share one allocation (equal text is all [`PartialEq`] compares).
    pub fn ptr_eq(a: &Atom, b: &Atom) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl Default for Atom {
    /// The empty string (one shared allocation for the whole process).
    fn default() -> Self {
        static EMPTY: OnceLock<Atom> = OnceLock::new();
        EMPTY.get_or_init(|| Atom(Arc::from(""))).clone()
    }
}

impl Deref for Atom {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Atom {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Atom {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Atom {
    fn from(s: &str) -> Self {
        Atom(Arc::from(s))
    }
}

impl From<String> for Atom {
    fn from(s: String) -> Self {
        Atom(Arc::from(s))
    }
}

impl From<&String> for Atom {
    fn from(s: &String) -> Self {
        Atom(Arc::from(s.as_str()))
    }
}

impl From<Atom> for String {
    fn from(a: Atom) -> Self {
        a.0.to_string()
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Atom {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Atom {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Atom {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Atom> for str {
    fn eq(&self, other: &Atom) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Atom> for &str {
    fn eq(&self, other: &Atom) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Atom> for String {
    fn eq(&self, other: &Atom) -> bool {
        **self == *other.0
    }
}

/// A namespace declaration written on an element (`xmlns:p="uri"`, or `xmlns="uri"` when
/// `prefix` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsDecl {
    /// Declared prefix; `None` for the default namespace.
    pub prefix: Option<Atom>,
    /// Namespace URI (empty string undeclares the default namespace).
    pub uri: Atom,
}

/// An attribute with its prefix as written and its resolved namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// Prefix as written (`None` for unprefixed attributes, which have no namespace).
    pub prefix: Option<Atom>,
    /// Local name.
    pub local: Atom,
    /// Resolved namespace URI.
    pub ns: Option<Atom>,
    /// Attribute value, entity references already resolved.
    pub value: String,
}

/// A child node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An element.
    Element(Element),
    /// Character data (entity references and CDATA already resolved).
    Text(String),
    /// A comment (dropped by canonicalization without comments).
    Comment(String),
    /// A processing instruction.
    Pi {
        /// PI target.
        target: String,
        /// PI data (may be empty).
        data: String,
    },
}

/// An element with its prefix as written and its resolved namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Prefix as written; `None` for an unprefixed name.
    pub prefix: Option<Atom>,
    /// Local name.
    pub local: Atom,
    /// Resolved namespace URI (`None` = no namespace).
    pub ns: Option<Atom>,
    /// Namespace declarations written on this element, in document order.
    pub ns_decls: Vec<NsDecl>,
    /// Attributes in document order (namespace declarations excluded).
    pub attrs: Vec<Attr>,
    /// Children in document order.
    pub children: Vec<Node>,
}

/// A parsed document: the root element and the comments/PIs around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Nodes before the root element (PIs, comments).
    pub before: Vec<Node>,
    /// The document element.
    pub root: Element,
    /// Nodes after the root element.
    pub after: Vec<Node>,
}

impl Element {
    /// An element named `prefix:local` in namespace `ns` (no namespace when `ns` is `None`).
    pub fn new(prefix: Option<&str>, local: &str, ns: Option<&str>) -> Self {
        Element {
            prefix: prefix.map(intern),
            local: intern(local),
            ns: ns.map(intern),
            ns_decls: Vec::new(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// An unprefixed element in no namespace (ROAP's unqualified local elements).
    pub fn plain(local: &str) -> Self {
        Self::new(None, local, None)
    }

    /// Adds an unprefixed attribute (builder style).
    pub fn with_attr(mut self, local: &str, value: impl Into<String>) -> Self {
        self.attrs.push(Attr {
            prefix: None,
            local: intern(local),
            ns: None,
            value: value.into(),
        });
        self
    }

    /// Adds a namespaced attribute such as `xsi:type` (builder style).
    pub fn with_ns_attr(
        mut self,
        prefix: &str,
        ns: &str,
        local: &str,
        value: impl Into<String>,
    ) -> Self {
        self.attrs.push(Attr {
            prefix: Some(intern(prefix)),
            local: intern(local),
            ns: Some(intern(ns)),
            value: value.into(),
        });
        self
    }

    /// Adds a namespace declaration (builder style). Canonicalization decides which
    /// declarations are output; this records what the document as written contains.
    pub fn with_ns_decl(mut self, prefix: Option<&str>, uri: &str) -> Self {
        self.ns_decls.push(NsDecl {
            prefix: prefix.map(intern),
            uri: intern(uri),
        });
        self
    }

    /// Appends a child element (builder style).
    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Appends a text node (builder style).
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// Appends a child element.
    pub fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    /// The value of the unprefixed attribute `local`.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// The value of attribute `{ns}local`.
    pub fn ns_attr(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Whether this element is `{ns}local` (`ns` `None` = no namespace).
    pub fn is(&self, ns: Option<&str>, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == ns
    }

    /// Child elements in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element named `local` (any namespace).
    pub fn child(&self, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.local == local)
    }

    /// Every child element named `local` (any namespace).
    pub fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.local == local)
    }

    /// Concatenated text of the direct text children.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }

    /// Number of elements in this subtree, this one included.
    pub fn element_count(&self) -> usize {
        1 + self.elements().map(Element::element_count).sum::<usize>()
    }
}
