//! `sweep.json` and `sweep.toml`: what a sweep directory was made from, so `merge` can
//! rebuild the exact point list and refuse to mix shards of different sweeps.

use super::results::write_atomic;
use super::{Shard, SweepError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Layout version of `sweep.json`.
pub const MANIFEST_SCHEMA: u32 = 1;
/// Largest `sweep.json` / `sweep.toml` accepted when reading a directory.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// `sweep.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_SCHEMA`].
    pub schema: u32,
    /// Scenario name.
    pub scenario: String,
    /// The sweep file as given on the command line.
    pub source_file: String,
    /// Hex SHA-256 of the sweep file text (copied to `sweep.toml`).
    pub source_sha256: String,
    /// Seeds per point actually used (after `--seeds`).
    pub seeds: u64,
    /// Points in the whole sweep.
    pub total_points: u64,
    /// The shard this directory holds (`None`: every point, or a merge).
    pub shard: Option<Shard>,
}

/// Hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Writes `sweep.toml` (the sweep file text) and `sweep.json` into `dir`.
pub fn write(dir: &Path, m: &Manifest, source_text: &str) -> Result<(), SweepError> {
    write_atomic(&dir.join("sweep.toml"), source_text.as_bytes())?;
    let path = dir.join("sweep.json");
    let mut bytes = serde_json::to_vec_pretty(m).map_err(|source| SweepError::Json {
        path: path.clone(),
        source,
    })?;
    bytes.push(b'\n');
    write_atomic(&path, &bytes)
}

fn read_text(path: &Path) -> Result<String, SweepError> {
    use std::io::Read;
    let not_sweep = |message: String| SweepError::NotASweepDir {
        path: path.parent().unwrap_or(path).to_path_buf(),
        message,
    };
    let f = std::fs::File::open(path).map_err(|e| not_sweep(format!("{}: {e}", path.display())))?;
    let mut buf = String::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut buf)
        .map_err(|e| not_sweep(format!("{}: {e}", path.display())))?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(not_sweep(format!(
            "{} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

/// Reads and checks `sweep.json` and `sweep.toml` of a sweep directory.
pub fn read(dir: &Path) -> Result<(Manifest, String), SweepError> {
    let bad = |message: String| SweepError::NotASweepDir {
        path: dir.to_path_buf(),
        message,
    };
    let json = read_text(&dir.join("sweep.json"))?;
    let m: Manifest = serde_json::from_str(&json).map_err(|e| bad(format!("sweep.json: {e}")))?;
    if m.schema != MANIFEST_SCHEMA {
        return Err(bad(format!(
            "sweep.json has schema {}, this drmsim reads {MANIFEST_SCHEMA}",
            m.schema
        )));
    }
    let text = read_text(&dir.join("sweep.toml"))?;
    if sha256_hex(&text) != m.source_sha256 {
        return Err(bad(
            "sweep.toml does not match the SHA-256 recorded in sweep.json".into(),
        ));
    }
    Ok((m, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[scenario]\nname = \"x\"\n";
        let m = Manifest {
            schema: MANIFEST_SCHEMA,
            scenario: "x".into(),
            source_file: "x.toml".into(),
            source_sha256: sha256_hex(text),
            seeds: 2,
            total_points: 8,
            shard: Some(Shard { k: 2, n: 3 }),
        };
        write(dir.path(), &m, text).unwrap();
        let (back, t) = read(dir.path()).unwrap();
        assert_eq!(back, m);
        assert_eq!(t, text);
        std::fs::write(dir.path().join("sweep.toml"), "[scenario]\n").unwrap();
        assert!(matches!(
            read(dir.path()),
            Err(SweepError::NotASweepDir { .. })
        ));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            read(empty.path()),
            Err(SweepError::NotASweepDir { .. })
        ));
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
