//! Subcommands of `drmsim` beyond validate/run: engine benchmark, XML canonicalisation,
//! reports and trace exports. Each returns the process exit code.

pub mod help;
pub mod tools;

/// Exit status when the reader of stdout went away (`drmsim … | head`): the status a shell
/// reports for a process ended by SIGPIPE (128 + 13), printed quietly.
pub const CLOSED_PIPE_EXIT: u8 = 141;
