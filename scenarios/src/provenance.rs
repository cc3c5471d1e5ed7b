//! Where a result came from: the drmsim version and git commit it was built from, the
//! SHA-256 of the scenario file, the full command line, wall-clock start and end, and the
//! CPU count. Written into summary.json, metrics.json and every results file
//! (`docs/sweeps.md`, "Provenance"). A run is identified by (scenario hash, seed, version).
//!
//! Wall-clock fields never enter the trace or its digest: the trace stays a function of
//! (scenario, seed) alone.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// The drmsim version (Cargo package version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit drmsim was built from (`unknown` outside a checkout).
pub const GIT_COMMIT: &str = env!("DRMSIM_GIT_COMMIT");

/// The provenance block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// drmsim version.
    pub drmsim_version: String,
    /// Git commit at build time.
    pub git_commit: String,
    /// Hex SHA-256 of the scenario text that ran (for a sweep point: its concrete scenario).
    pub scenario_sha256: String,
    /// The full command line (argv), shell-quoted and joined.
    pub command_line: String,
    /// Wall-clock start, RFC 3339 UTC.
    pub started_at: String,
    /// Wall-clock end, RFC 3339 UTC.
    pub finished_at: String,
    /// CPUs available to the process.
    pub cpu_count: usize,
}

impl Provenance {
    /// A block for `scenario_text`, started now (finish with [`Provenance::finish`]).
    pub fn start(scenario_text: &str) -> Provenance {
        Provenance {
            drmsim_version: VERSION.to_string(),
            git_commit: GIT_COMMIT.to_string(),
            scenario_sha256: sha256_hex(scenario_text.as_bytes()),
            command_line: command_line(),
            started_at: now_rfc3339(),
            finished_at: String::new(),
            cpu_count: cpu_count(),
        }
    }

    /// Sets the end time to now.
    pub fn finish(&mut self) {
        self.finished_at = now_rfc3339();
    }
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// CPUs available to this process (1 when unknown).
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// This process's argv, each argument shell-quoted where needed, joined by spaces.
pub fn command_line() -> String {
    std::env::args_os()
        .map(|a| crate::runner::shell_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The current wall-clock time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs(), d.subsec_millis())
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339(secs: u64, millis: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (leap day of a century leap year) 12:34:56.
        assert_eq!(rfc3339(951_827_696, 7), "2000-02-29T12:34:56.007Z");
        // 2026-12-07 15:21:21 UTC.
        assert_eq!(rfc3339(1_796_656_881, 999), "2026-12-07T15:21:21.999Z");
        assert_eq!(rfc3339(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn start_records_version_hash_and_cpus() {
        let p = Provenance::start("abc");
        assert_eq!(
            p.scenario_sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(p.drmsim_version, VERSION);
        assert!(p.cpu_count >= 1);
        assert!(p.started_at.ends_with('Z') && p.finished_at.is_empty());
    }
}
