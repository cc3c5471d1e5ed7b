//! The shared, read-only world every protocol actor sees: crypto facade, cost table, protocol
//! parameters, spec variants, trust anchors, the certificate directory and where the servers
//! are. Built once per run by `proto::build`; shared with `Rc` (a run is single-threaded).

use super::costs::CostTable;
use super::pki_wire::CertDirectory;
use crate::crypto::{Crypto, CryptoMode, MacAlg, OpCounter, SigAlg};
use crate::engine::time::{NS_PER_MS, NS_PER_S};
use crate::engine::{ActorId, SimTime};
use crate::pdu::{CertificateChain, DateTime, Identifier, MacInterpretation};
use crate::pki::{Certificate, RevocationList, TrustStore};

/// Timeouts, retry limits and cache bounds of the protocols.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProtoParams {
    /// How long a client waits for a response before retrying.
    pub request_timeout_ns: u64,
    /// Retries after the first attempt before the protocol is abandoned (bounded back-off).
    pub max_retries: u32,
    /// First back-off delay.
    pub backoff_base_ns: u64,
    /// Factor applied to the back-off before each further retry (≥ 1).
    pub backoff_multiplier: f64,
    /// Largest back-off delay.
    pub backoff_max_ns: u64,
    /// How far a Device's DRM time may be from the RI's before `DeviceTimeError`.
    pub time_tolerance_ns: u64,
    /// Live nonces a server's replay store keeps per peer (seed 003; `nonce_cache`): each is
    /// kept for its freshness window, and a peer with this many is refused (`Abort`).
    pub nonce_cache_per_device: usize,
    /// Peers with live nonces a server's replay store keeps (beyond: `Abort`).
    pub nonce_cache_devices: usize,
    /// Processed requests (and the responses sent) each server keeps to answer verbatim
    /// repeats (`repeats.rs`, default `repeats::DEFAULT_LIMIT`); 0 switches the store off.
    pub repeat_store_limit: usize,
    /// Oldest OCSP response a validator accepts.
    pub ocsp_max_age_ns: u64,
    /// How often an RI refreshes the OCSP response it staples.
    pub ocsp_refresh_ns: u64,
    /// Signature algorithm negotiated in registration.
    pub sig_alg: SigAlg,
    /// MAC algorithm negotiated in registration.
    pub mac_alg: MacAlg,
    /// Nonce length in bytes (ROAP: at least 14).
    pub nonce_bytes: usize,
    /// Bound on the ROs a Device stores.
    pub max_ros_per_device: usize,
    /// Bound on outstanding protocol sessions per Device.
    pub max_sessions_per_device: usize,
    /// How long a ROAP Trigger stays valid after the RI issues it: its `<notAfter>` is the
    /// RI's time plus this (`Variants::trigger_carries_time`; proto/trigger.rs).
    pub trigger_lifetime_ns: u64,
    /// Trigger nonces a Device keeps live (each until its trigger's `<notAfter>` plus the
    /// time tolerance has passed on the Device's DRM clock; a Device with this many refuses
    /// further triggers until one expires).
    pub trigger_nonces_per_device: usize,
}

impl Default for ProtoParams {
    fn default() -> Self {
        ProtoParams {
            request_timeout_ns: 10 * NS_PER_S,
            max_retries: 3,
            backoff_base_ns: 500 * NS_PER_MS,
            backoff_multiplier: 2.0,
            backoff_max_ns: 30 * NS_PER_S,
            time_tolerance_ns: 300 * NS_PER_S,
            nonce_cache_per_device: 1024,
            nonce_cache_devices: 1_000_000,
            repeat_store_limit: super::repeats::DEFAULT_LIMIT,
            ocsp_max_age_ns: 3_600 * NS_PER_S,
            ocsp_refresh_ns: 600 * NS_PER_S,
            sig_alg: SigAlg::RsaPssSha1,
            mac_alg: MacAlg::HmacSha1,
            nonce_bytes: 14,
            max_ros_per_device: 10_000,
            max_sessions_per_device: 64,
            trigger_lifetime_ns: DEFAULT_TRIGGER_LIFETIME_NS,
            trigger_nonces_per_device: DEFAULT_TRIGGER_NONCES_PER_DEVICE,
        }
    }
}

/// Default `ProtoParams::trigger_lifetime_ns`: a trigger is acted on when it arrives (the
/// Device's own request then has its own retries), so a minute covers any delivery delay the
/// network models short of a partition.
pub const DEFAULT_TRIGGER_LIFETIME_NS: u64 = 60 * NS_PER_S;
/// Default `ProtoParams::trigger_nonces_per_device`.
pub const DEFAULT_TRIGGER_NONCES_PER_DEVICE: usize = 64;

/// Switches between the text before and after each change request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variants {
    /// Seed 004: MeteringReportResponse is signed and verified (false = pre-CR, unsigned).
    pub metering_response_signed: bool,
    /// Seed 003: retries use a fresh nonce (false = the nonce is reused).
    pub fresh_nonce_retries: bool,
    /// Seed 003: the RI tracks recently seen Device nonces and rejects replays.
    pub ri_nonce_tracking: bool,
    /// Seed 002: how the Domain Key MAC input is formed (default: XPath node set + XC14N).
    pub domain_key_mac: MacInterpretation,
    /// Seed 002: `<roap:domainKey>` in qualified form (false = pre-CR unqualified form).
    pub domain_key_qualified: bool,
    /// Seed 000: a Device counts once against a User Domain's limit however many RIs it
    /// joins through (false = counted per RI).
    pub dea_count_once: bool,
    /// Seed 000 §7.2.2/§7.4.1/§7.5.1 ("Default, as specified in [SCE-GEN]" nonce): the DEA
    /// remembers the nonces of the RI requests it answered and refuses a repeat as a replay
    /// (drmsim's reading; false = the seed's text taken literally: no replay check).
    pub dea_nonce_tracking: bool,
    /// ROAP §5.2.1 triggers (and so the RI's Trigger{leaveDomain} of seed 000 §7.6.2) name no
    /// Device, and a leaveDomain trigger's MAC key is one every domain member holds. drmsim's
    /// reading: every trigger carries the target's `<deviceID>` (as DRM v2.1 extended
    /// triggers do) inside its signature/MAC, and a Device refuses a trigger that does not
    /// name it (false = the text as written: any Device that can authenticate it acts).
    pub trigger_names_device: bool,
    /// ROAP §5.2.1 triggers carry no time, so a Device cannot tell an old trigger from a new
    /// one except by remembering every nonce. drmsim's reading: every trigger carries a
    /// `<notAfter>` (RI time + `trigger_lifetime_ns`) inside its signature/MAC, a Device
    /// refuses a trigger past it (beyond the time tolerance) and keeps each nonce until
    /// then, refusing triggers when that store is full (false = the text as written: no
    /// time; the Device remembers the last `trigger_nonces_per_device` nonces, so a replay
    /// after that many other triggers is acted on again).
    pub trigger_carries_time: bool,
}

impl Default for Variants {
    fn default() -> Self {
        Variants {
            metering_response_signed: true,
            fresh_nonce_retries: true,
            ri_nonce_tracking: true,
            domain_key_mac: MacInterpretation::NodeSet,
            domain_key_qualified: true,
            dea_count_once: true,
            dea_nonce_tracking: true,
            trigger_names_device: true,
            trigger_carries_time: true,
        }
    }
}

/// A Rights Issuer as Devices know it (from triggers / configuration).
#[derive(Debug, Clone)]
pub struct RiInfo {
    /// Actor name, e.g. `ri/0`.
    pub name: String,
    /// Actor id.
    pub actor: ActorId,
    /// RI ID (SHA-1 of its SPKI).
    pub id: Identifier,
    /// Its ROAP URL.
    pub url: String,
}

/// The world shared by all protocol actors of a run.
#[derive(Debug)]
pub struct World {
    /// Crypto facade (real or symbolic).
    pub crypto: Crypto,
    /// CPU cost table.
    pub costs: CostTable,
    /// Protocol parameters.
    pub params: ProtoParams,
    /// Spec variants.
    pub variants: Variants,
    /// Roots and the OCSP responder every validator trusts.
    pub trust: TrustStore,
    /// The CA's revocation list (authoritative: only the OCSP responder and servers with
    /// direct CA access consult it).
    pub revocations: RevocationList,
    /// Issued certificates by wire octets.
    pub certs: CertDirectory,
    /// Unix time of virtual time zero (DRM time is reported as dateTime from here).
    pub epoch_unix_s: u64,
    /// The OCSP responder actor.
    pub ocsp: Option<ActorId>,
    /// Rights Issuers, by index.
    pub ris: Vec<RiInfo>,
    /// Certificates of the OCSP responder (stapled so validators can check its signature).
    pub ocsp_chain: Vec<Certificate>,
    /// The Domain Enforcement Agent, if the run has one.
    pub dea: Option<ActorId>,
    /// The DEA's ID (SHA-1 of its SPKI), when it exists.
    pub dea_id: Option<Identifier>,
    /// Local Rights Managers, by index (seed 001 §7.2.1.2).
    pub lrms: Vec<super::pairing::PeerInfo>,
    /// SCE DRM Agents (certificate with `oma-kp-sceDrmAgent`), by index: pairing peers.
    pub sce_agents: Vec<super::pairing::PeerInfo>,
}

impl World {
    /// Crypto mode of the run.
    pub fn mode(&self) -> CryptoMode {
        self.crypto.mode()
    }

    /// A DRM time (ns since virtual zero) as a ROAP dateTime.
    pub fn datetime(&self, drm_time_ns: u64) -> DateTime {
        DateTime::from_unix_s(self.epoch_unix_s + drm_time_ns / NS_PER_S)
    }

    /// A ROAP dateTime back to ns since virtual zero (saturating at 0).
    pub fn drm_ns(&self, t: &DateTime) -> u64 {
        t.unix_s.saturating_sub(self.epoch_unix_s) * NS_PER_S
    }

    /// The RI whose ID is `id`.
    pub fn ri_by_id(&self, id: &Identifier) -> Option<(usize, &RiInfo)> {
        self.ris.iter().enumerate().find(|(_, r)| &r.id == id)
    }

    /// The RI whose ROAP URL is `url` (where a trigger's `roapURL` sends the request).
    pub fn ri_by_url(&self, url: &str) -> Option<usize> {
        self.ris.iter().position(|r| r.url == url)
    }

    /// The RI running as `actor`.
    pub fn ri_by_actor(&self, actor: ActorId) -> Option<(usize, &RiInfo)> {
        self.ris.iter().enumerate().find(|(_, r)| r.actor == actor)
    }

    /// The ID (SHA-1 of the SPKI) of `cert`'s key.
    pub fn id_of(cert: &Certificate) -> Identifier {
        Identifier::new(cert.key_id().as_bytes().to_vec())
    }

    /// A fresh nonce from `rng`.
    pub fn nonce(&self, rng: &mut impl rand::RngCore) -> Vec<u8> {
        let mut n = vec![0u8; self.params.nonce_bytes];
        rng.fill_bytes(&mut n);
        n
    }

    /// Charges the cost of everything logged in `ops` plus `extra_ns` to the current event.
    pub fn charge<M: crate::engine::Message>(
        &self,
        ctx: &mut crate::engine::Ctx<'_, M>,
        ops: &mut OpCounter,
        extra_ns: u64,
    ) {
        let ns = self.costs.drain_ns(ops) + extra_ns;
        ctx.charge_ns(ns);
    }

    /// The Master Key shared by the DEA and the RI/LRM named `peer` (their SCE-GEN Req/Res
    /// Context, seed 000 §7.2.2). SCE-GEN registration is not in the seeds; drmsim derives
    /// the key from the run seed so both ends hold it from the start.
    pub fn dea_master_key(seed: u64, peer: &str) -> crate::crypto::SymKey {
        let b = crate::engine::rng::stream_seed(seed, peer, "dea-master-key");
        let mut k = [0u8; 16];
        k.copy_from_slice(&b[..16]);
        crate::crypto::SymKey(k)
    }

    /// Virtual time of the start of validity used for every certificate.
    pub fn cert_epoch() -> SimTime {
        SimTime::ZERO
    }
}

/// Who an actor is: its name, key, certificate chain and ID.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Actor name (certificate subject).
    pub name: String,
    /// Private key.
    pub key: crate::crypto::PrivateKey,
    /// Certificate chain, leaf first, root excluded.
    pub chain: Vec<Certificate>,
    /// The chain as PDU octets.
    pub chain_wire: CertificateChain,
    /// SHA-1 of the SPKI: Device ID / RI ID.
    pub id: Identifier,
}
