//! Imported ROs (seed 001 §7.2.1.2): the LRM signature over `<rights>`, wrapping under the
//! Pairing Key for the wire, checks before installing, and which ROs dmpPair may move or copy.

use super::*;

/// `<rights>` as the LRM signs them (seed 001 §7.2.1.2 "The Imported Rights-Objects SHALL
/// contain a `<rights>` element that is signed by an LRM `<signature>`").
pub struct SignedRights<'a>(pub &'a Rights);

impl Signable for SignedRights<'_> {
    fn signed_bytes(&self) -> Vec<u8> {
        crate::xml::canonicalize_element(&self.0.to_element()).unwrap_or_default()
    }
    fn symbolic_digest(&self) -> u64 {
        crate::pdu::digest::fnv1a_of(&("dmp:rights", self.0))
    }
    fn signed_len(&self) -> usize {
        let c: usize = self.0.permissions.iter().map(|p| p.constraints.len()).sum();
        300 + 130 * self.0.assets.len() + 70 * self.0.permissions.len() + 90 * c
    }
}

/// An Imported RO as its holder keeps it: the LRM-signed rights and its content keys.
#[derive(Debug, Clone)]
pub struct ImportedEntry {
    /// The `<rights>` signed by the LRM.
    pub rights: Rights,
    /// The LRM signature over `rights`.
    pub lrm_signature: Vec<u8>,
    /// Issuer (the LRM's) ID.
    pub issuer_id: Identifier,
    /// K_MAC ‖ K_REK.
    pub keys: Vec<u8>,
}

/// `<move>` without `<system>` or with `<system>` naming dmpPair.
pub fn permits_move(r: &Rights) -> bool {
    r.permissions
        .iter()
        .filter(|p| p.action == Action::Move)
        .any(|p| system_allows(&p.constraints, SYSTEM_DMP_PAIR))
}

/// `oma-dd:export` with `<system>` naming dmpPairCopy (chosen: OMA REL has no copy action;
/// an export to another SCE agent of the same User Domain is what a Copy is).
pub fn permits_copy(r: &Rights) -> bool {
    r.permissions
        .iter()
        .filter(|p| p.action == Action::Export)
        .any(|p| {
            p.constraints
                .iter()
                .any(|c| matches!(c, Constraint::System(s) if s.iter().any(|x| x == SYSTEM_DMP_PAIR_COPY)))
        })
}

fn system_allows(cs: &[Constraint], system: &str) -> bool {
    let systems: Vec<&Vec<String>> = cs
        .iter()
        .filter_map(|c| match c {
            Constraint::System(s) => Some(s),
            _ => None,
        })
        .collect();
    systems.is_empty() || systems.iter().any(|s| s.iter().any(|x| x == system))
}

/// The installed-state constraint an Imported RO starts with.
pub(super) fn initial_constraint(r: &Rights) -> RoConstraint {
    r.permissions
        .iter()
        .find(|p| matches!(p.action, Action::Play | Action::Display))
        .and_then(|p| {
            p.constraints.iter().find_map(|c| match c {
                Constraint::Count(n) => Some(RoConstraint::Count { remaining: *n }),
                Constraint::Interval(s) => Some(RoConstraint::Interval {
                    duration_ns: s.saturating_mul(NS_PER_S),
                    started_at_ns: None,
                }),
                _ => None,
            })
        })
        .unwrap_or(RoConstraint::Unlimited)
}

/// An Imported RO for the wire: K_MAC‖K_REK wrapped under the Pairing Key (the SAC key,
/// AES-WRAP), `<signature>` = the LRM's over `<rights>`, `<mac>` under K_MAC. A dmpPair
/// source names the transfer in `<encKey Id>` (under the RO MAC) so the destination can
/// recognise a retried transfer.
#[allow(clippy::too_many_arguments)]
pub fn protect_imported(
    crypto: &Crypto,
    ops: &mut OpCounter,
    world: &World,
    ro_id: &str,
    e: &ImportedEntry,
    pk: &SymKey,
    time: DateTime,
    transfer_id: Option<String>,
) -> Option<ProtectedRo> {
    let cipher = crypto.wrap(ops, pk, &e.keys).ok()?;
    let ro = Ro {
        id: ro_id.to_string(),
        version: "2.1".into(),
        domain_ro: false,
        ri_id: e.issuer_id.clone(),
        rights: e.rights.clone(),
        signature: Some(e.lrm_signature.clone()),
        time_stamp: Some(time),
        enc_key: Encrypted {
            id: transfer_id,
            algorithm: ALG_KW_AES128.to_string(),
            key_info: None,
            cipher,
        },
    };
    let kmac = SymKey::from_slice(e.keys.get(..16)?).ok()?;
    let mut pro = ProtectedRo {
        ro,
        mac: Vec::new(),
    };
    pro.mac = crypto.mac(ops, &kmac, world.params.mac_alg, &pro);
    Some(pro)
}

/// Opens an Imported RO received under Pairing Key `pk`: unwrap, RO MAC, LRM signature over
/// `<rights>` (the LRM is found by the RO's issuer ID). `None` if any check fails.
pub fn open_imported(
    crypto: &Crypto,
    ops: &mut OpCounter,
    world: &World,
    pk: &SymKey,
    pro: &ProtectedRo,
) -> Option<(ImportedEntry, usize)> {
    let keys = crypto.unwrap(ops, pk, &pro.ro.enc_key.cipher).ok()?;
    if keys.len() != 32 {
        return None;
    }
    let kmac = SymKey::from_slice(&keys[..16]).ok()?;
    crypto
        .verify_mac(ops, &kmac, world.params.mac_alg, pro, &pro.mac)
        .ok()?;
    let (lrm, info) = world
        .lrms
        .iter()
        .enumerate()
        .find(|(_, l)| l.id == pro.ro.ri_id)?;
    let sig = pro.ro.signature.as_ref()?;
    crypto
        .verify(
            ops,
            info.chain.first()?.public_key(),
            world.params.sig_alg,
            &SignedRights(&pro.ro.rights),
            sig,
        )
        .ok()?;
    Some((
        ImportedEntry {
            rights: pro.ro.rights.clone(),
            lrm_signature: sig.clone(),
            issuer_id: pro.ro.ri_id.clone(),
            keys,
        },
        lrm,
    ))
}

pub(super) fn install(agent: &mut Agent, ro_id: &str, e: ImportedEntry, lrm: usize) -> bool {
    if agent.ros.len() >= agent.world.params.max_ros_per_device && !agent.ros.contains_key(ro_id) {
        return false;
    }
    let ro = RightsObject {
        ro_id: ro_id.to_string(),
        issuer: agent.world.lrms[lrm].name.clone(),
        content_id: e
            .rights
            .assets
            .first()
            .map(|a| a.content_id.clone())
            .unwrap_or_default(),
        binding: Binding::UserDomain(agent.pairing.user_domain.clone()),
        constraint: initial_constraint(&e.rights),
        move_permission: permits_move(&e.rights)
            .then_some(Some(crate::proto::rights::MoveSystem::DmpPair)),
        metered: false,
        unusable: false,
        unusable_count: 0,
    };
    agent.ros.insert(ro_id.to_string(), ro);
    agent.pairing.imported.insert(ro_id.to_string(), e);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::ro::{Asset, Permission};

    fn rights(perms: Vec<Permission>) -> Rights {
        Rights {
            uid: "r".into(),
            assets: vec![Asset {
                content_id: "cid:1".into(),
                dcf_hash: None,
            }],
            permissions: perms,
            user_domains: Vec::new(),
            move_indication: Vec::new(),
        }
    }

    fn perm(action: Action, constraints: Vec<Constraint>) -> Permission {
        Permission {
            action,
            constraints,
        }
    }

    #[test]
    fn move_and_copy_permissions() {
        let sys = |s: &str| Constraint::System(vec![s.to_string()]);
        // <move> without <system>: any protocol, dmpPair included.
        assert!(permits_move(&rights(vec![perm(Action::Move, vec![])])));
        assert!(permits_move(&rights(vec![perm(
            Action::Move,
            vec![sys(SYSTEM_DMP_PAIR)]
        )])));
        // <move> restricted to Move-via-RI: not dmpPair.
        assert!(!permits_move(&rights(vec![perm(
            Action::Move,
            vec![sys("moveDeviceROviaRI")]
        )])));
        assert!(!permits_move(&rights(vec![perm(Action::Play, vec![])])));
        // Copy needs export with <system> dmpPairCopy; a bare export is not enough.
        assert!(permits_copy(&rights(vec![perm(
            Action::Export,
            vec![sys(SYSTEM_DMP_PAIR_COPY)]
        )])));
        assert!(!permits_copy(&rights(vec![perm(Action::Export, vec![])])));
        assert!(!permits_copy(&rights(vec![perm(Action::Move, vec![])])));
    }

    #[test]
    fn initial_state_of_count_interval_and_unlimited_rights() {
        let r = rights(vec![perm(Action::Play, vec![Constraint::Count(4)])]);
        assert_eq!(initial_constraint(&r), RoConstraint::Count { remaining: 4 });
        let r = rights(vec![perm(Action::Play, vec![Constraint::Interval(10)])]);
        assert_eq!(
            initial_constraint(&r),
            RoConstraint::Interval {
                duration_ns: 10 * NS_PER_S,
                started_at_ns: None
            }
        );
        let r = rights(vec![perm(Action::Play, vec![])]);
        assert_eq!(initial_constraint(&r), RoConstraint::Unlimited);
    }

    #[test]
    fn signed_rights_cover_every_permission() {
        let a = rights(vec![perm(Action::Play, vec![Constraint::Count(4)])]);
        let b = rights(vec![perm(Action::Play, vec![Constraint::Count(5)])]);
        assert_ne!(
            SignedRights(&a).symbolic_digest(),
            SignedRights(&b).symbolic_digest()
        );
        assert_ne!(
            SignedRights(&a).signed_bytes(),
            SignedRights(&b).signed_bytes()
        );
        let bytes = String::from_utf8(SignedRights(&a).signed_bytes()).unwrap();
        // Exclusive C14N of the unqualified <rights> element alone, count included.
        assert!(bytes.starts_with("<rights><o-ex:context"), "{bytes}");
        assert!(bytes.contains("<o-dd:count>4</o-dd:count>"), "{bytes}");
    }
}
