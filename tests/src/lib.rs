//! Test harness crate: see tests/.
