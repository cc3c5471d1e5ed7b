//! Selecting what to canonicalize ("the first element named N, minus every descendant named
//! M"), the two competing readings of seed 002 for MAC input, and the `drmsim xml c14n`
//! command as a pure function.

use super::c14n::Renderer;
use super::dom::{Document, Element};
use super::error::XmlError;
use super::names::Name;
use super::parse::{parse, Limits};

/// How the octets of a selected part of a document are obtained (seed 002 §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum C14nVariant {
    /// Interpretation 2, the one seed 002 §6 makes normative: select the nodes as an XPath
    /// node-set and apply Exclusive C14N to that node-set. Namespace declarations of
    /// ancestors that the selected nodes utilize are re-rendered inside the selection.
    #[default]
    XPathNodeSet,
    /// Interpretation 1: canonicalize the whole document, then take the octets of the
    /// selected element's span in that string, minus the spans of excluded elements. No
    /// namespace declaration is added, so the octets differ from interpretation 2 whenever
    /// the selection uses a namespace declared above it.
    Substring,
}

impl std::str::FromStr for C14nVariant {
    type Err = XmlError;
    /// Accepts `xpath` (or `nodeset`) and `substring`, as the CLI option spells them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "xpath" | "nodeset" | "xpath-node-set" => Ok(C14nVariant::XPathNodeSet),
            "substring" => Ok(C14nVariant::Substring),
            other => Err(XmlError::InvalidSelector(format!(
                "unknown c14n variant {other:?} (expected xpath or substring)"
            ))),
        }
    }
}

/// What part of a document to canonicalize.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// The first element in document order with this name; `None` = the whole document.
    pub select: Option<Name>,
    /// Every element with one of these names strictly inside the selection is left out
    /// together with its subtree; the text around it stays.
    pub exclude: Vec<Name>,
}

impl Selection {
    /// The whole document, nothing excluded.
    pub fn whole() -> Self {
        Selection::default()
    }

    /// The first element named `name`, nothing excluded.
    pub fn element(name: Name) -> Self {
        Selection {
            select: Some(name),
            exclude: Vec::new(),
        }
    }

    /// Also leaves out every element named `name` inside the selection (builder style).
    pub fn excluding(mut self, name: Name) -> Self {
        self.exclude.push(name);
        self
    }
}

/// The first element in document order (the root included) named `name`.
pub fn find_first<'a>(root: &'a Element, name: &Name) -> Option<&'a Element> {
    if name.matches(root) {
        return Some(root);
    }
    root.elements().find_map(|c| find_first(c, name))
}

/// Pre-order index (root = 0) of the first element named `name` at or below `el`, whose own
/// index is `index`; returns the element too.
fn find_indexed<'a>(el: &'a Element, index: usize, name: &Name) -> Option<(usize, &'a Element)> {
    if name.matches(el) {
        return Some((index, el));
    }
    let mut next = index + 1;
    for c in el.elements() {
        if let Some(hit) = find_indexed(c, next, name) {
            return Some(hit);
        }
        next += c.element_count();
    }
    None
}

/// Pre-order indices of the outermost descendants of `el` (index `index`) named in `exclude`.
fn excluded_indices(el: &Element, index: usize, exclude: &[Name], out: &mut Vec<usize>) {
    let mut next = index + 1;
    for c in el.elements() {
        if exclude.iter().any(|n| n.matches(c)) {
            out.push(next);
        } else {
            excluded_indices(c, next, exclude, out);
        }
        next += c.element_count();
    }
}

/// Canonicalizes the selected part of `doc` with the given interpretation.
pub fn canonicalize(
    doc: &Document,
    selection: &Selection,
    variant: C14nVariant,
) -> Result<Vec<u8>, XmlError> {
    let not_found = |n: &Name| XmlError::SelectionNotFound(n.to_string());
    match variant {
        C14nVariant::XPathNodeSet => match &selection.select {
            None => {
                let mut r = Renderer::new(&selection.exclude, false, 1024);
                r.document(doc)?;
                Ok(r.finish().0)
            }
            Some(name) => {
                let el = find_first(&doc.root, name).ok_or_else(|| not_found(name))?;
                let mut r = Renderer::new(&selection.exclude, false, 1024);
                r.element(el)?;
                Ok(r.finish().0)
            }
        },
        C14nVariant::Substring => {
            let mut r = Renderer::new(&[], true, 1024);
            r.document(doc)?;
            let (full, spans) = r.finish();
            let (range, index, el) = match &selection.select {
                None => (0..full.len(), 0, &doc.root),
                Some(name) => {
                    let (i, el) =
                        find_indexed(&doc.root, 0, name).ok_or_else(|| not_found(name))?;
                    (spans[i].0..spans[i].1, i, el)
                }
            };
            let mut cut = Vec::new();
            excluded_indices(el, index, &selection.exclude, &mut cut);
            let mut out = Vec::with_capacity(range.len());
            let mut pos = range.start;
            for i in cut {
                let (s, e) = spans[i];
                out.extend_from_slice(&full[pos..s]);
                pos = e;
            }
            out.extend_from_slice(&full[pos..range.end]);
            Ok(out)
        }
    }
}

/// `drmsim xml c14n FILE [--select NAME] [--exclude NAME]... [--variant xpath|substring]`
/// without the IO: parses `input` with default [`Limits`], canonicalizes the selection
/// (`select` `None` = whole document) and returns the octets to write to stdout.
pub fn c14n_command(
    input: &[u8],
    select: Option<&str>,
    exclude: &[&str],
    variant: C14nVariant,
) -> Result<Vec<u8>, XmlError> {
    let selection = Selection {
        select: select.map(Name::parse).transpose()?,
        exclude: exclude
            .iter()
            .map(|s| Name::parse(s))
            .collect::<Result<_, _>>()?,
    };
    let doc = parse(input, &Limits::default())?;
    canonicalize(&doc, &selection, variant)
}

/// Parses the `.sel` format of the c14n vectors: `select NAME` then `exclude NAME` lines.
pub fn parse_selection_spec(spec: &str) -> Result<Selection, XmlError> {
    let mut sel = Selection::whole();
    for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once(' ') {
            Some(("select", n)) if sel.select.is_none() => sel.select = Some(Name::parse(n)?),
            Some(("exclude", n)) => sel.exclude.push(Name::parse(n)?),
            _ => return Err(XmlError::InvalidSelector(line.to_string())),
        }
    }
    Ok(sel)
}
