//! Move `<userDomain>`-constrained RO via RI (seed 003 §9.2.1 sending, §9.2.3 processing),
//! both sides. Reuses Move Device RO's machinery (move_ro.rs): the State Information plan,
//! the RI's move ledger and refusal reasons, `rights_from_ro`, the generic agent retries.
//!
//! Readings chosen where the seed is silent (see docs/protocols.md):
//! - §9.2.1 step 3: the `<sourceDeviceUserDomainAuthorization>` for a User Domain is the
//!   DEA-signed [`UserDomainAuthorization`] naming this Device (`entityId`), which the Device
//!   obtained with the DEA's certificate when it joined the User Domain ([`join_user_domain`]).
//!   A Device holding none for a User Domain its ROs are bound to cannot form the request:
//!   the Move is not started.
//! - §9.2.1 step 1 `<moveIndication>` carries RI IDs as the lowercase hex of the RI ID hash.
//! - §9.2.3 steps 1–2 "terminate": as in move_ro, a response failing them is discarded and
//!   the session keeps waiting (an unauthenticated message must not abort a Move).
//! - §9.2.3 step 4 checks each `<RIUserDomainAuthorization>` with the DEA key the Device
//!   learned at its join; validity is checked against the Device's DRM time.
//! - The RI keeps the moved rights (the seeds do not say how an RI re-issues a User Domain
//!   RO): they are recorded in the move ledger (no second Move of the same rights) and in
//!   [`RiUdMoves::held`], so rights are conserved: Device units + RI-held units = issued.
//! - The RI attaches every RIUserDomainAuthorization it holds for the request's User
//!   Domains (the Device judges them, §9.2.3 step 4), but takes over only the ROs whose
//!   User Domains have one that passes those same checks at the RI; the others stay with
//!   the Device, so the rights are neither lost nor duplicated.
//! - A Move abandoned without a verified response leaves the ROs unusable (as move_ro).

use super::acquisition::rights_from_ro;
use super::agent::Agent;
use super::dea::Dea;
use super::move_ro::Refusal;
use super::ri::Ri;
use crate::crypto::PublicKey;
use crate::pdu::moves::{UdaHolder, UserDomainAuthorization};
use crate::pdu::ro::ProtectedRo;
use crate::pdu::{DateTime, Expiry, Identifier};
use std::collections::BTreeMap;

mod device;
mod rights_issuer;

pub(crate) use device::{
    agent_on_abandon, agent_on_move_trigger, agent_on_response, agent_on_timer, agent_send,
    on_registered, AgentUdMove,
};
pub(crate) use rights_issuer::ri_on_request;

/// Protocol name in outcome records and RI status counters.
pub const PROTOCOL: &str = "move_user_domain_ro";
/// `<system>` value naming Move `<userDomain>`-constrained RO via RI (seed 003 §9.2.1).
pub const SYSTEM_ID: &str = "moveUserDomainROviaRI";
/// Most moved ROs an RI keeps in [`RiUdMoves::held`].
pub const MAX_HELD: usize = 100_000;

/// The `<moveIndication>` form of an RI ID (hex of the ID hash; see module doc).
pub fn move_indication(ri: &Identifier) -> String {
    hex::encode(&ri.hash)
}

/// `notBefore ≤ now < notAfter` in DRM ns (`None` = `Infinite`; seed 003 §9.2.3 step 4.c).
pub(crate) fn valid_at(not_before_ns: u64, not_after_ns: Option<u64>, now_ns: u64) -> bool {
    not_before_ns <= now_ns && not_after_ns.is_none_or(|end| now_ns < end)
}

/// [`valid_at`] for an authorization's `<notBefore>`/`<notAfter>`.
pub(crate) fn in_validity(
    world: &super::world::World,
    a: &UserDomainAuthorization,
    now_ns: u64,
) -> bool {
    let end = match &a.not_after {
        Expiry::Infinite => None,
        Expiry::At(t) => Some(world.drm_ns(t)),
    };
    valid_at(world.drm_ns(&a.not_before), end, now_ns)
}

// Device state and setup

/// Counters of a Device's user-domain Moves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentUdStats {
    /// Moves started (request sent).
    pub started: u64,
    /// Moves not started (RO missing / not movable / no source authorization).
    pub not_started: u64,
    /// moveUserDomainConstrainedRO triggers received (seed 003 §9.2.1).
    pub triggered: u64,
    /// ROs removed or decremented after Success (§9.2.3 step 5).
    pub ros_moved: u64,
    /// ROs marked usable again (§9.2.3 steps 3–4).
    pub ros_restored: u64,
    /// Responses with a non-Success status.
    pub failed: u64,
    /// Responses discarded at §9.2.3 step 1.
    pub discarded_mismatch: u64,
    /// Responses discarded at §9.2.3 step 2.
    pub discarded_signature: u64,
    /// Moves abandoned after the last retry.
    pub abandoned: u64,
}

/// A Device's user-domain Move state.
#[derive(Debug, Clone, Default)]
pub struct AgentUdMoves {
    /// The signed ROs as received, by RO ID.
    pub protected: BTreeMap<String, ProtectedRo>,
    /// This Device's DEA-signed User Domain Authorizations, by User Domain ID.
    pub authorizations: BTreeMap<String, UserDomainAuthorization>,
    /// The DEA's public key, learned at the User Domain join.
    pub dea_key: Option<PublicKey>,
    /// Planned Move: (delay after registration, [(RO ID, partial)]).
    pub planned: Option<(u64, Vec<(String, bool)>)>,
    /// Counters.
    pub stats: AgentUdStats,
}

/// The Device ID of `agent`.
pub fn device_id(agent: &Agent) -> Identifier {
    agent.me.id.clone()
}

/// Records a User Domain join: the Device's DEA-signed authorization and the DEA key.
pub fn join_user_domain(agent: &mut Agent, authz: UserDomainAuthorization, dea_key: PublicKey) {
    agent.move_ud.dea_key = Some(dea_key);
    agent
        .move_ud
        .authorizations
        .insert(authz.user_domain_id.clone(), authz);
}

/// Installs a `<userDomain>`-constrained RO at the Device (as received from its issuer).
pub fn install_ro(agent: &mut Agent, pro: ProtectedRo) {
    let world = agent.world.clone();
    let issuer = world
        .ris
        .iter()
        .find(|r| r.id == pro.ro.ri_id)
        .map_or_else(String::new, |r| r.name.clone());
    let ro = rights_from_ro(&pro.ro, &issuer, false);
    agent.ros.insert(pro.ro.id.clone(), ro);
    agent.move_ud.protected.insert(pro.ro.id.clone(), pro);
}

/// Plans a Move of `ros` (RO ID, partial) `delay_ns` after registration with the home RI.
pub fn plan_move(agent: &mut Agent, delay_ns: u64, ros: Vec<(String, bool)>) {
    agent.move_ud.planned = Some((delay_ns, ros));
}

// RI state and setup

/// Counters of an RI's user-domain Move service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiUdStats {
    /// Moves accepted.
    pub accepted: u64,
    /// Retransmissions answered Success again.
    pub retransmissions: u64,
    /// Refusals by reason.
    pub refused: BTreeMap<Refusal, u64>,
    /// ROs of accepted requests not taken over: their User Domain has no valid
    /// RIUserDomainAuthorization at this RI, so the Device keeps them (§9.2.3 step 4).
    pub kept_by_source: u64,
}

/// An RI's user-domain Move state.
#[derive(Debug, Clone, Default)]
pub struct RiUdMoves {
    /// The DEA's public key (to check sourceDeviceUserDomainAuthorizations); `None` = the
    /// RI checks them structurally only.
    pub dea_key: Option<PublicKey>,
    /// Rights units moved to this RI, by source RO ID.
    pub held: BTreeMap<String, u64>,
    /// Counters.
    pub stats: RiUdStats,
}

impl RiUdMoves {
    /// Rights units held after user-domain Moves.
    pub fn held_units(&self) -> u64 {
        self.held.values().sum()
    }
}

/// Signs a `<userDomain>`-constrained RO as RI `ri` (the seeds do not model RI-side
/// issuance of these ROs: tests and scenarios install them with [`install_ro`]).
pub fn ri_sign_ro(ri: &mut Ri, mut pro: ProtectedRo) -> Option<ProtectedRo> {
    let world = ri.world.clone();
    pro.ro.ri_id = ri.me.id.clone();
    pro.ro.signature = None;
    let sig = world
        .crypto
        .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &pro.ro)
        .ok()?;
    pro.ro.signature = Some(sig);
    Some(pro)
}

/// The ID of RI `ri`.
pub fn ri_id(ri: &Ri) -> Identifier {
    ri.me.id.clone()
}

/// A DEA-signed User Domain Authorization for `entity` (the DEA's signing, as in
/// dea_proxy's Get User Domain Authorization).
pub fn dea_authorize(
    dea: &mut Dea,
    user_domain_id: &str,
    entity: &Identifier,
    not_before: DateTime,
    not_after: Expiry,
) -> Option<UserDomainAuthorization> {
    let world = dea.world.clone();
    // An RI or LRM carries it as <RIUserDomainAuthorization>, a Device as
    // <sourceDeviceUserDomainAuthorization>: the DEA signs that element.
    let is_server =
        world.ris.iter().any(|r| r.id == *entity) || world.lrms.iter().any(|l| l.id == *entity);
    let mut a = UserDomainAuthorization {
        holder: if is_server {
            UdaHolder::Ri
        } else {
            UdaHolder::SourceDevice
        },
        user_domain_id: user_domain_id.to_string(),
        domain_id: None,
        entity_id: entity.clone(),
        dea_id: dea.me.id.clone(),
        not_before,
        not_after,
        signature: Vec::new(),
    };
    a.signature = world
        .crypto
        .sign(&mut dea.ops, &dea.me.key, world.params.sig_alg, &a)
        .ok()?;
    Some(a)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_window_is_half_open() {
        assert!(valid_at(10, Some(20), 10));
        assert!(valid_at(10, Some(20), 19));
        assert!(!valid_at(10, Some(20), 20));
        assert!(!valid_at(10, Some(20), 9));
        assert!(valid_at(10, None, u64::MAX));
    }

    #[test]
    fn move_indication_is_the_hex_of_the_ri_id() {
        let id = Identifier::new(vec![0xab, 0x01]);
        assert_eq!(move_indication(&id), "ab01");
    }
}
