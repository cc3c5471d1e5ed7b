//! Typed errors of the XML layer: parsing hostile input, canonicalizing, selecting.

use thiserror::Error;

/// Everything that can go wrong parsing, canonicalizing or selecting XML.
///
/// Byte offsets refer to the input given to [`crate::xml::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XmlError {
    /// The input is larger than [`crate::xml::Limits::max_input_bytes`].
    #[error("input of {size_bytes} bytes exceeds the limit of {limit_bytes} bytes")]
    InputTooLarge {
        /// Input size.
        size_bytes: usize,
        /// Configured limit.
        limit_bytes: usize,
    },
    /// The input is not valid UTF-8 (the only encoding accepted).
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The XML declaration names an encoding other than UTF-8, or a version other than 1.0.
    #[error("unsupported XML declaration: {0}")]
    UnsupportedDeclaration(String),
    /// A character that XML 1.0 forbids (control characters, U+FFFE, U+FFFF).
    #[error("character U+{codepoint:04X} is not allowed in XML (byte {offset})")]
    InvalidChar {
        /// The code point.
        codepoint: u32,
        /// Where it was found (for character references: where the reference ends).
        offset: usize,
    },
    /// A document type declaration: refused so no entity can ever be declared (no entity bombs).
    #[error("DOCTYPE refused at byte {offset}")]
    DoctypeRefused {
        /// Offset of the end of the declaration.
        offset: usize,
    },
    /// A reference to an entity other than the five predefined ones.
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    /// A malformed character reference, or one to a character XML forbids.
    #[error("invalid character reference &{0};")]
    InvalidCharRef(String),
    /// Elements nested deeper than [`crate::xml::Limits::max_depth`].
    #[error("elements nested deeper than {limit}")]
    TooDeep {
        /// Configured limit.
        limit: usize,
    },
    /// More elements than [`crate::xml::Limits::max_elements`].
    #[error("more than {limit} elements")]
    TooManyElements {
        /// Configured limit.
        limit: usize,
    },
    /// More attributes (namespace declarations included) on one element than allowed.
    #[error("more than {limit} attributes on one element")]
    TooManyAttributes {
        /// Configured limit.
        limit: usize,
    },
    /// A text node or attribute value longer than [`crate::xml::Limits::max_text_bytes`].
    #[error("text or attribute value longer than {limit_bytes} bytes")]
    TextTooLong {
        /// Configured limit.
        limit_bytes: usize,
    },
    /// A prefix used on an element or attribute without an in-scope declaration.
    #[error("undeclared namespace prefix {0:?}")]
    UndeclaredPrefix(String),
    /// A namespace declaration Namespaces in XML 1.0 forbids (`xmlns:p=""`, rebinding `xml`
    /// or `xmlns`, an element or attribute in the `xmlns` namespace).
    #[error("invalid namespace declaration: {0}")]
    InvalidNamespaceDecl(String),
    /// An end tag that does not match the open start tag.
    #[error("end tag </{found}> does not match <{expected}>")]
    MismatchedTag {
        /// Name of the open element.
        expected: String,
        /// Name in the end tag.
        found: String,
    },
    /// The input ended inside an element.
    #[error("input ended inside <{0}>")]
    UnclosedElement(String),
    /// Two attributes with the same qualified or expanded name on one element.
    #[error("duplicate attribute {0}")]
    DuplicateAttribute(String),
    /// An element, attribute or PI name that is not a valid (namespace-well-formed) XML name.
    #[error("invalid XML name {0:?}")]
    InvalidName(String),
    /// The document has no root element.
    #[error("no root element")]
    NoRoot,
    /// A second element, or non-whitespace text, after or before the root element.
    #[error("content outside the root element at byte {offset}")]
    ContentOutsideRoot {
        /// Where it was found.
        offset: usize,
    },
    /// Any other well-formedness error reported by the tokenizer (quick-xml).
    #[error("malformed XML at byte {offset}: {message}")]
    Syntax {
        /// Where the tokenizer stopped.
        offset: usize,
        /// The tokenizer's description.
        message: String,
    },
    /// Canonicalization of a document with a relative namespace URI, which C14N 1.0 §2
    /// (inherited by exc-c14n) requires to fail.
    #[error("relative namespace URI {0:?} cannot be canonicalized")]
    RelativeNamespaceUri(String),
    /// A selector name that is neither `{uri}local` nor `local`.
    #[error("invalid element selector {0:?} (expected {{uri}}local or local)")]
    InvalidSelector(String),
    /// No element in the document has the selected name.
    #[error("no element named {0} in the document")]
    SelectionNotFound(String),
    /// An in-memory tree that cannot be serialized as namespace-well-formed XML (a prefix
    /// without a namespace, one prefix bound to two URIs on one element, a forbidden
    /// character, an invalid name).
    #[error("tree cannot be canonicalized: {0}")]
    InvalidTree(String),
}

impl XmlError {
    /// Whether the error reveals a bug in the local simulator rather than hostile or broken
    /// input: only [`XmlError::InvalidTree`] (the simulator built a PDU it cannot encode).
    /// Every other error rejects one received document and the run continues.
    pub fn is_fatal(&self) -> bool {
        matches!(self, XmlError::InvalidTree(_))
    }
}
