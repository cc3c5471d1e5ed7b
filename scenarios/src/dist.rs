//! Delay distributions (`{ dist = "uniform", min = "10ms", max = "30ms" }`) used for link
//! latency and jitter. This crate only describes and checks them; sim-core samples them.

use crate::units::DurationNs;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A distribution of non-negative delays, tagged by `dist`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    /// Always `value`.
    Constant {
        /// The delay.
        value: DurationNs,
    },
    /// Uniform on [`min`, `max`].
    Uniform {
        /// Smallest delay.
        min: DurationNs,
        /// Largest delay (must be >= `min`).
        max: DurationNs,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean delay (> 0).
        mean: DurationNs,
    },
    /// Log-normal: `median * exp(sigma * N(0,1))`.
    Lognormal {
        /// Median delay (> 0).
        median: DurationNs,
        /// Standard deviation of the underlying normal (finite, > 0).
        sigma: f64,
    },
    /// Pareto (type I): support [`scale`, inf), tail index `shape`.
    Pareto {
        /// Minimum delay (> 0).
        scale: DurationNs,
        /// Tail index (finite, > 0); the mean is finite only for shape > 1.
        shape: f64,
    },
}

impl Dist {
    /// A constant delay.
    pub const fn constant(value: DurationNs) -> Self {
        Dist::Constant { value }
    }

    /// The `dist` tag as written in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            Dist::Constant { .. } => "constant",
            Dist::Uniform { .. } => "uniform",
            Dist::Exponential { .. } => "exponential",
            Dist::Lognormal { .. } => "lognormal",
            Dist::Pareto { .. } => "pareto",
        }
    }

    /// Checks parameter ranges (those of sim-core's `LatencyDist`: every duration at most
    /// [`MAX_DELAY`], sigma and shape positive); on failure returns `(parameter, reason)`.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        match *self {
            Dist::Constant { value } => at_most("value", value),
            Dist::Uniform { min, max } => {
                at_most("min", min)?;
                at_most("max", max)?;
                if max < min {
                    Err(("max", format!("max {max} is smaller than min {min}")))
                } else {
                    Ok(())
                }
            }
            Dist::Exponential { mean } => positive("mean", mean),
            Dist::Lognormal { median, sigma } => {
                positive("median", median)?;
                if !(sigma.is_finite() && sigma > 0.0) {
                    return Err((
                        "sigma",
                        format!("sigma must be finite and > 0, not {sigma}"),
                    ));
                }
                Ok(())
            }
            Dist::Pareto { scale, shape } => {
                positive("scale", scale)?;
                if !(shape.is_finite() && shape > 0.0) {
                    return Err((
                        "shape",
                        format!("shape must be finite and > 0, not {shape}"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// The mean delay in nanoseconds, `None` when it is infinite (Pareto with shape <= 1).
    pub fn mean_ns(&self) -> Option<f64> {
        match *self {
            Dist::Constant { value } => Some(value.0 as f64),
            Dist::Uniform { min, max } => Some((min.0 as f64 + max.0 as f64) / 2.0),
            Dist::Exponential { mean } => Some(mean.0 as f64),
            Dist::Lognormal { median, sigma } => {
                Some(median.0 as f64 * (sigma * sigma / 2.0).exp())
            }
            Dist::Pareto { scale, shape } => {
                (shape > 1.0).then(|| shape * scale.0 as f64 / (shape - 1.0))
            }
        }
    }
}

/// Largest delay parameter accepted (sim-core clamps every sample to one hour).
pub const MAX_DELAY: DurationNs = DurationNs::from_secs(3_600);

fn at_most(name: &'static str, d: DurationNs) -> Result<(), (&'static str, String)> {
    if d > MAX_DELAY {
        Err((name, format!("{name} {d} exceeds the limit of {MAX_DELAY}")))
    } else {
        Ok(())
    }
}

fn positive(name: &'static str, d: DurationNs) -> Result<(), (&'static str, String)> {
    if d.0 == 0 {
        Err((name, format!("{name} must be greater than zero")))
    } else {
        at_most(name, d)
    }
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dist::Constant { value } => write!(f, "constant {value}"),
            Dist::Uniform { min, max } => write!(f, "uniform {min}..{max}"),
            Dist::Exponential { mean } => write!(f, "exponential mean {mean}"),
            Dist::Lognormal { median, sigma } => {
                write!(f, "lognormal median {median} sigma {sigma}")
            }
            Dist::Pareto { scale, shape } => write!(f, "pareto scale {scale} shape {shape}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct T {
        d: Dist,
    }

    fn d(s: &str) -> Result<Dist, String> {
        toml::from_str::<T>(&format!("d = {s}"))
            .map(|t| t.d)
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn every_shape_parses() {
        assert_eq!(
            d(r#"{ dist = "constant", value = "20ms" }"#).unwrap(),
            Dist::constant(DurationNs::from_ms(20))
        );
        assert_eq!(
            d(r#"{ dist = "uniform", min = "10ms", max = "30ms" }"#).unwrap(),
            Dist::Uniform {
                min: DurationNs::from_ms(10),
                max: DurationNs::from_ms(30)
            }
        );
        assert_eq!(
            d(r#"{ dist = "exponential", mean = "20ms" }"#)
                .unwrap()
                .mean_ns(),
            Some(20e6)
        );
        let ln = d(r#"{ dist = "lognormal", median = "20ms", sigma = 0.5 }"#).unwrap();
        // mean of a log-normal = median * exp(sigma^2 / 2) = 20ms * exp(0.125)
        assert!((ln.mean_ns().unwrap() - 20e6 * 0.125f64.exp()).abs() < 1e-3);
        let p = d(r#"{ dist = "pareto", scale = "10ms", shape = 2.5 }"#).unwrap();
        // Pareto mean = shape * scale / (shape - 1) = 2.5 * 10ms / 1.5
        assert!((p.mean_ns().unwrap() - 2.5 * 10e6 / 1.5).abs() < 1e-3);
        assert_eq!(
            Dist::Pareto {
                scale: DurationNs(1),
                shape: 1.0
            }
            .mean_ns(),
            None
        );
    }

    #[test]
    fn bad_shapes_are_rejected() {
        assert!(d(r#"{ dist = "gaussian", mean = "1ms" }"#)
            .unwrap_err()
            .contains("unknown variant `gaussian`"));
        assert!(d(r#"{ dist = "uniform", min = "1ms" }"#)
            .unwrap_err()
            .contains("missing field `max`"));
        assert!(d(r#"{ dist = "constant", value = "1ms", mean = "2ms" }"#)
            .unwrap_err()
            .contains("unknown field `mean`"));
        let bad = Dist::Uniform {
            min: DurationNs(5),
            max: DurationNs(4),
        };
        assert_eq!(bad.check().unwrap_err().0, "max");
        assert_eq!(
            Dist::Constant {
                value: DurationNs::from_secs(3_601)
            }
            .check()
            .unwrap_err()
            .1,
            "value 3601s exceeds the limit of 1h"
        );
        assert_eq!(
            Dist::Exponential {
                mean: DurationNs(0)
            }
            .check()
            .unwrap_err()
            .0,
            "mean"
        );
        assert_eq!(
            Dist::Lognormal {
                median: DurationNs(1),
                sigma: 0.0
            }
            .check()
            .unwrap_err()
            .0,
            "sigma"
        );
        assert_eq!(
            Dist::Pareto {
                scale: DurationNs(1),
                shape: 0.0
            }
            .check()
            .unwrap_err()
            .0,
            "shape"
        );
    }
}
