//! `[sweep]`: parameter axes over dotted field paths and repeated seeds.
//!
//! A sweep point is produced by editing the `toml::Value` tree of the base document
//! (setting each axis path to one of its values, removing `[sweep]`, offsetting the seed)
//! and deserialising the result like any scenario, so every field is sweepable and every
//! point passes the same checks as a hand-written file.

use crate::error::ScenarioError;
use crate::model::Scenario;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Most repeated seeds per point.
pub const MAX_SEEDS: u64 = 10_000;
/// Most values on one axis.
pub const MAX_AXIS_VALUES: usize = 1_000;
/// Most concrete scenarios one sweep may produce.
pub const MAX_POINTS: u64 = 1_000_000;

/// The raw `[sweep]` table: `seeds = N` plus `"dotted.path" = [values…]` axes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepSpec {
    /// Every key of the table, in lexicographic order.
    pub entries: BTreeMap<String, toml::Value>,
}

impl Serialize for SweepSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SweepSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SweepSpec {
            entries: BTreeMap::deserialize(d)?,
        })
    }
}

impl SweepSpec {
    /// Seeds per point (`seeds`, default 1); 0 when `seeds` is not a positive integer.
    pub fn seeds(&self) -> u64 {
        match self.entries.get("seeds") {
            None => 1,
            Some(toml::Value::Integer(n)) if *n > 0 => *n as u64,
            Some(_) => 0,
        }
    }

    /// The axes: every key but `seeds`, in lexicographic path order, with its values.
    pub fn axes(&self) -> Vec<(&str, &[toml::Value])> {
        self.entries
            .iter()
            .filter(|(k, _)| k.as_str() != "seeds")
            .map(|(k, v)| {
                (
                    k.as_str(),
                    v.as_array().map(|a| a.as_slice()).unwrap_or(&[]),
                )
            })
            .collect()
    }

    /// Number of concrete scenarios (product of axis sizes times seeds), saturating.
    pub fn point_count(&self) -> u64 {
        self.axes().iter().fold(self.seeds(), |acc, (_, v)| {
            acc.saturating_mul(v.len() as u64)
        })
    }
}

/// One concrete scenario of a sweep.
#[derive(Clone, Debug)]
pub struct SweepPoint {
    /// Position in the expansion order (0-based).
    pub index: u64,
    /// The axis values of this point, in axis order.
    pub overrides: Vec<(String, toml::Value)>,
    /// Which repetition (0..seeds) this is.
    pub repetition: u64,
    /// The concrete scenario (no `[sweep]`, seed = base seed + repetition).
    pub scenario: Scenario,
}

impl SweepPoint {
    /// A short label such as `population.agents=1000,network.loss=0.01,seed=7`.
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = self
            .overrides
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.push(format!("seed={}", self.scenario.scenario.seed));
        parts.join(",")
    }
}

/// Why an axis value could not be applied to the document tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError(pub String);

/// Sets `path` (dot-separated; numeric segments index arrays) in `root` to `value`,
/// creating missing tables on the way (never missing array elements).
pub fn apply_path(
    root: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> Result<(), ApplyError> {
    let segs: Vec<&str> = path.split('.').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(ApplyError(format!("`{path}` is not a dotted field path")));
    }
    let mut cur = root;
    let mut i = 0;
    loop {
        let seg = segs[i];
        let last = i + 1 == segs.len();
        if last {
            cur.insert(seg.to_string(), value);
            return Ok(());
        }
        let next_is_index = segs[i + 1].parse::<usize>().is_ok();
        let slot = match cur.entry(seg.to_string()) {
            toml::map::Entry::Occupied(o) => o.into_mut(),
            toml::map::Entry::Vacant(v) => {
                if next_is_index {
                    return Err(ApplyError(format!(
                        "`{}` has 0 element(s); index {} is out of range",
                        segs[..=i].join("."),
                        segs[i + 1]
                    )));
                }
                v.insert(toml::Value::Table(toml::Table::new()))
            }
        };
        i += 1;
        // Descend through array elements until the next table.
        let mut v = slot;
        loop {
            match v {
                toml::Value::Table(t) => {
                    cur = t;
                    break;
                }
                toml::Value::Array(a) => {
                    let idx = index(segs[i], a.len(), &segs[..i])?;
                    if i + 1 == segs.len() {
                        a[idx] = value;
                        return Ok(());
                    }
                    i += 1;
                    v = &mut a[idx];
                }
                _ => {
                    return Err(ApplyError(format!(
                        "`{}` is not a table",
                        segs[..i].join(".")
                    )))
                }
            }
        }
    }
}

fn index(seg: &str, len: usize, before: &[&str]) -> Result<usize, ApplyError> {
    let i: usize = seg.parse().map_err(|_| {
        ApplyError(format!(
            "`{}` is an array: the next segment must be an index, not `{seg}`",
            before.join(".")
        ))
    })?;
    if i >= len {
        return Err(ApplyError(format!(
            "`{}` has {len} element(s); index {i} is out of range",
            before.join(".")
        )));
    }
    Ok(i)
}

pub use crate::loader::SweepPoints;

/// Lazily yields every concrete scenario of `base`'s sweep (just `base` with repetitions
/// when it has none). The first axis varies slowest, the seed fastest. Fails at once if
/// the `[sweep]` section is invalid.
pub fn points(base: &Scenario) -> Result<SweepPoints, ScenarioError> {
    crate::loader::sweep_points(base)
}

/// Every point of [`points`], collected (fine for small sweeps).
pub fn expand(base: &Scenario) -> Result<Vec<SweepPoint>, ScenarioError> {
    points(base)?.collect()
}
