//! Fuzz the XML layer with arbitrary bytes: parsing must never panic, and whatever parses
//! must canonicalize (or fail with a typed error) and stay canonical when re-parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_core::xml::{
    canonicalize, canonicalize_document, parse, C14nVariant, Limits, Name, Selection, XmlError,
};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(doc) = parse(data, &limits) else {
        return;
    };
    let canonical = match canonicalize_document(&doc) {
        Ok(c) => c,
        // Relative namespace URIs parse but cannot be canonicalized (C14N 1.0 §2).
        Err(XmlError::RelativeNamespaceUri(_)) => return,
        Err(e) => panic!("parsed document failed to canonicalize: {e}"),
    };
    // Canonical form is a fixed point.
    let again = parse(&canonical, &limits).expect("canonical output re-parses");
    assert_eq!(canonicalize_document(&again).unwrap(), canonical);
    // Both readings of seed 002 on a selection by the root's own local name, excluding
    // the first child's name: must not panic, and the node-set reading must re-parse.
    let select = Name {
        ns: doc.root.ns.as_deref().map(str::to_string),
        local: doc.root.local.to_string(),
    };
    let mut sel = Selection::element(select);
    if let Some(first) = doc.root.elements().next() {
        sel = sel.excluding(Name {
            ns: first.ns.as_deref().map(str::to_string),
            local: first.local.to_string(),
        });
    }
    let nodeset = canonicalize(&doc, &sel, C14nVariant::XPathNodeSet).unwrap();
    parse(&nodeset, &limits).expect("node-set c14n output re-parses");
    canonicalize(&doc, &sel, C14nVariant::Substring).unwrap();
});
