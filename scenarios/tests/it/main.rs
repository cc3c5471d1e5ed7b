//! Integration tests of the scenarios crate.

mod scenarios_format;
