//! Does a run directory's trace still match its `summary.json`? One pass over the trace
//! computes its SHA-256 and counts its records (lines); `report` and `export` refuse a
//! trace that differs from the digest the run recorded (damaged, truncated, reordered,
//! appended to), unless the user asks to analyse it anyway.

use crate::error::{AnalysisError, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest `summary.json` read (real ones are a few KB; hostile-input bound).
pub const MAX_SUMMARY_BYTES: u64 = 16 << 20;

/// The result of checking a run's trace against its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceVerification {
    /// The trace file.
    pub trace: PathBuf,
    /// Hex SHA-256 of the file as it is now.
    pub actual_digest: String,
    /// Records (lines) in the file now.
    pub actual_records: u64,
    /// `trace_digest` of summary.json (`None` without a summary).
    pub expected_digest: Option<String>,
    /// `trace_records` of summary.json.
    pub expected_records: Option<u64>,
    /// Why the trace does not verify; `None` when it does.
    pub problem: Option<String>,
}

impl TraceVerification {
    /// The trace is byte-for-byte the one the run recorded.
    pub fn verified(&self) -> bool {
        self.problem.is_none()
    }
}

/// Reads and parses `run_dir/summary.json` through the [`MAX_SUMMARY_BYTES`] cap: the one
/// place a run's summary is read (verification, the trace file's name, reports, sweeps).
/// `Ok(None)` when the run has no summary.json.
pub fn read_summary(run_dir: &Path) -> Result<Option<serde_json::Value>> {
    let path = run_dir.join("summary.json");
    let f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AnalysisError::io(&path, e)),
    };
    let mut bytes = Vec::new();
    f.take(MAX_SUMMARY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AnalysisError::io(&path, e))?;
    if bytes.len() as u64 > MAX_SUMMARY_BYTES {
        return Err(AnalysisError::io(
            &path,
            std::io::Error::other(format!("larger than {MAX_SUMMARY_BYTES} bytes")),
        ));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| AnalysisError::Json { path, source })
}

/// Checks `run_dir`'s trace (the file summary.json names, default `trace.jsonl`) against
/// the `trace_digest` and `trace_records` in `run_dir/summary.json`. Errors only when a
/// file cannot be read; a mismatch is reported in [`TraceVerification::problem`].
pub fn verify_run_trace(run_dir: &Path) -> Result<TraceVerification> {
    let summary = read_summary(run_dir)?;
    let trace = crate::trace_io::run_trace_path(run_dir, summary.as_ref());
    let (actual_digest, actual_records) = hash_lines(&trace)?;
    let expected_digest = summary
        .as_ref()
        .and_then(|s| s.get("trace_digest"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let expected_records = summary
        .as_ref()
        .and_then(|s| s.get("trace_records"))
        .and_then(|v| v.as_u64());
    let problem = match (&summary, &expected_digest) {
        (None, _) => Some(
            "there is no summary.json to check the trace against (the run did not finish \
             writing it)"
                .to_string(),
        ),
        (Some(_), None) => Some("summary.json has no trace_digest".to_string()),
        (Some(_), Some(want)) if *want == actual_digest => None,
        (Some(_), Some(want)) => {
            let what = match expected_records {
                Some(n) if actual_records < n => {
                    format!("truncated or lines removed: {actual_records} of {n} records")
                }
                Some(n) if actual_records > n => {
                    format!("{actual_records} records where the run wrote {n} (appended to)")
                }
                Some(_) => {
                    "damaged or reordered: the same number of records, different bytes".to_string()
                }
                None => "different bytes".to_string(),
            };
            Some(format!(
                "{what}; its SHA-256 is {actual_digest}, summary.json says {want}"
            ))
        }
    };
    Ok(TraceVerification {
        trace,
        actual_digest,
        actual_records,
        expected_digest,
        expected_records,
        problem,
    })
}

/// SHA-256 (hex) and newline count of a trace's JSON Lines (decompressed when gzip), streamed.
/// A torn last gzip member ends the hash there (the digest then differs: "truncated").
fn hash_lines(path: &Path) -> Result<(String, u64)> {
    let mut f = crate::trace_io::open_trace(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; crate::trace_io::READ_BUFFER_BYTES];
    let mut lines = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(n) => n,
            Err(e) if crate::trace_io::is_torn_tail(&e) => 0,
            Err(e) => return Err(AnalysisError::io(path, e)),
        };
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    Ok((hex_lower(&h.finalize()), lines))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
