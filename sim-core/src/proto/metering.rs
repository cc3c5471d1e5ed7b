//! ROAP 2-pass Metering Report protocol as changed by seed 004 (§5.4.6, §11.2–§11.4.2):
//! MeteringReportSubmit → MeteringReportResponse, both sides, plus the HTTP GET of the Post
//! Response URL.
//!
//! Device side (§5.4.6.1, §11.3): every `metering_interval_ns` the Device reports, to each RI
//! it holds metered uses for, the [`MeteringStore`] snapshot for that RI. The report
//! (`rawMeteringReportData` = `ro-id=count;…` inside a `meteringReportType` fragment) is
//! AES-128-CBC encrypted under a fresh K_MEK with the IV prefixed; `<encKey>` carries
//! K_MAC‖K_MEK wrapped with RSAES-KEM-KDF2-KW-AES128 to the RI key; `<mac>` is HMAC(K_MAC)
//! over the canonical `<meteringReport>` minus `<mac>`; the message is signed. The response
//! is processed exactly in §11.3's order: nonce, signature (RI chain + OCSP), status.
//!
//! RI side (§11.2, §11.4.2): Device Context, DRM time, signature/chain, message form, key
//! unwrap, MAC, decryption — each failure with its status — then the uses are added to the
//! RI's totals, exactly once per report (see "Duplicates" below).
//!
//! Duplicates (a choice the seed leaves open): §11.3 forbids deleting metering data when no
//! response arrives, so a report whose response was lost is necessarily sent again. To keep
//! the RI from counting it twice, a report is an immutable object: the Device keeps the
//! encrypted `<meteringReport>` it built (its [`OutstandingReport`]) and resends exactly that
//! element — with a fresh nonce, time and signature — on every retry and in later periods,
//! until it gets a verified definitive answer. The RI identifies a report by the SHA-1 of its
//! `<encryptedMeteringReport>` CipherValue (unique: fresh K_MEK and IV per report) and answers
//! a report it already accepted with `Success` without counting it again. Since a Device
//! builds a new report for an RI only after the previous one was answered, the RI needs to
//! remember only the last few report IDs per Device ([`MAX_REPORT_IDS_PER_DEVICE`]).
//! The Device nonce cannot serve as the ID: seed 003 makes every retry use a fresh one.

use super::acquisition;
use super::agent::{Agent, SessionKind};
use super::metering_store::MeteringSnapshot;
use super::msg::{SimMsg, Wire};
use super::pki_wire::decode_ocsp;
use super::ri::Ri;
use super::world::World;
use crate::crypto::{CryptoError, OpCounter, PrivateKey, PublicKey, SymKey};
use crate::engine::{ActorId, Ctx, SimTime};
use crate::pdu::common::{ALG_AES128_CBC, ALG_KEM};
use crate::pdu::metering::{
    MeteringReport, MeteringReportResponse, MeteringReportResponseBody, MeteringReportSubmit,
};
use crate::pdu::trigger::{RoapTrigger, TriggerKind};
use crate::pdu::{CertificateChain, Encrypted, Ext, Extension, Identifier, KeyInfo, Pdu, Status};
use crate::pki::{KeyPurpose, PurposeRule, Revocation};
use crate::xml::{Element, Node};
use rand::{Rng, RngCore, SeedableRng};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Protocol name in `outcome` trace records and RI status counters.
pub const PROTOCOL: &str = "metering_report";
/// `Id` of `<encKey>`, referenced as `#meteringKey` by the `<ds:RetrievalMethod>` of
/// `<encryptedMeteringReport>` (§5.4.6.1.2).
pub const ENC_KEY_ID: &str = "meteringKey";
/// Path marking a Post Response URL as issued by this module (HTTP routing).
pub const PR_URL_MARK: &str = "/metering/pr/";
/// Most entries in one `rawMeteringReportData`.
pub const MAX_REPORT_ENTRIES: usize = 10_000;
/// Accepted report IDs an RI remembers per Device (duplicate suppression).
pub const MAX_REPORT_IDS_PER_DEVICE: usize = 8;
/// Distinct (Device, RO) entries an RI keeps in `RiStats::metered_uses`; uses of further
/// entries are added under (Device, [`OVERFLOW_RO`]) so totals stay exact.
pub const MAX_METERED_ENTRIES: usize = 1_000_000;
/// RO ID under which uses beyond [`MAX_METERED_ENTRIES`] are accumulated.
pub const OVERFLOW_RO: &str = "*overflow*";
/// Post Response URLs an RI remembers (oldest forgotten, then answered 404).
pub const MAX_PR_URLS: usize = 100_000;
/// HTTP GETs of one Post Response URL a Device makes at most (§5.4.6.2.2 "MAY retry").
pub const MAX_HTTP_ATTEMPTS: u32 = 3;
/// Post Response URLs a Device keeps pending at once (oldest dropped).
pub const MAX_PENDING_GETS: usize = 16;

// ---------------------------------------------------------------- report contents

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

// ---------------------------------------------------------------- Device side

/// A report sent to an RI and not yet answered with a verified definitive status: it is
/// resent unchanged (see the module comment on duplicates).
#[derive(Debug, Clone)]
pub struct OutstandingReport {
    /// What the report carries (deleted from the store on verified Success).
    pub snapshot: MeteringSnapshot,
    /// The sealed `<meteringReport>`.
    pub report: MeteringReport,
}

/// A Post Response URL the Device still has to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingGet {
    /// The URL.
    pub url: String,
    /// RI index it belongs to.
    pub ri: usize,
    /// GETs sent so far.
    pub attempts: u32,
    /// When the latest GET was sent (`None`: it failed, retry at the next metering tick).
    pub sent_at: Option<SimTime>,
}

/// Device-side counters of the Metering Report protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentMeteringStats {
    /// Reports sent (new reports, not retries).
    pub reports_built: u64,
    /// Verified Success responses.
    pub reports_accepted: u64,
    /// Uses deleted from the store after a verified Success.
    pub uses_deleted: u64,
    /// Submits resent with the certificate chain after NoCertificateChain.
    pub chain_resends: u64,
    /// Responses discarded by the §11.3 nonce or signature check.
    pub responses_discarded: u64,
    /// HTTP GETs of Post Response URLs sent.
    pub http_gets: u64,
    /// GETs answered 200.
    pub http_ok: u64,
    /// GETs answered 404 (never retried).
    pub http_not_found: u64,
    /// GETs given up after [`MAX_HTTP_ATTEMPTS`].
    pub http_given_up: u64,
    /// ROAP triggers returned by a Post Response URL that were followed.
    pub triggers_followed: u64,
}

/// What a Device keeps for the Metering Report protocol.
#[derive(Debug, Clone, Default)]
pub struct AgentMetering {
    /// Outstanding report per RI index.
    pub outstanding: BTreeMap<usize, OutstandingReport>,
    /// Post Response URLs to fetch (bounded by [`MAX_PENDING_GETS`]).
    pub gets: VecDeque<PendingGet>,
    /// The periodic metering timer runs.
    pub timer_armed: bool,
    /// Counters.
    pub stats: AgentMeteringStats,
}

/// Session state of one metering exchange.
#[derive(Debug, Clone)]
pub(crate) struct AgentMeter {
    /// The latest submit carried the Device certificate chain.
    chain_included: bool,
    /// Include the chain (after NoCertificateChain, §11.3).
    force_chain: bool,
}

/// Whether the periodic metering timer must be started now (once per Device, and only when
/// the workload meters).
pub(crate) fn arm_once(agent: &mut Agent) -> bool {
    if agent.workload.metering_interval_ns.is_none() || agent.metering_reports.timer_armed {
        return false;
    }
    agent.metering_reports.timer_armed = true;
    true
}

/// The periodic metering tick (§5.4.6.1): report to every RI with metering information (or
/// an outstanding report) and no exchange in progress; retry failed Post Response GETs.
pub(crate) fn agent_tick(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    let world = agent.world.clone();
    let ris: Vec<usize> = agent.ri_contexts.keys().copied().collect();
    for ri in ris {
        let busy = agent
            .sessions
            .values()
            .any(|s| s.ri == ri && matches!(s.kind, SessionKind::Metering(_)));
        let has_data = agent.metering_reports.outstanding.contains_key(&ri)
            || agent.metering.pending_for(&world.ris[ri].name) > 0;
        if !busy && has_data {
            agent_start(agent, ctx, ri);
        }
    }
    retry_gets(agent, ctx);
}

/// Starts a Metering Report exchange with RI `ri`.
pub(crate) fn agent_start(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ri: usize) {
    if !agent.ri_contexts.contains_key(&ri) {
        return;
    }
    let kind = SessionKind::Metering(AgentMeter {
        chain_included: false,
        force_chain: false,
    });
    if let Some(id) = agent.open_session(ctx, ri, kind) {
        agent_send(agent, ctx, id);
    }
}

/// Sends (or re-sends, with a fresh nonce) the MeteringReportSubmit of session `id`.
pub(crate) fn agent_send(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let world = agent.world.clone();
    let Some(s) = agent.sessions.get(&id) else {
        return;
    };
    let SessionKind::Metering(meter) = &s.kind else {
        return;
    };
    let (ri, force_chain, old_nonce) = (s.ri, meter.force_chain, s.nonce.clone());
    let Some((ri_ctx, ri_cert)) = agent
        .ri_contexts
        .get(&ri)
        .and_then(|c| Some((c.clone(), c.chain.first()?.clone())))
    else {
        agent.finish_status(ctx, id, Status::NotRegistered);
        return;
    };
    // The report: the outstanding one, else a new one from the store's snapshot for the RI
    // that issued the metered ROs (§5.4.6 "the RI that issued the ROs").
    if !agent.metering_reports.outstanding.contains_key(&ri) {
        let snapshot = agent.metering.snapshot(&world.ris[ri].name);
        if snapshot.is_empty() {
            agent.finish(ctx, id, "abandoned");
            return;
        }
        // Real-mode RSA-KEM draws a variable number of random bytes (rejection sampling):
        // seal from a stream derived with one fixed-size draw, so the actor's own stream
        // advances identically in both crypto modes (same workload, same outcomes).
        let mut seal_rng = rand_chacha::ChaCha8Rng::from_seed(ctx.rng().gen());
        let sealed = seal_report(
            &world,
            &mut agent.ops,
            &mut seal_rng,
            ri_cert.public_key(),
            &report_plaintext(&snapshot),
        );
        let Ok(sealed) = sealed else {
            agent.finish(ctx, id, "abandoned");
            return;
        };
        agent.metering_reports.stats.reports_built += 1;
        agent.metering_reports.outstanding.insert(
            ri,
            OutstandingReport {
                snapshot,
                report: sealed.report,
            },
        );
    }
    let report = agent.metering_reports.outstanding[&ri].report.clone();
    let nonce = if world.variants.fresh_nonce_retries || old_nonce.is_empty() {
        world.nonce(ctx.rng())
    } else {
        old_nonce
    };
    // §5.4.6.1.1 Extensions: Peer Key Identifier (we store the RI's chain) and No OCSP
    // Response (we cache a valid OCSP response for the RI).
    let mut extensions = vec![Ext::new(Extension::PeerKeyIdentifier(Some(
        world.ris[ri].id.clone(),
    )))];
    if ri_ctx
        .ocsp
        .as_ref()
        .is_some_and(|o| ctx.now().since(o.produced_at) < world.params.ocsp_max_age_ns)
    {
        extensions.push(Ext::new(Extension::NoOcspResponse));
    }
    // §5.4.6.1.1 Certificate Chain: sent unless the RI Context says the RI stores it, and
    // always on the resend after NoCertificateChain (§11.3).
    let include_chain = force_chain || !ri_ctx.ri_has_device_chain;
    let drm_now = agent.drm_now(ctx.now());
    let mut submit = MeteringReportSubmit {
        trigger_nonce: None,
        device_id: agent.me.id.clone(),
        ri_id: world.ris[ri].id.clone(),
        nonce: nonce.clone(),
        time: world.datetime(drm_now),
        metering_report: report,
        certificate_chain: include_chain.then(|| agent.me.chain_wire.clone()),
        extensions,
        signature: Vec::new(),
    };
    if sign_submit(&world, &mut agent.ops, &agent.me.key, &mut submit).is_err() {
        agent.finish(ctx, id, "abandoned");
        return;
    }
    let s = agent.sessions.get_mut(&id).expect("exists");
    s.nonce = nonce;
    if let SessionKind::Metering(m) = &mut s.kind {
        m.chain_included = include_chain;
    }
    let peer = s.peer;
    agent.send_pdu(ctx, peer, Pdu::MeteringReportSubmit(submit));
    agent.arm_timeout(ctx, id);
}

/// Statuses that reject the report's content: resending the same report cannot succeed, so
/// the next report is built afresh (the RI never counted it: content checks precede
/// counting, and an accepted report passes them again).
fn rejects_content(status: Status) -> bool {
    matches!(
        status,
        Status::MalformedMeteringReport
            | Status::UnableToVerifyMeteringReportMAC
            | Status::UnableToDecryptMeteringReport
    )
}

/// MeteringReportResponse at the Device, in the order of seed 004 §11.3.
pub(crate) fn agent_on_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    _from: ActorId,
    r: MeteringReportResponse,
) {
    // 1. Device Nonce: a response that does not echo the nonce of our latest submit is
    //    discarded; metering information keeps being recorded.
    let id = r
        .body
        .as_ref()
        .and_then(|b| agent.session_by_nonce(&b.device_nonce))
        .filter(|i| matches!(agent.sessions[i].kind, SessionKind::Metering(_)));
    let Some(id) = id else {
        agent.metering_reports.stats.responses_discarded += 1;
        return agent.discard(ctx, "MeteringReportResponse nonce matches no submit");
    };
    let body = r.body.clone().expect("matched by its nonce");
    let world = agent.world.clone();
    let ri = agent.sessions[&id].ri;
    if body.device_id != agent.me.id || body.ri_id != world.ris[ri].id {
        agent.metering_reports.stats.responses_discarded += 1;
        return agent.discard(ctx, "MeteringReportResponse IDs do not match the submit");
    }
    // 2. Signature (seed 004): RI chain and OCSP status must verify, else discard.
    //    Pre-CR variant: the response is unsigned and accepted as is.
    if world.variants.metering_response_signed {
        match verify_response(agent, ctx, ri, &r) {
            Ok(fresh_ocsp) => {
                if let (Some(o), Some(c)) = (fresh_ocsp, agent.ri_contexts.get_mut(&ri)) {
                    c.ocsp = Some(o);
                }
            }
            Err(why) => {
                agent.metering_reports.stats.responses_discarded += 1;
                return agent.discard(ctx, why);
            }
        }
    }
    // 3. Status.
    let SessionKind::Metering(meter) = agent.sessions[&id].kind.clone() else {
        return;
    };
    match r.status {
        Status::Success => {
            // Delete exactly what the report carried; uses recorded since stay.
            if let Some(out) = agent.metering_reports.outstanding.remove(&ri) {
                let name = world.ris[ri].name.clone();
                agent.metering.delete_reported(&name, &out.snapshot);
                agent.metering_reports.stats.uses_deleted +=
                    out.snapshot.iter().map(|(_, n)| n).sum::<u64>();
            }
            agent.metering_reports.stats.reports_accepted += 1;
            if meter.chain_included {
                if let Some(c) = agent.ri_contexts.get_mut(&ri) {
                    c.ri_has_device_chain = true;
                }
            }
            agent.finish(ctx, id, "success");
            // Post Response URL: HTTP GET at the first opportunity (§5.4.6.2.2).
            let url = body.extensions.iter().find_map(|e| match &e.ext {
                Extension::PostResponseUrl(u) => Some(u.clone()),
                _ => None,
            });
            if let Some(url) = url {
                start_get(agent, ctx, ri, url);
            }
        }
        Status::NoCertificateChain if !meter.chain_included => {
            // §11.3: resend, including the Device certificate chain (same report).
            if let Some(c) = agent.ri_contexts.get_mut(&ri) {
                c.ri_has_device_chain = false;
            }
            if let Some(s) = agent.sessions.get_mut(&id) {
                if let SessionKind::Metering(m) = &mut s.kind {
                    m.force_chain = true;
                }
            }
            agent.metering_reports.stats.chain_resends += 1;
            agent_send(agent, ctx, id);
        }
        other => {
            // §11.3: the attempt is over; nothing is deleted, recording continues.
            if rejects_content(other) {
                agent.metering_reports.outstanding.remove(&ri);
            }
            agent.finish_status(ctx, id, other);
        }
    }
}

/// Verifies the response signature with the RI chain (from the response, else the RI
/// Context) and the RI's OCSP status (stapled in the response, else cached), per §5.4.6.2.1
/// "MUST NOT accept … unless the signature verifies, the RI certificate chain has been
/// successfully verified, and the OCSP response indicates … good". Returns the stapled leaf
/// OCSP response to cache.
fn verify_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
    r: &MeteringReportResponse,
) -> Result<Option<crate::pki::OcspResponse>, &'static str> {
    let world = agent.world.clone();
    let body = r.body.as_ref().ok_or("no body")?;
    let ri_ctx = agent.ri_contexts.get(&ri).ok_or("no RI Context")?;
    let chain = match &body.certificate_chain {
        Some(c) => world
            .certs
            .decode_chain(world.mode(), c)
            .map_err(|_| "undecodable RI certificate chain")?,
        None => ri_ctx.chain.clone(),
    };
    if chain.is_empty() || World::id_of(&chain[0]) != world.ris[ri].id {
        return Err("RI certificate chain does not certify the RI ID");
    }
    let stapled: Vec<_> = body
        .ocsp_responses
        .iter()
        .filter_map(|b| decode_ocsp(b).ok())
        .collect();
    let responses: Vec<_> = if stapled.is_empty() {
        ri_ctx.ocsp.iter().cloned().collect()
    } else {
        stapled.clone()
    };
    world
        .trust
        .validate(
            &world.crypto,
            &mut agent.ops,
            &chain,
            ctx.now(),
            PurposeRule::RIGHTS_ISSUER,
            Revocation::Ocsp {
                responses: &responses,
                max_age_ns: world.params.ocsp_max_age_ns,
                nonce: None,
            },
        )
        .map_err(|_| "RI certificate chain or OCSP status does not verify")?;
    world
        .crypto
        .verify(
            &mut agent.ops,
            chain[0].public_key(),
            world.params.sig_alg,
            &Pdu::MeteringReportResponse(r.clone()),
            &body.signature,
        )
        .map_err(|_| "MeteringReportResponse signature does not verify")?;
    Ok(stapled
        .into_iter()
        .find(|o| o.serial == chain[0].serial() && o.issuer == chain[0].issuer()))
}

/// Queues and sends the GET of a Post Response URL.
fn start_get(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ri: usize, url: String) {
    let gets = &mut agent.metering_reports.gets;
    if gets.iter().any(|g| g.url == url) {
        return;
    }
    if gets.len() >= MAX_PENDING_GETS {
        gets.pop_front();
    }
    gets.push_back(PendingGet {
        url,
        ri,
        attempts: 0,
        sent_at: None,
    });
    let i = gets.len() - 1;
    send_get(agent, ctx, i);
}

fn send_get(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, i: usize) {
    let peer = agent.world.ris[agent.metering_reports.gets[i].ri].actor;
    let g = &mut agent.metering_reports.gets[i];
    g.attempts += 1;
    g.sent_at = Some(ctx.now());
    let url: Arc<str> = Arc::from(g.url.as_str());
    agent.metering_reports.stats.http_gets += 1;
    ctx.send(peer, SimMsg::HttpGet(url));
}

/// At a metering tick: GETs that failed (non-404) or went unanswered for a request timeout
/// are retried, up to [`MAX_HTTP_ATTEMPTS`] in all ("MAY retry the request at a later time").
fn retry_gets(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    let timeout = agent.world.params.request_timeout_ns;
    let now = ctx.now();
    let mut i = 0;
    while i < agent.metering_reports.gets.len() {
        let g = &agent.metering_reports.gets[i];
        let due = g.sent_at.is_none_or(|t| now.since(t) >= timeout);
        if !due {
            i += 1;
        } else if g.attempts >= MAX_HTTP_ATTEMPTS {
            agent.metering_reports.gets.remove(i);
            agent.metering_reports.stats.http_given_up += 1;
        } else {
            send_get(agent, ctx, i);
            i += 1;
        }
    }
}

/// Whether `url` is a Post Response URL of this protocol (HTTP routing in agent and RI).
pub fn owns_url(url: &str) -> bool {
    url.contains(PR_URL_MARK)
}

/// HTTP answer to a Post Response GET at the Device: 200 → follow the ROAP trigger
/// (verified with the RI key); 404 → never again; other → retry later (§5.4.6.2.2).
pub(crate) fn agent_on_http_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    url: &str,
    status: u16,
    trigger: Option<&Wire>,
) {
    let Some(i) = agent
        .metering_reports
        .gets
        .iter()
        .position(|g| g.url == url)
    else {
        return;
    };
    match status {
        200 => {
            let g = agent.metering_reports.gets.remove(i).expect("found");
            agent.metering_reports.stats.http_ok += 1;
            if let Some(Ok(Pdu::RoapTrigger(t))) = trigger.map(Wire::open) {
                follow_trigger(agent, ctx, g.ri, t);
            }
        }
        404 => {
            agent.metering_reports.gets.remove(i);
            agent.metering_reports.stats.http_not_found += 1;
        }
        _ => agent.metering_reports.gets[i].sent_at = None,
    }
}

/// Follows an RO Acquisition trigger from a Post Response URL if the RI signed it.
fn follow_trigger(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ri: usize, t: RoapTrigger) {
    let world = agent.world.clone();
    let Some(ri_cert) = agent.ri_contexts.get(&ri).and_then(|c| c.chain.first()) else {
        return;
    };
    let key = ri_cert.public_key().clone();
    let Some(sig) = t.signature.clone() else {
        return;
    };
    if t.ri_id != world.ris[ri].id
        || world
            .crypto
            .verify(
                &mut agent.ops,
                &key,
                world.params.sig_alg,
                &Pdu::RoapTrigger(t.clone()),
                &sig,
            )
            .is_err()
    {
        return;
    }
    if t.kind == TriggerKind::RoAcquisition {
        agent.metering_reports.stats.triggers_followed += 1;
        acquisition::agent_start(agent, ctx, ri);
    }
}

// ---------------------------------------------------------------- RI side

/// When an RI adds a Post Response URL to a Success response, and how it answers the GET.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostResponsePolicy {
    /// Probability that a Success response carries a Post Response URL (1.0 = always).
    pub probability: f64,
    /// HTTP status of a GET of a known URL once it is available (200 returns a trigger).
    pub http_status: u16,
    /// The first this-many GETs of each URL are answered 503 (exercises Device retries).
    pub unavailable_first: u32,
}

impl Default for PostResponsePolicy {
    fn default() -> Self {
        PostResponsePolicy {
            probability: 0.0,
            http_status: 200,
            unavailable_first: 0,
        }
    }
}

/// What an RI keeps for the Metering Report protocol.
#[derive(Debug, Clone, Default)]
pub struct RiMetering {
    /// Post Response URL policy (a scenario/RI option).
    pub post_response: PostResponsePolicy,
    /// Accepted report IDs per Device ID, newest last.
    accepted: BTreeMap<Identifier, VecDeque<[u8; 20]>>,
    /// Issued Post Response URLs → GETs seen, with their issue order for the bound.
    pr_urls: BTreeMap<String, u32>,
    pr_order: VecDeque<String>,
    next_pr: u64,
}

fn respond(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    req: &MeteringReportSubmit,
    status: Status,
) {
    let world = ri.world.clone();
    let signed = world.variants.metering_response_signed;
    let has_ext = |f: &dyn Fn(&Extension) -> bool| req.extensions.iter().any(|e| f(&e.ext));
    // §5.4.6.2.1: chain unless the Peer Key Identifier names our current key; OCSP unless
    // No OCSP Response. The pre-CR (unsigned) response carries neither: nothing to verify.
    let peer_key =
        has_ext(&|e| matches!(e, Extension::PeerKeyIdentifier(Some(k)) if *k == ri.me.id));
    let no_ocsp = has_ext(&|e| matches!(e, Extension::NoOcspResponse));
    let mut extensions = Vec::new();
    if status == Status::Success {
        let p = ri.metering.post_response;
        if p.probability > 0.0 && ctx.rng().gen_bool(p.probability.clamp(0.0, 1.0)) {
            extensions.push(Ext::new(Extension::PostResponseUrl(new_pr_url(ri))));
        }
    }
    let mut resp = MeteringReportResponse {
        status,
        body: Some(MeteringReportResponseBody {
            device_id: req.device_id.clone(),
            ri_id: ri.me.id.clone(),
            device_nonce: req.nonce.clone(),
            certificate_chain: (signed && !peer_key).then(|| ri.me.chain_wire.clone()),
            ocsp_responses: if signed && !no_ocsp {
                ri.staple(ctx.now()).into_iter().collect()
            } else {
                Vec::new()
            },
            extensions,
            signature: Vec::new(),
        }),
    };
    if signed {
        let unsigned = Pdu::MeteringReportResponse(resp.clone());
        match world
            .crypto
            .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &unsigned)
        {
            Ok(sig) => {
                if let Some(b) = resp.body.as_mut() {
                    b.signature = sig;
                }
            }
            Err(_) => {
                // Cannot sign: an unsigned response the Device will discard (§11.3).
                resp.status = Status::UnknownError;
            }
        }
    }
    ri.count_status(PROTOCOL, resp.status);
    ri.reply(ctx, to, Pdu::MeteringReportResponse(resp));
}

fn new_pr_url(ri: &mut Ri) -> String {
    let m = &mut ri.metering;
    m.next_pr += 1;
    let url = format!("{}{}{}", ri.world.ris[ri.index].url, PR_URL_MARK, m.next_pr);
    m.pr_urls.insert(url.clone(), 0);
    m.pr_order.push_back(url.clone());
    while m.pr_order.len() > MAX_PR_URLS {
        if let Some(old) = m.pr_order.pop_front() {
            m.pr_urls.remove(&old);
        }
    }
    url
}

/// The §11.4.2 form check: a report this RI can process names our key, links `<encKey>`
/// to `<encryptedMeteringReport>` by Id, and uses the ROAP algorithms.
fn well_formed(ri: &Ri, req: &MeteringReportSubmit) -> bool {
    let r = &req.metering_report;
    let our_key = KeyInfo::SpkiHash(ri.me.chain[0].key_id().as_bytes().to_vec());
    let linked = match (&r.enc_key.id, &r.encrypted_report.key_info) {
        (Some(id), Some(KeyInfo::Retrieval(uri))) => {
            !id.is_empty() && uri.strip_prefix('#') == Some(id.as_str())
        }
        _ => false,
    };
    req.ri_id == ri.me.id
        && linked
        && r.enc_key.algorithm == ALG_KEM
        && r.enc_key.key_info.as_ref() == Some(&our_key)
        && r.encrypted_report.algorithm == ALG_AES128_CBC
        && r.mac.len() == ri.world.params.mac_alg.tag_len()
}

/// MeteringReportSubmit at the RI: the checks of seed 004 §11.2 and §11.4.2 in order.
pub(crate) fn ri_on_request(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: MeteringReportSubmit,
) {
    let world = ri.world.clone();
    // §11.2: a valid Device Context.
    let Some(dc) = ri.devices.get(&req.device_id).cloned() else {
        return respond(ri, ctx, from, &req, Status::NotRegistered);
    };
    // §11.2: the Device's DRM time must be accurate.
    if !super::drm_time::time_acceptable(
        world.drm_ns(&req.time),
        ctx.now(),
        world.params.time_tolerance_ns,
    ) {
        return respond(ri, ctx, from, &req, Status::DeviceTimeError);
    }
    // §11.2: the signature, with the chain sent or the one stored in the Device Context.
    // The chain's status is checked too (the RI has direct CA access, as at registration):
    // an RI must not accept metering from a revoked Device.
    let (chain, sent) = match &req.certificate_chain {
        Some(c) => match world.certs.decode_chain(world.mode(), c) {
            Ok(chain) => (chain, true),
            Err(_) => return respond(ri, ctx, from, &req, Status::InvalidCertificateChain),
        },
        None if dc.chain.is_empty() => {
            return respond(ri, ctx, from, &req, Status::NoCertificateChain)
        }
        None => (dc.chain.clone(), false),
    };
    if let Err(e) = world.trust.validate(
        &world.crypto,
        &mut ri.ops,
        &chain,
        ctx.now(),
        PurposeRule::ANY,
        Revocation::List(&world.revocations),
    ) {
        let status = e
            .roap_status()
            .parse()
            .unwrap_or(Status::InvalidCertificateChain);
        return respond(ri, ctx, from, &req, status);
    }
    // The chain must certify a DRM Agent key, and this Device's key.
    if (!chain[0].has_purpose(KeyPurpose::DrmAgent)
        && !chain[0].has_purpose(KeyPurpose::SceDrmAgent))
        || World::id_of(&chain[0]) != req.device_id
    {
        return respond(ri, ctx, from, &req, Status::InvalidCertificateChain);
    }
    if world
        .crypto
        .verify(
            &mut ri.ops,
            chain[0].public_key(),
            world.params.sig_alg,
            &Pdu::MeteringReportSubmit(req.clone()),
            &req.signature,
        )
        .is_err()
    {
        return respond(ri, ctx, from, &req, Status::SignatureError);
    }
    if sent {
        // The RI now stores the Device chain (the Device may omit it again).
        if let Some(d) = ri.devices.get_mut(&req.device_id) {
            d.chain = chain;
        }
    }
    // §11.4.2: form, unwrap, MAC, decrypt.
    if !well_formed(ri, &req) {
        return respond(ri, ctx, from, &req, Status::MalformedMeteringReport);
    }
    let report = &req.metering_report;
    // A key that does not unwrap leaves no K_MAC to verify with: reported as a MAC failure.
    let keys = match world
        .crypto
        .kem_unwrap(&mut ri.ops, &ri.me.key, &report.enc_key.cipher)
    {
        Ok(k) if k.len() == 32 => k,
        _ => return respond(ri, ctx, from, &req, Status::UnableToVerifyMeteringReportMAC),
    };
    let (Ok(kmac), Ok(kmek)) = (
        SymKey::from_slice(&keys[..16]),
        SymKey::from_slice(&keys[16..]),
    ) else {
        return respond(ri, ctx, from, &req, Status::UnableToVerifyMeteringReportMAC);
    };
    if world
        .crypto
        .verify_mac(
            &mut ri.ops,
            &kmac,
            world.params.mac_alg,
            report,
            &report.mac,
        )
        .is_err()
    {
        return respond(ri, ctx, from, &req, Status::UnableToVerifyMeteringReportMAC);
    }
    let snapshot = match world
        .crypto
        .cbc_decrypt(&mut ri.ops, &kmek, &report.encrypted_report.cipher)
        .ok()
        .and_then(|pt| parse_report_plaintext(&pt).ok())
    {
        Some(s) => s,
        None => return respond(ri, ctx, from, &req, Status::UnableToDecryptMeteringReport),
    };
    // Success: count the uses once per report (module comment, "Duplicates"). The seed 003
    // nonce cache is deliberately not consulted: §11.2 has no replay status, and a replayed
    // submit is harmless here — it carries an already-accepted report, answered but not
    // recounted — while a legitimate resend after a lost response must still get Success.
    let rid = report_id(&world, &mut ri.ops, report);
    let seen = ri
        .metering
        .accepted
        .entry(req.device_id.clone())
        .or_default();
    if seen.contains(&rid) {
        ri.stats.metering_duplicates += 1;
    } else {
        seen.push_back(rid);
        while seen.len() > MAX_REPORT_IDS_PER_DEVICE {
            seen.pop_front();
        }
        let dev = hex::encode(&req.device_id.hash);
        let totals = &mut ri.stats.metered_uses;
        for (ro, n) in snapshot {
            let mut key = (dev.clone(), ro);
            if !totals.contains_key(&key) && totals.len() >= MAX_METERED_ENTRIES {
                key.1 = OVERFLOW_RO.to_string();
            }
            let total = totals.entry(key).or_default();
            *total = total.saturating_add(n);
        }
    }
    respond(ri, ctx, from, &req, Status::Success);
}

/// HTTP GET of a Post Response URL at the RI: 200 with a signed RO Acquisition trigger, or
/// the configured error; unknown URLs get 404.
pub(crate) fn ri_on_http_get(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, from: ActorId, url: &str) {
    let policy = ri.metering.post_response;
    let url_arc: Arc<str> = Arc::from(url);
    let reply = |ctx: &mut Ctx<'_, SimMsg>, status: u16, trigger: Option<Wire>| {
        ctx.send(
            from,
            SimMsg::HttpResponse {
                url: url_arc.clone(),
                status,
                trigger,
            },
        );
    };
    let Some(seen) = ri.metering.pr_urls.get_mut(url) else {
        return reply(ctx, 404, None);
    };
    *seen += 1;
    if *seen <= policy.unavailable_first {
        return reply(ctx, 503, None);
    }
    if policy.http_status != 200 {
        return reply(ctx, policy.http_status, None);
    }
    let world = ri.world.clone();
    let mut t = RoapTrigger {
        version: "1.0".into(),
        kind: TriggerKind::RoAcquisition,
        id: None,
        ri_id: ri.me.id.clone(),
        ri_alias: None,
        nonce: Some(world.nonce(ctx.rng())),
        roap_url: world.ris[ri.index].url.clone(),
        domain_id: None,
        ro_ids: Vec::new(),
        content_ids: vec![format!("cid:{:08x}", ctx.rng().gen::<u32>())],
        signature: None,
        enc_key: None,
    };
    let Ok(sig) = world.crypto.sign(
        &mut ri.ops,
        &ri.me.key,
        world.params.sig_alg,
        &Pdu::RoapTrigger(t.clone()),
    ) else {
        return reply(ctx, 500, None);
    };
    t.signature = Some(sig);
    let wire = Wire::new(world.mode(), Pdu::RoapTrigger(t));
    ctx.charge_ns(world.costs.serialize_ns(wire.size_bytes()));
    reply(ctx, 200, Some(wire));
}

/// A crafted MeteringReportSubmit from `device` (tests and adversaries): a valid, signed
/// submit of `snapshot` for RI `ri_key`, after `tamper` has changed it (the signature is
/// computed after tampering, as a malicious Device would).
#[allow(clippy::too_many_arguments)]
pub fn craft_submit(
    world: &World,
    rng: &mut dyn RngCore,
    device: &super::world::Identity,
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
