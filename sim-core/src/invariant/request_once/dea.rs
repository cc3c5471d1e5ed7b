//! What a DEA answer does to the DEA's state, as an observer of the RI–DEA traffic can tell
//! it: the reading of "accepted twice" for requests whose repetition is harmless by design.
//!
//! Seed 000 makes the DEA's effects set-like:
//! - §7.4.1 Proxy Join: the DEA "SHOULD record the association of the DRM Agent and the
//!   User Domain and the RI", and a Device "MUST only be counted once ... no matter how many
//!   times it appears in a Proxy Join User Domain Request message". Answering Success for a
//!   Device already associated through that RI records nothing new.
//! - §7.5.1 Proxy Leave: "the DEA MUST delete the association" — for a Device not associated
//!   (any more) there is nothing to delete.
//! - §7.2.2 Get User Domain Authorization: the DEA keeps, per RI and User Domain, the ROAP
//!   domain mapped onto it; granting the same mapping again changes nothing.
//!
//! So a DEA request is *accepted* when its Success answer changes that state, and *accepted
//! twice* when a later Success answer to the same request (same RI, same SCE-GEN nonce)
//! changes it again — e.g. an old Proxy Join replayed after the Device left re-admits it.
//! The ledger follows the state from the DEA's authentic Success answers alone (they carry
//! the Device ID and the domain), so it needs neither the DEA's memory nor the requests.

use crate::engine::ActorId;
use crate::pdu::{Identifier, Pdu, Status};
use crate::proto::domain::split_domain_id;
use std::collections::BTreeSet;

/// Bound on the associations and mappings followed (new ones ignored beyond it).
pub const MAX_LEDGER: usize = 1_000_000;

/// What an authentic Success answer of the DEA records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeaEffect {
    /// Proxy Join: the Device is associated with the domain (base) through the RI.
    Join {
        /// Device ID (`<deviceID>` of `<resInfo>`).
        device: Identifier,
        /// ROAP domain ID base (the `<encKey>` `Id` without generation).
        base: String,
    },
    /// Proxy Leave: the association is deleted.
    Leave {
        /// Device ID.
        device: Identifier,
        /// ROAP domain ID base.
        base: String,
    },
    /// Get User Domain Authorization: User Domain → mapped ROAP domain base, per grant.
    Authorize(Vec<(String, Option<String>)>),
}

fn base_of(domain_id: &str) -> String {
    split_domain_id(domain_id)
        .map_or(domain_id, |(b, _)| b)
        .to_string()
}

/// The effect of a DEA answer, if it is a Success answer of one of the three RI → DEA
/// protocols that says what it did.
pub fn dea_effect(p: &Pdu) -> Option<DeaEffect> {
    match p {
        Pdu::ProxyJoinUserDomainResponse(r) if r.status == Status::Success => {
            let info = r.res_info.as_ref()?;
            let device = info.device_id.clone()?;
            let id = info
                .domain_info
                .as_ref()?
                .domain_keys
                .first()?
                .enc_key
                .id
                .clone()?;
            Some(DeaEffect::Join {
                device,
                base: base_of(&id),
            })
        }
        Pdu::ProxyLeaveUserDomainResponse(r) if r.status == Status::Success => {
            let (domain, device) = r.res_info.clone()?;
            Some(DeaEffect::Leave {
                device,
                base: base_of(&domain),
            })
        }
        Pdu::GetUserDomainAuthorizationResponse(r) if r.status == Status::Success => {
            Some(DeaEffect::Authorize(
                r.authorizations
                    .as_ref()?
                    .iter()
                    .map(|a| {
                        (
                            a.user_domain_id.clone(),
                            a.domain_id.as_deref().map(base_of),
                        )
                    })
                    .collect(),
            ))
        }
        _ => None,
    }
}

/// The DEA state seen through its answers: associations (DEA, RI, Device, domain base) and
/// mappings (DEA, RI, User Domain, domain base).
#[derive(Debug, Default, Clone)]
pub struct DeaLedger {
    assoc: BTreeSet<(ActorId, ActorId, Identifier, String)>,
    mapped: BTreeSet<(ActorId, ActorId, String, Option<String>)>,
}

impl DeaLedger {
    /// Applies `effect` of an authentic Success answer `dea` → `ri`; whether it changed the
    /// DEA's state.
    pub fn apply(&mut self, dea: ActorId, ri: ActorId, effect: &DeaEffect) -> bool {
        match effect {
            DeaEffect::Join { device, base } => {
                let k = (dea, ri, device.clone(), base.clone());
                if self.assoc.contains(&k) {
                    return false;
                }
                if self.assoc.len() < MAX_LEDGER {
                    self.assoc.insert(k);
                }
                true
            }
            DeaEffect::Leave { device, base } => {
                self.assoc.remove(&(dea, ri, device.clone(), base.clone()))
            }
            DeaEffect::Authorize(grants) => {
                let mut changed = false;
                for (ud, base) in grants {
                    // One mapping per RI and User Domain (§7.2.2): a new one replaces it.
                    let old: Vec<_> = self
                        .mapped
                        .range((dea, ri, ud.clone(), None)..)
                        .take_while(|k| k.0 == dea && k.1 == ri && &k.2 == ud)
                        .cloned()
                        .collect();
                    let k = (dea, ri, ud.clone(), base.clone());
                    if old.len() == 1 && old[0] == k {
                        continue;
                    }
                    for o in old {
                        self.mapped.remove(&o);
                    }
                    if self.mapped.len() < MAX_LEDGER {
                        self.mapped.insert(k);
                    }
                    changed = true;
                }
                changed
            }
        }
    }

    /// Whether `device` is associated with domain `base` through `ri` at `dea`.
    pub fn associated(&self, dea: ActorId, ri: ActorId, device: &Identifier, base: &str) -> bool {
        self.assoc
            .contains(&(dea, ri, device.clone(), base.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(b: u8) -> Identifier {
        Identifier { hash: vec![b; 20] }
    }

    #[test]
    fn joins_and_leaves_change_state_once() {
        let (d, r0, r1) = (ActorId(1), ActorId(2), ActorId(3));
        let join = DeaEffect::Join {
            device: id(7),
            base: "ud0-".into(),
        };
        let leave = DeaEffect::Leave {
            device: id(7),
            base: "ud0-".into(),
        };
        let mut l = DeaLedger::default();
        assert!(l.apply(d, r0, &join));
        // Counted once (seed 000 §7.4.1): a repeat changes nothing.
        assert!(!l.apply(d, r0, &join));
        // Through another RI it is another association.
        assert!(l.apply(d, r1, &join));
        assert!(l.apply(d, r0, &leave));
        assert!(!l.apply(d, r0, &leave));
        assert!(!l.associated(d, r0, &id(7), "ud0-"));
        assert!(l.associated(d, r1, &id(7), "ud0-"));
        // After the leave the old join re-admits.
        assert!(l.apply(d, r0, &join));
    }

    #[test]
    fn authorizations_change_state_only_when_the_mapping_does() {
        let (d, r0) = (ActorId(1), ActorId(2));
        let g = |b: &str| DeaEffect::Authorize(vec![("userdomain0".into(), Some(b.into()))]);
        let mut l = DeaLedger::default();
        assert!(l.apply(d, r0, &g("ud0-")));
        assert!(!l.apply(d, r0, &g("ud0-")));
        assert!(l.apply(d, r0, &g("other-")));
        assert!(l.apply(d, r0, &g("ud0-")));
    }
}
