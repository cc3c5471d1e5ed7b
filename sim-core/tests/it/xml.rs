//! XML layer: the lxml-made Exclusive C14N vectors, seed 002's two interpretations, hostile
//! input, and property tests (idempotence, round trip of generated trees).

use std::path::PathBuf;

use proptest::prelude::*;
use sim_core::xml::{
    c14n_command, canonicalize, canonicalize_document, canonicalize_element, parse,
    parse_selection_spec, C14nVariant, Element, Limits, Name, Node, Selection, XmlError,
};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/exc-c14n")
}

/// (name, input, selection, expected octets) for every vector.
fn vectors() -> Vec<(String, Vec<u8>, Selection, Vec<u8>)> {
    let dir = vectors_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("vectors directory")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".xml").map(str::to_string)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let read = |ext: &str| std::fs::read(dir.join(format!("{n}.{ext}"))).unwrap();
            let sel = parse_selection_spec(&String::from_utf8(read("sel")).unwrap()).unwrap();
            (n.clone(), read("xml"), sel, read("c14n"))
        })
        .collect()
}

fn vector(name: &str) -> (Vec<u8>, Selection, Vec<u8>) {
    let (_, x, s, c) = vectors().into_iter().find(|v| v.0 == name).unwrap();
    (x, s, c)
}

#[test]
fn every_exc_c14n_vector_matches_byte_for_byte() {
    let all = vectors();
    assert_eq!(all.len(), 20, "vector count (README lists 20)");
    let mut failures = Vec::new();
    for (name, xml, sel, expected) in &all {
        let doc = parse(xml, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = canonicalize(&doc, sel, C14nVariant::XPathNodeSet).unwrap();
        if &got != expected {
            failures.push(format!(
                "{name}:\n  got  {}\n  want {}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(expected)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Differential check against lxml on generated documents in the vectors' format (see
/// docs/xml.md): `XML_DIFF_DIR=/path cargo test -p sim-core --test it -- --ignored xml::`.
#[test]
#[ignore = "needs XML_DIFF_DIR with lxml-made vectors"]
fn differential_against_lxml_generated_vectors() {
    let Some(dir) = std::env::var_os("XML_DIFF_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for xml_path in &names {
        let xml = std::fs::read(xml_path).unwrap();
        let sel = std::fs::read_to_string(xml_path.with_extension("sel")).unwrap();
        let sel = parse_selection_spec(&sel).unwrap();
        let got = parse(&xml, &Limits::default())
            .and_then(|d| canonicalize(&d, &sel, C14nVariant::XPathNodeSet));
        // `NAME.reject` instead of `NAME.c14n`: lxml refused the document, so must we.
        let Ok(want) = std::fs::read(xml_path.with_extension("c14n")) else {
            if let Ok(g) = got {
                failures.push(format!(
                    "{}: accepted ({}) but lxml rejects",
                    xml_path.display(),
                    String::from_utf8_lossy(&g)
                ));
            }
            continue;
        };
        if got.as_ref() != Ok(&want) {
            failures.push(format!(
                "{}:\n  got  {:?}\n  want {}",
                xml_path.display(),
                got.map(|g| String::from_utf8_lossy(&g).into_owned()),
                String::from_utf8_lossy(&want)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

#[test]
fn c14n_command_reproduces_vectors_from_raw_arguments() {
    let dir = vectors_dir();
    let xml = std::fs::read(dir.join("domainkey-qualified.xml")).unwrap();
    let want = std::fs::read(dir.join("domainkey-qualified.c14n")).unwrap();
    let got = c14n_command(
        &xml,
        Some("{urn:oma:bac:dldrm:roap-1.0}domainKey"),
        &["mac"],
        C14nVariant::XPathNodeSet,
    )
    .unwrap();
    assert_eq!(got, want);
    assert!(matches!(
        c14n_command(&xml, Some("nosuch"), &[], C14nVariant::XPathNodeSet),
        Err(XmlError::SelectionNotFound(n)) if n == "nosuch"
    ));
    assert!(matches!(
        c14n_command(&xml, Some("{urn:x"), &[], C14nVariant::XPathNodeSet),
        Err(XmlError::InvalidSelector(_))
    ));
}

/// Seed 002 §1: the two readings of the Domain Key MAC input give different octets; the
/// XPath node-set one (interpretation 2, the one the CR makes normative) is the vector.
/// The only difference is the `roap` declaration the node-set reading adds: on
/// `<roap:domainKey>` in the qualified form, on `<roap:X509SPKIHash>` in the unqualified one.
#[test]
fn domain_key_interpretations_differ_and_nodeset_matches_vector() {
    const DECL: &str = " xmlns:roap=\"urn:oma:bac:dldrm:roap-1.0\"";
    for (name, carrier) in [
        ("domainkey-qualified", "<roap:domainKey"),
        ("domainkey-unqualified", "<roap:X509SPKIHash"),
    ] {
        let (xml, sel, expected) = vector(name);
        let doc = parse(&xml, &Limits::default()).unwrap();
        let nodeset = canonicalize(&doc, &sel, C14nVariant::XPathNodeSet).unwrap();
        let substring = canonicalize(&doc, &sel, C14nVariant::Substring).unwrap();
        assert_ne!(nodeset, substring, "{name}");
        assert_eq!(nodeset, expected, "{name}: interpretation 2 is the vector");
        assert_ne!(substring, expected, "{name}: interpretation 1 is not");
        let s = String::from_utf8(substring).unwrap();
        assert!(!s.contains("xmlns:roap"), "{name}: {s}");
        assert!(!s.contains("<mac>"), "{name}: {s}");
        assert_eq!(
            s.replacen(carrier, &format!("{carrier}{DECL}"), 1)
                .into_bytes(),
            expected,
            "{name}: adding the one roap declaration turns 1 into 2"
        );
        // Interpretation 1 is a slice of the canonical PDU with the <mac> octets cut out.
        let whole = String::from_utf8(canonicalize_document(&doc).unwrap()).unwrap();
        let mac = "<mac>ewqrewoewfewohffohr3209832r3</mac>";
        let close = if carrier == "<roap:domainKey" {
            "</roap:domainKey>"
        } else {
            "</domainKey>"
        };
        let with_mac = s.replacen(close, &format!("{mac}{close}"), 1);
        assert!(whole.contains(&with_mac), "{name}");
    }
}

#[test]
fn substring_without_namespaces_above_equals_nodeset() {
    // Nothing declared above the selection: both readings coincide, text around the
    // excluded element stays in both.
    let (xml, sel, expected) = vector("exclude-middle-keeps-text");
    let doc = parse(&xml, &Limits::default()).unwrap();
    assert_eq!(
        canonicalize(&doc, &sel, C14nVariant::Substring).unwrap(),
        expected
    );
    assert_eq!(
        canonicalize(&doc, &sel, C14nVariant::XPathNodeSet).unwrap(),
        b"<r>\n  <a>1</a>\n  \n  <b>2</b>\n</r>"
    );
}

/// C14N 1.0 §2: relative namespace URIs parse but cannot be canonicalized (as libxml2).
#[test]
fn relative_namespace_uri_fails_canonicalization() {
    let doc = parse(b"<a xmlns:p=\"rel/x\"><b/></a>", &Limits::default()).unwrap();
    assert_eq!(
        canonicalize_document(&doc),
        Err(XmlError::RelativeNamespaceUri("rel/x".into()))
    );
    let e = canonicalize_element(&Element::new(None, "a", Some("u"))).unwrap_err();
    assert_eq!(e, XmlError::RelativeNamespaceUri("u".into()));
    assert!(!e.is_fatal());
}

#[test]
fn whole_document_selection_with_exclusions_in_both_readings() {
    let xml = b"<?p d?><r xmlns:q=\"urn:q\"><a/>t<mac>x<q:b/></mac>u<q:mac/></r>";
    for v in [C14nVariant::XPathNodeSet, C14nVariant::Substring] {
        let got = c14n_command(xml, None, &["mac"], v).unwrap();
        assert_eq!(
            got, b"<?p d?>\n<r><a></a>tu<q:mac xmlns:q=\"urn:q\"></q:mac></r>",
            "{v:?}"
        );
    }
    // The apex itself is never excluded: only elements strictly inside the selection.
    let got = c14n_command(
        b"<mac><mac/>k</mac>",
        Some("mac"),
        &["mac"],
        C14nVariant::XPathNodeSet,
    );
    assert_eq!(got.unwrap(), b"<mac>k</mac>");
    assert_eq!(
        "substring".parse::<C14nVariant>().unwrap(),
        C14nVariant::Substring
    );
    assert_eq!(
        "xpath".parse::<C14nVariant>().unwrap(),
        C14nVariant::XPathNodeSet
    );
    assert!("other".parse::<C14nVariant>().is_err());
}

#[test]
fn whole_document_keeps_pis_outside_root_with_newlines() {
    let xml = b"<?xml version=\"1.0\"?>\n<?a x?><!-- c --><r/>\n<!-- d --><?b?>\n";
    let doc = parse(xml, &Limits::default()).unwrap();
    assert_eq!(
        canonicalize_document(&doc).unwrap(),
        b"<?a x?>\n<r></r>\n<?b?>"
    );
}

#[test]
fn in_memory_pdu_tree_canonicalizes_like_its_parsed_form() {
    const ROAP: &str = "urn:oma:bac:dldrm:roap-1.0";
    const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
    let pdu = Element::new(Some("roap"), "joinDomainRequest", Some(ROAP))
        .with_attr("status", "Success")
        .with_child(
            Element::plain("deviceID").with_child(
                Element::plain("keyIdentifier")
                    .with_ns_attr("xsi", XSI, "type", "roap:X509SPKIHash")
                    .with_child(Element::plain("hash").with_text("vXENc+Um/9/NvmYKiHDLaErK0gk=")),
            ),
        )
        .with_child(Element::plain("nonce").with_text("a<b & c>d\r"));
    let bytes = canonicalize_element(&pdu).unwrap();
    let want = format!(
        "<roap:joinDomainRequest xmlns:roap=\"{ROAP}\" status=\"Success\"><deviceID>\
         <keyIdentifier xmlns:xsi=\"{XSI}\" xsi:type=\"roap:X509SPKIHash\">\
         <hash>vXENc+Um/9/NvmYKiHDLaErK0gk=</hash></keyIdentifier></deviceID>\
         <nonce>a&lt;b &amp; c&gt;d&#xD;</nonce></roap:joinDomainRequest>"
    );
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), want);
    let reparsed = parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(canonicalize_element(&reparsed.root).unwrap(), bytes);
    assert_eq!(reparsed.root.child("nonce").unwrap().text(), "a<b & c>d\r");
}

#[test]
fn in_memory_tree_errors_are_fatal_and_typed() {
    let bad = [
        Element::new(Some("p"), "a", None),
        Element::plain("a").with_text("\u{1}"),
        Element::plain("a b"),
        Element::new(Some("p"), "a", Some("urn:1")).with_ns_attr("p", "urn:2", "x", "1"),
        Element::plain("a").with_attr("x", "1").with_attr("x", "2"),
    ];
    for el in bad {
        let e = canonicalize_element(&el).unwrap_err();
        assert!(matches!(e, XmlError::InvalidTree(_)), "{e}");
        assert!(e.is_fatal());
    }
}

// ---------------------------------------------------------------- hostile input

fn err(input: &[u8]) -> XmlError {
    parse(input, &Limits::default()).unwrap_err()
}

#[test]
fn doctype_is_refused() {
    let e = err(b"<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>");
    assert!(matches!(e, XmlError::DoctypeRefused { .. }), "{e}");
    assert!(!e.is_fatal());
}

#[test]
fn billion_laughs_is_refused_before_any_expansion() {
    let mut bomb =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        bomb.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    bomb.push_str("]>\n<lolz>&lol9;</lolz>");
    assert!(matches!(
        err(bomb.as_bytes()),
        XmlError::DoctypeRefused { .. }
    ));
}

#[test]
fn unknown_entity_is_refused() {
    assert_eq!(
        err(b"<r>&nbsp;</r>"),
        XmlError::UnknownEntity("nbsp".into())
    );
    assert_eq!(err(b"<r a=\"&x;\"/>"), XmlError::UnknownEntity("x".into()));
    assert!(matches!(err(b"<r>&#0;</r>"), XmlError::InvalidCharRef(_)));
    assert!(matches!(
        err(b"<r>&#xD800;</r>"),
        XmlError::InvalidCharRef(_)
    ));
    assert!(matches!(
        err(b"<r>&#x110000;</r>"),
        XmlError::InvalidCharRef(_)
    ));
    assert!(matches!(err(b"<r>&#+65;</r>"), XmlError::InvalidCharRef(_)));
}

#[test]
fn predefined_entities_and_char_refs_are_not_dropped() {
    let doc = parse(
        b"<r a=\"&lt;&#x41;&#10;\t\">x &amp; y &lt;z&gt; &apos;&quot; &#65;&#x1D11E;</r>",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(doc.root.text(), "x & y <z> '\" A\u{1D11E}");
    assert_eq!(doc.root.attr("a"), Some("<A\n "));
    assert_eq!(doc.root.children.len(), 1, "one merged text node");
}

#[test]
fn too_deep_is_refused() {
    let limits = Limits::default();
    let ok = format!("{}{}", "<a>".repeat(64), "</a>".repeat(64));
    assert!(parse(ok.as_bytes(), &limits).is_ok());
    let deep = format!("{}{}", "<a>".repeat(65), "</a>".repeat(65));
    assert_eq!(err(deep.as_bytes()), XmlError::TooDeep { limit: 64 });
}

#[test]
fn too_many_elements_is_refused() {
    let many = format!("<r>{}</r>", "<a/>".repeat(10_000));
    assert_eq!(
        err(many.as_bytes()),
        XmlError::TooManyElements { limit: 10_000 }
    );
    let ok = format!("<r>{}</r>", "<a/>".repeat(9_999));
    assert!(parse(ok.as_bytes(), &Limits::default()).is_ok());
}

#[test]
fn oversize_input_text_and_attributes_are_refused() {
    let big = vec![b' '; 256 * 1024 + 1];
    assert_eq!(
        err(&big),
        XmlError::InputTooLarge {
            size_bytes: 256 * 1024 + 1,
            limit_bytes: 256 * 1024
        }
    );
    let text = format!("<r>{}</r>", "x".repeat(64 * 1024 + 1));
    assert!(matches!(err(text.as_bytes()), XmlError::TextTooLong { .. }));
    // Merged character data counts as one node, whatever its pieces.
    let pieces = format!("<r>{}</r>", "x&amp;".repeat(40 * 1024));
    assert!(matches!(
        err(pieces.as_bytes()),
        XmlError::TextTooLong { .. }
    ));
    let attrs: String = (0..65).map(|i| format!(" a{i}=\"\"")).collect();
    assert_eq!(
        err(format!("<r{attrs}/>").as_bytes()),
        XmlError::TooManyAttributes { limit: 64 }
    );
}

#[test]
fn bad_utf8_and_forbidden_chars_are_refused() {
    assert_eq!(err(b"<r>\xff</r>"), XmlError::InvalidUtf8 { offset: 3 });
    assert_eq!(err(b"<r>\xc3</r>"), XmlError::InvalidUtf8 { offset: 3 });
    assert_eq!(
        err(b"<r>\x01</r>"),
        XmlError::InvalidChar {
            codepoint: 1,
            offset: 3
        }
    );
    assert_eq!(
        err("<r>\u{FFFE}</r>".as_bytes()),
        XmlError::InvalidChar {
            codepoint: 0xFFFE,
            offset: 3
        }
    );
    assert!(matches!(
        err(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r/>"),
        XmlError::UnsupportedDeclaration(_)
    ));
}

#[test]
fn undeclared_prefix_is_refused() {
    assert_eq!(err(b"<p:r/>"), XmlError::UndeclaredPrefix("p".into()));
    assert_eq!(
        err(b"<r q:a=\"1\"/>"),
        XmlError::UndeclaredPrefix("q".into())
    );
    // Out of scope after the declaring element closes.
    assert_eq!(
        err(b"<r><a xmlns:p=\"urn:p\"/><p:b/></r>"),
        XmlError::UndeclaredPrefix("p".into())
    );
    assert!(matches!(
        err(b"<r xmlns:p=\"\"/>"),
        XmlError::InvalidNamespaceDecl(_)
    ));
    assert!(matches!(
        err(b"<r xmlns:xml=\"urn:x\"/>"),
        XmlError::InvalidNamespaceDecl(_)
    ));
    // xml is bound without declaration.
    let doc = parse(b"<r xml:lang=\"en\"/>", &Limits::default()).unwrap();
    assert_eq!(
        doc.root
            .ns_attr("http://www.w3.org/XML/1998/namespace", "lang"),
        Some("en")
    );
}

#[test]
fn malformed_structure_is_refused() {
    assert_eq!(
        err(b"<a><b></a></b>"),
        XmlError::MismatchedTag {
            expected: "b".into(),
            found: "a".into()
        }
    );
    assert!(matches!(err(b"<a><b>"), XmlError::UnclosedElement(_)));
    assert!(matches!(
        err(b"<a x=\"1\" x=\"2\"/>"),
        XmlError::DuplicateAttribute(_)
    ));
    assert!(matches!(
        err(b"<a xmlns:p=\"urn:1\" xmlns:q=\"urn:1\" p:x=\"1\" q:x=\"2\"/>"),
        XmlError::DuplicateAttribute(_)
    ));
    assert_eq!(err(b""), XmlError::NoRoot);
    assert_eq!(err(b"  <!-- only -->"), XmlError::NoRoot);
    assert!(matches!(
        err(b"<a/><b/>"),
        XmlError::ContentOutsideRoot { .. }
    ));
    assert!(matches!(err(b"x<a/>"), XmlError::ContentOutsideRoot { .. }));
    assert!(matches!(
        err(b"<a/>&amp;"),
        XmlError::ContentOutsideRoot { .. }
    ));
    assert!(matches!(err(b"<1a/>"), XmlError::InvalidName(_)));
    assert!(matches!(err(b"<a:b:c/>"), XmlError::InvalidName(_)));
    assert!(matches!(err(b"<a>]]></a>"), XmlError::Syntax { .. }));
    assert!(matches!(err(b"<a x=\"<\"/>"), XmlError::Syntax { .. }));
    assert!(matches!(err(b"<a>&amp</a>"), XmlError::Syntax { .. }));
    assert!(matches!(
        err(b"<a><!-- a -- b --></a>"),
        XmlError::Syntax { .. }
    ));
    assert!(matches!(
        err(b"<a/><?xml version=\"1.0\"?>"),
        XmlError::Syntax { .. }
    ));
    assert!(matches!(
        err(b"<a x=\"1\"y=\"2\"/>"),
        XmlError::Syntax { .. }
    ));
    assert!(matches!(err(b"<a x/>"), XmlError::Syntax { .. }));
    assert!(matches!(err(b"<a x='1\"/>"), XmlError::Syntax { .. }));
    assert!(matches!(err(b"<a><?p:i x?></a>"), XmlError::InvalidName(_)));
    assert!(matches!(
        err(b"<a xmlns=\"urn:b \"/>"),
        XmlError::InvalidNamespaceDecl(_)
    ));
    assert!(matches!(
        err(b"<a xmlns:p=\"urn;:a\"/>"),
        XmlError::InvalidNamespaceDecl(_)
    ));
}

#[test]
fn line_ends_are_normalized_as_xml_requires() {
    let doc = parse(
        b"<r a=\"1\r\n2\">x\r\ny\rz<![CDATA[\r\n]]></r>",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(doc.root.text(), "x\ny\nz\n");
    assert_eq!(doc.root.attr("a"), Some("1 2"));
}

// ---------------------------------------------------------------- properties

/// Generated trees: a few prefixes over a few URIs (so redeclarations and shadowing happen),
/// default namespaces, unqualified children, attributes incl. prefixed ones, awkward text.
fn arb_element(depth: u32) -> BoxedStrategy<Element> {
    const URIS: [&str; 3] = ["urn:a", "urn:b", "http://x/y?q=%221%22&z=1;a"];
    let name = prop::sample::select(vec!["a", "b", "mac", "domainKey", "x1"]);
    let ns = prop::option::of((
        prop::option::of(prop::sample::select(vec!["p", "q"])),
        0..3usize,
    ));
    let text = "[a-z &<>\"'\r\n\t\u{e9}\u{1D11E}]{0,6}";
    let attrs = prop::collection::vec(
        (
            prop::sample::select(vec!["id", "k", "z"]),
            prop::option::of((prop::sample::select(vec!["p", "r"]), 0..3usize)),
            text,
        ),
        0..3,
    );
    let leaf = (name, ns, attrs, prop::option::of(text)).prop_map(|(local, ns, attrs, t)| {
        let mut el = match ns {
            None => Element::plain(local),
            Some((prefix, u)) => Element::new(prefix, local, Some(URIS[u])),
        };
        for (alocal, ans, v) in attrs {
            match ans {
                // A prefixed attribute must not rebind the element's own prefix.
                Some((p, u)) if el.prefix.as_deref() != Some(p) => {
                    let clash = el.attrs.iter().any(|a| {
                        (a.local == alocal && a.ns.as_deref() == Some(URIS[u]))
                            || (a.prefix.as_deref() == Some(p) && a.ns.as_deref() != Some(URIS[u]))
                    });
                    if !clash {
                        el = el.with_ns_attr(p, URIS[u], alocal, v);
                    }
                }
                Some(_) => {}
                None => {
                    if el.attr(alocal).is_none() {
                        el = el.with_attr(alocal, v);
                    }
                }
            }
        }
        if let Some(t) = t {
            el = el.with_text(t);
        }
        el
    });
    if depth == 0 {
        return leaf.boxed();
    }
    (
        leaf,
        prop::collection::vec(arb_element(depth - 1), 0..4),
        "[ a\n]{0,2}",
    )
        .prop_map(|(mut el, kids, t)| {
            for k in kids {
                el.push(k);
                if !t.is_empty() {
                    el.children.push(Node::Text(t.clone()));
                }
            }
            el
        })
        .boxed()
}

/// Merges adjacent text nodes and drops empty ones (what a parser reports).
fn normalized(el: &Element) -> Element {
    let mut out = Element {
        children: Vec::new(),
        ns_decls: Vec::new(),
        ..el.clone()
    };
    out.attrs
        .sort_by(|a, b| (&a.ns, &a.local).cmp(&(&b.ns, &b.local)));
    for c in &el.children {
        match c {
            Node::Element(e) => out.children.push(Node::Element(normalized(e))),
            Node::Text(t) if t.is_empty() => {}
            Node::Text(t) => match out.children.last_mut() {
                Some(Node::Text(prev)) => prev.push_str(t),
                _ => out.children.push(Node::Text(t.clone())),
            },
            other => out.children.push(other.clone()),
        }
    }
    out
}

fn without_decls(el: &Element) -> Element {
    let mut out = normalized(el);
    strip(&mut out);
    fn strip(e: &mut Element) {
        e.ns_decls.clear();
        for c in &mut e.children {
            if let Node::Element(k) = c {
                strip(k);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Canonical form is a fixed point: parse(c14n(t)) canonicalizes to the same octets, and
    /// the parsed tree is the generated one (names, namespaces, attributes, text).
    #[test]
    fn c14n_is_idempotent_and_round_trips(tree in arb_element(3)) {
        let once = canonicalize_element(&tree).unwrap();
        let doc = parse(&once, &Limits::default()).unwrap();
        let twice = canonicalize_element(&doc.root).unwrap();
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(without_decls(&doc.root), without_decls(&tree));
        prop_assert_eq!(canonicalize_document(&doc).unwrap(), once);
    }

    /// Any selection of canonical output is itself canonical, and excluding elements in
    /// the node-set reading equals canonicalizing a copy with those elements removed.
    #[test]
    fn selections_are_canonical(tree in arb_element(3)) {
        let bytes = canonicalize_element(&tree).unwrap();
        let doc = parse(&bytes, &Limits::default()).unwrap();
        let sel = Selection::element(Name::parse("b").unwrap()).excluding(Name::parse("mac").unwrap());
        if let Ok(part) = canonicalize(&doc, &sel, C14nVariant::XPathNodeSet) {
            let again = parse(&part, &Limits::default()).unwrap();
            prop_assert_eq!(canonicalize_element(&again.root).unwrap(), part);
        }
    }

    /// Arbitrary bytes never panic the parser or the canonicalizer.
    #[test]
    fn arbitrary_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(doc) = parse(&bytes, &Limits::default()) {
            let _ = canonicalize_document(&doc).unwrap();
            let _ = canonicalize(&doc, &Selection::whole(), C14nVariant::Substring).unwrap();
        }
    }
}
