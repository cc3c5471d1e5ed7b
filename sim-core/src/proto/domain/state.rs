//! What RIs and Devices keep about ROAP domains (OMA-TS-DRM-DRM-V2_0 §5.4.4/§5.4.5): domain
//! identifiers (base + 3-digit generation), the RI's domains with one Domain Key per
//! generation, the Device's Domain Contexts, and each actor's own reading of seed 002.

use crate::crypto::SymKey;
use crate::engine::SimTime;
use crate::pdu::{Expiry, Identifier, MacInterpretation};
use crate::proto::world::Variants;
use rand::RngCore;
use std::collections::{BTreeMap, BTreeSet};

/// Digits of the generation suffix of a domain ID (DRM 2.0 §5.4.4: "a 3-digit counter").
pub const GENERATION_DIGITS: usize = 3;
/// Largest domain generation (3 decimal digits).
pub const MAX_GENERATION: u32 = 999;
/// Bound on the Domain Contexts one Device stores.
pub const MAX_DOMAIN_CONTEXTS: usize = 64;
/// Bound on the domains one RI manages.
pub const MAX_DOMAINS_PER_RI: usize = 100_000;
/// Longest domain ID base accepted (hostile input bound).
pub const MAX_DOMAIN_BASE_LEN: usize = 128;

/// `base` followed by the 3-digit `generation` (e.g. `ri0-dom1` + `002`).
pub fn domain_id(base: &str, generation: u32) -> String {
    format!("{base}{:03}", generation.min(MAX_GENERATION))
}

/// Splits a domain ID into its base and generation; `None` when it does not end in three
/// ASCII digits or the base is empty or too long.
pub fn split_domain_id(id: &str) -> Option<(&str, u32)> {
    if id.len() <= GENERATION_DIGITS || !id.is_char_boundary(id.len() - GENERATION_DIGITS) {
        return None;
    }
    let (base, gen) = id.split_at(id.len() - GENERATION_DIGITS);
    if base.len() > MAX_DOMAIN_BASE_LEN || !gen.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, gen.parse().ok()?))
}

/// One actor's reading of seed 002: how it forms the Domain Key MAC input and which
/// `<domainKey>` form it writes (RI) or its parser accepts (Device). Each RI and Device
/// carries its own, so a mixed population shows the interoperability failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainKeyProfile {
    /// MAC input interpretation (seed 002 §1 options 1/2).
    pub mac: MacInterpretation,
    /// `<roap:domainKey>` (qualified, post-CR) vs `<domainKey>` (pre-CR schema).
    pub qualified: bool,
}

impl DomainKeyProfile {
    /// The world's default reading.
    pub fn from_variants(v: &Variants) -> Self {
        DomainKeyProfile {
            mac: v.domain_key_mac,
            qualified: v.domain_key_qualified,
        }
    }

    /// The other MAC interpretation.
    pub fn other_mac(mac: MacInterpretation) -> MacInterpretation {
        match mac {
            MacInterpretation::NodeSet => MacInterpretation::Substring,
            MacInterpretation::Substring => MacInterpretation::NodeSet,
        }
    }
}

/// How domains are provisioned in a run (part of the world configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DomainConfig {
    /// Domains each RI manages itself.
    pub domains_per_ri: u32,
    /// Maximum Devices per domain (`DomainFull` beyond it).
    pub max_members: usize,
    /// Current generation of every domain at start (keys exist for 0..=generation).
    pub generation: u32,
    /// Domain lifetime from virtual time zero (`None` = `Infinite`).
    pub lifetime_ns: Option<u64>,
    /// Mean time a member stays before a workload-driven leave, ns.
    pub mean_membership_ns: u64,
    /// Fraction of agents that use the other Domain Key MAC interpretation than the world
    /// variant (spread evenly over agent indices).
    pub agents_other_mac_fraction: f64,
    /// Fraction of agents whose parser expects the other `<domainKey>` form.
    pub agents_other_form_fraction: f64,
    /// Fraction of a member's workload RO acquisitions that ask for Domain ROs.
    pub domain_ro_fraction: f64,
}

impl Default for DomainConfig {
    fn default() -> Self {
        DomainConfig {
            domains_per_ri: 1,
            max_members: 1_000,
            generation: 0,
            lifetime_ns: None,
            mean_membership_ns: 60 * crate::engine::time::NS_PER_S,
            agents_other_mac_fraction: 0.0,
            agents_other_form_fraction: 0.0,
            domain_ro_fraction: 0.5,
        }
    }
}

impl DomainConfig {
    /// Base of RI `ri`'s `k`-th domain.
    pub fn base(ri: usize, k: u32) -> String {
        format!("ri{ri}-dom{k}-")
    }

    /// Whether agent `i` gets the minority setting for `fraction` (exactly ⌊n·f⌋ of the
    /// first n agents do, interleaved, so any prefix of the population has the mix).
    pub fn flips(i: u32, fraction: f64) -> bool {
        let f = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        ((i as f64 + 1.0) * f).floor() > (i as f64 * f).floor()
    }

    /// The seed-002 profile of agent `i`.
    pub fn agent_profile(&self, v: &Variants, i: u32) -> DomainKeyProfile {
        let mut p = DomainKeyProfile::from_variants(v);
        if Self::flips(i, self.agents_other_mac_fraction) {
            p.mac = DomainKeyProfile::other_mac(p.mac);
        }
        if Self::flips(i, self.agents_other_form_fraction) {
            p.qualified = !p.qualified;
        }
        p
    }
}

/// A domain an RI manages itself.
#[derive(Debug, Clone)]
pub struct RiDomain {
    /// Domain ID without generation.
    pub base: String,
    /// Domain Key of each generation (index = generation; never empty).
    pub keys: Vec<SymKey>,
    /// Maximum number of member Devices.
    pub max_members: usize,
    /// Member Devices (each counted once however often it joins).
    pub members: BTreeSet<Identifier>,
    /// Devices the RI refuses for policy reasons (`DomainAccessDenied`).
    pub denied: BTreeSet<Identifier>,
    /// End of the domain's lifetime.
    pub not_after: Expiry,
}

impl RiDomain {
    /// A domain with keys for generations `0..=generation` drawn from `rng`.
    pub fn new(
        base: String,
        generation: u32,
        max_members: usize,
        not_after: Expiry,
        rng: &mut dyn RngCore,
    ) -> Self {
        let keys = (0..=generation.min(MAX_GENERATION))
            .map(|_| SymKey::random(rng))
            .collect();
        RiDomain {
            base,
            keys,
            max_members,
            members: BTreeSet::new(),
            denied: BTreeSet::new(),
            not_after,
        }
    }

    /// Current generation.
    pub fn generation(&self) -> u32 {
        self.keys.len().saturating_sub(1) as u32
    }

    /// Current domain ID (base + current generation).
    pub fn current_id(&self) -> String {
        domain_id(&self.base, self.generation())
    }

    /// Current Domain Key.
    pub fn current_key(&self) -> &SymKey {
        self.keys.last().expect("a domain always has a key")
    }

    /// Moves the domain to the next generation with a fresh key (e.g. after a member was
    /// removed); `false` when the 3-digit counter is exhausted.
    pub fn upgrade(&mut self, rng: &mut dyn RngCore) -> bool {
        if self.generation() >= MAX_GENERATION {
            return false;
        }
        self.keys.push(SymKey::random(rng));
        true
    }
}

/// Who answers for a domain ID at this RI: the extension point for DEA-managed User
/// Domains (seed 000 §7.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainOwner {
    /// An RI-managed ROAP domain.
    Ri,
    /// Mapped to a DEA User Domain (seed 000 §7.2.2 `domainID` attribute): joins and leaves
    /// are proxied to the DEA.
    Dea {
        /// The User Domain the domain ID maps to.
        user_domain: String,
    },
    /// Neither: `InvalidDomain`.
    Unknown,
}

/// The domain state of an RI.
#[derive(Debug, Clone)]
pub struct RiDomains {
    /// This RI's seed-002 reading (form written, MAC input computed).
    pub profile: DomainKeyProfile,
    /// RI-managed domains by base.
    pub domains: BTreeMap<String, RiDomain>,
    /// Nonces of triggers this RI issued, each kept while a request could echo it
    /// (`proto/trigger/nonces.rs`; full: no further trigger is issued).
    pub issued_triggers: crate::proto::trigger::IssuedTriggers,
    /// Requests that echoed a trigger nonce this RI issued.
    pub triggered_requests: u64,
    /// Requests that echoed a trigger nonce this RI does not know.
    pub unknown_trigger_nonces: u64,
}

/// Live trigger nonces an RI remembers (each for the trigger's lifetime plus the time
/// tolerance plus a Device's retry span; beyond this many the RI issues no trigger until one
/// expires). With the default 60 s + 300 s + 70 s that is ~150 triggers a second sustained.
pub const MAX_ISSUED_TRIGGERS: usize = 65_536;

impl RiDomains {
    /// No domains, the given reading.
    pub fn new(profile: DomainKeyProfile) -> Self {
        RiDomains {
            profile,
            domains: BTreeMap::new(),
            issued_triggers: Default::default(),
            triggered_requests: 0,
            unknown_trigger_nonces: 0,
        }
    }

    /// The domains of RI number `ri` per `cfg`, keys from `rng`.
    pub fn provision(
        cfg: &DomainConfig,
        profile: DomainKeyProfile,
        ri: usize,
        epoch_unix_s: u64,
        rng: &mut dyn RngCore,
    ) -> Self {
        let mut d = RiDomains::new(profile);
        let not_after = match cfg.lifetime_ns {
            None => Expiry::Infinite,
            Some(ns) => Expiry::At(crate::pdu::DateTime::from_unix_s(
                epoch_unix_s + ns / crate::engine::time::NS_PER_S,
            )),
        };
        for k in 0..cfg.domains_per_ri.min(MAX_DOMAINS_PER_RI as u32) {
            let base = DomainConfig::base(ri, k);
            d.domains.insert(
                base.clone(),
                RiDomain::new(base, cfg.generation, cfg.max_members, not_after, rng),
            );
        }
        d
    }

    /// Records a trigger nonce issued at `now_ns` that a request may echo until
    /// `keep_until_ns`; `false` (not recorded: do not issue the trigger) when
    /// `MAX_ISSUED_TRIGGERS` are still live.
    pub fn remember_trigger(&mut self, nonce: &[u8], now_ns: u64, keep_until_ns: u64) -> bool {
        self.issued_triggers
            .remember(nonce, now_ns, keep_until_ns, MAX_ISSUED_TRIGGERS)
    }

    /// Counts a request's `triggerNonce` (received at `now_ns`) as matched or unknown.
    pub fn note_trigger_nonce(&mut self, nonce: Option<&[u8]>, now_ns: u64) {
        if let Some(n) = nonce {
            if self.issued_triggers.knows(n, now_ns) {
                self.triggered_requests += 1;
            } else {
                self.unknown_trigger_nonces += 1;
            }
        }
    }
}

impl Default for RiDomains {
    fn default() -> Self {
        RiDomains::new(DomainKeyProfile::from_variants(&Variants::default()))
    }
}

/// A Device's Domain Context: the keys of one domain it joined.
#[derive(Debug, Clone)]
pub struct DomainContext {
    /// Index of the RI that manages the domain.
    pub ri: usize,
    /// Domain ID without generation.
    pub base: String,
    /// Domain Keys by generation.
    pub keys: BTreeMap<u32, SymKey>,
    /// Expiry of the context.
    pub not_after: Expiry,
    /// When the Device joined (virtual time).
    pub joined_at: SimTime,
    /// Joined with the Hash Chain Support extension on both sides ([DRM-DRM-v2.1], seed
    /// 000 §7.4.1.1): only the newest key was delivered; older ones are derived.
    pub hash_chain: bool,
}

/// Counters of the domain protocols at a Device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainStats {
    /// Domain Keys rejected because their MAC did not verify (seed 002 interop failure).
    pub mac_failures: u64,
    /// Join responses rejected because `<domainKey>` had the form this parser rejects.
    pub form_failures: u64,
    /// Domain ROs deleted when leaving a domain.
    pub ros_deleted_on_leave: u64,
    /// Triggers accepted.
    pub triggers_accepted: u64,
    /// Triggers discarded (unknown RI, bad signature/MAC, replay, malformed).
    pub triggers_discarded: u64,
}

/// The domain state of a Device.
#[derive(Debug, Clone)]
pub struct AgentDomains {
    /// This Device's seed-002 reading.
    pub profile: DomainKeyProfile,
    /// Domain IDs (with generation) this Device's user may join at its home RI.
    pub known: Vec<String>,
    /// Domain Contexts by domain base.
    pub contexts: BTreeMap<String, DomainContext>,
    /// Mean membership before a workload-driven leave.
    pub mean_membership_ns: u64,
    /// Fraction of workload acquisitions that ask for Domain ROs while a member.
    pub domain_ro_fraction: f64,
    /// Nonces of the triggers acted on, each kept for its trigger's window
    /// (`proto/trigger/nonces.rs`): replayed triggers are discarded.
    pub seen_trigger_nonces: crate::proto::trigger::SeenTriggers,
    /// This Device announces Hash Chain Support in its JoinDomainRequests (DRM v2.1).
    pub hash_chain_support: bool,
    /// Fraction of workload Domain RO requests naming an older generation of the domain
    /// (content licensed before the newest UDK/K_D generation).
    pub older_generation_ro_fraction: f64,
    /// Triggers waiting for registration with their RI to complete (bounded).
    pub pending_triggers: Vec<(usize, crate::pdu::trigger::RoapTrigger)>,
    /// Counters.
    pub stats: DomainStats,
}

/// Triggers a Device keeps waiting for registration.
pub const MAX_PENDING_TRIGGERS: usize = 8;

impl AgentDomains {
    /// No domains, the given reading.
    pub fn new(profile: DomainKeyProfile) -> Self {
        AgentDomains {
            profile,
            known: Vec::new(),
            contexts: BTreeMap::new(),
            mean_membership_ns: DomainConfig::default().mean_membership_ns,
            domain_ro_fraction: DomainConfig::default().domain_ro_fraction,
            seen_trigger_nonces: Default::default(),
            hash_chain_support: false,
            older_generation_ro_fraction: 0.0,
            pending_triggers: Vec::new(),
            stats: DomainStats::default(),
        }
    }

    /// The state of agent number `i` whose home RI is `home`: its seed-002 reading per
    /// `cfg`, and the current IDs of the home RI's domains as the ones it may join.
    pub fn provision(cfg: &DomainConfig, v: &Variants, i: u32, home: usize) -> Self {
        let mut d = AgentDomains::new(cfg.agent_profile(v, i));
        d.known = (0..cfg.domains_per_ri.min(MAX_DOMAINS_PER_RI as u32))
            .map(|k| domain_id(&DomainConfig::base(home, k), cfg.generation))
            .collect();
        d.mean_membership_ns = cfg.mean_membership_ns;
        d.domain_ro_fraction = cfg.domain_ro_fraction;
        d
    }

    /// The Domain Key of `domain_id` (base + generation), if this Device holds it.
    pub fn key_for(&self, domain_id: &str) -> Option<&SymKey> {
        let (base, gen) = split_domain_id(domain_id)?;
        self.contexts.get(base)?.keys.get(&gen)
    }

    /// The Domain Key of `domain_id`: held, or — in a hash-chain context — derived from the
    /// nearest newer generation held, K(g−1) = KDF2-SHA1(K(g), 16) ([DRM-DRM-v2.1], seed
    /// 000 §7.4.1.1, §7.4.2).
    pub fn key_derived(
        &self,
        crypto: &crate::crypto::Crypto,
        ops: &mut crate::crypto::OpCounter,
        domain_id: &str,
    ) -> Option<SymKey> {
        let (base, gen) = split_domain_id(domain_id)?;
        let c = self.contexts.get(base)?;
        if let Some(k) = c.keys.get(&gen) {
            return Some(*k);
        }
        if !c.hash_chain {
            return None;
        }
        let (newer, k) = c.keys.range(gen..).next()?;
        crypto.udk_for_generation(ops, k, *newer, gen).ok()
    }
}

impl Default for AgentDomains {
    fn default() -> Self {
        AgentDomains::new(DomainKeyProfile::from_variants(&Variants::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_ids_split_into_base_and_generation() {
        assert_eq!(domain_id("ri0-dom1-", 2), "ri0-dom1-002");
        assert_eq!(split_domain_id("ri0-dom1-002"), Some(("ri0-dom1-", 2)));
        assert_eq!(split_domain_id("Domain-XYZ-001"), Some(("Domain-XYZ-", 1)));
        assert_eq!(split_domain_id("001"), None);
        assert_eq!(split_domain_id("abc0x1"), None);
        assert_eq!(split_domain_id("ab€"), None);
        assert_eq!(split_domain_id(""), None);
    }

    #[test]
    fn flips_spread_the_fraction_exactly() {
        let n = (0..10).filter(|&i| DomainConfig::flips(i, 0.5)).count();
        assert_eq!(n, 5);
        let n = (0..100).filter(|&i| DomainConfig::flips(i, 0.3)).count();
        assert_eq!(n, 30);
        assert!(!(0..10).any(|i| DomainConfig::flips(i, 0.0)));
        assert!((0..10).all(|i| DomainConfig::flips(i, 1.0)));
        assert!(!(0..10).any(|i| DomainConfig::flips(i, f64::NAN)));
    }

    #[test]
    fn domains_have_one_key_per_generation() {
        let mut rng = crate::engine::rng::stream(1, "t", "k");
        let mut d = RiDomain::new("b-".into(), 2, 3, Expiry::Infinite, &mut rng);
        assert_eq!(d.keys.len(), 3);
        assert_eq!(d.current_id(), "b-002");
        assert!(d.upgrade(&mut rng));
        assert_eq!(d.generation(), 3);
        assert_ne!(d.keys[3], d.keys[2]);
    }
}
