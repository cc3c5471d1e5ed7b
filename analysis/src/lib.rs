//! drmsim analysis: streaming trace metrics, plotters charts, capacity charts for sweeps,
//! self-contained HTML reports, and Chrome-trace / message-sequence-chart exports.
//!
//! Definitions (metrics, percentile method, knee) are in `docs/analysis.md`.

#![warn(missing_docs)]

mod buckets;
mod collect;
mod error;
mod metrics;
pub mod reader;
pub mod stats;
pub mod trace_io;

pub use collect::{analyze_reader, analyze_trace, compute_metrics, TraceAnalysis};
pub use error::{AnalysisError, Result};
pub use metrics::*;

mod charts;
mod style;

pub use charts::{draw_run_charts, RUN_CHARTS};
pub use style::{register_fonts, ChartFiles, FONT_FAMILY};

mod capacity;

pub use capacity::{
    capacity_curves, draw_capacity_charts, draw_capacity_charts_with, CapacityCurve,
    CapacityOptions, CapacityPoint, CapacityReport, Estimate, SweepRow, LATENCY_BASIS_ALL_OUTCOMES,
};

mod integrity;
mod report;

pub mod sweep_report;
pub use integrity::{read_summary, verify_run_trace, TraceVerification, MAX_SUMMARY_BYTES};
pub use sweep_report::{write_sweep_report, SweepPage};

pub use report::{report, write_metrics_json, write_report, ReportPaths};

mod chrome;

pub use chrome::{export_chrome, export_chrome_to, ChromeOptions, ChromeStats};

mod msc;

pub use msc::{
    build_msc, export_msc, msc_mermaid, msc_svg, Fate, Msc, MscItem, MscOptions, MscPaths,
    Participant,
};

pub mod synth;
