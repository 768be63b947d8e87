//! The Chinese texts, keyed by their English (see the glossary in `lang.rs`). One file per
//! part of the program, so features added side by side add rows in different places.

mod bench;
mod config;
mod errors;
mod events;
mod help;
mod record;
mod run;
mod transfer;
mod tui;

/// Every table; a key appears in one only (a test checks).
pub(super) const TABLES: &[&[(&str, &str)]] = &[
    tui::TEXTS,
    help::TEXTS,
    run::TEXTS,
    bench::TEXTS,
    config::TEXTS,
    errors::TEXTS,
    events::TEXTS,
    record::TEXTS,
    transfer::TEXTS,
];
