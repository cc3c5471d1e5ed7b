//! PKI integration tests: issuance in both modes, chain validation (revoked, wrong purpose,
//! untrusted root, forged issuer, expiry), OCSP, and real-mode DER round trips.

use std::sync::OnceLock;

use der::{Decode, Encode};
use sim_core::crypto::primitives::sha1;
use sim_core::crypto::{
    Crypto, CryptoMode, GeneratingKeySource, KeySource, KeySpec, OpCounter, PrivateKey,
};
use sim_core::engine::time::SimTime;
use sim_core::pki::{
    key_hash, name_hash, CertId, CertRequest, CertStatus, Certificate, CertificateAuthority,
    ChainError, KeyPurpose, OcspResponder, OcspResponse, PurposeRule, Revocation, RevocationList,
    TrustStore,
};

const SEED: u64 = 7;
const OWNERS: [&str; 8] = [
    "ca/root",
    "ca/sub",
    "device/1",
    "device/sce",
    "ri/1",
    "ocsp/1",
    "ca/rogue",
    "device/2",
];

fn source() -> &'static GeneratingKeySource {
    static SRC: OnceLock<GeneratingKeySource> = OnceLock::new();
    SRC.get_or_init(GeneratingKeySource::new)
}

fn key(crypto: &Crypto, owner: &str) -> PrivateKey {
    assert!(OWNERS.contains(&owner));
    let src: &dyn KeySource = source();
    crypto
        .key_pair(src, &KeySpec::new(SEED, owner, 1024))
        .unwrap()
}

fn t(secs: u64) -> SimTime {
    SimTime::from_secs(secs)
}

struct World {
    crypto: Crypto,
    root: CertificateAuthority,
    sub: CertificateAuthority,
    device: Certificate,
    sce_device: Certificate,
    ri: Certificate,
    ocsp: OcspResponder,
    trust: TrustStore,
}

fn req(subject: &str, k: &PrivateKey, purposes: &[KeyPurpose]) -> CertRequest {
    CertRequest {
        subject: subject.into(),
        public_key: k.public().clone(),
        purposes: purposes.to_vec(),
        not_before: t(0),
        not_after: t(1_000_000),
    }
}

fn world(mode: CryptoMode) -> World {
    let crypto = Crypto::new(mode, SEED);
    let mut ops = OpCounter::new();
    let mut root = CertificateAuthority::new_root(
        &crypto,
        &mut ops,
        "ca/root",
        key(&crypto, "ca/root"),
        t(0),
        SimTime::MAX,
    )
    .unwrap();
    let mut sub = root
        .issue_sub_ca(
            &crypto,
            &mut ops,
            "ca/sub",
            key(&crypto, "ca/sub"),
            t(0),
            t(2_000_000),
        )
        .unwrap();
    let dk = key(&crypto, "device/1");
    let device = sub
        .issue(
            &crypto,
            &mut ops,
            &req("device/1", &dk, &[KeyPurpose::DrmAgent]),
        )
        .unwrap();
    let sk = key(&crypto, "device/sce");
    let sce_device = sub
        .issue(
            &crypto,
            &mut ops,
            &req(
                "device/sce",
                &sk,
                &[KeyPurpose::SceDrmAgent, KeyPurpose::DrmAgent],
            ),
        )
        .unwrap();
    let rk = key(&crypto, "ri/1");
    let ri = root
        .issue(
            &crypto,
            &mut ops,
            &req("ri/1", &rk, &[KeyPurpose::RightsIssuer]),
        )
        .unwrap();
    let ok = key(&crypto, "ocsp/1");
    let ocsp_cert = root
        .issue(
            &crypto,
            &mut ops,
            &req("ocsp/1", &ok, &[KeyPurpose::OcspSigning]),
        )
        .unwrap();
    let mut trust = TrustStore::new();
    trust
        .add_root(&crypto, &mut ops, root.certificate().clone())
        .unwrap();
    trust
        .add_ocsp_responder(&crypto, &mut ops, std::slice::from_ref(&ocsp_cert), t(10))
        .unwrap();
    World {
        crypto,
        root,
        sub,
        device,
        sce_device,
        ri,
        ocsp: OcspResponder::new(ocsp_cert, ok),
        trust,
    }
}

const MODES: [CryptoMode; 2] = [CryptoMode::Real, CryptoMode::Symbolic];

#[test]
fn valid_chains_validate_in_both_modes() {
    for mode in MODES {
        let w = world(mode);
        let mut ops = OpCounter::new();
        let dev_chain = [w.device.clone(), w.sub.certificate().clone()];
        w.trust
            .validate(
                &w.crypto,
                &mut ops,
                &dev_chain,
                t(100),
                PurposeRule::V2_DRM_AGENT,
                Revocation::NotChecked,
            )
            .unwrap();
        // A trailing copy of the trusted root is tolerated.
        let with_root = [
            w.device.clone(),
            w.sub.certificate().clone(),
            w.root.certificate().clone(),
        ];
        w.trust
            .validate(
                &w.crypto,
                &mut ops,
                &with_root,
                t(100),
                PurposeRule::DRM_AGENT,
                Revocation::NotChecked,
            )
            .unwrap();
        w.trust
            .validate(
                &w.crypto,
                &mut ops,
                std::slice::from_ref(&w.ri),
                t(100),
                PurposeRule::RIGHTS_ISSUER,
                Revocation::NotChecked,
            )
            .unwrap();
        // Each certificate signature check is one RSA verification.
        assert!(ops.totals().rsa_verify >= 5, "{mode:?}");
        assert_eq!(w.device.issuer(), "ca/sub");
        assert!(w.sub.certificate().is_ca() && !w.device.is_ca());
        assert!(
            w.device.encoded_len() > 400,
            "{mode:?}: {}",
            w.device.encoded_len()
        );
    }
}

#[test]
fn chain_errors_map_onto_roap_statuses() {
    for mode in MODES {
        let w = world(mode);
        let mut ops = OpCounter::new();
        let v = |chain: &[Certificate], now: SimTime, rule: PurposeRule, rev: Revocation<'_>| {
            w.trust
                .validate(&w.crypto, &mut OpCounter::new(), chain, now, rule, rev)
        };
        let dev_chain = [w.device.clone(), w.sub.certificate().clone()];

        let e = v(&[], t(1), PurposeRule::ANY, Revocation::NotChecked).unwrap_err();
        assert_eq!(e, ChainError::Empty);
        assert_eq!(e.roap_status(), "NoCertificateChain");

        // Missing intermediate: the issuer "ca/sub" is not a trusted root.
        let e = v(
            &dev_chain[..1],
            t(1),
            PurposeRule::ANY,
            Revocation::NotChecked,
        )
        .unwrap_err();
        assert!(
            matches!(e, ChainError::UntrustedRoot { index: 0, .. }),
            "{e:?}"
        );
        assert_eq!(e.roap_status(), "TrustedRootCertificateNotPresent");

        // Wrong purpose: an SCE DRM Agent is not acceptable as a v2.x agent (seed 000 §7.4.1).
        let sce_chain = [w.sce_device.clone(), w.sub.certificate().clone()];
        let e = v(
            &sce_chain,
            t(1),
            PurposeRule::V2_DRM_AGENT,
            Revocation::NotChecked,
        )
        .unwrap_err();
        assert!(matches!(e, ChainError::WrongPurpose { .. }), "{e:?}");
        assert_eq!(e.roap_status(), "InvalidCertificateChain");
        v(
            &sce_chain,
            t(1),
            PurposeRule::SCE_DRM_AGENT,
            Revocation::NotChecked,
        )
        .unwrap();
        let e = v(
            &dev_chain,
            t(1),
            PurposeRule::RIGHTS_ISSUER,
            Revocation::NotChecked,
        )
        .unwrap_err();
        assert!(matches!(e, ChainError::WrongPurpose { .. }));

        // Revoked (authoritative list): revocation counts from its time on.
        let mut list = RevocationList::new();
        assert!(list.revoke(&w.device, t(50)));
        v(&dev_chain, t(49), PurposeRule::ANY, Revocation::List(&list)).unwrap();
        let e = v(&dev_chain, t(50), PurposeRule::ANY, Revocation::List(&list)).unwrap_err();
        assert_eq!(
            e,
            ChainError::Revoked {
                index: 0,
                serial: w.device.serial()
            }
        );
        assert_eq!(e.roap_status(), "InvalidCertificateChain");

        // Expiry and not-yet-valid.
        let e = v(
            &dev_chain,
            t(1_000_001),
            PurposeRule::ANY,
            Revocation::NotChecked,
        )
        .unwrap_err();
        assert_eq!(e, ChainError::Expired { index: 0 });

        // A rogue CA using the trusted root's name: its certificate's signature fails.
        let mut rogue = CertificateAuthority::new_root(
            &w.crypto,
            &mut ops,
            "ca/root",
            key(&w.crypto, "ca/rogue"),
            t(0),
            SimTime::MAX,
        )
        .unwrap();
        let k2 = key(&w.crypto, "device/2");
        let forged = rogue
            .issue(
                &w.crypto,
                &mut ops,
                &req("device/2", &k2, &[KeyPurpose::DrmAgent]),
            )
            .unwrap();
        let e = v(&[forged], t(1), PurposeRule::ANY, Revocation::NotChecked).unwrap_err();
        assert_eq!(e, ChainError::BadSignature { index: 0 });
        assert_eq!(e.roap_status(), "InvalidCertificateChain");

        // Wrong order: issuer mismatch.
        let e = v(
            &[w.sub.certificate().clone(), w.device.clone()],
            t(1),
            PurposeRule::ANY,
            Revocation::NotChecked,
        )
        .unwrap_err();
        assert_eq!(e, ChainError::IssuerMismatch { index: 0 });
    }
}

#[test]
fn ocsp_good_revoked_stale_nonce_and_tampering() {
    for mode in MODES {
        let w = world(mode);
        let mut ops = OpCounter::new();
        let mut list = RevocationList::new();
        let nonce = b"n0nce-0123456789".to_vec();
        let now = t(100);
        let max_age_ns = 60 * 1_000_000_000;
        let ri_chain = [w.ri.clone()];
        let good = w
            .ocsp
            .respond(
                &w.crypto,
                &mut ops,
                &list,
                &w.ri,
                w.root.certificate(),
                now,
                Some(&nonce),
            )
            .unwrap();
        assert_eq!(good.status, CertStatus::Good);
        let ocsp = |resps: &[sim_core::pki::OcspResponse], at: SimTime, n: Option<&[u8]>| {
            w.trust.validate(
                &w.crypto,
                &mut OpCounter::new(),
                &ri_chain,
                at,
                PurposeRule::RIGHTS_ISSUER,
                Revocation::Ocsp {
                    responses: resps,
                    max_age_ns,
                    nonce: n,
                },
            )
        };
        ocsp(std::slice::from_ref(&good), now, Some(&nonce)).unwrap();
        // Stale, wrong nonce, missing.
        assert!(matches!(
            ocsp(std::slice::from_ref(&good), t(161), Some(&nonce)),
            Err(ChainError::RevocationUnknown { .. })
        ));
        assert!(matches!(
            ocsp(std::slice::from_ref(&good), now, Some(b"other")),
            Err(ChainError::RevocationUnknown { .. })
        ));
        assert!(matches!(
            ocsp(&[], now, None),
            Err(ChainError::RevocationUnknown { .. })
        ));
        // Revoked.
        list.revoke(&w.ri, t(90));
        let revoked = w
            .ocsp
            .respond(
                &w.crypto,
                &mut ops,
                &list,
                &w.ri,
                w.root.certificate(),
                now,
                Some(&nonce),
            )
            .unwrap();
        assert_eq!(revoked.status, CertStatus::Revoked { at: t(90) });
        let e = ocsp(std::slice::from_ref(&revoked), now, Some(&nonce)).unwrap_err();
        assert!(matches!(e, ChainError::Revoked { index: 0, .. }));
        assert_eq!(e.roap_status(), "InvalidCertificateChain");
        // An attacker flipping the status to Good breaks the responder signature.
        let mut flipped = revoked.clone();
        flipped.status = CertStatus::Good;
        assert!(matches!(
            ocsp(&[flipped], now, Some(&nonce)),
            Err(ChainError::RevocationUnknown { .. })
        ));
        // A response signed by an untrusted key (the RI signing about itself) is rejected.
        let self_signed = OcspResponder::new(w.ri.clone(), key(&w.crypto, "ri/1"))
            .respond(
                &w.crypto,
                &mut ops,
                &RevocationList::new(),
                &w.ri,
                w.root.certificate(),
                now,
                Some(&nonce),
            )
            .unwrap();
        assert!(matches!(
            ocsp(&[self_signed], now, Some(&nonce)),
            Err(ChainError::RevocationUnknown { .. })
        ));
    }
}

#[test]
fn real_certificate_parses_back_and_spki_hash_is_device_id() {
    let w = world(CryptoMode::Real);
    let der_bytes = w.device.der().unwrap();
    let parsed = x509_cert::Certificate::from_der(der_bytes).unwrap();
    let spki = parsed
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    assert_eq!(sha1(&spki), w.device.key_id().0);
    assert_eq!(
        parsed.tbs_certificate.version,
        x509_cert::certificate::Version::V3
    );
    // The extended key usage carries the OMA DRM agent purpose OID.
    let eku_oid = der::oid::ObjectIdentifier::new_unwrap("2.5.29.37");
    let ext = parsed
        .tbs_certificate
        .extensions
        .as_ref()
        .unwrap()
        .iter()
        .find(|e| e.extn_id == eku_oid)
        .unwrap();
    let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(ext.extn_value.as_bytes()).unwrap();
    assert_eq!(eku.0, vec![KeyPurpose::DrmAgent.oid()]);
    // sha256WithRSAEncryption.
    assert_eq!(
        parsed.signature_algorithm.oid.to_string(),
        "1.2.840.113549.1.1.11"
    );
    // Our own parser gives back an equal certificate.
    let back = Certificate::from_der(der_bytes).unwrap();
    assert_eq!(back, w.device);
    assert_eq!(back.not_after(), t(1_000_000));
    let root_back = Certificate::from_der(w.root.certificate().der().unwrap()).unwrap();
    assert_eq!(root_back.not_after(), SimTime::MAX);
    assert!(root_back.is_ca());
    // PEM export.
    let pem = w.device.to_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    // Hostile input never panics.
    assert!(Certificate::from_der(&der_bytes[..der_bytes.len() / 2]).is_err());
    assert!(Certificate::from_der(b"\x30\x03\x02\x01\x01").is_err());
    assert!(Certificate::from_der(&[]).is_err());
}

#[test]
fn symbolic_certificates_have_no_der_and_realistic_size() {
    let w = world(CryptoMode::Symbolic);
    assert!(w.device.der().is_none());
    assert!(w.device.to_pem().is_err());
    // Symbolic and real certificates for the same request have similar wire sizes.
    let real = world(CryptoMode::Real);
    let (a, b) = (
        w.device.encoded_len() as f64,
        real.device.encoded_len() as f64,
    );
    assert!((a / b - 1.0).abs() < 0.35, "symbolic {a} vs real {b}");
}

#[test]
fn certificate_digest_distinguishes_certificates() {
    let w = world(CryptoMode::Symbolic);
    let d = sim_core::crypto::digest_of(&vec![w.device.clone(), w.sub.certificate().clone()]);
    assert_eq!(
        d,
        sim_core::crypto::digest_of(&vec![w.device.clone(), w.sub.certificate().clone()])
    );
    assert_ne!(
        d,
        sim_core::crypto::digest_of(&vec![w.sce_device.clone(), w.sub.certificate().clone()])
    );
}

/// RFC 6960 DER on the wire: the response parses as a BasicOCSPResponse, round-trips, and a
/// change of any single byte is either refused by the decoder or breaks validation; a
/// response about a sub-CA-issued certificate carries that sub-CA's name and key hashes.
#[test]
fn ocsp_responses_are_rfc6960_der_and_one_byte_changes_fail() {
    for mode in MODES {
        let w = world(mode);
        let mut ops = OpCounter::new();
        let list = RevocationList::new();
        let nonce = b"nonce-1234567890".to_vec();
        let now = SimTime::from_ns(100_700_000_000);
        let sub = w.sub.certificate().clone();
        let chain = [w.device.clone(), sub.clone()];
        let dev = w
            .ocsp
            .respond(
                &w.crypto,
                &mut ops,
                &list,
                &w.device,
                &sub,
                now,
                Some(&nonce),
            )
            .unwrap();
        let subr = w
            .ocsp
            .respond(
                &w.crypto,
                &mut ops,
                &list,
                &sub,
                w.root.certificate(),
                now,
                None,
            )
            .unwrap();
        // producedAt is GeneralizedTime: whole seconds.
        assert_eq!(dev.produced_at, t(100));
        assert_eq!(dev.cert_id, CertId::of(&w.device, &sub));
        assert_eq!(dev.cert_id.issuer_name_hash, name_hash("ca/sub"));
        assert_eq!(dev.cert_id.issuer_key_hash, key_hash(sub.public_key()));
        let der_bytes = dev.to_der().unwrap();
        // Independent parse with the x509-ocsp types.
        let outer = x509_ocsp::OcspResponse::from_der(&der_bytes).unwrap();
        assert_eq!(
            outer.response_status,
            x509_ocsp::OcspResponseStatus::Successful
        );
        let rb = outer.response_bytes.unwrap();
        assert_eq!(rb.response_type.to_string(), "1.3.6.1.5.5.7.48.1.1");
        let basic = x509_ocsp::BasicOcspResponse::from_der(rb.response.as_bytes()).unwrap();
        assert_eq!(
            basic.signature_algorithm.oid.to_string(),
            "1.2.840.113549.1.1.10"
        );
        assert_eq!(basic.nonce().unwrap().0.as_bytes(), nonce.as_slice());
        assert_eq!(basic.tbs_response_data.responses.len(), 1);
        assert_eq!(
            basic.tbs_response_data.to_der().unwrap(),
            dev.response_data_der().unwrap()
        );
        assert_eq!(OcspResponse::from_der(&der_bytes).unwrap(), dev);
        assert_eq!(dev.encoded_len(), der_bytes.len());
        let validate = |resps: &[OcspResponse]| {
            w.trust.validate(
                &w.crypto,
                &mut OpCounter::new(),
                &chain,
                now,
                PurposeRule::V2_DRM_AGENT,
                Revocation::Ocsp {
                    responses: resps,
                    max_age_ns: 60_000_000_000,
                    nonce: Some(&nonce),
                },
            )
        };
        validate(&[dev.clone(), subr.clone()]).unwrap();
        // The device's response does not vouch for the sub-CA.
        assert!(validate(std::slice::from_ref(&dev)).is_err());
        // A response naming the right serial but the wrong issuer key is not about the device.
        let mut wrong_issuer = dev.clone();
        wrong_issuer.cert_id.issuer_key_hash = key_hash(w.root.certificate().public_key());
        assert!(validate(&[wrong_issuer, subr.clone()]).is_err());
        let mut changed = 0;
        for i in 0..der_bytes.len() {
            let mut b = der_bytes.clone();
            b[i] ^= 0x01;
            if let Ok(r) = OcspResponse::from_der(&b) {
                changed += 1;
                assert!(
                    validate(&[r, subr.clone()]).is_err(),
                    "{mode:?}: flipping byte {i} still validates"
                );
            }
        }
        assert!(
            changed > 50,
            "most single-byte changes still decode ({changed})"
        );
        for cut in 0..der_bytes.len() {
            assert!(OcspResponse::from_der(&der_bytes[..cut]).is_err());
        }
    }
}
