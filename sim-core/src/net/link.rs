//! One directed link: its specification ([`LinkSpec`]) and its run-time state (RNG stream,
//! Gilbert–Elliott channel state, transmitter FIFO, counters).

use super::error::NetError;
use super::latency::{LatencyDist, UniformPair};
use super::Fate;
use crate::engine::time::NS_PER_S;
use crate::engine::{SimRng, SimTime};
use crate::trace::DropCause;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Gilbert–Elliott two-state loss channel, advanced once per message on its link.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GilbertElliott {
    /// Probability of moving from the good to the bad state at a message.
    pub p_good_to_bad: f64,
    /// Probability of moving from the bad to the good state at a message.
    pub p_bad_to_good: f64,
    /// Loss probability while good.
    pub loss_good: f64,
    /// Loss probability while bad.
    pub loss_bad: f64,
}

impl GilbertElliott {
    /// Checks that all four parameters are probabilities.
    pub fn validate(&self) -> Result<(), NetError> {
        check_probability("gilbert_elliott.p_good_to_bad", self.p_good_to_bad)?;
        check_probability("gilbert_elliott.p_bad_to_good", self.p_bad_to_good)?;
        check_probability("gilbert_elliott.loss_good", self.loss_good)?;
        check_probability("gilbert_elliott.loss_bad", self.loss_bad)
    }

    /// Stationary probability of the bad state, `p_gb / (p_gb + p_bg)` (0 if both are 0,
    /// since the chain then stays in its initial good state).
    pub fn stationary_bad(&self) -> f64 {
        let s = self.p_good_to_bad + self.p_bad_to_good;
        if s == 0.0 {
            0.0
        } else {
            self.p_good_to_bad / s
        }
    }

    /// Long-run loss rate `π_bad·loss_bad + π_good·loss_good`.
    pub fn stationary_loss(&self) -> f64 {
        let bad = self.stationary_bad();
        bad * self.loss_bad + (1.0 - bad) * self.loss_good
    }
}

/// Everything that shapes traffic on a link (one direction of it; a symmetric link gives each
/// direction a copy of the spec and its own independent state).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkSpec {
    /// Propagation delay distribution.
    pub latency: LatencyDist,
    /// Extra random delay added to the latency; reordering emerges from it.
    pub jitter: LatencyDist,
    /// Independent (Bernoulli) loss probability per message.
    pub loss_probability: f64,
    /// Optional bursty loss channel, applied before the independent loss.
    pub gilbert_elliott: Option<GilbertElliott>,
    /// Probability that a delivered message is delivered twice.
    pub duplicate_probability: f64,
    /// Transmitter rate; `None` means infinitely fast (no serialization delay, no FIFO).
    pub bandwidth_bps: Option<u64>,
    /// Transmitter buffer in bytes (needs `bandwidth_bps`); `None` means unbounded.
    pub buffer_bytes: Option<u64>,
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec::constant(0)
    }
}

impl LinkSpec {
    /// A lossless, infinitely fast link with a constant delay of `latency_ns`.
    pub const fn constant(latency_ns: u64) -> Self {
        LinkSpec {
            latency: LatencyDist::constant(latency_ns),
            jitter: LatencyDist::constant(0),
            loss_probability: 0.0,
            gilbert_elliott: None,
            duplicate_probability: 0.0,
            bandwidth_bps: None,
            buffer_bytes: None,
        }
    }

    /// Checks every parameter (probabilities in `[0, 1]`, distributions well-formed, …).
    pub fn validate(&self) -> Result<(), NetError> {
        self.latency.validate("latency")?;
        self.jitter.validate("jitter")?;
        check_probability("loss_probability", self.loss_probability)?;
        check_probability("duplicate_probability", self.duplicate_probability)?;
        if let Some(ge) = &self.gilbert_elliott {
            ge.validate()?;
        }
        match (self.bandwidth_bps, self.buffer_bytes) {
            (Some(0), _) => Err(NetError::ZeroBandwidth),
            (None, Some(_)) => Err(NetError::BufferWithoutBandwidth),
            _ => Ok(()),
        }
    }

    /// Time to put `size_bytes` on the wire: `ceil(size_bytes * 8 * 1e9 / bandwidth_bps)` ns
    /// (0 without a bandwidth).
    pub fn serialization_ns(&self, size_bytes: u32) -> u64 {
        match self.bandwidth_bps {
            None | Some(0) => 0,
            Some(bps) => {
                let bits_ns = size_bytes as u128 * 8 * NS_PER_S as u128;
                u64::try_from(bits_ns.div_ceil(bps as u128)).unwrap_or(u64::MAX)
            }
        }
    }
}

fn check_probability(what: &'static str, value: f64) -> Result<(), NetError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(NetError::InvalidProbability { what, value })
    }
}

/// Counters of one directed link since the topology was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LinkStats {
    /// Messages routed on the link (every outcome).
    pub messages: u64,
    /// Messages delivered (originals only).
    pub delivered: u64,
    /// Delivered messages that were also duplicated.
    pub duplicated: u64,
    /// Dropped by independent loss, or by Gilbert–Elliott loss in the good state.
    pub dropped_loss: u64,
    /// Dropped by Gilbert–Elliott loss in the bad state.
    pub dropped_burst: u64,
    /// Dropped because of a partition.
    pub dropped_partition: u64,
    /// Dropped because the transmitter buffer was full.
    pub dropped_queue_full: u64,
}

/// Uniform draws consumed by every message on a link, whatever happens to it (see
/// `docs/network.md`, "Randomness"): 1 GE transition, 1 GE loss, 1 independent loss,
/// 1 duplication, 2 latency, 2 jitter, 2 duplicate latency, 2 duplicate jitter.
pub const DRAWS_PER_MESSAGE: usize = 12;

/// Run-time state of one directed link.
#[derive(Debug, Clone)]
pub struct LinkState {
    rng: SimRng,
    ge_bad: bool,
    busy_until: SimTime,
    stats: LinkStats,
}

impl LinkState {
    /// Fresh state: Gilbert–Elliott chain in the good state, transmitter idle.
    pub fn new(rng: SimRng) -> Self {
        LinkState {
            rng,
            ge_bad: false,
            busy_until: SimTime::ZERO,
            stats: LinkStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Whether the Gilbert–Elliott chain is in its bad state now.
    pub fn in_bad_state(&self) -> bool {
        self.ge_bad
    }

    /// When the transmitter finishes the messages accepted so far.
    pub fn busy_until(&self) -> SimTime {
        self.busy_until
    }

    /// Decides the fate of one message sent at `now` on this link with `spec`.
    /// `partitioned` says whether a partition separates the two ends at `now`.
    pub fn route(
        &mut self,
        spec: &LinkSpec,
        now: SimTime,
        size_bytes: u32,
        partitioned: bool,
    ) -> Fate {
        // Fixed draw budget: the k-th message on a link always sees the k-th block of
        // random numbers, whatever earlier messages' fates or this link's parameters were.
        let mut u = [0.0f64; DRAWS_PER_MESSAGE];
        for x in &mut u {
            *x = self.rng.gen::<f64>();
        }
        self.stats.messages += 1;

        // The channel state evolves with every message offered to the link, so that a
        // partition or a full buffer does not freeze (or shift) the loss process.
        if let Some(ge) = &spec.gilbert_elliott {
            self.ge_bad = if self.ge_bad {
                u[0] >= ge.p_bad_to_good
            } else {
                u[0] < ge.p_good_to_bad
            };
        }

        if partitioned {
            self.stats.dropped_partition += 1;
            return Fate::Drop(DropCause::Partition);
        }

        // Transmitter FIFO: a message starts when the previous one on this directed link
        // has finished; lost messages occupy the wire too (they are lost in transit).
        let tx_end = match spec.bandwidth_bps {
            None => now,
            Some(bps) => {
                let start = now.max(self.busy_until);
                if let Some(buffer) = spec.buffer_bytes {
                    let backlog_ns = self.busy_until.since(now) as u128;
                    let backlog_bytes = (backlog_ns * bps as u128).div_ceil(8 * NS_PER_S as u128);
                    if backlog_bytes + size_bytes as u128 > buffer as u128 {
                        self.stats.dropped_queue_full += 1;
                        return Fate::Drop(DropCause::QueueFull);
                    }
                }
                let end = start.add_ns(spec.serialization_ns(size_bytes));
                self.busy_until = end;
                end
            }
        };

        if let Some(ge) = &spec.gilbert_elliott {
            let p = if self.ge_bad {
                ge.loss_bad
            } else {
                ge.loss_good
            };
            if u[1] < p {
                return Fate::Drop(if self.ge_bad {
                    self.stats.dropped_burst += 1;
                    DropCause::BurstLoss
                } else {
                    self.stats.dropped_loss += 1;
                    DropCause::Loss
                });
            }
        }
        if u[2] < spec.loss_probability {
            self.stats.dropped_loss += 1;
            return Fate::Drop(DropCause::Loss);
        }

        let delay = |l: usize| {
            spec.latency
                .sample(UniformPair(u[l], u[l + 1]))
                .saturating_add(spec.jitter.sample(UniformPair(u[l + 2], u[l + 3])))
        };
        self.stats.delivered += 1;
        let at = tx_end.add_ns(delay(4));
        let duplicate_at = (u[3] < spec.duplicate_probability).then(|| {
            self.stats.duplicated += 1;
            tx_end.add_ns(delay(8))
        });
        Fate::Deliver { at, duplicate_at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    #[test]
    fn serialization_delay_rounds_up() {
        let mut s = LinkSpec::constant(0);
        s.bandwidth_bps = Some(8_000_000); // 1 byte per µs
        assert_eq!(s.serialization_ns(1000), 1_000_000);
        s.bandwidth_bps = Some(3);
        // 1 byte = 8 bits at 3 bit/s = 2.666… s → rounded up.
        assert_eq!(s.serialization_ns(1), 2_666_666_667);
        assert_eq!(LinkSpec::constant(0).serialization_ns(1000), 0);
    }

    #[test]
    fn buffer_limits_backlog() {
        let mut s = LinkSpec::constant(0);
        s.bandwidth_bps = Some(8_000_000);
        s.buffer_bytes = Some(2500);
        let mut st = LinkState::new(stream(1, "t", "net"));
        let t0 = SimTime::ZERO;
        // 1000 + 1000 fit, the third would make 3000 > 2500 bytes.
        assert!(matches!(
            st.route(&s, t0, 1000, false),
            Fate::Deliver { .. }
        ));
        assert!(matches!(
            st.route(&s, t0, 1000, false),
            Fate::Deliver { .. }
        ));
        assert_eq!(
            st.route(&s, t0, 1000, false),
            Fate::Drop(DropCause::QueueFull)
        );
        // 1.5 ms later 500 bytes remain queued: 500 + 1000 fit.
        let f = st.route(&s, SimTime::from_ns(1_500_000), 1000, false);
        assert_eq!(
            f,
            Fate::Deliver {
                at: SimTime::from_ns(3_000_000),
                duplicate_at: None
            }
        );
        assert_eq!(st.stats().dropped_queue_full, 1);
    }

    #[test]
    fn validation_catches_each_field() {
        let mut s = LinkSpec::constant(1);
        s.loss_probability = 1.5;
        assert!(matches!(
            s.validate(),
            Err(NetError::InvalidProbability {
                what: "loss_probability",
                ..
            })
        ));
        let mut s = LinkSpec::constant(1);
        s.duplicate_probability = f64::NAN;
        assert!(s.validate().is_err());
        let mut s = LinkSpec::constant(1);
        s.bandwidth_bps = Some(0);
        assert_eq!(s.validate(), Err(NetError::ZeroBandwidth));
        let mut s = LinkSpec::constant(1);
        s.buffer_bytes = Some(10);
        assert_eq!(s.validate(), Err(NetError::BufferWithoutBandwidth));
        let mut s = LinkSpec::constant(1);
        s.gilbert_elliott = Some(GilbertElliott {
            p_good_to_bad: 0.1,
            p_bad_to_good: -0.1,
            loss_good: 0.0,
            loss_bad: 1.0,
        });
        assert!(matches!(
            s.validate(),
            Err(NetError::InvalidProbability {
                what: "gilbert_elliott.p_bad_to_good",
                ..
            })
        ));
        let mut s = LinkSpec::constant(1);
        s.jitter = LatencyDist::Exponential { mean_ns: -3.0 };
        assert!(matches!(
            s.validate(),
            Err(NetError::InvalidLatency { what: "jitter", .. })
        ));
        assert!(LinkSpec::constant(5).validate().is_ok());
    }

    #[test]
    fn spec_deserialises_with_defaults() {
        let json = r#"{
            "latency": {"dist": "log_normal", "median_ns": 2000000.0, "sigma": 0.5},
            "loss_probability": 0.01,
            "bandwidth_bps": 1000000
        }"#;
        let s: LinkSpec = serde_json::from_str(json).unwrap();
        assert_eq!(
            s.latency,
            LatencyDist::LogNormal {
                median_ns: 2e6,
                sigma: 0.5
            }
        );
        assert_eq!(s.jitter, LatencyDist::constant(0));
        assert_eq!(s.loss_probability, 0.01);
        assert_eq!(s.bandwidth_bps, Some(1_000_000));
        assert_eq!(s.gilbert_elliott, None);
        assert!(serde_json::from_str::<LinkSpec>(r#"{"latncy": {}}"#).is_err());
        let back: LinkSpec = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn stationary_loss_formula() {
        let ge = GilbertElliott {
            p_good_to_bad: 0.01,
            p_bad_to_good: 0.09,
            loss_good: 0.0,
            loss_bad: 0.5,
        };
        assert!((ge.stationary_bad() - 0.1).abs() < 1e-12);
        assert!((ge.stationary_loss() - 0.05).abs() < 1e-12);
    }
}
