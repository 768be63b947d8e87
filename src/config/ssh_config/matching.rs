//! `Match` lines: parsing the criteria and evaluating them, as OpenSSH's `match_cfg_line`
//! does (readconf.c).
//!
//! * `all` matches; it must stand alone or right after `canonical`/`final`.
//! * `canonical` and `final` match only in the second pass, which OpenSSH makes when a
//!   (non-negated) `final` appears anywhere (mtssh never canonicalizes host names).
//! * `host` matches the target host name as it is so far (the first `HostName` obtained,
//!   `%h` expanded, else the alias), `originalhost` the alias as typed: both
//!   case-insensitive comma lists of patterns. `user` (the remote user so far) and
//!   `localuser` are case-sensitive lists.
//! * `exec CMD` runs CMD (tokens expanded) in the user's shell and matches on exit 0; it is
//!   not run when an earlier criterion of the line already failed.
//! * `!` negates any criterion.

use sha1::{Digest, Sha1};

use super::expand::{check_tokens, expand_tokens};
use super::{chars, pattern};

/// One `Match` line; `criteria` all hold (in order) for the block to apply.
#[derive(Debug, Clone)]
pub(super) struct MatchLine {
    criteria: Vec<Criterion>,
}

#[derive(Debug, Clone)]
struct Criterion {
    negated: bool,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    All,
    Canonical,
    Final,
    Host(String),
    OriginalHost(String),
    User(String),
    LocalUser(String),
    Exec(String),
}

/// Criteria OpenSSH knows (in some version) that mtssh does not evaluate.
const UNSUPPORTED: &[&str] = &[
    "localnetwork",
    "tagged",
    "version",
    "sessiontype",
    "command",
];

/// Why a `Match` line cannot be used; the block it starts then never applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MatchProblem {
    /// OpenSSH would refuse the line too: the text says why.
    Invalid(String),
    /// A criterion mtssh does not evaluate (named once per run).
    Unsupported(String),
}

/// What the criteria are evaluated against: the host's settings so far.
pub(super) struct Context<'a> {
    /// The `HostName` obtained so far with `%h` expanded, else the alias.
    pub host: &'a str,
    /// The alias as typed.
    pub original: &'a str,
    /// The remote user so far (the spec's, the first `User`, else the local user).
    pub user: &'a str,
    pub local_user: &'a str,
    pub port: u16,
    pub home: &'a str,
    /// The `ProxyJump` so far (`""` for none), for `%j`.
    pub jump: &'a str,
    pub final_pass: bool,
}

impl MatchLine {
    pub(super) fn parse(args: &[String]) -> Result<MatchLine, MatchProblem> {
        let mut criteria = Vec::new();
        let mut attributes = 0;
        let mut words = args.iter();
        while let Some(word) = words.next() {
            let (negated, name) = pattern::split_negation(word);
            let lower = name.to_ascii_lowercase();
            if lower == "all" {
                // OpenSSH: "'all' cannot be combined with other Match attributes".
                if attributes > 1 || words.next().is_some() {
                    return Err(MatchProblem::Invalid(
                        "`all` cannot be combined with other Match criteria".into(),
                    ));
                }
                criteria.push(Criterion {
                    negated,
                    test: Test::All,
                });
                return Ok(MatchLine { criteria });
            }
            attributes += 1;
            let test = match lower.as_str() {
                "canonical" => Test::Canonical,
                "final" => Test::Final,
                _ => {
                    let Some(arg) = words.next() else {
                        return Err(MatchProblem::Invalid(format!(
                            "Match {name} needs an argument"
                        )));
                    };
                    match lower.as_str() {
                        "host" => Test::Host(arg.clone()),
                        "originalhost" => Test::OriginalHost(arg.clone()),
                        "user" => Test::User(arg.clone()),
                        "localuser" => Test::LocalUser(arg.clone()),
                        "exec" => {
                            check_tokens(arg, "CdhjkLlnpru").map_err(|e| {
                                MatchProblem::Invalid(format!("Match exec \"{arg}\": {e}"))
                            })?;
                            Test::Exec(arg.clone())
                        }
                        _ if UNSUPPORTED.contains(&lower.as_str()) => {
                            return Err(MatchProblem::Unsupported(lower));
                        }
                        _ => {
                            return Err(MatchProblem::Invalid(format!(
                                "`{name}` is not a Match criterion"
                            )));
                        }
                    }
                }
            };
            criteria.push(Criterion { negated, test });
        }
        if criteria.is_empty() {
            return Err(MatchProblem::Invalid(
                "Match needs at least one criterion (or `all`)".into(),
            ));
        }
        Ok(MatchLine { criteria })
    }

    /// Whether this line asks for the second pass (`final`, not negated).
    pub(super) fn wants_final_pass(&self) -> bool {
        self.criteria
            .iter()
            .any(|c| !c.negated && matches!(c.test, Test::Final))
    }

    /// `exec` runs a command and says whether it exited 0.
    pub(super) fn matches(&self, ctx: &Context<'_>, exec: &mut dyn FnMut(&str) -> bool) -> bool {
        let mut result = true;
        for c in &self.criteria {
            let hit = match &c.test {
                Test::All => {
                    if result {
                        result = !c.negated;
                    }
                    break;
                }
                Test::Canonical | Test::Final => ctx.final_pass,
                Test::Host(list) => list_match(list, ctx.host, true),
                Test::OriginalHost(list) => list_match(list, ctx.original, true),
                Test::User(list) => list_match(list, ctx.user, false),
                Test::LocalUser(list) => list_match(list, ctx.local_user, false),
                Test::Exec(cmd) => {
                    if !result {
                        continue;
                    }
                    exec(&expand_exec(cmd, ctx))
                }
            };
            if hit == c.negated {
                result = false;
            }
        }
        result
    }
}

/// OpenSSH's `match_pattern_list`: comma-separated patterns, a matching `!pattern` vetoes.
/// Host names compare case-insensitively (`match_hostname`).
fn list_match(list: &str, text: &str, fold_case: bool) -> bool {
    let fold = |s: &str| {
        if fold_case {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    let text = chars(&fold(text));
    pattern::list_matches(list.split(',').map(|entry| {
        let (negated, body) = pattern::split_negation(entry);
        (negated, pattern::match_pattern(&chars(&fold(body)), &text))
    }))
}

/// The tokens of `Match exec`, as ssh_config(5) lists them for it.
fn expand_exec(cmd: &str, ctx: &Context<'_>) -> String {
    let this_host = local_hostname();
    let short = this_host.split('.').next().unwrap_or_default().to_string();
    let port = ctx.port.to_string();
    expand_tokens(cmd, |t| match t {
        'C' => Some(connection_hash(
            &this_host, ctx.host, &port, ctx.user, ctx.jump,
        )),
        'd' => Some(ctx.home.to_string()),
        'h' | 'k' => Some(ctx.host.to_string()),
        'j' => Some(ctx.jump.to_string()),
        'L' => Some(short.clone()),
        'l' => Some(this_host.clone()),
        'n' => Some(ctx.original.to_string()),
        'p' => Some(port.clone()),
        'r' => Some(ctx.user.to_string()),
        'u' => Some(ctx.local_user.to_string()),
        _ => None,
    })
}

/// `%C`: SHA-1 over local host, host, port, user and jump host, in hex (OpenSSH's
/// `ssh_connection_hash`).
fn connection_hash(this_host: &str, host: &str, port: &str, user: &str, jump: &str) -> String {
    let mut sha = Sha1::new();
    for part in [this_host, host, port, user, jump] {
        sha.update(part.as_bytes());
    }
    sha.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn local_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname writes at most that.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Result<MatchLine, MatchProblem> {
        let args: Vec<String> = text.split_whitespace().map(String::from).collect();
        MatchLine::parse(&args)
    }

    fn ctx(final_pass: bool) -> Context<'static> {
        Context {
            host: "web.example",
            original: "Web",
            user: "deploy",
            local_user: "alice",
            port: 2222,
            home: "/home/alice",
            jump: "",
            final_pass,
        }
    }

    fn eval(text: &str, final_pass: bool) -> bool {
        let line = line(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        line.matches(&ctx(final_pass), &mut |cmd| cmd == "true")
    }

    #[test]
    fn each_criterion_and_its_negation() {
        let table: &[(&str, bool, bool)] = &[
            ("all", false, true),
            ("!all", false, false),
            ("host web.*", false, true),
            ("host WEB.EXAMPLE", false, true),
            ("!host web.*", false, false),
            ("host db*,web*", false, true),
            ("host *,!web.example", false, false),
            ("originalhost web", false, true),
            ("!originalhost web", false, false),
            ("originalhost web.example", false, false),
            ("user deploy", false, true),
            ("user Deploy", false, false),
            ("!user root", false, true),
            ("localuser al*", false, true),
            ("!localuser alice", false, false),
            ("exec true", false, true),
            ("exec false", false, false),
            ("!exec false", false, true),
            ("final", false, false),
            ("final", true, true),
            ("!final", true, false),
            ("canonical", true, true),
            ("canonical", false, false),
            ("!canonical", false, true),
            ("canonical all", true, true),
            ("final all", false, false),
            ("host web.* user deploy", false, true),
            ("host web.* user root", false, false),
        ];
        for &(text, final_pass, expected) in table {
            assert_eq!(
                eval(text, final_pass),
                expected,
                "Match {text} (final {final_pass})"
            );
        }
    }

    #[test]
    fn exec_is_skipped_after_a_failed_criterion_and_sees_the_tokens() {
        let mut ran = Vec::new();
        let l = line("user root exec true").expect("parses");
        assert!(!l.matches(&ctx(false), &mut |c| {
            ran.push(c.to_string());
            true
        }));
        assert!(ran.is_empty(), "{ran:?}");
        let l =
            MatchLine::parse(&["exec".into(), "t %h %n %p %r %u %d %j %%".into()]).expect("parses");
        assert!(l.matches(&ctx(false), &mut |c| {
            ran.push(c.to_string());
            true
        }));
        assert_eq!(ran, ["t web.example Web 2222 deploy alice /home/alice  %"]);
    }

    #[test]
    fn broken_lines_are_problems_not_panics() {
        for text in ["", "host", "all host a", "host a all b", "exec", "exec %q"] {
            assert!(
                matches!(line(text), Err(MatchProblem::Invalid(_))),
                "{text:?}: {:?}",
                line(text)
            );
        }
        assert_eq!(
            line("localnetwork 10.0.0.0/8").err(),
            Some(MatchProblem::Unsupported("localnetwork".into()))
        );
        assert!(matches!(line("bogus x"), Err(MatchProblem::Invalid(_))));
        // OpenSSH accepts `all` after one other criterion.
        assert!(line("host a all").is_ok());
        assert!(line("final").expect("parses").wants_final_pass());
        assert!(!line("!final").expect("parses").wants_final_pass());
    }
}
