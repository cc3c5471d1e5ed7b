//! drmsim analysis: streaming trace metrics, plotters charts, capacity charts for sweeps,
//! self-contained HTML reports, and Chrome-trace / message-sequence-chart exports.
//!
//! Definitions (metrics, percentile method, knee) are in `docs/analysis.md`.

mod buckets;
mod collect;
mod error;
mod metrics;
pub mod reader;
pub mod stats;

pub use collect::{analyze_reader, analyze_trace, compute_metrics, TraceAnalysis};
pub use error::{AnalysisError, Result};
pub use metrics::*;

mod charts;
mod style;

pub use charts::{draw_run_charts, RUN_CHARTS};
pub use style::{register_fonts, ChartFiles, FONT_FAMILY};
