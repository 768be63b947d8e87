//! mtssh: many SSH sessions on one event loop.
//!
//! The binary (`main.rs`) is a thin shell over this library so that integration tests can
//! drive every front end and the mock server in-process.

pub mod app;
pub mod batch;
pub mod bench;
pub mod cli;
pub mod config;
pub mod front;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod lang;
#[cfg(test)]
mod layers;
pub mod logging;
pub mod manual;
pub mod mock;
pub mod modes;
pub mod serve;
pub mod ssh;
pub mod sys;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod test_support;
pub mod text;
pub mod tui;
pub mod ui;
