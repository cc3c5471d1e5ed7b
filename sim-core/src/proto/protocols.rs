//! The protocol names of `outcome` records: one list, used by the agent for its outcome
//! records and by the scenario format to check `[expect] min_completion` keys, so a name
//! the outcome table prints is exactly a name a scenario may ask about.

use super::{domain, metering, move_ro, move_ud};

/// ROAP 4-pass Registration.
pub const REGISTRATION: &str = "registration";
/// ROAP 2-pass RO Acquisition.
pub const RO_ACQUISITION: &str = "ro_acquisition";
/// Seed 001 Join Domain for Pairing.
pub const PAIRING_JOIN: &str = "pairing_join";
/// Seed 001 Import through an LRM.
pub const IMPORT: &str = "import";
/// Seed 001 dmpPair (move).
pub const PAIRING: &str = "pairing";
/// Seed 001 dmpPair (copy).
pub const PAIRING_COPY: &str = "pairing_copy";

/// Every protocol name an `outcome` record can carry, in name order.
pub const ALL: [&str; 11] = [
    IMPORT,
    domain::JOIN,
    domain::LEAVE,
    metering::PROTOCOL,
    move_ro::PROTOCOL,
    move_ud::PROTOCOL,
    PAIRING,
    PAIRING_COPY,
    PAIRING_JOIN,
    REGISTRATION,
    RO_ACQUISITION,
];

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_sorted_and_distinct() {
        let mut sorted = super::ALL.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, super::ALL.to_vec());
    }
}
