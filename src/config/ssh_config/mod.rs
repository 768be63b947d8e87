//! A small reader for OpenSSH client configuration (`~/.ssh/config`).
//!
//! mtssh honours the subset of `ssh_config(5)` that decides *where* and *how*
//! it connects, using OpenSSH's own rules (checked against `ssh -G`):
//!
//! * Keywords are case-insensitive; `Key value`, `Key=value` and `Key = value`
//!   are accepted; arguments are split like OpenSSH does (double or single
//!   quotes, `\` escaping a quote, backslash or space, `#` starting a word
//!   begins a comment).
//! * `Host` patterns match the alias exactly as typed (case-sensitive, like
//!   OpenSSH), support `*` and `?`, and a matching `!pattern` vetoes the whole
//!   line. Commas are *not* separators on `Host` lines (OpenSSH treats
//!   `Host a,b` as one literal pattern).
//! * For single-valued options the first obtained value wins. `IdentityFile`
//!   accumulates across all matching blocks (duplicates dropped, as OpenSSH
//!   does); `UserKnownHostsFile` takes several files on one line and the first
//!   line that applies wins as a whole list.
//! * `Include` takes several paths with glob wildcards (`*`, `?`, `[...]`),
//!   `~/` and paths relative to `~/.ssh/`; files are read in lexical order, a
//!   missing file or a glob without matches is silently skipped (as in
//!   OpenSSH). An `Include` inside a `Host` block is conditional: the included
//!   file's lines belong to that block, and a `Host` line inside the included
//!   file only applies when the outer block matches too. Nesting deeper than
//!   [`MAX_INCLUDE_DEPTH`] (OpenSSH's limit), a file that includes itself (which OpenSSH
//!   follows until that limit) and more than [`MAX_INCLUDED_FILES`] included files make the
//!   configuration unusable ([`SshConfig::error`]), as OpenSSH refuses to run with it.
//! * The alias is what the user typed as the host: `web02` in `web02`, `me@web02`,
//!   `web02:2222`, `me@web02:2222`, a plain host file line, a `-J` hop, F6, and a host
//!   list entry's `host`. User and port given with it (or by flags and `[defaults]` above
//!   ssh_config) win over `User`/`Port`, as `ssh me@web02 -p 2222` does, and the HostName
//!   applies whatever the form ([`Query`]).
//! * `Match` follows OpenSSH's `match_cfg_line`: `all`, `host` (the HostName obtained so
//!   far, else the alias), `originalhost` (the alias), `user` (the remote user so far),
//!   `localuser`, `exec CMD` (run by the caller, see [`SshConfig::resolve_with`]),
//!   `canonical` and `final`, each negatable with `!`. A non-negated `Match final` makes
//!   a second pass once the host name is decided: in it `Host` lines match that name,
//!   `final` and `canonical` hold, and only options still unset take values (mtssh never
//!   canonicalizes, so `canonical` alone never matches, as in OpenSSH). A line mtssh cannot
//!   evaluate (`localnetwork`, `tagged`, a syntax error) is warned about once and its block
//!   never applies; an `Include` inside a `Match` block is conditional like one inside a
//!   `Host` block.
//! * `-o Key=value` options ([`SshConfig::with_command_line`]) come before the files, so
//!   each is the first value obtained; an invalid or unsupported one is an error.
//! * Values are validated at parse time; invalid ones are reported with
//!   `file:line` and ignored, where OpenSSH would refuse to run at all. Except where the
//!   value decides where to connect: an invalid `Port` (`0`, `70000`, `abc`), `HostName`
//!   (an unsupported token, two words) or `User` (two words) fails the hosts it is the
//!   first value for ([`HostConfig::error`]) instead of
//!   connecting somewhere the user did not mean; hosts it does not apply to are unaffected.
//! * Only the user configuration is read; `/etc/ssh/ssh_config` is not.
//!
//! Token expansion in `IdentityFile` and `UserKnownHostsFile`: `~`, `${VAR}`,
//! `%%`, `%d` (home), `%u` (local user), `%h` (target host name), `%r`
//! (remote user), `%p` (port), `%n` and `%k` (the alias; `HostKeyAlias` is not
//! supported). `HostName` accepts `%h` and `%%`, and is lowercased like OpenSSH
//! does. `%C`, `%i`, `%L`, `%l` and `~user/` are reported and the value ignored
//! rather than used with a half-expanded path.
//!
//! `ProxyCommand` is the rest of the line as written (not split into words; quotes and `#`
//! reach the shell), `none` meaning none. It and `ProxyJump` exclude each other: whichever
//! applies first wins (a `ProxyCommand` after `ProxyJump none` still applies), as `ssh -G`
//! shows. Its tokens are expanded by [`expand_proxy_command`] once the host is known.
//!
//! Directives that mtssh does not act on produce one warning per directive
//! name. A few are ignored silently because they do not change where or how a
//! connection is made in a way users rely on (see [`SILENT`]); others are
//! silent only when their value turns the feature off, e.g. `ForwardAgent no`
//! (see [`SILENT_WHEN_OFF`]). Keywords that
//! OpenSSH does not know either are reported too, unless an earlier
//! `IgnoreUnknown` pattern covers them.
//!
//! Connection options: `BatchMode` (never prompt), `HashKnownHosts` (learned hosts are
//! written `|1|salt|hash`), `ConnectionAttempts` (TCP connects one second apart),
//! `ServerAliveInterval` and `ServerAliveCountMax` (give up after that many unanswered
//! keepalives; `0` never gives up, where OpenSSH gives up after one silent interval),
//! `ConnectTimeout`, `KexAlgorithms`, `StrictHostKeyChecking`.
//!
//! Layout: `lexer` splits lines into words, `parser` turns them into blocks
//! (with `Include` handled in `include`, `Match` lines in `matching`), `keywords`
//! classifies directive names, `values` and `expand` check and expand option values,
//! `resolve` makes OpenSSH's passes for one host; this file holds the types.

mod expand;
mod include;
mod keywords;
mod lexer;
mod matching;
mod parser;
mod resolve;
mod values;

#[cfg(test)]
mod proxy_tests;
#[cfg(test)]
mod test_util;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::ssh::pattern;
pub use expand::{ProxyTokens, expand_proxy_command};
pub use keywords::{SILENT, SILENT_WHEN_OFF, supported_keywords};
use matching::MatchLine;
use parser::Parser;
pub use resolve::Query;

/// OpenSSH's own limit (`READCONF_MAX_DEPTH`).
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// Included files read for one configuration, at most: far above real configurations, and
/// it bounds the work of globs that include each other.
pub const MAX_INCLUDED_FILES: usize = 256;

/// Effective values for one host alias; `None`/empty means "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// Lowercased, with `%h` expanded, like OpenSSH.
    pub host_name: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    /// In order, duplicates removed, `~`/`${VAR}`/`%` tokens expanded.
    /// `none` is kept literally (OpenSSH does the same).
    pub identity_files: Vec<String>,
    pub identities_only: Option<bool>,
    /// Raw value; `Some("none")` means "explicitly no jump host".
    pub proxy_jump: Option<String>,
    /// The command as written, tokens unexpanded; `Some("none")`: explicitly none. Set only
    /// when no `ProxyJump` (other than `none`) came first.
    pub proxy_command: Option<String>,
    /// `ask` reads as strict: nobody can be asked in the middle of a run.
    pub strict_host_key_checking: Option<crate::ssh::HostKeyCheck>,
    /// Expanded; `["none"]` means "no user known-hosts file".
    pub user_known_hosts_files: Vec<String>,
    /// Seconds (OpenSSH time format such as `1m30s` is accepted).
    pub connect_timeout: Option<u64>,
    /// Seconds.
    pub server_alive_interval: Option<u64>,
    pub server_alive_count_max: Option<u32>,
    pub connection_attempts: Option<u32>,
    pub batch_mode: Option<bool>,
    pub hash_known_hosts: Option<bool>,
    /// As written (`+`/`-`/`^` prefixes kept); checked when read.
    pub kex_algorithms: Option<crate::ssh::algorithms::KexList>,
    /// Why this host must not be connected to: the value obtained for an option that
    /// decides where to connect (`Port`, `HostName`, `User`) is invalid. Names the file
    /// and line.
    pub error: Option<String>,
    /// Problems met while resolving (a `Match exec` command that could not run).
    pub warnings: Vec<String>,
}

/// Parsed blocks in file order with `Include`s expanded, plus warnings.
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    blocks: Vec<Block>,
    warnings: Vec<String>,
    /// Why the configuration cannot be used (see [`SshConfig::error`]).
    error: Option<String>,
    home: PathBuf,
}

#[derive(Debug, Clone)]
struct Block {
    /// All must match: the block's own `Host` or `Match` line plus those of the blocks
    /// that `Include`d it.
    conditions: Vec<Condition>,
    settings: Vec<Setting>,
}

#[derive(Debug, Clone)]
enum Condition {
    Host(HostLine),
    Match(MatchLine),
    /// A `Match` line mtssh cannot evaluate (warned about once): the block never applies.
    Never,
}

#[derive(Debug, Clone)]
struct HostLine {
    patterns: Vec<HostPattern>,
}

#[derive(Debug, Clone)]
struct HostPattern {
    negated: bool,
    pattern: String,
}

#[derive(Debug, Clone)]
enum Setting {
    HostName(String),
    User(String),
    Port(u16),
    /// An invalid `Port`, `HostName` or `User`, with the message that names it: the hosts
    /// it is the first value for fail instead of connecting elsewhere.
    Invalid(Place, String),
    IdentityFile(String),
    IdentitiesOnly(bool),
    ProxyJump(String),
    ProxyCommand(String),
    StrictHostKeyChecking(crate::ssh::HostKeyCheck),
    UserKnownHostsFiles(Vec<String>),
    ConnectTimeout(u64),
    ServerAliveInterval(u64),
    ServerAliveCountMax(u32),
    ConnectionAttempts(u32),
    BatchMode(bool),
    HashKnownHosts(bool),
    KexAlgorithms(crate::ssh::algorithms::KexList),
}

/// The options whose invalid values fail a host rather than being skipped: they decide
/// where, and as whom, to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    HostName,
    Port,
    User,
}

impl HostLine {
    fn matches(&self, alias: &str) -> bool {
        let alias = chars(alias);
        pattern::list_matches(self.patterns.iter().map(|p| {
            (
                p.negated,
                pattern::match_pattern(&chars(&p.pattern), &alias),
            )
        }))
    }
}

impl SshConfig {
    /// Parses `text` as if read from `path`; `Include`s are read from disk.
    /// Never fails: problems become [`SshConfig::warnings`].
    pub fn parse(text: &str, path: &Path, home: &Path) -> SshConfig {
        let mut parser = Parser::new(home);
        let key = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        parser.include_stack.push(key);
        parser.parse_text(text, path, &[], 0);
        parser.finish()
    }

    /// Reads `path` and its includes. A missing file yields an empty config;
    /// an unreadable one yields an empty config with a warning.
    pub fn load(path: &Path, home: &Path) -> SshConfig {
        match crate::sys::read_file_capped(path, crate::sys::MAX_CONFIG_FILE) {
            Ok(bytes) => Self::parse(&String::from_utf8_lossy(&bytes), path, home),
            Err(e) if e.kind() == ErrorKind::NotFound => SshConfig {
                home: home.to_path_buf(),
                ..SshConfig::default()
            },
            Err(e) => {
                let mut parser = Parser::new(home);
                let shown = parser.display(path);
                parser.warn(format!("{shown}: cannot read: {e}"));
                parser.finish()
            }
        }
    }

    /// Puts `-o Key=value` options (as `ssh -o` takes them) before everything the files
    /// say: OpenSSH reads them first, so each is the first value obtained. An option that
    /// is invalid, or that mtssh does not support, is an error naming it.
    pub fn with_command_line(mut self, options: &[String]) -> Result<SshConfig, String> {
        if options.is_empty() {
            return Ok(self);
        }
        let mut parser = Parser::new(&self.home);
        parser.start_block(Vec::new());
        for option in options {
            parser.command_line_option(option)?;
        }
        let mut front = parser.finish().blocks;
        front.append(&mut self.blocks);
        self.blocks = front;
        Ok(self)
    }

    /// Effective settings for `alias` (as typed by the user), for tests and fuzzing: no
    /// user or port from a spec, and `Match exec` never matches (no command is run).
    pub fn resolve(&self, alias: &str, local_user: &str) -> HostConfig {
        let query = Query {
            alias,
            user: None,
            port: None,
            local_user,
        };
        self.resolve_with(&query, &mut |_| Ok(false))
    }

    /// One entry per distinct problem, in the order found.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Why this configuration must not be used, as OpenSSH refuses it: Includes nested more
    /// than [`MAX_INCLUDE_DEPTH`] deep, a file that includes itself, or more than
    /// [`MAX_INCLUDED_FILES`] included files.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// Checks one `-o Key=value` option as `ssh -o` takes it (for the command line's parser).
pub fn check_command_line_option(option: &str) -> Result<String, String> {
    SshConfig::default().with_command_line(&[option.to_string()])?;
    Ok(option.to_string())
}

/// Patterns match per character, so `?` covers one character of a
/// non-ASCII alias.
fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

#[cfg(test)]
mod tests;
