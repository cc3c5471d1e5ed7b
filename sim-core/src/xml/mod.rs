//! XML: hostile-input-safe parsing, a namespace-resolved DOM, Exclusive Canonicalization.
//!
//! - [`parse`] turns untrusted bytes into a [`Document`] under [`Limits`].
//! - [`canonicalize_element`] encodes an in-memory tree (a PDU) as canonical octets.
//! - [`canonicalize`] canonicalizes a selection of a document with either reading of seed 002
//!   ([`C14nVariant`]); [`c14n_command`] is the `drmsim xml c14n` command without IO.

pub mod c14n;
pub mod dom;
pub mod error;
mod intern;
pub mod names;
pub mod parse;
pub mod select;

pub use c14n::{canonicalize_document, canonicalize_element, canonicalize_element_excluding};
pub use dom::{Atom, Attr, Document, Element, Node, NsDecl};
pub use error::XmlError;
pub use names::{Name, XML_NS};
pub use parse::{parse, Limits};
pub use select::{
    c14n_command, canonicalize, find_first, parse_selection_spec, C14nVariant, Selection,
};
