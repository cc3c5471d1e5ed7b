//! What a DRM Agent does over time once it has arrived: rates and probabilities from the
//! scenario, turned into Poisson activity timers drawn from the agent's own RNG stream.

use crate::engine::time::NS_PER_S;
use rand::Rng;

/// Per-agent behaviour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentWorkload {
    /// Register with the home RI on arrival.
    pub register_at_arrival: bool,
    /// Mean RO acquisitions per minute (Poisson).
    pub acquire_rate_per_min: f64,
    /// Mean content uses per minute (Poisson), spread over the agent's usable ROs.
    pub consume_rate_per_min: f64,
    /// Probability that an acquired RO is later moved to another Device via the RI.
    pub move_probability: f64,
    /// Interval between Metering Reports (`None` = no metering).
    pub metering_interval_ns: Option<u64>,
    /// Probability of joining a ROAP domain after registering.
    pub join_domain_probability: f64,
    /// Probability that a domain member later leaves.
    pub leave_domain_probability: f64,
    /// ROs requested per RO acquisition.
    pub ros_per_request: u32,
    /// Uses granted by a count-constrained RO.
    pub ro_count: u32,
    /// Probability that an issued RO is count-constrained (else unlimited).
    pub ro_stateful_probability: f64,
    /// Mean delay from acquiring an RO to moving it (exponential), when it is moved.
    pub move_delay_mean_ns: u64,
    /// Probability that a Move of a count RO is partial (half its counts) rather than full.
    pub move_partial_probability: f64,
    /// Mean agent-initiated Imports per minute from a random LRM (SCE agents; seed 001).
    pub import_rate_per_min: f64,
    /// Mean dmpPair Move/Copy attempts per minute (SCE agents; seed 001 §7.2.1.3).
    pub pair_rate_per_min: f64,
    /// Probability that a dmpPair attempt is a Copy rather than a Move.
    pub pair_copy_probability: f64,
}

impl Default for AgentWorkload {
    fn default() -> Self {
        AgentWorkload {
            register_at_arrival: true,
            acquire_rate_per_min: 1.0,
            consume_rate_per_min: 2.0,
            move_probability: 0.0,
            metering_interval_ns: None,
            join_domain_probability: 0.0,
            leave_domain_probability: 0.0,
            ros_per_request: 1,
            ro_count: 5,
            ro_stateful_probability: 0.5,
            move_delay_mean_ns: 60 * NS_PER_S,
            move_partial_probability: 0.5,
            import_rate_per_min: 0.0,
            pair_rate_per_min: 0.0,
            pair_copy_probability: 0.0,
        }
    }
}

/// Delay to the next event of a Poisson process of `rate_per_min`, or `None` if the rate is 0.
pub fn next_poisson_ns(rng: &mut impl Rng, rate_per_min: f64) -> Option<u64> {
    if rate_per_min <= 0.0 || !rate_per_min.is_finite() {
        return None;
    }
    let u: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let mean_ns = 60.0 * NS_PER_S as f64 / rate_per_min;
    Some(((-u.ln()) * mean_ns).min(u64::MAX as f64 / 2.0) as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn poisson_gaps_have_the_configured_mean() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let n = 20_000;
        let sum: u64 = (0..n)
            .map(|_| next_poisson_ns(&mut rng, 6.0).unwrap())
            .sum();
        let mean_s = sum as f64 / n as f64 / 1e9;
        assert!((mean_s - 10.0).abs() < 0.3, "mean {mean_s}");
        assert_eq!(next_poisson_ns(&mut rng, 0.0), None);
    }
}
