//! One self-contained HTML page for a whole sweep (`DIR/report.html`): what was swept, every
//! chart of `DIR/charts/` inlined as SVG, each configuration's knee, and the results table
//! (`DIR/results.csv`, one table row per results row). No external file, script or font is
//! referenced; every text taken from the sweep (names, axis values, cells) is escaped.

use crate::error::{AnalysisError, Result};
use crate::report::{esc, inline_svg};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Most results rows in the page's table; a larger sweep shows the first rows and says
/// how many there are (the complete table is `results.csv`).
pub const MAX_TABLE_ROWS: usize = 5_000;
/// Largest chart file inlined (plotters' capacity charts are tens of KB).
const MAX_CHART_BYTES: u64 = 8 << 20;
/// Largest `sweep.json` or `capacity.json` read.
const MAX_JSON_BYTES: u64 = 16 << 20;
/// Longest results line accepted (a row is a few KB).
const MAX_LINE_BYTES: usize = 1 << 20;
/// The capacity charts in the order the page shows them (others follow by name).
const CHART_ORDER: [&str; 3] = ["capacity_p99", "capacity_p50", "capacity_completion"];

/// What [`write_sweep_report`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepPage {
    /// `DIR/report.html`.
    pub path: PathBuf,
    /// Charts inlined (file stems, in page order).
    pub charts: Vec<String>,
    /// Results rows shown in the table.
    pub rows_shown: usize,
    /// Results rows in `results.csv`.
    pub rows_total: u64,
}

/// Reads at most `limit` bytes of `path`; `None` when it does not exist.
fn read_capped(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AnalysisError::io(path, e)),
    };
    let mut buf = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| AnalysisError::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(AnalysisError::io(
            path,
            std::io::Error::other(format!("larger than {limit} bytes")),
        ));
    }
    Ok(Some(buf))
}

fn read_json(path: &Path) -> Result<Option<serde_json::Value>> {
    match read_capped(path, MAX_JSON_BYTES)? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|source| AnalysisError::Json {
                path: path.to_path_buf(),
                source,
            }),
    }
}

/// Splits RFC 4180 CSV into records, reading further lines while a quoted field is open.
struct CsvRecords<R> {
    input: R,
    path: PathBuf,
}

impl<R: BufRead> CsvRecords<R> {
    fn next_record(&mut self) -> Result<Option<Vec<String>>> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = (&mut self.input)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_line(&mut line)
                .map_err(|e| AnalysisError::io(&self.path, e))?;
            if n > MAX_LINE_BYTES {
                return Err(AnalysisError::io(
                    &self.path,
                    std::io::Error::other(format!("a line longer than {MAX_LINE_BYTES} bytes")),
                ));
            }
            if n == 0 {
                return Ok((!text.is_empty()).then(|| split_csv(&text)));
            }
            text.push_str(&line);
            // An even number of quotes so far: the record is complete.
            if text.matches('"').count().is_multiple_of(2) {
                let record = text.trim_end_matches(['\n', '\r']);
                return Ok(Some(split_csv(record)));
            }
            if text.len() > 16 * MAX_LINE_BYTES {
                return Err(AnalysisError::io(
                    &self.path,
                    std::io::Error::other("an unterminated quoted field"),
                ));
            }
        }
    }
}

/// The fields of one CSV record (quotes removed, `""` unescaped).
fn split_csv(record: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

/// A chart file's SVG, or `None` when it holds anything a generated chart never does
/// (scripts, event handlers, links or external references): the page must stay inert and
/// self-contained whatever was put in `charts/`.
fn safe_svg(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("<svg") || lower.contains("javascript:") {
        return None;
    }
    for tag in lower.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        let mut words = tag.split_whitespace();
        let name = words.next().unwrap_or("").trim_start_matches('/');
        if matches!(
            name,
            "script" | "foreignobject" | "iframe" | "object" | "embed"
        ) {
            return None;
        }
        for w in words {
            let attr = w.split('=').next().unwrap_or("");
            if w.contains('=') && (attr.starts_with("on") || attr.contains("href")) {
                return None;
            }
        }
    }
    Some(text)
}

/// The SVG charts of `charts_dir`: the capacity charts first, then any other by name.
fn chart_files(charts_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut found: Vec<(String, PathBuf)> = match std::fs::read_dir(charts_dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "svg") && p.is_file())
            .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p)))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(AnalysisError::io(charts_dir, e)),
    };
    found.sort_by_key(|(stem, _)| {
        let rank = CHART_ORDER
            .iter()
            .position(|c| c == stem)
            .unwrap_or(CHART_ORDER.len());
        (rank, stem.clone())
    });
    Ok(found)
}

fn summary_rows(sweep: Option<&serde_json::Value>, rows_total: u64) -> Vec<(String, String)> {
    let get = |k: &str| {
        sweep
            .and_then(|s| s.get(k))
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                v => v.to_string(),
            })
            .unwrap_or_default()
    };
    let mut out = vec![
        ("scenario".to_string(), get("scenario")),
        ("sweep file".to_string(), get("source_file")),
        ("sweep file SHA-256".to_string(), get("source_sha256")),
        ("points".to_string(), get("total_points")),
        ("seeds per point".to_string(), get("seeds")),
        ("runs in the results".to_string(), rows_total.to_string()),
    ];
    let shard = get("shard");
    if !shard.is_empty() && shard != "null" {
        out.push(("shard".to_string(), shard));
    }
    out
}

/// The knees of `capacity.json`: (configuration, knee x or "none", seeds per point).
fn knee_rows(capacity: Option<&serde_json::Value>) -> Vec<[String; 3]> {
    let Some(curves) = capacity.and_then(|c| c.as_array()) else {
        return Vec::new();
    };
    curves
        .iter()
        .map(|c| {
            let config = c
                .get("config")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let knee = match c.get("knee_x") {
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => "none in range".to_string(),
            };
            let seeds: Vec<String> = c
                .get("points")
                .and_then(|p| p.as_array())
                .map(|ps| {
                    let mut s: Vec<String> = ps
                        .iter()
                        .filter_map(|p| p.get("seeds").map(|v| v.to_string()))
                        .collect();
                    s.dedup();
                    s
                })
                .unwrap_or_default();
            [config, knee, seeds.join("/")]
        })
        .collect()
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;\
max-width:1240px;color:#222;line-height:1.4}h1{font-size:1.6em}h2{font-size:1.25em;\
border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}table{border-collapse:\
collapse;margin:.6em 0;font-size:.85em}th,td{border:1px solid #ccc;padding:.2em .5em;\
text-align:right;white-space:nowrap}th{background:#f2f2f2}#results th{position:sticky;top:0}\
td:first-child,th:first-child{text-align:left}div.wide{overflow:auto;max-height:80vh}\
svg.chart{width:100%;height:auto;border:1px solid #ddd;margin:.6em 0}\
figure{margin:0}figcaption{font-size:.85em;color:#555}";

/// Writes `sweep_dir/report.html` from the sweep's `results.csv`, `sweep.json` and
/// `charts/` (every `*.svg`, the capacity charts first, and `capacity.json`'s knees).
/// Errors when `results.csv` is missing (the sweep is not complete) or unreadable.
pub fn write_sweep_report(sweep_dir: &Path) -> Result<SweepPage> {
    let csv_path = sweep_dir.join("results.csv");
    let csv = std::fs::File::open(&csv_path).map_err(|e| AnalysisError::io(&csv_path, e))?;
    let mut records = CsvRecords {
        input: BufReader::with_capacity(1 << 16, csv),
        path: csv_path.clone(),
    };
    let header = records.next_record()?.unwrap_or_default();
    let mut body = Vec::new();
    let mut rows_total = 0u64;
    while let Some(r) = records.next_record()? {
        rows_total += 1;
        if body.len() < MAX_TABLE_ROWS {
            body.push(r);
        }
    }
    let sweep = read_json(&sweep_dir.join("sweep.json"))?;
    let charts_dir = sweep_dir.join("charts");
    let capacity = read_json(&charts_dir.join("capacity.json"))?;

    let name = sweep
        .as_ref()
        .and_then(|s| s.get("scenario"))
        .and_then(|v| v.as_str())
        .unwrap_or("sweep");
    let title = format!("drmsim sweep report — {name}");
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n\
         <style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
        t = esc(&title)
    );

    o.push_str("<h2>Sweep</h2>\n<table>");
    for (k, v) in summary_rows(sweep.as_ref(), rows_total) {
        let _ = write!(o, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
    }
    o.push_str("</table>\n");

    o.push_str("<h2>Charts</h2>\n");
    let mut charts = Vec::new();
    for (stem, path) in chart_files(&charts_dir)? {
        let Some(bytes) = read_capped(&path, MAX_CHART_BYTES)? else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        match safe_svg(&text) {
            Some(svg) => {
                let _ = writeln!(
                    o,
                    "<figure>{}<figcaption>charts/{}.svg</figcaption></figure>",
                    inline_svg(svg),
                    esc(&stem)
                );
                charts.push(stem);
            }
            None => {
                let _ = writeln!(
                    o,
                    "<p>charts/{}.svg left out: not a chart drmsim draws.</p>",
                    esc(&stem)
                );
            }
        }
    }
    if charts.is_empty() {
        o.push_str("<p>No charts (no numeric axis, or the sweep ran with --no-charts).</p>\n");
    }
    o.push_str(
        "<p>Latency counts every outcome: a failure or timeout ranks above every success (it \
         never completed), so p99 rises when more than 1% of the runs fail. Each point is the \
         mean over its seeds; the band is the 95% t-interval over the seeds.</p>\n",
    );
    let knees = knee_rows(capacity.as_ref());
    if !knees.is_empty() {
        o.push_str(
            "<h3>Knees</h3>\n<p>First x where the mean p99 exceeds 3× its value at the lowest \
             x or the completion rate falls below 99%.</p>\n<table><tr><th>configuration</th>\
             <th>knee</th><th>seeds per point</th></tr>",
        );
        for [c, k, s] in &knees {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(c),
                esc(k),
                esc(s)
            );
        }
        o.push_str("</table>\n");
    }

    let _ = write!(
        o,
        "<h2>Results</h2>\n<p>results.csv: {rows_total} row(s){}. Columns are described in \
         docs/sweeps.md (\"Results columns\").</p>\n<div class=\"wide\"><table id=\"results\">\
         <thead><tr>",
        if (body.len() as u64) < rows_total {
            format!(", the first {} shown", body.len())
        } else {
            String::new()
        }
    );
    for h in &header {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for r in &body {
        o.push_str("<tr>");
        for c in r {
            let _ = write!(o, "<td>{}</td>", esc(c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table></div>\n</body></html>\n");

    // Through a temporary file and a rename: a reader never sees half a page.
    let path = sweep_dir.join("report.html");
    let part = sweep_dir.join("report.html.part");
    std::fs::write(&part, o).map_err(|e| AnalysisError::io(&part, e))?;
    std::fs::rename(&part, &path).map_err(|e| AnalysisError::io(&path, e))?;
    Ok(SweepPage {
        path,
        charts,
        rows_shown: body.len(),
        rows_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_quotes_commas_and_newlines_split_exactly() {
        let text = "a,\"b,c\",\"say \"\"hi\"\"\"\n\"two\nlines\",,x\n";
        let mut r = CsvRecords {
            input: text.as_bytes(),
            path: PathBuf::from("t.csv"),
        };
        assert_eq!(
            r.next_record().unwrap().unwrap(),
            vec!["a", "b,c", "say \"hi\""]
        );
        assert_eq!(
            r.next_record().unwrap().unwrap(),
            vec!["two\nlines", "", "x"]
        );
        assert_eq!(r.next_record().unwrap(), None);
    }

    #[test]
    fn only_inert_svg_is_inlined() {
        assert!(safe_svg("<svg><text>onion = 1</text></svg>").is_some());
        assert!(safe_svg("<svg><script>alert(1)</script></svg>").is_none());
        assert!(safe_svg("<svg onload=\"x()\"></svg>").is_none());
        assert!(safe_svg("<svg><image href=\"http://x/y.png\"/></svg>").is_none());
        assert!(safe_svg("not a chart").is_none());
    }
}
