//! Crypto facade integration tests: vectors, tamper detection in both modes, symbolic
//! unforgeability through the API, deterministic key generation and cost accounting.

use std::sync::OnceLock;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rsa::traits::PublicKeyParts;
use sim_core::crypto::primitives::{aes_unwrap, aes_wrap, hmac_sha1, kdf2_sha1};
use sim_core::crypto::{
    generate_rsa, Crypto, CryptoError, CryptoMode, GeneratingKeySource, KeySpec, MacAlg, Op,
    OpCounter, PrivateKey, SigAlg, SymKey,
};

const SEED: u64 = 42;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// Real 1024-bit keys generated once per test binary (keygen is slow in debug builds).
pub fn real_keys() -> &'static [PrivateKey] {
    static KEYS: OnceLock<Vec<PrivateKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        ["alice", "bob", "ca/root", "ri/1"]
            .iter()
            .map(|o| generate_rsa(&KeySpec::new(SEED, *o, 1024)).unwrap())
            .collect()
    })
}

/// Two key pairs and a facade for `mode`.
fn setup(mode: CryptoMode) -> (Crypto, PrivateKey, PrivateKey) {
    let crypto = Crypto::new(mode, SEED);
    match mode {
        CryptoMode::Real => (crypto, real_keys()[0].clone(), real_keys()[1].clone()),
        CryptoMode::Symbolic => {
            let src = GeneratingKeySource::new();
            let a = crypto
                .key_pair(&src, &KeySpec::new(SEED, "alice", 1024))
                .unwrap();
            let b = crypto
                .key_pair(&src, &KeySpec::new(SEED, "bob", 1024))
                .unwrap();
            (crypto, a, b)
        }
    }
}

const MODES: [CryptoMode; 2] = [CryptoMode::Real, CryptoMode::Symbolic];

#[test]
fn rfc3394_section_4_1_vector() {
    // RFC 3394 §4.1: wrap 128 bits of key data with a 128-bit KEK.
    let kek = SymKey::from_slice(&h("000102030405060708090A0B0C0D0E0F")).unwrap();
    let data = h("00112233445566778899AABBCCDDEEFF");
    let expected = h("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5");
    assert_eq!(aes_wrap(&kek, &data).unwrap(), expected);
    assert_eq!(aes_unwrap(&kek, &expected).unwrap(), data);
    let crypto = Crypto::new(CryptoMode::Real, SEED);
    let mut ops = OpCounter::new();
    assert_eq!(crypto.wrap(&mut ops, &kek, &data).unwrap(), expected);
    assert_eq!(crypto.unwrap(&mut ops, &kek, &expected).unwrap(), data);
    let mut bad = expected.clone();
    bad[23] ^= 1;
    assert_eq!(aes_unwrap(&kek, &bad), Err(CryptoError::UnwrapFailed));
}

#[test]
fn kdf2_sha1_matches_independent_computation() {
    // Expected values computed once with Python hashlib:
    //   def kdf2(z, n): out=b''; c=1
    //     while len(out)<n: out+=hashlib.sha1(z+c.to_bytes(4,'big')).digest(); c+=1
    //     return out[:n]
    assert_eq!(
        kdf2_sha1(&(0u8..32).collect::<Vec<_>>(), 16),
        h("a98ffb7caef3bd518fb7bc1b6cc89dbd")
    );
    assert_eq!(
        kdf2_sha1(b"drmsim", 45),
        h("b7b97a9b9d942fbffcaa06aff0ccf8579479bb196292fdc8393d4c9bc2966cee8797864b48fc5608e64a9bb7d0")
    );
}

#[test]
fn udk_hash_chain_matches_independent_computation() {
    // Python: k = bytes(16); 3 times k = kdf2(k, 16)  -> 3c631b96...
    let crypto = Crypto::new(CryptoMode::Symbolic, SEED);
    let mut ops = OpCounter::new();
    let newest = SymKey([0u8; 16]);
    let g2 = crypto.udk_previous(&mut ops, &newest);
    assert_eq!(g2.0.to_vec(), h("9a8f128265e48cf2cb691b4cefccc055"));
    let g0 = crypto.udk_for_generation(&mut ops, &newest, 3, 0).unwrap();
    assert_eq!(g0.0.to_vec(), h("3c631b9651bd77000ff8d8fde067e4bb"));
    assert_eq!(
        crypto.udk_for_generation(&mut ops, &newest, 3, 3).unwrap(),
        newest
    );
    assert_eq!(
        crypto.udk_for_generation(&mut ops, &newest, 3, 4),
        Err(CryptoError::GenerationOutOfRange {
            requested: 4,
            newest: 3
        })
    );
}

#[test]
fn hmac_sha1_matches_independent_computation() {
    // Python: hmac.new(bytes(range(16)), b'roap message', hashlib.sha1).hexdigest()
    let key: Vec<u8> = (0u8..16).collect();
    assert_eq!(
        hmac_sha1(&key, b"roap message").to_vec(),
        h("3652311268c757325385a078c67bb9891365ad3b")
    );
    let crypto = Crypto::new(CryptoMode::Real, SEED);
    let k = SymKey::from_slice(&key).unwrap();
    let tag = crypto.mac(
        &mut OpCounter::new(),
        &k,
        MacAlg::HmacSha1,
        &b"roap message"[..],
    );
    assert_eq!(tag, h("3652311268c757325385a078c67bb9891365ad3b"));
}

#[test]
fn signature_fails_when_one_byte_changes_in_both_modes() {
    for mode in MODES {
        for alg in [SigAlg::RsaPssSha1, SigAlg::RsaPssSha256] {
            let (crypto, a, b) = setup(mode);
            let mut ops = OpCounter::new();
            let msg = b"<roap:registrationRequest>...</roap:registrationRequest>".to_vec();
            let sig = crypto.sign(&mut ops, &a, alg, &msg).unwrap();
            assert_eq!(sig.len(), 128, "{mode:?}: 1024-bit signature length");
            crypto
                .verify(&mut ops, a.public(), alg, &msg, &sig)
                .unwrap();
            let mut tampered = msg.clone();
            tampered[10] ^= 0x01;
            assert_eq!(
                crypto.verify(&mut ops, a.public(), alg, &tampered, &sig),
                Err(CryptoError::BadSignature),
                "{mode:?} {alg:?}"
            );
            let mut bad_sig = sig.clone();
            bad_sig[5] ^= 0x80;
            assert!(crypto
                .verify(&mut ops, a.public(), alg, &msg, &bad_sig)
                .is_err());
            assert!(crypto
                .verify(&mut ops, b.public(), alg, &msg, &sig)
                .is_err());
            assert!(crypto
                .verify(&mut ops, a.public(), alg, &msg, &sig[..64])
                .is_err());
        }
    }
}

#[test]
fn mac_fails_when_one_byte_or_key_changes_in_both_modes() {
    for mode in MODES {
        let crypto = Crypto::new(mode, SEED);
        let mut ops = OpCounter::new();
        let k = SymKey([7u8; 16]);
        let msg = b"metering report".to_vec();
        for alg in [MacAlg::HmacSha1, MacAlg::HmacSha256] {
            let tag = crypto.mac(&mut ops, &k, alg, &msg);
            assert_eq!(tag.len(), alg.tag_len());
            crypto.verify_mac(&mut ops, &k, alg, &msg, &tag).unwrap();
            let mut t = msg.clone();
            t[0] ^= 1;
            assert_eq!(
                crypto.verify_mac(&mut ops, &k, alg, &t, &tag),
                Err(CryptoError::BadMac)
            );
            assert_eq!(
                crypto.verify_mac(&mut ops, &SymKey([8u8; 16]), alg, &msg, &tag),
                Err(CryptoError::BadMac)
            );
        }
    }
}

#[test]
fn unwrap_with_wrong_key_fails_in_both_modes() {
    for mode in MODES {
        let (crypto, a, b) = setup(mode);
        let mut ops = OpCounter::new();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        // K_MAC ‖ K_REK, as in ROAP key transport.
        let km: Vec<u8> = (0u8..32).collect();
        let c = crypto
            .kem_wrap(&mut ops, &mut rng, a.public(), &km)
            .unwrap();
        assert_eq!(
            c.len(),
            128 + 40,
            "{mode:?}: C1 (k bytes) ‖ C2 (32+8 bytes)"
        );
        assert_eq!(crypto.kem_unwrap(&mut ops, &a, &c).unwrap(), km);
        assert_eq!(
            crypto.kem_unwrap(&mut ops, &b, &c),
            Err(CryptoError::UnwrapFailed),
            "{mode:?}"
        );
        let mut t1 = c.clone();
        t1[3] ^= 1;
        assert_eq!(
            crypto.kem_unwrap(&mut ops, &a, &t1),
            Err(CryptoError::UnwrapFailed),
            "{mode:?}: modified C1"
        );
        let mut t = c.clone();
        t[140] ^= 1;
        assert_eq!(
            crypto.kem_unwrap(&mut ops, &a, &t),
            Err(CryptoError::UnwrapFailed)
        );
        assert!(crypto.kem_unwrap(&mut ops, &a, &c[..100]).is_err());

        let kek = SymKey([1u8; 16]);
        let w = crypto.wrap(&mut ops, &kek, &km).unwrap();
        assert_eq!(w.len(), 40);
        assert_eq!(crypto.unwrap(&mut ops, &kek, &w).unwrap(), km);
        assert_eq!(
            crypto.unwrap(&mut ops, &SymKey([2u8; 16]), &w),
            Err(CryptoError::UnwrapFailed)
        );
        assert!(crypto.wrap(&mut ops, &kek, &km[..12]).is_err());

        let ct = crypto.cbc_encrypt(&mut ops, &mut rng, &kek, b"<meteringReport/>");
        assert_eq!(ct.len(), 16 + 32);
        assert_eq!(
            crypto.cbc_decrypt(&mut ops, &kek, &ct).unwrap(),
            b"<meteringReport/>".to_vec()
        );
        // Real CBC with a wrong key fails the padding check except with probability ~1/256
        // per key; this key is checked to fail. Symbolic CBC always fails.
        assert!(crypto
            .cbc_decrypt(&mut ops, &SymKey([2u8; 16]), &ct)
            .is_err());
    }
}

#[test]
fn symbolic_forgery_is_impossible_through_the_api() {
    let (crypto, a, b) = setup(CryptoMode::Symbolic);
    let mut ops = OpCounter::new();
    let msg = b"join domain".to_vec();
    let sig = crypto.sign(&mut ops, &a, SigAlg::RsaPssSha1, &msg).unwrap();
    // Another run's oracle (different seed) does not accept it: tags are bound to the secret.
    let other = Crypto::new(CryptoMode::Symbolic, SEED + 1);
    assert!(other
        .verify(&mut ops, a.public(), SigAlg::RsaPssSha1, &msg, &sig)
        .is_err());
    // Signing with one's own key never yields a tag valid for another key.
    let sig_b = crypto.sign(&mut ops, &b, SigAlg::RsaPssSha1, &msg).unwrap();
    assert!(crypto
        .verify(&mut ops, a.public(), SigAlg::RsaPssSha1, &msg, &sig_b)
        .is_err());
    // A signature under one algorithm does not verify under the other.
    assert!(crypto
        .verify(&mut ops, a.public(), SigAlg::RsaPssSha256, &msg, &sig)
        .is_err());
    // A MAC computed with any key is not a signature (different domain and length).
    let tag = crypto.mac(&mut ops, &SymKey([0u8; 16]), MacAlg::HmacSha1, &msg);
    assert!(crypto
        .verify(&mut ops, a.public(), SigAlg::RsaPssSha1, &msg, &tag)
        .is_err());
    // A symbolic KEM ciphertext cannot be opened with the symmetric unwrap under any
    // guessable key, only with the recipient's private key.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let c = crypto
        .kem_wrap(&mut ops, &mut rng, a.public(), &[9u8; 32])
        .unwrap();
    for guess in [[0u8; 16], [9u8; 16]] {
        assert!(crypto.unwrap(&mut ops, &SymKey(guess), &c[128..]).is_err());
    }
    // The same message signed twice gives the same tag (deterministic), and it verifies.
    assert_eq!(
        crypto.sign(&mut ops, &a, SigAlg::RsaPssSha1, &msg).unwrap(),
        sig
    );
}

#[test]
fn deterministic_key_generation() {
    let spec = KeySpec::new(SEED, "alice", 1024);
    let again = generate_rsa(&spec).unwrap();
    let first = &real_keys()[0];
    assert_eq!(
        first.public().rsa().unwrap().n(),
        again.public().rsa().unwrap().n()
    );
    assert_eq!(first.id(), again.id());
    assert_ne!(real_keys()[0].id(), real_keys()[1].id());
    assert_eq!(first.bits(), 1024);
    // Device ID = SHA-1 of the DER subjectPublicKeyInfo.
    let spki = first.public().spki_der().unwrap();
    assert_eq!(first.id().0, sim_core::crypto::primitives::sha1(spki));
    // PKCS#8 round trip keeps the key.
    let der = first.to_pkcs8_der().unwrap();
    assert_eq!(PrivateKey::from_pkcs8_der(&der).unwrap().id(), first.id());
    assert!(first
        .public()
        .to_pem()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    // Symbolic keys: same spec ⇒ same id, different owner ⇒ different id, no RSA work.
    let crypto = Crypto::new(CryptoMode::Symbolic, SEED);
    let src = GeneratingKeySource::new();
    let s1 = crypto.key_pair(&src, &spec).unwrap();
    let s2 = crypto.key_pair(&src, &spec).unwrap();
    let s3 = crypto
        .key_pair(&src, &KeySpec::new(SEED, "bob", 1024))
        .unwrap();
    assert_eq!(s1.id(), s2.id());
    assert_ne!(s1.id(), s3.id());
    assert!(s1.public().rsa().is_none());
    assert!(crypto
        .key_pair(&src, &KeySpec::new(SEED, "x", 1000))
        .unwrap_err()
        .is_fatal());
}

#[test]
fn real_mode_rejects_symbolic_keys() {
    let (_, sym_a, _) = setup(CryptoMode::Symbolic);
    let real = Crypto::new(CryptoMode::Real, SEED);
    let r = real.sign(&mut OpCounter::new(), &sym_a, SigAlg::RsaPssSha1, &b"x"[..]);
    assert_eq!(r, Err(CryptoError::SymbolicKeyInRealMode));
    assert!(r.unwrap_err().is_fatal());
}

#[test]
fn same_operations_are_counted_in_both_modes() {
    let mut logs = Vec::new();
    for mode in MODES {
        let (crypto, a, _) = setup(mode);
        let mut ops = OpCounter::new();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let msg = vec![0x55u8; 300];
        let sig = crypto.sign(&mut ops, &a, SigAlg::RsaPssSha1, &msg).unwrap();
        crypto
            .verify(&mut ops, a.public(), SigAlg::RsaPssSha1, &msg, &sig)
            .unwrap();
        let k = SymKey([3u8; 16]);
        let tag = crypto.mac(&mut ops, &k, MacAlg::HmacSha1, &msg);
        crypto
            .verify_mac(&mut ops, &k, MacAlg::HmacSha1, &msg, &tag)
            .unwrap();
        let c = crypto
            .kem_wrap(&mut ops, &mut rng, a.public(), &[1u8; 32])
            .unwrap();
        crypto.kem_unwrap(&mut ops, &a, &c).unwrap();
        let ct = crypto.cbc_encrypt(&mut ops, &mut rng, &k, &msg);
        crypto.cbc_decrypt(&mut ops, &k, &ct).unwrap();
        logs.push(ops.take());
    }
    assert_eq!(logs[0], logs[1]);
    assert_eq!(
        &logs[0][..3],
        &[
            Op::Sha1 { bytes: 300 },
            Op::RsaSign { bits: 1024 },
            Op::Sha1 { bytes: 300 }
        ]
    );
    assert!(logs[0].contains(&Op::RsaDecrypt { bits: 1024 }));
    assert!(logs[0].contains(&Op::AesCbc { bytes: 300 }));
}

#[test]
fn real_signatures_are_deterministic_per_run() {
    let (crypto, a, _) = setup(CryptoMode::Real);
    let mut ops = OpCounter::new();
    let s1 = crypto
        .sign(&mut ops, &a, SigAlg::RsaPssSha1, &b"m"[..])
        .unwrap();
    let s2 = crypto
        .sign(&mut ops, &a, SigAlg::RsaPssSha1, &b"m"[..])
        .unwrap();
    assert_eq!(s1, s2);
}

/// Cross-checks against independent implementations, for the key generate_rsa(1, "device/1",
/// 1024). Its Device ID was confirmed with
/// `openssl x509 -pubkey | openssl pkey -pubin -outform DER | openssl sha1` on a certificate
/// issued for it; pinning it here also pins key generation across machines and versions.
/// The KEM ciphertext and the PSS signature were produced with Python `cryptography` 48:
///   Z = int(sha256(b'fixed Z').digest()*4) mod n; C1 = Z^e mod n (128 bytes);
///   C2 = aes_key_wrap(KDF2-SHA1(I2OSP(Z,128),16), bytes(range(100,132)));
///   sig = key.sign(b'<roap:registrationRequest/>', PSS(MGF1(SHA1), salt_length=20), SHA1).
#[test]
fn independent_vectors_for_keygen_kem_and_pss() {
    let key = generate_rsa(&KeySpec::new(1, "device/1", 1024)).unwrap();
    assert_eq!(
        key.id().to_hex(),
        "01326dee200fa38203891987322e7f24a9eb69e9"
    );
    let crypto = Crypto::new(CryptoMode::Real, 1);
    let mut ops = OpCounter::new();
    let c = h("941457308fa77410dd85553baa90427b5af387d65971582cd61148bcd9a145acd8b07513b639d1658f7e8fe3a551effa2106add27682685de2e417d6fbbd86aae9474ad0c8479a2db881ccd61fde14d1e7cae3e6c135a0dc6a70b3e17ca839289fc634f7cdbab65af7f3a027d22debb3fa9d5e5830c4278c65a4256f68c6b1c9373ffa660d76cd955eedcc714fb37bdc39cca005e3494f5df66fd996d25e29e6db6b1421bc4d1a20");
    assert_eq!(
        crypto.kem_unwrap(&mut ops, &key, &c).unwrap(),
        (100u8..132).collect::<Vec<_>>()
    );
    let sig = h("b9138b0810bc0b359641e47db10955a9facdefbb47608460e934aa19915dc22fc4e70ef98723ed60f289a3d4e22f3529c495d642bbc6518d8079bcefaa30160f290440ef1866f0ac46ac9a7e06e4f7b44fc3c272563572f575b9049698c368436f3678ca8abb4d75a21b73257339de9368232e827800be4e46f3f4fecf1a7a47");
    let msg = b"<roap:registrationRequest/>";
    crypto
        .verify_bytes(&mut ops, key.public(), SigAlg::RsaPssSha1, msg, &sig)
        .unwrap();
    assert!(crypto
        .verify_bytes(
            &mut ops,
            key.public(),
            SigAlg::RsaPssSha1,
            b"<roap:registrationRequest />",
            &sig
        )
        .is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Symbolic mode: flipping any bit of the content breaks signature and MAC.
        #[test]
        fn symbolic_tamper_always_detected(
            msg in proptest::collection::vec(any::<u8>(), 1..300),
            pos in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let (crypto, a, _) = setup(CryptoMode::Symbolic);
            let mut ops = OpCounter::new();
            let sig = crypto.sign(&mut ops, &a, SigAlg::RsaPssSha1, &msg).unwrap();
            let k = SymKey([5u8; 16]);
            let tag = crypto.mac(&mut ops, &k, MacAlg::HmacSha1, &msg);
            let mut t = msg.clone();
            let i = pos.index(t.len());
            t[i] ^= 1 << bit;
            prop_assert!(crypto.verify(&mut ops, a.public(), SigAlg::RsaPssSha1, &t, &sig).is_err());
            prop_assert!(crypto.verify_mac(&mut ops, &k, MacAlg::HmacSha1, &t, &tag).is_err());
        }

        /// Both modes: key wrap round-trips any valid key material and rejects other KEKs.
        #[test]
        fn wrap_round_trip(
            words in 2usize..8,
            seed in any::<u64>(),
            kek in any::<[u8; 16]>(),
            other in any::<[u8; 16]>(),
        ) {
            prop_assume!(kek != other);
            let km: Vec<u8> = (0..words * 8).map(|i| (seed >> (i % 8)) as u8 ^ i as u8).collect();
            for mode in MODES {
                let crypto = Crypto::new(mode, seed);
                let mut ops = OpCounter::new();
                let w = crypto.wrap(&mut ops, &SymKey(kek), &km).unwrap();
                prop_assert_eq!(w.len(), km.len() + 8);
                prop_assert_eq!(crypto.unwrap(&mut ops, &SymKey(kek), &w).unwrap(), km.clone());
                prop_assert_eq!(
                    crypto.unwrap(&mut ops, &SymKey(other), &w),
                    Err(CryptoError::UnwrapFailed)
                );
            }
        }

        /// Hostile ciphertexts never panic.
        #[test]
        fn hostile_ciphertexts_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            for mode in MODES {
                let (crypto, a, _) = setup(mode);
                let mut ops = OpCounter::new();
                let k = SymKey([1u8; 16]);
                let _ = crypto.unwrap(&mut ops, &k, &data);
                let _ = crypto.cbc_decrypt(&mut ops, &k, &data);
                let _ = crypto.kem_unwrap(&mut ops, &a, &data);
                let _ = crypto.verify(&mut ops, a.public(), SigAlg::RsaPssSha1, &data, &data);
                let _ = sim_core::pki::Certificate::from_der(&data);
            }
        }
    }
}

#[test]
fn crypto_mode_parses_and_prints() {
    for m in MODES {
        assert_eq!(m.to_string().parse::<CryptoMode>(), Ok(m));
    }
    assert!("Real".parse::<CryptoMode>().is_err());
    assert_eq!(
        serde_json::from_str::<CryptoMode>("\"symbolic\"").unwrap(),
        CryptoMode::Symbolic
    );
}
