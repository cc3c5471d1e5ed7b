//! DRM Time: a Device's notion of trusted time, which drifts from the RI's (virtual) time.

use crate::engine::SimTime;

/// A Device clock: DRM time = virtual time · (1 + drift_ppm·10⁻⁶) + offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrmClock {
    /// Constant offset at t = 0, ns (may be negative).
    pub offset_ns: i64,
    /// Rate error in parts per million (may be negative).
    pub drift_ppm: i64,
}

impl DrmClock {
    /// DRM time (ns since the epoch of the run) at virtual time `now`.
    pub fn drm_time_ns(&self, now: SimTime) -> u64 {
        let t = now.as_ns() as i128;
        let drifted = t + t * self.drift_ppm as i128 / 1_000_000 + self.offset_ns as i128;
        drifted.clamp(0, u64::MAX as i128) as u64
    }
}

/// Whether a Device time is acceptable to an RI whose own time is `ri_now`: within
/// `tolerance_ns` either way (the RI's "accurate" judgement of seed 004 §11.2).
pub fn time_acceptable(device_time_ns: u64, ri_now: SimTime, tolerance_ns: u64) -> bool {
    device_time_ns.abs_diff(ri_now.as_ns()) <= tolerance_ns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_and_offset() {
        let c = DrmClock {
            offset_ns: -5,
            drift_ppm: 100,
        };
        // 10 s · 100 ppm = 1 ms fast, minus 5 ns.
        assert_eq!(c.drm_time_ns(SimTime::from_secs(10)), 10_001_000_000 - 5);
        assert_eq!(
            DrmClock {
                offset_ns: -50,
                drift_ppm: 0
            }
            .drm_time_ns(SimTime::ZERO),
            0
        );
        assert!(time_acceptable(1_000, SimTime::from_ns(1_500), 500));
        assert!(!time_acceptable(1_000, SimTime::from_ns(1_501), 500));
    }
}
