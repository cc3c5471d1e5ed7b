//! Message sequence chart of agent/1 in the tiny trace.

use crate::fixtures::{write_trace, TINY};
use analysis::{build_msc, export_msc, msc_mermaid, AnalysisError, MscOptions};

const EXPECTED: &str = "sequenceDiagram
    participant A1 as agent/1
    participant A10 as ri/0
    participant A20 as dea/0
    A1->>A10: [1.000 ms] roap:registrationRequest (500 B)
    A1->>A10: [2.000 ms] roap:roRequest (400 B)
    A10->>A1: [4.000 ms] roap:registrationResponse (800 B)
    Note over A1: [5.000 ms] registration: success after 4.000 ms
    A10->>A1: [6.000 ms] roap:roResponse (1000 B)
    A10-xA1: [6.000 ms] duplicate roap:roResponse dropped: partition
    Note over A1: [8.000 ms] ro_acquisition: success after 6.000 ms
    A1-xA20: [8.000 ms] dea:joinDomainRequest (300 B) dropped: no_route
    Note over A1: [9.500 ms] join_domain: abandoned after 1.500 ms
";

#[test]
fn mermaid_of_agent_1_matches_hand_written() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path(), TINY);
    let msc = build_msc(&trace, &MscOptions::new(1)).unwrap();
    assert_eq!(msc_mermaid(&msc), EXPECTED);
}

#[test]
fn window_svg_and_unknown_actor() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path(), TINY);
    let opts = MscOptions {
        from_ns: Some(5_000_000),
        to_ns: Some(7_000_000),
        ..MscOptions::new(2)
    };
    let msc = build_msc(&trace, &opts).unwrap();
    assert_eq!(
        msc_mermaid(&msc),
        "sequenceDiagram
    participant A2 as agent/2
    participant A10 as ri/0
    A10-xA2: [5.000 ms] roap:roResponse (1000 B) dropped: loss
"
    );
    let paths = export_msc(dir.path(), &MscOptions::new(1)).unwrap();
    let svg = std::fs::read_to_string(&paths.svg).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("roap:registrationRequest (500 B)"));
    assert!(svg.contains("dropped: no_route"));
    assert!(std::fs::read_to_string(&paths.mermaid)
        .unwrap()
        .starts_with("sequenceDiagram"));
    assert!(matches!(
        build_msc(&trace, &MscOptions::new(99)),
        Err(AnalysisError::UnknownActor(99))
    ));
    let mut small = MscOptions::new(1);
    small.max_items = 2;
    let m = build_msc(&trace, &small).unwrap();
    assert_eq!((m.items.len(), m.omitted), (2, 7));
}
