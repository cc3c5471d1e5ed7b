//! Scalar value types of the scenario format: durations written as strings (`"30s"`),
//! probabilities checked to lie in [0, 1], and the RSA modulus size.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use sim_core::engine::time::{parse_duration_ns, NS_PER_MS, NS_PER_S, NS_PER_US};
use std::fmt;

/// A span of virtual time, written in scenario files as `"250ms"`, `"30s"`, `"5m"`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DurationNs(pub u64);

impl DurationNs {
    /// The duration in integer nanoseconds.
    pub const fn as_ns(self) -> u64 {
        self.0
    }
    /// A duration of `us` microseconds.
    pub const fn from_us(us: u64) -> Self {
        DurationNs(us * 1_000)
    }
    /// A duration of `ms` milliseconds.
    pub const fn from_ms(ms: u64) -> Self {
        DurationNs(ms * 1_000_000)
    }
    /// A duration of `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        DurationNs(s * 1_000_000_000)
    }
    /// The duration in seconds (reports only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

/// Formats `ns` exactly, in the largest unit that keeps it exact: `"90m"`, `"80s"`,
/// `"1.5s"`, `"1.91ms"`, `"650ns"`. Hours and minutes are used only for whole multiples
/// (sim-core's `format_duration_ns` rounds `80s` to `1.333333m`, which does not round-trip).
pub fn format_exact(ns: u64) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    for (unit_ns, name) in [(3_600 * NS_PER_S, "h"), (60 * NS_PER_S, "m")] {
        if ns.is_multiple_of(unit_ns) {
            return format!("{}{name}", ns / unit_ns);
        }
    }
    for (unit_ns, digits, name) in [
        (NS_PER_S, 9, "s"),
        (NS_PER_MS, 6, "ms"),
        (NS_PER_US, 3, "us"),
    ] {
        if ns >= unit_ns {
            let (int, frac) = (ns / unit_ns, ns % unit_ns);
            if frac == 0 {
                return format!("{int}{name}");
            }
            let frac = format!("{frac:0digits$}");
            return format!("{int}.{}{name}", frac.trim_end_matches('0'));
        }
    }
    format!("{ns}ns")
}

impl fmt::Display for DurationNs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_exact(self.0))
    }
}

impl std::str::FromStr for DurationNs {
    type Err = sim_core::engine::time::DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration_ns(s).map(DurationNs)
    }
}

impl Serialize for DurationNs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_exact(self.0))
    }
}

impl<'de> Deserialize<'de> for DurationNs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationNs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"250ms\", \"30s\" or \"5m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationNs, E> {
                parse_duration_ns(v).map(DurationNs).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// A probability: a finite number in [0, 1] (integers 0 and 1 are accepted).
#[derive(Copy, Clone, Debug, PartialEq, PartialOrd, Default, Serialize)]
#[serde(transparent)]
pub struct Probability(pub f64);

impl Probability {
    /// Never.
    pub const ZERO: Probability = Probability(0.0);
    /// Always.
    pub const ONE: Probability = Probability(1.0);
    /// The probability as a float.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            Ok(Probability(v))
        } else {
            Err(de::Error::custom(format!(
                "probability {v} is outside [0, 1]"
            )))
        }
    }
}

/// RSA modulus size used by every certificate and device key of the run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum RsaBits {
    /// 1024-bit keys (the default: what deployed OMA DRM 2.0 devices use; fast to generate).
    #[default]
    Rsa1024,
    /// 2048-bit keys.
    Rsa2048,
}

impl RsaBits {
    /// The modulus size in bits.
    pub fn bits(self) -> u32 {
        match self {
            RsaBits::Rsa1024 => 1024,
            RsaBits::Rsa2048 => 2048,
        }
    }
}

impl Serialize for RsaBits {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.bits())
    }
}

impl<'de> Deserialize<'de> for RsaBits {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RsaBits;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("1024 or 2048")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RsaBits, E> {
                match v {
                    1024 => Ok(RsaBits::Rsa1024),
                    2048 => Ok(RsaBits::Rsa2048),
                    other => Err(E::custom(format!(
                        "rsa_bits must be 1024 or 2048, not {other}"
                    ))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RsaBits, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
        }
        d.deserialize_i64(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct T {
        d: Option<DurationNs>,
        p: Option<Probability>,
        r: Option<RsaBits>,
    }

    fn t(s: &str) -> Result<T, toml::de::Error> {
        toml::from_str(s)
    }

    #[test]
    fn durations_parse_exactly() {
        assert_eq!(t("d = \"250ms\"").unwrap().d, Some(DurationNs(250_000_000)));
        assert_eq!(
            t("d = \"1.5s\"").unwrap().d,
            Some(DurationNs(1_500_000_000))
        );
        assert_eq!(t("d = \"0.65us\"").unwrap().d, Some(DurationNs(650)));
        let e = t("d = \"5 parsecs\"").unwrap_err();
        assert!(
            e.message().starts_with("invalid duration \"5 parsecs\""),
            "{}",
            e.message()
        );
        assert!(t("d = 5").is_err());
        assert_eq!(DurationNs(1_910_000).to_string(), "1.91ms");
    }

    #[test]
    fn formatting_is_exact_and_round_trips() {
        for (ns, text) in [
            (80 * NS_PER_S, "80s"),
            (90 * 60 * NS_PER_S, "90m"),
            (2 * 3_600 * NS_PER_S, "2h"),
            (3_601 * NS_PER_S, "3601s"),
            (1_500 * NS_PER_MS, "1.5s"),
            (1_910_000, "1.91ms"),
            (650, "650ns"),
            (1_001, "1.001us"),
            (NS_PER_S + 1, "1.000000001s"),
            (0, "0s"),
        ] {
            assert_eq!(format_exact(ns), text);
            assert_eq!(parse_duration_ns(text).unwrap(), ns, "{text}");
        }
    }

    #[test]
    fn probabilities_are_bounded() {
        assert_eq!(t("p = 0").unwrap().p, Some(Probability(0.0)));
        assert_eq!(t("p = 0.25").unwrap().p, Some(Probability(0.25)));
        assert_eq!(t("p = 1").unwrap().p, Some(Probability(1.0)));
        assert_eq!(
            t("p = 1.5").unwrap_err().message(),
            "probability 1.5 is outside [0, 1]"
        );
        assert!(t("p = -0.1").is_err());
        assert!(t("p = nan").is_err());
    }

    #[test]
    fn rsa_bits_only_two_sizes() {
        assert_eq!(t("r = 1024").unwrap().r, Some(RsaBits::Rsa1024));
        assert_eq!(t("r = 2048").unwrap().r, Some(RsaBits::Rsa2048));
        assert_eq!(
            t("r = 4096").unwrap_err().message(),
            "rsa_bits must be 1024 or 2048, not 4096"
        );
    }
}
