//! Resolving the blocks for one host, as OpenSSH does: one pass over the configuration in
//! file order where the first value obtained for an option wins and `Match` lines see the
//! values obtained so far, then, when some `Match final` asks for it, a second pass with
//! the host name decided (where `Host` lines match that name, and `final`/`canonical`
//! criteria hold).

use super::expand::expand_tokens;
use super::matching::Context;
use super::{Condition, HostConfig, Place, Setting, SshConfig};

/// What a host is resolved for: the alias as typed, plus the user and port the spec (or a
/// flag above ssh_config) gives, which win over `User`/`Port` and which `Match user` sees.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub alias: &'a str,
    pub user: Option<&'a str>,
    pub port: Option<u16>,
    /// Feeds `%u`, `Match localuser`, and the remote user when nothing names one.
    pub local_user: &'a str,
}

/// Runs a `Match exec` command: `Ok(true)` when it exited 0, `Err` when it could not run
/// (the reason becomes a warning and the criterion does not match).
pub type Exec<'a> = dyn FnMut(&str) -> Result<bool, String> + 'a;

/// The values obtained so far; paths are expanded once both passes are done.
struct Pass<'c> {
    out: HostConfig,
    /// The first HostName, `%h` expanded (not yet lowercased).
    host_name: Option<String>,
    port_set: bool,
    /// A `User` (or the query's user) was obtained, possibly an invalid one.
    user_set: bool,
    identities: Vec<&'c str>,
    known_hosts: Option<&'c [String]>,
}

impl SshConfig {
    /// Effective settings for one host; `exec` runs `Match exec` commands.
    pub fn resolve_with(&self, query: &Query<'_>, exec: &mut Exec<'_>) -> HostConfig {
        let mut pass = Pass {
            out: HostConfig {
                user: query.user.map(String::from),
                port: query.port,
                ..HostConfig::default()
            },
            host_name: None,
            port_set: query.port.is_some(),
            user_set: query.user.is_some(),
            identities: Vec::new(),
            known_hosts: None,
        };
        self.run_pass(&mut pass, query, query.alias, false, exec);
        let wants_final = self.blocks.iter().any(|b| {
            b.conditions
                .iter()
                .any(|c| matches!(c, Condition::Match(m) if m.wants_final_pass()))
        });
        if wants_final {
            // OpenSSH decides the host name before re-reading: a HostName in the final
            // pass no longer applies, and Host lines now match that name.
            let decided = effective_host(pass.host_name.as_deref(), query.alias);
            pass.host_name = Some(decided.clone());
            self.run_pass(&mut pass, query, &decided, true, exec);
        }
        self.finish(pass, query)
    }

    fn run_pass<'c>(
        &'c self,
        pass: &mut Pass<'c>,
        query: &Query<'_>,
        host_line_name: &str,
        final_pass: bool,
        exec: &mut Exec<'_>,
    ) {
        for block in &self.blocks {
            let applies = block.conditions.iter().all(|c| match c {
                Condition::Host(line) => line.matches(host_line_name),
                Condition::Never => false,
                Condition::Match(line) => {
                    let ctx = Context {
                        host: pass.host_name.as_deref().unwrap_or(query.alias),
                        original: query.alias,
                        user: pass.out.user.as_deref().unwrap_or(query.local_user),
                        local_user: query.local_user,
                        port: pass.out.port.unwrap_or(22),
                        home: &self.home.to_string_lossy(),
                        jump: pass
                            .out
                            .proxy_jump
                            .as_deref()
                            .filter(|j| !j.eq_ignore_ascii_case("none"))
                            .unwrap_or(""),
                        final_pass,
                    };
                    let warnings = &mut pass.out.warnings;
                    line.matches(&ctx, &mut |cmd| match exec(cmd) {
                        Ok(hit) => hit,
                        Err(why) => {
                            let msg = format!("Match exec `{cmd}` {why}; treated as not matching");
                            if !warnings.contains(&msg) {
                                warnings.push(msg);
                            }
                            false
                        }
                    })
                }
            });
            if applies {
                for setting in &block.settings {
                    pass.apply(setting, query.alias);
                }
            }
        }
    }

    /// Expands the raw values with the host's final name, user and port.
    fn finish(&self, mut pass: Pass<'_>, query: &Query<'_>) -> HostConfig {
        let alias = query.alias;
        let local_user = query.local_user;
        let mut out = std::mem::take(&mut pass.out);
        out.host_name = (pass.host_name.as_deref())
            .filter(|h| !h.is_empty())
            .map(str::to_ascii_lowercase);
        // OpenSSH lowercases the target even without HostName, and %h/%r/%p
        // see the effective values, not the raw ones.
        let target = effective_host(out.host_name.as_deref(), alias);
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
        for raw in pass.identities {
            let expanded = expand_tokens(raw, lookup);
            if !out.identity_files.contains(&expanded) {
                out.identity_files.push(expanded);
            }
        }
        if let Some(files) = pass.known_hosts {
            out.user_known_hosts_files = files.iter().map(|f| expand_tokens(f, lookup)).collect();
        }
        out
    }
}

impl<'c> Pass<'c> {
    fn apply(&mut self, setting: &'c Setting, alias: &str) {
        let out = &mut self.out;
        match setting {
            Setting::HostName(v) => {
                self.host_name
                    .get_or_insert_with(|| expand_host_name(v, alias));
            }
            Setting::Invalid(Place::HostName, why) => {
                if self.host_name.is_none() {
                    // Taken, so no later HostName applies: the host fails with `why`.
                    self.host_name = Some(String::new());
                    out.error.get_or_insert_with(|| why.clone());
                }
            }
            Setting::Port(v) if !self.port_set => {
                self.port_set = true;
                out.port = Some(*v);
            }
            Setting::Invalid(Place::Port, why) if !self.port_set => {
                self.port_set = true;
                out.error.get_or_insert_with(|| why.clone());
            }
            Setting::Port(_) | Setting::Invalid(Place::Port, _) => {}
            Setting::User(v) if !self.user_set => {
                self.user_set = true;
                out.user = Some(v.clone());
            }
            Setting::Invalid(Place::User, why) if !self.user_set => {
                self.user_set = true;
                out.error.get_or_insert_with(|| why.clone());
            }
            Setting::User(_) | Setting::Invalid(Place::User, _) => {}
            Setting::IdentityFile(v) => self.identities.push(v),
            Setting::IdentitiesOnly(v) => {
                out.identities_only.get_or_insert(*v);
            }
            // OpenSSH's readconf: a ProxyCommand (even `none`) shuts out a later ProxyJump;
            // `ProxyJump none` does not shut out a later ProxyCommand.
            Setting::ProxyJump(v) if out.proxy_command.is_none() => {
                out.proxy_jump.get_or_insert_with(|| v.clone());
            }
            Setting::ProxyJump(_) => {}
            Setting::ProxyCommand(v) => {
                let jumps =
                    (out.proxy_jump.as_deref()).is_some_and(|j| !j.eq_ignore_ascii_case("none"));
                if !jumps {
                    out.proxy_command.get_or_insert_with(|| v.clone());
                }
            }
            Setting::StrictHostKeyChecking(v) => {
                out.strict_host_key_checking.get_or_insert(*v);
            }
            Setting::UserKnownHostsFiles(v) => {
                self.known_hosts.get_or_insert(v);
            }
            Setting::ConnectTimeout(v) => {
                out.connect_timeout.get_or_insert(*v);
            }
            Setting::ServerAliveInterval(v) => {
                out.server_alive_interval.get_or_insert(*v);
            }
            Setting::ServerAliveCountMax(v) => {
                out.server_alive_count_max.get_or_insert(*v);
            }
            Setting::ConnectionAttempts(v) => {
                out.connection_attempts.get_or_insert(*v);
            }
            Setting::BatchMode(v) => {
                out.batch_mode.get_or_insert(*v);
            }
            Setting::HashKnownHosts(v) => {
                out.hash_known_hosts.get_or_insert(*v);
            }
            Setting::KexAlgorithms(v) => {
                out.kex_algorithms.get_or_insert_with(|| v.clone());
            }
        }
    }
}

/// `HostName` accepts `%h` (the alias) and `%%`.
fn expand_host_name(raw: &str, alias: &str) -> String {
    expand_tokens(raw, |c| match c {
        'h' => Some(alias.to_string()),
        _ => None,
    })
}

/// The name connected to: the (expanded, lowercased) HostName, else the alias lowercased.
fn effective_host(host_name: Option<&str>, alias: &str) -> String {
    match host_name {
        Some(h) => h.to_string(),
        None => alias.to_ascii_lowercase(),
    }
    .to_ascii_lowercase()
}
