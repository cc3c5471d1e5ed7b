//! Shared helpers for the drmsim criterion benchmarks.
