//! The client side: one actor task per session on the one event loop.
//!
//! Front ends (the TUI, `mtssh run`) never touch russh directly: they spawn sessions through
//! [`Engine`] and talk to each one through its [`SessionHandle`] (input, resize, close) in and
//! [`SessionEvent`]s out.

pub mod algorithms;
mod auth;
mod connect;
pub mod engine;
pub mod error;
pub(crate) mod error_text;
pub mod events;
mod exec;
pub mod hostkeys;
pub mod input;
pub mod known_hosts;
mod local_chunks;
mod local_writer;
pub mod pattern;
mod proxy;
pub mod reconnect;
mod session;
pub mod sftp;
mod sftp_client;
pub mod shell_integration;
mod subsystem;
pub mod target;

pub use engine::{
    Dialer, Engine, EngineSettings, Resolver, SessionHandle, Stream, system_resolver,
};
pub use error::{OfferedKey, SessionError, TimeoutPhase};
pub use events::*;
pub use exec::ExecRequest;
pub use hostkeys::{KnownHostsStore, Verdict};
pub use input::{DEFAULT_INPUT_LIMIT, InputRefused, human_bytes};
pub use session::humantime;
pub use subsystem::SubsystemReply;
pub use target::{
    HostKeyCheck, HostKeyPolicy, ParseHostKeyCheckError, ProxyCommand, SubsystemChannel, Target,
    Work,
};
