//! capacity tests.
