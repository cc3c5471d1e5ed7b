//! Metering Report contents (seed 004 §5.4.6.1.2): the `meteringReportType` fragment and its
//! `rawMeteringReportData` profile, sealing (AES-CBC, RSA-KEM, MAC), signing, report IDs and
//! crafted submits for tests and adversaries.

use super::*;

/// Why a decrypted report is not a usable `meteringReportType` fragment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Not well-formed XML or not a `<meteringReport>` with `<rawMeteringReportData>` first.
    #[error("not a meteringReportType fragment: {0}")]
    NotAReport(String),
    /// `rawMeteringReportData` does not follow the `ro-id=count;…` grammar.
    #[error("bad rawMeteringReportData: {0}")]
    BadRawData(&'static str),
}

impl ReportError {
    /// The report is unusable, but the run goes on (answered UnableToDecryptMeteringReport).
    pub fn is_fatal(&self) -> bool {
        false
    }
}

/// `rawMeteringReportData` for a snapshot: `ro-id=count` entries joined by `;` (our profile
/// of the free-form string of §5.4.6.1.2). RO IDs never contain `=` or `;` (RIs mint them).
pub fn raw_data(snapshot: &MeteringSnapshot) -> String {
    snapshot
        .iter()
        .map(|(ro, n)| format!("{ro}={n}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// Parses [`raw_data`]; an empty string is an empty report.
pub fn parse_raw_data(s: &str) -> Result<MeteringSnapshot, ReportError> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    for entry in s.split(';') {
        if out.len() >= MAX_REPORT_ENTRIES {
            return Err(ReportError::BadRawData("too many entries"));
        }
        let (ro, n) = entry
            .split_once('=')
            .ok_or(ReportError::BadRawData("entry without '='"))?;
        if ro.is_empty() || n.contains('=') {
            return Err(ReportError::BadRawData("bad entry"));
        }
        let n: u64 = n
            .parse()
            .map_err(|_| ReportError::BadRawData("count is not a number"))?;
        if n == 0 {
            return Err(ReportError::BadRawData("zero count"));
        }
        if out.insert(ro.to_string(), n).is_some() {
            return Err(ReportError::BadRawData("RO reported twice"));
        }
    }
    Ok(out.into_iter().collect())
}

/// The Full Metering Report (§5.4.6.1.2 `meteringReportType`) as canonical XML:
/// `<meteringReport><rawMeteringReportData>…</rawMeteringReportData></meteringReport>`
/// (unqualified, like ROAP's local elements; the seed names the type, not an element).
pub fn report_plaintext(snapshot: &MeteringSnapshot) -> Vec<u8> {
    let el = Element::plain("meteringReport")
        .with_child(Element::plain("rawMeteringReportData").with_text(raw_data(snapshot)));
    crate::pdu::canonicalize(&el)
}

/// Reads a decrypted report (§11.4.2 "this should result in a XML fragment of type
/// meteringReportType"); elements after `rawMeteringReportData` are disregarded
/// (§5.4.6.1.2 "Unknown elements MUST be disregarded").
pub fn parse_report_plaintext(bytes: &[u8]) -> Result<MeteringSnapshot, ReportError> {
    let root =
        crate::pdu::parse_element(bytes).map_err(|e| ReportError::NotAReport(e.to_string()))?;
    if root.local != "meteringReport" || root.ns.is_some() {
        return Err(ReportError::NotAReport(format!("root <{}>", root.local)));
    }
    let raw = root
        .elements()
        .next()
        .filter(|e| e.local == "rawMeteringReportData" && e.ns.is_none())
        .ok_or_else(|| ReportError::NotAReport("no rawMeteringReportData".into()))?;
    if raw.children.iter().any(|n| matches!(n, Node::Element(_))) {
        return Err(ReportError::NotAReport(
            "rawMeteringReportData is not a string".into(),
        ));
    }
    parse_raw_data(&raw.text())
}

/// A sealed `<meteringReport>` with the keys inside it (the keys are returned so tests can
/// craft reports with a wrong MAC or garbage ciphertext).
#[derive(Debug, Clone)]
pub struct SealedReport {
    /// The `<meteringReport>` element.
    pub report: MeteringReport,
    /// K_MAC.
    pub kmac: SymKey,
    /// K_MEK.
    pub kmek: SymKey,
}

/// Seals `plaintext` for the RI whose certified key is `ri_key` (§5.4.6.1.2, §7.2.4):
/// AES-128-CBC under a fresh K_MEK with the IV prefixed; K_MAC‖K_MEK wrapped with
/// RSAES-KEM-KDF2-KW-AES128, identified by the RI's X509SPKIHash; MAC under K_MAC with the
/// MAC algorithm of the RI Context.
pub fn seal_report(
    world: &World,
    ops: &mut OpCounter,
    rng: &mut dyn RngCore,
    ri_key: &PublicKey,
    plaintext: &[u8],
) -> Result<SealedReport, CryptoError> {
    let kmac = SymKey::random(rng);
    let kmek = SymKey::random(rng);
    let material = [kmac.as_bytes().as_slice(), kmek.as_bytes().as_slice()].concat();
    let wrapped = world.crypto.kem_wrap(ops, rng, ri_key, &material)?;
    let cipher = world.crypto.cbc_encrypt(ops, rng, &kmek, plaintext);
    let mut report = MeteringReport {
        encrypted_report: Encrypted {
            id: None,
            algorithm: ALG_AES128_CBC.to_string(),
            key_info: Some(KeyInfo::Retrieval(format!("#{ENC_KEY_ID}"))),
            cipher,
        },
        enc_key: Encrypted {
            id: Some(ENC_KEY_ID.to_string()),
            algorithm: ALG_KEM.to_string(),
            key_info: Some(KeyInfo::SpkiHash(ri_key.id().as_bytes().to_vec())),
            cipher: wrapped,
        },
        mac: Vec::new(),
    };
    report.mac = world.crypto.mac(ops, &kmac, world.params.mac_alg, &report);
    Ok(SealedReport { report, kmac, kmek })
}

/// Signs `submit` (the message minus `<signature>`, §5.4.6.1.1) with the Device key.
pub fn sign_submit(
    world: &World,
    ops: &mut OpCounter,
    key: &PrivateKey,
    submit: &mut MeteringReportSubmit,
) -> Result<(), CryptoError> {
    submit.signature.clear();
    let unsigned = Pdu::MeteringReportSubmit(submit.clone());
    submit.signature = world
        .crypto
        .sign(ops, key, world.params.sig_alg, &unsigned)?;
    Ok(())
}

/// The identity of a report for duplicate suppression: SHA-1 of its CipherValue.
pub fn report_id(world: &World, ops: &mut OpCounter, report: &MeteringReport) -> [u8; 20] {
    world.crypto.sha1(ops, &report.encrypted_report.cipher)
}

/// A crafted MeteringReportSubmit from `device` (tests and adversaries): a valid, signed
/// submit of `snapshot` for RI `ri_key`, after `tamper` has changed it (the signature is
/// computed after tampering, as a malicious Device would).
#[allow(clippy::too_many_arguments)]
pub fn craft_submit(
    world: &World,
    rng: &mut dyn RngCore,
    device: &crate::proto::world::Identity,
    ri_id: &Identifier,
    ri_key: &PublicKey,
    nonce: Vec<u8>,
    drm_time_ns: u64,
    snapshot: &MeteringSnapshot,
    chain: Option<CertificateChain>,
    tamper: impl FnOnce(&mut MeteringReportSubmit, &SealedReport),
) -> Result<MeteringReportSubmit, CryptoError> {
    let mut ops = OpCounter::new();
    let sealed = seal_report(world, &mut ops, rng, ri_key, &report_plaintext(snapshot))?;
    let mut submit = MeteringReportSubmit {
        trigger_nonce: None,
        device_id: device.id.clone(),
        ri_id: ri_id.clone(),
        nonce,
        time: world.datetime(drm_time_ns),
        metering_report: sealed.report.clone(),
        certificate_chain: chain,
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    tamper(&mut submit, &sealed);
    sign_submit(world, &mut ops, &device.key, &mut submit)?;
    Ok(submit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Signable;
    use crate::pdu::{metering_report_mac_input, DateTime, MacInterpretation};

    #[test]
    fn raw_data_round_trips_and_rejects_bad_grammar() {
        let snap = vec![("ri/0-ro1".to_string(), 3), ("ri/0-ro7".to_string(), 1)];
        assert_eq!(raw_data(&snap), "ri/0-ro1=3;ri/0-ro7=1");
        assert_eq!(parse_raw_data("ri/0-ro1=3;ri/0-ro7=1").unwrap(), snap);
        assert_eq!(parse_raw_data("").unwrap(), vec![]);
        for bad in ["a", "a=", "=3", "a=0", "a=1;a=2", "a=1=2", "a=-1", "a=1;"] {
            assert!(parse_raw_data(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plaintext_is_a_metering_report_type_fragment() {
        let snap = vec![("ro<&>".to_string(), 2)];
        let pt = report_plaintext(&snap);
        assert_eq!(
            pt,
            b"<meteringReport><rawMeteringReportData>ro&lt;&amp;&gt;=2</rawMeteringReportData></meteringReport>"
        );
        assert_eq!(parse_report_plaintext(&pt).unwrap(), snap);
        // Later elements are disregarded (§5.4.6.1.2).
        let ext = b"<meteringReport><rawMeteringReportData>x=1</rawMeteringReportData><future/></meteringReport>";
        assert_eq!(
            parse_report_plaintext(ext).unwrap(),
            vec![("x".to_string(), 1)]
        );
        for bad in [
            &b"<other/>"[..],
            b"<meteringReport/>",
            b"<meteringReport><rawMeteringReportData><a/></rawMeteringReportData></meteringReport>",
            b"\x00\x01garbage",
            b"",
        ] {
            assert!(parse_report_plaintext(bad).is_err());
        }
    }

    #[test]
    fn mac_input_is_the_node_set_of_the_report_inside_the_pdu() {
        // The MAC is computed on the struct; the RI in real mode gets the PDU bytes: both
        // readings must give the same octets (seed 004 §5.4.6.1.2 via seed 002 node set).
        let report = MeteringReport {
            encrypted_report: Encrypted {
                id: None,
                algorithm: ALG_AES128_CBC.into(),
                key_info: Some(KeyInfo::Retrieval(format!("#{ENC_KEY_ID}"))),
                cipher: vec![7; 48],
            },
            enc_key: Encrypted {
                id: Some(ENC_KEY_ID.into()),
                algorithm: ALG_KEM.into(),
                key_info: Some(KeyInfo::SpkiHash(vec![1; 20])),
                cipher: vec![9; 168],
            },
            mac: vec![5; 20],
        };
        let submit = MeteringReportSubmit {
            trigger_nonce: None,
            device_id: Identifier::new(vec![2; 20]),
            ri_id: Identifier::new(vec![3; 20]),
            nonce: vec![4; 14],
            time: DateTime::from_unix_s(1_767_225_600),
            metering_report: report.clone(),
            certificate_chain: None,
            extensions: vec![],
            signature: vec![6; 128],
        };
        let bytes = Pdu::MeteringReportSubmit(submit).encode();
        let in_pdu = metering_report_mac_input(&bytes, MacInterpretation::NodeSet).unwrap();
        assert_eq!(in_pdu, report.signed_bytes());
    }
}
