//! Key purposes (X.509 extended key usage values) of the OMA DRM / SCE PKI.
//!
//! OMA assigns object identifiers under its arc `{joint-iso-itu-t(2) international-organizations(23)
//! wap(43)}` (OMNA). We could not confirm the registered values of the DRM key purposes offline,
//! so the simulator uses the values below, documented in `docs/crypto.md`; they are only
//! compared with each other, never with external certificates. OCSP signing uses the standard
//! RFC 5280 `id-kp-OCSPSigning`.

use der::oid::ObjectIdentifier;

/// The role a certified key may play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyPurpose {
    /// `oma-kp-rightsIssuer`: a Rights Issuer.
    RightsIssuer,
    /// `oma-kp-drmAgent`: a v2.x DRM Agent (Device).
    DrmAgent,
    /// `oma-kp-sceDrmAgent`: an SCE-capable DRM Agent (seed 000 §7.4.1 distinguishes it).
    SceDrmAgent,
    /// `oma-kp-lrm`: a Local Rights Manager.
    Lrm,
    /// `oma-kp-dea`: a Domain Enforcement Agent.
    Dea,
    /// `id-kp-OCSPSigning` (RFC 5280): an OCSP responder.
    OcspSigning,
}

/// All purposes, in OID order of their definition.
pub const ALL_PURPOSES: [KeyPurpose; 6] = [
    KeyPurpose::RightsIssuer,
    KeyPurpose::DrmAgent,
    KeyPurpose::SceDrmAgent,
    KeyPurpose::Lrm,
    KeyPurpose::Dea,
    KeyPurpose::OcspSigning,
];

impl KeyPurpose {
    /// Dotted OID string of this purpose.
    pub fn oid_str(self) -> &'static str {
        match self {
            KeyPurpose::RightsIssuer => "2.23.43.6.1.1",
            KeyPurpose::DrmAgent => "2.23.43.6.1.2",
            KeyPurpose::SceDrmAgent => "2.23.43.6.1.3",
            KeyPurpose::Lrm => "2.23.43.6.1.4",
            KeyPurpose::Dea => "2.23.43.6.1.5",
            KeyPurpose::OcspSigning => "1.3.6.1.5.5.7.3.9",
        }
    }

    /// The OID of this purpose.
    pub fn oid(self) -> ObjectIdentifier {
        // The strings above are valid literals; new_unwrap is checked by the unit test.
        ObjectIdentifier::new_unwrap(self.oid_str())
    }

    /// The purpose of an OID, if it is one of ours.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<KeyPurpose> {
        ALL_PURPOSES.iter().copied().find(|p| p.oid() == *oid)
    }

    /// The spec name (e.g. "oma-kp-drmAgent").
    pub fn name(self) -> &'static str {
        match self {
            KeyPurpose::RightsIssuer => "oma-kp-rightsIssuer",
            KeyPurpose::DrmAgent => "oma-kp-drmAgent",
            KeyPurpose::SceDrmAgent => "oma-kp-sceDrmAgent",
            KeyPurpose::Lrm => "oma-kp-lrm",
            KeyPurpose::Dea => "oma-kp-dea",
            KeyPurpose::OcspSigning => "id-kp-OCSPSigning",
        }
    }

    pub(crate) fn code(self) -> u64 {
        match self {
            KeyPurpose::RightsIssuer => 1,
            KeyPurpose::DrmAgent => 2,
            KeyPurpose::SceDrmAgent => 3,
            KeyPurpose::Lrm => 4,
            KeyPurpose::Dea => 5,
            KeyPurpose::OcspSigning => 6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_round_trip() {
        for p in ALL_PURPOSES {
            assert_eq!(KeyPurpose::from_oid(&p.oid()), Some(p));
        }
    }
}
