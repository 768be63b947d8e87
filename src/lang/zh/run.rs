//! run

pub(super) const TEXTS: &[(&str, &str)] = &[
];
