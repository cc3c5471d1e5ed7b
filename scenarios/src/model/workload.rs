//! `[workload]` (agent behaviour, RI options) and `[variants]` (readings of the CRs).

use crate::units::{DurationNs, Probability};
use serde::{Deserialize, Serialize};

/// What agents do after they arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    /// Run the 4-pass Registration protocol when an agent arrives.
    pub registration_at_arrival: bool,
    /// Mean RO acquisitions per agent per minute (Poisson).
    pub ro_acquire_rate_per_min: f64,
    /// Mean content consumptions per agent per minute (Poisson); drives metering.
    pub consume_rate_per_min: f64,
    /// Probability that an acquired RO is later moved to another device via the RI.
    pub move_probability: Probability,
    /// Interval between metering reports per agent (none = no metering).
    pub metering_interval: Option<DurationNs>,
    /// Probability that an agent joins a domain after registering.
    pub join_domain_probability: Probability,
    /// Probability that a domain member later leaves the domain.
    pub leave_domain_probability: Probability,
    /// Time an agent waits for a response before it retries.
    pub request_timeout: DurationNs,
    /// Retries after the first attempt (<= 100).
    pub max_retries: u32,
    /// Delay before the first retry.
    pub backoff: DurationNs,
    /// Factor applied to the delay before each further retry (>= 1).
    pub backoff_multiplier: f64,
    /// Upper bound of the retry delay.
    pub backoff_max: DurationNs,
    /// Live nonces a server's replay store keeps per peer (seed 003; the RI per Device, the
    /// DEA per RI and Device, LRMs and pairing targets per Device), >= 1. A nonce is kept
    /// for its freshness window; a peer with this many live nonces is refused (`Abort`).
    pub nonce_cache_size: u32,
    /// Peers with live nonces a server's replay store keeps, >= 1 (beyond: `Abort`).
    pub nonce_cache_devices: u32,
    /// How far a request's DRM time may be from the server's clock (base ROAP
    /// `DeviceTimeError`): the freshness window of every request that carries a time.
    pub time_tolerance: DurationNs,
    /// How long a ROAP Trigger stays valid after the RI issues it (its signed `<notAfter>`,
    /// `[variants] trigger_carries_time`); a Device keeps each trigger nonce until then plus
    /// `time_tolerance`.
    pub trigger_lifetime: DurationNs,
    /// Live trigger nonces each Device keeps, >= 1: with `trigger_carries_time` a Device
    /// holding this many refuses further triggers until one expires; as written the oldest
    /// is forgotten.
    pub trigger_nonce_store: u32,
    /// DEA-triggered leaves per minute over the whole DEA (seed 000 §7.7; Poisson, 0 = none).
    pub dea_trigger_leave_rate_per_min: f64,
    /// meteringReport ROAP Triggers each RI sends per minute to a random registered Device
    /// (seed 004 §11.3; Poisson, 0 = none).
    pub ri_metering_trigger_rate_per_min: f64,
    /// moveDeviceRO ROAP Triggers each RI sends per minute, each naming a movable RO it
    /// issued recently (seed 003 §9.1.1; Poisson, 0 = none).
    pub ri_move_trigger_rate_per_min: f64,
    /// Mean agent-initiated Imports per SCE agent per minute from a random LRM (seed 001).
    pub import_rate_per_min: f64,
    /// Mean dmpPair Move/Copy attempts per SCE agent per minute (seed 001 §7.2.1.3).
    pub pair_rate_per_min: f64,
    /// Probability that a dmpPair attempt is a Copy rather than a Move.
    pub pair_copy_probability: Probability,
    /// Mean Import Initiations per LRM per minute, each to a random SCE agent (seed 001).
    pub lrm_import_rate_per_min: f64,
    /// Probability that an Imported RO permits dmpPair Copy.
    pub lrm_copy_probability: Probability,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            registration_at_arrival: true,
            ro_acquire_rate_per_min: 1.0,
            consume_rate_per_min: 0.0,
            move_probability: Probability::ZERO,
            metering_interval: None,
            join_domain_probability: Probability::ZERO,
            leave_domain_probability: Probability::ZERO,
            request_timeout: DurationNs::from_secs(5),
            max_retries: 3,
            backoff: DurationNs::from_secs(1),
            backoff_multiplier: 2.0,
            backoff_max: DurationNs::from_secs(30),
            nonce_cache_size: 1024,
            nonce_cache_devices: 1_000_000,
            time_tolerance: DurationNs::from_secs(300),
            trigger_lifetime: DurationNs::from_secs(60),
            trigger_nonce_store: 64,
            dea_trigger_leave_rate_per_min: 0.0,
            ri_metering_trigger_rate_per_min: 0.0,
            ri_move_trigger_rate_per_min: 0.0,
            import_rate_per_min: 0.0,
            pair_rate_per_min: 0.0,
            pair_copy_probability: Probability::ZERO,
            lrm_import_rate_per_min: 0.0,
            lrm_copy_probability: Probability::ZERO,
        }
    }
}

/// Switches between the behaviour before and after each change request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Variants {
    /// MeteringReportResponse carries an RI signature the device verifies (seed 004).
    pub metering_response_signed: bool,
    /// Move retries use a fresh nonce (seed 003).
    pub move_fresh_nonce_retries: bool,
    /// RIs track recent device nonces and reject replays (seed 003).
    pub ri_nonce_tracking: bool,
    /// Input of the Domain Key MAC in Join Domain (seed 002).
    pub domain_key_mac: DomainKeyMac,
    /// `<domainKey>` appears namespace-qualified as `<roap:domainKey>` (seed 002).
    pub domain_key_qualified: bool,
    /// The DEA counts an agent once against the domain limit however often it is listed
    /// in a Proxy Join User Domain Request (seed 000).
    pub dea_count_once: bool,
    /// The DEA refuses a repeated RI request nonce as a replay (seed 000 §7.2.2, §7.4.1,
    /// §7.5.1: drmsim's reading of the SCE-GEN default processing; false = no replay check).
    pub dea_nonce_tracking: bool,
    /// Every ROAP trigger names its target Device (`<deviceID>`, signed/MACed) and a Device
    /// refuses one naming another (drmsim's reading; false = ROAP §5.2.1 / seed 000 §7.6.2
    /// as written: triggers name no Device).
    pub trigger_names_device: bool,
    /// Every ROAP trigger carries a signed `<notAfter>` (RI time + `trigger_lifetime`); a
    /// Device refuses an expired one and keeps each nonce until then (drmsim's reading;
    /// false = ROAP §5.2.1 as written: no time, the Device remembers the newest
    /// `trigger_nonce_store` nonces).
    pub trigger_carries_time: bool,
    /// Fraction of agents that read the Domain Key MAC input (seed 002) the other way
    /// than `domain_key_mac` (a mixed population; spread evenly over agent indices).
    pub domain_key_mac_other_fraction: Probability,
}

impl Default for Variants {
    fn default() -> Self {
        Variants {
            metering_response_signed: true,
            move_fresh_nonce_retries: true,
            ri_nonce_tracking: true,
            domain_key_mac: DomainKeyMac::Xc14n,
            domain_key_qualified: true,
            dea_count_once: true,
            dea_nonce_tracking: true,
            trigger_names_device: true,
            trigger_carries_time: true,
            domain_key_mac_other_fraction: Probability::ZERO,
        }
    }
}

/// `[user_domains]`: the User Domains the DEA manages (seed 000); used when
/// `population.dea` is 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UserDomains {
    /// Number of User Domains (every RI asks the DEA for all of them at start).
    pub count: u32,
    /// Maximum number of Devices per User Domain.
    pub max_devices: u32,
    /// Newest UDK generation at start (keys exist for 0..=generation).
    pub generation: u32,
    /// The DEA manages UDKs with the DRM v2.1 hash chain.
    pub hash_chains: bool,
    /// Share of agents announcing Hash Chain Support when joining (they then receive only
    /// the newest UDK and derive older ones).
    pub agents_hash_chain_share: Probability,
    /// Share of Domain RO requests that name an older generation than the newest.
    pub older_generation_ro_share: Probability,
}

impl Default for UserDomains {
    fn default() -> Self {
        UserDomains {
            count: 1,
            max_devices: 10,
            generation: 0,
            hash_chains: false,
            agents_hash_chain_share: Probability::ZERO,
            older_generation_ro_share: Probability::ZERO,
        }
    }
}

/// The two readings of the Domain Key MAC input (seed 002 §1).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainKeyMac {
    /// XPath node set of `<domainKey>` without `<mac>`, Exclusive-C14N'd (option 2, adopted).
    #[default]
    Xc14n,
    /// Raw octet substring `<domainKey>…</domainKey>` without `<mac>` (option 1).
    Substring,
}
