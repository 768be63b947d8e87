//! The TOML host file: a `[defaults]` table and `[[hosts]]` entries.
//!
//! ```toml
//! [defaults]
//! user = "deploy"
//! connect_timeout = 10        # seconds, integer or float
//! host_key_check = "accept-new"
//!
//! [[hosts]]
//! name = "web[01-03]"
//! host = "10.0.0.[1-3]"
//! groups = ["web", "prod"]
//! ```
//!
//! # Ranges in `[[hosts]]`
//!
//! `name` may be a range; each expanded name becomes one [`HostEntry`].
//! `host` (default: the name) and `port` are then paired with the names:
//!
//! * a value that expands to one item is shared by every name;
//! * a value that expands to as many items as `name` pairs up element-wise
//!   (`name = "web[1-3]"`, `host = "10.0.0.[11-13]"`: web1 → 10.0.0.11, ...);
//! * any other count is an error.
//!
//! `port` is an integer, or a string holding a range such as `"2222-2225"`,
//! `"[2222-2225]"` or `"2222,2230"`. A `host` containing `:` is an IPv6
//! address, written bare or in brackets, and is never expanded.
//!
//! Paths are kept as written; `~` is expanded by the caller.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ConfigError;
use super::range::{MAX_EXPANSION, RangeError, expand};

mod build;
mod errors;
mod select;
#[cfg(test)]
mod tests;

pub use crate::ssh::reconnect::ReconnectMode;
pub use crate::ssh::shell_integration::ShellIntegration;
pub use crate::ssh::{HostKeyCheck, ParseHostKeyCheckError};
use build::Builder;
use errors::serde_error;
pub use select::{Inputs, Query, SelectError, Selection, select};

impl<'de> Deserialize<'de> for ShellIntegration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for ReconnectMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for HostKeyCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// `[defaults]`; every field is optional so the caller can layer these over
/// its own built-in defaults and under per-host values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Defaults {
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub connect_timeout: Option<Duration>,
    /// `None` when absent or 0: commands may run as long as they like.
    pub command_timeout: Option<Duration>,
    pub known_hosts: Option<PathBuf>,
    pub host_key_check: Option<HostKeyCheck>,
    /// Key-exchange algorithms, in ssh_config's KexAlgorithms syntax (checked when read).
    pub kex_algorithms: Option<crate::ssh::algorithms::KexList>,
    /// The jump chain of every host that names no route of its own.
    pub jump: Option<String>,
    /// The ProxyCommand (tokens checked, not expanded) of every host that names no route
    /// of its own; never set together with `jump`.
    pub proxy_command: Option<String>,
    /// A shell command printing `group: host...` lines, run once per invocation
    /// (`super::groups_command`).
    pub groups_command: Option<String>,
    /// The OSC 133 hook every host without its own setting gets in its shell.
    pub shell_integration: Option<ShellIntegration>,
    /// `reconnect = "auto"`: every host without its own setting tries again by itself after
    /// a lost connection (the TUI).
    pub reconnect: Option<ReconnectMode>,
    /// `reconnect_tries`: the cap on automatic tries in a row.
    pub reconnect_tries: Option<u32>,
    /// Lines of history each pane keeps (the TUI's `--scrollback`).
    pub scrollback: Option<usize>,
    /// MiB of history all panes keep together (the TUI's `--scrollback-memory`).
    pub scrollback_memory: Option<usize>,
}

/// One host after range expansion. Unset fields fall back to [`Defaults`].
#[derive(Clone, PartialEq)]
pub struct HostEntry {
    pub name: String,
    pub host: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub password: Option<String>,
    pub groups: Vec<String>,
    pub jump: Option<String>,
    /// A ProxyCommand, tokens checked but not expanded; never set together with `jump`.
    pub proxy_command: Option<String>,
    pub shell_integration: Option<ShellIntegration>,
    pub reconnect: Option<ReconnectMode>,
    pub reconnect_tries: Option<u32>,
}

impl HostEntry {
    /// A host given as `[user@]host[:port]` (on the command line, in a plain host file, as a
    /// jump host, by a `groups_command`), named as written.
    pub fn from_spec(spec: super::HostSpec) -> HostEntry {
        HostEntry {
            name: spec.to_string(),
            host: spec.host,
            port: spec.port,
            user: spec.user,
            identity_file: None,
            password_env: None,
            password: None,
            groups: Vec::new(),
            jump: None,
            proxy_command: None,
            shell_integration: None,
            reconnect: None,
            reconnect_tries: None,
        }
    }
}

impl fmt::Debug for HostEntry {
    // Hand-written so that logging an entry can never leak its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostEntry")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("identity_file", &self.identity_file)
            .field("password_env", &self.password_env)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("groups", &self.groups)
            .field("jump", &self.jump)
            .field("proxy_command", &self.proxy_command)
            .field("shell_integration", &self.shell_integration)
            .field("reconnect", &self.reconnect)
            .field("reconnect_tries", &self.reconnect_tries)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HostFile {
    pub defaults: Defaults,
    pub hosts: Vec<HostEntry>,
    /// Problems worth telling the user that do not stop the run, each
    /// already prefixed with `path:line:col:`.
    pub warnings: Vec<String>,
}

// Kept beside the raw structs below; a test checks they stay in sync.
const TOP_KEYS: &[&str] = &["defaults", "hosts"];
const DEFAULTS_KEYS: &[&str] = &[
    "user",
    "port",
    "identity_file",
    "password_env",
    "connect_timeout",
    "command_timeout",
    "known_hosts",
    "host_key_check",
    "kex_algorithms",
    "jump",
    "proxy_command",
    "groups_command",
    "shell_integration",
    "reconnect",
    "reconnect_tries",
    "scrollback",
    "scrollback_memory",
];
const HOST_KEYS: &[&str] = &[
    "name",
    "host",
    "port",
    "user",
    "identity_file",
    "password_env",
    "password",
    "groups",
    "jump",
    "proxy_command",
    "shell_integration",
    "reconnect",
    "reconnect_tries",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    hosts: Vec<RawHost>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    user: Option<NonEmpty>,
    port: Option<Port>,
    identity_file: Option<NonEmpty>,
    password_env: Option<NonEmpty>,
    connect_timeout: Option<Spanned<Seconds>>,
    command_timeout: Option<Seconds>,
    known_hosts: Option<NonEmpty>,
    host_key_check: Option<HostKeyCheck>,
    kex_algorithms: Option<Spanned<String>>,
    jump: Option<NonEmpty>,
    proxy_command: Option<Spanned<NonEmpty>>,
    groups_command: Option<NonEmpty>,
    shell_integration: Option<ShellIntegration>,
    reconnect: Option<ReconnectMode>,
    reconnect_tries: Option<u32>,
    scrollback: Option<usize>,
    scrollback_memory: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: Spanned<String>,
    host: Option<Spanned<String>>,
    port: Option<Spanned<PortSpec>>,
    user: Option<NonEmpty>,
    identity_file: Option<NonEmpty>,
    password_env: Option<NonEmpty>,
    password: Option<Spanned<String>>,
    #[serde(default)]
    groups: Vec<Spanned<NonEmpty>>,
    jump: Option<NonEmpty>,
    proxy_command: Option<Spanned<NonEmpty>>,
    shell_integration: Option<ShellIntegration>,
    reconnect: Option<ReconnectMode>,
    reconnect_tries: Option<u32>,
}

/// A string that must not be empty: an empty user or path is always a
/// mistake and would otherwise surface much later as an SSH failure.
struct NonEmpty(String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Err(de::Error::invalid_value(
                Unexpected::Str(""),
                &"a non-empty string",
            ));
        }
        Ok(NonEmpty(s))
    }
}

struct Port(u16);

fn port_from_int<E: de::Error>(v: i128, exp: &dyn de::Expected) -> Result<u16, E> {
    match u16::try_from(v) {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(match i64::try_from(v) {
            Ok(v) => E::invalid_value(Unexpected::Signed(v), exp),
            Err(_) => E::invalid_value(Unexpected::Other("a huge integer"), exp),
        }),
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number 1-65535")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Port, E> {
                port_from_int(v.into(), &self).map(Port)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Port, E> {
                port_from_int(v.into(), &self).map(Port)
            }
        }
        d.deserialize_any(V)
    }
}

enum PortSpec {
    One(u16),
    Range(String),
}

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PortSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number 1-65535 or a range string like \"2222-2225\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortSpec, E> {
                port_from_int(v.into(), &self).map(PortSpec::One)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortSpec, E> {
                port_from_int(v.into(), &self).map(PortSpec::One)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortSpec, E> {
                Ok(PortSpec::Range(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

struct Seconds(Duration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seconds (integer or float, not negative)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                u64::try_from(v)
                    .map(|s| Seconds(Duration::from_secs(s)))
                    .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                Ok(Seconds(Duration::from_secs(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                // Rejects negatives, NaN, infinities and overflow alike.
                Duration::try_from_secs_f64(v)
                    .map(Seconds)
                    .map_err(|_| E::invalid_value(Unexpected::Float(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses host-file text; `path` only labels errors and warnings.
pub fn parse_host_file(text: &str, path: &Path) -> Result<HostFile, ConfigError> {
    // A good file is parsed once. On an error the span-carrying tree is built to report it:
    // a syntax error at its position, or a serde error in the table it belongs to.
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let doc = DeTable::parse(text).map_err(|e| {
                let offset = e.span().map_or(0, |s| s.start);
                ConfigError::at(
                    path,
                    text,
                    offset,
                    format!("TOML syntax error: {}", e.message()),
                )
            })?;
            return Err(serde_error(&e, doc.get_ref(), text, path));
        }
    };
    Builder::new(text, path).build(raw)
}

/// Reads and parses a host file.
pub fn load_host_file(path: &Path) -> Result<HostFile, ConfigError> {
    let io = |err| ConfigError::Io {
        path: path.to_path_buf(),
        err,
    };
    let bytes = crate::sys::read_file_capped(path, crate::sys::MAX_CONFIG_FILE).map_err(io)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8 text",
        ))
    })?;
    parse_host_file(&text, path)
}
