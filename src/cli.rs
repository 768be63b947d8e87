//! The command line: `mtssh` (the TUI), `mtssh run` (batch), `mtssh mock` (the mock server).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::mock::{HostKeyType, Lang};

#[derive(Debug, Parser)]
#[command(
    name = "mtssh",
    version,
    about = "Many SSH sessions on one event loop: a pane per host, one broadcast line, a batch runner, and a mock SSH server to practise on.",
    long_about = "mtssh opens every SSH session of a host list on ONE single-threaded event loop.\n\n\
        With no arguments and no host file it starts the embedded mock SSH server (4 practice hosts, \
        user test / password 123456) and opens a pane to each.\n\n\
        Host list: -f FILE (default ./hosts.toml, then the user config dir), see hosts.example.toml.\n\
        Passwords never come from arguments: set MTSSH_PASSWORD (or --password-env VAR).\n\n\
        Authentication, in OpenSSH's order: ssh-agent keys (SSH_AUTH_SOCK; IdentitiesOnly from \
        ~/.ssh/config respected), identity files (--identity, identity_file, ~/.ssh/config, else \
        ~/.ssh/id_ed25519, id_ecdsa, id_rsa; an OpenSSH user certificate KEY-cert.pub beside a key \
        is offered first; encrypted keys ask their passphrase), keyboard-interactive, then password.\n\n\
        ~/.ssh/config is honoured under the host list's explicit values (Host patterns, HostName, \
        User, Port, IdentityFile, IdentitiesOnly, ProxyJump, Include, StrictHostKeyChecking, \
        UserKnownHostsFile, ConnectTimeout, ServerAliveInterval); other directives are named in a \
        warning, never silently ignored."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub hosts: HostArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one command on every selected host and report output and exit codes.
    #[command(
        after_help = "Exit codes: 0 every host ran the command and it exited 0; 1 every host \
        ran it but some exited non-zero; 3 some host failed to connect or authenticate, lost its \
        connection, or timed out; 130 interrupted (Ctrl-C / SIGTERM); 2 bad invocation or host \
        list (nothing ran)."
    )]
    Run(Box<RunArgs>),
    /// Run the mock SSH server (the course's practice server) on its own.
    Mock(MockArgs),
    /// Compare blocking, thread-per-session and the event loop on the same work.
    Bench(Box<BenchArgs>),
}

/// Which hosts, and how to reach them. Shared by the TUI and `run`.
#[derive(Debug, Clone, Args, Default)]
pub struct HostArgs {
    /// Host list (TOML, or a plain file of [user@]host[:port] lines).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Hosts on the command line: user@host:port,... (ranges like web[01-03] allowed).
    #[arg(short = 'H', long = "hosts", value_name = "HOSTS")]
    pub hosts: Vec<String>,
    /// Only hosts in this group (repeatable).
    #[arg(short = 'g', long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Exclude these host names (comma-separated, ranges allowed).
    #[arg(short = 'x', long = "exclude", value_name = "NAMES")]
    pub exclude: Vec<String>,
    /// Open N sessions to each selected host (the course's homework: N practice sessions).
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,
    /// Login user for hosts that name none.
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// Identity file (private key) for hosts that name none.
    #[arg(short = 'i', long = "identity", value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Read the password from this environment variable (default MTSSH_PASSWORD).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// strict: refuse unknown hosts; accept-new (default): learn unknown hosts, refuse changed
    /// keys; off: connect without checking (warns).
    #[arg(long, value_name = "MODE")]
    pub host_key_check: Option<String>,
    /// known_hosts file to check and learn into (default ~/.ssh/known_hosts).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Reach the hosts through jump hosts: `[user@]host[:port]` or host-list names, comma
    /// separated for a chain (like ssh -J).
    #[arg(short = 'J', long = "jump", value_name = "HOSTS")]
    pub jump: Option<String>,
    /// OpenSSH client config to honour (default ~/.ssh/config; `none` to ignore it).
    #[arg(long, value_name = "FILE|none")]
    pub ssh_config: Option<PathBuf>,
    /// Seconds to wait for connect + handshake + authentication.
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<f64>,
    /// Key-exchange algorithms, as ssh_config's KexAlgorithms: `LIST` replaces the default
    /// (post-quantum mlkem768x25519-sha256 first), `+LIST` appends, `-LIST` removes, `^LIST`
    /// puts first. `-mlkem768x25519-sha256` saves a third of the CPU of opening many sessions.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub kex: Option<String>,
    /// Handshakes in flight at once.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub fanout: usize,
    /// Handshakes in flight to one host:port (OpenSSH's MaxStartups drops bursts past 10).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub per_host: usize,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub hosts: HostArgs,
    /// event-loop: every session on the one thread (default). sequential: the blocking
    /// client, one session at a time. threads: one OS thread per session.
    #[arg(long, value_enum, default_value_t = crate::modes::Mode::EventLoop)]
    pub mode: crate::modes::Mode,
    /// The command to run on every host.
    #[arg(short = 'c', long = "command", value_name = "CMD")]
    pub command: String,
    /// Stream `name | line` as lines arrive instead of a folded report at the end.
    #[arg(long, conflicts_with = "json")]
    pub inline: bool,
    /// One JSON object per host (name, exit_status, stdout, stderr, error, duration_ms).
    /// Output bytes that are not UTF-8 are replaced with U+FFFD.
    #[arg(long)]
    pub json: bool,
    /// Bytes of stdout (and of stderr) kept per host; more is cut and marked.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_output: usize,
    /// Print remote bytes unchanged (by default control sequences are neutralised when
    /// printing to a terminal).
    #[arg(long)]
    pub raw: bool,
    /// Seconds a command may run; then its channel is closed (the remote command gets
    /// SIGHUP from sshd if it has a PTY, else it may keep running) and the host is
    /// reported as timed out.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Request a PTY (for commands like sudo that need one).
    #[arg(long)]
    pub tty: bool,
    /// Send mtssh's standard input to every command's standard input.
    #[arg(long)]
    pub stdin: bool,
    /// Also write each host's stdout and stderr to DIR/NAME.out and DIR/NAME.err.
    #[arg(long, value_name = "DIR")]
    pub outdir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Hosts to measure against; by default the mock server, started in its own process.
    #[command(flatten)]
    pub hosts: HostArgs,
    /// Sessions to open against the mock server (ignored with -f / -H: use --count there).
    #[arg(long = "sessions", short = 'n', default_value_t = 50, value_name = "N")]
    pub sessions: usize,
    /// Command each session runs.
    #[arg(short = 'c', long = "command", default_value = "echo hello")]
    pub command: String,
    /// Milliseconds the mock server waits before each reply: shows why blocking loses.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
    /// Modes to run, comma separated (default: all three).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub modes: Vec<crate::modes::Mode>,
    #[arg(long, value_enum, default_value_t = HostKeyType::Ed25519)]
    pub host_key_type: HostKeyType,
    /// Seconds a mode may take before it is stopped (and marked capped).
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub time_cap: f64,
    /// Results as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write a bar chart of the results as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct MockArgs {
    /// First port; 0 lets the OS pick free ports.
    #[arg(long, default_value_t = crate::mock::DEFAULT_PORT)]
    pub port: u16,
    /// Address to listen on. Anything but loopback must be asked for and prints a warning.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Number of practice hosts (mock-01, mock-02, …), one port each.
    #[arg(long = "hosts", default_value_t = 1, value_name = "N")]
    pub count: usize,
    /// Accepted logins, user:password pairs separated by commas.
    #[arg(long, default_value = "test:123456")]
    pub users: String,
    /// OpenSSH public keys allowed to log in (enables publickey auth).
    #[arg(long, value_name = "FILE")]
    pub authorized_keys: Option<PathBuf>,
    /// Host key file (created on first start). Default: in the user data dir.
    #[arg(long, value_name = "FILE")]
    pub host_key: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = HostKeyType::Ed25519)]
    pub host_key_type: HostKeyType,
    /// Language of the practice shell's texts.
    #[arg(long, default_value_t = Lang::En, value_parser = clap::builder::TypedValueParser::try_map(
        clap::builder::PossibleValuesParser::new(Lang::NAMES), |s| s.parse::<Lang>()))]
    pub lang: Lang,
    /// Milliseconds to delay each reply of the shell (not the handshake).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
    /// Seconds an unauthenticated connection may stay (like OpenSSH's LoginGraceTime).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub login_grace: u64,
    /// Write a host list (TOML) for the started hosts to this file.
    #[arg(long, value_name = "FILE")]
    pub write_hosts: Option<PathBuf>,
    /// Key-exchange algorithms offered, as sshd_config's KexAlgorithms (LIST, +LIST, -LIST,
    /// ^LIST). Default: russh's, with post-quantum mlkem768x25519-sha256.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub kex: Option<String>,
}

/// Runs the chosen front end to completion and turns its result into the exit code.
pub async fn dispatch(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Some(Command::Mock(args)) => crate::mock::command::run(args).await,
        Some(Command::Run(args)) => crate::batch::run(*args).await,
        Some(Command::Bench(args)) => crate::bench::run(*args).await,
        None => crate::front::run_tui(cli.hosts).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mtssh: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
