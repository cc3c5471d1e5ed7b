//! charts tests.
