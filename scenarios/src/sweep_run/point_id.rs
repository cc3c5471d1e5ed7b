//! Stable, directory-safe identifiers of sweep points, e.g.
//! `agents=5000-loss=0.01-seed=3`.
//!
//! An id names the point by what it *is* — every axis as a short name and value, then the
//! seed — never by its position, so adding seeds or axis values to a sweep leaves every
//! existing point's id (and run directory) unchanged and the completed runs are reused.
//! Only `A-Z a-z 0-9 . _ + - =` survive; a value that had to be changed (other characters)
//! or is long is cut and suffixed with `~` and a hash of the full value, so two different
//! values of an axis never share an id (equal values are refused by validation).

use sha2::{Digest, Sha256};

/// Longest value kept verbatim in an id (longer ones are cut and hashed).
const MAX_VALUE_CHARS: usize = 24;
/// Characters of the value hash appended to a cut or changed value.
const HASH_CHARS: usize = 8;

/// Derives point ids for one sweep: short axis names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointNaming {
    /// Short name of each axis, in axis order.
    pub short_names: Vec<String>,
}

impl PointNaming {
    /// Naming for a sweep with the given axis paths (in axis order).
    pub fn new(axis_paths: &[&str]) -> Self {
        PointNaming {
            short_names: short_names(axis_paths),
        }
    }

    /// The id of the point with axis `values` (in axis order) and `seed`.
    pub fn id(&self, values: &[&toml::Value], seed: u64) -> String {
        let mut id = String::new();
        for (name, v) in self.short_names.iter().zip(values) {
            id.push_str(name);
            id.push('=');
            id.push_str(&value_part(v));
            id.push('-');
        }
        id.push_str(&format!("seed={seed}"));
        id
    }
}

/// The shortest dotted suffix of each path that tells all axes apart (`population.agents`
/// → `agents`; `network.loss` and `network.link.0.loss` → `network.loss`, `0.loss`),
/// sanitised.
pub fn short_names(paths: &[&str]) -> Vec<String> {
    let segs: Vec<Vec<&str>> = paths.iter().map(|p| p.split('.').collect()).collect();
    let suffix = |i: usize, k: usize| {
        let s = &segs[i];
        s[s.len().saturating_sub(k)..].join(".")
    };
    (0..paths.len())
        .map(|i| {
            let max_k = segs[i].len();
            let k = (1..=max_k)
                .find(|&k| {
                    let mine = suffix(i, k);
                    (0..paths.len()).all(|j| j == i || suffix(j, segs[j].len().min(k)) != mine)
                })
                .unwrap_or(max_k);
            sanitize(&suffix(i, k))
        })
        .collect()
}

/// The text of one axis value inside an id.
fn value_part(v: &toml::Value) -> String {
    let raw = match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let clean = sanitize(&raw);
    if clean == raw && clean.chars().count() <= MAX_VALUE_CHARS {
        return clean;
    }
    // Inline tables (distributions), long strings and values with other characters: keep
    // a readable prefix and make the id unambiguous with a hash of the full value text.
    let hash = hex::encode(Sha256::digest(raw.as_bytes()));
    let keep: String = clean
        .chars()
        .take(MAX_VALUE_CHARS - HASH_CHARS - 1)
        .collect();
    format!("{keep}~{}", &hash[..HASH_CHARS])
}

/// Replaces every character outside `A-Z a-z 0-9 . _ + - =` (and runs of them) by one `_`.
fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let ok = c.is_ascii_alphanumeric() || "._+-=".contains(c);
        if ok {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        "_".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> toml::Value {
        let t: toml::Table = format!("x = {s}").parse().unwrap();
        t["x"].clone()
    }

    #[test]
    fn brief_example_shape() {
        let n = PointNaming::new(&["network.loss", "population.agents"]);
        assert_eq!(n.short_names, vec!["loss", "agents"]);
        assert_eq!(
            n.id(&[&v("0.01"), &v("5000")], 3),
            "loss=0.01-agents=5000-seed=3"
        );
        assert_eq!(PointNaming::new(&[]).id(&[], 9), "seed=9");
    }

    #[test]
    fn changed_values_are_hashed_so_ids_stay_distinct() {
        // `a/b` and `a_b` sanitise to the same text; the hash keeps them apart.
        let n = PointNaming::new(&["x.name"]);
        let a = n.id(&[&v("\"a/b\"")], 0);
        let b = n.id(&[&v("\"a_b\"")], 0);
        assert_eq!(b, "name=a_b-seed=0");
        assert!(a.starts_with("name=a_b~") && a.ends_with("-seed=0"), "{a}");
        assert_ne!(a, b);
        // Negative numbers and exponents are kept verbatim.
        assert_eq!(n.id(&[&v("-0.5")], 1), "name=-0.5-seed=1");
    }

    #[test]
    fn clashing_leaf_names_get_longer_suffixes() {
        let names = short_names(&["network.link.0.loss", "network.loss", "population.agents"]);
        assert_eq!(names, vec!["0.loss", "network.loss", "agents"]);
        let names = short_names(&["a.x", "b.x"]);
        assert_eq!(names, vec!["a.x", "b.x"]);
    }

    #[test]
    fn values_are_directory_safe() {
        let n = PointNaming::new(&["scenario.crypto", "network.latency"]);
        let id = n.id(
            &[
                &v("\"sym/bolic ../x\""),
                &v("{ dist = \"constant\", value = \"5ms\" }"),
            ],
            0,
        );
        assert!(id.starts_with("crypto=sym_bolic_.._x~"), "{id}");
        assert!(id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-=~".contains(c)));
        assert!(!id.contains('/') && !id.contains(' '));
        // The long table value is cut to 24 characters including `~` and an 8-char hash.
        let latency = id
            .split("latency=")
            .nth(1)
            .unwrap()
            .split("-seed")
            .next()
            .unwrap();
        assert_eq!(latency.chars().count(), 24, "{latency}");
        assert_eq!(latency.as_bytes()[15], b'~');
    }

    #[test]
    fn distinct_long_values_get_distinct_ids() {
        let n = PointNaming::new(&["network.latency"]);
        let a = n.id(&[&v("{ dist = \"constant\", value = \"5ms\" }")], 0);
        let b = n.id(&[&v("{ dist = \"constant\", value = \"6ms\" }")], 0);
        assert_ne!(a, b);
    }

    #[test]
    fn sanitize_collapses_and_trims() {
        assert_eq!(sanitize("a  b"), "a_b");
        assert_eq!(sanitize("/x/"), "x");
        assert_eq!(sanitize("§§"), "_");
        assert_eq!(sanitize("-1e-5"), "-1e-5");
    }
}
