//! errors

pub(super) const TEXTS: &[(&str, &str)] = &[
];
