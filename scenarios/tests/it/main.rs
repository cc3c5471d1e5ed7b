//! scenarios integration tests: one binary, one module per area.

mod check;
mod error_wording;
mod key_cache;
mod results_trust;
mod rules;
mod scale;
mod scenarios_bundled;
mod scenarios_cli;
mod scenarios_errors;
mod scenarios_sweep;
mod sweep_report;
mod sweep_reuse;
mod sweep_run;
mod validate_limits;
