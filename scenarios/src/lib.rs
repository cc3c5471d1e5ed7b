//! drmsim scenarios.

pub mod keycache;
