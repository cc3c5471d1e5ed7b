//! Latency distributions of a link, in integer nanoseconds.
//!
//! Every sample consumes exactly two uniform draws ([`UniformPair`]) whatever the
//! distribution, so changing a link's distribution (or its parameters) never shifts the
//! random numbers seen by later messages on that link: runs that differ only in one
//! parameter use common random numbers, which keeps parameter sweeps comparable.

use super::error::NetError;
use crate::engine::time::NS_PER_S;
use serde::{Deserialize, Serialize};

/// Upper bound of every latency (or jitter) sample, in nanoseconds: one hour.
///
/// Heavy-tailed distributions (Pareto with a small shape, log-normal with a large sigma)
/// produce arbitrarily large values; a sample above this bound is clamped to it so that
/// virtual time never overflows and a single outlier cannot stall a run forever.
pub const MAX_LATENCY_NS: u64 = 3_600 * NS_PER_S;

/// Two independent uniform numbers in `[0, 1)`: the randomness one latency sample may use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UniformPair(pub f64, pub f64);

/// A one-way delay distribution; every parameter is in nanoseconds unless it is a shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencyDist {
    /// Always `latency_ns`.
    Constant {
        /// The delay, ns.
        latency_ns: u64,
    },
    /// Integer uniform on `[min_ns, max_ns]` (both inclusive); mean `(min+max)/2`.
    Uniform {
        /// Smallest delay, ns.
        min_ns: u64,
        /// Largest delay, ns.
        max_ns: u64,
    },
    /// Exponential with mean `mean_ns`.
    Exponential {
        /// Mean delay, ns.
        mean_ns: f64,
    },
    /// Log-normal: `median_ns * exp(sigma * Z)`, `Z` standard normal; mean `median*exp(sigma²/2)`.
    LogNormal {
        /// Median delay, ns (= `exp(mu)`).
        median_ns: f64,
        /// Standard deviation of the underlying normal (dimensionless).
        sigma: f64,
    },
    /// Pareto (type I): `scale_ns * U^(-1/shape)`; mean `scale*shape/(shape-1)` for shape > 1.
    Pareto {
        /// Minimum delay, ns.
        scale_ns: f64,
        /// Tail index (dimensionless); the mean is infinite for shape <= 1 (samples are clamped).
        shape: f64,
    },
}

impl Default for LatencyDist {
    fn default() -> Self {
        LatencyDist::Constant { latency_ns: 0 }
    }
}

impl LatencyDist {
    /// A constant delay of `latency_ns`.
    pub const fn constant(latency_ns: u64) -> Self {
        LatencyDist::Constant { latency_ns }
    }

    /// Checks the parameters; `what` names the field in the error (e.g. `"latency"`).
    pub fn validate(&self, what: &'static str) -> Result<(), NetError> {
        let bad = |reason: String| Err(NetError::InvalidLatency { what, reason });
        let max = MAX_LATENCY_NS as f64;
        match *self {
            LatencyDist::Constant { latency_ns } => {
                if latency_ns > MAX_LATENCY_NS {
                    return bad(format!(
                        "constant {latency_ns} ns exceeds the maximum {MAX_LATENCY_NS} ns"
                    ));
                }
            }
            LatencyDist::Uniform { min_ns, max_ns } => {
                if min_ns > max_ns {
                    return bad(format!("uniform min {min_ns} ns > max {max_ns} ns"));
                }
                if max_ns > MAX_LATENCY_NS {
                    return bad(format!(
                        "uniform max {max_ns} ns exceeds the maximum {MAX_LATENCY_NS} ns"
                    ));
                }
            }
            LatencyDist::Exponential { mean_ns } => {
                if !(mean_ns.is_finite() && mean_ns > 0.0 && mean_ns <= max) {
                    return bad(format!(
                        "exponential mean must be in (0, {MAX_LATENCY_NS}] ns, got {mean_ns}"
                    ));
                }
            }
            LatencyDist::LogNormal { median_ns, sigma } => {
                if !(median_ns.is_finite() && median_ns > 0.0 && median_ns <= max) {
                    return bad(format!(
                        "log-normal median must be in (0, {MAX_LATENCY_NS}] ns, got {median_ns}"
                    ));
                }
                if !(sigma.is_finite() && sigma > 0.0) {
                    return bad(format!(
                        "log-normal sigma must be positive and finite, got {sigma}"
                    ));
                }
            }
            LatencyDist::Pareto { scale_ns, shape } => {
                if !(scale_ns.is_finite() && scale_ns > 0.0 && scale_ns <= max) {
                    return bad(format!(
                        "pareto scale must be in (0, {MAX_LATENCY_NS}] ns, got {scale_ns}"
                    ));
                }
                if !(shape.is_finite() && shape > 0.0) {
                    return bad(format!(
                        "pareto shape must be positive and finite, got {shape}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The analytic mean in ns, ignoring the clamp (`None` when it is infinite).
    pub fn mean_ns(&self) -> Option<f64> {
        match *self {
            LatencyDist::Constant { latency_ns } => Some(latency_ns as f64),
            LatencyDist::Uniform { min_ns, max_ns } => Some((min_ns as f64 + max_ns as f64) / 2.0),
            LatencyDist::Exponential { mean_ns } => Some(mean_ns),
            LatencyDist::LogNormal { median_ns, sigma } => {
                Some(median_ns * (sigma * sigma / 2.0).exp())
            }
            LatencyDist::Pareto { scale_ns, shape } => {
                (shape > 1.0).then(|| scale_ns * shape / (shape - 1.0))
            }
        }
    }

    /// One sample in ns from the two uniforms `u`, clamped to [`MAX_LATENCY_NS`].
    ///
    /// Inverse-transform sampling by hand (Box–Muller for the normal), so the mapping from
    /// random numbers to delays is written down here rather than inside a dependency.
    pub fn sample(&self, u: UniformPair) -> u64 {
        // 1 - u lies in (0, 1], so its logarithm is finite.
        let UniformPair(u1, u2) = u;
        let x: f64 = match *self {
            LatencyDist::Constant { latency_ns } => return latency_ns.min(MAX_LATENCY_NS),
            LatencyDist::Uniform { min_ns, max_ns } => {
                let span = (max_ns - min_ns) as f64 + 1.0;
                // floor(u1 * span) < span; the min() guards the rounding of huge spans.
                let off = ((u1 * span) as u64).min(max_ns - min_ns);
                return (min_ns + off).min(MAX_LATENCY_NS);
            }
            LatencyDist::Exponential { mean_ns } => -mean_ns * (1.0 - u1).ln(),
            LatencyDist::LogNormal { median_ns, sigma } => {
                let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                median_ns * (sigma * z).exp()
            }
            LatencyDist::Pareto { scale_ns, shape } => scale_ns * (1.0 - u1).powf(-1.0 / shape),
        };
        clamp_ns(x)
    }
}

/// Rounds a non-negative float delay to whole ns, clamped to `[0, MAX_LATENCY_NS]`.
fn clamp_ns(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= MAX_LATENCY_NS as f64 {
        MAX_LATENCY_NS
    } else {
        x.round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_transforms_at_known_points() {
        let exp = LatencyDist::Exponential { mean_ns: 1000.0 };
        // -1000 ln(0.5) = 693.147…
        assert_eq!(exp.sample(UniformPair(0.5, 0.0)), 693);
        assert_eq!(exp.sample(UniformPair(0.0, 0.0)), 0);
        let par = LatencyDist::Pareto {
            scale_ns: 100.0,
            shape: 2.0,
        };
        // 100 * 0.25^(-1/2) = 200
        assert_eq!(par.sample(UniformPair(0.75, 0.0)), 200);
        assert_eq!(par.sample(UniformPair(0.0, 0.0)), 100);
        let ln = LatencyDist::LogNormal {
            median_ns: 5000.0,
            sigma: 1.0,
        };
        // cos(2π·0.25) = 0 → z = 0 → the median.
        assert_eq!(ln.sample(UniformPair(0.3, 0.25)), 5000);
        let uni = LatencyDist::Uniform {
            min_ns: 10,
            max_ns: 19,
        };
        assert_eq!(uni.sample(UniformPair(0.0, 0.0)), 10);
        assert_eq!(uni.sample(UniformPair(0.999_999, 0.0)), 19);
        assert_eq!(uni.sample(UniformPair(0.55, 0.0)), 15);
    }

    #[test]
    fn heavy_tails_are_clamped() {
        let par = LatencyDist::Pareto {
            scale_ns: 1e6,
            shape: 0.1,
        };
        assert_eq!(par.sample(UniformPair(0.999_999_9, 0.0)), MAX_LATENCY_NS);
        assert_eq!(par.mean_ns(), None);
    }

    #[test]
    fn validation_rejects_bad_parameters() {
        let bad = [
            LatencyDist::Uniform {
                min_ns: 5,
                max_ns: 4,
            },
            LatencyDist::Exponential { mean_ns: 0.0 },
            LatencyDist::Exponential { mean_ns: f64::NAN },
            LatencyDist::LogNormal {
                median_ns: 1.0,
                sigma: -1.0,
            },
            LatencyDist::LogNormal {
                median_ns: -1.0,
                sigma: 1.0,
            },
            LatencyDist::Pareto {
                scale_ns: 1.0,
                shape: 0.0,
            },
            LatencyDist::Pareto {
                scale_ns: f64::INFINITY,
                shape: 2.0,
            },
            LatencyDist::Constant {
                latency_ns: MAX_LATENCY_NS + 1,
            },
        ];
        for d in bad {
            assert!(
                matches!(d.validate("latency"), Err(NetError::InvalidLatency { .. })),
                "{d:?}"
            );
        }
        assert!(LatencyDist::constant(7).validate("latency").is_ok());
    }
}
