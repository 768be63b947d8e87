//! From what the user gave (host file, `-H`, flags, environment) to the list of sessions to
//! open: one [`Target`] per session, every default applied in one place.
//!
//! Precedence, highest first: the host's own entry, command-line flags, `[defaults]`,
//! built-in defaults.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{HostEntry, HostFile, HostKeyCheck, load_host_file, parse_plain_host_file};
use crate::cli::HostArgs;
use crate::ssh::{HostKeyPolicy, KnownHostsStore, Target};

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const PASSWORD_ENV: &str = "MTSSH_PASSWORD";

/// The resolved sessions, plus what the user should be told before they start.
pub struct Inventory {
    pub targets: Vec<Target>,
    pub warnings: Vec<String>,
    /// Per-command timeout from `[defaults] command_timeout`.
    pub command_timeout: Option<Duration>,
    /// Every known_hosts store in use, to flush learned keys before exit.
    pub stores: Vec<Arc<KnownHostsStore>>,
    /// Host-key checking is off for at least one host.
    pub unchecked: bool,
}

/// Where the host list comes from when `-f` is not given: `./hosts.toml`, then the user
/// config dir. `None` when neither exists.
pub fn default_host_file() -> Option<PathBuf> {
    let local = PathBuf::from("hosts.toml");
    if local.is_file() {
        return Some(local);
    }
    let dirs = directories::ProjectDirs::from("", "", "mtssh")?;
    let user = dirs.config_dir().join("hosts.toml");
    user.is_file().then_some(user)
}

/// Whether the user named any hosts at all (a file, `-H`, or a default host file).
pub fn hosts_given(args: &HostArgs) -> bool {
    args.file.is_some() || !args.hosts.is_empty() || default_host_file().is_some()
}

/// Reads the host list and applies every default. Nothing starts on a broken file.
pub async fn resolve(args: &HostArgs) -> Result<Inventory> {
    let file = match args.file.clone().or_else(|| {
        if args.hosts.is_empty() {
            default_host_file()
        } else {
            None
        }
    }) {
        Some(path) => Some(read_host_list(&path).await?),
        None => None,
    };
    let mut warnings = Vec::new();
    let (defaults, mut entries) = match file {
        Some((file, path)) => {
            warnings.extend(summarize_password_warnings(&file.warnings));
            if file.hosts.iter().any(|h| h.password.is_some()) {
                warnings.extend(readable_by_others(&path));
            }
            (file.defaults, file.hosts)
        }
        None => (Default::default(), Vec::new()),
    };
    for list in &args.hosts {
        for spec in
            super::parse_host_list_arg(list).map_err(|e| anyhow::anyhow!("-H {list}: {e}"))?
        {
            entries.push(HostEntry {
                name: spec.to_string(),
                host: spec.host,
                port: spec.port,
                user: spec.user,
                identity_file: None,
                password_env: None,
                password: None,
                groups: Vec::new(),
                jump: None,
            });
        }
    }
    let selected = super::select(&entries, &args.groups, &args.exclude)?;
    if selected.is_empty() {
        bail!("no hosts selected: give a host list with -f FILE or hosts with -H user@host:port");
    }

    let home = home_dir();
    let mode = match &args.host_key_check {
        Some(text) => text
            .parse::<HostKeyCheck>()
            .map_err(|e| anyhow::anyhow!("--host-key-check: {}", e.0))?,
        None => defaults.host_key_check.unwrap_or(HostKeyCheck::AcceptNew),
    };
    let known_hosts_file = args
        .known_hosts
        .clone()
        .or(defaults.known_hosts.clone())
        .map(|p| expand_tilde(&p, &home));
    let store = known_hosts_store(known_hosts_file, &home).await;
    let connect_timeout = args
        .connect_timeout
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .or(defaults.connect_timeout)
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let default_keys = default_identities(&home);
    let mut secrets = HashMap::new();
    let count = args.count.unwrap_or(1).max(1);

    let mut targets = Vec::with_capacity(selected.len() * count);
    for entry in selected {
        let identity_files = match entry
            .identity_file
            .as_ref()
            .or(args.identity.as_ref())
            .or(defaults.identity_file.as_ref())
        {
            Some(path) => vec![expand_tilde(path, &home)],
            None => default_keys.clone(),
        };
        let password_var = entry
            .password_env
            .as_deref()
            .or(args.password_env.as_deref())
            .or(defaults.password_env.as_deref())
            .unwrap_or(PASSWORD_ENV)
            .to_string();
        let password = entry.password.clone().or_else(|| {
            secrets
                .entry(password_var.clone())
                .or_insert_with(|| std::env::var(&password_var).ok())
                .clone()
        });
        let target = Target {
            name: entry.name.clone(),
            host: entry.host.clone(),
            port: entry.port.or(defaults.port).unwrap_or(22),
            user: entry
                .user
                .clone()
                .or(args.user.clone())
                .or(defaults.user.clone())
                .unwrap_or_else(local_user),
            password,
            identity_files,
            host_key: HostKeyPolicy::KnownHosts {
                mode,
                store: store.clone(),
            },
            connect_timeout,
        };
        targets.extend(copies(target, count));
    }
    Ok(Inventory {
        targets,
        warnings,
        command_timeout: defaults.command_timeout,
        stores: vec![store],
        unchecked: mode == HostKeyCheck::Off,
    })
}

/// `--count N`: N sessions to the same host, told apart by a `#i` suffix.
pub fn copies(target: Target, count: usize) -> Vec<Target> {
    if count <= 1 {
        return vec![target];
    }
    (1..=count)
        .map(|i| Target {
            name: format!("{}#{i}", target.name),
            ..target.clone()
        })
        .collect()
}

/// A TOML host list, or a plain file of `[user@]host[:port]` lines (any other extension).
async fn read_host_list(path: &Path) -> Result<(HostFile, PathBuf)> {
    let is_toml = path.extension().is_some_and(|e| e == "toml");
    let owned = path.to_path_buf();
    let file = tokio::task::spawn_blocking(move || -> Result<HostFile> {
        if is_toml {
            return Ok(load_host_file(&owned)?);
        }
        let text = std::fs::read_to_string(&owned)
            .with_context(|| format!("{}: cannot read", owned.display()))?;
        let specs = parse_plain_host_file(&text, &owned)?;
        Ok(HostFile {
            defaults: Default::default(),
            hosts: specs
                .into_iter()
                .map(|spec| HostEntry {
                    name: spec.to_string(),
                    host: spec.host,
                    port: spec.port,
                    user: spec.user,
                    identity_file: None,
                    password_env: None,
                    password: None,
                    groups: Vec::new(),
                    jump: None,
                })
                .collect(),
            warnings: Vec::new(),
        })
    })
    .await
    .context("host list reader failed")??;
    Ok((file, path.to_path_buf()))
}

fn readable_by_others(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds plain-text passwords and is readable by other users; run `chmod 600 {}` or use password_env",
            path.display(),
            path.display()
        )
    })
}

async fn known_hosts_store(file: Option<PathBuf>, home: &Path) -> Arc<KnownHostsStore> {
    let (files, learn) = match file {
        Some(path) => (vec![path.clone()], path),
        None => KnownHostsStore::default_files(home),
    };
    Arc::new(KnownHostsStore::load(files, learn).await)
}

/// OpenSSH's default identities, those that exist.
fn default_identities(home: &Path) -> Vec<PathBuf> {
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|name| home.join(".ssh").join(name))
        .filter(|p| p.is_file())
        .collect()
}

pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_string())
}

pub fn expand_tilde(path: &Path, home: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => home.join(rest),
        Err(_) => path.to_path_buf(),
    }
}

/// One warning per file about plain-text passwords, not one per host: a list of a thousand
/// practice hosts should not print a thousand lines.
fn summarize_password_warnings(warnings: &[String]) -> Vec<String> {
    let (password, other): (Vec<&String>, Vec<&String>) = warnings
        .iter()
        .partition(|w| w.contains("`password` in plain text"));
    let mut out: Vec<String> = other.into_iter().cloned().collect();
    match password.as_slice() {
        [] => {}
        [one] => out.push((*one).clone()),
        [first, rest @ ..] => out.push(format!(
            "{first} (and {} more hosts in the same file)",
            rest.len()
        )),
    }
    out
}
