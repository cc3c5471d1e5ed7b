//! Run charts and the HTML report render real files.

use crate::fixtures::{write_trace, TINY};
use analysis::synth::{write_synthetic_trace, SynthConfig};
use analysis::{report, RUN_CHARTS};
use std::path::Path;

fn check_svg(p: &Path, title: &str) {
    let s = std::fs::read_to_string(p).unwrap();
    assert!(
        s.trim_start().starts_with("<svg") || s.trim_start().starts_with("<?xml"),
        "{p:?}"
    );
    assert!(s.contains("<svg"));
    assert!(s.contains(title), "{p:?} lacks title {title:?}");
    assert!(s.len() > 2000, "{p:?} is only {} bytes", s.len());
}

fn check_png(p: &Path) {
    let b = std::fs::read(p).unwrap();
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{p:?}");
    assert!(b.len() > 10_000, "{p:?} is only {} bytes", b.len());
}

const TITLES: [&str; 4] = [
    "Throughput and completions over time",
    "Protocol latency CDF",
    "Server utilisation and queue length",
    "Failed outcomes by status",
];

#[test]
fn report_of_tiny_trace_writes_everything() {
    let dir = tempfile::tempdir().unwrap();
    write_trace(dir.path(), TINY);
    std::fs::write(dir.path().join("summary.json"), r#"{"outcomes": 4}"#).unwrap();
    let paths = report(dir.path()).unwrap();
    assert_eq!(paths.charts.len(), RUN_CHARTS.len());
    for (c, title) in paths.charts.iter().zip(TITLES) {
        check_svg(&c.svg, title);
        check_png(&c.png);
    }
    let m: analysis::Metrics =
        serde_json::from_slice(&std::fs::read(&paths.metrics_json).unwrap()).unwrap();
    assert_eq!(m.message_totals.sent, 7);
    let html = std::fs::read_to_string(&paths.report_html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Self-contained: every chart inline, no external resources.
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
    assert_eq!(html.matches("viewBox=").count(), 4);
    for t in TITLES {
        assert!(html.contains(t), "report lacks {t}");
    }
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<img")
    );
    assert!(html.contains("ro_uniqueness"));
    assert!(html.contains("&quot;outcomes&quot;: 4"));
}

#[test]
fn report_of_synthetic_load_and_empty_trace() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        target_bytes: 2 << 20,
        ..SynthConfig::default()
    };
    write_synthetic_trace(&dir.path().join("trace.jsonl"), &cfg).unwrap();
    let paths = report(dir.path()).unwrap();
    for (c, title) in paths.charts.iter().zip(TITLES) {
        check_svg(&c.svg, title);
        check_png(&c.png);
    }
    // Keep a copy for eyeballing when ANALYSIS_KEEP is set.
    if let Ok(keep) = std::env::var("ANALYSIS_KEEP") {
        let keep = Path::new(&keep);
        std::fs::create_dir_all(keep).unwrap();
        for c in &paths.charts {
            std::fs::copy(&c.png, keep.join(c.png.file_name().unwrap())).unwrap();
            std::fs::copy(&c.svg, keep.join(c.svg.file_name().unwrap())).unwrap();
        }
        std::fs::copy(&paths.report_html, keep.join("report.html")).unwrap();
    }

    // A trace with no outcomes and no servers still renders (with "no data" panels).
    let empty = tempfile::tempdir().unwrap();
    write_trace(
        empty.path(),
        &[r#"{"t":0,"ev":"run_start","schema":1,"seed":1,"scenario":"empty","crypto":"real"}"#],
    );
    let paths = report(empty.path()).unwrap();
    let s = std::fs::read_to_string(&paths.charts[0].svg).unwrap();
    assert!(s.contains("No successful protocol outcomes"));
}

#[test]
fn report_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [&a, &b] {
        write_trace(d.path(), TINY);
        report(d.path()).unwrap();
    }
    for f in [
        "metrics.json",
        "report.html",
        "charts/servers.svg",
        "charts/failures.png",
    ] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f} differs between identical runs"
        );
    }
}
