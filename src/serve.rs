//! `mtssh mock`: the front end that serves the mock server on its own, for students,
//! scripts and benchmarks.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use russh::keys::HashAlg;

use crate::mock::console::{self, Style};
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
    /// Accepted logins, `user:password` pairs separated by commas (`--users`).
    pub users: Option<String>,
    /// Accepted logins, one `user:password` a line.
    pub users_file: Option<PathBuf>,
    pub authorized_keys: Option<PathBuf>,
    /// `None`: the persisted key in the user data dir.
    pub host_key: Option<PathBuf>,
    pub host_key_type: HostKeyType,
    pub lang: Lang,
    /// Delay before each reply of the shell.
    pub latency: Duration,
    /// How long an unauthenticated connection may stay.
    pub login_grace: Duration,
    /// Sessions one connection may have open at once.
    pub max_sessions: usize,
    pub write_hosts: Option<PathBuf>,
    /// sshd_config's KexAlgorithms syntax.
    pub kex: Option<Vec<russh::kex::Name>>,
    /// `--differ` rules.
    pub differ: Vec<crate::mock::DifferRule>,
    /// OSC 133 marks from the practice shell.
    pub marks: bool,
    /// The practice shell or the handout's echo server.
    pub style: crate::mock::ShellStyle,
}

pub async fn run(args: ServeOptions) -> Result<ExitCode> {
    crate::logging::to_stderr("info");
    let (opts, users_from) = options(&args).await?;
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
    print_welcome(&server, &users, &users_from);
    watch_console(&server, args.lang).await;
    Ok(ExitCode::SUCCESS)
}

/// Tells every login, logout and new peak on stderr until Ctrl-C, then stops the server
/// and prints the summary.
async fn watch_console(server: &MockServer, lang: Lang) {
    use std::io::IsTerminal;
    let style = Style::new(lang, std::io::stderr().is_terminal());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let printing = async {
        match server.console_events() {
            Some(events) => console::print(
                server.console(),
                events,
                style,
                tokio::io::stderr(),
                stop_rx,
            )
            .await
            .map(drop),
            None => Ok(()),
        }
    };
    tokio::pin!(printing);
    // A closed stderr ends the printer early: no reason to stop the server.
    let printer_ended = tokio::select! {
        _ = &mut printing => true,
        () = crate::sys::shutdown_signal() => false,
    };
    if printer_ended {
        crate::sys::shutdown_signal().await;
    }
    server.stop();
    let _ = stop_tx.send(());
    if !printer_ended {
        // The summary, unless stderr is a pipe nobody reads: then do not hang on it.
        let _ = tokio::time::timeout(CONSOLE_FLUSH, printing).await;
    }
}

/// How long the console may take to write its last lines once the server is stopping.
const CONSOLE_FLUSH: Duration = Duration::from_secs(2);

async fn options(args: &ServeOptions) -> Result<(MockOptions, UsersFrom)> {
    let (users, from) = users(args).await?;
    anyhow::ensure!(!users.is_empty(), "{from} names no user");
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
    let opts = MockOptions {
        bind: args.bind,
        port: args.port,
        hosts: args.count.max(1),
        users,
        authorized_keys,
        host_key,
        lang: args.lang,
        latency: args.latency,
        login_grace: args.login_grace.max(Duration::from_secs(1)),
        max_sessions: args.max_sessions,
        kex: args.kex.clone(),
        differ: args.differ.clone(),
        marks: args.marks,
        style: args.style,
        ..MockOptions::default()
    };
    Ok((opts, from))
}

/// The environment variable that may hold the accepted logins (`--users` syntax).
pub const USERS_ENV: &str = "MTSSH_MOCK_USERS";
/// The most of a users file read: a few lines in practice.
const MAX_USERS_FILE: u64 = 1024 * 1024;

/// Where the accepted logins came from, so the welcome names it instead of a password.
#[derive(Debug, Clone, PartialEq, Eq)]
enum UsersFrom {
    Default,
    Argv,
    File(PathBuf),
    Env,
}

impl std::fmt::Display for UsersFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UsersFrom::Default => f.write_str("the default"),
            UsersFrom::Argv => f.write_str("--users"),
            UsersFrom::File(path) => write!(f, "--users-file {}", path.display()),
            UsersFrom::Env => f.write_str(USERS_ENV),
        }
    }
}

/// `--users-file`, else `--users`, else `MTSSH_MOCK_USERS`, else the course's test/123456.
async fn users(args: &ServeOptions) -> Result<(Vec<Credentials>, UsersFrom)> {
    if let Some(path) = &args.users_file {
        let from = UsersFrom::File(path.clone());
        let users = read_users_file(path.clone())
            .await
            .with_context(|| format!("{from}"))?;
        return Ok((users, from));
    }
    if let Some(list) = &args.users {
        let users = Credentials::parse_list(list).context("--users")?;
        if users
            .iter()
            .any(|u| u.password != crate::mock::DEFAULT_PASSWORD)
        {
            eprintln!(
                "WARNING: passwords given with --users show in `ps` to every user of this \
                 machine; put them in a file (--users-file FILE, chmod 600) or in {USERS_ENV}."
            );
        }
        return Ok((users, UsersFrom::Argv));
    }
    if let Some(list) = std::env::var_os(USERS_ENV) {
        let list = list
            .into_string()
            .map_err(|_| anyhow::anyhow!("{USERS_ENV} is not valid UTF-8"))?;
        let users = Credentials::parse_list(&list).context(USERS_ENV)?;
        return Ok((users, UsersFrom::Env));
    }
    let default = format!(
        "{}:{}",
        crate::mock::DEFAULT_USER,
        crate::mock::DEFAULT_PASSWORD
    );
    Ok((Credentials::parse_list(&default)?, UsersFrom::Default))
}

/// Reads a users file off the event loop, refusing one others may read (its passwords are
/// the point of the file). The mode is checked on the opened file, not on the path.
async fn read_users_file(path: PathBuf) -> Result<Vec<Credentials>> {
    let text = tokio::task::spawn_blocking(move || -> Result<String> {
        use std::io::Read as _;
        use std::os::unix::fs::PermissionsExt;
        let file = std::fs::File::open(&path).context("cannot open it")?;
        let meta = file.metadata().context("cannot read its permissions")?;
        anyhow::ensure!(meta.is_file(), "not a regular file");
        let mode = meta.permissions().mode() & 0o777;
        anyhow::ensure!(
            mode & 0o077 == 0,
            "permissions {mode:04o} are too open: others may read its passwords; fix with \
             `chmod 600 {}`",
            path.display()
        );
        let mut text = String::new();
        // One byte past the cap tells a file that is too large from one that fits: cutting
        // it would cut a password and log someone in with the wrong one, or not at all.
        file.take(MAX_USERS_FILE + 1)
            .read_to_string(&mut text)
            .context("not readable as UTF-8 text")?;
        anyhow::ensure!(
            text.len() as u64 <= MAX_USERS_FILE,
            "larger than {} KiB: not a list of logins",
            MAX_USERS_FILE / 1024
        );
        Ok(text)
    })
    .await
    .context("users file reader failed")??;
    Credentials::parse_lines(&text)
}

fn print_welcome(server: &MockServer, users: &[Credentials], from: &UsersFrom) {
    let fingerprint = server.host_key().fingerprint(HashAlg::Sha256);
    let algo = server.host_key().algorithm();
    eprintln!("mtssh mock SSH server: {} host(s)", server.hosts().len());
    for host in server.hosts() {
        eprintln!("  {:<8} {}", host.name, host.addr);
    }
    eprintln!("host key: {} {fingerprint}", algo.as_str());
    if let Some(user) = users.first() {
        // Only the public practice password is echoed back; a chosen one stays out of the
        // terminal and of whatever log captures it.
        if user.password == crate::mock::DEFAULT_PASSWORD {
            eprintln!("login:    {} / {}", user.user, user.password);
        } else {
            eprintln!("login:    {} / (the password from {from})", user.user);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_users_file_past_the_cap_is_refused_not_cut() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("users");
        let line = "student:secret\n";
        let lines = (MAX_USERS_FILE as usize) / line.len() + 1;
        std::fs::write(&path, line.repeat(lines)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
        let refused = read_users_file(path.clone())
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:#}"));
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("larger than 1024 KiB")),
            "{refused:?}"
        );
        std::fs::write(&path, line).unwrap_or_else(|e| panic!("{e}"));
        let users = read_users_file(path)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(users.len(), 1);
    }
}
