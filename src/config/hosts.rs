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
use super::hostspec::split_top_level;
use super::range::{MAX_EXPANSION, RangeError, expand};
pub use crate::ssh::{HostKeyCheck, ParseHostKeyCheckError};

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
    pub kex_algorithms: Option<String>,
    /// Reserved for jump hosts; carried but not yet acted on.
    pub jump: Option<String>,
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
    Builder {
        text,
        path,
        warnings: Vec::new(),
        first_password: None,
        more_passwords: 0,
    }
    .build(raw)
}

/// Reads and parses a host file.
pub fn load_host_file(path: &Path) -> Result<HostFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Io {
        path: path.to_path_buf(),
        err,
    })?;
    parse_host_file(&text, path)
}

/// Where in the document an offset falls, for error messages.
struct Place {
    table: String,
    key: Option<String>,
    valid_keys: &'static [&'static str],
}

fn locate(doc: &DeTable<'_>, offset: usize) -> Option<Place> {
    let inside = |span: Range<usize>| span.start <= offset && offset < span.end.max(span.start + 1);
    let key_in = |table: &DeTable<'_>| {
        table
            .iter()
            .find(|(k, v)| inside(k.span()) || inside(v.span()))
            .map(|(k, _)| k.get_ref().to_string())
    };
    for (key, value) in doc.iter() {
        let (name, span) = (key.get_ref().as_ref(), value.span());
        match (name, value.get_ref()) {
            ("defaults", DeValue::Table(table)) => {
                if let Some(k) = key_in(table) {
                    return Some(Place {
                        table: "[defaults]".into(),
                        key: Some(k),
                        valid_keys: DEFAULTS_KEYS,
                    });
                }
            }
            ("hosts", DeValue::Array(entries)) => {
                for (i, entry) in entries.iter().enumerate() {
                    if let DeValue::Table(table) = entry.get_ref() {
                        let key = key_in(table);
                        if key.is_some() || inside(entry.span()) {
                            return Some(Place {
                                table: format!("[[hosts]] #{}", i + 1),
                                key,
                                valid_keys: HOST_KEYS,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
        if inside(key.span()) || inside(span) {
            return Some(Place {
                table: "the top level".into(),
                key: Some(name.to_owned()),
                valid_keys: TOP_KEYS,
            });
        }
    }
    None
}

fn serde_error(e: &toml::de::Error, doc: &DeTable<'_>, text: &str, path: &Path) -> ConfigError {
    let offset = e.span().map_or(0, |s| s.start);
    let place = locate(doc, offset);
    let msg = e.message().trim_end();
    let message = if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        let (table, valid) = place.as_ref().map_or(("this table", &[][..]), |p| {
            (p.table.as_str(), p.valid_keys)
        });
        match suggest(key, valid) {
            Some(s) => format!("unknown key `{key}` in {table}; did you mean `{s}`?"),
            None if valid.is_empty() => format!("unknown key `{key}` in {table}"),
            None => format!(
                "unknown key `{key}` in {table}; expected one of: {}",
                valid.join(", ")
            ),
        }
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        match &place {
            Some(p) => format!("missing required key `{key}` in {}", p.table),
            None => format!("missing required key `{key}`"),
        }
    } else {
        // serde speaks of sequences and maps; users wrote arrays and tables.
        let msg = msg
            .replace("a sequence", "an array")
            .replace("a map", "a table");
        match place {
            Some(Place {
                table,
                key: Some(key),
                ..
            }) => format!("bad value for `{key}` in {table}: {msg}"),
            Some(Place { table, .. }) => format!("{table}: {msg}"),
            None => msg,
        }
    };
    ConfigError::at(path, text, offset, message)
}

/// The valid key closest to `key`, if close enough to be a likely typo.
fn suggest(key: &str, valid: &[&'static str]) -> Option<&'static str> {
    let norm = key.to_ascii_lowercase().replace('-', "_");
    // A prefix (`identity` for `identity_file`) is a stronger hint than any
    // distance.
    if norm.len() >= 3
        && let Some(k) = valid.iter().find(|k| k.starts_with(&norm))
    {
        return Some(k);
    }
    // The reverse (`hostname` for `host`); the longest match is the most
    // specific.
    if let Some(k) = valid
        .iter()
        .filter(|k| k.len() >= 4 && norm.starts_with(**k))
        .max_by_key(|k| k.len())
    {
        return Some(k);
    }
    let limit = match norm.chars().count() {
        0..=3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    valid
        .iter()
        .map(|k| (edit_distance(&norm, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

struct Builder<'a> {
    text: &'a str,
    path: &'a Path,
    warnings: Vec<String>,
    /// The first entry storing a password in plain text, and how many more do: one warning
    /// for the file, not one per host.
    first_password: Option<String>,
    more_passwords: usize,
}

impl Builder<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.path, self.text, span.start, message)
    }

    fn build(mut self, raw: RawFile) -> Result<HostFile, ConfigError> {
        let defaults = self.defaults(raw.defaults)?;
        let mut hosts = Vec::new();
        // name -> (entry index, the entry's `name` as written, its span)
        let mut seen: HashMap<String, (usize, String, Range<usize>)> = HashMap::new();
        for (i, entry) in raw.hosts.into_iter().enumerate() {
            let label = format!("[[hosts]] #{}", i + 1);
            let name_pattern = entry.name.get_ref().clone();
            let name_span = entry.name.span();
            let expanded = self.host(&label, entry)?;
            // Each entry is capped by `expand`, but many entries could still
            // add up to an unreasonable fleet.
            if (hosts.len() + expanded.len()) as u64 > MAX_EXPANSION {
                return Err(self.err(
                    name_span,
                    format!("the host file defines more than {MAX_EXPANSION} hosts"),
                ));
            }
            for host in expanded {
                if let Some((j, first, first_span)) = seen.get(&host.name) {
                    let (line, _) = super::line_col(self.text, first_span.start);
                    let message = if *j == i {
                        format!(
                            "duplicate host name `{}`: `{name_pattern}` in {label} \
                             lists it more than once",
                            host.name
                        )
                    } else {
                        format!(
                            "duplicate host name `{}` from {label} (`{name_pattern}`); \
                             already defined by [[hosts]] #{} (`{first}`, line {line})",
                            host.name,
                            j + 1
                        )
                    };
                    return Err(self.err(name_span, message));
                }
                seen.insert(
                    host.name.clone(),
                    (i, name_pattern.clone(), name_span.clone()),
                );
                hosts.push(host);
            }
        }
        let mut warnings = self.warnings;
        match (self.first_password, self.more_passwords) {
            (Some(first), 0) => warnings.push(first),
            (Some(first), more) => {
                warnings.push(format!("{first} (and {more} more hosts in the same file)"))
            }
            (None, _) => {}
        }
        Ok(HostFile {
            defaults,
            hosts,
            warnings,
        })
    }

    fn defaults(&self, raw: RawDefaults) -> Result<Defaults, ConfigError> {
        let connect_timeout = match raw.connect_timeout {
            Some(t) if t.get_ref().0.is_zero() => {
                return Err(self.err(
                    t.span(),
                    "bad value for `connect_timeout` in [defaults]: must be greater than 0",
                ));
            }
            t => t.map(|t| t.into_inner().0),
        };
        if let Some(kex) = &raw.kex_algorithms {
            crate::ssh::algorithms::parse_kex(kex.get_ref()).map_err(|e| {
                self.err(
                    kex.span(),
                    format!("bad value for `kex_algorithms` in [defaults]: {e}"),
                )
            })?;
        }
        Ok(Defaults {
            user: raw.user.map(|s| s.0),
            port: raw.port.map(|p| p.0),
            identity_file: raw.identity_file.map(|s| PathBuf::from(s.0)),
            password_env: raw.password_env.map(|s| s.0),
            connect_timeout,
            command_timeout: raw.command_timeout.map(|t| t.0).filter(|d| !d.is_zero()),
            known_hosts: raw.known_hosts.map(|s| PathBuf::from(s.0)),
            host_key_check: raw.host_key_check,
            kex_algorithms: raw.kex_algorithms.map(|k| k.into_inner()),
            jump: raw.jump.map(|s| s.0),
        })
    }

    fn host(&mut self, label: &str, raw: RawHost) -> Result<Vec<HostEntry>, ConfigError> {
        let name_span = raw.name.span();
        let names = expand(raw.name.get_ref())
            .map_err(|e| self.err(name_span.clone(), format!("bad `name` in {label}: {e}")))?;
        let count = names.len();

        let hosts = match &raw.host {
            None => names.clone(),
            Some(host) => {
                let addrs = expand_host(host.get_ref())
                    .map_err(|e| self.err(host.span(), format!("bad `host` in {label}: {e}")))?;
                self.pair(label, "host", host.span(), addrs, count)?
            }
        };

        let ports = match &raw.port {
            None => vec![None; count],
            Some(port) => {
                let list = match port.get_ref() {
                    PortSpec::One(p) => vec![*p],
                    PortSpec::Range(s) => expand_ports(s).map_err(|e| {
                        self.err(port.span(), format!("bad `port` in {label}: {e}"))
                    })?,
                };
                self.pair(label, "port", port.span(), list, count)?
                    .into_iter()
                    .map(Some)
                    .collect()
            }
        };

        if let Some(password) = &raw.password {
            if self.first_password.is_some() {
                self.more_passwords += 1;
            } else {
                let (line, col) = super::line_col(self.text, password.span().start);
                self.first_password = Some(format!(
                    "{}:{line}:{col}: {label} stores a `password` in plain text; \
                     prefer `password_env` naming an environment variable that holds it",
                    self.path.display()
                ));
            }
        }

        let groups: Vec<String> = raw.groups.into_iter().map(|g| g.into_inner().0).collect();
        let user = raw.user.map(|s| s.0);
        let identity_file = raw.identity_file.map(|s| PathBuf::from(s.0));
        let password_env = raw.password_env.map(|s| s.0);
        let password = raw.password.map(Spanned::into_inner);
        let jump = raw.jump.map(|s| s.0);

        Ok(names
            .into_iter()
            .zip(hosts)
            .zip(ports)
            .map(|((name, host), port)| HostEntry {
                name,
                host,
                port,
                user: user.clone(),
                identity_file: identity_file.clone(),
                password_env: password_env.clone(),
                password: password.clone(),
                groups: groups.clone(),
                jump: jump.clone(),
            })
            .collect())
    }

    /// Applies the sharing/pairing rule from the module docs.
    fn pair<T: Clone>(
        &self,
        label: &str,
        key: &str,
        span: Range<usize>,
        values: Vec<T>,
        count: usize,
    ) -> Result<Vec<T>, ConfigError> {
        match values.as_slice() {
            [one] => Ok(vec![one.clone(); count]),
            _ if values.len() == count => Ok(values),
            _ => Err(self.err(
                span,
                format!(
                    "`{key}` in {label} expands to {} values but `name` expands to {count}; \
                     use a single value or a range of the same length",
                    values.len()
                ),
            )),
        }
    }
}

fn expand_host(host: &str) -> Result<Vec<String>, RangeError> {
    if host.contains(':') {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        return Ok(vec![bare.to_owned()]);
    }
    expand(host)
}

#[derive(Debug, thiserror::Error)]
enum PortRangeError {
    #[error(transparent)]
    Range(#[from] RangeError),
    #[error("`{0}` includes ports outside 1-65535")]
    OutOfRange(String),
}

fn expand_ports(s: &str) -> Result<Vec<u16>, PortRangeError> {
    let body = s
        .strip_prefix('[')
        .and_then(|b| b.strip_suffix(']'))
        .unwrap_or(s);
    let pattern = format!("[{body}]");
    expand(&pattern)?
        .into_iter()
        .map(|p| match p.parse::<u16>() {
            Ok(n) if n != 0 => Ok(n),
            _ => Err(PortRangeError::OutOfRange(s.to_owned())),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("unknown group `{group}`; known groups: {}", known_list(.known))]
    UnknownGroup { group: String, known: Vec<String> },
    #[error("bad -x pattern: {0}")]
    Exclude(#[from] RangeError),
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "(none defined)".to_owned()
    } else {
        known.join(", ")
    }
}

/// Picks the hosts a command runs on.
///
/// `groups` (from `-g`, each item possibly comma-separated) keeps hosts in
/// any listed group; empty means every host. `exclude` (from `-x`) drops
/// hosts whose name or address matches, with ranges allowed
/// (`web[02-03]`); exclusions matching nothing are ignored, as in pdsh.
pub fn select<'a>(
    hosts: &'a [HostEntry],
    groups: &[String],
    exclude: &[String],
) -> Result<Vec<&'a HostEntry>, SelectError> {
    let known: BTreeSet<&str> = hosts
        .iter()
        .flat_map(|h| h.groups.iter().map(String::as_str))
        .collect();
    let mut wanted = BTreeSet::new();
    for group in groups.iter().flat_map(|g| g.split(',')).map(str::trim) {
        if group.is_empty() {
            continue;
        }
        if !known.contains(group) {
            return Err(SelectError::UnknownGroup {
                group: group.to_owned(),
                known: known.iter().map(|g| (*g).to_owned()).collect(),
            });
        }
        wanted.insert(group);
    }

    let mut excluded = BTreeSet::new();
    for item in exclude.iter().flat_map(|x| split_top_level(x)) {
        let item = item.trim();
        if !item.is_empty() {
            excluded.extend(expand(item)?);
        }
    }

    Ok(hosts
        .iter()
        .filter(|h| wanted.is_empty() || h.groups.iter().any(|g| wanted.contains(g.as_str())))
        .filter(|h| !excluded.contains(&h.name) && !excluded.contains(&h.host))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<HostFile, ConfigError> {
        parse_host_file(text, Path::new("hosts.toml"))
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(f) => panic!("expected an error, got {f:?}"),
            Err(e) => e.to_string(),
        }
    }

    const FULL: &str = r#"
[defaults]
user = "test"
port = 22
identity_file = "~/.ssh/id_ed25519"
password_env = "MTSSH_PASSWORD"
connect_timeout = 2.5
command_timeout = 0
kex_algorithms = "^curve25519-sha256"
known_hosts = "~/.ssh/known_hosts"
host_key_check = "accept-new"
jump = "bastion"

[[hosts]]
name = "web[01-03]"
host = "10.0.0.[1-3]"
port = 2222
user = "deploy"
identity_file = "keys/web"
password_env = "WEB_PW"
groups = ["web", "prod"]
jump = "gw"

[[hosts]]
name = "db"
password = "hunter2"
groups = ["prod"]
"#;

    #[test]
    fn plain_text_passwords_give_one_warning_per_file() {
        let text = "[[hosts]]\nname = \"a\"\npassword = \"x\"\n[[hosts]]\nname = \"b\"\n\
                    [[hosts]]\nname = \"c\"\npassword = \"y\"\n[[hosts]]\nname = \"d\"\npassword = \"z\"\n";
        let f = parse(text).unwrap();
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(
            f.warnings[0].starts_with("hosts.toml:3:12: [[hosts]] #1 stores a `password`")
                && f.warnings[0].ends_with("(and 2 more hosts in the same file)"),
            "{}",
            f.warnings[0]
        );
    }

    #[test]
    fn parses_everything() {
        let f = parse(FULL).unwrap();
        assert_eq!(
            f.defaults,
            Defaults {
                user: Some("test".into()),
                port: Some(22),
                identity_file: Some("~/.ssh/id_ed25519".into()),
                password_env: Some("MTSSH_PASSWORD".into()),
                connect_timeout: Some(Duration::from_millis(2500)),
                command_timeout: None,
                known_hosts: Some("~/.ssh/known_hosts".into()),
                host_key_check: Some(HostKeyCheck::AcceptNew),
                kex_algorithms: Some("^curve25519-sha256".into()),
                jump: Some("bastion".into()),
            }
        );
        let pairs: Vec<(&str, &str, Option<u16>)> = f
            .hosts
            .iter()
            .map(|h| (h.name.as_str(), h.host.as_str(), h.port))
            .collect();
        assert_eq!(
            pairs,
            [
                ("web01", "10.0.0.1", Some(2222)),
                ("web02", "10.0.0.2", Some(2222)),
                ("web03", "10.0.0.3", Some(2222)),
                ("db", "db", None),
            ]
        );
        assert_eq!(f.hosts[1].groups, ["web", "prod"]);
        assert_eq!(f.hosts[1].identity_file, Some(PathBuf::from("keys/web")));
        assert_eq!(f.hosts[3].password.as_deref(), Some("hunter2"));
        insta::assert_snapshot!(f.warnings.join("\n"), @"hosts.toml:26:12: [[hosts]] #2 stores a `password` in plain text; prefer `password_env` naming an environment variable that holds it");
    }

    #[test]
    fn empty_file_is_empty() {
        let f = parse("").unwrap();
        assert_eq!(f.defaults, Defaults::default());
        assert!(f.hosts.is_empty() && f.warnings.is_empty());
    }

    #[test]
    fn debug_hides_password() {
        let f = parse(FULL).unwrap();
        let shown = format!("{:?}", f.hosts[3]);
        assert!(shown.contains(r#"password: Some("***")"#), "{shown}");
        assert!(!shown.contains("hunter2"));
        assert!(!format!("{f:?}").contains("hunter2"));
    }

    #[test]
    fn host_sharing_and_port_ranges() {
        let f = parse(
            r#"
[[hosts]]
name = "node[1-3]"
host = "gateway.example"
port = "[2221-2223]"

[[hosts]]
name = "v6"
host = "[fe80::1]"
port = "22"

[[hosts]]
name = "n[7-8]"
host = "h[1-2]"
port = "2200,2300"
"#,
        )
        .unwrap();
        let shown: Vec<String> = f
            .hosts
            .iter()
            .map(|h| format!("{} {} {:?}", h.name, h.host, h.port))
            .collect();
        insta::assert_snapshot!(shown.join("\n"), @r"
        node1 gateway.example Some(2221)
        node2 gateway.example Some(2222)
        node3 gateway.example Some(2223)
        v6 fe80::1 Some(22)
        n7 h1 Some(2200)
        n8 h2 Some(2300)
        ");
    }

    #[test]
    fn timeouts_accept_int_and_float() {
        let f = parse("[defaults]\nconnect_timeout = 3\ncommand_timeout = 1.5\n").unwrap();
        assert_eq!(f.defaults.connect_timeout, Some(Duration::from_secs(3)));
        assert_eq!(
            f.defaults.command_timeout,
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn host_key_check_round_trips() {
        for v in HostKeyCheck::ALL {
            assert_eq!(v.to_string().parse::<HostKeyCheck>(), Ok(v));
        }
        assert!("yes".parse::<HostKeyCheck>().is_err());
    }

    #[test]
    fn key_lists_match_structs() {
        // Every listed key must be accepted; serde rejects the rest.
        let mut text = String::from("[defaults]\n");
        for k in DEFAULTS_KEYS {
            let v = match *k {
                "port" | "connect_timeout" | "command_timeout" => "1",
                "host_key_check" => "\"off\"",
                "kex_algorithms" => "\"curve25519-sha256\"",
                _ => "\"x\"",
            };
            text.push_str(&format!("{k} = {v}\n"));
        }
        text.push_str("[[hosts]]\n");
        for k in HOST_KEYS {
            let v = match *k {
                "port" => "1",
                "groups" => "[\"g\"]",
                _ => "\"x\"",
            };
            text.push_str(&format!("{k} = {v}\n"));
        }
        parse(&text).unwrap();
        assert_eq!(TOP_KEYS, ["defaults", "hosts"]);
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("usr", HOST_KEYS), Some("user"));
        assert_eq!(suggest("identity", HOST_KEYS), Some("identity_file"));
        assert_eq!(
            suggest("Host-Key-Check", DEFAULTS_KEYS),
            Some("host_key_check")
        );
        assert_eq!(suggest("groupz", HOST_KEYS), Some("groups"));
        assert_eq!(suggest("colour", HOST_KEYS), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn error_unknown_key_with_suggestion() {
        insta::assert_snapshot!(err("[defaults]\nusr = \"x\"\n"));
        insta::assert_snapshot!(err(
            "[[hosts]]\nname = \"a\"\n\n[[hosts]]\nname = \"b\"\n  hostname = \"x\"\n"
        ));
        insta::assert_snapshot!(err("[default]\nuser = \"x\"\n"));
        insta::assert_snapshot!(err(
            "hosts = [{ name = \"a\" }, { name = \"b\", identity = \"k\" }]\n"
        ));
    }

    #[test]
    fn error_unknown_key_without_suggestion() {
        insta::assert_snapshot!(err("[defaults]\ncolour = \"blue\"\n"));
    }

    #[test]
    fn error_wrong_type() {
        insta::assert_snapshot!(err("[defaults]\nport = \"22\"\n"));
        insta::assert_snapshot!(err("[[hosts]]\nname = \"a\"\ngroups = \"web\"\n"));
        insta::assert_snapshot!(err("[defaults]\nconnect_timeout = -1\n"));
        insta::assert_snapshot!(err("[[hosts]]\nname = \"a\"\nport = 70000\n"));
        insta::assert_snapshot!(err("hosts = 3\n"));
    }

    #[test]
    fn error_bad_range() {
        insta::assert_snapshot!(err("[[hosts]]\nname = \"web[03-01]\"\n"));
        insta::assert_snapshot!(err("[[hosts]]\nname = \"web[1-3]\"\nhost = \"h[1-2]\"\n"));
        insta::assert_snapshot!(err(
            "[[hosts]]\nname = \"web[1-2]\"\nport = \"2222-99999\"\n"
        ));
    }

    #[test]
    fn error_duplicate_name() {
        insta::assert_snapshot!(err(
            "[[hosts]]\nname = \"web[01-03]\"\n\n[[hosts]]\nname = \"db\"\n\n[[hosts]]\nname = \"web02\"\n"
        ));
        insta::assert_snapshot!(err("[[hosts]]\nname = \"n[1,1]\"\n"));
    }

    #[test]
    fn error_unknown_host_key_check() {
        insta::assert_snapshot!(err("[defaults]\nhost_key_check = \"yes\"\n"));
    }

    #[test]
    fn error_toml_syntax() {
        insta::assert_snapshot!(err("[defaults]\nuser = \"unterminated\n"));
        insta::assert_snapshot!(err("[[hosts]]\nname = \"a\"\nname = \"b\"\n"));
    }

    #[test]
    fn error_missing_and_misc() {
        insta::assert_snapshot!(err("[[hosts]]\nhost = \"a\"\n"));
        insta::assert_snapshot!(err("[defaults]\nconnect_timeout = 0\n"));
        insta::assert_snapshot!(err("[defaults]\nuser = \"\"\n"));
    }

    #[test]
    fn never_panics_on_garbage() {
        let alphabet: Vec<char> = "[]{}=\"'#,.-_:@ \n\t0123456789abnmehostpruwgdfé\\"
            .chars()
            .collect();
        let mut state: u64 = 7;
        for _ in 0..3000 {
            let mut text = String::new();
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            let len = (state >> 58) as usize;
            for _ in 0..len {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                text.push(alphabet[((state >> 33) % alphabet.len() as u64) as usize]);
            }
            let _ = parse(&text);
            let _ = parse(&format!(
                "[[hosts]]\nname = \"{}\"\n",
                text.replace(['"', '\\', '\n'], "")
            ));
            let _ = expand(&text);
            let _ = super::super::hostspec::parse_host_list_arg(&text);
            let _ = super::super::hostspec::parse_plain_host_file(&text, Path::new("p"));
        }
    }

    #[test]
    fn io_error_names_path() {
        let e = load_host_file(Path::new("/nonexistent/mtssh/hosts.toml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/mtssh/hosts.toml: cannot read:"),
            "{e}"
        );
    }

    fn names(v: &[&HostEntry]) -> Vec<String> {
        v.iter().map(|h| h.name.clone()).collect()
    }

    #[test]
    fn selection() {
        let f = parse(FULL).unwrap();
        let s = |g: &[&str], x: &[&str]| {
            let g: Vec<String> = g.iter().map(|s| s.to_string()).collect();
            let x: Vec<String> = x.iter().map(|s| s.to_string()).collect();
            select(&f.hosts, &g, &x)
        };
        assert_eq!(
            names(&s(&[], &[]).unwrap()),
            ["web01", "web02", "web03", "db"]
        );
        assert_eq!(
            names(&s(&["web"], &[]).unwrap()),
            ["web01", "web02", "web03"]
        );
        assert_eq!(names(&s(&["web,prod"], &[]).unwrap()).len(), 4);
        assert_eq!(names(&s(&[], &["web[02-03],db"]).unwrap()), ["web01"]);
        assert_eq!(
            names(&s(&["prod"], &["10.0.0.1"]).unwrap()),
            ["web02", "web03", "db"]
        );
        assert_eq!(
            s(&["nope"], &[]).unwrap_err().to_string(),
            "unknown group `nope`; known groups: prod, web"
        );
        assert!(matches!(
            s(&[], &["web[2-1]"]),
            Err(SelectError::Exclude(_))
        ));
    }
}
