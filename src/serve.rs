//! `mtssh mock`: the front end that serves the mock server on its own, for students,
//! scripts and benchmarks.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use russh::keys::HashAlg;

use crate::mock::{
    Credentials, HostKeySource, HostKeyType, Lang, MockOptions, MockServer, host_list_toml,
    parse_authorized_keys,
};

/// What `mtssh mock` was asked to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub port: u16,
    pub bind: IpAddr,
    /// Practice hosts (mock-01, mock-02, …), one port each.
    pub count: usize,
    /// Accepted logins, `user:password` pairs separated by commas.
    pub users: String,
    pub authorized_keys: Option<PathBuf>,
    /// `None`: the persisted key in the user data dir.
    pub host_key: Option<PathBuf>,
    pub host_key_type: HostKeyType,
    pub lang: Lang,
    /// Delay before each reply of the shell.
    pub latency: Duration,
    /// How long an unauthenticated connection may stay.
    pub login_grace: Duration,
    pub write_hosts: Option<PathBuf>,
    /// sshd_config's KexAlgorithms syntax.
    pub kex: Option<Vec<russh::kex::Name>>,
    /// `--differ` rules.
    pub differ: Vec<crate::mock::DifferRule>,
    /// OSC 133 marks from the practice shell.
    pub marks: bool,
}

pub async fn run(args: ServeOptions) -> Result<ExitCode> {
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
    crate::sys::shutdown_signal().await;
    eprintln!("mock server stopping");
    server.stop();
    Ok(ExitCode::SUCCESS)
}

async fn options(args: &ServeOptions) -> Result<MockOptions> {
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
        latency: args.latency,
        login_grace: args.login_grace.max(Duration::from_secs(1)),
        kex: args.kex.clone(),
        differ: args.differ.clone(),
        marks: args.marks,
        ..MockOptions::default()
    })
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
        let password = if user.password == crate::mock::DEFAULT_PASSWORD {
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

/// The host list holds the practice password: readable by its owner only.
async fn write_private(path: &std::path::Path, text: String) -> std::io::Result<()> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        crate::sys::open_private_file(&path, crate::sys::PrivateOpen::Truncate)?
            .write_all(text.as_bytes())
    })
    .await
    .map_err(std::io::Error::other)?
}
