//! ssh_config for the inventory: the file (plus `-o` options) loaded once, and one
//! resolution per host as the user wrote it, cached. Resolving may run `Match exec`
//! commands, so [`Lookup::get`] blocks: the inventory calls it on the blocking pool only.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Result, bail};

use super::ssh_config::{HostConfig, Query, SshConfig};
use super::{Defaults, HostEntry, HostOptions};

/// A `Match exec` command that runs longer is killed and counts as not matching (OpenSSH
/// waits forever; a hung command must not hang every session).
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(10);

/// The alias as typed, and the user and port that come before ssh_config's.
type Key = (String, Option<String>, Option<u16>);

pub(super) struct Lookup {
    config: SshConfig,
    local_user: String,
    cache: RefCell<HashMap<Key, HostConfig>>,
    /// Problems met while resolving, each once.
    warnings: RefCell<Vec<String>>,
}

impl Lookup {
    /// `~/.ssh/config` (or `--ssh-config FILE`; `none` skips it) read off the event loop,
    /// with the `-o` options first. A configuration OpenSSH refuses is an error.
    pub async fn load(args: &HostOptions, home: &Path, local_user: String) -> Result<Lookup> {
        let path = match args.ssh_config.as_deref() {
            Some(p) if p == Path::new("none") => None,
            Some(p) => Some(super::inventory::expand_tilde(p, home)),
            None => Some(home.join(".ssh").join("config")),
        };
        let owned_home = home.to_path_buf();
        let config = tokio::task::spawn_blocking(move || match path {
            Some(path) => SshConfig::load(&path, &owned_home),
            None => SshConfig::parse("", Path::new("none"), &owned_home),
        })
        .await
        .unwrap_or_else(|_| SshConfig::parse("", Path::new(""), Path::new("/")));
        if let Some(error) = config.error() {
            bail!("{error}");
        }
        let config = config
            .with_command_line(&args.ssh_options)
            .map_err(anyhow::Error::msg)?;
        Ok(Lookup {
            config,
            local_user,
            cache: RefCell::default(),
            warnings: RefCell::default(),
        })
    }

    pub fn local_user(&self) -> &str {
        &self.local_user
    }

    /// What the file itself warns about.
    pub fn file_warnings(&self) -> &[String] {
        self.config.warnings()
    }

    /// Warnings from resolving, taken once.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.warnings.borrow_mut())
    }

    /// The ssh_config settings of `entry`, matched against its `host` as typed; the
    /// entry's user and port, else the command line's and `[defaults]`' (which come
    /// before ssh_config's), are what `Match user` and `%r`/`%p` see. Blocks on
    /// `Match exec` commands.
    pub fn get(&self, entry: &HostEntry, cli: &HostOptions, defaults: &Defaults) -> HostConfig {
        let key: Key = (
            entry.host.clone(),
            (entry.user.as_ref())
                .or(cli.user.as_ref())
                .or(defaults.user.as_ref())
                .cloned(),
            entry.port.or(defaults.port),
        );
        if let Some(found) = self.cache.borrow().get(&key) {
            return found.clone();
        }
        let query = Query {
            alias: &key.0,
            user: key.1.as_deref(),
            port: key.2,
            local_user: &self.local_user,
        };
        let resolved = self.config.resolve_with(&query, &mut run_in_shell);
        {
            let mut warnings = self.warnings.borrow_mut();
            for w in &resolved.warnings {
                let w = format!("ssh_config for {}: {w}", entry.host);
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
        }
        self.cache.borrow_mut().insert(key, resolved.clone());
        resolved
    }
}

/// Runs a `Match exec` command as OpenSSH does: `$SHELL -c CMD` (`/bin/sh` without an
/// absolute `$SHELL`), stdin and stdout on /dev/null. stderr too: a TUI's screen must not
/// get its output. Bounded by [`EXEC_TIMEOUT`], after which its process group is killed.
pub fn run_in_shell(command: &str) -> Result<bool, String> {
    run_bounded(command, EXEC_TIMEOUT)
}

fn run_bounded(command: &str, limit: Duration) -> Result<bool, String> {
    use std::os::unix::process::CommandExt;
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| s.starts_with('/'))
        .unwrap_or_else(|| "/bin/sh".to_string());
    let mut child = Command::new(&shell)
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not start {shell}: {e}"))?;
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    // The waiting thread reaps the child whatever happens; this one only waits for it.
    std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    match finished.recv_timeout(limit) {
        Ok(Ok(status)) => Ok(status.success()),
        Ok(Err(e)) => Err(format!("failed: {e}")),
        Err(_) => {
            if let Ok(group) = i32::try_from(pid) {
                // SAFETY: kill has no memory effects; the group is the child's own.
                unsafe {
                    libc::kill(-group, libc::SIGKILL);
                }
            }
            Err(format!(
                "did not finish within {} ms and was killed",
                limit.as_millis()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_runs_in_a_shell_and_reports_its_status() {
        assert_eq!(run_in_shell("exit 0"), Ok(true));
        assert_eq!(run_in_shell("exit 3"), Ok(false));
        assert_eq!(run_in_shell("test \"$(echo a b)\" = 'a b'"), Ok(true));
        let started = std::time::Instant::now();
        let hung = run_bounded("sleep 30", Duration::from_millis(200));
        assert!(
            hung.as_ref().is_err_and(|e| e.contains("killed")),
            "{hung:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
