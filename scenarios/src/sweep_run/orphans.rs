//! Run directories that belong to no point of the sweep any more ("orphans"): points of an
//! axis value or seed that was removed, or directories named by an earlier id scheme.
//!
//! A sweep lists them after it ran and removes them only when asked (`--remove-orphans`).
//! Before that, an orphan whose `scenario.toml` is byte-for-byte a current point's concrete
//! scenario is *adopted*: renamed to the point's id and reused if it verifies. A run is
//! identified by what it ran (scenario text, seed, version), not by its directory name.

use super::point_id::PointNaming;
use super::SweepError;
use crate::provenance::sha256_hex;
use crate::sweep::SweepPoints;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

/// Largest `scenario.toml` read when indexing orphans (hostile-input bound).
const MAX_SCENARIO_BYTES: u64 = 16 << 20;

/// Names of the run directories under `runs_dir` (hidden ones, such as a merge's
/// `.partial-*`, and plain files are not runs).
pub fn run_dir_names(runs_dir: &Path) -> Result<BTreeSet<String>, SweepError> {
    let io = |source| SweepError::Io {
        path: runs_dir.to_path_buf(),
        source,
    };
    let mut names = BTreeSet::new();
    let entries = match std::fs::read_dir(runs_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(io(e)),
    };
    for e in entries {
        let e = e.map_err(io)?;
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if !name.starts_with('.') && e.file_type().map_err(io)?.is_dir() {
            names.insert(name);
        }
    }
    Ok(names)
}

/// The run directories under `runs_dir` that are no point of the sweep `points` (every
/// point of the whole sweep counts, not only one shard's), sorted by name.
pub fn find(
    runs_dir: &Path,
    points: &SweepPoints,
    naming: &PointNaming,
) -> Result<Vec<String>, SweepError> {
    let mut left = run_dir_names(runs_dir)?;
    // Ids are computed from axis values and seeds alone (no scenario is built), so even a
    // million-point sweep is listed in well under a second.
    for index in 0..points.total() {
        if left.is_empty() {
            break;
        }
        let (values, _, seed) = points.values_and_seed(index);
        left.remove(&naming.id(&values, seed));
    }
    Ok(left.into_iter().collect())
}

/// SHA-256 of each orphan's `scenario.toml` → orphan name (orphans without a readable one
/// are left out: they cannot be matched to a point).
pub fn content_index(runs_dir: &Path, orphans: &[String]) -> BTreeMap<String, String> {
    let mut index = BTreeMap::new();
    for name in orphans {
        let path = runs_dir.join(name).join("scenario.toml");
        let Ok(f) = std::fs::File::open(&path) else {
            continue;
        };
        let mut buf = Vec::new();
        if f.take(MAX_SCENARIO_BYTES + 1)
            .read_to_end(&mut buf)
            .is_err()
            || buf.len() as u64 > MAX_SCENARIO_BYTES
        {
            continue;
        }
        index
            .entry(sha256_hex(&buf))
            .or_insert_with(|| name.clone());
    }
    index
}

/// Removes the orphan directories `names` under `runs_dir`.
pub fn remove(runs_dir: &Path, names: &[String]) -> Result<(), SweepError> {
    for name in names {
        let path = runs_dir.join(name);
        match std::fs::remove_dir_all(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(SweepError::Io { path, source: e })
            }
            _ => {}
        }
    }
    Ok(())
}
