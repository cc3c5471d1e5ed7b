//! Post Response URL handling for Moves (seed 003 §9.1.3 3.a): the Device GETs the URL at
//! the first opportunity, never again after 404, and retries other failures a bounded number
//! of times; the RI serves the URL.

use super::{push_task, Task, MAX_DEAD_URLS, MAX_GET_ATTEMPTS, PR_PATH};
use crate::engine::{ActorId, Ctx};
use crate::proto::agent::Agent;
use crate::proto::msg::SimMsg;
use crate::proto::ri::Ri;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GetState {
    pub(super) attempts: u32,
    /// The GET being awaited (unique per Device), if any.
    pub(super) awaiting: Option<u64>,
}

/// HTTP GET of a Post Response URL at the first opportunity (seed 003 §9.1.3 3.a).
pub(super) fn http_get(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, url: &str) {
    if agent.moves.dead_urls.contains(url) {
        return;
    }
    let world = agent.world.clone();
    let Some(host) = world.ris.iter().find(|r| url.starts_with(r.url.as_str())) else {
        agent.moves.stats.http_errors += 1;
        return;
    };
    agent.moves.next_task += 1;
    let get = agent.moves.next_task;
    let g = agent.moves.gets.entry(url.to_string()).or_insert(GetState {
        attempts: 0,
        awaiting: None,
    });
    if g.awaiting.is_some() {
        // Already being fetched: one GET serves every Move that named it.
        return;
    }
    g.attempts += 1;
    g.awaiting = Some(get);
    agent.moves.stats.http_gets += 1;
    ctx.send(host.actor, SimMsg::HttpGet(Arc::from(url)));
    let timeout = world.params.request_timeout_ns;
    let url = url.to_string();
    push_task(agent, ctx, timeout, Task::GetTimeout { url, get });
}

/// A GET failed with something other than 404 (or got no answer): retry later, bounded.
pub(super) fn get_failed(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, url: &str) {
    agent.moves.stats.http_errors += 1;
    let Some(g) = agent.moves.gets.get_mut(url) else {
        return;
    };
    g.awaiting = None;
    if g.attempts >= MAX_GET_ATTEMPTS {
        agent.moves.gets.remove(url);
        return;
    }
    let p = agent.world.params;
    let delay = (p.backoff_base_ns << g.attempts.min(16)).min(p.backoff_max_ns);
    let url = url.to_string();
    push_task(agent, ctx, delay, Task::GetRetry { url });
}

/// HTTP answer to a Post Response URL GET.
pub(crate) fn agent_on_http_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    url: &str,
    status: u16,
) {
    let awaiting = agent.moves.gets.get(url).and_then(|g| g.awaiting);
    if awaiting.is_none() {
        // Not asked for, or a late answer to a GET already given up on.
        return;
    }
    match status {
        200..=299 => {
            agent.moves.gets.remove(url);
        }
        404 => {
            // "SHOULD NOT make further requests to the URL".
            agent.moves.gets.remove(url);
            agent.moves.stats.http_404 += 1;
            if agent.moves.dead_urls.len() < MAX_DEAD_URLS {
                agent.moves.dead_urls.insert(url.to_string());
            }
        }
        _ => get_failed(agent, ctx, url),
    }
}

/// HTTP GET at the RI: serves the Post Response URL of Moves (other paths: 404).
pub(crate) fn ri_on_http_get(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    url: &Arc<str>,
) {
    let mine = format!("{}{PR_PATH}", ri.world.ris[ri.index].url);
    let status = if **url == *mine {
        ri.moves.stats.http_gets += 1;
        ri.moves.http_status
    } else {
        404
    };
    ctx.send(
        from,
        SimMsg::HttpResponse {
            url: url.clone(),
            status,
            trigger: None,
        },
    );
}
