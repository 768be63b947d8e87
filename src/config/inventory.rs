//! From what the user gave (host file, `-H`, flags, environment) to the list of sessions to
//! open: one [`Target`] per session, every default applied in one place.
//!
//! Precedence, highest first: the host's own entry, command-line flags, `[defaults]`,
//! `~/.ssh/config`, built-in defaults.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::lookup::Lookup;
use super::ssh_config::{HostConfig, ProxyTokens, expand_proxy_command};
use super::{
    HostEntry, HostFile, HostKeyCheck, HostOptions, load_host_file, parse_plain_host_file,
};
use crate::ssh::{HostKeyPolicy, KnownHostsStore, ProxyCommand, Target};

pub use super::precedence::PASSWORD_ENV;
use super::precedence::{BuiltIn, Picked, Sources, pick};
pub use crate::ssh::target::DEFAULT_CONNECT_TIMEOUT;

/// The resolved sessions, plus what the user should be told before they start.
pub struct Inventory {
    pub targets: Vec<Target>,
    pub warnings: Vec<String>,
    /// Worth knowing, not a problem: the same host selected twice runs once.
    pub notices: Vec<String>,
    /// The default host list (`./hosts.toml` or the config dir's) when it was read because
    /// no host list was named: `mtssh run` then asks for `-a` before running on all of it.
    pub default_list: Option<PathBuf>,
    /// Per-command timeout from `[defaults] command_timeout`.
    pub command_timeout: Option<Duration>,
    /// `[defaults] scrollback` and `scrollback_memory` (MiB), for the TUI's panes.
    pub scrollback: Option<usize>,
    pub scrollback_memory: Option<usize>,
    /// Every known_hosts store in use, to flush learned keys before exit.
    pub stores: Vec<Arc<KnownHostsStore>>,
    /// Host-key checking is off for at least one host.
    pub unchecked: bool,
    /// Resolves more hosts later (F6) exactly as these were: same ssh_config, flags,
    /// `[defaults]`, host list (for jump hosts by name) and known_hosts stores.
    pub resolver: HostResolver,
}

/// Resolves a `[user@]host[:port]` typed at run time like one given with `-H`.
#[derive(Clone)]
pub struct HostResolver(Arc<std::sync::Mutex<Builder>>);

impl HostResolver {
    /// Off the event loop: ssh_config's `Match exec` may run commands.
    pub async fn resolve_spec(&self, spec: &str) -> Result<Target> {
        let parsed = super::parse_host_spec(spec).map_err(|e| anyhow::anyhow!("{spec}: {e}"))?;
        let builder = self.0.clone();
        off_the_loop(move || {
            let builder = builder
                .lock()
                .map_err(|_| anyhow::anyhow!("the host resolver failed earlier"))?;
            builder.target(&entry_from_spec(parsed), 0)
        })
        .await?
    }
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
pub fn hosts_given(args: &HostOptions) -> bool {
    args.names_hosts() || default_host_file().is_some()
}

/// Reads the host list and applies every default. Nothing starts on a broken file.
pub async fn resolve(args: &HostOptions) -> Result<Inventory> {
    let Listed {
        defaults,
        entries,
        selected,
        mut warnings,
        default_list,
    } = listed_hosts(args).await?;
    let home = home_dir();
    let lookup = Lookup::load(args, &home, local_user()).await?;
    warnings.extend(lookup.file_warnings().iter().cloned());
    let explicit_known_hosts = args
        .known_hosts
        .clone()
        .or(defaults.known_hosts.clone())
        .map(|p| expand_tilde(&p, &home));
    // Every host's ssh_config, resolved once on the blocking pool (`Match exec` runs
    // commands), then one store per known_hosts file in use: the explicit one, else each
    // host's UserKnownHostsFile from ssh_config, else ~/.ssh/known_hosts.
    let (lookup, entries, keys) = {
        let (args, defaults, explicit, home) = (
            args.clone(),
            defaults.clone(),
            explicit_known_hosts.clone(),
            home.clone(),
        );
        off_the_loop(move || {
            let keys: Vec<_> = (entries.iter())
                .map(|e| {
                    known_hosts_key(explicit.as_ref(), &lookup.get(e, &args, &defaults), &home)
                })
                .collect();
            (lookup, entries, keys)
        })
        .await?
    };
    let builder = Builder {
        args: args.clone(),
        default_keys: default_identities(&home),
        stores: open_stores(keys, &home).await,
        defaults,
        entries,
        lookup,
        home,
        explicit_known_hosts,
        secrets: std::cell::RefCell::new(HashMap::new()),
        use_agent: std::env::var_os("SSH_AUTH_SOCK").is_some(),
    };
    let (targets, builder) = off_the_loop(move || {
        let targets: Result<Vec<Target>> = (selected.iter())
            .map(|entry| builder.target(entry, 0))
            .collect();
        (targets, builder)
    })
    .await?;
    // The same user@host:port once (after ssh_config), then `--pick`, then `--count` copies,
    // which are meant.
    let (mut targets, notices) = super::dedupe::dedupe(targets?);
    if let Some(n) = args.pick {
        super::dedupe::pick(&mut targets, n, &mut rand::rng());
    }
    let count = args.count.unwrap_or(1).max(1);
    let targets: Vec<Target> = targets.into_iter().flat_map(|t| copies(t, count)).collect();
    warnings.extend(builder.lookup.take_warnings());
    let unchecked = targets.iter().any(|t| {
        matches!(
            t.host_key,
            HostKeyPolicy::KnownHosts {
                mode: HostKeyCheck::Off,
                ..
            }
        )
    });
    Ok(Inventory {
        targets,
        warnings,
        notices,
        default_list,
        command_timeout: builder.defaults.command_timeout,
        scrollback: builder.defaults.scrollback,
        scrollback_memory: builder.defaults.scrollback_memory,
        stores: builder.stores.values().cloned().collect(),
        unchecked,
        resolver: HostResolver(Arc::new(std::sync::Mutex::new(builder))),
    })
}

/// The host list as given: the file's `[defaults]`, every entry (jump hosts are found by
/// name among them, selected or not), the selected ones, and the file's warnings.
struct Listed {
    defaults: super::Defaults,
    entries: Vec<HostEntry>,
    selected: Vec<HostEntry>,
    warnings: Vec<String>,
    /// The default host list, when it was read because no `-f` named one.
    default_list: Option<PathBuf>,
}

async fn listed_hosts(args: &HostOptions) -> Result<Listed> {
    let query = args.query();
    let default_list = match &args.file {
        Some(_) => None,
        // `-H` alone names its hosts; the default list is read for the whole list, or for
        // the groups an expression names.
        None if args.hosts.is_empty() || args.all || query.uses_groups() => default_host_file(),
        None => None,
    };
    let file = match args.file.clone().or_else(|| default_list.clone()) {
        Some(path) => Some(read_host_list(&path).await?),
        None => None,
    };
    let mut warnings = Vec::new();
    let (defaults, mut entries) = match file {
        Some((file, path)) => {
            warnings.extend(file.warnings);
            if file.hosts.iter().any(|h| h.password.is_some()) {
                warnings.extend(readable_by_others(&path));
            }
            (file.defaults, file.hosts)
        }
        None => (Default::default(), Vec::new()),
    };
    if let Some(command) = &defaults.groups_command {
        super::groups_command::apply(command, &mut entries).await?;
    }
    let inputs = selection_inputs(&query).await?;
    let selection = super::select(&entries, &query, &inputs)?;
    warnings.extend(selection.warnings);
    let selected = selection.hosts;
    if selected.is_empty() {
        if entries.is_empty() && args.hosts.is_empty() {
            bail!(
                "no hosts selected: give a host list with -f FILE or hosts with -H user@host:port"
            );
        }
        bail!(
            "no hosts selected: what -H, -g and -x ask for leaves none (of {} in the host list)",
            entries.len()
        );
    }
    // Hosts named only by `-H` get their ssh_config and known_hosts below, and can be named
    // as jump hosts, like the list's own.
    for host in &selected {
        if !entries.iter().any(|e| e.name == host.name) {
            entries.push(host.clone());
        }
    }
    Ok(Listed {
        defaults,
        entries,
        selected,
        warnings,
        default_list,
    })
}

/// Reads what `^FILE` and `-` operands name, off the event loop, before selecting.
async fn selection_inputs(query: &super::Query<'_>) -> Result<super::Inputs> {
    let mut inputs = super::Inputs::default();
    for path in query.files() {
        let owned = PathBuf::from(path);
        let text = tokio::task::spawn_blocking(move || {
            crate::sys::read_file_capped(&owned, crate::sys::MAX_CONFIG_FILE)
        })
        .await
        .context("host file reader failed")?
        .with_context(|| format!("-H ^{path}: cannot read {path}"))?;
        let text = String::from_utf8(text)
            .with_context(|| format!("-H ^{path}: {path} is not UTF-8 text"))?;
        inputs.files.insert(path.to_string(), text);
    }
    if query.reads_stdin() {
        use tokio::io::AsyncReadExt;
        let mut text = String::new();
        tokio::io::stdin()
            .take(crate::sys::MAX_CONFIG_FILE)
            .read_to_string(&mut text)
            .await
            .context("-H -: cannot read host names from standard input")?;
        inputs.stdin = Some(text);
    }
    Ok(inputs)
}

/// One store per known_hosts file in use (`None`: the user's default files).
async fn open_stores(
    keys: Vec<Option<PathBuf>>,
    home: &Path,
) -> HashMap<Option<PathBuf>, Arc<KnownHostsStore>> {
    let mut stores = HashMap::new();
    for key in keys {
        if let std::collections::hash_map::Entry::Vacant(slot) = stores.entry(key) {
            let store = known_hosts_store(slot.key().clone(), home).await;
            slot.insert(store);
        }
    }
    stores
}

/// Runs `work` on the blocking pool: resolving ssh_config may run `Match exec` commands.
async fn off_the_loop<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("resolving the host list failed")
}

/// A jump chain longer than this is taken for a loop.
const MAX_JUMP_DEPTH: usize = 8;

/// Everything a host's settings are resolved from (owned: it works on the blocking pool).
struct Builder {
    args: HostOptions,
    defaults: super::Defaults,
    /// Every entry of the host list, selected or not: jump hosts are found by name here.
    entries: Vec<HostEntry>,
    lookup: Lookup,
    default_keys: Vec<PathBuf>,
    home: PathBuf,
    explicit_known_hosts: Option<PathBuf>,
    stores: HashMap<Option<PathBuf>, Arc<KnownHostsStore>>,
    /// Passwords read from the environment, once per variable.
    secrets: std::cell::RefCell<HashMap<String, Option<String>>>,
    use_agent: bool,
}

impl Builder {
    /// One host's target: [`pick`] decides its settings; here they meet the environment
    /// (its password), the other entries (its jump chain) and its known_hosts store.
    fn target(&self, entry: &HostEntry, depth: usize) -> Result<Target> {
        // `-J` and `[defaults] jump`/`proxy_command` name the route of the hosts given, not
        // of their own hops (as `ssh -J` does): a hop takes its route from its own entry and
        // ssh_config (a chain `a,b` whose hop `b` went through `a,b` again would never end).
        let (hop_args, hop_defaults);
        let (cli, defaults) = if depth == 0 {
            (&self.args, &self.defaults)
        } else {
            hop_args = HostOptions {
                jump: None,
                ..self.args.clone()
            };
            hop_defaults = super::Defaults {
                jump: None,
                proxy_command: None,
                ..self.defaults.clone()
            };
            (&hop_args, &hop_defaults)
        };
        // ssh_config matches the name the user would type to ssh, whatever the form.
        let ssh = self.lookup.get(entry, cli, defaults);
        let sources = Sources {
            entry,
            cli,
            defaults,
            ssh: &ssh,
        };
        let built_in = BuiltIn {
            local_user: self.lookup.local_user(),
            default_keys: &self.default_keys,
            home: &self.home,
        };
        let picked = pick(&sources, &built_in);
        let password = entry.password.clone().or_else(|| {
            self.secrets
                .borrow_mut()
                .entry(picked.password_env.clone())
                .or_insert_with(|| std::env::var(&picked.password_env).ok())
                .clone()
        });
        let jump = match picked.jump.as_deref() {
            Some(chain) if chain == entry.name => None,
            Some(chain) => Some(Box::new(self.jump_chain(chain, depth)?)),
            None => None,
        };
        let proxy = match &picked.proxy_command {
            Some(template) => Some(proxy_command(template, &picked, entry)?),
            None => None,
        };
        Ok(Target {
            name: entry.name.clone(),
            host: picked.host,
            port: picked.port,
            user: picked.user,
            password,
            identity_files: picked.identity_files,
            host_key: HostKeyPolicy::KnownHosts {
                mode: picked.host_key_check,
                store: self.store_for(&ssh)?,
                hash: picked.hash_known_hosts,
            },
            connect_timeout: picked.connect_timeout,
            keepalive: picked.keepalive,
            keepalive_max: picked.keepalive_max,
            connection_attempts: picked.connection_attempts,
            batch_mode: picked.batch_mode,
            refusal: picked.refusal,
            use_agent: self.use_agent,
            identities_only: picked.identities_only,
            kex: picked.kex,
            jump,
            proxy,
            shell_integration: entry
                .shell_integration
                .or(defaults.shell_integration)
                .unwrap_or_default(),
            reconnect: crate::ssh::reconnect::ReconnectPolicy {
                mode: entry.reconnect.or(defaults.reconnect).unwrap_or_default(),
                tries: entry
                    .reconnect_tries
                    .or(defaults.reconnect_tries)
                    .unwrap_or(crate::ssh::reconnect::DEFAULT_RECONNECT_TRIES),
            },
        })
    }

    fn store_for(&self, ssh: &HostConfig) -> Result<Arc<KnownHostsStore>> {
        let key = known_hosts_key(self.explicit_known_hosts.as_ref(), ssh, &self.home);
        match self
            .stores
            .get(&key)
            .or_else(|| self.stores.values().next())
        {
            Some(store) => Ok(store.clone()),
            None => bail!("no known_hosts store for this host"),
        }
    }

    /// `a,b,c` (ProxyJump syntax): reach `a`, then `b` through it, then `c` through `b`;
    /// the returned target is the last hop. Each hop is a host-list name or
    /// `[user@]host[:port]`.
    fn jump_chain(&self, chain: &str, depth: usize) -> Result<Target> {
        if depth >= MAX_JUMP_DEPTH {
            bail!(
                "jump chain through {chain} is longer than {MAX_JUMP_DEPTH} hops or loops back on itself"
            );
        }
        let mut previous: Option<Target> = None;
        for hop in chain.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            let entry = match self.entries.iter().find(|e| e.name == hop) {
                Some(entry) => entry.clone(),
                None => {
                    let spec = super::parse_host_spec(hop)
                        .map_err(|e| anyhow::anyhow!("jump host `{hop}`: {e}"))?;
                    HostEntry {
                        name: hop.to_string(),
                        ..entry_from_spec(spec)
                    }
                }
            };
            let mut target = self.target(&entry, depth + 1)?;
            if let Some(before) = previous.take() {
                target.jump = Some(Box::new(before));
            }
            previous = Some(target);
        }
        previous.ok_or_else(|| anyhow::anyhow!("empty jump host list"))
    }
}

/// The host's ProxyCommand with its tokens expanded; a token `ssh` would refuse fails the
/// whole run, as `ssh` refuses to run: dropping the command would connect directly.
fn proxy_command(template: &str, picked: &Picked, entry: &HostEntry) -> Result<ProxyCommand> {
    let tokens = ProxyTokens {
        host: &picked.host,
        port: picked.port,
        user: &picked.user,
        alias: &entry.host,
    };
    match expand_proxy_command(template, &tokens) {
        Ok(command) => Ok(ProxyCommand { command }),
        Err(why) => bail!(
            "host {}: ProxyCommand `{template}` cannot be used: {why}; fix it in the ssh config",
            entry.name
        ),
    }
}

/// Which known_hosts file a host uses: the explicit one, else its ssh_config
/// UserKnownHostsFile, else `None` (~/.ssh/known_hosts). `UserKnownHostsFile none` is
/// OpenSSH's "no file": every key is unknown and nothing learned is kept, which is what
/// `/dev/null` gives (never a file named `./none`).
fn known_hosts_key(explicit: Option<&PathBuf>, ssh: &HostConfig, home: &Path) -> Option<PathBuf> {
    explicit.cloned().or_else(|| {
        ssh.user_known_hosts_files.first().map(|p| {
            if p.eq_ignore_ascii_case("none") {
                PathBuf::from(NO_KNOWN_HOSTS)
            } else {
                expand_tilde(Path::new(p), home)
            }
        })
    })
}

/// The known_hosts of `UserKnownHostsFile none`: reads as empty, keeps nothing.
const NO_KNOWN_HOSTS: &str = "/dev/null";

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
        let bytes = crate::sys::read_file_capped(&owned, crate::sys::MAX_CONFIG_FILE)
            .with_context(|| format!("{}: cannot read", owned.display()))?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{}: cannot read: not UTF-8 text", owned.display()))?;
        let specs = parse_plain_host_file(&text, &owned)?;
        Ok(HostFile {
            defaults: Default::default(),
            hosts: specs.into_iter().map(entry_from_spec).collect(),
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

/// A host given as `[user@]host[:port]` (on the command line, in a plain host file, as a
/// jump host), named as written.
fn entry_from_spec(spec: super::HostSpec) -> HostEntry {
    HostEntry::from_spec(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_known_hosts(files: &[&str]) -> HostConfig {
        HostConfig {
            user_known_hosts_files: files.iter().map(|f| f.to_string()).collect(),
            ..HostConfig::default()
        }
    }

    #[test]
    fn known_hosts_file_follows_cli_then_ssh_config_then_default() {
        let home = Path::new("/home/u");
        let explicit = PathBuf::from("/given/kh");
        let ssh = with_known_hosts(&["~/.ssh/other", "~/.ssh/second"]);
        let table: [(Option<&PathBuf>, &HostConfig, Option<PathBuf>); 5] = [
            (Some(&explicit), &ssh, Some(explicit.clone())),
            (None, &ssh, Some(PathBuf::from("/home/u/.ssh/other"))),
            (None, &with_known_hosts(&[]), None),
            (
                None,
                &with_known_hosts(&["none"]),
                Some(PathBuf::from("/dev/null")),
            ),
            (
                None,
                &with_known_hosts(&["NONE"]),
                Some(PathBuf::from("/dev/null")),
            ),
        ];
        for (given, ssh, expected) in table {
            assert_eq!(
                known_hosts_key(given, ssh, home),
                expected,
                "{given:?} {ssh:?}"
            );
        }
    }
}
