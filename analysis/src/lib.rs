//! drmsim analysis.
