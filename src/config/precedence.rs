//! The one rule of the configuration, as a pure function: for each setting of a host, the
//! first source that sets it wins, in the order
//!
//! **the host's entry > the command line > `[defaults]` > ssh_config > built-in**.
//!
//! No IO here: the files, the environment and the known_hosts stores stay in
//! [`super::inventory`], which calls [`pick`] and adds what needs them (passwords read from
//! the environment, jump chains, stores).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ssh_config::HostConfig;
use super::{Defaults, HostEntry, HostOptions};
use crate::ssh::HostKeyCheck;
use crate::ssh::algorithms::KexList;
use crate::ssh::target::DEFAULT_CONNECT_TIMEOUT;

/// The variable a password is read from when nothing names another.
pub const PASSWORD_ENV: &str = "MTSSH_PASSWORD";

/// Where one host's settings come from, highest first.
pub struct Sources<'a> {
    pub entry: &'a HostEntry,
    pub cli: &'a HostOptions,
    pub defaults: &'a Defaults,
    /// This host's ssh_config settings.
    pub ssh: &'a HostConfig,
}

/// The built-in values, which depend on the machine (so the caller finds them).
pub struct BuiltIn<'a> {
    pub local_user: &'a str,
    /// OpenSSH's default identities that exist.
    pub default_keys: &'a [PathBuf],
    /// For `~` in paths.
    pub home: &'a Path,
}

/// One host's settings, every one decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    /// What to connect to: ssh_config's HostName for the entry's `host`, else `host`.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub identity_files: Vec<PathBuf>,
    /// The variable to read the password from (unless the entry holds one).
    pub password_env: String,
    pub connect_timeout: Duration,
    /// A jump chain (`ProxyJump` syntax); `none` or empty means none.
    pub jump: Option<String>,
    /// A ProxyCommand, tokens not yet expanded. Never set together with `jump`.
    pub proxy_command: Option<String>,
    pub kex: Option<KexList>,
    pub host_key_check: HostKeyCheck,
    pub keepalive: Option<Duration>,
    pub keepalive_max: usize,
    pub connection_attempts: u32,
    pub batch_mode: bool,
    pub hash_known_hosts: bool,
    pub identities_only: bool,
    /// ssh_config's reason not to connect at all: the Port or HostName it would have
    /// used is invalid (a port from the entry or `[defaults]` comes first, as a valid one
    /// would, and then the invalid value does not matter).
    pub refusal: Option<String>,
}

/// Decides every setting of one host; see the module doc for the order.
pub fn pick(sources: &Sources<'_>, built_in: &BuiltIn<'_>) -> Picked {
    let Sources {
        entry,
        cli,
        defaults,
        ssh,
    } = sources;
    let expand = |p: &Path| super::inventory::expand_tilde(p, built_in.home);
    // ssh_config was matched against `entry.host`, the name as typed (OpenSSH matches Host
    // patterns against the alias, whatever user or port the spec adds), so its HostName
    // applies for every form: `alias`, `user@alias:port`, a host-list entry's `host`.
    let host = ssh.host_name.clone().unwrap_or_else(|| entry.host.clone());
    let user = (entry.user.as_ref())
        .or(cli.user.as_ref())
        .or(defaults.user.as_ref())
        .or(ssh.user.as_ref())
        .cloned()
        .unwrap_or_else(|| built_in.local_user.to_string());
    let identity_files = match (entry.identity_file.as_ref())
        .or(cli.identity.as_ref())
        .or(defaults.identity_file.as_ref())
    {
        Some(path) => vec![expand(path)],
        None if !ssh.identity_files.is_empty() => ssh
            .identity_files
            .iter()
            .map(|p| expand(Path::new(p)))
            .collect(),
        None => built_in.default_keys.to_vec(),
    };
    let password_env = (entry.password_env.as_deref())
        .or(cli.password_env.as_deref())
        .or(defaults.password_env.as_deref())
        .unwrap_or(PASSWORD_ENV)
        .to_string();
    let (jump, proxy_command) = route(sources);
    let port = entry.port.or(defaults.port);
    Picked {
        host,
        port: port.or(ssh.port).unwrap_or(22),
        user,
        identity_files,
        password_env,
        connect_timeout: (cli.connect_timeout)
            .or(defaults.connect_timeout)
            .or(ssh.connect_timeout.map(Duration::from_secs))
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        jump,
        proxy_command,
        kex: (cli.kex.as_ref())
            .or(defaults.kex_algorithms.as_ref())
            .or(ssh.kex_algorithms.as_ref())
            .cloned(),
        host_key_check: (cli.host_key_check)
            .or(defaults.host_key_check)
            .or(ssh.strict_host_key_checking)
            .unwrap_or(HostKeyCheck::AcceptNew),
        keepalive: ssh
            .server_alive_interval
            .filter(|s| *s > 0)
            .map(Duration::from_secs),
        keepalive_max: (ssh.server_alive_count_max)
            .map_or(crate::ssh::target::DEFAULT_KEEPALIVE_MAX, |n| n as usize),
        connection_attempts: ssh.connection_attempts.unwrap_or(1).max(1),
        batch_mode: ssh.batch_mode.unwrap_or(false),
        hash_known_hosts: ssh.hash_known_hosts.unwrap_or(false),
        identities_only: ssh.identities_only.unwrap_or(false),
        refusal: ssh.error.clone(),
    }
}

/// How the host is reached: a jump chain or a ProxyCommand, at most one. The first source
/// that names either decides, so a `jump` in the host's entry overrides ssh_config's
/// ProxyCommand, and `none` there means "directly" whatever lower sources say.
fn route(sources: &Sources<'_>) -> (Option<String>, Option<String>) {
    let ssh = sources.ssh;
    let candidates = [
        (
            sources.entry.jump.as_deref(),
            sources.entry.proxy_command.as_deref(),
        ),
        (sources.cli.jump.as_deref(), None),
        (
            sources.defaults.jump.as_deref(),
            sources.defaults.proxy_command.as_deref(),
        ),
        (ssh.proxy_jump.as_deref(), ssh.proxy_command.as_deref()),
    ];
    let (jump, proxy) = candidates
        .into_iter()
        .find(|(jump, proxy)| jump.is_some() || proxy.is_some())
        .unwrap_or_default();
    let jump = jump.filter(|j| !j.eq_ignore_ascii_case("none") && !j.is_empty());
    // OpenSSH compares ProxyCommand's `none` case-sensitively.
    let proxy = proxy.filter(|p| *p != "none" && !p.is_empty() && jump.is_none());
    (jump.map(String::from), proxy.map(String::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::algorithms::parse_kex_list;

    /// Which sources set the setting under test.
    #[derive(Clone, Copy)]
    struct Set {
        entry: bool,
        cli: bool,
        defaults: bool,
        ssh: bool,
    }

    /// Every combination of the four sources, and the one that must win.
    fn combinations() -> impl Iterator<Item = (Set, &'static str)> {
        (0..16u8).map(|bits| {
            let set = Set {
                entry: bits & 8 != 0,
                cli: bits & 4 != 0,
                defaults: bits & 2 != 0,
                ssh: bits & 1 != 0,
            };
            let winner = if set.entry {
                "entry"
            } else if set.cli {
                "cli"
            } else if set.defaults {
                "defaults"
            } else if set.ssh {
                "ssh"
            } else {
                "built-in"
            };
            (set, winner)
        })
    }

    fn entry() -> HostEntry {
        HostEntry::from_spec(crate::config::parse_host_spec("web1").unwrap())
    }

    fn run(entry: &HostEntry, cli: &HostOptions, defaults: &Defaults, ssh: &HostConfig) -> Picked {
        let keys = [PathBuf::from("/home/u/.ssh/id_ed25519")];
        let built_in = BuiltIn {
            local_user: "local",
            default_keys: &keys,
            home: Path::new("/home/u"),
        };
        pick(
            &Sources {
                entry,
                cli,
                defaults,
                ssh,
            },
            &built_in,
        )
    }

    /// Builds the four sources with `value(source)` in each one that `set` says.
    fn sources(
        set: Set,
        apply: impl Fn(&str, &mut HostEntry, &mut HostOptions, &mut Defaults, &mut HostConfig),
    ) -> (HostEntry, HostOptions, Defaults, HostConfig) {
        let (mut e, mut c, mut d, mut s) = (
            entry(),
            HostOptions::default(),
            Defaults::default(),
            HostConfig::default(),
        );
        for (on, name) in [
            (set.entry, "entry"),
            (set.cli, "cli"),
            (set.defaults, "defaults"),
            (set.ssh, "ssh"),
        ] {
            if on {
                apply(name, &mut e, &mut c, &mut d, &mut s);
            }
        }
        (e, c, d, s)
    }

    #[test]
    fn user_follows_entry_cli_defaults_ssh_config_then_the_local_user() {
        for (set, winner) in combinations() {
            let (e, c, d, s) = sources(set, |who, e, c, d, s| match who {
                "entry" => e.user = Some("entry".into()),
                "cli" => c.user = Some("cli".into()),
                "defaults" => d.user = Some("defaults".into()),
                _ => s.user = Some("ssh".into()),
            });
            let expected = if winner == "built-in" {
                "local"
            } else {
                winner
            };
            assert_eq!(run(&e, &c, &d, &s).user, expected);
        }
    }

    #[test]
    fn identity_and_password_variable_and_jump_follow_the_same_order() {
        for (set, winner) in combinations() {
            let (e, c, d, s) = sources(set, |who, e, c, d, s| {
                let path = PathBuf::from(format!("~/{who}"));
                match who {
                    "entry" => {
                        e.identity_file = Some(path);
                        e.password_env = Some("entry".into());
                        e.jump = Some("entry".into());
                    }
                    "cli" => {
                        c.identity = Some(path);
                        c.password_env = Some("cli".into());
                        c.jump = Some("cli".into());
                    }
                    "defaults" => {
                        d.identity_file = Some(path);
                        d.password_env = Some("defaults".into());
                        d.jump = Some("defaults".into());
                    }
                    _ => {
                        s.identity_files = vec!["~/ssh".into()];
                        s.proxy_jump = Some("ssh".into());
                    }
                }
            });
            let picked = run(&e, &c, &d, &s);
            let key = match winner {
                "built-in" => PathBuf::from("/home/u/.ssh/id_ed25519"),
                who => PathBuf::from(format!("/home/u/{who}")),
            };
            assert_eq!(picked.identity_files, [key], "identity, {winner}");
            // ssh_config has no password variable: past [defaults] it is the built-in one.
            let var = match winner {
                "ssh" | "built-in" => PASSWORD_ENV,
                who => who,
            };
            assert_eq!(picked.password_env, var, "password_env, {winner}");
            let jump = (winner != "built-in").then(|| winner.to_string());
            assert_eq!(picked.jump, jump, "jump, {winner}");
        }
    }

    #[test]
    fn settings_the_entry_cannot_set_start_at_the_command_line() {
        let kex = |spec: &str| parse_kex_list(spec).ok();
        for (set, winner) in combinations().filter(|(set, _)| !set.entry) {
            let (e, c, d, s) = sources(set, |who, _, c, d, s| match who {
                "cli" => {
                    c.connect_timeout = Some(Duration::from_secs(1));
                    c.kex = kex("curve25519-sha256");
                    c.host_key_check = Some(HostKeyCheck::Strict);
                }
                "defaults" => {
                    d.connect_timeout = Some(Duration::from_secs(2));
                    d.kex_algorithms = kex("^curve25519-sha256");
                    d.host_key_check = Some(HostKeyCheck::Off);
                }
                _ => {
                    s.connect_timeout = Some(3);
                    s.kex_algorithms = kex("-mlkem768x25519-sha256");
                    s.strict_host_key_checking = Some(HostKeyCheck::Strict);
                }
            });
            let picked = run(&e, &c, &d, &s);
            let (secs, spec, mode) = match winner {
                "cli" => (1, Some("curve25519-sha256"), HostKeyCheck::Strict),
                "defaults" => (2, Some("^curve25519-sha256"), HostKeyCheck::Off),
                "ssh" => (3, Some("-mlkem768x25519-sha256"), HostKeyCheck::Strict),
                _ => (10, None, HostKeyCheck::AcceptNew),
            };
            assert_eq!(
                picked.connect_timeout,
                Duration::from_secs(secs),
                "{winner}"
            );
            assert_eq!(picked.kex, spec.and_then(kex), "{winner}");
            assert_eq!(picked.host_key_check, mode, "{winner}");
        }
    }

    #[test]
    fn port_has_no_command_line_flag() {
        for (set, winner) in combinations().filter(|(set, _)| !set.cli) {
            let (e, c, d, s) = sources(set, |who, e, _, d, s| match who {
                "entry" => e.port = Some(1),
                "defaults" => d.port = Some(2),
                _ => s.port = Some(3),
            });
            let expected = match winner {
                "entry" => 1,
                "defaults" => 2,
                "ssh" => 3,
                _ => 22,
            };
            assert_eq!(run(&e, &c, &d, &s).port, expected, "{winner}");
        }
    }

    #[test]
    fn host_name_applies_whatever_name_user_or_port_the_entry_has() {
        let ssh = HostConfig {
            host_name: Some("10.0.0.1".into()),
            port: Some(2222),
            user: Some("cfg".into()),
            ..HostConfig::default()
        };
        let (c, d) = (HostOptions::default(), Defaults::default());
        let plain = run(&entry(), &c, &d, &ssh);
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.user.as_str()),
            ("10.0.0.1", 2222, "cfg")
        );
        // `me@web1:2200` (from -H, a plain host file or -J): the spec's user and port win,
        // the HostName still applies.
        let spec = HostEntry {
            name: "me@web1:2200".into(),
            user: Some("me".into()),
            port: Some(2200),
            ..entry()
        };
        let picked = run(&spec, &c, &d, &ssh);
        assert_eq!(
            (picked.host.as_str(), picked.port, picked.user.as_str()),
            ("10.0.0.1", 2200, "me")
        );
        // A host-list entry named otherwise: ssh_config was matched against its `host`.
        let named = HostEntry {
            name: "frontend".into(),
            ..entry()
        };
        assert_eq!(run(&named, &c, &d, &ssh).host, "10.0.0.1");
        // Without a HostName the entry's host is used as written.
        assert_eq!(run(&named, &c, &d, &HostConfig::default()).host, "web1");
    }

    #[test]
    fn a_proxy_command_yields_to_a_jump_of_a_higher_source_and_to_none() {
        let (c, d) = (HostOptions::default(), Defaults::default());
        let ssh = HostConfig {
            proxy_command: Some("nc %h %p".into()),
            ..HostConfig::default()
        };
        let picked = run(&entry(), &c, &d, &ssh);
        assert_eq!(
            (picked.jump, picked.proxy_command.as_deref()),
            (None, Some("nc %h %p"))
        );
        for (jump, expected) in [("bastion", Some("bastion")), ("none", None)] {
            let e = HostEntry {
                jump: Some(jump.into()),
                ..entry()
            };
            let picked = run(&e, &c, &d, &ssh);
            assert_eq!(picked.jump.as_deref(), expected, "{jump}");
            assert_eq!(picked.proxy_command, None, "{jump}");
        }
        // The host list's own command, in the entry or [defaults], outranks ssh_config's
        // jump; -J outranks [defaults].
        let jumping = HostConfig {
            proxy_jump: Some("ssh-bastion".into()),
            ..HostConfig::default()
        };
        let e = HostEntry {
            proxy_command: Some("entry %h".into()),
            ..entry()
        };
        let picked = run(&e, &c, &d, &jumping);
        assert_eq!(
            (picked.jump, picked.proxy_command.as_deref()),
            (None, Some("entry %h"))
        );
        let d2 = Defaults {
            proxy_command: Some("defaults %h".into()),
            ..Defaults::default()
        };
        let cli = HostOptions {
            jump: Some("cli-bastion".into()),
            ..HostOptions::default()
        };
        let picked = run(&entry(), &cli, &d2, &jumping);
        assert_eq!(
            (picked.jump.as_deref(), picked.proxy_command),
            (Some("cli-bastion"), None)
        );
        // `ProxyJump none` then `ProxyCommand X` in ssh_config: the command applies.
        let both = HostConfig {
            proxy_jump: Some("none".into()),
            ..ssh.clone()
        };
        assert!(run(&entry(), &c, &d, &both).proxy_command.is_some());
        let none = HostConfig {
            proxy_command: Some("none".into()),
            ..HostConfig::default()
        };
        assert_eq!(run(&entry(), &c, &d, &none).proxy_command, None);
    }

    #[test]
    fn a_jump_of_none_means_no_jump() {
        let (c, d) = (HostOptions::default(), Defaults::default());
        for value in ["none", ""] {
            let e = HostEntry {
                jump: Some(value.into()),
                ..entry()
            };
            assert_eq!(
                run(&e, &c, &d, &HostConfig::default()).jump,
                None,
                "{value:?}"
            );
        }
    }
}
