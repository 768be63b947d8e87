//! The parser: a state machine over the lines of one file that builds the
//! blocks (one per `Host` or `Match` line) and validates values.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::expand::{check_tokens, expand_env, expand_tilde};
use super::keywords::{Key, Kind, classify};
use super::lexer::split_line;
use super::matching::{MatchLine, MatchProblem};
use super::values::{parse_count, parse_flag, parse_port, parse_time};
use super::{Block, Condition, HostLine, HostPattern, Place, Setting, SshConfig, chars, pattern};
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

    pub(super) fn start_block(&mut self, conditions: Vec<Condition>) {
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

    pub(super) fn parse_text(
        &mut self,
        text: &str,
        path: &Path,
        outer: &[Condition],
        depth: usize,
    ) {
        let file = self.display(path);
        self.start_block(outer.to_vec());
        let mut current: Vec<Condition> = outer.to_vec();

        for (idx, raw) in text.lines().enumerate() {
            let loc = Loc {
                file: &file,
                line: idx + 1,
            };
            let (keyword, args) = match split_line(raw) {
                Ok(None) => continue,
                Ok(Some(parts)) => parts,
                Err(problem) => {
                    self.warn(format!("{loc}: {problem}; line ignored"));
                    continue;
                }
            };
            let kind = classify(&keyword);
            let condition = match kind {
                Kind::Supported(_, Key::Host) => self.host_line(args, &loc),
                Kind::Supported(_, Key::Match) => self.match_line(&args, &loc),
                _ => {
                    self.directive(kind, &keyword, args, &loc, &current, depth);
                    continue;
                }
            };
            current = outer.to_vec();
            current.push(condition);
            self.start_block(current.clone());
        }
    }

    fn host_line(&mut self, args: Vec<String>, loc: &Loc<'_>) -> Condition {
        if args.is_empty() {
            self.warn(format!("{loc}: Host without patterns matches nothing"));
        }
        Condition::Host(HostLine {
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
        })
    }

    /// A line mtssh cannot evaluate starts a block that never applies, with one warning
    /// (an unsupported criterion is named once however often it is used).
    fn match_line(&mut self, args: &[String], loc: &Loc<'_>) -> Condition {
        match MatchLine::parse(args) {
            Ok(line) => Condition::Match(line),
            Err(MatchProblem::Invalid(why)) => {
                self.warn(format!(
                    "{loc}: {why}; the block below never applies (OpenSSH refuses the file)"
                ));
                Condition::Never
            }
            Err(MatchProblem::Unsupported(name)) => {
                if self.reported_keys.insert(format!("match {name}")) {
                    self.warn(format!(
                        "{loc}: Match {name} is not supported by mtssh; blocks that use it never apply"
                    ));
                }
                Condition::Never
            }
        }
    }

    /// One `-o Key=value` option: what the files accept, but an invalid or unsupported one
    /// is an error (as `ssh -o` refuses it), and Host/Match/Include are not options.
    pub(super) fn command_line_option(&mut self, option: &str) -> Result<(), String> {
        let fail = |why: &str| Err(format!("-o {option}: {why}"));
        let (keyword, args) = match split_line(option) {
            Ok(Some(parts)) => parts,
            Ok(None) => return fail("expected Option=value"),
            Err(problem) => return fail(problem),
        };
        let kind = classify(&keyword);
        match kind {
            Kind::Supported(name, Key::Host | Key::Match | Key::Include) => {
                return fail(&format!("{name} is not allowed on the command line"));
            }
            Kind::Supported(..) | Kind::Silent | Kind::SilentWhenOff(_) => {}
            Kind::Unsupported(name) => return fail(&format!("{name} is not supported by mtssh")),
            Kind::Unknown => return fail("not a known ssh_config option"),
        }
        let before = self.warnings.len();
        let loc = Loc {
            file: "-o",
            line: 0,
        };
        self.directive(kind, &keyword, args, &loc, &[], 0);
        match self.warnings.get(before) {
            Some(problem) => {
                let why = problem.trim_start_matches("-o:0: ");
                let why = [
                    "; hosts it applies to are not connected",
                    " and is ignored",
                    "; line ignored",
                    "; ignored",
                ]
                .iter()
                .find_map(|tail| why.strip_suffix(tail))
                .unwrap_or(why);
                fail(why)
            }
            None => Ok(()),
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
        current: &[Condition],
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
        let place = match key {
            Key::Port => Some(Place::Port),
            Key::HostName => Some(Place::HostName),
            Key::User => Some(Place::User),
            _ => None,
        };
        if !multi && args.len() > 1 {
            let msg = format!("{loc}: {name} takes one value (quote it if it contains spaces)");
            match place {
                Some(place) => self.invalid(place, msg),
                None => self.warn(format!("{msg}; line ignored")),
            }
            return;
        }
        let value = &args[0];
        let invalid =
            |what: &str| format!("{loc}: invalid {name} value \"{value}\"{what}; ignored");
        let fatal = |what: &str| format!("{loc}: invalid {name} value \"{value}\"{what}");
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
                    self.invalid(Place::HostName, fatal(&format!(" ({msg})")));
                    None
                }
            },
            Key::User => Some(Setting::User(value.clone())),
            Key::Port => match parse_port(value) {
                Some(p) => Some(Setting::Port(p)),
                None => {
                    self.invalid(Place::Port, fatal(" (expected a number from 1 to 65535)"));
                    None
                }
            },
            Key::BatchMode | Key::HashKnownHosts => match parse_flag(value) {
                Some(b) if key == Key::BatchMode => Some(Setting::BatchMode(b)),
                Some(b) => Some(Setting::HashKnownHosts(b)),
                None => {
                    self.warn(invalid(" (expected yes or no)"));
                    None
                }
            },
            Key::ConnectionAttempts | Key::ServerAliveCountMax => {
                let least = u32::from(key == Key::ConnectionAttempts);
                match parse_count(value).filter(|n| *n >= least) {
                    Some(n) if key == Key::ConnectionAttempts => {
                        Some(Setting::ConnectionAttempts(n))
                    }
                    Some(n) => Some(Setting::ServerAliveCountMax(n)),
                    None => {
                        self.warn(invalid(&format!(" (expected a number from {least})")));
                        None
                    }
                }
            }
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

    /// An invalid value of an option that decides where to connect: the hosts it is the
    /// first value for fail with `msg` (connecting elsewhere would be worse).
    fn invalid(&mut self, place: Place, msg: String) {
        self.warn(format!("{msg}; hosts it applies to are not connected"));
        self.add(Setting::Invalid(
            place,
            format!("{msg} (fix it in the ssh_config)"),
        ));
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
            "~/.ssh/config:7: invalid Port value \"abc\" (expected a number from 1 to 65535); hosts it applies to are not connected",
            "~/.ssh/config:10: Bogus is not a known ssh_config option and is ignored",
            "~/.ssh/config:17: invalid Port value \"0\" (expected a number from 1 to 65535); hosts it applies to are not connected",
            "~/.ssh/config:18: invalid IdentityFile value \"~/%C\" (token %C is not supported by mtssh); ignored",
            "~/.ssh/config:19: invalid IdentityFile value \"%x\" (unknown token %x); ignored",
            "~/.ssh/config:20: User takes one value (quote it if it contains spaces); hosts it applies to are not connected",
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
    fn match_problems_warn_once_and_the_block_never_applies() {
        let c = cfg("\
Match localnetwork 10.0.0.0/8
  User a
Match localnetwork 192.168.0.0/16
  User b
Match all host x
  User c
Match exec
  User d
Host *
  User e
");
        assert_eq!(
            c.warnings(),
            [
                "~/.ssh/config:1: Match localnetwork is not supported by mtssh; blocks that use it never apply",
                "~/.ssh/config:5: `all` cannot be combined with other Match criteria; the block below never applies (OpenSSH refuses the file)",
                "~/.ssh/config:7: Match exec needs an argument; the block below never applies (OpenSSH refuses the file)",
            ]
        );
        assert_eq!(c.resolve("x", "bob").user, s("e"));
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
