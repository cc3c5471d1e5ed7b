//! PDUs: hand-written expected XML per message, seed 002's example and MAC inputs, round
//! trips of every kind (proptest), hostile input, digests and size estimates.

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sim_core::pdu::common::*;
use sim_core::pdu::dea::*;
use sim_core::pdu::metering::*;
use sim_core::pdu::moves::*;
use sim_core::pdu::roap::*;
use sim_core::pdu::sample::random_pdu;
use sim_core::pdu::*;
use sim_core::xml::{canonicalize_element, parse, Limits, Node};

const ROAP: &str = "urn:oma:bac:dldrm:roap-1.0";
const XSI_DECL: &str = r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#;

/// Seed 002 §G.1.9, verbatim (indentation and all).
const SEED_002_EXAMPLE: &str = r#"<roap:joinDomainResponse
  xmlns:roap="urn:oma:bac:dldrm:roap-1.0"
  xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
  xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  status="Success">
    <deviceID>
        <keyIdentifier xsi:type="roap:X509SPKIHash">
            <hash>vXENc+Um/9/NvmYKiHDLaErK0gk=</hash>
        </keyIdentifier>
    </deviceID>
    <riID>
        <keyIdentifier xsi:type="roap:X509SPKIHash">
            <hash>aXENc+Um/9/NvmYKiHDLaErK0fk=</hash>
        </keyIdentifier>
    </riID>
    <nonce>32efd34de39sdwefqwer</nonce>
    <domainInfo>
        <notAfter>2004-12-22T03:02:00Z</notAfter>
        <roap:domainKey>
            <encKey Id="Domain-XYZ-001">
                <xenc:EncryptionMethod
         Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-1#rsaes-kem-kdf2-kw-aes128"/>
                <ds:KeyInfo>
                    <roap:X509SPKIHash>
                        <hash>vXENc+Um/9/NvmYKiHDLaErK0gk=</hash>
                    </roap:X509SPKIHash>
                </ds:KeyInfo>
                <xenc:CipherData>
               <xenc:CipherValue>231jks231dkdwkj3jk321kj321j321kj423j342h213j321jh321jh2134jhk3211fdslfdsopfespjoefwopjsfdpojvct4w925342a</xenc:CipherValue>
                </xenc:CipherData>
            </encKey>
            <riID>
                <keyIdentifier xsi:type="roap:X509SPKIHash">
                    <hash>aXENc+Um/9/NvmYKiHDLaErK0fk=</hash>
                </keyIdentifier>
            </riID>
            <mac>ewqrewoewfewohffohr3209832r3</mac>
        </roap:domainKey>
    </domainInfo>
    <certificateChain>
        <certificate>MIIB223121234567</certificate>
        <certificate>MIIB834124312431</certificate>
    </certificateChain>
    <ocspResponse>miibewqoidpoidsa</ocspResponse>
    <signature>d93e5fue3ue10ue2109ue1ueoidwoijdwe309u09ueqijdwqijdwq09uwqwqi009</signature>
</roap:joinDomainResponse>"#;

fn key_id(hash_b64: &str) -> String {
    format!(
        r#"<keyIdentifier {XSI_DECL} xsi:type="roap:X509SPKIHash"><hash>{hash_b64}</hash></keyIdentifier>"#
    )
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

const DEV: &str = "vXENc+Um/9/NvmYKiHDLaErK0gk=";
const RI: &str = "aXENc+Um/9/NvmYKiHDLaErK0fk=";
const CIPHER: &str = "231jks231dkdwkj3jk321kj321j321kj423j342h213j321jh321jh2134jhk3211fdslfdsopfespjoefwopjsfdpojvct4w925342a";

/// The `<roap:domainKey>` of the seed example, canonical, with `decl` on the apex.
fn seed_domain_key(decl: &str, with_mac: bool) -> String {
    format!(
        concat!(
            r#"<roap:domainKey{}><encKey Id="Domain-XYZ-001">"#,
            r#"<xenc:EncryptionMethod xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-1#rsaes-kem-kdf2-kw-aes128"></xenc:EncryptionMethod>"#,
            r#"<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><roap:X509SPKIHash><hash>{}</hash></roap:X509SPKIHash></ds:KeyInfo>"#,
            r#"<xenc:CipherData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>"#,
            r#"</encKey><riID>{}</riID>{}</roap:domainKey>"#
        ),
        decl,
        DEV,
        CIPHER,
        key_id(RI),
        if with_mac {
            "<mac>ewqrewoewfewohffohr3209832r3</mac>"
        } else {
            ""
        }
    )
}

/// Hand-written Exclusive Canonical Form of the seed 002 example: namespace declarations
/// move to the elements that visibly use them, whitespace-only text between elements goes.
fn seed_002_canonical() -> String {
    format!(
        concat!(
            r#"<roap:joinDomainResponse xmlns:roap="{}" status="Success">"#,
            "<deviceID>{}</deviceID><riID>{}</riID><nonce>32efd34de39sdwefqwer</nonce>",
            "<domainInfo><notAfter>2004-12-22T03:02:00Z</notAfter>{}</domainInfo>",
            "<certificateChain><certificate>MIIB223121234567</certificate><certificate>MIIB834124312431</certificate></certificateChain>",
            "<ocspResponse>miibewqoidpoidsa</ocspResponse>",
            "<signature>d93e5fue3ue10ue2109ue1ueoidwoijdwe309u09ueqijdwqijdwq09uwqwqi009</signature>",
            "</roap:joinDomainResponse>"
        ),
        ROAP,
        key_id(DEV),
        key_id(RI),
        seed_domain_key("", true)
    )
}

#[test]
fn seed_002_join_domain_response_decodes_and_reencodes_canonically() {
    let pdu = Pdu::decode(SEED_002_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(pdu.kind(), "roap:joinDomainResponse");
    let Pdu::JoinDomainResponse(r) = &pdu else {
        panic!("wrong variant")
    };
    assert_eq!(r.status, Status::Success);
    let body = r.body.as_ref().unwrap();
    assert_eq!(body.device_id.hash, b(DEV));
    assert_eq!(body.device_id.hash.len(), 20);
    assert_eq!(body.nonce, b("32efd34de39sdwefqwer"));
    let dk = &body.domain_info.domain_keys[0];
    assert!(dk.qualified, "seed 002 writes <roap:domainKey>");
    assert_eq!(dk.enc_key.id.as_deref(), Some("Domain-XYZ-001"));
    assert_eq!(dk.enc_key.algorithm, ALG_KEM);
    assert_eq!(dk.enc_key.key_info, Some(KeyInfo::SpkiHash(b(DEV))));
    assert_eq!(
        body.domain_info.not_after,
        Expiry::At(DateTime::parse("2004-12-22T03:02:00Z").unwrap())
    );
    assert_eq!(
        body.certificate_chain.as_ref().unwrap().certificates.len(),
        2
    );
    assert_eq!(body.ocsp_responses, vec![b("miibewqoidpoidsa")]);
    let enc = String::from_utf8(pdu.encode()).unwrap();
    assert_eq!(enc, seed_002_canonical());

    // Cross-check with the xml module: the example minus its indentation, canonicalized.
    fn strip(e: &mut sim_core::xml::Element) {
        let has_el = e.children.iter().any(|n| matches!(n, Node::Element(_)));
        e.children
            .retain(|n| !(has_el && matches!(n, Node::Text(t) if t.trim().is_empty())));
        for n in &mut e.children {
            if let Node::Element(c) = n {
                strip(c);
            }
        }
    }
    let mut doc = parse(SEED_002_EXAMPLE.as_bytes(), &Limits::default()).unwrap();
    strip(&mut doc.root);
    assert_eq!(canonicalize_element(&doc.root).unwrap(), pdu.encode());
}

fn b(s: &str) -> Vec<u8> {
    b64(s)
}

#[test]
fn seed_002_domain_key_mac_input_under_both_interpretations() {
    let canon = seed_002_canonical();
    let nodeset = domain_key_mac_input(canon.as_bytes(), 0, MacInterpretation::NodeSet).unwrap();
    let substring =
        domain_key_mac_input(canon.as_bytes(), 0, MacInterpretation::Substring).unwrap();
    // Option 2: the qualified apex declares roap; option 1: the octets as they stand.
    let decl = format!(r#" xmlns:roap="{ROAP}""#);
    assert_eq!(
        String::from_utf8(nodeset).unwrap(),
        seed_domain_key(&decl, false)
    );
    assert_eq!(
        String::from_utf8(substring).unwrap(),
        seed_domain_key("", false)
    );
    // The pretty-printed original gives the same node-set octets modulo its whitespace, so
    // only the canonical PDU is a valid MAC carrier; decoding the example and re-encoding
    // restores it.
    let dk = {
        let Pdu::JoinDomainResponse(r) = Pdu::decode(canon.as_bytes()).unwrap() else {
            panic!()
        };
        r.body.unwrap().domain_info.domain_keys[0].clone()
    };
    assert_eq!(
        sim_core::pdu::canonicalize(&dk.to_element_without_mac()),
        seed_domain_key(&decl, false).into_bytes()
    );

    // Unqualified form: option 2 declares roap on <roap:X509SPKIHash> instead (seed 002 §1).
    let unq = canon
        .replace("<roap:domainKey>", "<domainKey>")
        .replace("</roap:domainKey>", "</domainKey>");
    let ns = String::from_utf8(
        domain_key_mac_input(unq.as_bytes(), 0, MacInterpretation::NodeSet).unwrap(),
    )
    .unwrap();
    assert!(ns.starts_with("<domainKey><encKey"));
    assert!(ns.contains(&format!(r#"<roap:X509SPKIHash xmlns:roap="{ROAP}">"#)));
    let ss = String::from_utf8(
        domain_key_mac_input(unq.as_bytes(), 0, MacInterpretation::Substring).unwrap(),
    )
    .unwrap();
    assert_eq!(ss, ns.replace(&decl, ""));
    assert!(domain_key_mac_input(canon.as_bytes(), 1, MacInterpretation::NodeSet).is_err());
}

#[test]
fn second_domain_key_mac_input_selects_the_second_key() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let Pdu::JoinDomainResponse(mut r) = random_pdu(7, &mut rng) else {
        panic!()
    };
    let mut body = r.body.take().unwrap_or_else(|| {
        let Pdu::JoinDomainResponse(x) = random_pdu(7, &mut ChaCha8Rng::seed_from_u64(1)) else {
            panic!()
        };
        x.body.expect("seed 1 has a body")
    });
    let mut k2 = body.domain_info.domain_keys[0].clone();
    k2.enc_key.id = Some("second".into());
    body.domain_info.domain_keys = vec![body.domain_info.domain_keys[0].clone(), k2.clone()];
    r.body = Some(body);
    let bytes = Pdu::JoinDomainResponse(r).encode();
    let got = domain_key_mac_input(&bytes, 1, MacInterpretation::NodeSet).unwrap();
    assert_eq!(
        got,
        sim_core::pdu::canonicalize(&k2.to_element_without_mac())
    );
}

fn id(fill: u8) -> Identifier {
    Identifier::new(vec![fill; 20])
}

/// Canonical `<name><keyIdentifier…>` for a 20-byte identifier filled with `fill`.
fn id_xml(name: &str, fill: u8) -> String {
    use base64::Engine;
    let h = base64::engine::general_purpose::STANDARD.encode([fill; 20]);
    format!("<{name}>{}</{name}>", key_id(&h))
}

#[test]
fn metering_report_response_matches_hand_written_xml() {
    let pdu = Pdu::MeteringReportResponse(MeteringReportResponse {
        status: Status::Success,
        body: Some(MeteringReportResponseBody {
            device_id: id(1),
            ri_id: id(2),
            device_nonce: b"0123456789abcd".to_vec(),
            certificate_chain: Some(CertificateChain {
                certificates: vec![vec![0x30, 0x82]],
            }),
            ocsp_responses: vec![vec![0xff; 3], vec![0; 1]],
            extensions: vec![Ext::new(Extension::PostResponseUrl(
                "http://ri.example/pr?a=1&b=2".into(),
            ))],
            signature: vec![0xab; 6],
        }),
    });
    let expected = format!(
        concat!(
            r#"<roap:meteringReportResponse xmlns:roap="{}" status="Success">{}{}"#,
            "<deviceNonce>MDEyMzQ1Njc4OWFiY2Q=</deviceNonce>",
            "<certificateChain><certificate>MII=</certificate></certificateChain>",
            "<ocspResponse>////</ocspResponse><ocspResponse>AA==</ocspResponse>",
            r#"<extensions><extension {} critical="true" xsi:type="roap:PostResponseURL"><prURL>http://ri.example/pr?a=1&amp;b=2</prURL></extension></extensions>"#,
            "<signature>q6urq6ur</signature></roap:meteringReportResponse>"
        ),
        ROAP,
        id_xml("deviceID", 1),
        id_xml("riID", 2),
        XSI_DECL
    );
    assert_eq!(String::from_utf8(pdu.encode()).unwrap(), expected);
    assert_eq!(Pdu::decode(expected.as_bytes()).unwrap(), pdu);
    // The signed octets are the message minus <signature> (seed 004 §5.4.6.2.1).
    assert_eq!(
        String::from_utf8(pdu.signed_bytes()).unwrap(),
        expected.replace("<signature>q6urq6ur</signature>", "")
    );
}

#[test]
fn move_device_ro_response_matches_hand_written_xml() {
    let pdu = Pdu::MoveDeviceRoResponse(MoveResponse {
        status: Status::AccessDenied,
        req_id: id(3),
        res_id: id(4),
        nonce: vec![0; 3],
        ri_authorizations: vec![],
        certificate_chain: None,
        ocsp_responses: vec![],
        extensions: vec![],
        signature: vec![1, 2, 3],
    });
    let expected = format!(
        concat!(
            r#"<sceroap:moveDeviceROResponse xmlns:sceroap="urn:oma:xml:sce:roap-1.0" status="AccessDenied">"#,
            "{}{}<nonce>AAAA</nonce><signature>AQID</signature></sceroap:moveDeviceROResponse>"
        ),
        id_xml("reqID", 3),
        id_xml("resID", 4)
    );
    assert_eq!(String::from_utf8(pdu.encode()).unwrap(), expected);
    assert_eq!(Pdu::decode(expected.as_bytes()).unwrap(), pdu);
}

fn join_request() -> DomainRequest {
    DomainRequest {
        trigger_nonce: None,
        device_id: id(5),
        ri_id: id(6),
        nonce: vec![0xfb; 3],
        time: DateTime::from_unix_s(86_400),
        domain_id: "Domain-XYZ-001".into(),
        certificate_chain: None,
        not_member: false,
        extensions: vec![Ext::new(Extension::HashChainSupport)],
        signature: vec![0xfe; 3],
    }
}

#[test]
fn proxy_join_user_domain_request_matches_hand_written_xml() {
    let pdu = Pdu::ProxyJoinUserDomainRequest(ProxyDomainRequest {
        header: GenHeader {
            trigger_none: true,
            session_id: None,
            req_id: id(6),
            res_id: id(7),
            nonce: vec![1; 3],
            certificate_chain: None,
        },
        device_request: join_request(),
        device_certificate_chain: Some(CertificateChain {
            certificates: vec![vec![0x30]],
        }),
        signature: vec![2; 3],
    });
    let embedded = format!(
        concat!(
            r#"<roap:joinDomainRequest xmlns:roap="{}">{}{}<nonce>+/v7</nonce><time>1970-01-02T00:00:00Z</time>"#,
            "<domainID>Domain-XYZ-001</domainID>",
            r#"<extensions><extension {} critical="false" xsi:type="roap:HashChainSupport"></extension></extensions>"#,
            "<signature>/v7+</signature></roap:joinDomainRequest>"
        ),
        ROAP,
        id_xml("deviceID", 5),
        id_xml("riID", 6),
        XSI_DECL
    );
    let expected = format!(
        concat!(
            r#"<dom:rdpProxyJoinUserDomainRequest xmlns:dom="urn:oma:xml:sce:dom-1.0">"#,
            "<triggerNone></triggerNone>{}{}<nonce>AQEB</nonce>",
            "<reqInfo>{}<deviceCertificateChain><certificate>MA==</certificate></deviceCertificateChain></reqInfo>",
            "<signature>AgIC</signature></dom:rdpProxyJoinUserDomainRequest>"
        ),
        id_xml("reqID", 6),
        id_xml("resID", 7),
        embedded
    );
    assert_eq!(String::from_utf8(pdu.encode()).unwrap(), expected);
    assert_eq!(Pdu::decode(expected.as_bytes()).unwrap(), pdu);
    // Exclusive C14N makes the embedded request's octets independent of its context, so the
    // DEA verifies the Device signature over the same octets the Device signed (seed 000
    // §7.4.1): the embedded element minus <signature> = the standalone signed bytes.
    let standalone = Pdu::JoinDomainRequest(JoinDomainRequest(join_request()));
    assert_eq!(String::from_utf8(standalone.encode()).unwrap(), embedded);
}

#[test]
fn proxy_join_request_without_any_device_chain_is_malformed() {
    let pdu = Pdu::ProxyJoinUserDomainRequest(ProxyDomainRequest {
        header: GenHeader {
            trigger_none: false,
            session_id: None,
            req_id: id(6),
            res_id: id(7),
            nonce: vec![1; 3],
            certificate_chain: None,
        },
        device_request: join_request(),
        device_certificate_chain: None,
        signature: vec![2; 3],
    });
    let e = Pdu::decode(&pdu.encode()).unwrap_err();
    assert_eq!(e.status(), Status::MalformedRequest);
    assert!(e.to_string().contains("deviceCertificateChain"));
}

#[test]
fn every_kind_round_trips_for_fixed_seeds() {
    assert_eq!(ALL_KINDS.len(), 33);
    for (k, name) in ALL_KINDS.iter().enumerate() {
        for seed in 0..8u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed * 1000 + k as u64);
            let pdu = random_pdu(k, &mut rng);
            assert_eq!(pdu.kind(), *name);
            let bytes = pdu.encode();
            let back = Pdu::decode(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{name} seed {seed}: {e}\n{}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            assert_eq!(back, pdu, "{name} seed {seed}");
            assert_eq!(back.encode(), bytes);
        }
    }
}

#[test]
fn registration_transcript_concatenates_the_session() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let Pdu::DeviceHello(dh) = random_pdu(0, &mut rng) else {
        panic!()
    };
    let Pdu::RiHello(rh) = random_pdu(1, &mut rng) else {
        panic!()
    };
    let Pdu::RegistrationRequest(req) = random_pdu(2, &mut rng) else {
        panic!()
    };
    let Pdu::RegistrationResponse(resp) = random_pdu(3, &mut rng) else {
        panic!()
    };
    let (dhb, rhb) = (
        Pdu::DeviceHello(dh.clone()).encode(),
        Pdu::RiHello(rh.clone()).encode(),
    );
    let reqp = Pdu::RegistrationRequest(req.clone());
    let t1 = registration_transcript(&dh, &rh, &req, None);
    assert_eq!(t1, [dhb.clone(), rhb.clone(), reqp.signed_bytes()].concat());
    let t2 = registration_transcript(&dh, &rh, &req, Some(&resp));
    let respp = Pdu::RegistrationResponse(resp.clone());
    assert_eq!(t2, [dhb, rhb, reqp.encode(), respp.signed_bytes()].concat());
    // The request's signature is covered by the response transcript only.
    let mut req2 = req.clone();
    req2.signature.push(1);
    assert_eq!(registration_transcript(&dh, &rh, &req2, None), t1);
    assert_ne!(registration_transcript(&dh, &rh, &req2, Some(&resp)), t2);
    use sim_core::pdu::auth::registration_transcript_digest as d;
    assert_eq!(d(&dh, &rh, &req2, None), d(&dh, &rh, &req, None));
    assert_ne!(
        d(&dh, &rh, &req2, Some(&resp)),
        d(&dh, &rh, &req, Some(&resp))
    );
}

#[test]
fn metering_report_mac_input_excludes_mac_under_both_readings() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let pdu = random_pdu(10, &mut rng);
    let Pdu::MeteringReportSubmit(m) = &pdu else {
        panic!()
    };
    let bytes = pdu.encode();
    let ns = metering_report_mac_input(&bytes, MacInterpretation::NodeSet).unwrap();
    assert_eq!(
        ns,
        sim_core::pdu::canonicalize(&m.metering_report.to_element_without_mac())
    );
    let ss =
        String::from_utf8(metering_report_mac_input(&bytes, MacInterpretation::Substring).unwrap())
            .unwrap();
    assert!(!ss.contains("<mac>"));
    // Option 2 declares roap on <roap:X509SPKIHash>; option 1 relies on the root's.
    let ns = String::from_utf8(ns).unwrap();
    assert_eq!(ns.replace(&format!(r#" xmlns:roap="{ROAP}""#), ""), ss);
    assert_ne!(ns, ss);
    let open_part = ss.trim_end_matches("</meteringReport>");
    assert!(String::from_utf8(bytes).unwrap().contains(open_part));
}

#[test]
fn hostile_inputs_map_to_roap_status() {
    let cases: Vec<(Vec<u8>, Status)> = vec![
        (b"\x00\x01garbage".to_vec(), Status::MalformedRequest),
        (
            b"<roap:x xmlns:roap='urn:oma:bac:dldrm:roap-1.0'/>".to_vec(),
            Status::UnknownRequest,
        ),
        (
            b"<joinDomainResponse status='Success'/>".to_vec(),
            Status::UnknownRequest,
        ),
        (
            format!("<roap:joinDomainResponse xmlns:roap='{ROAP}' status='Bogus'/>").into_bytes(),
            Status::MalformedRequest,
        ),
        (
            format!("<roap:leaveDomainResponse xmlns:roap='{ROAP}'/>").into_bytes(),
            Status::MalformedRequest,
        ),
        (b"<a>".repeat(10_000), Status::MalformedRequest),
    ];
    for (input, status) in cases {
        let e = Pdu::decode(&input).unwrap_err();
        assert_eq!(e.status(), status, "{e}");
        assert!(e.is_fatal());
    }

    let good = Pdu::JoinDomainRequest(JoinDomainRequest(join_request())).encode();
    let good = String::from_utf8(good).unwrap();
    // Missing mandatory <nonce>.
    let missing = good.replace("<nonce>+/v7</nonce>", "");
    let e = Pdu::decode(missing.as_bytes()).unwrap_err();
    assert!(
        matches!(&e, PduError::Missing { element, .. } if element == "nonce"),
        "{e}"
    );
    assert_eq!(e.status(), Status::MalformedRequest);
    // Bad base64.
    let bad = good.replace("<nonce>+/v7</nonce>", "<nonce>+/v*</nonce>");
    let e = Pdu::decode(bad.as_bytes()).unwrap_err();
    assert_eq!(e, PduError::BadBase64("nonce".into()));
    assert_eq!(e.status(), Status::MalformedRequest);
    // Unknown critical extension.
    let crit = good.replace(
        r#"critical="false" xsi:type="roap:HashChainSupport""#,
        r#"critical="true" xsi:type="roap:Teleport""#,
    );
    assert_eq!(
        Pdu::decode(crit.as_bytes()).unwrap_err().status(),
        Status::UnknownCriticalExtension
    );
    // Unknown non-critical extension is ignored (ROAP §5.4.2).
    let noncrit = good.replace(
        r#"xsi:type="roap:HashChainSupport""#,
        r#"xsi:type="roap:Teleport""#,
    );
    let Pdu::JoinDomainRequest(r) = Pdu::decode(noncrit.as_bytes()).unwrap() else {
        panic!()
    };
    assert!(r.0.extensions.is_empty());
    // Out-of-order children and bad dates.
    let swapped = good
        .replace("<time>1970-01-02T00:00:00Z</time>", "")
        .replace(
            "</domainID>",
            "</domainID><time>1970-01-02T00:00:00Z</time>",
        );
    assert_eq!(
        Pdu::decode(swapped.as_bytes()).unwrap_err().status(),
        Status::MalformedRequest
    );
    let baddate = good.replace("1970-01-02T00:00:00Z", "1970-02-30T00:00:00Z");
    assert_eq!(
        Pdu::decode(baddate.as_bytes()).unwrap_err().status(),
        Status::MalformedRequest
    );
    // Wrong namespace on the root.
    let wrongns = good.replace(ROAP, "urn:example:other");
    assert_eq!(
        Pdu::decode(wrongns.as_bytes()).unwrap_err().status(),
        Status::UnknownRequest
    );
}

#[test]
fn signed_bytes_and_digest_ignore_only_the_authenticator() {
    for k in 0..ALL_KINDS.len() {
        let mut rng = ChaCha8Rng::seed_from_u64(99 + k as u64);
        let pdu = random_pdu(k, &mut rng);
        let mut cleared = pdu.clone();
        cleared.clear_authenticator();
        assert_eq!(pdu.signed_bytes(), cleared.signed_bytes(), "{}", pdu.kind());
        assert_eq!(pdu.symbolic_digest(), cleared.symbolic_digest());
        if let Some(a) = pdu.authenticator() {
            let s = String::from_utf8(pdu.signed_bytes()).unwrap();
            let root_end = s.rfind("</").unwrap();
            assert!(
                !s[..root_end].ends_with(&format!("</{a}>")),
                "{}",
                pdu.kind()
            );
        }
    }
    // A changed field changes the digest; the digest is a fixed function of the fields.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let Pdu::MeteringReportSubmit(mut m) = random_pdu(10, &mut rng) else {
        panic!()
    };
    let d1 = Pdu::MeteringReportSubmit(m.clone()).symbolic_digest();
    m.nonce[0] ^= 1;
    let d2 = Pdu::MeteringReportSubmit(m.clone()).symbolic_digest();
    assert_ne!(d1, d2);
    assert_eq!(d2, Pdu::MeteringReportSubmit(m).symbolic_digest());
}

#[test]
fn estimated_size_is_close_to_encoded_size() {
    let mut worst: f64 = 0.0;
    for (k, name) in ALL_KINDS.iter().enumerate() {
        let (mut real_sum, mut est_sum) = (0.0, 0.0);
        for seed in 0..20u64 {
            let pdu = random_pdu(k, &mut ChaCha8Rng::seed_from_u64(seed));
            let real = pdu.encode().len() as f64;
            let est = pdu.estimated_size_bytes() as f64;
            let err = (est - real).abs() / real;
            worst = worst.max(err);
            assert!(
                err < 0.45,
                "{} seed {seed}: est {est} real {real}",
                pdu.kind()
            );
            real_sum += real;
            est_sum += est;
        }
        let ratio = est_sum / real_sum;
        assert!(
            (0.85..=1.15).contains(&ratio),
            "{name}: mean ratio {ratio:.2}"
        );
    }
    eprintln!("worst relative size-estimate error: {worst:.3}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decode_encode_round_trips_every_kind(kind in 0usize..33, seed in any::<u64>()) {
        let pdu = random_pdu(kind, &mut ChaCha8Rng::seed_from_u64(seed));
        let bytes = pdu.encode();
        prop_assert_eq!(Pdu::decode(&bytes).unwrap(), pdu);
    }

    #[test]
    fn mutated_pdus_never_panic(kind in 0usize..33, seed in any::<u64>(), pos in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
        let mut bytes = random_pdu(kind, &mut ChaCha8Rng::seed_from_u64(seed)).encode();
        let p = pos % bytes.len();
        if cut { bytes.truncate(p) } else { bytes[p] = byte }
        if let Err(e) = Pdu::decode(&bytes) {
            prop_assert!(e.is_fatal());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Pdu::decode(&bytes);
    }
}

#[test]
fn signable_impls_cover_content_but_not_the_authenticator() {
    use sim_core::crypto::Signable;
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let pdu = random_pdu(16, &mut rng);
    assert_eq!(Signable::signed_bytes(&pdu), pdu.signed_bytes());
    assert_eq!(Signable::symbolic_digest(&pdu), pdu.symbolic_digest());
    let Pdu::MoveUserDomainConstrainedRoResponse(mut r) =
        random_pdu(16, &mut ChaCha8Rng::seed_from_u64(4))
    else {
        panic!()
    };
    if r.ri_authorizations.is_empty() {
        let Pdu::MoveUserDomainConstrainedRoRequest(q) = random_pdu(15, &mut rng) else {
            panic!()
        };
        r.ri_authorizations = q.source_authorizations;
    }
    let mut a = r.ri_authorizations[0].clone();
    let (b1, d1) = (a.signed_bytes(), Signable::symbolic_digest(&a));
    assert!(!String::from_utf8(b1.clone())
        .unwrap()
        .contains("<signature>"));
    a.signature = vec![9; 9];
    assert_eq!(
        (a.signed_bytes(), Signable::symbolic_digest(&a)),
        (b1.clone(), d1)
    );
    a.not_before = DateTime::from_unix_s(a.not_before.unix_s ^ 1);
    assert_ne!(a.signed_bytes(), b1);
    assert_ne!(Signable::symbolic_digest(&a), d1);
    // Transcript as Signable equals the free function.
    let Pdu::DeviceHello(dh) = random_pdu(0, &mut rng) else {
        panic!()
    };
    let Pdu::RiHello(rh) = random_pdu(1, &mut rng) else {
        panic!()
    };
    let Pdu::RegistrationRequest(req) = random_pdu(2, &mut rng) else {
        panic!()
    };
    let t = RegistrationTranscript {
        device_hello: &dh,
        ri_hello: &rh,
        request: &req,
        response: None,
    };
    assert_eq!(
        t.signed_bytes(),
        registration_transcript(&dh, &rh, &req, None)
    );
    let est = t.signed_len() as f64;
    let real = t.signed_bytes().len() as f64;
    assert!((est - real).abs() / real < 0.3, "{est} vs {real}");
}

#[test]
fn rights_with_count_move_system_and_user_domain_match_hand_written_xml() {
    use sim_core::pdu::ro::*;
    let rights = Rights {
        uid: "REL1".into(),
        assets: vec![Asset {
            content_id: "cid:a".into(),
            dcf_hash: Some(vec![0; 3]),
        }],
        permissions: vec![
            Permission {
                action: Action::Play,
                constraints: vec![Constraint::Count(3)],
            },
            Permission {
                action: Action::Move,
                constraints: vec![Constraint::System(vec!["urn:sce:move-via-ri".into()])],
            },
        ],
        user_domains: vec!["UD1".into()],
        move_indication: vec!["RI-1".into()],
    };
    let oex = r#"xmlns:o-ex="http://odrl.net/1.1/ODRL-EX""#;
    let odd = r#"xmlns:o-dd="http://odrl.net/1.1/ODRL-DD""#;
    let oma = r#"xmlns:oma-dd="http://www.openmobilealliance.com/oma-dd""#;
    let ds = r#"xmlns:ds="http://www.w3.org/2000/09/xmldsig#""#;
    let expected = format!(
        concat!(
            "<rights><o-ex:context {oex}><o-dd:version {odd}>2.0</o-dd:version><o-dd:uid {odd}>REL1</o-dd:uid></o-ex:context>",
            "<o-ex:agreement {oex}><o-ex:asset><o-ex:context><o-dd:uid {odd}>cid:a</o-dd:uid></o-ex:context>",
            r#"<o-ex:digest><ds:DigestMethod {ds} Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"></ds:DigestMethod><ds:DigestValue {ds}>AAAA</ds:DigestValue></o-ex:digest></o-ex:asset>"#,
            "<o-ex:permission><o-ex:constraint><oma-dd:userDomain {oma}>UD1</oma-dd:userDomain></o-ex:constraint>",
            "<o-dd:play {odd}><o-ex:constraint><o-dd:count>3</o-dd:count></o-ex:constraint></o-dd:play>",
            "<oma-dd:move {oma}><o-ex:constraint><oma-dd:system><o-ex:context><o-dd:uid {odd}>urn:sce:move-via-ri</o-dd:uid></o-ex:context></oma-dd:system></o-ex:constraint></oma-dd:move>",
            "</o-ex:permission><oma-dd:moveIndication {oma}><o-dd:uid {odd}>RI-1</o-dd:uid></oma-dd:moveIndication></o-ex:agreement></rights>"
        ),
        oex = oex,
        odd = odd,
        oma = oma,
        ds = ds
    );
    let got = String::from_utf8(sim_core::pdu::canonicalize(&rights.to_element())).unwrap();
    assert_eq!(got, expected);
    let back =
        Rights::from_element(&sim_core::pdu::parse_element(expected.as_bytes()).unwrap()).unwrap();
    assert_eq!(back, rights);
    assert!(rights.is_stateful(), "count is stateful");
    assert_eq!(
        rights.move_permission().unwrap().constraints,
        vec![Constraint::System(vec!["urn:sce:move-via-ri".into()])]
    );
}

#[test]
fn proxy_leave_trigger_matches_hand_written_xml() {
    let pdu =
        Pdu::ProxyLeaveUserDomainTrigger(sim_core::pdu::trigger::ProxyLeaveUserDomainTrigger {
            id: None,
            res_id: id(8),
            res_alias: None,
            nonce: vec![0; 3],
            req_url: "https://ri.example/sce".into(),
            domain_id: "UD1".into(),
            device_ids: vec![id(9)],
            signature: None,
        });
    let expected = format!(
        concat!(
            r#"<gen:trigger xmlns:gen="urn:oma:xml:sce:gen-1.0" type="rdpProxyLeaveUserDomain" version="1.0">"#,
            "{}<nonce>AAAA</nonce><reqURL>https://ri.example/sce</reqURL>",
            "<body><trgInfo><domainID>UD1</domainID>{}</trgInfo></body></gen:trigger>"
        ),
        id_xml("resID", 8),
        id_xml("deviceID", 9)
    );
    assert_eq!(String::from_utf8(pdu.encode()).unwrap(), expected);
    assert_eq!(Pdu::decode(expected.as_bytes()).unwrap(), pdu);
    let other = expected.replace("rdpProxyLeaveUserDomain", "somethingElse");
    assert_eq!(
        Pdu::decode(other.as_bytes()).unwrap_err().status(),
        Status::MalformedRequest
    );
}
