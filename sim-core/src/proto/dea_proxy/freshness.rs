//! Replay protection at the DEA for the RI → DEA requests of seed 000 (Get User Domain
//! Authorization §7.2.2, Proxy Join §7.4.1, Proxy Leave §7.5.1), under the freshness rule of
//! `proto::nonce_cache`.
//!
//! Seed 000 gives every RI → DEA request a nonce, "Default, as specified in [SCE-GEN]" (the
//! §7.2.2/§7.4.1/§7.5.1 tables), and no seed says what the DEA does with it. drmsim's reading
//! (`Variants::dea_nonce_tracking`): the nonce is there to detect replay (as seed 003 §1
//! makes RIs do, and seed 001 the DEA for pairing), so the DEA remembers the nonces it
//! answered and refuses a repeat with `AccessDenied`. Checked after the MK MAC, so an
//! unauthenticated message cannot fill the store. RIs send every request with a fresh nonce
//! (retries included), so an honest RI is never refused as a replay.
//!
//! The windows (docs/protocols.md, "Freshness windows"):
//! - **Proxy Join / Proxy Leave**: the SCE-GEN header carries no time, but the request embeds
//!   the Device's own join/leaveDomainRequest, whose `<time>` the Device signed and the DEA
//!   verifies (§7.4.1/§7.5.1 "verify the signature in the <signature> element in the
//!   <joinDomainRequest>"). The DEA binds it: it applies the RI's DRM-time check to it
//!   (base ROAP §5.4.4.1 `DeviceTimeError`, same tolerance) and keeps the RI's nonce until
//!   that time + tolerance. An old Proxy Join replayed after the window is refused by time
//!   (the one that would re-admit a Device that left), inside it by the nonce.
//! - **Get User Domain Authorization**: nothing in it carries a time. Its nonce is kept with
//!   no window (for the life of the RI's MK context, which drmsim never rekeys): an RI asks
//!   once at start plus bounded retries, so the per-RI limit refuses only an RI asking more
//!   often than that, and a replay never re-grants what the DEA has since changed.
//!
//! Nonces are stored per (RI, Device) for proxy requests (an RI proxies for many Devices at
//! once; the per-peer limit then bounds one Device's requests, not a busy RI's) and per RI
//! for authorization requests. A full store refuses with `Abort` and a trace cause.

use crate::engine::Ctx;
use crate::pdu::dea::GenHeader;
use crate::pdu::roap::DomainRequest;
use crate::pdu::Status;
use crate::proto::dea::Dea;
use crate::proto::msg::SimMsg;
use crate::proto::nonce_cache::{drm_time_window_end, note_full, Admit};

/// Whether RI request `h` (embedding the Device's request `device`, for proxy requests) is
/// fresh: `Ok` = admitted (its nonce recorded), `Err(status)` = refuse with that status.
pub(super) fn admit(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    h: &GenHeader,
    device: Option<&DomainRequest>,
) -> Result<(), Status> {
    let world = dea.world.clone();
    if !world.variants.dea_nonce_tracking {
        return Ok(());
    }
    let now = ctx.now();
    let tolerance = world.params.time_tolerance_ns;
    let mut peer = h.req_id.hash.clone();
    let until = match device {
        None => u64::MAX,
        Some(d) => {
            let t = world.drm_ns(&d.time);
            if !crate::proto::drm_time::time_acceptable(t, now, tolerance) {
                dea.user_domains.stats.replays_refused += 1;
                return Err(Status::DeviceTimeError);
            }
            peer.extend_from_slice(&d.device_id.hash);
            drm_time_window_end(t, tolerance)
        }
    };
    match dea.ri_nonces.admit(&peer, &h.nonce, now.as_ns(), until) {
        Admit::Fresh => Ok(()),
        Admit::Replay => {
            dea.user_domains.stats.replays_refused += 1;
            Err(Status::AccessDenied)
        }
        Admit::Full => {
            note_full(ctx, "RI request at the DEA");
            Err(Status::Abort)
        }
    }
}
