//! chrome tests.
