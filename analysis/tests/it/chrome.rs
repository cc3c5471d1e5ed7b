//! Chrome Trace Event export of the tiny trace.

use crate::fixtures::{write_trace, TINY};
use analysis::{export_chrome, export_chrome_to, AnalysisError, ChromeOptions};
use serde_json::Value;

fn events(v: &Value) -> &Vec<Value> {
    v["traceEvents"].as_array().unwrap()
}

fn count(v: &Value, f: impl Fn(&Value) -> bool) -> usize {
    events(v).iter().filter(|e| f(e)).count()
}

#[test]
fn chrome_export_has_tracks_spans_and_flows() {
    let dir = tempfile::tempdir().unwrap();
    write_trace(dir.path(), TINY);
    let out = export_chrome(dir.path(), &ChromeOptions::default()).unwrap();
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["displayTimeUnit"], "ns");
    // One process per actor (5) plus the run process.
    assert_eq!(
        count(&v, |e| e["ph"] == "M" && e["name"] == "process_name"),
        6
    );
    assert!(events(&v).iter().any(|e| e["name"] == "process_name"
        && e["pid"] == 11
        && e["args"]["name"] == "ri/0 (ri, actor 10)"));
    // Flows: one start per send (7), one finish per delivery (5).
    assert_eq!(count(&v, |e| e["ph"] == "s"), 7);
    assert_eq!(count(&v, |e| e["ph"] == "f" && e["bp"] == "e"), 5);
    // Service spans: msg 100 [2,4) ms on worker 0, 101 [2.5,5) on worker 1, 102 [4,6) on worker 0.
    let svc: Vec<(f64, f64, u64)> = events(&v)
        .iter()
        .filter(|e| e["cat"] == "server")
        .map(|e| {
            (
                e["ts"].as_f64().unwrap(),
                e["dur"].as_f64().unwrap(),
                e["tid"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        svc,
        vec![
            (2000.0, 2000.0, 1),
            (2500.0, 2500.0, 2),
            (4000.0, 2000.0, 1)
        ]
    );
    // Sessions: 4 outcomes; agent/1's registration is [1, 5) ms.
    let sessions: Vec<&Value> = events(&v)
        .iter()
        .filter(|e| e["cat"] == "session")
        .collect();
    assert_eq!(sessions.len(), 4);
    assert_eq!(sessions[0]["name"], "registration");
    assert_eq!(
        (sessions[0]["ts"].as_f64(), sessions[0]["dur"].as_f64()),
        (Some(1000.0), Some(4000.0))
    );
    assert_eq!(sessions[0]["pid"], 2);
    // Agent/1's ro_acquisition [2, 8) overlaps its registration [1, 5): second session track.
    assert_eq!(sessions[1]["tid"], 1001);
    assert_eq!(sessions[0]["tid"], 1000);
    // Drops, attacks and the violation are instants.
    assert_eq!(count(&v, |e| e["cat"] == "drop"), 3);
    assert_eq!(count(&v, |e| e["cat"] == "attack"), 2);
    assert_eq!(count(&v, |e| e["cat"] == "violation" && e["s"] == "g"), 1);
}

#[test]
fn chrome_window_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path(), TINY);
    let out = dir.path().join("w.json");
    let opts = ChromeOptions {
        from_ns: Some(5_000_000),
        to_ns: Some(6_000_000),
        no_messages: false,
    };
    let st = export_chrome_to(&trace, &out, &opts).unwrap();
    // Sends at 5 and 6 ms: 201, 202.
    assert_eq!(st.flows, 2);
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(events(&v).iter().all(|e| e["ph"] == "M"
        || e["cat"] == "server"
        || e["cat"] == "session"
        || (e["ts"].as_f64().unwrap() >= 5000.0 && e["ts"].as_f64().unwrap() <= 6000.0)));
    let bad = ChromeOptions {
        from_ns: Some(2),
        to_ns: Some(1),
        no_messages: true,
    };
    assert!(matches!(
        export_chrome_to(&trace, &out, &bad),
        Err(AnalysisError::InvalidOption(_))
    ));
}

#[test]
fn chrome_flows_match_metrics_on_synthetic_load() {
    use analysis::synth::{write_synthetic_trace, SynthConfig};
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    write_synthetic_trace(
        &trace,
        &SynthConfig {
            target_bytes: 1 << 20,
            ..SynthConfig::default()
        },
    )
    .unwrap();
    let m = analysis::compute_metrics(&trace).unwrap();
    let out = dir.path().join("c.json");
    let st = export_chrome_to(&trace, &out, &ChromeOptions::default()).unwrap();
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(st.flows, m.message_totals.sent);
    assert_eq!(count(&v, |e| e["ph"] == "s") as u64, m.message_totals.sent);
    assert_eq!(
        count(&v, |e| e["ph"] == "f") as u64,
        m.message_totals.delivered
    );
    let outcomes: u64 = m.protocols.values().map(|p| p.outcomes).sum();
    assert_eq!(st.session_spans, outcomes);
    // Service spans never overlap on one worker track.
    let mut spans: Vec<(u64, u64, f64, f64)> = events(&v)
        .iter()
        .filter(|e| e["cat"] == "server")
        .map(|e| {
            let ts = e["ts"].as_f64().unwrap();
            (
                e["pid"].as_u64().unwrap(),
                e["tid"].as_u64().unwrap(),
                ts,
                ts + e["dur"].as_f64().unwrap(),
            )
        })
        .collect();
    spans.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
    for w in spans.windows(2) {
        if (w[0].0, w[0].1) == (w[1].0, w[1].1) {
            assert!(w[0].3 <= w[1].2 + 1e-6, "overlap on one track: {w:?}");
        }
    }
    let services: u64 = m.servers.by_actor.values().map(|s| s.services).sum();
    assert!(spans.len() as u64 <= services && spans.len() as u64 + 64 >= services);
}
