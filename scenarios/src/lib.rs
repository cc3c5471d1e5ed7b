//! drmsim scenarios.
