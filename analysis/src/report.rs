//! `report(run_dir)`: metrics.json, charts and a self-contained report.html.

use crate::charts::draw_run_charts;
use crate::collect::{analyze_trace, TraceAnalysis};
use crate::error::{AnalysisError, Result};
use crate::metrics::{Metrics, ProtocolMetrics};
use crate::style::{fmt_ns, ChartFiles};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Files written by [`report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPaths {
    /// `run_dir/metrics.json`.
    pub metrics_json: PathBuf,
    /// `run_dir/report.html`.
    pub report_html: PathBuf,
    /// `run_dir/charts/*.svg|png`.
    pub charts: Vec<ChartFiles>,
}

/// Most server rows in the HTML table (highest utilisation first).
const MAX_SERVER_ROWS: usize = 50;
/// Most message-type rows in the HTML table (most sent first).
const MAX_MESSAGE_ROWS: usize = 60;

/// Reads `run_dir/trace.jsonl` (and `summary.json` if present) and writes `metrics.json`,
/// the run charts under `charts/`, and `report.html` with the charts inlined as SVG.
pub fn report(run_dir: &Path) -> Result<ReportPaths> {
    let trace = crate::trace_io::run_trace(run_dir);
    let mut analysis = analyze_trace(&trace)?;
    let summary = crate::integrity::read_summary(run_dir)?;
    analysis.metrics.provenance = summary.as_ref().and_then(|s| s.get("provenance")).cloned();
    write_report(run_dir, &analysis, summary.as_ref())
}

/// Writes all report outputs for an already computed analysis into `out_dir`.
pub fn write_report(
    out_dir: &Path,
    analysis: &TraceAnalysis,
    summary: Option<&serde_json::Value>,
) -> Result<ReportPaths> {
    std::fs::create_dir_all(out_dir).map_err(|e| AnalysisError::io(out_dir, e))?;
    let metrics_json = out_dir.join("metrics.json");
    write_metrics_json(&analysis.metrics, &metrics_json)?;
    let charts = draw_run_charts(analysis, &out_dir.join("charts"))?;
    let mut svgs = Vec::new();
    for c in &charts {
        let text = std::fs::read_to_string(&c.svg).map_err(|e| AnalysisError::io(&c.svg, e))?;
        svgs.push(text);
    }
    write_timeseries_csv(&analysis.metrics, &out_dir.join("timeseries.csv"))?;
    let html = render_html(&analysis.metrics, summary, &svgs);
    let report_html = out_dir.join("report.html");
    std::fs::write(&report_html, html).map_err(|e| AnalysisError::io(&report_html, e))?;
    Ok(ReportPaths {
        metrics_json,
        report_html,
        charts,
    })
}

/// Writes the run's time series as CSV: one row per throughput bucket with its start and
/// width in seconds, completions/s and failures/s in total and per protocol, and per
/// server class the utilisation, mean and max queue length (definitions: `docs/analysis.md`).
pub fn write_timeseries_csv(m: &Metrics, path: &Path) -> Result<()> {
    let tp = &m.throughput;
    let mut head = vec![
        "t_start_s".to_string(),
        "bucket_s".to_string(),
        "completions_per_s".to_string(),
        "failures_per_s".to_string(),
    ];
    for p in tp.completions.keys() {
        head.push(format!("{p}.completions_per_s"));
        head.push(format!("{p}.failures_per_s"));
    }
    for k in m.servers.by_kind.keys() {
        head.push(format!("{k}.utilisation"));
        head.push(format!("{k}.queue_len_mean"));
        head.push(format!("{k}.queue_len_max"));
    }
    let mut out = head.join(",");
    out.push('\n');
    let end = m.run.duration_ns;
    for i in 0..tp.buckets {
        let start = i as u64 * tp.bucket_ns;
        // The last bucket is cut at the end of the run (as in metrics.json).
        let width = tp.bucket_ns.min(end.saturating_sub(start)).max(1);
        let secs = width as f64 / 1e9;
        let at = |v: &Vec<u64>| v.get(i).copied().unwrap_or(0);
        let done: u64 = tp.completions.values().map(at).sum();
        let failed: u64 = tp.failures.values().map(at).sum();
        let mut row = vec![
            (start as f64 / 1e9).to_string(),
            secs.to_string(),
            (done as f64 / secs).to_string(),
            (failed as f64 / secs).to_string(),
        ];
        for (p, c) in &tp.completions {
            row.push((at(c) as f64 / secs).to_string());
            let f = tp.failures.get(p).map(at).unwrap_or(0);
            row.push((f as f64 / secs).to_string());
        }
        for k in m.servers.by_kind.values() {
            row.push(k.utilisation.get(i).copied().unwrap_or(0.0).to_string());
            row.push(k.queue_len_mean.get(i).copied().unwrap_or(0.0).to_string());
            row.push(k.queue_len_max.get(i).copied().unwrap_or(0).to_string());
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| AnalysisError::io(path, e))
}

/// Writes `metrics` as pretty JSON to `path`.
pub fn write_metrics_json(metrics: &Metrics, path: &Path) -> Result<()> {
    let text = serde_json::to_vec_pretty(metrics).map_err(|e| AnalysisError::Json {
        path: path.to_path_buf(),
        source: e,
    })?;
    std::fs::write(path, text).map_err(|e| AnalysisError::io(path, e))
}

/// HTML-escapes `s`.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Prepares a plotters SVG for inlining: drops any XML prolog and adds the `chart` class
/// (CSS scales it; a `viewBox` is added only if the SVG lacks one).
pub(crate) fn inline_svg(svg: &str) -> String {
    let body = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => return String::new(),
    };
    let open_tag = &body[..body.find('>').unwrap_or(body.len())];
    if open_tag.contains("viewBox") {
        body.replacen("<svg", "<svg class=\"chart\"", 1)
    } else {
        let (w, h) = crate::style::CHART_SIZE;
        body.replacen(
            "<svg",
            &format!("<svg class=\"chart\" viewBox=\"0 0 {w} {h}\""),
            1,
        )
    }
}

fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    out.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "—".into())
}

fn proto_row(label: Vec<String>, p: &ProtocolMetrics) -> Vec<String> {
    let lat = |f: fn(&crate::metrics::LatencySummary) -> u64| {
        p.latency
            .as_ref()
            .map(|l| fmt_ns(f(l) as f64))
            .unwrap_or_else(|| "—".into())
    };
    let all = |f: fn(&crate::metrics::FailureAwareLatency) -> Option<u64>| match &p
        .latency_with_failures
    {
        None => "—".to_string(),
        Some(l) => f(l)
            .map(|v| fmt_ns(v as f64))
            .unwrap_or_else(|| "failed".into()),
    };
    let failures: u64 = p.failures_by_status.values().sum();
    let mut r = label;
    r.extend([
        p.outcomes.to_string(),
        p.completions.to_string(),
        format!("{:.2}%", p.completion_rate * 100.0),
        failures.to_string(),
        p.timeouts.to_string(),
        lat(|l| l.p50_ns),
        lat(|l| l.p90_ns),
        lat(|l| l.p99_ns),
        lat(|l| l.p999_ns),
        lat(|l| l.max_ns),
        all(|l| l.p50_ns),
        all(|l| l.p99_ns),
    ]);
    r
}

const PROTO_HEAD: [&str; 12] = [
    "outcomes",
    "completed",
    "completion rate",
    "failed",
    "timeouts",
    "p50 (successes)",
    "p90 (successes)",
    "p99 (successes)",
    "p99.9 (successes)",
    "max (successes)",
    "p50 (failures count)",
    "p99 (failures count)",
];

fn render_html(m: &Metrics, summary: Option<&serde_json::Value>, svgs: &[String]) -> String {
    let mut o = String::new();
    let title = format!(
        "drmsim report — {}",
        m.run.scenario.as_deref().unwrap_or("run")
    );
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\
body{{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:1240px;color:#222;line-height:1.4}}\
h1{{font-size:1.6em}}h2{{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}}\
table{{border-collapse:collapse;margin:.6em 0;font-size:.9em}}th,td{{border:1px solid #ccc;padding:.25em .6em;text-align:right}}\
th{{background:#f2f2f2}}td:first-child,th:first-child{{text-align:left}}\
svg.chart{{width:100%;height:auto;border:1px solid #ddd;margin:.6em 0}}pre{{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.85em}}\
.bad{{color:#b00020;font-weight:bold}}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );

    o.push_str("<h2>Run</h2>");
    let r = &m.run;
    table(
        &mut o,
        &["field", "value"],
        &[
            vec!["scenario".into(), opt(&r.scenario)],
            vec!["seed".into(), opt(&r.seed)],
            vec!["crypto".into(), opt(&r.crypto)],
            vec!["schema".into(), opt(&r.schema)],
            vec!["virtual duration".into(), fmt_ns(r.duration_ns as f64)],
            vec!["end reason".into(), opt(&r.end_reason)],
            vec!["events processed".into(), opt(&r.events)],
            vec!["trace records".into(), r.records.to_string()],
            vec!["trace bytes".into(), r.trace_bytes.to_string()],
            vec!["truncated tail".into(), r.truncated_tail.to_string()],
            vec![
                "actors".into(),
                m.actors_by_kind
                    .iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ],
        ],
    );
    if m.violations.total > 0 {
        let _ = write!(
            o,
            "<p class=\"bad\">{} invariant violation(s) — see below.</p>",
            m.violations.total
        );
    }

    o.push_str("<h2>Protocols</h2>");
    let mut head = vec!["protocol"];
    head.extend(&PROTO_HEAD);
    let rows: Vec<Vec<String>> = m
        .protocols
        .iter()
        .map(|(p, pm)| proto_row(vec![p.clone()], pm))
        .collect();
    table(&mut o, &head, &rows);
    o.push_str(
        "<p>Latency, exact nearest-rank percentiles: <em>successes</em> = first request to a \
         successful outcome; <em>failures count</em> = over every run, a failure or timeout \
         ranked above every success (it never completed); \"failed\" means more than 50% \
         (p50) or 1% (p99) of the runs failed.</p>",
    );

    o.push_str("<h3>By initiator kind</h3>");
    let mut head = vec!["kind", "protocol"];
    head.extend(&PROTO_HEAD);
    let mut rows = Vec::new();
    for (k, ps) in &m.protocols_by_kind {
        for (p, pm) in ps {
            rows.push(proto_row(vec![k.clone(), p.clone()], pm));
        }
    }
    table(&mut o, &head, &rows);

    o.push_str("<h3>Failures by status</h3>");
    let mut rows = Vec::new();
    for (p, pm) in &m.protocols {
        for (s, n) in &pm.failures_by_status {
            rows.push(vec![p.clone(), s.clone(), n.to_string()]);
        }
    }
    table(&mut o, &["protocol", "status", "count"], &rows);

    o.push_str("<h2>Charts</h2>");
    for s in svgs {
        o.push_str(&inline_svg(s));
        o.push('\n');
    }

    o.push_str("<h2>Server classes</h2>");
    let rows: Vec<Vec<String>> = m
        .servers
        .by_class
        .iter()
        .map(|(class, c)| {
            let causes = |map: &std::collections::BTreeMap<String, u64>| {
                if map.is_empty() {
                    "—".to_string()
                } else {
                    map.iter()
                        .map(|(k, n)| format!("{k}: {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            vec![
                class.clone(),
                c.servers.to_string(),
                c.capacity_workers.to_string(),
                c.services.to_string(),
                format!("{:.1}%", c.utilisation * 100.0),
                fmt_ns(c.queue_delay_p50_ns as f64),
                fmt_ns(c.queue_delay_p99_ns as f64),
                c.queue_len_max.to_string(),
                causes(&c.drops_by_cause),
                causes(&c.failed_outcomes_by_status),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            "class",
            "servers",
            "workers",
            "services",
            "utilisation",
            "queue delay p50",
            "queue delay p99",
            "queue max",
            "drops to it, by cause",
            "failed runs with it as peer, by status",
        ],
        &rows,
    );

    o.push_str("<h2>Servers</h2>");
    let mut servers: Vec<(&u32, &crate::metrics::ServerActorMetrics)> =
        m.servers.by_actor.iter().collect();
    servers.sort_by(|a, b| {
        b.1.utilisation
            .total_cmp(&a.1.utilisation)
            .then(a.0.cmp(b.0))
    });
    let rows: Vec<Vec<String>> = servers
        .iter()
        .take(MAX_SERVER_ROWS)
        .map(|(id, s)| {
            vec![
                format!("{} ({id})", s.name),
                s.kind.clone(),
                s.capacity_workers.to_string(),
                s.services.to_string(),
                format!("{:.1}%", s.utilisation * 100.0),
                format!("{:.2}", s.queue_len_mean),
                s.queue_len_max.to_string(),
                fmt_ns(s.queue_delay_mean_ns),
                fmt_ns(s.queue_delay_max_ns as f64),
                fmt_ns(s.service_mean_ns),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            "server",
            "kind",
            "workers (max busy)",
            "services",
            "utilisation",
            "mean queue",
            "max queue",
            "mean queue delay",
            "max queue delay",
            "mean service",
        ],
        &rows,
    );
    if servers.len() > MAX_SERVER_ROWS {
        let _ = write!(
            o,
            "<p>{} more servers in metrics.json.</p>",
            servers.len() - MAX_SERVER_ROWS
        );
    }

    o.push_str("<h2>Messages</h2>");
    let mut msgs: Vec<(&String, &crate::metrics::MessageMetrics)> = m.messages.iter().collect();
    msgs.sort_by(|a, b| b.1.sent.cmp(&a.1.sent).then(a.0.cmp(b.0)));
    let mrow = |name: String, x: &crate::metrics::MessageMetrics| {
        vec![
            name,
            x.sent.to_string(),
            x.sent_bytes.to_string(),
            x.delivered.to_string(),
            x.dropped.to_string(),
            x.duplicated.to_string(),
            fmt_ns(x.net_latency_mean_ns),
            fmt_ns(x.net_latency_max_ns as f64),
        ]
    };
    let mut rows: Vec<Vec<String>> = msgs
        .iter()
        .take(MAX_MESSAGE_ROWS)
        .map(|(n, x)| mrow((*n).clone(), x))
        .collect();
    rows.push(mrow("all types".into(), &m.message_totals));
    table(
        &mut o,
        &[
            "type",
            "sent",
            "bytes sent",
            "delivered",
            "dropped",
            "duplicated",
            "mean net latency",
            "max net latency",
        ],
        &rows,
    );
    o.push_str("<h3>Drops by cause</h3>");
    let rows: Vec<Vec<String>> = m
        .drops_by_cause
        .iter()
        .map(|(c, n)| vec![c.clone(), n.to_string()])
        .collect();
    table(&mut o, &["cause", "dropped"], &rows);

    o.push_str("<h2>Attacks and invariants</h2>");
    let rows: Vec<Vec<String>> = m
        .attacks
        .iter()
        .map(|(a, x)| vec![a.clone(), x.attempts.to_string(), x.successes.to_string()])
        .collect();
    table(&mut o, &["attack", "attempts", "successes"], &rows);
    let rows: Vec<Vec<String>> = m
        .violations
        .first
        .iter()
        .map(|v| {
            vec![
                fmt_ns(v.t_ns as f64),
                v.invariant.clone(),
                v.detail.clone(),
                v.chain
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(" → "),
            ]
        })
        .collect();
    let _ = write!(o, "<p>Invariant violations: {}</p>", m.violations.total);
    table(
        &mut o,
        &["time", "invariant", "detail", "message chain"],
        &rows,
    );
    let _ = write!(
        o,
        "<p>Timers: {} set, {} fired, {} cancelled. Notes: {}.</p>",
        m.timers.set, m.timers.fired, m.timers.cancelled, m.notes
    );

    if let Some(s) = summary {
        o.push_str("<h2>Run summary (summary.json)</h2><pre>");
        o.push_str(&esc(&serde_json::to_string_pretty(s).unwrap_or_default()));
        o.push_str("</pre>");
    }
    o.push_str("</body></html>\n");
    o
}
