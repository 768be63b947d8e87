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
//! Layout: `lexer` splits lines into words, `parser` turns them into blocks
//! (with `Include` handled in `include`), `keywords` classifies directive
//! names, `values` and `expand` check and expand option values; this file
//! holds the result and resolves it for one host.

mod expand;
mod include;
mod keywords;
mod lexer;
mod parser;
mod values;

#[cfg(test)]
mod proxy_tests;
#[cfg(test)]
mod test_util;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::ssh::pattern;
use expand::expand_tokens;
pub use expand::{ProxyTokens, expand_proxy_command};
pub use keywords::{SILENT, SILENT_WHEN_OFF, supported_keywords};
use parser::Parser;

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
    /// As written (`+`/`-`/`^` prefixes kept); checked when read.
    pub kex_algorithms: Option<crate::ssh::algorithms::KexList>,
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
    ProxyCommand(String),
    StrictHostKeyChecking(crate::ssh::HostKeyCheck),
    UserKnownHostsFiles(Vec<String>),
    ConnectTimeout(u64),
    ServerAliveInterval(u64),
    KexAlgorithms(crate::ssh::algorithms::KexList),
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
                    // OpenSSH's readconf: a ProxyCommand (even `none`) shuts out a later
                    // ProxyJump; `ProxyJump none` does not shut out a later ProxyCommand.
                    Setting::ProxyJump(v) if out.proxy_command.is_none() => {
                        out.proxy_jump.get_or_insert_with(|| v.clone());
                    }
                    Setting::ProxyJump(_) => {}
                    Setting::ProxyCommand(v) => {
                        let jumps = out
                            .proxy_jump
                            .as_deref()
                            .is_some_and(|j| !j.eq_ignore_ascii_case("none"));
                        if !jumps {
                            out.proxy_command.get_or_insert_with(|| v.clone());
                        }
                    }
                    Setting::StrictHostKeyChecking(v) => {
                        out.strict_host_key_checking.get_or_insert(*v);
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

    /// Why this configuration must not be used, as OpenSSH refuses it: Includes nested more
    /// than [`MAX_INCLUDE_DEPTH`] deep, a file that includes itself, or more than
    /// [`MAX_INCLUDED_FILES`] included files.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// Patterns match per character, so `?` covers one character of a
/// non-ASCII alias.
fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;
    use std::process::Command;

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
                        && h.strict_host_key_checking == Some(crate::ssh::HostKeyCheck::AcceptNew)
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

    /// Compares with OpenSSH itself; `ssh -G -F FILE` ignores the system
    /// config, so the result only depends on the file we write.
    #[test]
    fn cross_check_with_ssh_g() {
        if Command::new("ssh").arg("-V").output().is_err() {
            crate::test_support::skip_without_peer("ssh not found");
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
