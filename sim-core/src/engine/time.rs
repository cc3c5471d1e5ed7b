//! Virtual time: integer nanoseconds since the start of the run.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Nanoseconds per microsecond.
pub const NS_PER_US: u64 = 1_000;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// An instant of virtual time, in integer nanoseconds since the run started.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable instant (used as "no horizon").
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// An instant `ns` nanoseconds after the start.
    pub const fn from_ns(ns: u64) -> Self {
        SimTime(ns)
    }
    /// An instant `ms` milliseconds after the start.
    pub const fn from_ms(ms: u64) -> Self {
        SimTime(ms * NS_PER_MS)
    }
    /// An instant `s` seconds after the start.
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * NS_PER_S)
    }
    /// Nanoseconds since the start.
    pub const fn as_ns(self) -> u64 {
        self.0
    }
    /// Seconds since the start, as a float (for reports only, never for events).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// This instant plus `ns` nanoseconds, saturating at [`SimTime::MAX`].
    pub const fn add_ns(self, ns: u64) -> Self {
        SimTime(self.0.saturating_add(ns))
    }
    /// Nanoseconds from `earlier` to `self` (zero if `earlier` is later).
    pub const fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_duration_ns(self.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_duration_ns(self.0))
    }
}

/// Formats a nanosecond duration the way scenario files write it (`1.5s`, `250ms`, `7ns`).
pub fn format_duration_ns(ns: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (3_600 * NS_PER_S, "h"),
        (60 * NS_PER_S, "m"),
        (NS_PER_S, "s"),
        (NS_PER_MS, "ms"),
        (NS_PER_US, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".to_string();
    }
    for (unit_ns, name) in UNITS {
        if ns >= unit_ns {
            if ns.is_multiple_of(unit_ns) {
                return format!("{}{}", ns / unit_ns, name);
            }
            // Keep it exact enough to round-trip typical scenario values.
            let v = ns as f64 / unit_ns as f64;
            return format!("{}{}", trim_float(v), name);
        }
    }
    format!("{ns}ns")
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Error from [`parse_duration_ns`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (expected a number and a unit: ns, us, ms, s, m, h, e.g. \"30s\" or \"250ms\")")]
pub struct DurationError {
    /// The text that failed to parse.
    pub input: String,
    /// Why it failed.
    pub reason: &'static str,
}

/// Parses `"30s"`, `"5m"`, `"250ms"`, `"1.5s"`, `"10us"`, `"7ns"`, `"2h"` into nanoseconds.
pub fn parse_duration_ns(input: &str) -> Result<u64, DurationError> {
    let s = input.trim();
    let err = |reason| DurationError {
        input: input.to_string(),
        reason,
    };
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| err("missing unit"))?;
    let (num, unit) = s.split_at(split);
    if num.is_empty() {
        return Err(err("missing number"));
    }
    let unit_ns: u64 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => NS_PER_US,
        "ms" => NS_PER_MS,
        "s" => NS_PER_S,
        "m" | "min" => 60 * NS_PER_S,
        "h" => 3_600 * NS_PER_S,
        _ => return Err(err("unknown unit")),
    };
    if let Some((int, frac)) = num.split_once('.') {
        // Exact decimal arithmetic: no float rounding in virtual time.
        let int: u64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| err("bad number"))?
        };
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("bad fraction"));
        }
        let frac_val: u64 = frac.parse().map_err(|_| err("bad fraction"))?;
        let scale = 10u64.pow(frac.len() as u32);
        let whole = int.checked_mul(unit_ns).ok_or_else(|| err("too large"))?;
        let part = (frac_val as u128 * unit_ns as u128 / scale as u128) as u64;
        whole.checked_add(part).ok_or_else(|| err("too large"))
    } else {
        let n: u64 = num.parse().map_err(|_| err("bad number"))?;
        n.checked_mul(unit_ns).ok_or_else(|| err("too large"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration_ns("30s").unwrap(), 30 * NS_PER_S);
        assert_eq!(parse_duration_ns("5m").unwrap(), 300 * NS_PER_S);
        assert_eq!(parse_duration_ns("250ms").unwrap(), 250 * NS_PER_MS);
        assert_eq!(parse_duration_ns("1.5s").unwrap(), 1_500 * NS_PER_MS);
        assert_eq!(parse_duration_ns("0.001ms").unwrap(), 1_000);
        assert_eq!(parse_duration_ns("7ns").unwrap(), 7);
        assert_eq!(parse_duration_ns("2h").unwrap(), 7_200 * NS_PER_S);
        assert!(parse_duration_ns("30").is_err());
        assert!(parse_duration_ns("s").is_err());
        assert!(parse_duration_ns("3 fortnights").is_err());
    }

    #[test]
    fn formats_round_trip() {
        for s in ["30s", "5m", "250ms", "1.5s", "7ns", "2h", "10us"] {
            let ns = parse_duration_ns(s).unwrap();
            assert_eq!(
                parse_duration_ns(&format_duration_ns(ns)).unwrap(),
                ns,
                "{s}"
            );
        }
        assert_eq!(format_duration_ns(1_500 * NS_PER_MS), "1.5s");
    }
}
