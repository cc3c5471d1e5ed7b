//! msc tests.
