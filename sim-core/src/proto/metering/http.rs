//! The Post Response URL (seed 004 §5.4.6.2.2): the Device's HTTP GET with its retry rules,
//! the RI's policy for adding the extension, and the RI's answer (a signed ROAP trigger).

use super::*;

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

pub(super) fn new_pr_url(ri: &mut Ri) -> String {
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

/// Queues and sends the GET of a Post Response URL.
pub(super) fn start_get(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ri: usize, url: String) {
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
pub(super) fn retry_gets(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
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
    let names_other =
        world.variants.trigger_names_device && t.device_id.as_ref() != Some(&agent.me.id);
    if t.ri_id != world.ris[ri].id
        || names_other
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
        device_id: ri
            .devices_by_actor
            .get(&from)
            .and_then(|d| crate::proto::trigger::target_device(&world, d)),
        nonce: Some(world.nonce(ctx.rng())),
        not_after: crate::proto::trigger::trigger_not_after(&world, ctx.now()),
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
