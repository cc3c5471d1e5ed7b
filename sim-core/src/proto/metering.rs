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

mod http;
mod report;
mod rights_issuer;

pub(crate) use http::{agent_on_http_response, ri_on_http_get};
pub use http::{owns_url, PostResponsePolicy};
use http::{retry_gets, start_get};
pub use report::{
    craft_submit, parse_raw_data, parse_report_plaintext, raw_data, report_id, report_plaintext,
    seal_report, sign_submit, ReportError, SealedReport,
};
pub(crate) use rights_issuer::ri_on_request;
pub use rights_issuer::RiMetering;

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
    /// Metering Report ROAP Triggers received (seed 004 §11.3).
    pub report_triggers: u64,
    /// Of those, triggers with no metering information to report for that RI.
    pub report_triggers_nothing_to_report: u64,
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
    /// Nonce of the Metering Report ROAP Trigger that started the exchange (echoed as
    /// `triggerNonce`, ROAP §5.2.1).
    trigger_nonce: Option<Vec<u8>>,
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
    start_with(agent, ctx, ri, None);
}

/// A validated Metering Report ROAP Trigger from RI `ri` (its `roapURL` names that RI):
/// report to it now, echoing the trigger nonce (seed 004 §11.3: metering information is
/// kept until reported after such a trigger). An exchange already running with that RI
/// answers it; with nothing recorded for that RI there is nothing to report (counted).
pub(crate) fn agent_on_trigger(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
    trigger_nonce: Option<Vec<u8>>,
) {
    agent.metering_reports.stats.report_triggers += 1;
    let world = agent.world.clone();
    let busy = agent
        .sessions
        .values()
        .any(|s| s.ri == ri && matches!(s.kind, SessionKind::Metering(_)));
    if busy {
        return;
    }
    let has_data = agent.metering_reports.outstanding.contains_key(&ri)
        || agent.metering.pending_for(&world.ris[ri].name) > 0;
    if !has_data {
        agent
            .metering_reports
            .stats
            .report_triggers_nothing_to_report += 1;
        return;
    }
    start_with(agent, ctx, ri, trigger_nonce);
}

fn start_with(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
    trigger_nonce: Option<Vec<u8>>,
) {
    if !agent.ri_contexts.contains_key(&ri) {
        return;
    }
    let kind = SessionKind::Metering(AgentMeter {
        chain_included: false,
        force_chain: false,
        trigger_nonce,
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
    let trigger_nonce = meter.trigger_nonce.clone();
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
        trigger_nonce,
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
        // Seed 004 §11.2: NotRegistered — the RI has no valid Device Context. Register
        // again and resend the same outstanding report once (registration.rs `Rereg`).
        Status::NotRegistered if super::registration::agent_on_not_registered(agent, ctx, id) => {}
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
    Ok(stapled.into_iter().find(|o| o.is_about(&chain[0])))
}
