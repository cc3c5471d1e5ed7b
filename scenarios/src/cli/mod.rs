//! Subcommands of `drmsim` beyond validate/run: engine benchmark, XML canonicalisation,
//! reports and trace exports. Each returns the process exit code.

pub mod explore;
pub mod help;
pub mod tools;
