//! Typed errors of the analysis crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading a trace or writing analysis outputs.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A trace line is not a valid trace record.
    #[error("trace line {line}: {message}")]
    Parse {
        /// 1-based line number.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// A trace line exceeds the line-length bound (hostile or corrupt input).
    #[error("trace line {line} is longer than {limit_bytes} bytes")]
    LineTooLong {
        /// 1-based line number.
        line: u64,
        /// The bound.
        limit_bytes: usize,
    },
    /// Drawing a chart failed.
    #[error("chart {chart}: {message}")]
    Chart {
        /// Chart file stem.
        chart: String,
        /// Backend message.
        message: String,
    },
    /// JSON (de)serialisation of an analysis output failed.
    #[error("{path}: {source}")]
    Json {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The requested actor never appears in the trace.
    #[error("actor {0} does not appear in the trace")]
    UnknownActor(u32),
    /// Capacity-chart input is unusable (empty, or non-finite values).
    #[error("invalid sweep rows: {0}")]
    InvalidSweep(String),
    /// An option value is out of range (e.g. `from` after `to`).
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

impl AnalysisError {
    /// Whether the operation cannot produce any output. Only chart errors are not fatal: a
    /// report can still be written without the chart that failed.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, AnalysisError::Chart { .. })
    }

    /// Wraps an IO error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AnalysisError::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a chart backend error.
    pub(crate) fn chart(chart: &str, e: impl std::fmt::Display) -> Self {
        AnalysisError::Chart {
            chart: chart.to_string(),
            message: e.to_string(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, AnalysisError>;
