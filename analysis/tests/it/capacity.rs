//! Capacity curves, knees and charts.

use analysis::{capacity_curves, draw_capacity_charts, AnalysisError, CapacityOptions, SweepRow};

fn row(config: &str, x: f64, seed: u64, p99: f64, rate: f64) -> SweepRow {
    SweepRow {
        config: config.into(),
        x,
        seed,
        p50_latency_ms: p99 / 3.0,
        p99_latency_ms: p99,
        completion_rate: rate,
    }
}

fn rows() -> Vec<SweepRow> {
    let mut v = Vec::new();
    // "1 RI": p99 10 ms at low load, 25 at x=300 (2.5×), 40 at x=400 (4× > 3×): knee 400.
    for (seed, d) in [(1u64, -1.0), (2, 0.0), (3, 1.0)] {
        for (x, p99) in [
            (100.0, 10.0),
            (200.0, 12.0),
            (300.0, 25.0),
            (400.0, 40.0),
            (500.0, 90.0),
        ] {
            v.push(row("1 RI", x, seed, p99 + d, 1.0));
        }
        // "2 RIs": latency flat, but completion drops below 99% at x=500.
        for (x, rate) in [
            (100.0, 1.0),
            (200.0, 1.0),
            (300.0, 0.995),
            (400.0, 0.992),
            (500.0, 0.95),
        ] {
            v.push(row("2 RIs", x, seed, 8.0 + d, rate));
        }
    }
    v
}

#[test]
fn knees_and_t_intervals() {
    let curves = capacity_curves(&rows(), &CapacityOptions::default()).unwrap();
    assert_eq!(curves.len(), 2);
    assert_eq!(curves[0].config, "1 RI");
    assert_eq!(curves[0].knee_x, Some(400.0));
    assert_eq!(curves[1].knee_x, Some(500.0));
    let p = &curves[0].points[0];
    assert_eq!(p.seeds, 3);
    // Samples 9, 10, 11: mean 10, s = 1, half-width t(2) · 1/√3 = 4.303/√3.
    assert_eq!(p.p99_latency_ms.mean, 10.0);
    assert!((p.p99_latency_ms.ci95 - 4.303 / 3f64.sqrt()).abs() < 1e-12);
    assert_eq!((p.p99_latency_ms.min, p.p99_latency_ms.max), (9.0, 11.0));
}

#[test]
fn capacity_charts_render_and_bad_input_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let rep = draw_capacity_charts(&rows(), dir.path()).unwrap();
    assert_eq!(rep.charts.len(), 3);
    let svg = std::fs::read_to_string(&rep.charts[0].svg).unwrap();
    assert!(svg.contains("<svg") && svg.contains("p99 latency vs Offered load or population"));
    // The legend panel names each configuration with its knee; the subtitle states how
    // failures enter, the seeds per point and the band.
    assert!(svg.contains("1 RI") && svg.contains("knee at 400"), "{svg}");
    assert!(svg.contains("failures and timeouts rank above all successes"));
    assert!(svg.contains("n = 3 seeds per point; band = 95% t-interval"));
    for c in &rep.charts {
        let png = std::fs::read(&c.png).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        assert!(png.len() > 10_000);
    }
    if let Ok(keep) = std::env::var("ANALYSIS_KEEP") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(
            &rep.charts[0].png,
            std::path::Path::new(&keep).join("capacity_p99.png"),
        )
        .unwrap();
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rep.json).unwrap()).unwrap();
    assert_eq!(json[0]["knee_x"], 400.0);
    assert!(matches!(
        draw_capacity_charts(&[], dir.path()),
        Err(AnalysisError::InvalidSweep(_))
    ));
    // A failed percentile (+inf) is drawn (on the top edge); NaN is refused.
    let mut failed = rows();
    failed[0].p99_latency_ms = f64::INFINITY;
    let rep = draw_capacity_charts(&failed, dir.path()).unwrap();
    assert!(rep.curves[0].points[0].p99_latency_ms.mean.is_infinite());
    let nan = vec![row("a", f64::NAN, 1, 1.0, 1.0)];
    assert!(matches!(
        draw_capacity_charts(&nan, dir.path()),
        Err(AnalysisError::InvalidSweep(_))
    ));
}
