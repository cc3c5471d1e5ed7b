//! Is a run directory a complete run? One streaming pass over the trace both verifies its
//! SHA-256 against `summary.json` and computes the metrics the results table needs.
//!
//! A run counts as complete only if `summary.json` parses, says `"interrupted": false`,
//! was made by this drmsim version (`provenance.drmsim_version`), names a trace file, `scenario.toml` holds exactly the expected concrete scenario (so an
//! edited sweep file never reuses stale runs), and the trace's SHA-256 equals
//! `trace_digest`. Anything else is incomplete and is run again.

use super::SweepError;
use crate::runner::RunSummary;
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read};
use std::path::Path;

use analysis::trace_io::READ_BUFFER_BYTES;

/// A verified run: its summary and the metrics of its trace.
#[derive(Clone, Debug)]
pub struct CompleteRun {
    /// `summary.json`.
    pub summary: RunSummary,
    /// Metrics computed from the verified trace.
    pub metrics: analysis::Metrics,
}

/// What a run directory holds.
#[derive(Clone, Debug)]
pub enum RunState {
    /// No `summary.json`.
    Missing,
    /// Present but not a complete run (the reason says why).
    Incomplete(String),
    /// Complete and verified.
    Complete(Box<CompleteRun>),
}

/// Reads at most `limit` bytes of `path` (a run's scenario.toml); `None` when it does not
/// exist.
fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut buf = Vec::new();
    f.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(std::io::Error::other(format!("larger than {limit} bytes")));
    }
    Ok(Some(buf))
}

/// A reader that hashes every byte it hands out.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Inspects `run_dir`. `expected_scenario` is the concrete scenario text the run must have
/// been made from (`None` skips that check). Errors only when the trace verifies but cannot
/// be analysed (a real defect, not a half-written run).
pub fn inspect(run_dir: &Path, expected_scenario: Option<&str>) -> Result<RunState, SweepError> {
    let value = match analysis::read_summary(run_dir) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(RunState::Missing),
        Err(e) => return Ok(RunState::Incomplete(e.to_string())),
    };
    let mut summary: RunSummary = match serde_json::from_value(value) {
        Ok(s) => s,
        Err(e) => return Ok(RunState::Incomplete(format!("summary.json: {e}"))),
    };
    summary.out_dir = run_dir.to_path_buf();
    if summary.interrupted {
        return Ok(RunState::Incomplete("the run was interrupted".into()));
    }
    // A run is identified by (scenario, seed, version): another drmsim version's run may
    // have another trace, so it is run again rather than mixed into these results.
    let version = &summary.provenance.drmsim_version;
    if version != crate::provenance::VERSION {
        return Ok(RunState::Incomplete(format!(
            "made by drmsim {} (this is {})",
            if version.is_empty() {
                "of unknown version"
            } else {
                version
            },
            crate::provenance::VERSION
        )));
    }
    if let Some(want) = expected_scenario {
        let path = run_dir.join("scenario.toml");
        match read_bounded(&path, want.len() as u64) {
            Ok(Some(have)) if have == want.as_bytes() => {}
            Ok(_) => {
                return Ok(RunState::Incomplete(
                    "scenario.toml differs from this sweep point (the sweep file changed)".into(),
                ))
            }
            Err(e) => return Ok(RunState::Incomplete(format!("scenario.toml: {e}"))),
        }
    }
    let Some(trace_name) = summary.trace_file.clone() else {
        return Ok(RunState::Incomplete("the run wrote no trace".into()));
    };
    let Some(trace_path) = analysis::trace_io::named_trace(run_dir, &trace_name) else {
        return Ok(RunState::Incomplete(format!(
            "summary.json names trace file `{trace_name}` outside the run directory"
        )));
    };
    // Either trace format: the digest is over the JSON Lines (decompressed).
    let file = match analysis::trace_io::open_trace(&trace_path) {
        Ok(f) => f,
        Err(e) => return Ok(RunState::Incomplete(format!("{trace_name}: {e}"))),
    };
    let mut hr = HashingReader {
        inner: file,
        hasher: Sha256::new(),
    };
    let analysed = analysis::analyze_reader(BufReader::with_capacity(READ_BUFFER_BYTES, &mut hr));
    // Hash whatever the analysis did not read (it stops early on a bad line).
    if let Err(e) = std::io::copy(&mut hr, &mut std::io::sink()) {
        return Ok(RunState::Incomplete(format!("{trace_name}: {e}")));
    }
    let digest = hex::encode(hr.hasher.finalize());
    if Some(&digest) != summary.trace_digest.as_ref() {
        return Ok(RunState::Incomplete(format!(
            "{trace_name} has SHA-256 {digest}, summary.json says {}",
            summary.trace_digest.as_deref().unwrap_or("no trace")
        )));
    }
    let metrics = analysed
        .map_err(|source| SweepError::Analysis {
            path: trace_path,
            source,
        })?
        .metrics;
    Ok(RunState::Complete(Box::new(CompleteRun {
        summary,
        metrics,
    })))
}
