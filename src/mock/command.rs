//! `mtssh mock`: the mock server on its own, for students, scripts and benchmarks.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use russh::keys::HashAlg;

use super::{Credentials, HostKeySource, MockHost, MockOptions, MockServer};
use crate::cli::MockArgs;

pub async fn run(args: MockArgs) -> Result<ExitCode> {
    crate::logging::to_stderr("info");
    let opts = options(&args).await?;
    if !opts.bind.is_loopback() {
        eprintln!(
            "WARNING: the mock server listens on {}, reachable from other machines; \
             its practice credentials are public. Use --bind 127.0.0.1 unless you mean it.",
            opts.bind
        );
    }
    let users = opts.users.clone();
    let server = MockServer::start(opts).await?;
    if let Some(path) = &args.write_hosts {
        let text = host_list_toml(server.hosts(), &users);
        write_private(path, text)
            .await
            .with_context(|| format!("writing {}", path.display()))?;
    }
    // Scripts wait for these lines: one per host, printed once it accepts.
    for host in server.hosts() {
        println!("listening {} {}", host.name, host.addr);
    }
    print_welcome(&server, &users);
    wait_for_shutdown().await;
    eprintln!("mock server stopping");
    server.stop();
    Ok(ExitCode::SUCCESS)
}

async fn options(args: &MockArgs) -> Result<MockOptions> {
    let users = Credentials::parse_list(&args.users)?;
    anyhow::ensure!(!users.is_empty(), "--users names no user");
    let authorized_keys = match &args.authorized_keys {
        Some(path) => {
            let text = tokio::fs::read_to_string(path)
                .await
                .with_context(|| format!("reading --authorized-keys {}", path.display()))?;
            parse_authorized_keys(&text)
                .with_context(|| format!("in --authorized-keys {}", path.display()))?
        }
        None => Vec::new(),
    };
    let host_key = match &args.host_key {
        Some(path) => HostKeySource::File(path.clone(), args.host_key_type),
        None => HostKeySource::Persisted(args.host_key_type),
    };
    Ok(MockOptions {
        bind: args.bind,
        port: args.port,
        hosts: args.count.max(1),
        users,
        authorized_keys,
        host_key,
        lang: args.lang,
        latency: Duration::from_millis(args.latency),
        login_grace: Duration::from_secs(args.login_grace.max(1)),
        kex: match &args.kex {
            Some(spec) => Some(
                crate::ssh::algorithms::parse_kex(spec)
                    .map_err(anyhow::Error::msg)
                    .context("bad --kex")?,
            ),
            None => None,
        },
        ..MockOptions::default()
    })
}

/// Parses OpenSSH `authorized_keys` lines (options before the key type are not supported and
/// are reported, never silently skipped).
pub fn parse_authorized_keys(text: &str) -> Result<Vec<russh::keys::PublicKey>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(n, line)| {
            russh::keys::PublicKey::from_openssh(line.trim())
                .with_context(|| format!("line {}: not an OpenSSH public key", n + 1))
        })
        .collect()
}

fn print_welcome(server: &MockServer, users: &[Credentials]) {
    let fingerprint = server.host_key().fingerprint(HashAlg::Sha256);
    let algo = server.host_key().algorithm();
    eprintln!("mtssh mock SSH server: {} host(s)", server.hosts().len());
    for host in server.hosts() {
        eprintln!("  {:<8} {}", host.name, host.addr);
    }
    eprintln!("host key: {} {fingerprint}", algo.as_str());
    if let Some(user) = users.first() {
        // Only the public practice password is echoed back; one chosen with --users stays
        // out of the terminal and of whatever log captures it.
        let password = if user.password == super::DEFAULT_PASSWORD {
            user.password.as_str()
        } else {
            "(the password given with --users)"
        };
        eprintln!("login:    {} / {password}", user.user);
        if let Some(first) = server.hosts().first() {
            eprintln!(
                "try:      ssh -p {} {}@{}",
                first.addr.port(),
                user.user,
                first.addr.ip()
            );
        }
    }
    eprintln!("Ctrl-C stops the server.");
}

/// A host list for `mtssh -f` / `mtssh run -f` that reaches every started host.
pub fn host_list_toml(hosts: &[MockHost], users: &[Credentials]) -> String {
    let mut text = String::from(
        "# Written by `mtssh mock --write-hosts`. Practice credentials only: never keep real\n\
         # passwords in a file (use password_env).\n\n",
    );
    let user = users.first();
    if let Some(user) = user {
        let _ = writeln!(text, "[defaults]\nuser = \"{}\"\n", user.user);
    }
    for host in hosts {
        let _ = writeln!(
            text,
            "[[hosts]]\nname = \"{}\"\nhost = \"{}\"\nport = {}\ngroups = [\"mock\"]",
            host.name,
            host.addr.ip(),
            host.addr.port()
        );
        if let Some(user) = user {
            let _ = writeln!(text, "password = \"{}\"", user.password);
        }
        text.push('\n');
    }
    text
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// The host list holds the practice password: readable by its owner only.
async fn write_private(path: &std::path::Path, text: String) -> std::io::Result<()> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(text.as_bytes())
    })
    .await
    .map_err(std::io::Error::other)?
}
