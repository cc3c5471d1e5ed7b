//! `[network]`, `[network.burst_loss]`, `[[network.link]]`, `[[network.partition]]`.

use crate::dist::Dist;
use crate::units::{DurationNs, Probability};
use serde::{Deserialize, Serialize};

/// Network defaults, per-link overrides and partitions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    /// One-way latency of every link without an override.
    pub latency: Dist,
    /// Extra delay added to the latency (none = no jitter).
    pub jitter: Option<Dist>,
    /// Independent per-message loss probability (exclusive with `burst_loss`).
    pub loss: Option<Probability>,
    /// Gilbert–Elliott burst loss (exclusive with `loss`).
    pub burst_loss: Option<GilbertElliott>,
    /// Probability that the network delivers a message twice.
    pub duplicate: Probability,
    /// Link bandwidth in bits per second (none = serialisation delay ignored).
    pub bandwidth_bps: Option<u64>,
    /// Transmitter buffer per directed link in bytes (needs `bandwidth_bps`; none = unbounded).
    pub buffer_bytes: Option<u64>,
    /// Per-link overrides.
    pub link: Vec<LinkOverride>,
    /// Scheduled partitions.
    pub partition: Vec<Partition>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            latency: Dist::constant(DurationNs::from_ms(20)),
            jitter: None,
            loss: None,
            burst_loss: None,
            duplicate: Probability::ZERO,
            bandwidth_bps: None,
            buffer_bytes: None,
            link: Vec::new(),
            partition: Vec::new(),
        }
    }
}

/// Two-state Gilbert–Elliott loss: a Markov chain stepped once per message.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GilbertElliott {
    /// Probability of moving from the good to the bad state.
    pub p_good_to_bad: Probability,
    /// Probability of moving from the bad to the good state.
    pub p_bad_to_good: Probability,
    /// Loss probability in the good state.
    #[serde(default)]
    pub loss_good: Probability,
    /// Loss probability in the bad state.
    #[serde(default = "one")]
    pub loss_bad: Probability,
}

fn one() -> Probability {
    Probability::ONE
}

impl GilbertElliott {
    /// Long-run loss rate: stationary bad-state share weighted by the two loss rates.
    pub fn mean_loss(&self) -> f64 {
        let (gb, bg) = (self.p_good_to_bad.0, self.p_bad_to_good.0);
        if gb + bg == 0.0 {
            return self.loss_good.0;
        }
        let bad = gb / (gb + bg);
        bad * self.loss_bad.0 + (1.0 - bad) * self.loss_good.0
    }
}

/// Overrides of the defaults for traffic between two groups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOverride {
    /// Sending group.
    pub from: String,
    /// Receiving group.
    pub to: String,
    /// Also apply to traffic from `to` to `from`.
    #[serde(default = "yes")]
    pub symmetric: bool,
    /// Latency override.
    #[serde(default)]
    pub latency: Option<Dist>,
    /// Jitter override.
    #[serde(default)]
    pub jitter: Option<Dist>,
    /// Independent loss override.
    #[serde(default)]
    pub loss: Option<Probability>,
    /// Burst loss override.
    #[serde(default)]
    pub burst_loss: Option<GilbertElliott>,
    /// Duplication override.
    #[serde(default)]
    pub duplicate: Option<Probability>,
    /// Bandwidth override, bits per second.
    #[serde(default)]
    pub bandwidth_bps: Option<u64>,
    /// Transmitter buffer override, bytes (needs a bandwidth).
    #[serde(default)]
    pub buffer_bytes: Option<u64>,
}

fn yes() -> bool {
    true
}

/// Groups `a` and `b` cannot reach each other from `at` until `heal`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// One side.
    pub a: Vec<String>,
    /// The other side.
    pub b: Vec<String>,
    /// Start of the partition.
    pub at: DurationNs,
    /// End of the partition (none = never heals).
    #[serde(default)]
    pub heal: Option<DurationNs>,
}
