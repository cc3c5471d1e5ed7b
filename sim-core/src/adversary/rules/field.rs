//! PDU fields addressed by name: a path of child element local names from the PDU's root,
//! `domainInfo/domainKey/mac`, with an optional 0-based index (`protectedRO[1]/mac`) and a
//! final `@attribute` (`@status`). The names are the element names of docs/pdus.md, the
//! same in both crypto modes: a field is read and written on the PDU's DOM form
//! (`Pdu::to_element`), which symbolic PDUs have as well.
//!
//! A path naming an element with element children addresses its first leaf (so `deviceID`
//! reads and writes `deviceID/keyIdentifier/hash`), which keeps rules short.

use crate::pdu::{ns, Pdu, ALL_KINDS};
use crate::xml::{Element, Node};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::SeedableRng;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    name: String,
    index: usize,
}

/// A parsed field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    steps: Vec<Step>,
    attr: Option<String>,
    text: String,
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl FieldPath {
    /// Parses `a/b[1]/c` or `a/@attr` or `@attr`.
    pub fn parse(s: &str) -> Result<FieldPath, String> {
        let mut steps = Vec::new();
        if s.is_empty() {
            // The root itself (where `add_extension` appends by default).
            return Ok(FieldPath {
                steps,
                attr: None,
                text: String::new(),
            });
        }
        let mut attr = None;
        let parts: Vec<&str> = s.split('/').collect();
        for (i, p) in parts.iter().enumerate() {
            if let Some(a) = p.strip_prefix('@') {
                if i + 1 != parts.len() || a.is_empty() {
                    return Err(format!("`{s}`: an @attribute must be the last step"));
                }
                attr = Some(a.to_string());
                continue;
            }
            let (name, index) = match p.split_once('[') {
                Some((n, rest)) => {
                    let idx = rest
                        .strip_suffix(']')
                        .and_then(|x| x.parse::<usize>().ok())
                        .ok_or_else(|| format!("`{s}`: bad index in `{p}` (write name[0])"))?;
                    (n, idx)
                }
                None => (*p, 0),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("`{s}`: `{p}` is not an element name"));
            }
            steps.push(Step {
                name: name.to_string(),
                index,
            });
        }
        Ok(FieldPath {
            steps,
            attr,
            text: s.to_string(),
        })
    }

    /// The element the steps lead to.
    pub fn element<'a>(&self, root: &'a Element) -> Option<&'a Element> {
        let mut e = root;
        for s in &self.steps {
            let name = s.name.as_str();
            e = e.elements().filter(|c| c.local == name).nth(s.index)?;
        }
        Some(e)
    }

    fn element_mut<'a>(&self, root: &'a mut Element) -> Option<&'a mut Element> {
        let mut e = root;
        for s in &self.steps {
            e = e
                .children
                .iter_mut()
                .filter_map(|n| match n {
                    Node::Element(c) if c.local == s.name.as_str() => Some(c),
                    _ => None,
                })
                .nth(s.index)?;
        }
        Some(e)
    }

    /// Whether the field exists in `root`.
    pub fn exists(&self, root: &Element) -> bool {
        match (self.element(root), &self.attr) {
            (Some(e), Some(a)) => e.attrs.iter().any(|x| x.local == a.as_str()),
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// The field's text: the attribute value, or the text of the element's first leaf.
    pub fn read(&self, root: &Element) -> Option<String> {
        let e = self.element(root)?;
        match &self.attr {
            Some(a) => e
                .attrs
                .iter()
                .find(|x| x.local == a.as_str())
                .map(|x| x.value.clone()),
            None => Some(first_leaf(e).text()),
        }
    }

    /// The whole element (for swapping subtrees between messages).
    pub fn subtree(&self, root: &Element) -> Option<Element> {
        self.element(root).cloned()
    }

    /// Applies `op`; `false` if the field is absent (nothing changed).
    pub fn apply(&self, root: &mut Element, op: &EditValue) -> bool {
        if let EditValue::AddExtension { xsi_type, critical } = op {
            return add_extension(root, self, xsi_type, *critical);
        }
        if let (EditValue::Remove, None) = (op, &self.attr) {
            let Some((last, parent_steps)) = self.steps.split_last() else {
                return false;
            };
            let parent = FieldPath {
                steps: parent_steps.to_vec(),
                attr: None,
                text: String::new(),
            };
            let Some(p) = parent.element_mut(root) else {
                return false;
            };
            let mut seen = 0usize;
            let pos = p.children.iter().position(|n| match n {
                Node::Element(c) if c.local == last.name.as_str() => {
                    seen += 1;
                    seen == last.index + 1
                }
                _ => false,
            });
            return match pos {
                Some(i) => {
                    p.children.remove(i);
                    true
                }
                None => false,
            };
        }
        let Some(e) = self.element_mut(root) else {
            return false;
        };
        if let Some(a) = &self.attr {
            let Some(i) = e.attrs.iter().position(|x| x.local == a.as_str()) else {
                return false;
            };
            match op {
                EditValue::Set(v) => e.attrs[i].value = v.clone(),
                EditValue::Flip => e.attrs[i].value = flip_text(&e.attrs[i].value),
                EditValue::Remove => {
                    e.attrs.remove(i);
                }
                EditValue::Subtree(s) => e.attrs[i].value = first_leaf(s).text(),
                EditValue::AddExtension { .. } => return false,
            }
            return true;
        }
        match op {
            EditValue::Subtree(s) => {
                *e = s.clone();
                true
            }
            EditValue::Set(v) => {
                set_text(first_leaf_mut(e), v.clone());
                true
            }
            EditValue::Flip => {
                let leaf = first_leaf_mut(e);
                let t = flip_text(&leaf.text());
                set_text(leaf, t);
                true
            }
            _ => false,
        }
    }
}

/// What an edit writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditValue {
    /// Replace the text.
    Set(String),
    /// Flip the lowest bit of the first byte (base64 octets) or change the last character.
    Flip,
    /// Remove the element or attribute.
    Remove,
    /// Replace the element by this subtree (a swap with another message's field).
    Subtree(Element),
    /// Append `<extension xsi:type=… critical=…>` to the `<extensions>` at the path (created
    /// before the signature/MAC when absent).
    AddExtension {
        /// `xsi:type`, e.g. `roap:Unknown`.
        xsi_type: String,
        /// The `critical` flag.
        critical: bool,
    },
}

fn first_leaf(e: &Element) -> &Element {
    match e.elements().next() {
        Some(c) => first_leaf(c),
        None => e,
    }
}

fn first_leaf_mut(e: &mut Element) -> &mut Element {
    let has_child = e.children.iter().any(|n| matches!(n, Node::Element(_)));
    if !has_child {
        return e;
    }
    let c = e
        .children
        .iter_mut()
        .find_map(|n| match n {
            Node::Element(c) => Some(c),
            _ => None,
        })
        .expect("checked");
    first_leaf_mut(c)
}

fn set_text(e: &mut Element, t: String) {
    e.children.retain(|n| !matches!(n, Node::Text(_)));
    if !t.is_empty() {
        e.children.push(Node::Text(t));
    }
}

/// Flips one bit of base64 octets, or changes the last character of other text.
pub fn flip_text(t: &str) -> String {
    // Actor-style identifiers (`ri/0`, `agent/17`) are also valid base64 alphabet; they are
    // flipped as text (last digit) so the modified ID still names an actor.
    let id_shaped = t.rsplit_once('/').is_some_and(|(name, n)| {
        !name.is_empty() && !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit())
    });
    if let (false, Ok(mut b)) = (id_shaped, B64.decode(t.trim())) {
        if let Some(x) = b.first_mut() {
            *x ^= 1;
            return B64.encode(b);
        }
    }
    let mut s: Vec<char> = t.chars().collect();
    match s.last_mut() {
        Some(c) if c.is_ascii_digit() => {
            *c = if *c == '9' {
                '0'
            } else {
                (*c as u8 + 1) as char
            }
        }
        Some(c) => *c = if *c == 'x' { 'y' } else { 'x' },
        None => s.push('x'),
    }
    s.into_iter().collect()
}

fn add_extension(root: &mut Element, at: &FieldPath, ty: &str, critical: bool) -> bool {
    let Some(parent) = at.element_mut(root) else {
        return false;
    };
    let ext = Element::plain("extension")
        .with_ns_attr("xsi", ns::XSI, "type", ty)
        .with_attr("critical", if critical { "true" } else { "false" });
    if let Some(x) = parent.children.iter_mut().find_map(|n| match n {
        Node::Element(c) if c.local == "extensions" => Some(c),
        _ => None,
    }) {
        x.push(ext);
        return true;
    }
    let pos = parent
        .children
        .iter()
        .position(|n| matches!(n, Node::Element(c) if c.local == "signature" || c.local == "mac"))
        .unwrap_or(parent.children.len());
    parent.children.insert(
        pos,
        Node::Element(Element::plain("extensions").with_child(ext)),
    );
    true
}

/// Every field path of `root` (elements and attributes, indices omitted), sorted.
pub fn paths(root: &Element) -> Vec<String> {
    fn walk(e: &Element, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        for a in &e.attrs {
            if a.ns.is_none() {
                let p = if prefix.is_empty() {
                    format!("@{}", a.local.as_str())
                } else {
                    format!("{prefix}/@{}", a.local.as_str())
                };
                out.insert(p);
            }
        }
        for c in e.elements() {
            let p = if prefix.is_empty() {
                c.local.as_str().to_string()
            } else {
                format!("{prefix}/{}", c.local.as_str())
            };
            walk(c, &p, out);
            out.insert(p);
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(root, "", &mut out);
    out.into_iter().collect()
}

/// Random instances inspected to learn a kind's fields (optional parts vary per draw).
const SAMPLES: u64 = 24;

/// Every field path a PDU of `kind` can have (from random instances), sorted; `None` for
/// an unknown kind.
pub fn kind_fields(kind: &str) -> Option<Vec<String>> {
    let k = ALL_KINDS.iter().position(|x| *x == kind)?;
    let mut all = std::collections::BTreeSet::new();
    for s in 0..SAMPLES {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(s);
        let p: Pdu = crate::pdu::sample::random_pdu(k, &mut rng);
        all.extend(paths(&p.to_element()));
    }
    Some(all.into_iter().collect())
}

/// Checks that `path` names a field PDUs of `kind` can have (indices ignored): the error
/// lists the kind's fields.
pub fn validate(kind: &str, path: &str) -> Result<FieldPath, String> {
    let fp = FieldPath::parse(path)?;
    let Some(fields) = kind_fields(kind) else {
        return Err(format!("unknown message kind `{kind}`"));
    };
    let mut plain: Vec<&str> = fp.steps.iter().map(|s| s.name.as_str()).collect();
    let attr;
    if let Some(a) = &fp.attr {
        attr = format!("@{a}");
        plain.push(&attr);
    }
    let want = plain.join("/");
    if want.is_empty() || fields.contains(&want) {
        return Ok(fp);
    }
    Err(format!(
        "{kind} has no field `{path}` (fields: {})",
        fields.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Element {
        Element::plain("r")
            .with_attr("status", "Success")
            .with_child(Element::plain("nonce").with_text("AAEC"))
            .with_child(
                Element::plain("deviceID").with_child(
                    Element::plain("keyIdentifier")
                        .with_child(Element::plain("hash").with_text("AQ==")),
                ),
            )
            .with_child(Element::plain("ro").with_text("a"))
            .with_child(Element::plain("ro").with_text("b"))
            .with_child(Element::plain("signature").with_text("c2ln"))
    }

    #[test]
    fn paths_read_and_write_leaves_and_attributes() {
        let mut d = doc();
        let p = FieldPath::parse("deviceID").unwrap();
        assert_eq!(p.read(&d).as_deref(), Some("AQ=="));
        assert!(p.apply(&mut d, &EditValue::Flip));
        // 0x01 ^ 1 = 0x00
        assert_eq!(p.read(&d).as_deref(), Some("AA=="));
        let s = FieldPath::parse("@status").unwrap();
        assert!(s.apply(&mut d, &EditValue::Set("Abort".into())));
        assert_eq!(d.attr("status"), Some("Abort"));
        let second = FieldPath::parse("ro[1]").unwrap();
        assert_eq!(second.read(&d).as_deref(), Some("b"));
        assert!(second.apply(&mut d, &EditValue::Remove));
        assert_eq!(d.children_named("ro").count(), 1);
        assert!(!FieldPath::parse("ro[3]")
            .unwrap()
            .apply(&mut d, &EditValue::Remove));
        assert!(FieldPath::parse("a/@b/c").is_err());
        assert!(FieldPath::parse("a[x]").is_err());
    }

    #[test]
    fn extensions_go_before_the_signature() {
        let mut d = doc();
        let root = FieldPath::parse("").unwrap();
        assert!(root.apply(
            &mut d,
            &EditValue::AddExtension {
                xsi_type: "roap:Bogus".into(),
                critical: true
            }
        ));
        let names: Vec<&str> = d.elements().map(|e| e.local.as_str()).collect();
        assert_eq!(
            names,
            ["nonce", "deviceID", "ro", "ro", "extensions", "signature"]
        );
    }

    #[test]
    fn flip_changes_octets_and_text() {
        assert_eq!(flip_text("AAEC"), "AQEC");
        assert_eq!(flip_text("ri/0"), "ri/1");
        assert_eq!(flip_text("Success!"), "Successx");
    }

    #[test]
    fn validation_names_the_kinds_fields() {
        assert!(validate("roap:leaveDomainResponse", "domainID").is_ok());
        assert!(validate("roap:leaveDomainResponse", "@status").is_ok());
        assert!(validate("roap:joinDomainResponse", "domainInfo/domainKey/mac").is_ok());
        let e = validate("roap:leaveDomainResponse", "signature").unwrap_err();
        assert!(e.contains("nonce"), "{e}");
        assert!(validate("roap:nope", "x").is_err());
    }
}
