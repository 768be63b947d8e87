//! `[user@]host[:port]` as typed on the command line (`-H`) or listed in a
//! plain host file.

use std::fmt;
use std::net::Ipv6Addr;
use std::path::Path;

use super::ConfigError;
use super::range::{RangeError, expand};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl fmt::Display for HostSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        match self.port {
            // Brackets keep the port separable from an IPv6 address.
            Some(port) if self.host.contains(':') => write!(f, "[{}]:{port}", self.host),
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostSpecError {
    #[error("empty host{}", in_spec(.spec))]
    EmptyHost { spec: String },
    #[error("{}", crate::lang::trf("empty user in `{spec}`", &[("spec", spec)]))]
    EmptyUser { spec: String },
    #[error("{}", crate::lang::trf("invalid port `{port}` in `{spec}`: {reason}", &[("port", port), ("spec", spec), ("reason", &crate::lang::tr(reason))]))]
    BadPort {
        spec: String,
        port: String,
        reason: &'static str,
    },
    #[error("{}", crate::lang::trf("invalid host `{host}` in `{spec}`: {reason}", &[("host", host), ("spec", spec), ("reason", &crate::lang::tr(reason))]))]
    BadHost {
        spec: String,
        host: String,
        reason: &'static str,
    },
    #[error(transparent)]
    Range(#[from] RangeError),
}

fn in_spec(spec: &str) -> String {
    if spec.is_empty() {
        String::new()
    } else {
        format!(" in `{spec}`")
    }
}

/// A spec split into its parts, before any range expansion.
struct Parts<'a> {
    user: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
    /// IPv6 literals skip range expansion: their brackets are not ranges.
    ipv6: bool,
}

fn split(spec: &str) -> Result<Parts<'_>, HostSpecError> {
    let bad_host = |host: &str, reason| HostSpecError::BadHost {
        spec: spec.to_owned(),
        host: host.to_owned(),
        reason,
    };
    // Split at the last `@` so that users like `me@corp` still work.
    let (user, rest) = match spec.rsplit_once('@') {
        Some(("", _)) => {
            return Err(HostSpecError::EmptyUser {
                spec: spec.to_owned(),
            });
        }
        Some((user, rest)) => (Some(user), rest),
        None => (None, spec),
    };
    if rest.is_empty() {
        return Err(HostSpecError::EmptyHost {
            spec: spec.to_owned(),
        });
    }

    if let Some(inner) = rest.strip_prefix('[')
        && let Some((addr, after)) = inner.split_once(']')
        && addr.contains(':')
    {
        check_ipv6(addr).map_err(|reason| bad_host(addr, reason))?;
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(parse_port(spec, port)?),
                None => return Err(bad_host(rest, "unexpected text after `]`")),
            },
        };
        return Ok(Parts {
            user,
            host: addr,
            port,
            ipv6: true,
        });
    }

    match rest.matches(':').count() {
        0 => Ok(Parts {
            user,
            host: rest,
            port: None,
            ipv6: false,
        }),
        1 => {
            let (host, port) = rest.split_once(':').unwrap_or((rest, ""));
            if host.is_empty() {
                return Err(HostSpecError::EmptyHost {
                    spec: spec.to_owned(),
                });
            }
            Ok(Parts {
                user,
                host,
                port: Some(parse_port(spec, port)?),
                ipv6: false,
            })
        }
        // Several colons can only be a bare IPv6 address, which then cannot
        // carry a port; `[addr]:port` is the way to give one.
        _ => {
            check_ipv6(rest).map_err(|reason| bad_host(rest, reason))?;
            Ok(Parts {
                user,
                host: rest,
                port: None,
                ipv6: true,
            })
        }
    }
}

fn check_ipv6(addr: &str) -> Result<(), &'static str> {
    // A zone (`fe80::1%eth0`) is valid for ssh but not for `Ipv6Addr`.
    let bare = addr.split_once('%').map_or(addr, |(a, _)| a);
    bare.parse::<Ipv6Addr>()
        .map(|_| ())
        .map_err(|_| "not a valid IPv6 address (use `[addr]:port` for a port)")
}

fn parse_port(spec: &str, port: &str) -> Result<u16, HostSpecError> {
    let bad = |reason| HostSpecError::BadPort {
        spec: spec.to_owned(),
        port: port.to_owned(),
        reason,
    };
    if port.is_empty() {
        return Err(bad("missing port number"));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not a number"));
    }
    match port.parse::<u32>() {
        Ok(n @ 1..=65535) => u16::try_from(n).map_err(|_| bad("must be 1-65535")),
        _ => Err(bad("must be 1-65535")),
    }
}

fn check_host(spec: &str, host: &str, allow_ranges: bool) -> Result<(), HostSpecError> {
    let bad = |reason| HostSpecError::BadHost {
        spec: spec.to_owned(),
        host: host.to_owned(),
        reason,
    };
    if host.is_empty() {
        return Err(HostSpecError::EmptyHost {
            spec: spec.to_owned(),
        });
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains whitespace"));
    }
    // A range's `/step` is checked by the range; every expanded name is checked again.
    if host.contains(['/', '\\']) && !allow_ranges {
        return Err(bad("contains a slash"));
    }
    if host.contains(',') && !allow_ranges {
        return Err(bad("contains `,`; give one host at a time"));
    }
    if host.contains(['[', ']']) && !allow_ranges {
        return Err(bad("ranges are only allowed in host lists"));
    }
    Ok(())
}

/// Parses one `[user@]host[:port]`. IPv6 addresses are accepted bare (`::1`,
/// no port) or bracketed (`[::1]:2222`). Ranges are rejected here; use
/// [`parse_host_list_arg`] for those.
pub fn parse_host_spec(s: &str) -> Result<HostSpec, HostSpecError> {
    let spec = s.trim();
    let parts = split(spec)?;
    if !parts.ipv6 {
        check_host(spec, parts.host, false)?;
    }
    Ok(HostSpec {
        user: parts.user.map(str::to_owned),
        host: parts.host.to_owned(),
        port: parts.port,
    })
}

/// Parses one spec whose host part may be a range, yielding one spec per
/// expanded host, all sharing the user and port.
fn parse_ranged(spec: &str) -> Result<Vec<HostSpec>, HostSpecError> {
    let parts = split(spec)?;
    let hosts = if parts.ipv6 {
        vec![parts.host.to_owned()]
    } else {
        check_host(spec, parts.host, true)?;
        expand(parts.host)?
    };
    hosts
        .into_iter()
        .map(|host| {
            // Expansion can only add digits, but a comma outside brackets
            // (`a,b` on a host-file line) is still wrong.
            check_host(spec, &host, false)?;
            Ok(HostSpec {
                user: parts.user.map(str::to_owned),
                host,
                port: parts.port,
            })
        })
        .collect()
}

/// Parses a `-H` argument: comma-separated specs whose hosts may use ranges
/// (`-H web[1-3],admin@db:2222`). Commas inside brackets belong to the range.
/// Empty items from stray commas are skipped, but an all-empty list is an
/// error.
pub fn parse_host_list_arg(s: &str) -> Result<Vec<HostSpec>, HostSpecError> {
    let mut out = Vec::new();
    for item in split_top_level(s) {
        let item = item.trim();
        if !item.is_empty() {
            out.extend(parse_ranged(item)?);
        }
    }
    if out.is_empty() {
        return Err(HostSpecError::EmptyHost { spec: s.to_owned() });
    }
    Ok(out)
}

pub(crate) fn split_top_level(s: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&s[start..]);
    items
}

/// Parses a plain host file: one `[user@]host[:port]` per line (ranges
/// allowed), `#` starts a comment, blank lines are ignored. `path` only
/// labels errors.
pub fn parse_plain_host_file(text: &str, path: &Path) -> Result<Vec<HostSpec>, ConfigError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let content = line.split_once('#').map_or(line, |(before, _)| before);
        let item = content.trim();
        if item.is_empty() {
            continue;
        }
        let indent = content.len() - content.trim_start().len();
        let specs = parse_ranged(item)
            .map_err(|e| ConfigError::at(path, text, line_start + indent, e.to_string()))?;
        out.extend(specs);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(user: Option<&str>, host: &str, port: Option<u16>) -> HostSpec {
        HostSpec {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn parses_forms() {
        let ok = |s| parse_host_spec(s).unwrap();
        assert_eq!(ok("host"), spec(None, "host", None));
        assert_eq!(ok("host:22"), spec(None, "host", Some(22)));
        assert_eq!(ok("u@host:2222"), spec(Some("u"), "host", Some(2222)));
        assert_eq!(ok("me@corp@host"), spec(Some("me@corp"), "host", None));
        assert_eq!(ok("[::1]:2222"), spec(None, "::1", Some(2222)));
        assert_eq!(ok("[::1]"), spec(None, "::1", None));
        assert_eq!(ok("user@[fe80::1]"), spec(Some("user"), "fe80::1", None));
        assert_eq!(ok("::1"), spec(None, "::1", None));
        assert_eq!(ok("fe80::1%eth0"), spec(None, "fe80::1%eth0", None));
        assert_eq!(ok(" 10.0.0.1:65535 "), spec(None, "10.0.0.1", Some(65535)));
    }

    #[test]
    fn display_round_trips() {
        for s in ["host", "u@host:22", "[::1]:2222", "u@fe80::1"] {
            assert_eq!(parse_host_spec(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn errors() {
        let cases = [
            "",
            "@host",
            "user@",
            ":22",
            "host:",
            "host:0",
            "host:65536",
            "host:99999999999",
            "host:ssh",
            "host:-1",
            "[::1]:x",
            "[::1]x",
            "a:b:c",
            "web[1-3]",
            "bad host",
            "a/b",
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|c| format!("{c:?} => {}", parse_host_spec(c).unwrap_err()))
            .collect();
        insta::assert_snapshot!(out.join("\n"));
    }

    #[test]
    fn host_list_expands_ranges() {
        let got = parse_host_list_arg("a,b, user@c:2").unwrap();
        assert_eq!(
            got,
            [
                spec(None, "a", None),
                spec(None, "b", None),
                spec(Some("user"), "c", Some(2))
            ]
        );
        let got = parse_host_list_arg("root@web[1-3]:2200,db[1,3],[::1]:22,").unwrap();
        let shown: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "root@web1:2200",
                "root@web2:2200",
                "root@web3:2200",
                "db1",
                "db3",
                "[::1]:22"
            ]
        );
        assert!(matches!(
            parse_host_list_arg("web[3-1]"),
            Err(HostSpecError::Range(RangeError::Reversed { .. }))
        ));
        assert!(matches!(
            parse_host_list_arg("web[1-2,a"),
            Err(HostSpecError::Range(RangeError::Unbalanced { .. }))
        ));
        assert!(matches!(
            parse_host_list_arg(" , "),
            Err(HostSpecError::EmptyHost { .. })
        ));
    }

    #[test]
    fn plain_host_file() {
        let text = "# fleet\n\nweb[1-2]  # frontends\n  admin@db:2222\n[::1]:22\n";
        let got = parse_plain_host_file(text, Path::new("hosts.txt")).unwrap();
        let shown: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["web1", "web2", "admin@db:2222", "[::1]:22"]);
    }

    #[test]
    fn plain_host_file_errors() {
        let path = Path::new("hosts.txt");
        let cases = [
            "web1\n  db:0\n",
            "ok\n\n# c\nweb[1-\n",
            "a,b\n",
            "éé\n  u@:22\n",
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|t| parse_plain_host_file(t, path).unwrap_err().to_string())
            .collect();
        insta::assert_snapshot!(out.join("\n"));
    }
}
