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
use crate::provenance::Provenance;
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
    /// Median latency over **every** outcome, failures ranked above every success, ms;
    /// `+inf` when more than half the runs failed (the median is a failure).
    pub p50_latency_ms: Option<f64>,
    /// 99th-percentile latency over every outcome, failures ranked above every success,
    /// ms; `+inf` when more than 1% of the runs failed.
    pub p99_latency_ms: Option<f64>,
    /// Median latency of successful outcomes only, ms.
    pub p50_success_latency_ms: Option<f64>,
    /// 99th-percentile latency of successful outcomes only, ms.
    pub p99_success_latency_ms: Option<f64>,
}

/// Per-server-class cells of a row (`analysis::ServerClassMetrics`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerCells {
    /// Busy worker time / (workers × run duration).
    pub utilisation: f64,
    /// Median queueing delay, ms.
    pub queue_delay_p50_ms: f64,
    /// 99th-percentile queueing delay, ms.
    pub queue_delay_p99_ms: f64,
    /// Drops of messages addressed to the class, per cause.
    pub drops: BTreeMap<String, u64>,
    /// Failed protocol runs with the class as peer, per status.
    pub failed: BTreeMap<String, u64>,
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
    /// Per server class.
    pub servers: BTreeMap<String, ServerCells>,
    /// Where the run came from (its summary.json).
    pub provenance: Provenance,
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
        if let Some(l) = &m.latency_with_failures {
            // A percentile that falls on a failure is +inf: "failed", larger than any time.
            let ms = |v: Option<u64>| Some(v.map_or(f64::INFINITY, |ns| ns as f64 / 1e6));
            cells.p50_latency_ms = ms(l.p50_ns);
            cells.p99_latency_ms = ms(l.p99_ns);
        }
        if let Some(l) = &m.latency {
            cells.p50_success_latency_ms = Some(l.p50_ns as f64 / 1e6);
            cells.p99_success_latency_ms = Some(l.p99_ns as f64 / 1e6);
        }
    }
    let servers = run
        .metrics
        .servers
        .by_class
        .iter()
        .map(|(class, c)| {
            (
                class.clone(),
                ServerCells {
                    utilisation: c.utilisation,
                    queue_delay_p50_ms: c.queue_delay_p50_ns as f64 / 1e6,
                    queue_delay_p99_ms: c.queue_delay_p99_ns as f64 / 1e6,
                    drops: c.drops_by_cause.clone(),
                    failed: c.failed_outcomes_by_status.clone(),
                },
            )
        })
        .collect();
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
        servers,
        provenance: s.provenance.clone(),
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
            // pandas, DuckDB and Python's float() all read `inf`.
            Cell::F64(Some(x)) if *x == f64::INFINITY => "inf".to_string(),
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
const PROTOCOL_COLUMNS: [&str; 8] = [
    "started",
    "completed",
    "failed",
    "completion_rate",
    "p50_latency_ms",
    "p99_latency_ms",
    "p50_success_latency_ms",
    "p99_success_latency_ms",
];

/// Provenance columns, last in every row: the first three identify the run's inputs and
/// build; the rest are wall-clock facts that differ between two runs of the same point.
pub const PROVENANCE_COLUMNS: [&str; 7] = [
    "drmsim_version",
    "git_commit",
    "scenario_sha256",
    "cpu_count",
    "started_at",
    "finished_at",
    "command_line",
];

/// The server columns of the table: per class (name order) utilisation and queue delay
/// percentiles, then `drops.<cause>` and `failed.<status>` for every cause and status seen
/// in any run.
#[derive(Clone, Debug, Default)]
pub struct ServerColumns {
    classes: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

impl ServerColumns {
    /// The columns needed by `rows`.
    pub fn of(rows: &[Row]) -> Self {
        let mut classes: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
        for r in rows {
            for (class, c) in &r.servers {
                let e = classes.entry(class.clone()).or_default();
                e.0.extend(c.drops.keys().cloned());
                e.1.extend(c.failed.keys().cloned());
            }
        }
        ServerColumns { classes }
    }

    fn names(&self) -> Vec<String> {
        let mut v = Vec::new();
        for (class, (drops, failed)) in &self.classes {
            for m in ["utilisation", "queue_delay_p50_ms", "queue_delay_p99_ms"] {
                v.push(format!("server.{class}.{m}"));
            }
            v.extend(drops.iter().map(|d| format!("server.{class}.drops.{d}")));
            v.extend(failed.iter().map(|f| format!("server.{class}.failed.{f}")));
        }
        v
    }

    fn cells(&self, row: &Row) -> Vec<Cell> {
        let mut v = Vec::new();
        for (class, (drops, failed)) in &self.classes {
            let c = row.servers.get(class);
            let num = |f: fn(&ServerCells) -> f64| Cell::F64(c.map(f));
            v.push(num(|c| c.utilisation));
            v.push(num(|c| c.queue_delay_p50_ms));
            v.push(num(|c| c.queue_delay_p99_ms));
            for d in drops {
                v.push(Cell::U64(
                    c.and_then(|c| c.drops.get(d)).copied().unwrap_or(0),
                ));
            }
            for f in failed {
                v.push(Cell::U64(
                    c.and_then(|c| c.failed.get(f)).copied().unwrap_or(0),
                ));
            }
        }
        v
    }
}

fn provenance_cells(p: &Provenance) -> Vec<Cell> {
    vec![
        Cell::Str(p.drmsim_version.clone()),
        Cell::Str(p.git_commit.clone()),
        Cell::Str(p.scenario_sha256.clone()),
        Cell::U64(p.cpu_count as u64),
        Cell::Str(p.started_at.clone()),
        Cell::Str(p.finished_at.clone()),
        Cell::Str(p.command_line.clone()),
    ]
}

/// Every protocol seen in any row, in name order.
pub fn protocols_of(rows: &[Row]) -> Vec<String> {
    let set: BTreeSet<&String> = rows.iter().flat_map(|r| r.protocols.keys()).collect();
    set.into_iter().cloned().collect()
}

/// The header of the results table.
pub fn columns(
    axis_paths: &[String],
    protocols: &[String],
    servers: &ServerColumns,
) -> Vec<String> {
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
    c.extend(servers.names());
    c.extend(PROVENANCE_COLUMNS.map(String::from));
    c
}

fn cells(row: &Row, protocols: &[String], servers: &ServerColumns) -> Vec<Cell> {
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
                Cell::F64(x.p50_success_latency_ms),
                Cell::F64(x.p99_success_latency_ms),
            ]),
            None => c.extend([
                Cell::U64(0),
                Cell::U64(0),
                Cell::U64(0),
                Cell::F64(None),
                Cell::F64(None),
                Cell::F64(None),
                Cell::F64(None),
                Cell::F64(None),
            ]),
        }
    }
    c.extend(servers.cells(row));
    c.extend(provenance_cells(&row.provenance));
    c
}

/// `results.csv` text of `rows` (sorted by the caller).
pub fn to_csv(axis_paths: &[String], rows: &[Row]) -> String {
    let protocols = protocols_of(rows);
    let servers = ServerColumns::of(rows);
    let header: Vec<String> = columns(axis_paths, &protocols, &servers)
        .iter()
        .map(|c| csv_quote(c))
        .collect();
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        let line: Vec<String> = cells(r, &protocols, &servers)
            .iter()
            .map(Cell::csv)
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// `results.jsonl` text: one object per row, keys in column order.
pub fn to_jsonl(axis_paths: &[String], rows: &[Row]) -> String {
    let protocols = protocols_of(rows);
    let servers = ServerColumns::of(rows);
    let names = columns(axis_paths, &protocols, &servers);
    let mut out = String::new();
    for r in rows {
        // Written by hand: serde_json's map would sort the keys alphabetically.
        out.push('{');
        for (i, (name, cell)) in names.iter().zip(cells(r, &protocols, &servers)).enumerate() {
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

/// `results_long.csv` text: the tidy long form, one row per run × subject × metric with
/// columns `point_id, index, <axes…>, seed, repetition, scope, name, metric, value`, then
/// the provenance columns. `scope` is `run` (name empty), `protocol` (name = protocol) or
/// `server` (name = server class); missing values are left out rather than written empty.
pub fn to_long_csv(axis_paths: &[String], rows: &[Row]) -> String {
    let mut header: Vec<String> = vec!["point_id".into(), "index".into()];
    header.extend(axis_paths.iter().cloned());
    header.extend(["seed", "repetition", "scope", "name", "metric", "value"].map(String::from));
    header.extend(PROVENANCE_COLUMNS.map(String::from));
    let mut out: String = header
        .iter()
        .map(|h| csv_quote(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in rows {
        let mut prefix: Vec<String> = vec![csv_quote(&r.point_id), r.index.to_string()];
        prefix.extend(r.axis_values.iter().cloned().map(|v| Cell::Toml(v).csv()));
        prefix.push(r.seed.to_string());
        prefix.push(r.repetition.to_string());
        let prefix = prefix.join(",");
        let prov: Vec<String> = provenance_cells(&r.provenance)
            .iter()
            .map(Cell::csv)
            .collect();
        let prov = prov.join(",");
        let mut line = |scope: &str, name: &str, metric: &str, value: Option<f64>| {
            if let Some(v) = value.filter(|v| !v.is_nan()) {
                let v = if v == f64::INFINITY {
                    "inf".to_string()
                } else {
                    v.to_string()
                };
                out.push_str(&format!(
                    "{prefix},{scope},{},{},{v},{prov}\n",
                    csv_quote(name),
                    csv_quote(metric)
                ));
            }
        };
        line("run", "", "end_time_ns", Some(r.end_time_ns as f64));
        line("run", "", "events", Some(r.events as f64));
        line("run", "", "trace_records", Some(r.trace_records as f64));
        line(
            "run",
            "",
            "expectations_met",
            Some(f64::from(u8::from(r.expectations_met))),
        );
        line(
            "run",
            "",
            "invariant_violations",
            Some(r.invariant_violations as f64),
        );
        line("run", "", "throughput_per_s", r.throughput_per_s);
        for (p, c) in &r.protocols {
            line("protocol", p, "started", Some(c.started as f64));
            line("protocol", p, "completed", Some(c.completed as f64));
            line("protocol", p, "failed", Some(c.failed as f64));
            line("protocol", p, "completion_rate", c.completion_rate);
            line("protocol", p, "p50_latency_ms", c.p50_latency_ms);
            line("protocol", p, "p99_latency_ms", c.p99_latency_ms);
            line(
                "protocol",
                p,
                "p50_success_latency_ms",
                c.p50_success_latency_ms,
            );
            line(
                "protocol",
                p,
                "p99_success_latency_ms",
                c.p99_success_latency_ms,
            );
        }
        for (class, c) in &r.servers {
            line("server", class, "utilisation", Some(c.utilisation));
            line(
                "server",
                class,
                "queue_delay_p50_ms",
                Some(c.queue_delay_p50_ms),
            );
            line(
                "server",
                class,
                "queue_delay_p99_ms",
                Some(c.queue_delay_p99_ms),
            );
            for (cause, n) in &c.drops {
                line("server", class, &format!("drops.{cause}"), Some(*n as f64));
            }
            for (status, n) in &c.failed {
                line(
                    "server",
                    class,
                    &format!("failed.{status}"),
                    Some(*n as f64),
                );
            }
        }
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
    /// `results_long.csv` (tidy long form).
    pub long_csv: PathBuf,
    /// `report.html`: the one-page report of the whole sweep (charts and results table),
    /// written after the charts by [`super::finish_outputs`].
    pub report_html: PathBuf,
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
    let long_csv = dir.join("results_long.csv");
    write_atomic(&long_csv, to_long_csv(axis_paths, rows).as_bytes())?;
    Ok(ResultFiles {
        csv,
        jsonl,
        long_csv,
        report_html: dir.join("report.html"),
    })
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
                            ..ProtocolCells::default()
                        },
                    )
                })
                .collect(),
            servers: BTreeMap::new(),
            provenance: Provenance::default(),
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
             registration.p50_success_latency_ms,registration.p99_success_latency_ms,\
             ro_acquisition.started,ro_acquisition.completed,ro_acquisition.failed,\
             ro_acquisition.completion_rate,ro_acquisition.p50_latency_ms,\
             ro_acquisition.p99_latency_ms,ro_acquisition.p50_success_latency_ms,\
             ro_acquisition.p99_success_latency_ms,drmsim_version,git_commit,scenario_sha256,\
             cpu_count,started_at,finished_at,command_line"
        );
        assert_eq!(
            lines[1],
            "p0000-agents=10-seed=1,0,10,0.5,1,0,ab,horizon,false,2000000000,99,50,true,0,1.5,\
             4,3,1,0.75,20,40,,,0,0,0,,,,,,,,,0,,,"
        );
        assert_eq!(
            lines[2],
            "p0001-agents=10-seed=1,1,10,0.5,1,0,ab,horizon,false,2000000000,99,50,true,0,1.5,\
             0,0,0,,,,,,2,2,0,1,,,,,,,,0,,,"
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
        assert!(j.contains(
            "\"registration.completion_rate\":0.75,\"registration.p50_latency_ms\":null,\
             \"registration.p99_latency_ms\":null,"
        ));
        assert!(j.ends_with("\"started_at\":\"\",\"finished_at\":\"\",\"command_line\":\"\"}\n"));
        let v: serde_json::Value = serde_json::from_str(j.trim()).unwrap();
        assert_eq!(v["interrupted"], serde_json::Value::Bool(false));
    }

    #[test]
    fn long_form_has_one_row_per_run_subject_metric() {
        let axes = vec!["population.agents".to_string(), "network.loss".to_string()];
        let mut r = row(0, &[("registration", 4, 3, Some(20))]);
        r.protocols.get_mut("registration").unwrap().p99_latency_ms = Some(f64::INFINITY);
        r.servers.insert(
            "ri".into(),
            ServerCells {
                utilisation: 0.5,
                queue_delay_p50_ms: 1.0,
                queue_delay_p99_ms: 9.0,
                drops: [("rejected".to_string(), 7)].into_iter().collect(),
                failed: [("timeout".to_string(), 1)].into_iter().collect(),
            },
        );
        let text = to_long_csv(&axes, &[r]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "point_id,index,population.agents,network.loss,seed,repetition,scope,name,metric,\
             value,drmsim_version,git_commit,scenario_sha256,cpu_count,started_at,finished_at,\
             command_line"
        );
        let p = "p0000-agents=10-seed=1,0,10,0.5,1,0";
        let tail = ",,,,0,,,";
        for want in [
            format!("{p},run,,throughput_per_s,1.5{tail}"),
            format!("{p},protocol,registration,completion_rate,0.75{tail}"),
            format!("{p},protocol,registration,p99_latency_ms,inf{tail}"),
            format!("{p},server,ri,drops.rejected,7{tail}"),
            format!("{p},server,ri,failed.timeout,1{tail}"),
            format!("{p},server,ri,queue_delay_p99_ms,9{tail}"),
        ] {
            assert!(lines.contains(&want.as_str()), "{want}");
        }
        // 6 run metrics + 6 present protocol metrics (success latencies absent) + 5 server.
        assert_eq!(lines.len(), 1 + 6 + 6 + 5);
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
