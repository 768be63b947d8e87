//! bench

pub(super) const TEXTS: &[(&str, &str)] = &[
];
