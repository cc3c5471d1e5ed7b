//! XML: hostile-input-safe parsing, a namespace-resolved DOM, Exclusive Canonicalization.

pub mod dom;

pub use dom::{Attr, Document, Element, Node, NsDecl};
