//! Certificate chain validation with errors that map onto ROAP status values.

use std::collections::BTreeMap;

use crate::crypto::{Crypto, OpCounter, SigAlg};
use crate::engine::time::SimTime;

use super::cert::{key_hash, Certificate};
use super::error::ChainError;
use super::ocsp::{CertId, CertStatus, OcspResponse, RevocationList};
use super::purpose::KeyPurpose;

/// Longest chain accepted (leaf plus intermediates, root excluded).
pub const MAX_CHAIN_LEN: usize = 8;

/// Key purposes the leaf certificate must and must not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurposeRule {
    /// Every one of these must be present.
    pub require: &'static [KeyPurpose],
    /// None of these may be present.
    pub forbid: &'static [KeyPurpose],
}

impl PurposeRule {
    /// No purpose requirement.
    pub const ANY: PurposeRule = PurposeRule {
        require: &[],
        forbid: &[],
    };
    /// A v2.x DRM Agent seen by a DEA: oma-kp-drmAgent but NOT oma-kp-sceDrmAgent
    /// (seed 000 §7.4.1 and §7.5.1).
    pub const V2_DRM_AGENT: PurposeRule = PurposeRule {
        require: &[KeyPurpose::DrmAgent],
        forbid: &[KeyPurpose::SceDrmAgent],
    };
    /// Any DRM Agent (oma-kp-drmAgent).
    pub const DRM_AGENT: PurposeRule = PurposeRule {
        require: &[KeyPurpose::DrmAgent],
        forbid: &[],
    };
    /// An SCE DRM Agent (oma-kp-sceDrmAgent).
    pub const SCE_DRM_AGENT: PurposeRule = PurposeRule {
        require: &[KeyPurpose::SceDrmAgent],
        forbid: &[],
    };
    /// A Rights Issuer.
    pub const RIGHTS_ISSUER: PurposeRule = PurposeRule {
        require: &[KeyPurpose::RightsIssuer],
        forbid: &[],
    };
    /// A Local Rights Manager.
    pub const LRM: PurposeRule = PurposeRule {
        require: &[KeyPurpose::Lrm],
        forbid: &[],
    };
    /// A Domain Enforcement Agent.
    pub const DEA: PurposeRule = PurposeRule {
        require: &[KeyPurpose::Dea],
        forbid: &[],
    };
    /// An OCSP responder.
    pub const OCSP: PurposeRule = PurposeRule {
        require: &[KeyPurpose::OcspSigning],
        forbid: &[],
    };

    fn check(&self, leaf: &Certificate) -> Result<(), ChainError> {
        for p in self.require {
            if !leaf.has_purpose(*p) {
                return Err(ChainError::WrongPurpose {
                    reason: format!("missing {}", p.name()),
                });
            }
        }
        for p in self.forbid {
            if leaf.has_purpose(*p) {
                return Err(ChainError::WrongPurpose {
                    reason: format!("forbidden {}", p.name()),
                });
            }
        }
        Ok(())
    }
}

/// How revocation status is established during validation.
#[derive(Debug, Clone, Copy)]
pub enum Revocation<'a> {
    /// Revocation is not checked.
    NotChecked,
    /// Checked against the authoritative list (a server with direct access to CA data).
    List(&'a RevocationList),
    /// Checked against OCSP responses: every non-root certificate needs a `Good` response from
    /// a trusted responder, produced no later than `now` and no earlier than `now − max_age_ns`;
    /// if `nonce` is given, the leaf's response must echo it.
    Ocsp {
        /// The responses presented (e.g. a ROAP `ocspResponse` element).
        responses: &'a [OcspResponse],
        /// Maximum accepted age of a response.
        max_age_ns: u64,
        /// The nonce the validator sent, if any.
        nonce: Option<&'a [u8]>,
    },
}

/// Trusted roots and OCSP responders of one validator.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    roots: BTreeMap<String, Certificate>,
    /// Trusted OCSP responders by RFC 6960 KeyHash (the byKey ResponderID).
    responders: BTreeMap<[u8; 20], Certificate>,
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts a root certificate (must be a self-issued CA certificate with a valid
    /// self-signature).
    pub fn add_root(
        &mut self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        root: Certificate,
    ) -> Result<(), ChainError> {
        if !root.is_ca() || !root.is_self_issued() {
            return Err(ChainError::NotCa { index: 0 });
        }
        root.verify_signature(crypto, ops, root.public_key())
            .map_err(|_| ChainError::BadSignature { index: 0 })?;
        self.roots.insert(root.subject().to_string(), root);
        Ok(())
    }

    /// Trusts an OCSP responder after validating its certificate (chain `chain`, leaf first)
    /// against the roots with the OCSP-signing purpose at time `now`.
    pub fn add_ocsp_responder(
        &mut self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        chain: &[Certificate],
        now: SimTime,
    ) -> Result<(), ChainError> {
        self.validate(
            crypto,
            ops,
            chain,
            now,
            PurposeRule::OCSP,
            Revocation::NotChecked,
        )?;
        let leaf = chain[0].clone();
        self.responders.insert(key_hash(leaf.public_key()), leaf);
        Ok(())
    }

    /// The trusted root named `name`.
    pub fn root(&self, name: &str) -> Option<&Certificate> {
        self.roots.get(name)
    }

    /// Validates `chain` (leaf first, each certificate certified by the next; the root is not
    /// included, but a trailing copy of a trusted root is tolerated) at time `now`.
    pub fn validate(
        &self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        chain: &[Certificate],
        now: SimTime,
        rule: PurposeRule,
        revocation: Revocation<'_>,
    ) -> Result<(), ChainError> {
        let mut chain = chain;
        if let Some(last) = chain.last() {
            if chain.len() > 1
                && last.is_self_issued()
                && self.roots.get(last.subject()) == Some(last)
            {
                chain = &chain[..chain.len() - 1];
            }
        }
        if chain.is_empty() {
            return Err(ChainError::Empty);
        }
        if chain.len() > MAX_CHAIN_LEN {
            return Err(ChainError::TooLong { max: MAX_CHAIN_LEN });
        }
        for (index, cert) in chain.iter().enumerate() {
            let issuer = match chain.get(index + 1) {
                Some(next) => {
                    if cert.issuer() != next.subject() {
                        return Err(ChainError::IssuerMismatch { index });
                    }
                    if !next.is_ca() {
                        return Err(ChainError::NotCa { index: index + 1 });
                    }
                    next
                }
                None => match self.roots.get(cert.issuer()) {
                    Some(root) => {
                        if !root.valid_at(now) {
                            return Err(ChainError::Expired { index: index + 1 });
                        }
                        root
                    }
                    None => {
                        return Err(ChainError::UntrustedRoot {
                            index,
                            issuer: cert.issuer().to_string(),
                        })
                    }
                },
            };
            if now < cert.not_before() {
                return Err(ChainError::NotYetValid { index });
            }
            if now > cert.not_after() {
                return Err(ChainError::Expired { index });
            }
            cert.verify_signature(crypto, ops, issuer.public_key())
                .map_err(|_| ChainError::BadSignature { index })?;
            self.check_revocation(crypto, ops, index, cert, issuer, now, &revocation)?;
        }
        rule.check(&chain[0])
    }

    #[allow(clippy::too_many_arguments)]
    fn check_revocation(
        &self,
        crypto: &Crypto,
        ops: &mut OpCounter,
        index: usize,
        cert: &Certificate,
        issuer: &Certificate,
        now: SimTime,
        revocation: &Revocation<'_>,
    ) -> Result<(), ChainError> {
        match *revocation {
            Revocation::NotChecked => Ok(()),
            Revocation::List(list) => match list.status(cert.issuer(), cert.serial(), now) {
                CertStatus::Revoked { .. } => Err(ChainError::Revoked {
                    index,
                    serial: cert.serial(),
                }),
                _ => Ok(()),
            },
            Revocation::Ocsp {
                responses,
                max_age_ns,
                nonce,
            } => {
                let unknown = |reason| ChainError::RevocationUnknown { index, reason };
                let id = CertId::of(cert, issuer);
                let resp = responses
                    .iter()
                    .find(|r| r.cert_id == id)
                    .ok_or(unknown("no OCSP response"))?;
                let responder = self
                    .responders
                    .get(&resp.responder_key_hash)
                    .ok_or(unknown("untrusted OCSP responder"))?;
                if !responder.valid_at(now) {
                    return Err(unknown("OCSP responder certificate not valid"));
                }
                crypto
                    .verify(
                        ops,
                        responder.public_key(),
                        SigAlg::RsaPssSha1,
                        resp,
                        &resp.signature,
                    )
                    .map_err(|_| unknown("bad OCSP responder signature"))?;
                if resp.produced_at > now || now.since(resp.produced_at) > max_age_ns {
                    return Err(unknown("stale OCSP response"));
                }
                if index == 0 {
                    if let Some(n) = nonce {
                        if resp.nonce.as_deref() != Some(n) {
                            return Err(unknown("OCSP nonce mismatch"));
                        }
                    }
                }
                match resp.status {
                    CertStatus::Good => Ok(()),
                    CertStatus::Revoked { .. } => Err(ChainError::Revoked {
                        index,
                        serial: cert.serial(),
                    }),
                    CertStatus::Unknown => Err(unknown("responder does not know the certificate")),
                }
            }
        }
    }
}
