//! "Keys never in the adversary's knowledge": no UDK, Domain Key, Master Key, Pairing Key or
//! K_REK is known to the adversaries unless a compromised endpoint in good standing is
//! entitled to it.
//!
//! **Protected keys** (each with the K_MAC wrapped next to it, which is covered with it):
//! - K_D of a ROAP domain (RI-managed) and the UDK of a DEA User Domain, every generation:
//!   `<domainKey><encKey>` = RSA-KEM(Device key, K_MAC‖K_D) in JoinDomainResponse and
//!   rdpProxyJoinUserDomainResponse (seed 000 §7.4.1.1; "UDK" when the domain ID's base is
//!   one the DEA maps onto a User Domain, §7.2.2);
//! - K_REK of an RO: `<roap:ro><encKey>` = RSA-KEM(Device key, K_MAC‖K_REK) (Device RO),
//!   AES-WRAP(K_D, ..) (Domain RO), AES-WRAP(Pairing Key, ..) (Imported RO, seed 001
//!   §7.2.1.2), in ROResponse, Move requests (the RO the Source holds) and Imported-RO
//!   Response;
//! - the Master Key of a Device: `<encMasterKey>` = RSA-KEM(Device key, MK) in the Join
//!   Domain Response for Pairing (seed 001 §7.2.1.1);
//! - the Pairing Key: AES-WRAP(MK-target, PK) in the Pairing Ticket and AES-WRAP
//!   (MK-requester, PK) in the Pairing Ticket Response (§7.2.1.2, §7.2.1.3), and the ticket
//!   again in the Authentication Request.
//!
//! Not covered: the metering report keys (wrapped to the RI key, seed 004 §11.4.2), the
//! K_MAC of a domain trigger, and the SCE-GEN Master Keys of the RI–DEA contexts (never
//! transmitted). Key identity is the protected key's value (K_D/UDK/K_REK half, MK, PK).
//!
//! **Knowledge** (Dolev–Yao, all adversaries of a run colluding): initially the private key
//! of every compromised endpoint, plus the symmetric keys a compromised *server* holds in its
//! state (an RI's domain keys, the DEA's UDKs and Master Keys, an LRM's Master Key); then
//! every key-carrying blob of every message an adversary sees — the same visibility as
//! `AdversaryTap::controls`'s position test ([`crate::adversary::Position::sees`]: on-path
//! links, the compromised endpoint's own traffic) inside the adversary's active window, plus
//! everything adversaries inject or modify — closed under decryption: an RSA-KEM blob opens
//! with a known private key, an AES key wrap with a known key of the right type (a Domain
//! RO's K_REK under K_D of the domain its KeyInfo names, an Imported RO's under a Pairing
//! Key, a Pairing Key under a Master Key), repeated until no new key is learnt; a UDK of a
//! hash-chain User Domain also yields every older generation (K(g−1) = KDF2-SHA1(K(g)),
//! seed 000 §7.4.1.1). Targets and budget limit what an attacker *does*, not what it can
//! record, so they do not narrow visibility.
//!
//! **Entitlement**: a key the adversaries know is a leak unless it is *entitled*: derivable
//! the same way from the messages honest senders sent only (not injected; a message
//! modified in transit still carries its sender's blobs — a tamperer substituting a blob of
//! its own could only wrap a key it already knew), where a compromised endpoint's private
//! key opens only blobs delivered while it was in good standing for that key:
//! - its certificate is valid and not revoked at delivery time (the ROAP/SCE chain checks);
//! - its key purpose fits: UDK → oma-kp-drmAgent and not oma-kp-sceDrmAgent (seed 000
//!   §7.4.1); Domain Key and Device RO → oma-kp-drmAgent; Master Key → oma-kp-sceDrmAgent
//!   (seed 001 §7.2.1.3: pairing is between SCE DRM Agents);
//! - when an RI delivered it, that RI holds a Device Context for it (registered, ROAP
//!   §5.4.2.1);
//! - for a UDK: at delivery time it is a member of the User Domain — the DEA answered a
//!   Proxy Join for it with Success (seed 000 §7.4.2) and no Proxy Leave since (§7.5.2) —
//!   admitted within the limit: the distinct Devices, itself included, did not exceed
//!   `max_devices` when it joined (§7.4.1, "a DRM Agent MUST only be counted once"). A
//!   Device admitted beyond the limit (pre-CR per-RI counting) is entitled to nothing.
//!
//! For RI-managed domains membership is the RI's decision recorded by the delivery itself.
//! A Device is entitled to the generations delivered to it while in good standing (a
//! Device that left is entitled to no generation it obtains afterwards unless admitted
//! again), and to keys wrapped under keys it is entitled to (Domain ROs of its domains,
//! Pairing Keys under its Master Key, Imported ROs under those). An impersonator without
//! the victim's private key, an on-path attacker and a revoked or wrong-purpose Device are
//! entitled to nothing.
//!
//! The check runs at the end (the private keys and certificates come from the actors); its
//! finding names the key and its owner, and its tokens are the messages that delivered it:
//! the RSA-KEM blob's message, then each wrapped blob opened on the way. Real and symbolic
//! modes use the crypto facade's unwrap with the known key and reach the same verdicts.

use super::{names, AdversaryView, Finding, Monitor, Observed, Roster};
use crate::adversary::Position;
use crate::crypto::{Crypto, OpCounter, PrivateKey, SymKey};
use crate::engine::{ActorId, SimTime, Simulation};
use crate::pdu::keys::ALG_KEM;
use crate::pdu::ro::ProtectedRo;
use crate::pdu::{DomainInfo, Encrypted, Identifier, KeyInfo, Pdu, Status};
use crate::pki::{Certificate, PurposeRule};
use crate::proto::agent::Agent;
use crate::proto::dea::Dea;
use crate::proto::dea_proxy::UserDomainConfig;
use crate::proto::domain::state::{domain_id as make_domain_id, split_domain_id};
use crate::proto::lrm::Lrm;
use crate::proto::msg::SimMsg;
use crate::proto::ri::Ri;
use crate::proto::world::Identity;
use std::collections::{BTreeMap, BTreeSet};

/// Key-carrying blobs remembered (further ones are counted in [`KeysNeverKnown::dropped`]).
pub const MAX_BLOBS: usize = 200_000;
/// Most unwrap attempts of one end-of-run closure.
pub const MAX_UNWRAP_ATTEMPTS: u64 = 4_000_000;
/// Most keys one closure learns.
pub const MAX_KNOWN_KEYS: usize = 200_000;
/// Most User Domain joins and leaves remembered.
pub const MAX_MEMBERSHIP_EVENTS: usize = 1_000_000;

/// What a blob protects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyLabel {
    /// K_MAC‖K_D (RI domain) or K_MAC‖UDK (DEA User Domain) of a domain ID with generation.
    Domain {
        /// Domain ID, generation included.
        domain_id: String,
    },
    /// K_MAC‖K_REK of an RO.
    Rek {
        /// RO ID.
        ro_id: String,
        /// Issuer (RI/LRM ID).
        issuer: Identifier,
    },
    /// A Device's Master Key.
    Master {
        /// Device ID.
        device: Identifier,
    },
    /// A Pairing Key.
    Pairing {
        /// Requester's ID.
        requester: Identifier,
        /// Target's ID.
        target: Identifier,
    },
}

/// How a blob is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wrap {
    /// RSA-KEM to the public key with this SPKI hash (when KeyInfo names one).
    Kem(Option<Vec<u8>>),
    /// AES key wrap under a key of this kind.
    Kw(KekKind),
}

/// The type of key an AES-wrapped blob needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KekKind {
    /// K_D/UDK of this domain ID (Domain RO).
    Domain(String),
    /// A Pairing Key (Imported RO).
    Pairing,
    /// A Master Key (Pairing Key in a ticket or grant).
    Master,
}

/// One remembered blob.
#[derive(Debug, Clone)]
struct Blob {
    label: KeyLabel,
    wrap: Wrap,
    cipher: Vec<u8>,
    token: u64,
    t: SimTime,
    from: ActorId,
    /// Sent by an adversary (a message an honest sender sent stays the sender's even if an
    /// adversary modified other parts of it in transit).
    injected: bool,
}

/// A key the closure learnt.
#[derive(Debug, Clone)]
struct Learnt {
    label: KeyLabel,
    /// The protected key's value (K_D/UDK, K_REK, MK, PK).
    value: Vec<u8>,
    /// Tokens of the messages that delivered it, oldest first.
    chain: Vec<u64>,
}

/// A compromised endpoint as the end-of-run check sees it.
struct Endpoint {
    name: String,
    key: PrivateKey,
    leaf: Option<Certificate>,
    id: Identifier,
    /// Keys it holds as a server (all entitled).
    held: Vec<(KeyLabel, Vec<u8>)>,
}

/// The monitor.
#[derive(Debug, Default)]
pub struct KeysNeverKnown {
    view: AdversaryView,
    blobs: Vec<Blob>,
    /// Blobs not remembered because [`MAX_BLOBS`] was reached.
    pub dropped: u64,
    reported: BTreeSet<Vec<u8>>,
    /// User Domain joins and leaves the DEA answered with Success, in order: (time, ROAP
    /// domain ID base, Device ID, joined).
    ud_events: Vec<(SimTime, String, Identifier, bool)>,
    /// Keys the adversaries knew at the last end-of-run check (for tests and reports).
    pub known_keys: usize,
    /// Of those, keys some compromised endpoint in good standing was entitled to.
    pub entitled_keys: usize,
}

impl KeysNeverKnown {
    /// Whether some adversary sees `obs`.
    fn visible(&self, obs: &Observed<'_>) -> bool {
        obs.injected_by.is_some()
            || obs.tampered_by.is_some()
            || self.view.adversaries.iter().any(|(me, s)| {
                obs.from != *me
                    && s.active(obs.now)
                    && s.position.sees(&self.view.layout, obs.from, obs.to)
            })
    }

    fn push(
        &mut self,
        obs: &Observed<'_>,
        token: u64,
        label: KeyLabel,
        enc: &Encrypted,
        kw: KekKind,
    ) {
        if self.blobs.len() >= MAX_BLOBS {
            self.dropped += 1;
            return;
        }
        let wrap = if enc.algorithm == ALG_KEM {
            Wrap::Kem(match &enc.key_info {
                Some(KeyInfo::SpkiHash(h)) => Some(h.clone()),
                _ => None,
            })
        } else {
            Wrap::Kw(kw)
        };
        self.blobs.push(Blob {
            label,
            wrap,
            cipher: enc.cipher.clone(),
            token,
            t: obs.now,
            from: obs.from,
            injected: obs.injected_by.is_some(),
        });
    }

    fn push_ro(&mut self, obs: &Observed<'_>, token: u64, pro: &ProtectedRo) {
        let ro = &pro.ro;
        let kw = match &ro.enc_key.key_info {
            Some(KeyInfo::DomainId(d)) => KekKind::Domain(d.clone()),
            _ => KekKind::Pairing,
        };
        let label = KeyLabel::Rek {
            ro_id: ro.id.clone(),
            issuer: ro.ri_id.clone(),
        };
        self.push(obs, token, label, &ro.enc_key, kw);
    }

    fn push_domain_info(&mut self, obs: &Observed<'_>, token: u64, info: &DomainInfo) {
        for dk in &info.domain_keys {
            let label = KeyLabel::Domain {
                domain_id: dk.enc_key.id.clone().unwrap_or_default(),
            };
            self.push(obs, token, label, &dk.enc_key, KekKind::Master);
        }
    }
}

impl Monitor for KeysNeverKnown {
    fn name(&self) -> &'static str {
        names::KEYS_NEVER_KNOWN_TO_ADVERSARY
    }

    fn on_adversaries(&mut self, view: &AdversaryView) {
        self.view = view.clone();
    }

    fn on_message(&mut self, obs: &Observed<'_>, token: u64, _found: &mut Vec<Finding>) {
        let Some(pdu) = obs.pdu else { return };
        // Membership is what the DEA decided (global view, whoever sees it).
        if obs.authentic() && self.ud_events.len() < MAX_MEMBERSHIP_EVENTS {
            match pdu {
                Pdu::ProxyJoinUserDomainResponse(r) if r.status == Status::Success => {
                    let info = r.res_info.as_ref();
                    let device = info.and_then(|i| i.device_id.clone());
                    let base = info
                        .and_then(|i| i.domain_info.as_ref())
                        .and_then(|d| d.domain_keys.first())
                        .and_then(|k| k.enc_key.id.as_deref())
                        .and_then(split_domain_id)
                        .map(|(b, _)| b.to_string());
                    if let (Some(d), Some(b)) = (device, base) {
                        self.ud_events.push((obs.now, b, d, true));
                    }
                }
                Pdu::ProxyLeaveUserDomainResponse(r) if r.status == Status::Success => {
                    if let Some((id, d)) = &r.res_info {
                        if let Some((b, _)) = split_domain_id(id) {
                            self.ud_events
                                .push((obs.now, b.to_string(), d.clone(), false));
                        }
                    }
                }
                _ => {}
            }
        }
        if !carries_keys(pdu) || !self.visible(obs) {
            return;
        }
        match pdu {
            Pdu::RoResponse(r) => {
                for pro in r.body.iter().flat_map(|b| &b.protected_ros) {
                    self.push_ro(obs, token, pro);
                }
            }
            Pdu::MoveDeviceRoRequest(m) | Pdu::MoveUserDomainConstrainedRoRequest(m) => {
                for moved in &m.rights_info.ros {
                    self.push_ro(obs, token, &moved.protected_ro);
                }
            }
            Pdu::ImportedRoResponse(r) => {
                for pro in &r.protected_ros {
                    self.push_ro(obs, token, pro);
                }
            }
            Pdu::JoinDomainResponse(r) => {
                if let Some(b) = &r.body {
                    self.push_domain_info(obs, token, &b.domain_info);
                }
            }
            Pdu::ProxyJoinUserDomainResponse(r) => {
                if let Some(info) = r.res_info.as_ref().and_then(|i| i.domain_info.as_ref()) {
                    self.push_domain_info(obs, token, info);
                }
            }
            Pdu::PairingJoinDomainResponse(r) => {
                if let Some(g) = &r.grant {
                    let label = KeyLabel::Master {
                        device: r.device_id.clone(),
                    };
                    self.push(obs, token, label, &g.enc_master_key, KekKind::Master);
                }
            }
            Pdu::PairingTicketResponse(r) => {
                if let Some((ticket, for_requester)) = &r.grant {
                    let label = KeyLabel::Pairing {
                        requester: ticket.requester_id.clone(),
                        target: ticket.target_id.clone(),
                    };
                    self.push(
                        obs,
                        token,
                        label.clone(),
                        &ticket.enc_pairing_key,
                        KekKind::Master,
                    );
                    self.push(obs, token, label, for_requester, KekKind::Master);
                }
            }
            Pdu::AuthenticationRequest(r) => {
                let label = KeyLabel::Pairing {
                    requester: r.ticket.requester_id.clone(),
                    target: r.ticket.target_id.clone(),
                };
                self.push(
                    obs,
                    token,
                    label,
                    &r.ticket.enc_pairing_key,
                    KekKind::Master,
                );
            }
            _ => {}
        }
    }

    fn at_end(&mut self, sim: &Simulation<SimMsg>, roster: &Roster, found: &mut Vec<Finding>) {
        let Some(world) = world_of(sim, roster) else {
            return;
        };
        let cx = EndCx::new(sim, roster, &self.view, &world, &self.ud_events);
        let crypto = &world.crypto;
        let mut ops = OpCounter::new();
        // RSA-KEM openings, once for both closures: (blob, endpoint) → plaintext.
        let mut kem: Vec<(usize, usize, Vec<u8>)> = Vec::new();
        for (b, blob) in self.blobs.iter().enumerate() {
            let Wrap::Kem(hint) = &blob.wrap else {
                continue;
            };
            for (e, ep) in cx.endpoints.iter().enumerate() {
                if hint
                    .as_ref()
                    .is_some_and(|h| h.as_slice() != &ep.key.id().as_bytes()[..])
                {
                    continue;
                }
                if let Ok(pt) = crypto.kem_unwrap(&mut ops, &ep.key, &blob.cipher) {
                    kem.push((b, e, pt));
                    break;
                }
            }
        }
        let known = closure(crypto, &cx, &self.blobs, &kem, false);
        let entitled = closure(crypto, &cx, &self.blobs, &kem, true);
        let entitled_values: BTreeSet<&[u8]> =
            entitled.iter().map(|l| l.value.as_slice()).collect();
        self.known_keys = known.len();
        self.entitled_keys = known
            .iter()
            .filter(|l| entitled_values.contains(l.value.as_slice()))
            .count();
        for l in &known {
            if entitled_values.contains(l.value.as_slice()) || self.reported.contains(&l.value) {
                continue;
            }
            self.reported.insert(l.value.clone());
            let why = cx.why_not(&self.blobs, &kem, l);
            found.push(Finding {
                detail: format!(
                    "{} known to the adversary; no compromised endpoint in good standing is entitled to it ({why})",
                    cx.describe(&l.label)
                ),
                tokens: l.chain.clone(),
            });
        }
    }
}

/// Whether a PDU kind can carry a protected key (cheap pre-filter).
fn carries_keys(p: &Pdu) -> bool {
    matches!(
        p,
        Pdu::RoResponse(_)
            | Pdu::MoveDeviceRoRequest(_)
            | Pdu::MoveUserDomainConstrainedRoRequest(_)
            | Pdu::ImportedRoResponse(_)
            | Pdu::JoinDomainResponse(_)
            | Pdu::ProxyJoinUserDomainResponse(_)
            | Pdu::PairingJoinDomainResponse(_)
            | Pdu::PairingTicketResponse(_)
            | Pdu::AuthenticationRequest(_)
    )
}

/// The shared world, from any protocol actor of the roster.
fn world_of(
    sim: &Simulation<SimMsg>,
    roster: &Roster,
) -> Option<std::rc::Rc<crate::proto::world::World>> {
    roster
        .agents
        .iter()
        .find_map(|&a| sim.actor::<Agent>(a).map(|a| a.world.clone()))
        .or_else(|| {
            roster
                .ris
                .iter()
                .find_map(|&r| sim.actor::<Ri>(r).map(|r| r.world.clone()))
        })
}

/// What the end-of-run check needs from the run.
struct EndCx<'a> {
    sim: &'a Simulation<SimMsg>,
    world: &'a crate::proto::world::World,
    endpoints: Vec<Endpoint>,
    /// ROAP domain ID bases the DEA maps onto User Domains: hash-chain flag, Device limit.
    user_domain_bases: BTreeMap<String, (bool, usize)>,
    /// Membership intervals per (base, Device): from, until, admitted within the limit.
    memberships: Memberships,
    /// Actor names by ID (Devices, RIs, LRMs, the DEA).
    names: BTreeMap<Identifier, String>,
}

impl<'a> EndCx<'a> {
    fn new(
        sim: &'a Simulation<SimMsg>,
        roster: &Roster,
        view: &AdversaryView,
        world: &'a crate::proto::world::World,
        ud_events: &[(SimTime, String, Identifier, bool)],
    ) -> Self {
        // Names as the scenario writes them (layout), else the certificate subject.
        let name_of = |a: ActorId, i: &Identity| -> String {
            let n = view.layout.name(a);
            if n.is_empty() {
                i.name.clone()
            } else {
                n.to_string()
            }
        };
        let mut names = BTreeMap::new();
        let lrms = world.lrms.iter().map(|l| l.actor);
        for a in roster
            .agents
            .iter()
            .chain(&roster.ris)
            .chain(roster.dea.iter())
            .copied()
            .chain(lrms)
        {
            if let Some(i) = identity(sim, a) {
                names.insert(i.id.clone(), name_of(a, i));
            }
        }
        let mut user_domain_bases = BTreeMap::new();
        let dea = roster.dea.and_then(|d| sim.actor::<Dea>(d));
        if let Some(dea) = dea {
            let cfg = &dea.user_domains.config;
            for k in 0..cfg.user_domains {
                let max = dea
                    .user_domains
                    .domains
                    .get(&UserDomainConfig::user_domain_id(k))
                    .map_or(cfg.max_devices, |u| u.max_devices);
                user_domain_bases.insert(UserDomainConfig::domain_base(k), (cfg.hash_chains, max));
            }
        }
        let memberships = memberships(ud_events, &user_domain_bases);
        let mut endpoints = Vec::new();
        let mut seen = BTreeSet::new();
        for (_, s) in &view.adversaries {
            let Position::Compromised { endpoint } = s.position else {
                continue;
            };
            if !seen.insert(endpoint) {
                continue;
            }
            let Some(me) = identity(sim, endpoint) else {
                continue;
            };
            endpoints.push(Endpoint {
                name: name_of(endpoint, me),
                key: me.key.clone(),
                leaf: me.chain.first().cloned(),
                id: me.id.clone(),
                held: held_keys(sim, world, endpoint),
            });
        }
        EndCx {
            sim,
            world,
            endpoints,
            user_domain_bases,
            memberships,
            names,
        }
    }

    fn name(&self, id: &Identifier) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("ID {}", hex::encode(id.hash.get(..4).unwrap_or(&id.hash))))
    }

    /// Whether `domain_id` names a DEA User Domain, and its hash-chain flag.
    fn user_domain(&self, domain_id: &str) -> Option<bool> {
        let (base, _) = split_domain_id(domain_id)?;
        self.user_domain_bases.get(base).map(|u| u.0)
    }

    /// Why `device` was not a member of the User Domain of `domain_id` admitted within its
    /// limit at `t` (`None` = it was).
    fn ud_membership(
        &self,
        domain_id: &str,
        device: &Identifier,
        name: &str,
        t: SimTime,
    ) -> Option<String> {
        let (base, _) = split_domain_id(domain_id)?;
        let max = self.user_domain_bases.get(base)?.1;
        let spans = self
            .memberships
            .get(&(base.to_string(), device.clone()))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        match spans.iter().rev().find(|(from, until, _)| *from <= t && t < *until) {
            Some((_, _, true)) => None,
            Some((_, _, false)) => Some(format!(
                "the DEA admitted {name} to User Domain {base} beyond its limit of {max} Devices (seed 000 §7.4.1)"
            )),
            None => Some(format!("{name} is not a member of User Domain {base}")),
        }
    }

    fn describe(&self, l: &KeyLabel) -> String {
        match l {
            KeyLabel::Domain { domain_id } => {
                match (self.user_domain(domain_id), split_domain_id(domain_id)) {
                    (Some(_), Some((_, g))) => {
                        format!("UDK of User Domain {domain_id} (generation {g})")
                    }
                    (_, Some((_, g))) => {
                        format!("Domain Key of domain {domain_id} (generation {g})")
                    }
                    _ => format!("Domain Key of domain {domain_id}"),
                }
            }
            KeyLabel::Rek { ro_id, issuer } => {
                format!("K_REK of RO {ro_id} issued by {}", self.name(issuer))
            }
            KeyLabel::Master { device } => format!("Master Key of {}", self.name(device)),
            KeyLabel::Pairing { requester, target } => format!(
                "Pairing Key of {} for {}",
                self.name(requester),
                self.name(target)
            ),
        }
    }

    /// Why endpoint `e` is not entitled to what `blob` delivers to it (`None` = it is).
    fn standing(&self, e: &Endpoint, blob: &Blob) -> Option<String> {
        if blob.injected {
            return Some("the message was injected by an adversary".into());
        }
        let Some(leaf) = &e.leaf else {
            return Some(format!("{} has no certificate", e.name));
        };
        if !leaf.valid_at(blob.t) {
            return Some(format!("{}'s certificate is not valid", e.name));
        }
        if !matches!(
            self.world
                .revocations
                .status(leaf.issuer(), leaf.serial(), blob.t),
            crate::pki::CertStatus::Good
        ) {
            return Some(format!("{}'s certificate is revoked", e.name));
        }
        let (rule, what) = match &blob.label {
            KeyLabel::Domain { domain_id } if self.user_domain(domain_id).is_some() => (
                PurposeRule::V2_DRM_AGENT,
                "a v2.x DRM Agent (seed 000 §7.4.1)",
            ),
            KeyLabel::Domain { .. } | KeyLabel::Rek { .. } => {
                (PurposeRule::DRM_AGENT, "a DRM Agent")
            }
            KeyLabel::Master { .. } | KeyLabel::Pairing { .. } => (
                PurposeRule::SCE_DRM_AGENT,
                "an SCE DRM Agent (seed 001 §7.2.1.3)",
            ),
        };
        if rule.require.iter().any(|p| !leaf.has_purpose(*p))
            || rule.forbid.iter().any(|p| leaf.has_purpose(*p))
        {
            return Some(format!("{}'s key purpose is not that of {what}", e.name));
        }
        if let KeyLabel::Domain { domain_id } = &blob.label {
            if self.user_domain(domain_id).is_some() {
                if let Some(why) = self.ud_membership(domain_id, &e.id, &e.name, blob.t) {
                    return Some(why);
                }
            }
        }
        if let Some(ri) = self.sim.actor::<Ri>(blob.from) {
            if !ri.devices.contains_key(&e.id) {
                return Some(format!("{} is not registered with {}", e.name, ri.me.name));
            }
        }
        None
    }

    /// Why a learnt key is not entitled: the first reason found on its RSA-KEM delivery.
    fn why_not(&self, blobs: &[Blob], kem: &[(usize, usize, Vec<u8>)], l: &Learnt) -> String {
        let injected = blobs
            .iter()
            .any(|b| b.injected && b.label == l.label && l.chain.contains(&b.token));
        if injected {
            return "an adversary injected the message that carried it".into();
        }
        for (b, e, _) in kem {
            if l.chain.first() == Some(&blobs[*b].token) {
                if let Some(why) = self.standing(&self.endpoints[*e], &blobs[*b]) {
                    return why;
                }
            }
        }
        "it was opened with a key no entitled endpoint holds".into()
    }
}

/// Membership intervals from the DEA's Success answers, replayed in order: a Device counts
/// once however many RIs it joins through (seed 000 §7.4.1 note) and is admitted within the
/// limit when the distinct members, itself included, do not exceed `max_devices`; a Proxy
/// Leave ends its membership (a Device still associated through another RI is treated as
/// gone, which can only hide a leak, never invent one).
fn memberships(
    events: &[(SimTime, String, Identifier, bool)],
    bases: &BTreeMap<String, (bool, usize)>,
) -> Memberships {
    let mut members: BTreeMap<&str, BTreeSet<&Identifier>> = BTreeMap::new();
    let mut open: BTreeMap<(String, Identifier), (SimTime, bool)> = BTreeMap::new();
    let mut out: Memberships = BTreeMap::new();
    for (t, base, device, join) in events {
        let Some(&(_, max)) = bases.get(base) else {
            continue;
        };
        let set = members.entry(base.as_str()).or_default();
        let key = (base.clone(), device.clone());
        if *join {
            if set.insert(device) {
                open.insert(key, (*t, set.len() <= max));
            }
        } else if set.remove(device) {
            if let Some((from, within)) = open.remove(&key) {
                out.entry(key).or_default().push((from, *t, within));
            }
        }
    }
    for (key, (from, within)) in open {
        out.entry(key)
            .or_default()
            .push((from, SimTime::from_ns(u64::MAX), within));
    }
    out
}

/// Membership spans per (ROAP domain ID base, Device): from, until, admitted within the limit.
type Memberships = BTreeMap<(String, Identifier), Vec<(SimTime, SimTime, bool)>>;

/// The identity of a protocol actor.
fn identity(sim: &Simulation<SimMsg>, a: ActorId) -> Option<&Identity> {
    sim.actor::<Agent>(a)
        .map(Agent::identity)
        .or_else(|| sim.actor::<Ri>(a).map(Ri::identity))
        .or_else(|| sim.actor::<Dea>(a).map(Dea::identity))
        .or_else(|| sim.actor::<Lrm>(a).map(Lrm::identity))
}

/// The protected keys a compromised server holds in its state.
fn held_keys(
    sim: &Simulation<SimMsg>,
    world: &crate::proto::world::World,
    a: ActorId,
) -> Vec<(KeyLabel, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(ri) = sim.actor::<Ri>(a) {
        for (base, d) in &ri.domains.domains {
            for (g, k) in d.keys.iter().enumerate() {
                let domain_id = make_domain_id(base, g as u32);
                out.push((KeyLabel::Domain { domain_id }, k.as_bytes().to_vec()));
            }
        }
        // UDKs the DEA granted it for User Domain ROs (dea_proxy::udk), under the ROAP
        // domain IDs it maps onto those User Domains.
        let mut ops = OpCounter::new();
        for (base, ud) in &ri.user_domain_map {
            let Some(newest) = ri.dea_proxy.udks.newest(ud) else {
                continue;
            };
            for g in 0..=newest {
                if let Some(k) = ri.dea_proxy.udks.key(world, &mut ops, ud, g) {
                    let domain_id = make_domain_id(base, g);
                    out.push((KeyLabel::Domain { domain_id }, k.as_bytes().to_vec()));
                }
            }
        }
    }
    if let Some(lrm) = sim.actor::<Lrm>(a) {
        out.push((
            KeyLabel::Master {
                device: lrm.identity().id.clone(),
            },
            lrm.master_key.as_bytes().to_vec(),
        ));
    }
    if let Some(dea) = sim.actor::<Dea>(a) {
        let mut ops = OpCounter::new();
        let cfg = &dea.user_domains.config;
        for k in 0..cfg.user_domains {
            let Some(ud) = dea
                .user_domains
                .domains
                .get(&UserDomainConfig::user_domain_id(k))
            else {
                continue;
            };
            for g in 0..=ud.generation {
                if let Some(key) = ud.key(world, &mut ops, g) {
                    let domain_id = make_domain_id(&UserDomainConfig::domain_base(k), g);
                    out.push((KeyLabel::Domain { domain_id }, key.as_bytes().to_vec()));
                }
            }
        }
        for (device, m) in &dea.pairing.masters {
            out.push((
                KeyLabel::Master {
                    device: device.clone(),
                },
                m.key.as_bytes().to_vec(),
            ));
        }
    }
    out
}

/// The protected key inside a plaintext of `label`'s kind (the half after K_MAC).
fn protected_part(label: &KeyLabel, pt: &[u8]) -> Option<Vec<u8>> {
    match label {
        KeyLabel::Domain { .. } | KeyLabel::Rek { .. } => pt.get(16..32).map(<[u8]>::to_vec),
        KeyLabel::Master { .. } | KeyLabel::Pairing { .. } => pt.get(..16).map(<[u8]>::to_vec),
    }
}

/// Whether a key labelled `kek` may unwrap a blob needing `need` (typed Dolev–Yao: a blob
/// only opens with a key of the type the protocol wraps it under).
fn fits(need: &KekKind, kek: &KeyLabel) -> bool {
    match (need, kek) {
        (KekKind::Domain(d), KeyLabel::Domain { domain_id }) => d == domain_id,
        (KekKind::Pairing, KeyLabel::Pairing { .. }) => true,
        (KekKind::Master, KeyLabel::Master { .. }) => true,
        _ => false,
    }
}

/// The keys derivable from the remembered blobs. `entitled`: only blobs honest senders sent, and
/// RSA-KEM blobs only where the opening endpoint was in good standing; otherwise every blob.
fn closure(
    crypto: &Crypto,
    cx: &EndCx<'_>,
    blobs: &[Blob],
    kem: &[(usize, usize, Vec<u8>)],
    entitled: bool,
) -> Vec<Learnt> {
    let mut learnt: Vec<Learnt> = Vec::new();
    let mut index: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut add = |learnt: &mut Vec<Learnt>, l: Learnt| -> bool {
        if learnt.len() >= MAX_KNOWN_KEYS || !index.insert(l.value.clone()) {
            return false;
        }
        learnt.push(l);
        true
    };
    for ep in &cx.endpoints {
        for (label, value) in &ep.held {
            add(
                &mut learnt,
                Learnt {
                    label: label.clone(),
                    value: value.clone(),
                    chain: Vec::new(),
                },
            );
        }
    }
    for (b, e, pt) in kem {
        let blob = &blobs[*b];
        if entitled && cx.standing(&cx.endpoints[*e], blob).is_some() {
            continue;
        }
        if let Some(value) = protected_part(&blob.label, pt) {
            add(
                &mut learnt,
                Learnt {
                    label: blob.label.clone(),
                    value,
                    chain: vec![blob.token],
                },
            );
        }
    }
    // Worklist over learnt keys: each new key is tried once on every AES-wrapped blob of
    // its type not opened yet; hash-chain UDKs add their older generations.
    let mut ops = OpCounter::new();
    let mut opened = vec![false; blobs.len()];
    let wrapped: Vec<usize> = (0..blobs.len())
        .filter(|&b| matches!(blobs[b].wrap, Wrap::Kw(_)))
        .collect();
    let mut attempts = 0u64;
    let mut next = 0;
    while next < learnt.len() {
        let kek = learnt[next].clone();
        next += 1;
        if let KeyLabel::Domain { domain_id } = &kek.label {
            if let (Some(true), Some((base, g))) =
                (cx.user_domain(domain_id), split_domain_id(domain_id))
            {
                if g > 0 {
                    if let Ok(k) = SymKey::from_slice(&kek.value) {
                        let older = crypto.udk_previous(&mut ops, &k);
                        add(
                            &mut learnt,
                            Learnt {
                                label: KeyLabel::Domain {
                                    domain_id: make_domain_id(base, g - 1),
                                },
                                value: older.as_bytes().to_vec(),
                                chain: kek.chain.clone(),
                            },
                        );
                    }
                }
            }
        }
        // K_REKs wrap nothing the monitor tracks (content keys travel in DCFs, not PDUs).
        if matches!(kek.label, KeyLabel::Rek { .. }) {
            continue;
        }
        let Ok(key) = SymKey::from_slice(&kek.value) else {
            continue;
        };
        for &b in &wrapped {
            let blob = &blobs[b];
            let Wrap::Kw(need) = &blob.wrap else { continue };
            if opened[b] || (entitled && blob.injected) || !fits(need, &kek.label) {
                continue;
            }
            if attempts >= MAX_UNWRAP_ATTEMPTS {
                return learnt;
            }
            attempts += 1;
            let Ok(pt) = crypto.unwrap(&mut ops, &key, &blob.cipher) else {
                continue;
            };
            opened[b] = true;
            if let Some(value) = protected_part(&blob.label, &pt) {
                let mut chain = kek.chain.clone();
                chain.push(blob.token);
                add(
                    &mut learnt,
                    Learnt {
                        label: blob.label.clone(),
                        value,
                        chain,
                    },
                );
            }
        }
    }
    learnt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_part_is_the_half_after_kmac() {
        let pt: Vec<u8> = (0u8..32).collect();
        let d = KeyLabel::Domain {
            domain_id: "d000".into(),
        };
        assert_eq!(
            protected_part(&d, &pt).unwrap(),
            (16u8..32).collect::<Vec<_>>()
        );
        let m = KeyLabel::Master {
            device: Identifier { hash: vec![1; 20] },
        };
        assert_eq!(
            protected_part(&m, &pt[..16]).unwrap(),
            (0u8..16).collect::<Vec<_>>()
        );
        assert!(protected_part(&d, &pt[..16]).is_none());
    }

    #[test]
    fn keys_fit_only_blobs_of_their_type() {
        let d = KeyLabel::Domain {
            domain_id: "d001".into(),
        };
        assert!(fits(&KekKind::Domain("d001".into()), &d));
        assert!(!fits(&KekKind::Domain("d000".into()), &d));
        assert!(!fits(&KekKind::Master, &d));
        let m = KeyLabel::Master {
            device: Identifier { hash: vec![1; 20] },
        };
        assert!(fits(&KekKind::Master, &m));
        assert!(!fits(&KekKind::Pairing, &m));
    }
}
