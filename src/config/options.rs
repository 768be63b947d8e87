//! Which hosts, and how to reach them: the typed options every front end hands to
//! [`super::inventory::resolve`]. The command line fills them (`cli::HostArgs`), but nothing
//! here knows of clap: values are already parsed when they arrive.

use std::path::PathBuf;
use std::time::Duration;

use crate::ssh::HostKeyCheck;
use crate::ssh::algorithms::{KexList, kex_spec};

/// Handshakes in flight at once, unless told otherwise.
pub const DEFAULT_FANOUT: usize = 64;
/// Handshakes in flight to one host:port: OpenSSH's MaxStartups drops bursts past 10.
pub const DEFAULT_PER_HOST: usize = 10;

/// The user's host selection and connection settings, as given (before the host list,
/// `[defaults]` and ssh_config are layered under them).
#[derive(Debug, Clone, PartialEq)]
pub struct HostOptions {
    pub file: Option<PathBuf>,
    /// `-a`: every host of the host list (with `-H`/`-g`: as well as those).
    pub all: bool,
    /// `-H`, `-g`, `-x`: node-set expressions (`super::nodeset`).
    pub hosts: Vec<String>,
    pub groups: Vec<String>,
    pub exclude: Vec<String>,
    /// `--pick N`: a random N of the selected hosts.
    pub pick: Option<usize>,
    pub count: Option<usize>,
    pub user: Option<String>,
    pub identity: Option<PathBuf>,
    pub password_env: Option<String>,
    pub host_key_check: Option<HostKeyCheck>,
    pub known_hosts: Option<PathBuf>,
    pub jump: Option<String>,
    pub ssh_config: Option<PathBuf>,
    /// `-o Option=value`, as `ssh -o`: read before the ssh_config file, so each is the first
    /// value obtained (already checked by the command line's parser).
    pub ssh_options: Vec<String>,
    /// `None`: the host list's, ssh_config's or the built-in timeout.
    pub connect_timeout: Option<Duration>,
    pub kex: Option<KexList>,
    pub fanout: usize,
    pub per_host: usize,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            file: None,
            all: false,
            hosts: Vec::new(),
            groups: Vec::new(),
            exclude: Vec::new(),
            pick: None,
            count: None,
            user: None,
            identity: None,
            password_env: None,
            host_key_check: None,
            known_hosts: None,
            jump: None,
            ssh_config: None,
            ssh_options: Vec::new(),
            connect_timeout: None,
            kex: None,
            fanout: DEFAULT_FANOUT,
            per_host: DEFAULT_PER_HOST,
        }
    }
}

impl HostOptions {
    /// Whether hosts were named here (a file or `-H`), as opposed to a default host file.
    pub fn names_hosts(&self) -> bool {
        self.file.is_some() || !self.hosts.is_empty()
    }

    /// The selection part, for `super::select`.
    pub fn query(&self) -> super::Query<'_> {
        super::Query {
            all: self.all,
            hosts: &self.hosts,
            groups: &self.groups,
            exclude: &self.exclude,
        }
    }

    /// The same options as `mtssh` arguments, for a child `mtssh run` (`mtssh bench` measures
    /// each mode in a child process and must hand it exactly what the user asked for). Every
    /// field is written; `cli`'s round-trip test parses the result back and compares, so a
    /// field added without its flag here fails that test.
    pub fn to_args(&self) -> Vec<String> {
        fn path(p: &std::path::Path) -> String {
            p.display().to_string()
        }
        let mut out = Vec::new();
        let mut push = |flag: &str, value: String| {
            out.push(flag.to_string());
            out.push(value);
        };
        if let Some(file) = &self.file {
            push("--file", path(file));
        }
        for hosts in &self.hosts {
            push("--hosts", hosts.clone());
        }
        for group in &self.groups {
            push("--group", group.clone());
        }
        for names in &self.exclude {
            push("--exclude", names.clone());
        }
        if let Some(n) = self.pick {
            push("--pick", n.to_string());
        }
        if let Some(count) = self.count {
            push("--count", count.to_string());
        }
        if let Some(user) = &self.user {
            push("--user", user.clone());
        }
        if let Some(identity) = &self.identity {
            push("--identity", path(identity));
        }
        if let Some(var) = &self.password_env {
            push("--password-env", var.clone());
        }
        if let Some(mode) = self.host_key_check {
            push("--host-key-check", mode.to_string());
        }
        if let Some(file) = &self.known_hosts {
            push("--known-hosts", path(file));
        }
        if let Some(jump) = &self.jump {
            push("--jump", jump.clone());
        }
        if let Some(file) = &self.ssh_config {
            push("--ssh-config", path(file));
        }
        for option in &self.ssh_options {
            push("--ssh-option", option.clone());
        }
        if let Some(timeout) = self.connect_timeout {
            push("--connect-timeout", timeout.as_secs_f64().to_string());
        }
        if let Some(kex) = &self.kex {
            push("--kex", kex_spec(kex));
        }
        push("--fanout", self.fanout.to_string());
        push("--per-host", self.per_host.to_string());
        if self.all {
            out.push("--all".to_string());
        }
        out
    }
}
