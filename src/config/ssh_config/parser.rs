//! The parser: a state machine over the lines of one file that builds the
//! blocks, skips `Match` blocks and validates values.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::expand::{check_tokens, expand_env, expand_tilde};
use super::keywords::{Key, Kind, classify};
use super::lexer::split_line;
use super::values::{parse_flag, parse_port, parse_time};
use super::{Block, HostLine, HostPattern, Setting, SshConfig, chars, pattern};
use crate::ssh::HostKeyCheck;

pub(super) struct Parser {
    pub(super) home: PathBuf,
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
    pub(super) include_stack: Vec<PathBuf>,
    /// Included files read so far: globs of files that include each other grow the work
    /// factorially below the depth limit, so the count is capped too.
    pub(super) included: usize,
    /// The first Include problem that makes the configuration unusable (too deep, a cycle,
    /// too many files); from then on no Include is followed.
    pub(super) include_error: Option<String>,
}

/// Where a directive was found, for messages.
pub(super) struct Loc<'a> {
    file: &'a str,
    line: usize,
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl Parser {
    pub(super) fn new(home: &Path) -> Parser {
        Parser {
            home: home.to_path_buf(),
            blocks: Vec::new(),
            warnings: Vec::new(),
            seen_warnings: HashSet::new(),
            reported_keys: HashSet::new(),
            ignore_unknown: Vec::new(),
            include_stack: Vec::new(),
            included: 0,
            include_error: None,
        }
    }

    pub(super) fn finish(mut self) -> SshConfig {
        self.blocks.retain(|b| !b.settings.is_empty());
        SshConfig {
            blocks: self.blocks,
            warnings: self.warnings,
            error: self.include_error,
            home: self.home,
        }
    }

    pub(super) fn warn(&mut self, msg: String) {
        if self.seen_warnings.insert(msg.clone()) {
            self.warnings.push(msg);
        }
    }

    pub(super) fn display(&self, path: &Path) -> String {
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

    pub(super) fn start_block(&mut self, conditions: Vec<HostLine>) {
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

    pub(super) fn parse_text(&mut self, text: &str, path: &Path, outer: &[HostLine], depth: usize) {
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
                            .map(|a| {
                                let (negated, body) = pattern::split_negation(&a);
                                HostPattern {
                                    negated,
                                    pattern: body.to_string(),
                                }
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
                let lower = chars(&lower);
                let ignored = self
                    .ignore_unknown
                    .iter()
                    .any(|p| pattern::match_pattern(&chars(p), &lower));
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
            // Its tokens are checked where they are expanded: a bad one must fail the host,
            // never be dropped here and leave it to connect directly.
            Key::ProxyCommand => Some(Setting::ProxyCommand(value.clone())),
            Key::StrictHostKeyChecking => match strict_host_key_checking(value) {
                Some(mode) => Some(Setting::StrictHostKeyChecking(mode)),
                None => {
                    self.warn(invalid(" (expected yes, no, ask, accept-new or off)"));
                    None
                }
            },
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
            Key::KexAlgorithms => match crate::ssh::algorithms::parse_kex_list(value) {
                Ok(list) => Some(Setting::KexAlgorithms(list)),
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
}

/// OpenSSH's StrictHostKeyChecking in our terms (case-insensitive). `ask` cannot be asked
/// in the middle of a batch run, so it is treated as strict (refuse what is unknown).
pub(super) fn strict_host_key_checking(value: &str) -> Option<HostKeyCheck> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "ask" => Some(HostKeyCheck::Strict),
        "accept-new" => Some(HostKeyCheck::AcceptNew),
        "no" | "off" | "false" => Some(HostKeyCheck::Off),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;

    #[test]
    fn strict_host_key_checking_values_map_as_openssh_means_them() {
        use super::strict_host_key_checking as mode;
        use crate::ssh::HostKeyCheck;
        for (value, expected) in [
            ("yes", Some(HostKeyCheck::Strict)),
            ("ask", Some(HostKeyCheck::Strict)),
            ("True", Some(HostKeyCheck::Strict)),
            ("accept-new", Some(HostKeyCheck::AcceptNew)),
            ("no", Some(HostKeyCheck::Off)),
            ("OFF", Some(HostKeyCheck::Off)),
            ("maybe", None),
        ] {
            assert_eq!(mode(value), expected, "{value}");
        }
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
            crate::ssh::algorithms::parse_kex_list("-mlkem768x25519-sha256").ok()
        );
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
}
