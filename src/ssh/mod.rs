//! The client side: one actor task per session on the one event loop.
//!
//! Front ends (the TUI, `mtssh run`) never touch russh directly: they spawn sessions through
//! [`Engine`] and talk to each one with [`SessionCommand`]s in and [`SessionEvent`]s out.

pub mod events;

pub use events::*;
