//! Domain ROs (OMA-TS-DRM-DRM-V2_0 §5.4.3 with `<domainID>`, §6.4): K_MAC‖K_REK is
//! AES-key-wrapped under the Domain Key (KeyInfo = `<roap:DomainIdentifier>` naming the
//! domain generation), and the RO carries the RI's signature — Domain ROs MUST be signed,
//! since every member holds K_D and could otherwise forge them. Any member holding that
//! generation's key can install the RO; nobody else can.

use super::state::{split_domain_id, DomainOwner};
use crate::crypto::{CryptoError, SymKey};
use crate::pdu::common::ALG_KW_AES128;
use crate::pdu::ro::{ProtectedRo, Ro};
use crate::pdu::{Encrypted, Expiry, Identifier, KeyInfo, Status};
use crate::proto::agent::Agent;
use crate::proto::ri::Ri;
use crate::proto::rights::{Binding, RightsObject};

/// Why a Device cannot install a Domain RO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainRoError {
    /// `encKey` does not name a domain (`<roap:DomainIdentifier>`) with a valid ID.
    #[error("not a domain RO")]
    NotDomainRo,
    /// The Device holds no key for that domain generation.
    #[error("no domain key for {0}")]
    NoDomainKey(String),
    /// The Domain Context has expired (DRM time past `notAfter`).
    #[error("domain context expired")]
    ContextExpired,
    /// The RO has no issuer signature.
    #[error("domain RO is unsigned")]
    Unsigned,
    /// The issuer is unknown or this Device has no RI Context with it.
    #[error("unknown issuer")]
    UnknownIssuer,
    /// The issuer signature does not verify.
    #[error("domain RO signature does not verify")]
    BadSignature,
    /// K_MAC‖K_REK did not unwrap under the Domain Key.
    #[error("key unwrap failed")]
    Unwrap,
    /// The RO MAC does not verify.
    #[error("RO MAC does not verify")]
    BadMac,
}

impl DomainRoError {
    /// The ROAP status a Device reports for the acquisition.
    pub fn status(&self) -> Status {
        match self {
            DomainRoError::NotDomainRo | DomainRoError::NoDomainKey(_) => Status::InvalidDomain,
            DomainRoError::ContextExpired => Status::RightsExpired,
            DomainRoError::UnknownIssuer => Status::NotRegistered,
            _ => Status::SignatureError,
        }
    }

    /// Always fatal for that RO (it is not installed); the Device itself carries on.
    pub fn is_fatal(&self) -> bool {
        true
    }
}

/// RI side of a Domain RO request: the domain ID (current generation) and its key, after
/// checking that the RI manages the domain (`InvalidDomain` otherwise; a DEA-mapped User
/// Domain is issued under its UDK, see `dea_proxy::udk`) and that the Device is a member
/// (`DomainAccessDenied`, §5.4.3.1 reading: only members get Domain ROs).
pub(crate) fn ri_domain_key(
    ri: &mut Ri,
    device: &Identifier,
    requested: &str,
) -> Result<(String, SymKey), Status> {
    match ri.domain_owner(requested) {
        DomainOwner::Ri => {}
        DomainOwner::Dea { user_domain } => {
            return crate::proto::dea_proxy::udk::ri_user_domain_ro_key(
                ri,
                device,
                requested,
                &user_domain,
            )
        }
        DomainOwner::Unknown => return Err(Status::InvalidDomain),
    }
    let (base, gen) = split_domain_id(requested).ok_or(Status::InvalidDomain)?;
    let d = ri.domains.domains.get(base).ok_or(Status::InvalidDomain)?;
    if gen > d.generation() {
        return Err(Status::InvalidDomain);
    }
    if !d.members.contains(device) {
        return Err(Status::DomainAccessDenied);
    }
    Ok((d.current_id(), *d.current_key()))
}

/// `<encKey>` of a Domain RO: `material` (K_MAC‖K_REK) AES-wrapped under `kd`.
pub(crate) fn wrap_under_domain_key(
    ri: &mut Ri,
    domain_id: &str,
    kd: &SymKey,
    material: &[u8],
) -> Result<Encrypted, CryptoError> {
    let world = ri.world.clone();
    Ok(Encrypted {
        id: None,
        algorithm: ALG_KW_AES128.to_string(),
        key_info: Some(KeyInfo::DomainId(domain_id.to_string())),
        cipher: world.crypto.wrap(&mut ri.ops, kd, material)?,
    })
}

/// The RI's signature over `<roap:ro>` minus `<signature>` (set in place).
pub(crate) fn sign_ro(ri: &mut Ri, ro: &mut Ro) -> Result<(), CryptoError> {
    let world = ri.world.clone();
    ro.signature = None;
    let sig = world
        .crypto
        .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &*ro)?;
    ro.signature = Some(sig);
    Ok(())
}

/// Device side: checks and opens a Domain RO with the Domain Key this Device holds —
/// issuer signature, K_D unwrap, RO MAC — and returns it as installable state, bound to the
/// domain base. `drm_now_ns` is the Device's DRM time (context expiry).
pub fn open_domain_ro(
    agent: &mut Agent,
    drm_now_ns: u64,
    pro: &ProtectedRo,
) -> Result<RightsObject, DomainRoError> {
    let world = agent.world.clone();
    let Some(KeyInfo::DomainId(did)) = &pro.ro.enc_key.key_info else {
        return Err(DomainRoError::NotDomainRo);
    };
    let (base, _) = split_domain_id(did).ok_or(DomainRoError::NotDomainRo)?;
    let kd = agent
        .domain
        .key_derived(&world.crypto, &mut agent.ops, did)
        .ok_or_else(|| DomainRoError::NoDomainKey(did.clone()))?;
    if let Some(Expiry::At(t)) = agent.domain.contexts.get(base).map(|c| &c.not_after) {
        if world.drm_ns(t) <= drm_now_ns {
            return Err(DomainRoError::ContextExpired);
        }
    }
    let sig = pro.ro.signature.clone().ok_or(DomainRoError::Unsigned)?;
    let (ri, info) = world
        .ri_by_id(&pro.ro.ri_id)
        .ok_or(DomainRoError::UnknownIssuer)?;
    let ri_key = agent
        .ri_contexts
        .get(&ri)
        .ok_or(DomainRoError::UnknownIssuer)?
        .chain[0]
        .public_key()
        .clone();
    world
        .crypto
        .verify(&mut agent.ops, &ri_key, world.params.sig_alg, &pro.ro, &sig)
        .map_err(|_| DomainRoError::BadSignature)?;
    let material = world
        .crypto
        .unwrap(&mut agent.ops, &kd, &pro.ro.enc_key.cipher)
        .map_err(|_| DomainRoError::Unwrap)?;
    if material.len() != 32 {
        return Err(DomainRoError::Unwrap);
    }
    let kmac = SymKey::from_slice(&material[..16]).map_err(|_| DomainRoError::Unwrap)?;
    world
        .crypto
        .verify_mac(&mut agent.ops, &kmac, world.params.mac_alg, pro, &pro.mac)
        .map_err(|_| DomainRoError::BadMac)?;
    let mut ro = crate::proto::acquisition::rights_from_ro(
        &pro.ro,
        &info.name,
        agent.workload.metering_interval_ns.is_some(),
    );
    ro.binding = Binding::Domain(base.to_string());
    Ok(ro)
}

/// Installs a Domain RO obtained any way (acquired, or copied from another member of the
/// domain, §6.4 "Domain ROs may be shared"): checked by [`open_domain_ro`]; bounded by
/// `max_ros_per_device` (a full store refuses with `Ok(false)`).
pub fn install_domain_ro(
    agent: &mut Agent,
    drm_now_ns: u64,
    pro: &ProtectedRo,
) -> Result<bool, DomainRoError> {
    let ro = open_domain_ro(agent, drm_now_ns, pro)?;
    if agent.ros.len() >= agent.world.params.max_ros_per_device
        && !agent.ros.contains_key(&ro.ro_id)
    {
        return Ok(false);
    }
    agent.ros.insert(ro.ro_id.clone(), ro);
    Ok(true)
}
