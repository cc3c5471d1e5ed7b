//! From result rows to the capacity charts of `analysis`: one swept numeric axis is the
//! x axis, the remaining axes form the configuration (one line each), seeds are aggregated
//! into a 95% band by `analysis::draw_capacity_charts_with`.

use super::point_id::short_names;
use super::results::Row;
use analysis::{CapacityOptions, SweepRow};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which axis and protocol the capacity charts show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartChoice {
    /// Axis path on the x axis; default `population.agents` when swept, else the first
    /// axis whose values are all numbers.
    pub x_axis: Option<String>,
    /// Protocol whose latency and completion rate are drawn; default the protocol with the
    /// most started runs over the whole sweep (ties: name order).
    pub protocol: Option<String>,
}

/// What was drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartsOutcome {
    /// Chart directory.
    pub dir: PathBuf,
    /// Axis on the x axis.
    pub x_axis: String,
    /// Protocol drawn.
    pub protocol: String,
    /// Runs left out because the protocol had no successful outcome (no latency).
    pub rows_without_latency: usize,
    /// Configurations (lines) drawn.
    pub configs: usize,
}

fn is_number(v: &toml::Value) -> bool {
    matches!(v, toml::Value::Integer(_) | toml::Value::Float(_))
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Checks an explicit x axis against the sweep's axes (`(path, values)` in axis order) or
/// picks the default; `Ok(None)` when no axis is numeric (no charts).
pub fn pick_x_axis(
    axes: &[(String, Vec<toml::Value>)],
    wanted: Option<&str>,
) -> Result<Option<usize>, String> {
    let numeric = |i: usize| axes[i].1.iter().all(is_number);
    if let Some(w) = wanted {
        let i = axes.iter().position(|(p, _)| p == w).ok_or_else(|| {
            let known: Vec<&str> = axes.iter().map(|(p, _)| p.as_str()).collect();
            format!("--x-axis `{w}` is not an axis of this sweep (axes: {known:?})")
        })?;
        if !numeric(i) {
            return Err(format!("--x-axis `{w}`: every value must be a number"));
        }
        return Ok(Some(i));
    }
    if let Some(i) = axes.iter().position(|(p, _)| p == "population.agents") {
        if numeric(i) {
            return Ok(Some(i));
        }
    }
    Ok((0..axes.len()).find(|&i| numeric(i)))
}

/// The protocol with the most started runs (ties: name order).
fn busiest_protocol(rows: &[Row]) -> Option<String> {
    let mut started: BTreeMap<&str, u64> = BTreeMap::new();
    for r in rows {
        for (p, c) in &r.protocols {
            *started.entry(p.as_str()).or_default() += c.started;
        }
    }
    let mut best: Option<(&str, u64)> = None;
    for (p, n) in started {
        if best.is_none_or(|(_, b)| n > b) {
            best = Some((p, n));
        }
    }
    best.map(|(p, _)| p.to_string())
}

/// Label of one configuration: the non-x axes as `short=value`, or `all`.
fn config_label(short: &[String], row: &Row, x: usize) -> String {
    let parts: Vec<String> = short
        .iter()
        .zip(&row.axis_values)
        .enumerate()
        .filter(|(i, _)| *i != x)
        .map(|(_, (name, v))| match v {
            toml::Value::String(s) => format!("{name}={s}"),
            other => format!("{name}={other}"),
        })
        .collect();
    if parts.is_empty() {
        "all".to_string()
    } else {
        parts.join(", ")
    }
}

/// The x-axis description of an axis path: what it is and its unit, with the path itself
/// so the reader can find it in the scenario (`population (DRM Agents) [population.agents]`).
pub fn axis_label(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    let what = match path {
        "population.agents" => "population (DRM Agents)".to_string(),
        "population.sce_agents" => "population (SCE DRM Agents)".to_string(),
        _ if last == "workers" => {
            format!("{} server workers", path.split('.').nth(1).unwrap_or(""))
        }
        _ if last == "loss" => "network loss probability".to_string(),
        _ if last.ends_with("_rate_per_min") => format!(
            "offered load: {} per agent (1/min)",
            last.trim_end_matches("_rate_per_min").replace('_', " ")
        ),
        _ if last.ends_with("_probability") => {
            format!(
                "{} (probability)",
                last.trim_end_matches("_probability").replace('_', " ")
            )
        }
        _ if last.ends_with("_size") || last.ends_with("_capacity") => {
            format!("{} (entries)", last.replace('_', " "))
        }
        _ => last.replace('_', " "),
    };
    format!("{what} [{path}]")
}

/// The chart rows for `protocol` with axis `x` (index) on the x axis, and how many runs had
/// no latency for it.
pub fn chart_rows(
    axis_paths: &[String],
    rows: &[Row],
    x: usize,
    protocol: &str,
) -> (Vec<SweepRow>, usize) {
    let paths: Vec<&str> = axis_paths.iter().map(String::as_str).collect();
    let short = short_names(&paths);
    let mut out = Vec::new();
    let mut skipped = 0;
    for r in rows {
        let cells = r.protocols.get(protocol);
        let (Some(xv), Some(c)) = (r.axis_values.get(x).and_then(number), cells) else {
            skipped += 1;
            continue;
        };
        match (c.p50_latency_ms, c.p99_latency_ms, c.completion_rate) {
            (Some(p50), Some(p99), Some(rate)) => out.push(SweepRow {
                config: config_label(&short, r, x),
                x: xv,
                seed: r.seed,
                p50_latency_ms: p50,
                p99_latency_ms: p99,
                completion_rate: rate,
            }),
            _ => skipped += 1,
        }
    }
    (out, skipped)
}

/// Draws the capacity charts of `rows` into `dir`. `Ok(None)` with a reason when there is
/// nothing to draw (no numeric axis, no protocol, no run with a latency).
pub fn draw(
    dir: &Path,
    axis_paths: &[String],
    axes: &[(String, Vec<toml::Value>)],
    rows: &[Row],
    choice: &ChartChoice,
) -> Result<Result<ChartsOutcome, String>, analysis::AnalysisError> {
    let x = match pick_x_axis(axes, choice.x_axis.as_deref()) {
        Ok(Some(x)) => x,
        Ok(None) => return Ok(Err("no swept axis has numeric values".into())),
        Err(e) => return Ok(Err(e)),
    };
    let Some(protocol) = choice.protocol.clone().or_else(|| busiest_protocol(rows)) else {
        return Ok(Err("no protocol ran".into()));
    };
    let (chart_rows, skipped) = chart_rows(axis_paths, rows, x, &protocol);
    if chart_rows.is_empty() {
        return Ok(Err(format!(
            "no run has a successful `{protocol}` outcome to measure latency from"
        )));
    }
    let opts = CapacityOptions {
        x_label: axis_label(&axis_paths[x]),
        protocol: protocol.clone(),
        ..CapacityOptions::default()
    };
    let report = analysis::draw_capacity_charts_with(&chart_rows, dir, &opts)?;
    Ok(Ok(ChartsOutcome {
        dir: dir.to_path_buf(),
        x_axis: axis_paths[x].clone(),
        protocol,
        rows_without_latency: skipped,
        configs: report.curves.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep_run::results::ProtocolCells;

    fn axes(spec: &[(&str, &[toml::Value])]) -> Vec<(String, Vec<toml::Value>)> {
        spec.iter()
            .map(|(p, v)| (p.to_string(), v.to_vec()))
            .collect()
    }

    #[test]
    fn x_axis_default_prefers_population_agents_then_first_numeric() {
        let s = toml::Value::String("a".into());
        let a = axes(&[
            ("network.loss", &[0.1.into()]),
            ("population.agents", &[10.into(), 20.into()]),
        ]);
        assert_eq!(pick_x_axis(&a, None), Ok(Some(1)));
        let b = axes(&[
            ("scenario.crypto", std::slice::from_ref(&s)),
            ("network.loss", &[0.1.into()]),
        ]);
        assert_eq!(pick_x_axis(&b, None), Ok(Some(1)));
        let c = axes(&[("scenario.crypto", std::slice::from_ref(&s))]);
        assert_eq!(pick_x_axis(&c, None), Ok(None));
        assert!(pick_x_axis(&c, Some("scenario.crypto")).is_err());
        assert!(pick_x_axis(&c, Some("nope")).is_err());
        assert_eq!(pick_x_axis(&a, Some("network.loss")), Ok(Some(0)));
    }

    fn row(agents: i64, loss: f64, seed: u64, p50: Option<f64>) -> Row {
        let mut protocols = BTreeMap::new();
        protocols.insert(
            "registration".to_string(),
            ProtocolCells {
                started: 10,
                completed: 9,
                failed: 1,
                completion_rate: Some(0.9),
                p50_latency_ms: p50,
                p99_latency_ms: p50.map(|x| x * 3.0),
                ..ProtocolCells::default()
            },
        );
        protocols.insert(
            "ro_acquisition".to_string(),
            ProtocolCells {
                started: 3,
                ..ProtocolCells::default()
            },
        );
        Row {
            point_id: String::new(),
            index: 0,
            axis_values: vec![toml::Value::Float(loss), toml::Value::Integer(agents)],
            seed,
            repetition: 0,
            digest: String::new(),
            stop_reason: "horizon".into(),
            interrupted: false,
            end_time_ns: 1,
            events: 1,
            trace_records: 1,
            expectations_met: true,
            invariant_violations: 0,
            throughput_per_s: None,
            protocols,
            servers: BTreeMap::new(),
            provenance: Default::default(),
        }
    }

    #[test]
    fn axis_labels_name_quantity_and_unit() {
        assert_eq!(
            axis_label("population.agents"),
            "population (DRM Agents) [population.agents]"
        );
        assert_eq!(
            axis_label("costs.ri.workers"),
            "ri server workers [costs.ri.workers]"
        );
        assert_eq!(
            axis_label("workload.ro_acquire_rate_per_min"),
            "offered load: ro acquire per agent (1/min) [workload.ro_acquire_rate_per_min]"
        );
        assert_eq!(
            axis_label("network.loss"),
            "network loss probability [network.loss]"
        );
    }

    #[test]
    fn rows_map_to_configs_and_skip_missing_latency() {
        let paths = vec!["network.loss".to_string(), "population.agents".to_string()];
        let rows = vec![
            row(10, 0.01, 1, Some(5.0)),
            row(20, 0.01, 1, None),
            row(10, 0.1, 2, Some(7.0)),
        ];
        assert_eq!(busiest_protocol(&rows).as_deref(), Some("registration"));
        let (out, skipped) = chart_rows(&paths, &rows, 1, "registration");
        assert_eq!(skipped, 1);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].config, "loss=0.01");
        assert_eq!(out[0].x, 10.0);
        assert_eq!(out[0].p99_latency_ms, 15.0);
        assert_eq!(out[0].completion_rate, 0.9);
        assert_eq!(out[1].config, "loss=0.1");
        assert_eq!(out[1].seed, 2);
    }
}
