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
//!   [`MAX_INCLUDE_DEPTH`] and include cycles are reported and skipped.
//! * `Match` blocks are not supported: each one produces a single warning and
//!   everything up to the next `Host` line (or the end of the file it is in)
//!   is ignored, including `Include` lines.
//! * Values are validated at parse time; invalid ones are reported with
//!   `file:line` and ignored, where OpenSSH would refuse to run at all.
//! * Only the user configuration is read; `/etc/ssh/ssh_config` is not.
//!
//! Token expansion in `IdentityFile` and `UserKnownHostsFile`: `~`, `${VAR}`,
//! `%%`, `%d` (home), `%u` (local user), `%h` (target host name), `%r`
//! (remote user), `%p` (port), `%n` and `%k` (the alias; `HostKeyAlias` is not
//! supported). `HostName` accepts `%h` and `%%`, and is lowercased like OpenSSH
//! does. `%C`, `%i`, `%L`, `%l` and `~user/` are reported and the value ignored
//! rather than used with a half-expanded path.
//!
//! Directives that mtssh does not act on produce one warning per directive
//! name. A few are ignored silently because they do not change where or how a
//! connection is made in a way users rely on (see [`SILENT`]); others are
//! silent only when their value turns the feature off, e.g. `ForwardAgent no`
//! (see [`SILENT_WHEN_OFF`]). `ProxyCommand` always warns. Keywords that
//! OpenSSH does not know either are reported too, unless an earlier
//! `IgnoreUnknown` pattern covers them.

use std::collections::HashSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// OpenSSH's own limit (`READCONF_MAX_DEPTH`).
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// Directives mtssh ignores without a warning: logging, cosmetics, agent and
/// keep-alive tuning, host-key bookkeeping that only matters to OpenSSH's own
/// known_hosts handling, locale forwarding (`SendEnv LANG LC_*` is in almost
/// every Debian-derived config and servers usually refuse it anyway), options
/// OpenSSH itself has deprecated, and Apple's `UseKeychain`.
pub const SILENT: &[&str] = &[
    "AddKeysToAgent",
    "UseKeychain",
    "ServerAliveCountMax",
    "TCPKeepAlive",
    "Compression",
    "CompressionLevel",
    "ConnectionAttempts",
    "LogLevel",
    "LogVerbose",
    "SyslogFacility",
    "HashKnownHosts",
    "CheckHostIP",
    "UpdateHostKeys",
    "VisualHostKey",
    "FingerprintHash",
    "SendEnv",
    "EscapeChar",
    "EnableEscapeCommandline",
    "NumberOfPasswordPrompts",
    "ObscureKeystrokeTiming",
    "IPQoS",
    "RekeyLimit",
    "ChannelTimeout",
    "ForwardX11Timeout",
    "XAuthLocation",
    "StreamLocalBindMask",
    "StreamLocalBindUnlink",
    "Tag",
    "Protocol",
    "Cipher",
    "UseRoaming",
    "RSAAuthentication",
    "RhostsRSAAuthentication",
    "FallBackToRsh",
    "UseRsh",
    "UsePrivilegedPort",
];

/// Directives that are silent when their value is `no`, `false` or `none`,
/// because that is what mtssh does anyway; any other value warns.
pub const SILENT_WHEN_OFF: &[&str] = &[
    "BatchMode",
    "CanonicalizeHostname",
    "ChallengeResponseAuthentication",
    "ClearAllForwardings",
    "ControlMaster",
    "ControlPath",
    "ControlPersist",
    "EnableSSHKeysign",
    "ExitOnForwardFailure",
    "ForkAfterAuthentication",
    "ForwardAgent",
    "ForwardX11",
    "ForwardX11Trusted",
    "GSSAPIAuthentication",
    "GSSAPIDelegateCredentials",
    "GSSAPIKeyExchange",
    "GSSAPITrustDns",
    "HostbasedAuthentication",
    "KbdInteractiveAuthentication",
    "KnownHostsCommand",
    "LocalCommand",
    "PasswordAuthentication",
    "PermitLocalCommand",
    "ProxyUseFdpass",
    "RemoteCommand",
    "RequestTTY",
    "StdinNull",
    "Tunnel",
];

/// Every other client keyword OpenSSH knows; used so a warning can tell
/// "not supported by mtssh" apart from "not an ssh_config keyword at all".
const UNSUPPORTED: &[&str] = &[
    "AddressFamily",
    "BindAddress",
    "BindInterface",
    "CanonicalDomains",
    "CanonicalizeFallbackLocal",
    "CanonicalizeMaxDots",
    "CanonicalizePermittedCNAMEs",
    "CASignatureAlgorithms",
    "CertificateFile",
    "Ciphers",
    "DynamicForward",
    "GatewayPorts",
    "GlobalKnownHostsFile",
    "GSSAPIClientIdentity",
    "GSSAPIKexAlgorithms",
    "GSSAPIRenewalForcesRekey",
    "GSSAPIServerIdentity",
    "HostbasedAcceptedAlgorithms",
    "HostbasedKeyTypes",
    "HostKeyAlgorithms",
    "HostKeyAlias",
    "IdentityAgent",
    "KbdInteractiveDevices",
    "LocalForward",
    "MACs",
    "NoHostAuthenticationForLocalhost",
    "PermitRemoteOpen",
    "PKCS11Provider",
    "PreferredAuthentications",
    "ProxyCommand",
    "PubkeyAcceptedAlgorithms",
    "PubkeyAcceptedKeyTypes",
    "PubkeyAuthentication",
    "RemoteForward",
    "RequiredRSASize",
    "RevokedHostKeys",
    "SecurityKeyProvider",
    "SessionType",
    "SetEnv",
    "TunnelDevice",
    "VerifyHostKeyDNS",
];

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
    /// Lowercased; one of yes/no/ask/accept-new/off/true/false.
    pub strict_host_key_checking: Option<String>,
    /// Expanded; `["none"]` means "no user known-hosts file".
    pub user_known_hosts_files: Vec<String>,
    /// Seconds (OpenSSH time format such as `1m30s` is accepted).
    pub connect_timeout: Option<u64>,
    /// Seconds.
    pub server_alive_interval: Option<u64>,
    /// As written (`+`/`-`/`^` prefixes kept); checked when read.
    pub kex_algorithms: Option<String>,
}

/// Parsed blocks in file order with `Include`s expanded, plus warnings.
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    blocks: Vec<Block>,
    warnings: Vec<String>,
    home: PathBuf,
}

#[derive(Debug, Clone)]
struct Block {
    /// All must match: the block's own `Host` line plus those of the blocks
    /// that `Include`d it.
    conditions: Vec<HostLine>,
    settings: Vec<Setting>,
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
    IdentityFile(String),
    IdentitiesOnly(bool),
    ProxyJump(String),
    StrictHostKeyChecking(String),
    UserKnownHostsFiles(Vec<String>),
    ConnectTimeout(u64),
    ServerAliveInterval(u64),
    KexAlgorithms(String),
}

impl HostLine {
    fn matches(&self, alias: &str) -> bool {
        let mut positive = false;
        for p in &self.patterns {
            if wildcard_match(&p.pattern, alias, false) {
                if p.negated {
                    return false;
                }
                positive = true;
            }
        }
        positive
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
        match fs::read(path) {
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

    /// Effective settings for `alias` (as typed by the user). `local_user`
    /// feeds `%u`, and `%r` when no `User` is configured.
    pub fn resolve(&self, alias: &str, local_user: &str) -> HostConfig {
        let mut out = HostConfig::default();
        let mut raw_host_name: Option<&str> = None;
        let mut raw_identities: Vec<&str> = Vec::new();
        let mut raw_known_hosts: Option<&[String]> = None;

        let applicable = self
            .blocks
            .iter()
            .filter(|b| b.conditions.iter().all(|c| c.matches(alias)));
        for block in applicable {
            for setting in &block.settings {
                match setting {
                    Setting::HostName(v) => {
                        raw_host_name.get_or_insert(v);
                    }
                    Setting::User(v) => {
                        out.user.get_or_insert_with(|| v.clone());
                    }
                    Setting::Port(v) => {
                        out.port.get_or_insert(*v);
                    }
                    Setting::IdentityFile(v) => raw_identities.push(v),
                    Setting::IdentitiesOnly(v) => {
                        out.identities_only.get_or_insert(*v);
                    }
                    Setting::ProxyJump(v) => {
                        out.proxy_jump.get_or_insert_with(|| v.clone());
                    }
                    Setting::StrictHostKeyChecking(v) => {
                        out.strict_host_key_checking
                            .get_or_insert_with(|| v.clone());
                    }
                    Setting::UserKnownHostsFiles(v) => {
                        raw_known_hosts.get_or_insert(v);
                    }
                    Setting::ConnectTimeout(v) => {
                        out.connect_timeout.get_or_insert(*v);
                    }
                    Setting::ServerAliveInterval(v) => {
                        out.server_alive_interval.get_or_insert(*v);
                    }
                    Setting::KexAlgorithms(v) => {
                        out.kex_algorithms.get_or_insert_with(|| v.clone());
                    }
                }
            }
        }

        out.host_name = raw_host_name.map(|h| {
            expand_tokens(h, |c| match c {
                'h' => Some(alias.to_string()),
                _ => None,
            })
            .to_ascii_lowercase()
        });
        // OpenSSH lowercases the target even without HostName, and %h/%r/%p
        // see the effective values, not the raw ones.
        let target = out
            .host_name
            .clone()
            .unwrap_or_else(|| alias.to_ascii_lowercase());
        let remote_user = out.user.as_deref().unwrap_or(local_user);
        let port = out.port.unwrap_or(22).to_string();
        let home = self.home.to_string_lossy();
        let lookup = |c: char| -> Option<String> {
            match c {
                'd' => Some(home.to_string()),
                'u' => Some(local_user.to_string()),
                'h' => Some(target.clone()),
                'r' => Some(remote_user.to_string()),
                'p' => Some(port.clone()),
                'n' | 'k' => Some(alias.to_string()),
                _ => None,
            }
        };
        for raw in raw_identities {
            let expanded = expand_tokens(raw, lookup);
            if !out.identity_files.contains(&expanded) {
                out.identity_files.push(expanded);
            }
        }
        if let Some(files) = raw_known_hosts {
            out.user_known_hosts_files = files.iter().map(|f| expand_tokens(f, lookup)).collect();
        }
        out
    }

    /// One entry per distinct problem, in the order found.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Host,
    Match,
    Include,
    IgnoreUnknown,
    HostName,
    User,
    Port,
    IdentityFile,
    IdentitiesOnly,
    ProxyJump,
    StrictHostKeyChecking,
    UserKnownHostsFile,
    ConnectTimeout,
    ServerAliveInterval,
    KexAlgorithms,
}

const SUPPORTED: &[(&str, Key)] = &[
    ("Host", Key::Host),
    ("Match", Key::Match),
    ("Include", Key::Include),
    ("IgnoreUnknown", Key::IgnoreUnknown),
    ("HostName", Key::HostName),
    ("User", Key::User),
    ("Port", Key::Port),
    ("IdentityFile", Key::IdentityFile),
    ("IdentitiesOnly", Key::IdentitiesOnly),
    ("ProxyJump", Key::ProxyJump),
    ("StrictHostKeyChecking", Key::StrictHostKeyChecking),
    ("UserKnownHostsFile", Key::UserKnownHostsFile),
    ("ConnectTimeout", Key::ConnectTimeout),
    ("ServerAliveInterval", Key::ServerAliveInterval),
    ("KexAlgorithms", Key::KexAlgorithms),
];

enum Kind {
    Supported(&'static str, Key),
    Silent,
    SilentWhenOff(&'static str),
    Unsupported(&'static str),
    Unknown,
}

fn classify(keyword: &str) -> Kind {
    let find = |list: &[&'static str]| {
        list.iter()
            .copied()
            .find(|k| k.eq_ignore_ascii_case(keyword))
    };
    if let Some(&(name, key)) = SUPPORTED
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
    {
        Kind::Supported(name, key)
    } else if find(SILENT).is_some() {
        Kind::Silent
    } else if let Some(name) = find(SILENT_WHEN_OFF) {
        Kind::SilentWhenOff(name)
    } else if let Some(name) = find(UNSUPPORTED) {
        Kind::Unsupported(name)
    } else {
        Kind::Unknown
    }
}

struct Parser {
    home: PathBuf,
    blocks: Vec<Block>,
    warnings: Vec<String>,
    seen_warnings: HashSet<String>,
    /// Lowercased directive names already reported, so each is named once.
    reported_keys: HashSet<String>,
    /// Lowercased `IgnoreUnknown` patterns seen so far.
    ignore_unknown: Vec<String>,
    /// Canonical paths of the files being read, to cut include cycles short
    /// instead of re-reading them up to the depth limit (which can blow up
    /// exponentially with globs).
    include_stack: Vec<PathBuf>,
}

/// Where a directive was found, for messages.
struct Loc<'a> {
    file: &'a str,
    line: usize,
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl Parser {
    fn new(home: &Path) -> Parser {
        Parser {
            home: home.to_path_buf(),
            blocks: Vec::new(),
            warnings: Vec::new(),
            seen_warnings: HashSet::new(),
            reported_keys: HashSet::new(),
            ignore_unknown: Vec::new(),
            include_stack: Vec::new(),
        }
    }

    fn finish(mut self) -> SshConfig {
        self.blocks.retain(|b| !b.settings.is_empty());
        SshConfig {
            blocks: self.blocks,
            warnings: self.warnings,
            home: self.home,
        }
    }

    fn warn(&mut self, msg: String) {
        if self.seen_warnings.insert(msg.clone()) {
            self.warnings.push(msg);
        }
    }

    fn display(&self, path: &Path) -> String {
        match path.strip_prefix(&self.home) {
            Ok(rest) if !self.home.as_os_str().is_empty() => {
                if rest.as_os_str().is_empty() {
                    "~".to_string()
                } else {
                    format!("~/{}", rest.display())
                }
            }
            _ => path.display().to_string(),
        }
    }

    fn start_block(&mut self, conditions: Vec<HostLine>) {
        self.blocks.push(Block {
            conditions,
            settings: Vec::new(),
        });
    }

    fn add(&mut self, setting: Setting) {
        if let Some(block) = self.blocks.last_mut() {
            block.settings.push(setting);
        }
    }

    fn parse_text(&mut self, text: &str, path: &Path, outer: &[HostLine], depth: usize) {
        let file = self.display(path);
        self.start_block(outer.to_vec());
        let mut current: Vec<HostLine> = outer.to_vec();
        // (first line, last non-comment line) of the Match block being skipped.
        let mut in_match: Option<(usize, usize)> = None;

        for (idx, raw) in text.lines().enumerate() {
            let loc = Loc {
                file: &file,
                line: idx + 1,
            };
            let (keyword, args) = match split_line(raw) {
                Ok(None) => continue,
                Ok(Some(parts)) => parts,
                Err(problem) => {
                    match in_match.as_mut() {
                        Some((_, last)) => *last = loc.line,
                        None => self.warn(format!("{loc}: {problem}; line ignored")),
                    }
                    continue;
                }
            };
            let kind = classify(&keyword);
            match kind {
                Kind::Supported(_, Key::Host) => {
                    self.end_match(&loc, in_match.take());
                    if args.is_empty() {
                        self.warn(format!("{loc}: Host without patterns matches nothing"));
                    }
                    let line = HostLine {
                        patterns: args
                            .into_iter()
                            .map(|a| match a.strip_prefix('!') {
                                Some(rest) => HostPattern {
                                    negated: true,
                                    pattern: rest.to_string(),
                                },
                                None => HostPattern {
                                    negated: false,
                                    pattern: a,
                                },
                            })
                            .collect(),
                    };
                    current = outer.to_vec();
                    current.push(line);
                    self.start_block(current.clone());
                    continue;
                }
                Kind::Supported(_, Key::Match) => {
                    self.end_match(&loc, in_match.take());
                    in_match = Some((loc.line, loc.line));
                    continue;
                }
                _ => {}
            }
            if let Some((_, last)) = in_match.as_mut() {
                *last = loc.line;
                continue;
            }
            self.directive(kind, &keyword, args, &loc, &current, depth);
        }
        let eof = Loc {
            file: &file,
            line: 0,
        };
        self.end_match(&eof, in_match);
    }

    fn end_match(&mut self, loc: &Loc<'_>, range: Option<(usize, usize)>) {
        if let Some((first, last)) = range {
            let which = if first == last {
                format!("line {first} is ignored")
            } else {
                format!("lines {first}-{last} are ignored")
            };
            self.warn(format!(
                "{}:{first}: Match blocks are not supported by mtssh; {which}",
                loc.file
            ));
        }
    }

    fn report_key(&mut self, loc: &Loc<'_>, name: &str, msg: &str) {
        if self.reported_keys.insert(name.to_ascii_lowercase()) {
            self.warn(format!("{loc}: {name} {msg}"));
        }
    }

    fn directive(
        &mut self,
        kind: Kind,
        keyword: &str,
        args: Vec<String>,
        loc: &Loc<'_>,
        current: &[HostLine],
        depth: usize,
    ) {
        let (name, key) = match kind {
            Kind::Supported(name, key) => (name, key),
            Kind::Silent => return,
            Kind::SilentWhenOff(name) => {
                let off = args.len() == 1
                    && ["no", "false", "none"]
                        .iter()
                        .any(|v| v.eq_ignore_ascii_case(&args[0]));
                if !off {
                    self.report_key(loc, name, "is not supported by mtssh and is ignored");
                }
                return;
            }
            Kind::Unsupported(name) => {
                self.report_key(loc, name, "is not supported by mtssh and is ignored");
                return;
            }
            Kind::Unknown => {
                let lower = keyword.to_ascii_lowercase();
                let ignored = self
                    .ignore_unknown
                    .iter()
                    .any(|p| wildcard_match(p, &lower, false));
                if !ignored {
                    self.report_key(
                        loc,
                        keyword,
                        "is not a known ssh_config option and is ignored",
                    );
                }
                return;
            }
        };
        if args.is_empty() {
            self.warn(format!("{loc}: {name} has no value; line ignored"));
            return;
        }
        let multi = matches!(
            key,
            Key::Include | Key::IgnoreUnknown | Key::UserKnownHostsFile
        );
        if !multi && args.len() > 1 {
            self.warn(format!(
                "{loc}: {name} takes one value (quote it if it contains spaces); line ignored"
            ));
            return;
        }
        let value = &args[0];
        let invalid =
            |what: &str| format!("{loc}: invalid {name} value \"{value}\"{what}; ignored");
        let setting = match key {
            Key::Host | Key::Match => None,
            Key::Include => {
                self.include(&args, loc, current, depth);
                None
            }
            Key::IgnoreUnknown => {
                for list in &args {
                    self.ignore_unknown.extend(
                        list.split(',')
                            .filter(|p| !p.is_empty())
                            .map(str::to_ascii_lowercase),
                    );
                }
                None
            }
            Key::HostName => match check_tokens(value, "h") {
                Ok(()) => Some(Setting::HostName(value.clone())),
                Err(msg) => {
                    self.warn(invalid(&format!(" ({msg})")));
                    None
                }
            },
            Key::User => Some(Setting::User(value.clone())),
            Key::Port => match parse_port(value) {
                Some(p) => Some(Setting::Port(p)),
                None => {
                    self.warn(invalid(" (expected a number from 1 to 65535)"));
                    None
                }
            },
            Key::IdentityFile => match self.prepare_path(value) {
                Ok(v) => Some(Setting::IdentityFile(v)),
                Err(msg) => {
                    self.warn(invalid(&format!(" ({msg})")));
                    None
                }
            },
            Key::IdentitiesOnly => match parse_flag(value) {
                Some(b) => Some(Setting::IdentitiesOnly(b)),
                None => {
                    self.warn(invalid(" (expected yes or no)"));
                    None
                }
            },
            Key::ProxyJump => Some(Setting::ProxyJump(value.clone())),
            Key::StrictHostKeyChecking => {
                let lower = value.to_ascii_lowercase();
                let known = ["yes", "no", "ask", "accept-new", "off", "true", "false"];
                if known.contains(&lower.as_str()) {
                    Some(Setting::StrictHostKeyChecking(lower))
                } else {
                    self.warn(invalid(" (expected yes, no, ask, accept-new or off)"));
                    None
                }
            }
            Key::UserKnownHostsFile => {
                let mut files = Vec::with_capacity(args.len());
                for arg in &args {
                    match self.prepare_path(arg) {
                        Ok(v) => files.push(v),
                        Err(msg) => {
                            self.warn(format!(
                                "{loc}: invalid {name} value \"{arg}\" ({msg}); line ignored"
                            ));
                            return;
                        }
                    }
                }
                Some(Setting::UserKnownHostsFiles(files))
            }
            Key::KexAlgorithms => match crate::ssh::algorithms::parse_kex(value) {
                Ok(_) => Some(Setting::KexAlgorithms(value.clone())),
                Err(e) => {
                    self.warn(invalid(&format!(" ({e})")));
                    None
                }
            },
            Key::ConnectTimeout | Key::ServerAliveInterval => match parse_time(value) {
                Some(secs) if key == Key::ConnectTimeout => Some(Setting::ConnectTimeout(secs)),
                Some(secs) => Some(Setting::ServerAliveInterval(secs)),
                None => {
                    self.warn(invalid(" (expected seconds, or a time like 1m30s)"));
                    None
                }
            },
        };
        if let Some(setting) = setting {
            self.add(setting);
        }
    }

    /// Does the host-independent part of path expansion (`~`, `${VAR}`) now
    /// and validates `%` tokens, so `resolve` cannot fail.
    fn prepare_path(&self, value: &str) -> Result<String, String> {
        check_tokens(value, "dhknpru")?;
        let tilde = expand_tilde(value, &self.home)?;
        expand_env(&tilde)
    }

    fn include(&mut self, args: &[String], loc: &Loc<'_>, current: &[HostLine], depth: usize) {
        for arg in args {
            let expanded = match expand_tilde(arg, &self.home) {
                Ok(p) => PathBuf::from(p),
                Err(msg) => {
                    self.warn(format!("{loc}: Include \"{arg}\" ignored ({msg})"));
                    continue;
                }
            };
            let full = if expanded.is_absolute() {
                expanded
            } else {
                self.home.join(".ssh").join(expanded)
            };
            for file in glob(&full) {
                if file.is_dir() {
                    continue;
                }
                let shown = self.display(&file);
                if depth + 1 > MAX_INCLUDE_DEPTH {
                    self.warn(format!(
                        "{loc}: Include nested more than {MAX_INCLUDE_DEPTH} levels deep; {shown} is ignored"
                    ));
                    continue;
                }
                let key = fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
                if self.include_stack.contains(&key) {
                    self.warn(format!(
                        "{loc}: Include of {shown} would include it recursively; ignored"
                    ));
                    continue;
                }
                match fs::read(&file) {
                    Ok(bytes) => {
                        self.include_stack.push(key);
                        self.parse_text(
                            &String::from_utf8_lossy(&bytes),
                            &file,
                            current,
                            depth + 1,
                        );
                        self.include_stack.pop();
                    }
                    // OpenSSH silently skips includes that do not exist.
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => self.warn(format!("{loc}: cannot read included {shown}: {e}")),
                }
            }
        }
        // Lines after the Include belong to the including block again, even if
        // the included file switched to other Host blocks.
        self.start_block(current.to_vec());
    }
}

/// Splits a line into a keyword and its arguments, OpenSSH style. `Ok(None)`
/// for blank and comment lines.
fn split_line(raw: &str) -> Result<Option<(String, Vec<String>)>, &'static str> {
    let line = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let end = line
        .find(|c: char| c.is_ascii_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    if keyword.is_empty() {
        return Err("missing keyword");
    }
    // Exactly one '=' may separate keyword and value, with optional spaces.
    let mut rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
    }
    Ok(Some((keyword.to_string(), split_args(rest)?)))
}

fn split_args(s: &str) -> Result<Vec<String>, &'static str> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == '\\' && matches!(chars.peek(), Some(&n) if n == '"' || n == '\'' || n == '\\') {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            } else if c == q {
                quote = None;
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            c if c.is_ascii_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '"' | '\'' => {
                quote = Some(c);
                in_word = true;
            }
            '\\' => {
                in_word = true;
                match chars.peek() {
                    Some(&n) if matches!(n, '"' | '\'' | '\\' | ' ') => {
                        cur.push(n);
                        chars.next();
                    }
                    _ => cur.push('\\'),
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote");
    }
    if in_word {
        args.push(cur);
    }
    Ok(args)
}

fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok().filter(|&p| p != 0)
}

fn parse_flag(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// OpenSSH's time format: `90`, `1m30s`, `2h`, units s/m/h/d/w in any case.
fn parse_time(s: &str) -> Option<u64> {
    // OpenSSH stores these in an int; larger values are rejected there too.
    const MAX: u64 = i32::MAX as u64;
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(
                num.unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let mult = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(mult)?)?;
    }
    if s.is_empty() {
        return None;
    }
    total = total.checked_add(num.unwrap_or(0))?;
    (total <= MAX).then_some(total)
}

/// Rejects `%` tokens outside `allowed` so that expansion later cannot leave
/// a half-expanded value behind.
fn check_tokens(s: &str, allowed: &str) -> Result<(), String> {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('%') => {}
            Some(t) if allowed.contains(t) => {}
            Some(t @ ('C' | 'i' | 'L' | 'l')) => {
                return Err(format!("token %{t} is not supported by mtssh"));
            }
            Some(t) => return Err(format!("unknown token %{t}")),
            None => return Err("trailing %".to_string()),
        }
    }
    Ok(())
}

fn expand_tokens(s: &str, lookup: impl Fn(char) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match lookup(t) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push('%');
                    out.push(t);
                }
            },
            None => out.push('%'),
        }
    }
    out
}

fn expand_tilde(s: &str, home: &Path) -> Result<String, String> {
    let Some(rest) = s.strip_prefix('~') else {
        return Ok(s.to_string());
    };
    let home = home.to_string_lossy();
    if rest.is_empty() {
        return Ok(home.into_owned());
    }
    match rest.strip_prefix('/') {
        Some(tail) => Ok(format!("{}/{}", home.trim_end_matches('/'), tail)),
        None => Err("~user paths are not supported by mtssh".to_string()),
    }
}

/// Expands `${NAME}` from the environment, as OpenSSH does for path options.
fn expand_env(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("unterminated ${".to_string());
        };
        let name = &after[..end];
        match std::env::var(name) {
            Ok(v) => out.push_str(&v),
            Err(_) => return Err(format!("environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands wildcards in any path component; results in lexical order, like
/// glob(3). Non-wildcard components are kept even if they do not exist, so
/// the caller can tell "missing" apart from "unreadable".
fn glob(path: &Path) -> Vec<PathBuf> {
    let mut bases = vec![PathBuf::new()];
    for comp in path.components() {
        let Component::Normal(name) = comp else {
            for b in &mut bases {
                b.push(comp.as_os_str());
            }
            continue;
        };
        let pattern = name.to_string_lossy();
        if !pattern.contains(['*', '?', '[']) {
            for b in &mut bases {
                b.push(name);
            }
            continue;
        }
        let mut next = Vec::new();
        for base in &bases {
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(n) = file_name.to_str() else {
                    continue;
                };
                // glob(3) never lets a wildcard match a leading dot.
                if n.starts_with('.') && !pattern.starts_with('.') {
                    continue;
                }
                if wildcard_match(&pattern, n, true) {
                    next.push(base.join(n));
                }
            }
        }
        bases = next;
    }
    bases.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    bases
}

enum Tok {
    Lit(char),
    Any,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

fn tokenize(pattern: &str, brackets: bool) -> Vec<Tok> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::Any),
            '[' if brackets => match parse_class(&chars[i..]) {
                Some((tok, used)) => {
                    toks.push(tok);
                    i += used;
                }
                None => toks.push(Tok::Lit('[')),
            },
            _ => toks.push(Tok::Lit(c)),
        }
    }
    toks
}

/// Parses the inside of `[...]`; returns the token and how many chars it
/// used, or `None` if there is no closing bracket (then `[` is literal).
fn parse_class(chars: &[char]) -> Option<(Tok, usize)> {
    let mut i = 0;
    let negated = matches!(chars.first(), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((Tok::Class { negated, ranges }, i + 1));
        }
        first = false;
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&e| e != ']') {
            let end = *chars.get(i + 2)?;
            ranges.push((c, end));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
}

fn tok_matches(tok: &Tok, c: char) -> bool {
    match tok {
        Tok::Lit(l) => *l == c,
        Tok::Any => true,
        Tok::Star => false,
        Tok::Class { negated, ranges } => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
    }
}

/// `*`/`?` matching (plus `[...]` classes when `brackets`), linear-time
/// backtracking over the last `*` only, so hostile patterns cannot stall.
fn wildcard_match(pattern: &str, text: &str, brackets: bool) -> bool {
    let toks = tokenize(pattern, brackets);
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(tok) if tok_matches(tok, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p.min(toks.len())..]
        .iter()
        .all(|tok| matches!(tok, Tok::Star))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const HOME: &str = "/home/alice";

    fn cfg(text: &str) -> SshConfig {
        SshConfig::parse(text, Path::new("/home/alice/.ssh/config"), Path::new(HOME))
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn kex_algorithms_first_value_wins_and_bad_lists_are_warned() {
        let c = cfg(
            "Host a\n  KexAlgorithms curve25519-sha255\nHost *\n  KexAlgorithms -mlkem768x25519-sha256\n  KexAlgorithms curve25519-sha256\n",
        );
        assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
        assert!(
            c.warnings()[0].starts_with("~/.ssh/config:2:")
                && c.warnings()[0].contains("`curve25519-sha255`"),
            "{:?}",
            c.warnings()
        );
        // The bad line is ignored, so `a` gets the next block's (first) value.
        assert_eq!(
            c.resolve("a", "bob").kex_algorithms,
            s("-mlkem768x25519-sha256")
        );
    }

    #[test]
    fn resolve_table() {
        struct Case {
            name: &'static str,
            text: &'static str,
            alias: &'static str,
            check: fn(&HostConfig) -> bool,
        }
        let cases = [
            Case {
                name: "exact host",
                text: "Host web\n  HostName web.example.com\n  User deploy\n  Port 2222\n",
                alias: "web",
                check: |h| {
                    h.host_name == s("web.example.com")
                        && h.user == s("deploy")
                        && h.port == Some(2222)
                },
            },
            Case {
                name: "no match leaves everything unset",
                text: "Host web\n  User deploy\n",
                alias: "db",
                check: |h| *h == HostConfig::default(),
            },
            Case {
                name: "star and question mark",
                text: "Host db?.prod\n  User dbuser\nHost *.prod\n  User produser\n  Port 22\n",
                alias: "db1.prod",
                check: |h| h.user == s("dbuser") && h.port == Some(22),
            },
            Case {
                name: "question mark needs exactly one char",
                text: "Host db?.prod\n  User dbuser\n",
                alias: "db12.prod",
                check: |h| h.user.is_none(),
            },
            Case {
                name: "negation vetoes other patterns",
                text: "Host *.prod !bastion.prod\n  ProxyJump bastion.prod\n",
                alias: "bastion.prod",
                check: |h| h.proxy_jump.is_none(),
            },
            Case {
                name: "negation does not veto non-matching",
                text: "Host *.prod !bastion.prod\n  ProxyJump bastion.prod\n",
                alias: "app.prod",
                check: |h| h.proxy_jump == s("bastion.prod"),
            },
            Case {
                name: "negation alone never matches",
                text: "Host !foo\n  User x\n",
                alias: "bar",
                check: |h| h.user.is_none(),
            },
            Case {
                name: "first value wins",
                text: "Host web\n  User first\nHost *\n  User second\n  Port 1\n",
                alias: "web",
                check: |h| h.user == s("first") && h.port == Some(1),
            },
            Case {
                name: "defaults before first Host apply to all",
                text: "User global\nPort 2200\nHost web\n  User ignored\n",
                alias: "web",
                check: |h| h.user == s("global") && h.port == Some(2200),
            },
            Case {
                name: "matching uses alias not HostName",
                text: "Host web\n  HostName 10.0.0.1\nHost 10.0.0.1\n  User byip\n",
                alias: "web",
                check: |h| h.host_name == s("10.0.0.1") && h.user.is_none(),
            },
            Case {
                name: "host matching is case-sensitive, HostName lowercased",
                text: "Host Web\n  HostName WEB.Example.COM\n",
                alias: "Web",
                check: |h| h.host_name == s("web.example.com"),
            },
            Case {
                name: "host matching is case-sensitive (miss)",
                text: "Host Web\n  HostName x\n",
                alias: "web",
                check: |h| h.host_name.is_none(),
            },
            Case {
                name: "comma is not a separator on Host lines",
                text: "Host a,b\n  User x\n",
                alias: "a",
                check: |h| h.user.is_none(),
            },
            Case {
                name: "identity files accumulate, dedup",
                text: "Host web\n  IdentityFile ~/.ssh/web\n  IdentityFile ~/.ssh/shared\nHost *\n  IdentityFile ~/.ssh/shared\n  IdentityFile /keys/default\n  IdentitiesOnly yes\n",
                alias: "web",
                check: |h| {
                    h.identity_files
                        == strings(&[
                            "/home/alice/.ssh/web",
                            "/home/alice/.ssh/shared",
                            "/keys/default",
                        ])
                        && h.identities_only == Some(true)
                },
            },
            Case {
                name: "known hosts: first line wins as a list",
                text: "Host web\n  UserKnownHostsFile ~/a %d/b\nHost *\n  UserKnownHostsFile ~/c\n",
                alias: "web",
                check: |h| h.user_known_hosts_files == strings(&["/home/alice/a", "/home/alice/b"]),
            },
            Case {
                name: "tokens",
                text: "Host web\n  HostName %h.example.com\n  User deploy\n  Port 2022\n  IdentityFile %d/.ssh/%u-%r@%h:%p-%n-%k-%%\n",
                alias: "web",
                check: |h| {
                    h.host_name == s("web.example.com")
                        && h.identity_files
                            == strings(&[
                                "/home/alice/.ssh/bob-deploy@web.example.com:2022-web-web-%",
                            ])
                },
            },
            Case {
                name: "%r defaults to local user, %h to alias, %p to 22",
                text: "IdentityFile ~/%r-%h-%p\n",
                alias: "Box",
                check: |h| h.identity_files == strings(&["/home/alice/bob-box-22"]),
            },
            Case {
                name: "quoted values and escapes",
                text: "Host \"my host\" other\n  IdentityFile \"~/.ssh/my key\"\n  User 'x y'\n  ProxyJump a\\ b\n",
                alias: "my host",
                check: |h| {
                    h.identity_files == strings(&["/home/alice/.ssh/my key"])
                        && h.user == s("x y")
                        && h.proxy_jump == s("a b")
                },
            },
            Case {
                name: "= syntax variants",
                text: "Host=web\nUser=a\nPort = 2\nHostName =h\nIdentitiesOnly= no\nConnectTimeout 1m30s\nServerAliveInterval=15\nUser = ignored\n",
                alias: "web",
                check: |h| {
                    h.user == s("a")
                        && h.port == Some(2)
                        && h.host_name == s("h")
                        && h.identities_only == Some(false)
                        && h.connect_timeout == Some(90)
                        && h.server_alive_interval == Some(15)
                },
            },
            Case {
                name: "value with = inside",
                text: "User=a=b\n",
                alias: "x",
                check: |h| h.user == s("a=b"),
            },
            Case {
                name: "case-insensitive keywords",
                text: "hOsT web\n  HOSTNAME h\n  user U\n  pOrT 7\n  identityfile /k\n  PROXYJUMP none\n  stricthostkeychecking Accept-New\n",
                alias: "web",
                check: |h| {
                    h.host_name == s("h")
                        && h.user == s("U")
                        && h.port == Some(7)
                        && h.identity_files == strings(&["/k"])
                        && h.proxy_jump == s("none")
                        && h.strict_host_key_checking == s("accept-new")
                },
            },
            Case {
                name: "comments and blank lines",
                text: "# top\n\n   # indented\nHost web # trailing\n  Port 22 # why\n",
                alias: "web",
                check: |h| h.port == Some(22),
            },
            Case {
                name: "invalid value ignored so later value applies",
                text: "Host web\n  Port abc\nHost *\n  Port 2\n",
                alias: "web",
                check: |h| h.port == Some(2),
            },
            Case {
                name: "match block is skipped until next Host",
                text: "Match host web\n  User fromatch\nHost web\n  Port 3\n",
                alias: "web",
                check: |h| h.user.is_none() && h.port == Some(3),
            },
        ];
        for case in &cases {
            let h = cfg(case.text).resolve(case.alias, "bob");
            assert!((case.check)(&h), "case {:?} failed: {h:#?}", case.name);
        }
    }

    #[test]
    fn warnings_are_specific_and_deduplicated() {
        let text = "\
Host a
  ProxyCommand nc %h %p
  ForwardAgent yes
  ForwardAgent no
Host b
  ProxyCommand nc %h %p
  Port abc
  AddKeysToAgent yes
  ControlMaster no
  Bogus 1
Match host x
  User y

  # comment
  ProxyCommand foo
Host c
  Port 0
  IdentityFile ~/%C
  IdentityFile %x
  User a b
  HostName
  User \"unterminated
  SendEnv LANG LC_*
  Bogus 2
";
        let c = cfg(text);
        let expected = strings(&[
            "~/.ssh/config:2: ProxyCommand is not supported by mtssh and is ignored",
            "~/.ssh/config:3: ForwardAgent is not supported by mtssh and is ignored",
            "~/.ssh/config:7: invalid Port value \"abc\" (expected a number from 1 to 65535); ignored",
            "~/.ssh/config:10: Bogus is not a known ssh_config option and is ignored",
            "~/.ssh/config:11: Match blocks are not supported by mtssh; lines 11-15 are ignored",
            "~/.ssh/config:17: invalid Port value \"0\" (expected a number from 1 to 65535); ignored",
            "~/.ssh/config:18: invalid IdentityFile value \"~/%C\" (token %C is not supported by mtssh); ignored",
            "~/.ssh/config:19: invalid IdentityFile value \"%x\" (unknown token %x); ignored",
            "~/.ssh/config:20: User takes one value (quote it if it contains spaces); line ignored",
            "~/.ssh/config:21: HostName has no value; line ignored",
            "~/.ssh/config:22: unterminated quote; line ignored",
        ]);
        assert_eq!(c.warnings(), expected.as_slice());
    }

    #[test]
    fn ignore_unknown_silences_unknown_keywords() {
        let c = cfg("IgnoreUnknown UseKeychainX,Foo*\nUseKeychainX yes\nFooBar 1\nBaz 2\n");
        assert_eq!(
            c.warnings(),
            ["~/.ssh/config:4: Baz is not a known ssh_config option and is ignored"]
        );
    }

    #[test]
    fn single_line_match_warning() {
        let c = cfg("Match all\n");
        assert_eq!(
            c.warnings(),
            ["~/.ssh/config:1: Match blocks are not supported by mtssh; line 1 is ignored"]
        );
    }

    fn write(path: &Path, text: &str) {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).expect("mkdir");
        }
        fs::write(path, text).expect("write");
    }

    #[test]
    fn include_glob_relative_and_conditional() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path();
        let ssh = home.join(".ssh");
        write(
            &ssh.join("config"),
            "Include conf.d/*.conf\nHost web\n  Include ~/.ssh/web.inc\n  HostName web.local\nHost *\n  User fallback\n",
        );
        write(&ssh.join("conf.d/10-a.conf"), "Host a\n  User from10\n");
        write(
            &ssh.join("conf.d/20-a.conf"),
            "Host a\n  User from20\n  Port 20\n",
        );
        write(&ssh.join("conf.d/.hidden.conf"), "Host a\n  Port 99\n");
        write(&ssh.join("conf.d/ignored.txt"), "Host a\n  Port 98\n");
        write(
            &ssh.join("web.inc"),
            "User webuser\nHost other\n  Port 1111\nHost web\n  Port 8022\n",
        );
        let c = SshConfig::load(&ssh.join("config"), home);
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());

        let a = c.resolve("a", "bob");
        assert_eq!(a.user, s("from10"));
        assert_eq!(a.port, Some(20));

        let web = c.resolve("web", "bob");
        assert_eq!(web.user, s("webuser"));
        assert_eq!(web.port, Some(8022));
        assert_eq!(
            web.host_name,
            s("web.local"),
            "outer block resumes after Include"
        );

        // `Host other` inside an Include that sits in `Host web` never applies
        // to other hosts.
        let other = c.resolve("other", "bob");
        assert_eq!(other.port, None);
        assert_eq!(other.user, s("fallback"));
    }

    #[test]
    fn missing_files_are_quiet() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = SshConfig::load(&tmp.path().join("nope"), tmp.path());
        assert!(c.warnings().is_empty());
        assert_eq!(c.resolve("x", "bob"), HostConfig::default());

        let c = SshConfig::parse(
            "Include /definitely/not/here nothere.d/*\nUser u\n",
            &tmp.path().join("config"),
            tmp.path(),
        );
        assert!(c.warnings().is_empty());
        assert_eq!(c.resolve("x", "bob").user, s("u"));
    }

    #[test]
    fn include_depth_limit_and_cycles() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path();
        let ssh = home.join(".ssh");
        for i in 0..20 {
            write(
                &ssh.join(format!("d{i}")),
                &format!("Include d{}\nHost h{i}\n  Port {}\n", i + 1, i + 1),
            );
        }
        write(&ssh.join("config"), "Include d0\n");
        let c = SshConfig::load(&ssh.join("config"), home);
        assert_eq!(
            c.warnings(),
            ["~/.ssh/d15:1: Include nested more than 16 levels deep; ~/.ssh/d16 is ignored"]
        );
        assert_eq!(c.resolve("h15", "bob").port, Some(16));
        assert_eq!(c.resolve("h16", "bob").port, None);

        write(&ssh.join("self"), "Include self *.cyc\nUser me\n");
        write(&ssh.join("x.cyc"), "Include y.cyc\n");
        write(&ssh.join("y.cyc"), "Include x.cyc\nPort 5\n");
        let c = SshConfig::load(&ssh.join("self"), home);
        assert_eq!(
            c.warnings(),
            [
                "~/.ssh/self:1: Include of ~/.ssh/self would include it recursively; ignored",
                "~/.ssh/y.cyc:1: Include of ~/.ssh/x.cyc would include it recursively; ignored",
                "~/.ssh/x.cyc:1: Include of ~/.ssh/y.cyc would include it recursively; ignored",
            ]
        );
        let h = c.resolve("x", "bob");
        assert_eq!((h.user, h.port), (s("me"), Some(5)));
    }

    #[test]
    fn helpers() {
        assert_eq!(parse_time("90"), Some(90));
        assert_eq!(parse_time("1h1M1s"), Some(3661));
        assert_eq!(parse_time("1w"), Some(604_800));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("m"), None);
        assert_eq!(parse_time("-1"), None);
        assert_eq!(parse_time("99999999999999999999999"), None);
        assert!(wildcard_match("*.a*b?", "x.aaab1", false));
        assert!(!wildcard_match("*.a*b?", "x.aaab", false));
        assert!(wildcard_match("", "", false));
        assert!(wildcard_match("**", "", false));
        assert!(wildcard_match("[0-9]*.conf", "10-a.conf", true));
        assert!(!wildcard_match("[!0-9]*", "1x", true));
        assert!(wildcard_match("[", "[", true));
        assert!(wildcard_match("[]]", "]", true));
        assert_eq!(
            split_args(r#"a "b c" d\ e 'f"g' "h\"i" \q #x"#),
            Ok(strings(&["a", "b c", "d e", "f\"g", "h\"i", "\\q"]))
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = [
            "",
            "=",
            "= =",
            "Host",
            "Host !",
            "Host \"",
            "Port=",
            "Port 99999",
            "IdentityFile %",
            "IdentityFile ~root/x",
            "IdentityFile ${",
            "Include ~nobody/x",
            "Include",
            "Match",
            "\u{feff}Host é*\n  User ü",
            "ConnectTimeout 1x",
            "HostName %p",
            "UserKnownHostsFile a %q",
            "Host *\n\tPort\t=\t\t",
            "\0\0\0",
            "Host [\n Port 1",
        ];
        for text in odd {
            let c = cfg(text);
            let _ = c.resolve("é", "bob");
            let _ = c.resolve("", "");
        }
    }

    /// Compares with OpenSSH itself; `ssh -G -F FILE` ignores the system
    /// config, so the result only depends on the file we write.
    #[test]
    fn cross_check_with_ssh_g() {
        if Command::new("ssh").arg("-V").output().is_err() {
            eprintln!("skipping cross_check_with_ssh_g: ssh not installed");
            return;
        }
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let inc = dir.join("inc");
        write(
            &inc.join("1.conf"),
            "Host db*\n  User dbadmin\n  IdentityFile /keys/db\n",
        );
        write(&inc.join("2.conf"), "Host db1\n  Port 5432\n");
        write(
            &inc.join("web.inc"),
            "IdentityFile /keys/webinc\nHost db1\n  User never\n",
        );
        let config = dir.join("config");
        let text = format!(
            "\
Include {inc}/*.conf
Host Web web2 !web3
  HostName %h.Example.COM
  user deploy
  Port=2201
  IdentityFile /keys/web
  Include {inc}/web.inc
Host *.prod !bastion.prod
  HostName internal
  Port 2222
host db?
  Port 15432
  IdentityFile \"/keys/with space\"
Host *
  User = everyone
  Port 2022
  IdentityFile /keys/default
  IdentityFile /keys/web
",
            inc = inc.display()
        );
        write(&config, &text);
        let ours = SshConfig::load(&config, dir);
        assert!(ours.warnings().is_empty(), "{:?}", ours.warnings());

        for alias in [
            "Web",
            "web",
            "web2",
            "web3",
            "db1",
            "db22",
            "app.prod",
            "bastion.prod",
            "zzz",
        ] {
            let out = Command::new("ssh")
                .arg("-G")
                .arg("-F")
                .arg(&config)
                .arg(alias)
                .output()
                .expect("run ssh -G");
            assert!(out.status.success(), "ssh -G {alias} failed: {out:?}");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let field = |k: &str| -> Vec<String> {
                stdout
                    .lines()
                    .filter_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(' ')))
                    .map(str::to_string)
                    .collect()
            };
            let h = ours.resolve(alias, "nobody-local");
            let expect_host = h
                .host_name
                .clone()
                .unwrap_or_else(|| alias.to_ascii_lowercase());
            assert_eq!(field("hostname"), [expect_host], "hostname for {alias}");
            let port = h.port.unwrap_or(22).to_string();
            assert_eq!(field("port"), [port], "port for {alias}");
            if let Some(user) = &h.user {
                assert_eq!(field("user"), [user.as_str()], "user for {alias}");
            }
            assert_eq!(
                field("identityfile"),
                h.identity_files,
                "identityfile for {alias}"
            );
        }
    }
}
