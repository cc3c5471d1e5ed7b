//! One row per run: `results.csv` and `results.jsonl`.
//!
//! Column order is fixed: `point_id`, `index`, every axis path (axis order), `seed`,
//! `repetition`, `digest`, `stop_reason`, `interrupted`, `end_time_ns`, `events`,
//! `trace_records`, `expectations_met`, `invariant_violations`, `throughput_per_s`, then for
//! every protocol seen in any run (name order) `<p>.started`, `<p>.completed`, `<p>.failed`,
//! `<p>.completion_rate`, `<p>.p50_latency_ms`, `<p>.p99_latency_ms`. Rows are sorted by
//! point index, so the files depend only on the runs, never on thread scheduling.

use super::inspect::CompleteRun;
use super::SweepError;
use crate::sweep::SweepPoint;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Per-protocol cells of a row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProtocolCells {
    /// Runs begun (engine count).
    pub started: u64,
    /// Runs completed successfully (engine count).
    pub completed: u64,
    /// Runs failed (engine count).
    pub failed: u64,
    /// completed / started; `None` when nothing started.
    pub completion_rate: Option<f64>,
    /// Median latency of successful outcomes (from the trace), ms.
    pub p50_latency_ms: Option<f64>,
    /// 99th-percentile latency of successful outcomes (from the trace), ms.
    pub p99_latency_ms: Option<f64>,
}

/// One run of a sweep, as written to the results files.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Point id (also the run directory name).
    pub point_id: String,
    /// Point index in the expansion order.
    pub index: u64,
    /// Axis values, in axis order.
    pub axis_values: Vec<toml::Value>,
    /// Seed of the run.
    pub seed: u64,
    /// Repetition (0..seeds).
    pub repetition: u64,
    /// Trace digest (hex SHA-256).
    pub digest: String,
    /// Why the run stopped (`horizon`, `event_budget`, `quiescent`).
    pub stop_reason: String,
    /// Always false for a complete run; kept as a column for readers of partial copies.
    pub interrupted: bool,
    /// Virtual time at the end, ns.
    pub end_time_ns: u64,
    /// Events processed.
    pub events: u64,
    /// Trace records.
    pub trace_records: u64,
    /// Every `[expect]` item met.
    pub expectations_met: bool,
    /// Invariant violations, all invariants together.
    pub invariant_violations: u64,
    /// Successful protocol runs per second of virtual time, all protocols together.
    pub throughput_per_s: Option<f64>,
    /// Per protocol name.
    pub protocols: BTreeMap<String, ProtocolCells>,
}

/// Builds the row of a verified run of `point`.
pub fn build_row(point: &SweepPoint, point_id: &str, run: &CompleteRun) -> Row {
    let s = &run.summary;
    let mut protocols: BTreeMap<String, ProtocolCells> = BTreeMap::new();
    for (name, p) in &s.protocols {
        protocols.insert(
            name.clone(),
            ProtocolCells {
                started: p.started,
                completed: p.completed,
                failed: p.failed,
                completion_rate: p.completion_rate(),
                ..ProtocolCells::default()
            },
        );
    }
    for (name, m) in &run.metrics.protocols {
        let cells = protocols.entry(name.clone()).or_default();
        if let Some(l) = &m.latency {
            cells.p50_latency_ms = Some(l.p50_ns as f64 / 1e6);
            cells.p99_latency_ms = Some(l.p99_ns as f64 / 1e6);
        }
    }
    let completed: u64 = s.protocols.values().map(|p| p.completed).sum();
    let stop_reason = serde_json::to_value(s.stop_reason)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    Row {
        point_id: point_id.to_string(),
        index: point.index,
        axis_values: point.overrides.iter().map(|(_, v)| v.clone()).collect(),
        seed: s.seed,
        repetition: point.repetition,
        digest: s.trace_digest.clone().unwrap_or_default(),
        stop_reason,
        interrupted: s.interrupted,
        end_time_ns: s.end_time_ns,
        events: s.events,
        trace_records: s.trace_records,
        expectations_met: s.expectations_met,
        invariant_violations: s.invariant_violations.values().sum(),
        throughput_per_s: (s.end_time_ns > 0)
            .then(|| completed as f64 / (s.end_time_ns as f64 / 1e9)),
        protocols,
    }
}

/// One value of the table.
#[derive(Clone, Debug)]
enum Cell {
    Str(String),
    U64(u64),
    F64(Option<f64>),
    Bool(bool),
    Toml(toml::Value),
}

impl Cell {
    fn csv(&self) -> String {
        let text = match self {
            Cell::Str(s) => s.clone(),
            Cell::U64(n) => n.to_string(),
            Cell::F64(Some(x)) if x.is_finite() => x.to_string(),
            Cell::F64(_) => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Toml(toml::Value::String(s)) => s.clone(),
            Cell::Toml(v) => v.to_string(),
        };
        csv_quote(&text)
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Str(s) => s.clone().into(),
            Cell::U64(n) => (*n).into(),
            Cell::F64(Some(x)) if x.is_finite() => (*x).into(),
            Cell::F64(_) => serde_json::Value::Null,
            Cell::Bool(b) => (*b).into(),
            Cell::Toml(v) => serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// RFC 4180 quoting when the text needs it.
fn csv_quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Per-protocol column suffixes, in order.
const PROTOCOL_COLUMNS: [&str; 6] = [
    "started",
    "completed",
    "failed",
    "completion_rate",
    "p50_latency_ms",
    "p99_latency_ms",
];

/// Every protocol seen in any row, in name order.
pub fn protocols_of(rows: &[Row]) -> Vec<String> {
    let set: BTreeSet<&String> = rows.iter().flat_map(|r| r.protocols.keys()).collect();
    set.into_iter().cloned().collect()
}

/// The header of the results table.
pub fn columns(axis_paths: &[String], protocols: &[String]) -> Vec<String> {
    let mut c: Vec<String> = vec!["point_id".into(), "index".into()];
    c.extend(axis_paths.iter().cloned());
    c.extend(
        [
            "seed",
            "repetition",
            "digest",
            "stop_reason",
            "interrupted",
            "end_time_ns",
            "events",
            "trace_records",
            "expectations_met",
            "invariant_violations",
            "throughput_per_s",
        ]
        .map(String::from),
    );
    for p in protocols {
        c.extend(PROTOCOL_COLUMNS.iter().map(|s| format!("{p}.{s}")));
    }
    c
}

fn cells(row: &Row, protocols: &[String]) -> Vec<Cell> {
    let mut c = vec![Cell::Str(row.point_id.clone()), Cell::U64(row.index)];
    c.extend(row.axis_values.iter().cloned().map(Cell::Toml));
    c.extend([
        Cell::U64(row.seed),
        Cell::U64(row.repetition),
        Cell::Str(row.digest.clone()),
        Cell::Str(row.stop_reason.clone()),
        Cell::Bool(row.interrupted),
        Cell::U64(row.end_time_ns),
        Cell::U64(row.events),
        Cell::U64(row.trace_records),
        Cell::Bool(row.expectations_met),
        Cell::U64(row.invariant_violations),
        Cell::F64(row.throughput_per_s),
    ]);
    for p in protocols {
        match row.protocols.get(p) {
            Some(x) => c.extend([
                Cell::U64(x.started),
                Cell::U64(x.completed),
                Cell::U64(x.failed),
                Cell::F64(x.completion_rate),
                Cell::F64(x.p50_latency_ms),
                Cell::F64(x.p99_latency_ms),
            ]),
            None => c.extend([
                Cell::U64(0),
                Cell::U64(0),
                Cell::U64(0),
                Cell::F64(None),
                Cell::F64(None),
                Cell::F64(None),
            ]),
        }
    }
    c
}

/// `results.csv` text of `rows` (sorted by the caller).
pub fn to_csv(axis_paths: &[String], rows: &[Row]) -> String {
    let protocols = protocols_of(rows);
    let header: Vec<String> = columns(axis_paths, &protocols)
        .iter()
        .map(|c| csv_quote(c))
        .collect();
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        let line: Vec<String> = cells(r, &protocols).iter().map(Cell::csv).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// `results.jsonl` text: one object per row, keys in column order.
pub fn to_jsonl(axis_paths: &[String], rows: &[Row]) -> String {
    let protocols = protocols_of(rows);
    let names = columns(axis_paths, &protocols);
    let mut out = String::new();
    for r in rows {
        // Written by hand: serde_json's map would sort the keys alphabetically.
        out.push('{');
        for (i, (name, cell)) in names.iter().zip(cells(r, &protocols)).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::Value::from(name.as_str()).to_string());
            out.push(':');
            out.push_str(&cell.json().to_string());
        }
        out.push_str("}\n");
    }
    out
}

/// Paths of the written results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultFiles {
    /// `results.csv`.
    pub csv: PathBuf,
    /// `results.jsonl`.
    pub jsonl: PathBuf,
}

/// Writes `results.csv` and `results.jsonl` into `dir` (rows sorted by index here).
pub fn write_results(
    dir: &Path,
    axis_paths: &[String],
    rows: &mut [Row],
) -> Result<ResultFiles, SweepError> {
    rows.sort_by_key(|r| r.index);
    let csv = dir.join("results.csv");
    let jsonl = dir.join("results.jsonl");
    write_atomic(&csv, to_csv(axis_paths, rows).as_bytes())?;
    write_atomic(&jsonl, to_jsonl(axis_paths, rows).as_bytes())?;
    Ok(ResultFiles { csv, jsonl })
}

/// Writes `path` through a temporary file and a rename, so a reader (or a crash) never sees
/// half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    let tmp = path.with_extension("tmp-write");
    let io = |source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: u64, protos: &[(&str, u64, u64, Option<u64>)]) -> Row {
        Row {
            point_id: format!("p{index:04}-agents=10-seed=1"),
            index,
            axis_values: vec![toml::Value::Integer(10), toml::Value::Float(0.5)],
            seed: 1,
            repetition: 0,
            digest: "ab".into(),
            stop_reason: "horizon".into(),
            interrupted: false,
            end_time_ns: 2_000_000_000,
            events: 99,
            trace_records: 50,
            expectations_met: true,
            invariant_violations: 0,
            throughput_per_s: Some(1.5),
            protocols: protos
                .iter()
                .map(|&(n, s, c, p50)| {
                    (
                        n.to_string(),
                        ProtocolCells {
                            started: s,
                            completed: c,
                            failed: s - c,
                            completion_rate: (s > 0).then(|| c as f64 / s as f64),
                            p50_latency_ms: p50.map(|x| x as f64),
                            p99_latency_ms: p50.map(|x| 2.0 * x as f64),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn header_and_cells_in_fixed_order() {
        let axes = vec!["population.agents".to_string(), "network.loss".to_string()];
        let rows = vec![
            row(0, &[("registration", 4, 3, Some(20))]),
            row(1, &[("ro_acquisition", 2, 2, None)]),
        ];
        let csv = to_csv(&axes, &rows);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "point_id,index,population.agents,network.loss,seed,repetition,digest,stop_reason,\
             interrupted,end_time_ns,events,trace_records,expectations_met,invariant_violations,\
             throughput_per_s,registration.started,registration.completed,registration.failed,\
             registration.completion_rate,registration.p50_latency_ms,registration.p99_latency_ms,\
             ro_acquisition.started,ro_acquisition.completed,ro_acquisition.failed,\
             ro_acquisition.completion_rate,ro_acquisition.p50_latency_ms,\
             ro_acquisition.p99_latency_ms"
        );
        assert_eq!(
            lines[1],
            "p0000-agents=10-seed=1,0,10,0.5,1,0,ab,horizon,false,2000000000,99,50,true,0,1.5,\
             4,3,1,0.75,20,40,0,0,0,,,"
        );
        assert_eq!(
            lines[2],
            "p0001-agents=10-seed=1,1,10,0.5,1,0,ab,horizon,false,2000000000,99,50,true,0,1.5,\
             0,0,0,,,,2,2,0,1,,"
        );
    }

    #[test]
    fn jsonl_keeps_column_order_and_types() {
        let axes = vec!["population.agents".to_string(), "network.loss".to_string()];
        let rows = vec![row(3, &[("registration", 4, 3, None)])];
        let j = to_jsonl(&axes, &rows);
        assert!(j.starts_with(
            "{\"point_id\":\"p0003-agents=10-seed=1\",\"index\":3,\"population.agents\":10,\
             \"network.loss\":0.5,\"seed\":1,"
        ));
        assert!(j.ends_with(
            "\"registration.completion_rate\":0.75,\"registration.p50_latency_ms\":null,\
             \"registration.p99_latency_ms\":null}\n"
        ));
        let v: serde_json::Value = serde_json::from_str(j.trim()).unwrap();
        assert_eq!(v["interrupted"], serde_json::Value::Bool(false));
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_quote("plain"), "plain");
        assert_eq!(csv_quote("a,b"), "\"a,b\"");
        assert_eq!(csv_quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        let c = Cell::Toml(toml::Value::Array(vec![1.into(), 2.into()]));
        assert_eq!(c.csv(), "\"[1, 2]\"");
    }
}
