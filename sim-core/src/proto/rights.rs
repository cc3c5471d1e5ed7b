//! A DRM Agent's Rights Objects as installed state: permissions, constraints, stateful
//! counters, usable/unusable marking for Move (seed 003 §9.1.1 step 2, §9.2.1 step 2).

use serde::{Deserialize, Serialize};

/// What an RO is bound to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Binding {
    /// Device RO, bound to one Device ID.
    Device(String),
    /// ROAP domain RO (domain ID without generation).
    Domain(String),
    /// SCE `<userDomain>`-constrained RO.
    UserDomain(String),
}

/// Which Move protocol a `<move>` permission's `<system>` constraint names (seed 003 §9.1.1
/// step 1: no `<system>` ⇒ any Move protocol is allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MoveSystem {
    /// Move Device RO via RI (§9.1).
    MoveDeviceRoViaRi,
    /// Move `<userDomain>`-constrained RO via RI (§9.2).
    MoveUserDomainRoViaRi,
    /// Direct Move between paired agents (seed 001 dmpPair).
    DmpPair,
}

/// The usage constraint of the play permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Constraint {
    /// No constraint (stateless, unlimited).
    Unlimited,
    /// Stateful: `remaining` uses left.
    Count {
        /// Uses left (including any portion marked unusable for a Move).
        remaining: u32,
    },
    /// Stateful: usable for `duration_ns` from first use (DRM time).
    Interval {
        /// Length of the window.
        duration_ns: u64,
        /// DRM time of first use, once used.
        started_at_ns: Option<u64>,
    },
    /// Stateless: usable between two DRM times.
    Datetime {
        /// Start (inclusive), DRM time ns.
        not_before_ns: u64,
        /// End (exclusive), DRM time ns.
        not_after_ns: u64,
    },
}

/// An installed Rights Object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RightsObject {
    /// RO identifier (unique per issuer).
    pub ro_id: String,
    /// Issuing RI or LRM name.
    pub issuer: String,
    /// Content the RO governs.
    pub content_id: String,
    /// Binding.
    pub binding: Binding,
    /// Play constraint.
    pub constraint: Constraint,
    /// `<move>` permission: `None` = not movable; `Some(None)` = movable by any protocol;
    /// `Some(Some(s))` = only by protocol `s`.
    pub move_permission: Option<Option<MoveSystem>>,
    /// Whether uses are metered (seed 004: metering information is kept per use).
    pub metered: bool,
    /// Whole RO marked unusable (full Move in progress).
    pub unusable: bool,
    /// Count portion marked unusable (partial Move in progress).
    pub unusable_count: u32,
}

/// Why an RO cannot be used or moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RightsError {
    /// Marked unusable (Move in progress).
    #[error("rights object is marked unusable")]
    Unusable,
    /// No uses left / window closed / not yet valid.
    #[error("rights exhausted or outside their validity window")]
    Exhausted,
    /// No `<move>` permission for this protocol.
    #[error("rights object has no move permission for this protocol")]
    NotMovable,
    /// Partial Move of a non-count RO, or more than available.
    #[error("invalid move portion")]
    BadPortion,
    /// A Move is already in progress for this RO.
    #[error("a move of this rights object is already in progress")]
    MoveInProgress,
}

impl RightsObject {
    /// Uses available now (count ROs: remaining minus the portion being moved; others 1 or 0).
    pub fn available_count(&self) -> u32 {
        match self.constraint {
            Constraint::Count { remaining } => remaining.saturating_sub(self.unusable_count),
            _ => 1,
        }
    }

    /// Consumes one use at DRM time `drm_now_ns`.
    pub fn consume(&mut self, drm_now_ns: u64) -> Result<(), RightsError> {
        if self.unusable {
            return Err(RightsError::Unusable);
        }
        match &mut self.constraint {
            Constraint::Unlimited => Ok(()),
            Constraint::Count { remaining } => {
                if *remaining <= self.unusable_count {
                    return Err(RightsError::Exhausted);
                }
                *remaining -= 1;
                Ok(())
            }
            Constraint::Interval {
                duration_ns,
                started_at_ns,
            } => {
                let start = *started_at_ns.get_or_insert(drm_now_ns);
                if drm_now_ns < start.saturating_add(*duration_ns) {
                    Ok(())
                } else {
                    Err(RightsError::Exhausted)
                }
            }
            Constraint::Datetime {
                not_before_ns,
                not_after_ns,
            } => {
                if (*not_before_ns..*not_after_ns).contains(&drm_now_ns) {
                    Ok(())
                } else {
                    Err(RightsError::Exhausted)
                }
            }
        }
    }

    /// Whether `system` may move this RO (seed 003 §9.1.1 step 1, §9.2.1 step 1).
    pub fn movable_by(&self, system: MoveSystem) -> bool {
        matches!(self.move_permission, Some(None)) || self.move_permission == Some(Some(system))
    }

    /// Marks the RO (or `portion` counts of it) unusable before a Move request is sent
    /// (seed 003 §9.1.1 step 2). `portion = None` moves the whole RO.
    pub fn mark_for_move(
        &mut self,
        system: MoveSystem,
        portion: Option<u32>,
    ) -> Result<(), RightsError> {
        if !self.movable_by(system) {
            return Err(RightsError::NotMovable);
        }
        if self.unusable || self.unusable_count > 0 {
            return Err(RightsError::MoveInProgress);
        }
        match (portion, self.constraint) {
            (None, _) => {
                self.unusable = true;
                Ok(())
            }
            (Some(p), Constraint::Count { remaining }) if p > 0 && p < remaining => {
                self.unusable_count = p;
                Ok(())
            }
            // Moving every remaining count is a full Move.
            (Some(p), Constraint::Count { remaining }) if p == remaining && p > 0 => {
                self.unusable = true;
                Ok(())
            }
            _ => Err(RightsError::BadPortion),
        }
    }

    /// Restores usability after a failed Move (seed 003 §9.1.3 3.b, §9.2.3 steps 3–4).
    pub fn restore_after_failed_move(&mut self) {
        self.unusable = false;
        self.unusable_count = 0;
    }

    /// Applies a successful partial Move: the moved portion leaves the state information
    /// (seed 003 §9.1.3 3.a: 3 counts, 1 moved ⇒ 2 remain). Returns the counts moved.
    pub fn complete_partial_move(&mut self) -> u32 {
        let moved = self.unusable_count;
        if let Constraint::Count { remaining } = &mut self.constraint {
            *remaining -= moved;
        }
        self.unusable_count = 0;
        moved
    }

    /// Whether a full Move is in progress (the RO will be removed on success).
    pub fn full_move_pending(&self) -> bool {
        self.unusable
    }

    /// Rights units this RO represents, for conservation accounting: remaining counts for
    /// count ROs, 1 for any other RO.
    pub fn rights_units(&self) -> u64 {
        match self.constraint {
            Constraint::Count { remaining } => remaining as u64,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_ro(n: u32) -> RightsObject {
        RightsObject {
            ro_id: "ro-1".into(),
            issuer: "ri/0".into(),
            content_id: "cid:1".into(),
            binding: Binding::Device("dev".into()),
            constraint: Constraint::Count { remaining: n },
            move_permission: Some(None),
            metered: true,
            unusable: false,
            unusable_count: 0,
        }
    }

    #[test]
    fn count_consumption_and_partial_move() {
        let mut ro = count_ro(3);
        ro.mark_for_move(MoveSystem::MoveDeviceRoViaRi, Some(1))
            .unwrap();
        assert_eq!(ro.available_count(), 2);
        ro.consume(0).unwrap();
        ro.consume(0).unwrap();
        // The portion being moved cannot be consumed.
        assert_eq!(ro.consume(0), Err(RightsError::Exhausted));
        assert_eq!(ro.complete_partial_move(), 1);
        assert_eq!(ro.constraint, Constraint::Count { remaining: 0 });
    }

    #[test]
    fn seed_003_example_three_counts_one_moved_leaves_two() {
        let mut ro = count_ro(3);
        ro.mark_for_move(MoveSystem::MoveDeviceRoViaRi, Some(1))
            .unwrap();
        ro.complete_partial_move();
        assert_eq!(ro.constraint, Constraint::Count { remaining: 2 });
    }

    #[test]
    fn failed_move_restores_and_system_constraint_is_honoured() {
        let mut ro = count_ro(2);
        ro.move_permission = Some(Some(MoveSystem::MoveUserDomainRoViaRi));
        assert_eq!(
            ro.mark_for_move(MoveSystem::MoveDeviceRoViaRi, None),
            Err(RightsError::NotMovable)
        );
        ro.mark_for_move(MoveSystem::MoveUserDomainRoViaRi, None)
            .unwrap();
        assert_eq!(ro.consume(0), Err(RightsError::Unusable));
        assert_eq!(
            ro.mark_for_move(MoveSystem::MoveUserDomainRoViaRi, None),
            Err(RightsError::MoveInProgress)
        );
        ro.restore_after_failed_move();
        ro.consume(0).unwrap();
        assert_eq!(ro.available_count(), 1);
    }

    #[test]
    fn interval_and_datetime_windows() {
        let mut ro = count_ro(1);
        ro.constraint = Constraint::Interval {
            duration_ns: 100,
            started_at_ns: None,
        };
        ro.consume(1_000).unwrap();
        ro.consume(1_099).unwrap();
        assert_eq!(ro.consume(1_100), Err(RightsError::Exhausted));
        ro.constraint = Constraint::Datetime {
            not_before_ns: 10,
            not_after_ns: 20,
        };
        assert_eq!(ro.consume(9), Err(RightsError::Exhausted));
        ro.consume(10).unwrap();
        assert_eq!(ro.consume(20), Err(RightsError::Exhausted));
    }
}
