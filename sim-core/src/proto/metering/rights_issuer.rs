//! RI side of the Metering Report protocol: the checks of seed 004 §11.2 and §11.4.2 in order,
//! the signed response, and counting each accepted report exactly once.

use super::http::new_pr_url;
use super::*;

/// What an RI keeps for the Metering Report protocol.
#[derive(Debug, Clone, Default)]
pub struct RiMetering {
    /// Post Response URL policy (a scenario/RI option).
    pub post_response: PostResponsePolicy,
    /// Accepted report IDs per Device ID, newest last, each with the end of the DRM-time
    /// window of the latest submit that carried it (see `remember_report`).
    pub(super) accepted: BTreeMap<Identifier, VecDeque<([u8; 20], u64)>>,
    /// Issued Post Response URLs → GETs seen, with their issue order for the bound.
    pub(super) pr_urls: BTreeMap<String, u32>,
    pub(super) pr_order: VecDeque<String>,
    pub(super) next_pr: u64,
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
            // §5.4.6.2.1: "MUST equal the RI ID sent by the Device" (also when it names
            // another RI: the status then says MalformedMeteringReport).
            ri_id: req.ri_id.clone(),
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
    if !crate::proto::drm_time::time_acceptable(
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
    // Verified as the PDU it arrived as, moved in and out (no copy of the report).
    let signed = Pdu::MeteringReportSubmit(req);
    let Pdu::MeteringReportSubmit(r) = &signed else {
        unreachable!("just built")
    };
    let verified = world.crypto.verify(
        &mut ri.ops,
        chain[0].public_key(),
        world.params.sig_alg,
        &signed,
        &r.signature,
    );
    let Pdu::MeteringReportSubmit(req) = signed else {
        unreachable!("just built")
    };
    if verified.is_err() {
        return respond(ri, ctx, from, &req, Status::SignatureError);
    }
    ri.domains
        .note_trigger_nonce(req.trigger_nonce.as_deref(), ctx.now().as_ns());
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
    let until = crate::proto::nonce_cache::drm_time_window_end(
        world.drm_ns(&req.time),
        world.params.time_tolerance_ns,
    );
    match remember_report(ri, &req.device_id, rid, ctx.now().as_ns(), until) {
        Remembered::Again => ri.stats.metering_duplicates += 1,
        Remembered::Full => {
            crate::proto::nonce_cache::note_full(ctx, "meteringReportSubmit");
            return respond(ri, ctx, from, &req, Status::Abort);
        }
        Remembered::New => {
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
    }
    respond(ri, ctx, from, &req, Status::Success);
}

/// What the accepted-report store says about a report.
enum Remembered {
    /// Not accepted before: count it.
    New,
    /// Already accepted: answer Success, count nothing.
    Again,
    /// New, but every remembered report of this Device could still be re-presented inside
    /// its window: refused (Abort), counted later when the Device resends.
    Full,
}

/// The accepted-report store under the freshness rule (docs/protocols.md, "Freshness
/// windows"). Two reasons to remember a report ID: an honest Device re-presents its newest
/// report (fresh nonce and time) until it gets a definitive answer, and builds the next only
/// after that, so the newest [`MAX_REPORT_IDS_PER_DEVICE`] cover it; and a copy of an
/// accepted submit passes the DRM-time check until `until` (its time + tolerance, §11.2
/// `DeviceTimeError`). So the oldest ID is dropped only once its window has closed; if it is
/// still open the new report is refused rather than the old one forgotten (forgetting it
/// would let a replayed submit be counted twice).
fn remember_report(
    ri: &mut Ri,
    device: &Identifier,
    rid: [u8; 20],
    now: u64,
    until: u64,
) -> Remembered {
    let seen = ri.metering.accepted.entry(device.clone()).or_default();
    if let Some(e) = seen.iter_mut().find(|(id, _)| *id == rid) {
        e.1 = e.1.max(until);
        return Remembered::Again;
    }
    if seen.len() >= MAX_REPORT_IDS_PER_DEVICE {
        if seen.front().is_some_and(|(_, u)| *u >= now) {
            return Remembered::Full;
        }
        seen.pop_front();
    }
    seen.push_back((rid, until));
    Remembered::New
}
