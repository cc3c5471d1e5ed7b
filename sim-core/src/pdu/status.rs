//! The single status code space of ROAP (OMA-TS-DRM-DRM-V2_0 §5.3.6) and the SCE seeds.

use std::fmt;
use std::str::FromStr;

/// Every ROAP and seed status code, as carried in a `status` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The request was handled successfully.
    Success,
    /// An error not covered by another code.
    UnknownError,
    /// The sender aborted the protocol.
    Abort,
    /// The request is not supported.
    NotSupported,
    /// The requester is not authorised.
    AccessDenied,
    /// A requested object (e.g. RO) was not found.
    NotFound,
    /// The PDU is not well formed or fails the schema.
    MalformedRequest,
    /// The PDU's document element is not a known message.
    UnknownRequest,
    /// A critical extension was not understood.
    UnknownCriticalExtension,
    /// No common protocol version.
    UnsupportedVersion,
    /// No common algorithm.
    UnsupportedAlgorithm,
    /// The peer's certificate chain is needed but absent.
    NoCertificateChain,
    /// Certificate chain validation failed.
    InvalidCertificateChain,
    /// The chain does not end at a trusted root.
    TrustedRootCertificateNotPresent,
    /// Signature (or MAC) verification failed.
    SignatureError,
    /// The Device's DRM Time is not accurate enough.
    DeviceTimeError,
    /// No valid RI/Device context.
    NotRegistered,
    /// The DCF hash does not match.
    InvalidDCFHash,
    /// The domain (or User Domain) is unknown.
    InvalidDomain,
    /// The domain already holds the maximum number of Devices.
    DomainFull,
    /// Joining/leaving the domain was refused.
    DomainAccessDenied,
    /// The Rights have expired.
    RightsExpired,
    /// The Metering Report is not well formed (seed 004 §11.4.2).
    MalformedMeteringReport,
    /// The Metering Report could not be decrypted (seed 004 §11.2).
    UnableToDecryptMeteringReport,
    /// The Metering Report MAC did not verify (seed 004 §11.4.2).
    UnableToVerifyMeteringReportMAC,
    /// A Pairing Ticket failed its HMAC or binding checks (seed 001 §7.2.1.2, chosen code).
    InvalidPairingTicket,
    /// The Device holds no Master Key, so it cannot request a Pairing Ticket (seed 001 §7.2.1.2, chosen code).
    NoMasterKey,
}

impl Status {
    /// Every status, in declaration order.
    pub const ALL: [Status; 27] = [
        Status::Success,
        Status::UnknownError,
        Status::Abort,
        Status::NotSupported,
        Status::AccessDenied,
        Status::NotFound,
        Status::MalformedRequest,
        Status::UnknownRequest,
        Status::UnknownCriticalExtension,
        Status::UnsupportedVersion,
        Status::UnsupportedAlgorithm,
        Status::NoCertificateChain,
        Status::InvalidCertificateChain,
        Status::TrustedRootCertificateNotPresent,
        Status::SignatureError,
        Status::DeviceTimeError,
        Status::NotRegistered,
        Status::InvalidDCFHash,
        Status::InvalidDomain,
        Status::DomainFull,
        Status::DomainAccessDenied,
        Status::RightsExpired,
        Status::MalformedMeteringReport,
        Status::UnableToDecryptMeteringReport,
        Status::UnableToVerifyMeteringReportMAC,
        Status::InvalidPairingTicket,
        Status::NoMasterKey,
    ];

    /// The status string as written in a PDU.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "Success",
            Status::UnknownError => "UnknownError",
            Status::Abort => "Abort",
            Status::NotSupported => "NotSupported",
            Status::AccessDenied => "AccessDenied",
            Status::NotFound => "NotFound",
            Status::MalformedRequest => "MalformedRequest",
            Status::UnknownRequest => "UnknownRequest",
            Status::UnknownCriticalExtension => "UnknownCriticalExtension",
            Status::UnsupportedVersion => "UnsupportedVersion",
            Status::UnsupportedAlgorithm => "UnsupportedAlgorithm",
            Status::NoCertificateChain => "NoCertificateChain",
            Status::InvalidCertificateChain => "InvalidCertificateChain",
            Status::TrustedRootCertificateNotPresent => "TrustedRootCertificateNotPresent",
            Status::SignatureError => "SignatureError",
            Status::DeviceTimeError => "DeviceTimeError",
            Status::NotRegistered => "NotRegistered",
            Status::InvalidDCFHash => "InvalidDCFHash",
            Status::InvalidDomain => "InvalidDomain",
            Status::DomainFull => "DomainFull",
            Status::DomainAccessDenied => "DomainAccessDenied",
            Status::RightsExpired => "RightsExpired",
            Status::MalformedMeteringReport => "MalformedMeteringReport",
            Status::UnableToDecryptMeteringReport => "UnableToDecryptMeteringReport",
            Status::UnableToVerifyMeteringReportMAC => "UnableToVerifyMeteringReportMAC",
            Status::InvalidPairingTicket => "InvalidPairingTicket",
            Status::NoMasterKey => "NoMasterKey",
        }
    }

    /// Whether this is `Success`.
    pub fn is_success(self) -> bool {
        self == Status::Success
    }
}

/// A status string that is not a known code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status code {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Seed 004 §11.2 spells the MAC code "UnableToValdiateMeteringReportMAC" once and
        // §11.3 writes "NoCertficateChain": both are accepted as aliases of the table codes.
        match s {
            "UnableToValdiateMeteringReportMAC" | "UnableToValidateMeteringReportMAC" => {
                return Ok(Status::UnableToVerifyMeteringReportMAC)
            }
            "NoCertficateChain" => return Ok(Status::NoCertificateChain),
            _ => {}
        }
        Status::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_and_aliases_resolve() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert_eq!(
            "UnableToValdiateMeteringReportMAC".parse::<Status>(),
            Ok(Status::UnableToVerifyMeteringReportMAC)
        );
        assert!("success".parse::<Status>().is_err());
    }
}
