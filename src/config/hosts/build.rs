//! From the raw TOML to [`HostEntry`]s: ranges expanded, hosts and ports paired with names.

use super::*;
use crate::config::ssh_config::{ProxyTokens, expand_proxy_command};

pub(super) struct Builder<'a> {
    text: &'a str,
    path: &'a Path,
    warnings: Vec<String>,
    /// The first entry storing a password in plain text, and how many more do: one warning
    /// for the file, not one per host.
    first_password: Option<String>,
    more_passwords: usize,
}

impl<'a> Builder<'a> {
    pub(super) fn new(text: &'a str, path: &'a Path) -> Self {
        Builder {
            text,
            path,
            warnings: Vec::new(),
            first_password: None,
            more_passwords: 0,
        }
    }

    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.path, self.text, span.start, message)
    }

    pub(super) fn build(mut self, raw: RawFile) -> Result<HostFile, ConfigError> {
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
                    let (line, _) = super::super::line_col(self.text, first_span.start);
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
        let kex_algorithms = match &raw.kex_algorithms {
            Some(kex) => Some(
                crate::ssh::algorithms::parse_kex_list(kex.get_ref()).map_err(|e| {
                    self.err(
                        kex.span(),
                        format!("bad value for `kex_algorithms` in [defaults]: {e}"),
                    )
                })?,
            ),
            None => None,
        };
        let (jump, proxy_command) = self.route("[defaults]", raw.jump, raw.proxy_command)?;
        let scrollback_memory = match raw.scrollback_memory {
            Some(mib) if *mib.get_ref() == 0 => {
                return Err(self.err(
                    mib.span(),
                    "`scrollback_memory` in [defaults] must be at least 1 (MiB)".to_string(),
                ));
            }
            mib => mib.map(|m| m.into_inner()),
        };
        Ok(Defaults {
            user: raw.user.map(|s| s.0),
            port: raw.port.map(|p| p.0),
            identity_file: raw.identity_file.map(|s| PathBuf::from(s.0)),
            password_env: raw.password_env.map(|s| s.0),
            connect_timeout,
            command_timeout: raw.command_timeout.map(|t| t.0).filter(|d| !d.is_zero()),
            known_hosts: raw.known_hosts.map(|s| PathBuf::from(s.0)),
            host_key_check: raw.host_key_check,
            kex_algorithms,
            jump,
            proxy_command,
            groups_command: raw.groups_command.map(|s| s.0),
            shell_integration: raw.shell_integration,
            reconnect: raw.reconnect,
            reconnect_tries: raw.reconnect_tries,
            scrollback: raw.scrollback,
            scrollback_memory,
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
                let (line, col) = super::super::line_col(self.text, password.span().start);
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
        let (jump, proxy_command) = self.route(label, raw.jump, raw.proxy_command)?;

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
                proxy_command: proxy_command.clone(),
                shell_integration: raw.shell_integration,
                reconnect: raw.reconnect,
                reconnect_tries: raw.reconnect_tries,
            })
            .collect())
    }

    /// `jump` and `proxy_command` exclude each other, as ProxyJump and ProxyCommand do; the
    /// command's `%` tokens are checked here, where the error can point at them.
    fn route(
        &self,
        label: &str,
        jump: Option<NonEmpty>,
        proxy: Option<Spanned<NonEmpty>>,
    ) -> Result<(Option<String>, Option<String>), ConfigError> {
        let Some(proxy) = proxy else {
            return Ok((jump.map(|j| j.0), None));
        };
        let span = proxy.span();
        if jump.is_some() {
            return Err(self.err(
                span,
                format!(
                    "`jump` and `proxy_command` in {label} exclude each other (as ProxyJump \
                     and ProxyCommand do); keep one"
                ),
            ));
        }
        let command = proxy.into_inner().0;
        let sample = ProxyTokens {
            host: "h",
            port: 22,
            user: "u",
            alias: "a",
        };
        expand_proxy_command(&command, &sample)
            .map_err(|why| self.err(span, format!("bad `proxy_command` in {label}: {why}")))?;
        Ok((None, Some(command)))
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

pub(super) fn expand_host(host: &str) -> Result<Vec<String>, RangeError> {
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
pub(super) enum PortRangeError {
    #[error(transparent)]
    Range(#[from] RangeError),
    #[error("`{0}` includes ports outside 1-65535")]
    OutOfRange(String),
}

pub(super) fn expand_ports(s: &str) -> Result<Vec<u16>, PortRangeError> {
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
