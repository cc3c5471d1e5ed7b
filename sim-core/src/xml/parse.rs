//! Hostile-input-safe XML parsing into the namespace-resolved DOM.
//!
//! quick-xml 0.42 is the tokenizer; everything that makes the result trustworthy for MACs and
//! signatures is done here: DOCTYPE refusal (no entity can ever be declared, so no entity
//! bomb), only the five predefined entities and character references, XML 1.0 end-of-line and
//! attribute-value normalization, namespace resolution, and hard bounds on every dimension.
//! Character data arrives in pieces (`Text`, `CData`, and `GeneralRef` for every `&...;`)
//! and is merged into one text node, as in the XPath data model seed 002 §5.3.3 refers to.

use quick_xml::errors::{Error as QxError, IllFormedError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;

use super::dom::{Atom, Attr, Document, Element, Node, NsDecl};
use super::error::XmlError;
use super::intern::{put_names, take_names, Names};
use super::names::{is_ncname, is_uri_reference, is_xml_char, split_qname, XMLNS_NS, XML_NS};

/// Bounds applied while parsing; any excess is a typed error, never an allocation spike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input.
    pub max_input_bytes: usize,
    /// Deepest element nesting (the root is depth 1).
    pub max_depth: usize,
    /// Most elements in the document.
    pub max_elements: usize,
    /// Most attributes on one element, namespace declarations included.
    pub max_attributes: usize,
    /// Longest text node (after merging character data) or attribute value.
    pub max_text_bytes: usize,
}

impl Default for Limits {
    /// Generous for ROAP PDUs (a few KiB, depth < 10) yet small enough for a simulator.
    fn default() -> Self {
        Limits {
            max_input_bytes: 256 * 1024,
            max_depth: 64,
            max_elements: 10_000,
            max_attributes: 64,
            max_text_bytes: 64 * 1024,
        }
    }
}

/// Parses `input` (UTF-8 XML 1.0, namespace-well-formed, no DOCTYPE) into a [`Document`].
pub fn parse(input: &[u8], limits: &Limits) -> Result<Document, XmlError> {
    if input.len() > limits.max_input_bytes {
        return Err(XmlError::InputTooLarge {
            size_bytes: input.len(),
            limit_bytes: limits.max_input_bytes,
        });
    }
    let text = std::str::from_utf8(input).map_err(|e| XmlError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    let (text, base) = match text.strip_prefix('\u{FEFF}') {
        Some(rest) => (rest, 3),
        None => (text, 0),
    };
    check_chars(text, base)?;
    let buffers = BUFFERS.with(|b| b.borrow_mut().take()).unwrap_or_default();
    let mut builder = Builder::new(limits, base, buffers);
    let result = builder.run(text);
    let buffers = builder.into_buffers();
    BUFFERS.with(|b| *b.borrow_mut() = Some(buffers));
    result
}

/// Working buffers of one parse. They are kept per thread between parses so that a parse
/// does not allocate (and free) its stacks again each time; no parsed content carries over.
#[derive(Default)]
struct Buffers {
    stack: Vec<Element>,
    scratch: Vec<Node>,
    marks: Vec<usize>,
    text: String,
    spans: Vec<AttrSpan>,
    valid_uris: Vec<Atom>,
}

impl Buffers {
    /// Empties every buffer and bounds what is kept, so one huge document does not pin
    /// its peak memory for the thread's lifetime.
    fn reset(mut self) -> Self {
        self.stack.clear();
        self.scratch.clear();
        self.marks.clear();
        self.text.clear();
        self.spans.clear();
        self.valid_uris.clear();
        self.stack.shrink_to(64);
        self.scratch.shrink_to(256);
        self.marks.shrink_to(64);
        self.text.shrink_to(4096);
        self.spans.shrink_to(64);
        self
    }
}

thread_local! {
    /// This thread's parse buffers between parses (`None` while a parse runs).
    static BUFFERS: RefCell<Option<Buffers>> = const { RefCell::new(None) };
}

/// Rejects characters outside production `Char` anywhere in the input, in one byte scan:
/// C0 controls other than TAB/LF/CR, and U+FFFE/U+FFFF (UTF-8 `EF BF BE`/`EF BF BF`).
fn check_chars(text: &str, base: usize) -> Result<(), XmlError> {
    let b = text.as_bytes();
    let suspect = |c: u8| c < 0x20 || c == 0xEF;
    // Skip clean 32-byte blocks with a branch-free test the compiler vectorizes; TAB, LF
    // and CR make a block "suspect" too and are then sorted out byte by byte.
    let mut i = 0;
    while i < b.len() {
        if i + 32 <= b.len() && !b[i..i + 32].iter().fold(false, |acc, &c| acc | suspect(c)) {
            i += 32;
            continue;
        }
        let at = i;
        i += 1;
        let c = b[at];
        if !suspect(c) {
            continue;
        }
        let bad = match c {
            0..=8 | 11 | 12 | 14..=31 => Some(u32::from(c)),
            0xEF if b.get(at + 1) == Some(&0xBF) && matches!(b.get(at + 2), Some(0xBE | 0xBF)) => {
                Some(if b[at + 2] == 0xBE { 0xFFFE } else { 0xFFFF })
            }
            _ => None,
        };
        if let Some(codepoint) = bad {
            return Err(XmlError::InvalidChar {
                codepoint,
                offset: base + at,
            });
        }
    }
    Ok(())
}

/// The value of a reference `&name;` (name without `&` and `;`): one of the five predefined
/// entities or a character reference to a character XML allows.
pub(crate) fn resolve_reference(name: &str) -> Result<char, XmlError> {
    match name {
        "lt" => return Ok('<'),
        "gt" => return Ok('>'),
        "amp" => return Ok('&'),
        "apos" => return Ok('\''),
        "quot" => return Ok('"'),
        _ => {}
    }
    let Some(num) = name.strip_prefix('#') else {
        return Err(XmlError::UnknownEntity(name.to_string()));
    };
    let bad = || XmlError::InvalidCharRef(name.to_string());
    let (digits, radix) = match num.strip_prefix('x') {
        Some(hex) => (hex, 16),
        None => (num, 10),
    };
    // `from_str_radix` alone would accept a leading '+'; XML allows digits only.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(bad());
    }
    let cp = u32::from_str_radix(digits, radix).map_err(|_| bad())?;
    char::from_u32(cp)
        .filter(|&c| is_xml_char(c))
        .ok_or_else(bad)
}

/// Whether `b` contains `x`: 32-byte blocks are tested branch-free so the compiler
/// vectorizes the scan (character data is most of a PDU's bytes: base64 values).
fn has_byte(b: &[u8], x: u8) -> bool {
    let mut chunks = b.chunks_exact(32);
    for c in chunks.by_ref() {
        if c.iter().fold(false, |acc, &y| acc | (y == x)) {
            return true;
        }
    }
    chunks.remainder().contains(&x)
}

/// Appends `s` with XML 1.0 §2.11 end-of-line handling (CRLF and lone CR become LF).
/// Chunks end only at markup or references, so a CR never pairs with an LF across chunks.
fn push_eol_normalized(out: &mut String, s: &str) {
    if !has_byte(s.as_bytes(), b'\r') {
        out.push_str(s);
        return;
    }
    let mut rest = s;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('\n') {
            rest = r;
        }
    }
    out.push_str(rest);
}

/// XML 1.0 §3.3.3 attribute-value normalization for CDATA attributes (there is no DTD, so
/// every attribute is CDATA): literal TAB/LF/CR/CRLF become one space each, references are
/// replaced by their character (so `&#10;` survives as LF), `<` is refused. Borrowed when
/// nothing needs replacing (the common case), so no copy is made before the value is stored.
fn normalize_attr_value<'r>(raw: &'r str, limits: &Limits) -> Result<Cow<'r, str>, XmlError> {
    let b = raw.as_bytes();
    let Some(first) = b
        .iter()
        .position(|&c| matches!(c, b'\r' | b'\n' | b'\t' | b'&' | b'<'))
    else {
        if raw.len() > limits.max_text_bytes {
            return Err(XmlError::TextTooLong {
                limit_bytes: limits.max_text_bytes,
            });
        }
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    let (mut i, mut last) = (first, 0);
    while i < b.len() {
        match b[i] {
            b'\r' | b'\n' | b'\t' => {
                out.push_str(&raw[last..i]);
                out.push(' ');
                i += if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                last = i;
            }
            b'&' => {
                out.push_str(&raw[last..i]);
                let len = raw[i..].find(';').ok_or_else(|| {
                    XmlError::InvalidCharRef(raw[i + 1..].chars().take(16).collect())
                })?;
                out.push(resolve_reference(&raw[i + 1..i + len])?);
                i += len + 1;
                last = i;
            }
            b'<' => {
                return Err(XmlError::Syntax {
                    offset: 0,
                    message: "'<' in attribute value".into(),
                })
            }
            _ => i += 1,
        }
    }
    out.push_str(&raw[last..]);
    if out.len() > limits.max_text_bytes {
        return Err(XmlError::TextTooLong {
            limit_bytes: limits.max_text_bytes,
        });
    }
    Ok(Cow::Owned(out))
}

/// Byte ranges of one attribute in a start tag's raw attribute text: the qualified name and
/// the value between the quotes.
type AttrSpan = (Range<usize>, Range<usize>);

/// Splits the raw attribute text of a start tag into `(qname, raw value)` pairs, enforcing
/// the XML 1.0 §3.1 syntax quick-xml leaves unchecked (whitespace before every attribute,
/// `=`, matching quotes). The spans go into `out` (cleared first), a buffer reused across
/// start tags so scanning allocates nothing.
fn scan_attributes(raw: &str, out: &mut Vec<AttrSpan>) -> Result<(), String> {
    let b = raw.as_bytes();
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    out.clear();
    let mut i = 0;
    loop {
        let ws_start = i;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i == b.len() {
            return Ok(());
        }
        if i == ws_start {
            return Err("missing whitespace before attribute".into());
        }
        let name_start = i;
        while i < b.len() && !is_ws(b[i]) && b[i] != b'=' {
            i += 1;
        }
        let name = &raw[name_start..i];
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if name.is_empty() || b.get(i) != Some(&b'=') {
            return Err(format!("attribute {name:?} without '='"));
        }
        i += 1;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        let quote = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err(format!("attribute {name} value not quoted")),
        };
        let value_start = i + 1;
        let len = b[value_start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or_else(|| format!("attribute {name} value not closed"))?;
        out.push((
            name_start..name_start + name.len(),
            value_start..value_start + len,
        ));
        i = value_start + len + 1;
    }
}

/// Whether an end tag's name is the qualified name `prefix:local` of `el` as written.
fn is_end_of(el: &Element, name: &str) -> bool {
    match &el.prefix {
        None => name == el.local,
        Some(p) => {
            name.len() == p.len() + 1 + el.local.len()
                && name.starts_with(p.as_str())
                && name.as_bytes()[p.len()] == b':'
                && name.ends_with(el.local.as_str())
        }
    }
}

/// The qualified name of `el` as written.
fn qname_of(el: &Element) -> String {
    match &el.prefix {
        None => el.local.to_string(),
        Some(p) => format!("{p}:{}", el.local),
    }
}

/// Most distinct namespace URIs remembered as valid within one parse (more are re-checked).
const MAX_VALID_URIS: usize = 16;

/// Event-driven tree builder with namespace scopes.
struct Builder<'l> {
    limits: &'l Limits,
    /// Offset of the tokenizer's input within the original input (a skipped BOM).
    base: usize,
    /// Open elements, innermost last; their `ns_decls` are the namespace scopes.
    stack: Vec<Element>,
    /// Children of all open elements, innermost last; `marks[i]` is where `stack[i]`'s start.
    /// Moved into an exact-size `Vec` when the element closes: no growth reallocations.
    scratch: Vec<Node>,
    marks: Vec<usize>,
    before: Vec<Node>,
    root: Option<Element>,
    after: Vec<Node>,
    /// Character data not yet turned into a text node.
    text: String,
    elements: usize,
    /// Interned names, prefixes and namespace URIs: this thread's cache, taken for the parse
    /// (a PDU vocabulary is small and fixed, so atoms are shared across parses too).
    names: Names,
    /// Namespace URIs that already passed [`is_uri_reference`] in this document (bounded).
    valid_uris: Vec<Atom>,
    /// Attribute spans of the start tag being opened (reused, never shrunk).
    spans: Vec<AttrSpan>,
}

impl<'l> Builder<'l> {
    fn new(limits: &'l Limits, base: usize, buffers: Buffers) -> Self {
        let Buffers {
            stack,
            scratch,
            marks,
            text,
            spans,
            valid_uris,
        } = buffers;
        Builder {
            limits,
            base,
            stack,
            scratch,
            marks,
            before: Vec::new(),
            root: None,
            after: Vec::new(),
            text,
            elements: 0,
            names: take_names(),
            valid_uris,
            spans,
        }
    }

    /// The working buffers, emptied, for the next parse on this thread.
    fn into_buffers(self) -> Buffers {
        put_names(self.names);
        Buffers {
            stack: self.stack,
            scratch: self.scratch,
            marks: self.marks,
            text: self.text,
            spans: self.spans,
            valid_uris: self.valid_uris,
        }
        .reset()
    }

    fn run(&mut self, text: &str) -> Result<Document, XmlError> {
        let mut reader = Reader::from_str(text);
        reader.config_mut().check_comments = true;
        reader.config_mut().check_end_names = true;
        loop {
            let start = reader.buffer_position() as usize;
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => return Err(self.map_error(e, reader.error_position() as usize)),
            };
            let offset = self.base + reader.buffer_position() as usize;
            match event {
                Event::Decl(d) => {
                    if start != 0 {
                        return Err(XmlError::Syntax {
                            offset,
                            message: "XML declaration not at the start".into(),
                        });
                    }
                    check_decl(&d)?;
                }
                Event::DocType(_) => return Err(XmlError::DoctypeRefused { offset }),
                Event::Start(s) => {
                    self.flush_text();
                    self.open(&s, false, offset)?;
                }
                Event::Empty(s) => {
                    self.flush_text();
                    self.open(&s, true, offset)?;
                }
                Event::End(e) => {
                    self.flush_text();
                    self.close(e.name().0)?;
                }
                Event::Text(t) => {
                    let raw = t.into_inner();
                    if self.stack.is_empty() {
                        if !raw.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
                            return Err(XmlError::ContentOutsideRoot { offset });
                        }
                    } else {
                        if has_byte(raw.as_bytes(), b']') && raw.contains("]]>") {
                            return Err(XmlError::Syntax {
                                offset,
                                message: "']]>' in character data".into(),
                            });
                        }
                        self.check_text_room(raw.len())?;
                        push_eol_normalized(&mut self.text, &raw);
                    }
                }
                Event::CData(c) => {
                    if self.stack.is_empty() {
                        return Err(XmlError::ContentOutsideRoot { offset });
                    }
                    let raw = c.into_inner();
                    self.check_text_room(raw.len())?;
                    push_eol_normalized(&mut self.text, &raw);
                }
                Event::GeneralRef(r) => {
                    if self.stack.is_empty() {
                        return Err(XmlError::ContentOutsideRoot { offset });
                    }
                    let c = resolve_reference(&r)?;
                    self.check_text_room(c.len_utf8())?;
                    self.text.push(c);
                }
                Event::Comment(c) => {
                    self.flush_text();
                    let mut s = String::new();
                    push_eol_normalized(&mut s, &c.into_inner());
                    self.push_node(Node::Comment(s));
                }
                Event::PI(pi) => {
                    self.flush_text();
                    let target = pi.target();
                    // Namespaces in XML 1.0 §7: PI targets contain no colon.
                    if !is_ncname(target) || target.eq_ignore_ascii_case("xml") {
                        return Err(XmlError::InvalidName(target.to_string()));
                    }
                    // The XPath data model drops the whitespace between target and data.
                    let mut data = String::new();
                    push_eol_normalized(
                        &mut data,
                        pi.content().trim_start_matches([' ', '\t', '\n', '\r']),
                    );
                    self.push_node(Node::Pi {
                        target: target.to_string(),
                        data,
                    });
                }
                Event::Eof => break,
            }
        }
        if let Some(open) = self.stack.last() {
            return Err(XmlError::UnclosedElement(qname_of(open)));
        }
        let root = self.root.take().ok_or(XmlError::NoRoot)?;
        Ok(Document {
            before: std::mem::take(&mut self.before),
            root,
            after: std::mem::take(&mut self.after),
        })
    }

    fn map_error(&self, e: QxError, pos: usize) -> XmlError {
        match e {
            QxError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
                XmlError::MismatchedTag { expected, found }
            }
            QxError::IllFormed(IllFormedError::MissingEndTag(name)) => {
                XmlError::UnclosedElement(name)
            }
            other => XmlError::Syntax {
                offset: self.base + pos,
                message: other.to_string(),
            },
        }
    }

    fn check_text_room(&self, add: usize) -> Result<(), XmlError> {
        if self.text.len() + add > self.limits.max_text_bytes {
            return Err(XmlError::TextTooLong {
                limit_bytes: self.limits.max_text_bytes,
            });
        }
        Ok(())
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            // Clone (one exact allocation) and keep the buffer's capacity for the next node.
            let t = self.text.clone();
            self.text.clear();
            self.push_node(Node::Text(t));
        }
    }

    fn push_node(&mut self, node: Node) {
        if !self.stack.is_empty() {
            self.scratch.push(node);
        } else if self.root.is_none() {
            self.before.push(node);
        } else {
            self.after.push(node);
        }
    }

    fn attach(&mut self, el: Element) {
        if self.stack.is_empty() {
            self.root = Some(el);
        } else {
            self.scratch.push(Node::Element(el));
        }
    }

    /// Resolves a prefix (or the default namespace for `None`) against the in-scope bindings:
    /// `own` (the declarations on the element being opened), then the open elements'.
    /// Returns the prefix and URI atoms of the binding found, shared rather than copied.
    fn resolve(
        &mut self,
        own: &[NsDecl],
        prefix: Option<&str>,
    ) -> Result<(Option<Atom>, Option<Atom>), XmlError> {
        if prefix == Some("xml") {
            return Ok((
                Some(self.names.intern("xml")),
                Some(self.names.intern(XML_NS)),
            ));
        }
        let found = own
            .iter()
            .chain(self.stack.iter().rev().flat_map(|e| e.ns_decls.iter()))
            .find(|d| d.prefix.as_deref() == prefix);
        match found {
            Some(d) if d.uri.is_empty() => Ok((None, None)),
            Some(d) => Ok((d.prefix.clone(), Some(d.uri.clone()))),
            None => match prefix {
                Some(p) => Err(XmlError::UndeclaredPrefix(p.to_string())),
                None => Ok((None, None)),
            },
        }
    }

    /// The atom for namespace URI `value`, checking it is a URI reference unless this
    /// document already declared the same URI (the check is a pure function of the text).
    fn namespace_uri(&mut self, value: &str) -> Option<Atom> {
        let a = self.names.intern(value);
        if self.valid_uris.iter().any(|v| Atom::ptr_eq(v, &a)) {
            return Some(a);
        }
        if !is_uri_reference(value) {
            return None;
        }
        if self.valid_uris.len() < MAX_VALID_URIS {
            self.valid_uris.push(a.clone());
        }
        Some(a)
    }

    fn open(&mut self, s: &BytesStart<'_>, empty: bool, offset: usize) -> Result<(), XmlError> {
        if self.root.is_some() && self.stack.is_empty() {
            return Err(XmlError::ContentOutsideRoot { offset });
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(XmlError::TooManyElements {
                limit: self.limits.max_elements,
            });
        }
        if self.stack.len() + 1 > self.limits.max_depth {
            return Err(XmlError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        let qname = s.name().0;
        let raw = s.attributes_raw();
        let mut spans = std::mem::take(&mut self.spans);
        let result = self.open_with(qname, raw, &mut spans, empty, offset);
        self.spans = spans;
        result
    }

    /// [`Self::open`] after the element bounds, with the reusable span buffer lent out.
    fn open_with<'a>(
        &mut self,
        qname: &str,
        raw: &'a str,
        spans: &mut Vec<AttrSpan>,
        empty: bool,
        offset: usize,
    ) -> Result<(), XmlError> {
        scan_attributes(raw, spans).map_err(|message| XmlError::Syntax {
            offset,
            message: format!("in <{qname}>: {message}"),
        })?;
        if spans.len() > self.limits.max_attributes {
            return Err(XmlError::TooManyAttributes {
                limit: self.limits.max_attributes,
            });
        }
        let limits = self.limits;
        let normalize = |raw: &'a str| -> Result<Cow<'a, str>, XmlError> {
            normalize_attr_value(raw, limits).map_err(|e| match e {
                XmlError::Syntax { message, .. } => XmlError::Syntax { offset, message },
                other => other,
            })
        };
        let is_decl = |key: &str| key == "xmlns" || key.starts_with("xmlns:");
        let decl_count = spans
            .iter()
            .filter(|(k, _)| is_decl(&raw[k.clone()]))
            .count();
        let mut ns_decls = Vec::with_capacity(decl_count);
        // First pass: namespace declarations, which scope over this element's own names.
        for (n, (key, value)) in spans.iter().enumerate() {
            let key = &raw[key.clone()];
            if spans[..n].iter().any(|(k, _)| &raw[k.clone()] == key) {
                return Err(XmlError::DuplicateAttribute(key.to_string()));
            }
            if key == "xmlns" {
                let value = normalize(&raw[value.clone()])?;
                let uri = if value == XML_NS || value == XMLNS_NS {
                    None
                } else if value.is_empty() {
                    Some(self.names.intern(""))
                } else {
                    self.namespace_uri(&value)
                };
                let Some(uri) = uri else {
                    return Err(XmlError::InvalidNamespaceDecl(format!("xmlns=\"{value}\"")));
                };
                ns_decls.push(NsDecl { prefix: None, uri });
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                let value = normalize(&raw[value.clone()])?;
                // Namespaces in XML 1.0 §3: `xml` only to its own URI, `xmlns` never, no
                // prefix to the empty string (undeclaring prefixes is XML 1.1 only).
                let bad = !is_ncname(p)
                    || p == "xmlns"
                    || value.is_empty()
                    || value == XMLNS_NS
                    || ((p == "xml") != (value == XML_NS));
                let uri = if bad {
                    None
                } else {
                    self.namespace_uri(&value)
                };
                let Some(uri) = uri else {
                    return Err(XmlError::InvalidNamespaceDecl(format!("{key}=\"{value}\"")));
                };
                ns_decls.push(NsDecl {
                    prefix: Some(self.names.intern(p)),
                    uri,
                });
            }
        }
        let (prefix, local) = split_qname(qname)?;
        if prefix == Some("xmlns") {
            return Err(XmlError::InvalidNamespaceDecl(qname.to_string()));
        }
        let (prefix, ns) = self.resolve(&ns_decls, prefix)?;
        // Second pass: ordinary attributes.
        let mut attrs: Vec<Attr> = Vec::with_capacity(spans.len() - ns_decls.len());
        for (key, value) in spans.iter() {
            let key = &raw[key.clone()];
            if is_decl(key) {
                continue;
            }
            let value = normalize(&raw[value.clone()])?.into_owned();
            let (aprefix, alocal) = split_qname(key)?;
            let (aprefix, ans) = match aprefix {
                None => (None, None),
                Some(p) => self.resolve(&ns_decls, Some(p))?,
            };
            // Two prefixes bound to one URI still name the same attribute (Namespaces §6.3).
            if attrs.iter().any(|a| a.local == alocal && a.ns == ans) {
                return Err(XmlError::DuplicateAttribute(key.to_string()));
            }
            attrs.push(Attr {
                prefix: aprefix,
                local: self.names.intern(alocal),
                ns: ans,
                value,
            });
        }
        let el = Element {
            prefix,
            local: self.names.intern(local),
            ns,
            ns_decls,
            attrs,
            children: Vec::new(),
        };
        if empty {
            self.attach(el);
        } else {
            self.stack.push(el);
            self.marks.push(self.scratch.len());
        }
        Ok(())
    }

    fn close(&mut self, name: &str) -> Result<(), XmlError> {
        let mut open = self.stack.pop().ok_or_else(|| XmlError::Syntax {
            offset: 0,
            message: format!("end tag </{name}> without start tag"),
        })?;
        if !is_end_of(&open, name) {
            return Err(XmlError::MismatchedTag {
                expected: qname_of(&open),
                found: name.to_string(),
            });
        }
        let mark = self.marks.pop().unwrap_or(self.scratch.len());
        open.children = self.scratch.drain(mark..).collect();
        self.attach(open);
        Ok(())
    }
}

/// Accepts `<?xml version="1.0" encoding="UTF-8"?>` and variants; the input was already
/// decoded as UTF-8, so any other declared encoding (or XML 1.1) is refused.
fn check_decl(d: &quick_xml::events::BytesDecl<'_>) -> Result<(), XmlError> {
    let version = d
        .version()
        .map_err(|e| XmlError::UnsupportedDeclaration(e.to_string()))?;
    if version != "1.0" {
        return Err(XmlError::UnsupportedDeclaration(format!(
            "version {version}"
        )));
    }
    if let Some(enc) = d.encoding() {
        let enc = enc.map_err(|e| XmlError::UnsupportedDeclaration(e.to_string()))?;
        if !enc.eq_ignore_ascii_case("utf-8") {
            return Err(XmlError::UnsupportedDeclaration(format!("encoding {enc}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_parse_leaves_nothing_for_the_next_one_on_the_thread() {
        let limits = Limits::default();
        // Each fails with open elements, pending text and attribute spans in the buffers.
        for bad in [
            &b"<a xmlns='urn:a'><b x='1'>text"[..],
            b"<a><b>t</a>",
            b"<a><b x='1' x='2'/></a>",
        ] {
            assert!(parse(bad, &limits).is_err());
        }
        let doc = parse(b"<c y='2'>z</c>", &limits).unwrap();
        assert_eq!(doc.root.local, "c");
        assert_eq!(doc.root.ns, None);
        assert_eq!(doc.root.attr("y"), Some("2"));
        assert_eq!(doc.root.children, vec![Node::Text("z".into())]);
        assert!(doc.before.is_empty() && doc.after.is_empty());
    }

    #[test]
    fn one_namespace_uri_is_shared_not_copied() {
        let doc = parse(
            b"<p:a xmlns:p='urn:p'><p:b/><c xmlns:q='urn:p' q:x='1'/></p:a>",
            &Limits::default(),
        )
        .unwrap();
        let b = doc.root.child("b").unwrap();
        let c = doc.root.child("c").unwrap();
        let uri = doc.root.ns.as_ref().unwrap();
        assert!(Atom::ptr_eq(uri, b.ns.as_ref().unwrap()));
        assert!(Atom::ptr_eq(uri, c.attrs[0].ns.as_ref().unwrap()));
        assert_eq!(c.ns_decls[0].uri, "urn:p");
    }
}
