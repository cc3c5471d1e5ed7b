//! drmsim scenarios: the TOML scenario format, its loader and validator, parameter sweeps,
//! the runner shell and the `drmsim` command line.
//!
//! The format reference is `docs/scenario-format.md`.
#![forbid(unsafe_code)]

pub mod assemble;
pub mod budget;
pub mod check;
pub mod cli;
pub mod describe;
pub mod dist;
pub mod error;
pub mod input;
pub mod keycache;
pub mod loader;
pub mod model;
pub mod preflight;
pub mod progress;
pub mod provenance;
pub mod rules;
pub mod runner;
pub mod spans;
pub mod sweep;
pub mod sweep_run;
pub mod trace_file;
pub mod units;
pub mod validate;
pub mod wording;

pub use error::{Location, ScenarioError};
pub use loader::{load_scenario, load_str};
pub use model::Scenario;
