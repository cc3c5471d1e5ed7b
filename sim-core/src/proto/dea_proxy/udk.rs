//! User Domain ROs issued by RIs (seed 000 §7.2.2, §7.4; DRM 2.1 Domain RO rules): how an
//! RI obtains the User Domain Key (UDK) and which Devices it issues `<userDomain>` ROs to.
//!
//! Readings (seed 000 is silent on how an RI issues ROs for a User Domain):
//! - **Where the RI gets the UDK.** The DEA returns it in the Get User Domain Authorization
//!   Response (§7.2.2), next to the authorization of each User Domain it grants: one
//!   `<userDomainKey>` per generation, the UDK AES-wrapped (kw-aes128) under the MK of the
//!   requester's SCE-GEN context, so only that RI/LRM and the DEA can open it; the response
//!   is MACed under the same MK. A DEA using the hash chain sends the newest generation only
//!   (`hashChain="true"`) and the RI derives older ones, K(g−1) = KDF2-SHA1(K(g), 16), as
//!   a Device does (§7.4.1.1).
//! - **One UDK per User Domain and generation, shared by every RI** (§7.4.1.1 "the UDK
//!   associated with the current generation of the User Domain, and the RI over which the
//!   Proxy Join … is performed" read as: the UDK of the generation, delivered through that
//!   RI). A per-RI UDK would make a User Domain RO usable only by Devices that joined
//!   through its issuer, which is what the membership rule below already enforces; one key
//!   keeps ROs sharable between members (DRM 2.1 §6.4) and the DEA's key store per domain.
//! - **Who gets User Domain ROs.** An RI issues them to Devices whose Proxy Join it relayed
//!   with a verified Success (and no Proxy Leave since): the ROAP rule "only members get
//!   Domain ROs" applied to what this RI knows. A Device joined through another RI joins
//!   through this one too (the DEA counts it once, §7.4.1 note). Otherwise
//!   `DomainAccessDenied`; no UDK held (authorization not obtained) also `DomainAccessDenied`.
//! - **Generation.** The RO is issued under the generation the request's `<domainID>` names
//!   (at most the newest; `InvalidDomain` beyond it), so ROs of older generations exist for
//!   hash-chain Devices to open with derived keys.

use super::super::ri::Ri;
use super::super::world::World;
use super::UserDomain;
use crate::crypto::{OpCounter, SymKey};
use crate::pdu::common::ALG_KW_AES128;
use crate::pdu::dea::UserDomainKeyGrant;
use crate::pdu::{Encrypted, Identifier, Status};
use std::collections::{BTreeMap, BTreeSet};

/// Devices an RI records as User Domain members through it (bound; beyond it joins are
/// still relayed but no more ROs are issued to new members).
pub const MAX_RI_UD_MEMBERS: usize = 1_000_000;

/// UDKs of one User Domain held by an RI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeldUdk {
    /// UDKs by generation as delivered.
    pub keys: BTreeMap<u32, SymKey>,
    /// Older generations follow from a newer one by the hash chain.
    pub hash_chain: bool,
}

/// Counters of User Domain RO issuance at an RI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiUdkStats {
    /// UDK grants accepted (one per generation delivered).
    pub keys_received: u64,
    /// UDK grants that did not unwrap under the MK or named no granted User Domain.
    pub keys_rejected: u64,
    /// User Domain ROs issued.
    pub ros_issued: u64,
}

/// What an RI keeps to issue User Domain ROs.
#[derive(Debug, Clone, Default)]
pub struct RiUserDomains {
    /// UDKs by User Domain ID.
    pub keys: BTreeMap<String, HeldUdk>,
    /// Devices joined through this RI, by User Domain ID.
    pub members: BTreeMap<String, BTreeSet<Identifier>>,
    members_total: usize,
    /// Counters.
    pub stats: RiUdkStats,
}

impl RiUserDomains {
    /// The UDK of generation `g` of `ud`: held, or derived from the nearest newer generation
    /// along the hash chain.
    pub fn key(&self, world: &World, ops: &mut OpCounter, ud: &str, g: u32) -> Option<SymKey> {
        let held = self.keys.get(ud)?;
        if let Some(k) = held.keys.get(&g) {
            return Some(*k);
        }
        if !held.hash_chain {
            return None;
        }
        let (newer, k) = held.keys.range(g..).next()?;
        world.crypto.udk_for_generation(ops, k, *newer, g).ok()
    }

    /// Newest generation held for `ud`.
    pub fn newest(&self, ud: &str) -> Option<u32> {
        self.keys.get(ud)?.keys.keys().next_back().copied()
    }

    /// Records `device` as a member of `ud` through this RI (a relayed Proxy Join Success).
    pub fn note_join(&mut self, ud: &str, device: &Identifier) {
        if self.members_total >= MAX_RI_UD_MEMBERS {
            return;
        }
        if self
            .members
            .entry(ud.to_string())
            .or_default()
            .insert(device.clone())
        {
            self.members_total += 1;
        }
    }

    /// Forgets `device` in `ud` (a relayed Proxy Leave Success).
    pub fn note_leave(&mut self, ud: &str, device: &Identifier) {
        if let Some(m) = self.members.get_mut(ud) {
            if m.remove(device) {
                self.members_total -= 1;
            }
        }
    }

    /// Whether `device` joined `ud` through this RI.
    pub fn is_member(&self, ud: &str, device: &Identifier) -> bool {
        self.members.get(ud).is_some_and(|m| m.contains(device))
    }
}

/// DEA side: the `<userDomainKey>` grants of User Domain `ud` for a requester whose MK is
/// `mk` — every generation, or the newest only when the DEA uses the hash chain.
pub(crate) fn grants(
    world: &World,
    ops: &mut OpCounter,
    mk: &SymKey,
    ud: &UserDomain,
) -> Vec<UserDomainKeyGrant> {
    let gens: Vec<u32> = if ud.hash_chain {
        vec![ud.generation]
    } else {
        (0..=ud.generation).collect()
    };
    gens.into_iter()
        .filter_map(|g| {
            let udk = ud.key(world, ops, g)?;
            let cipher = world.crypto.wrap(ops, mk, udk.as_bytes()).ok()?;
            Some(UserDomainKeyGrant {
                user_domain_id: ud.id.clone(),
                generation: g,
                hash_chain: ud.hash_chain,
                enc_key: Encrypted {
                    id: None,
                    algorithm: ALG_KW_AES128.to_string(),
                    key_info: None,
                    cipher,
                },
            })
        })
        .collect()
}

/// RI side: opens the grants of a verified Get User Domain Authorization Response; only
/// grants for User Domains in `granted` (authorizations naming this RI) are kept.
pub(crate) fn ri_accept_grants(
    ri: &mut Ri,
    mk: &SymKey,
    granted: &BTreeSet<String>,
    grants: &[UserDomainKeyGrant],
) {
    let world = ri.world.clone();
    for g in grants {
        let opened = (granted.contains(&g.user_domain_id) && g.enc_key.algorithm == ALG_KW_AES128)
            .then(|| world.crypto.unwrap(&mut ri.ops, mk, &g.enc_key.cipher).ok())
            .flatten()
            .and_then(|k| SymKey::from_slice(&k).ok());
        let Some(k) = opened else {
            ri.dea_proxy.udks.stats.keys_rejected += 1;
            continue;
        };
        let held = ri
            .dea_proxy
            .udks
            .keys
            .entry(g.user_domain_id.clone())
            .or_default();
        held.hash_chain = g.hash_chain;
        held.keys.insert(g.generation, k);
        ri.dea_proxy.udks.stats.keys_received += 1;
    }
}

/// RI side of a User Domain RO request for `requested` (ROAP domain ID mapped onto User
/// Domain `ud`): the domain ID to name in `<encKey>` and the UDK to wrap the RO key under.
pub(crate) fn ri_user_domain_ro_key(
    ri: &mut Ri,
    device: &Identifier,
    requested: &str,
    ud: &str,
) -> Result<(String, SymKey), Status> {
    let (base, gen) =
        super::super::domain::split_domain_id(requested).ok_or(Status::InvalidDomain)?;
    let newest = ri
        .dea_proxy
        .udks
        .newest(ud)
        .ok_or(Status::DomainAccessDenied)?;
    if gen > newest {
        return Err(Status::InvalidDomain);
    }
    if !ri.dea_proxy.udks.is_member(ud, device) {
        return Err(Status::DomainAccessDenied);
    }
    let world = ri.world.clone();
    let key = ri
        .dea_proxy
        .udks
        .key(&world, &mut ri.ops, ud, gen)
        .ok_or(Status::DomainAccessDenied)?;
    ri.dea_proxy.udks.stats.ros_issued += 1;
    Ok((super::super::domain::domain_id(base, gen), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(b: u8) -> Identifier {
        Identifier::new(vec![b; 20])
    }

    #[test]
    fn membership_is_per_user_domain_and_forgotten_on_leave() {
        let mut u = RiUserDomains::default();
        u.note_join("u1", &id(1));
        u.note_join("u1", &id(1));
        assert!(u.is_member("u1", &id(1)));
        assert!(!u.is_member("u2", &id(1)));
        assert_eq!(u.members_total, 1);
        u.note_leave("u1", &id(1));
        assert!(!u.is_member("u1", &id(1)));
        assert_eq!(u.members_total, 0);
        u.note_leave("u1", &id(1));
        assert_eq!(u.members_total, 0);
    }
}
