//! The command line: `mtssh` (the TUI), `mtssh run` (batch), `mtssh mock` (the mock server),
//! `mtssh bench`. Only clap's types live here; each is turned into the typed options of the
//! front end that runs it (`main.rs` dispatches), so no front end knows of clap.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::batch::{RunOptions, Verbosity};
use crate::bench::BenchOptions;
use crate::config::HostOptions;
use crate::config::options::{DEFAULT_FANOUT, DEFAULT_PER_HOST};
use crate::lang::Lang;
use crate::mock::{HostKeyType, ShellStyle};
use crate::modes::{Mode, Streams};
use crate::serve::ServeOptions;
use crate::ssh::HostKeyCheck;
use crate::ssh::algorithms::{KexList, parse_kex_list};
use crate::ssh::shell_integration::ShellIntegration;

#[derive(Debug, Parser)]
#[command(
    name = "mtssh",
    version,
    about = "Many SSH sessions on one event loop: a pane per host, one broadcast line, a batch runner, and a mock SSH server to practise on.",
    long_about = long_about()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub hosts: HostArgs,
    /// Where F7 saves a pane's scrollback (default ~/.local/state/mtssh/saves). Each save
    /// is a new file; none is ever overwritten.
    #[arg(long, value_name = "DIR")]
    pub save_dir: Option<PathBuf>,
    /// Record every pane as an asciicast v2 file, DIR/NAME.cast (`asciinema play` plays it):
    /// output and resizes. Alt-V starts/stops one pane (into DIR, or
    /// ~/.local/state/mtssh/recordings without --record). Files are always new (NAME-2.cast
    /// when one exists); DIR is created 0700.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Recordings also hold typed input ("i" events). Hidden input (Alt-P lines, Alt-W
    /// answers, keys typed at a password prompt) never does.
    #[arg(long)]
    pub record_input: bool,
    /// A plain-text log per session, DIR/NAME.log: one UTC timestamp per line, control
    /// sequences removed, output only. Rotated at --log-max-size (NAME.log.1 newest).
    #[arg(long, value_name = "DIR")]
    pub log: Option<PathBuf>,
    /// The size in MiB at which a session's log is rotated.
    #[arg(long, value_name = "MIB", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub log_max_size: u32,
    /// How many rotated logs of a session are kept (0: none, the log starts over).
    #[arg(long, value_name = "N", default_value_t = crate::tui::record::DEFAULT_LOG_KEEP)]
    pub log_keep: usize,
    /// Input a session may hold unsent while its remote side is slow, in MiB. A paste that
    /// would pass it is refused whole (and said); nothing typed is ever dropped.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub input_limit: u32,
    /// A broadcast line to more receivers than this asks for confirmation first.
    #[arg(long, value_name = "N", default_value_t = crate::app::safe::DEFAULT_CONFIRM_OVER)]
    pub confirm_over: usize,
    /// A line containing PATTERN asks for confirmation first (repeatable; adds to rm -rf,
    /// reboot, shutdown, halt, poweroff, mkfs, dd if=, :(){).
    #[arg(long, value_name = "PATTERN")]
    pub destructive: Vec<String>,
    /// Receivers a canary send (Alt-Enter) reaches first; the rest follow on Alt-Enter once
    /// they succeeded.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub canary: u32,
    /// Receivers per batch of a rolling send (Alt-B); it stops at the first failure.
    #[arg(long, value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,
    /// A cursor line containing PATTERN (any case) marks a password prompt that Alt-W
    /// answers (repeatable; adds to "[sudo] password for", "password:", "passphrase").
    #[arg(long, value_name = "PATTERN")]
    pub password_prompt: Vec<String>,
    /// Install OSC 133 prompt hooks in every pane's shell once it is ready, for exact exit
    /// statuses: auto (bash or zsh, as the shell turns out), bash, zsh or off. The line is
    /// typed invisibly and kept out of the shell's history. Overrides the host list's
    /// `shell_integration`; without MODE, auto.
    #[arg(long, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "auto", value_parser = shell_integration_mode)]
    pub shell_integration: Option<ShellIntegration>,
    /// Every pane tries again by itself after a lost connection (a dropped network, a
    /// killed server process), as the host list's `reconnect = "auto"`: 1 s, 2 s, 4 s ... up
    /// to 30 s apart, `reconnect_tries` times (10) before it gives up; the scrollback stays.
    /// Never after an exit, a failed login or a changed host key.
    #[arg(long)]
    pub reconnect: bool,
    /// Lines of history each pane keeps (default 10000; the host list's `[defaults]
    /// scrollback`). Kept compactly, as text and colours; the oldest go first.
    #[arg(long, value_name = "LINES")]
    pub scrollback: Option<usize>,
    /// MiB of history all panes keep together, shared evenly (default 256; the host list's
    /// `[defaults] scrollback_memory`): a pane's oldest lines go when its share is full.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(1..=1048576))]
    pub scrollback_memory: Option<u32>,
    /// Language of what mtssh says: the TUI, run's summary and errors, bench's table and
    /// charts, the mock's console and practice shell (en or zh). Default: zh when LC_ALL,
    /// LC_MESSAGES or LANG starts with zh, else en. Goes before or after the subcommand.
    #[arg(long, global = true, value_enum, value_name = "LANG")]
    pub lang: Option<Lang>,
}

impl Cli {
    /// The language asked for: `--lang`, else the locale's (LC_ALL, LC_MESSAGES, LANG).
    pub fn language(&self) -> Lang {
        self.lang.unwrap_or_else(crate::lang::from_env)
    }

    /// The TUI's own options (not shared with `run`).
    pub fn tui_options(&self) -> crate::front::TuiOptions {
        crate::front::TuiOptions {
            save_dir: self.save_dir.clone(),
            record: crate::tui::record::RecordOptions {
                dir: self.record.clone(),
                all: self.record.is_some(),
                input: self.record_input,
                log_dir: self.log.clone(),
                log_max_size: u64::from(self.log_max_size) * 1024 * 1024,
                log_keep: self.log_keep,
            },
            input_limit: self.input_limit as usize * 1024 * 1024,
            safety: self.safety(),
            shell_integration: self.shell_integration,
            reconnect: self.reconnect,
            scrollback: self.scrollback,
            scrollback_memory: self.scrollback_memory.map(|m| m as usize),
        }
    }

    fn safety(&self) -> crate::app::safe::Safety {
        let mut safety = crate::app::safe::Safety {
            confirm_over: self.confirm_over,
            canary: self.canary as usize,
            batch: self.batch as usize,
            ..Default::default()
        };
        safety.destructive.extend(self.destructive.iter().cloned());
        safety
            .password_prompts
            .extend(self.password_prompt.iter().cloned());
        safety
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one command on every selected host and report output and exit codes.
    #[command(after_help = crate::batch::EXIT_CODES)]
    Run(Box<RunArgs>),
    /// Copy local files to every selected host over SFTP: `mtssh push [-r] [-p] LOCAL...
    /// REMOTE_DIR`. Each file goes to a temporary name and is renamed when complete.
    #[command(after_help = crate::batch::EXIT_CODES)]
    Push(Box<TransferArgs>),
    /// Copy files from every selected host over SFTP into LOCAL_DIR/NAME/ (one directory per
    /// host): `mtssh pull [-r] [-p] REMOTE... LOCAL_DIR`; `*` and `?` in REMOTE match on
    /// the remote side (quote them from your shell).
    #[command(after_help = crate::batch::EXIT_CODES)]
    Pull(Box<TransferArgs>),
    /// Print how every selected host resolves, as `ssh -G` prints it (hostname, port, user,
    /// identityfile, proxyjump, …), without connecting anywhere.
    Resolve(Box<HostArgs>),
    /// Run the mock SSH server (the course's practice server) on its own.
    Mock(MockArgs),
    /// Compare blocking, thread-per-session and the event loop on the same work.
    Bench(Box<BenchArgs>),
    /// Print a shell completion script: `mtssh completions bash > ~/.local/share/bash-completion/completions/mtssh`,
    /// zsh: into a directory of $fpath as `_mtssh`; fish: `~/.config/fish/completions/mtssh.fish`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the shell integration snippet for an rc file, as `starship init` does:
    /// `eval "$(mtssh shell-integration bash)"` in ~/.bashrc, or zsh in ~/.zshrc. It marks
    /// prompts and commands with OSC 133, so panes and `mtssh run` know exit statuses without
    /// the per-host `shell_integration` setting.
    ShellIntegration {
        #[arg(value_parser = ["bash", "zsh"])]
        shell: String,
    },
    /// Print the manual page (roff): `mtssh man | man -l -`; `mtssh man run` for a subcommand's.
    Man {
        /// run, mock, bench or completions; none for mtssh's own page.
        #[arg(value_name = "SUBCOMMAND")]
        page: Option<String>,
    },
}

/// Which hosts, and how to reach them. Shared by the TUI and `run`.
#[derive(Debug, Clone, Args, PartialEq)]
pub struct HostArgs {
    /// Host list (TOML, or a plain file of [user@]host[:port] lines). Without -H or -g every
    /// host in it is selected.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Every host of the host list, also with -H / -g (like clush -a, pdsh -a). `mtssh run`
    /// asks for it before running on the whole default list (./hosts.toml).
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Hosts, as a node set (repeatable): user@host:port specs with ranges (web[01-20],
    /// web[1-9/2]), @GROUP, ^FILE (one host per line, # comments), - (from standard input),
    /// joined by `,` union, `!` difference, `&` intersection, `^` symmetric difference, read
    /// left to right (web[1-9]!web5, @web&@prod).
    #[arg(short = 'H', long = "hosts", value_name = "NODESET")]
    pub hosts: Vec<String>,
    /// Hosts in these groups (repeatable; a node set of group names: web,db or web&prod).
    #[arg(short = 'g', long = "group", value_name = "GROUPS")]
    pub groups: Vec<String>,
    /// Leave out these hosts, by name or address (a node set like -H: web[02-03],@canary,
    /// ^FILE). A name that leaves out nothing is warned about.
    #[arg(short = 'x', long = "exclude", value_name = "NODESET")]
    pub exclude: Vec<String>,
    /// Only a random N of the selected hosts (like clush --pick).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub pick: Option<usize>,
    /// Open N sessions to each selected host (`run`: N runs each, named NAME#1…NAME#N). With no
    /// host list the TUI opens N practice sessions in all, spread over the mock's hosts.
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,
    /// Login user for hosts that name none (a user@ in -H or the host list wins; this wins
    /// over [defaults] and ~/.ssh/config, like ssh -l).
    #[arg(short = 'l', long, visible_short_alias = 'u', value_name = "USER")]
    pub user: Option<String>,
    /// Identity file (private key) for hosts that name none.
    #[arg(short = 'i', long = "identity", value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Read the password from this environment variable (default MTSSH_PASSWORD).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// strict: refuse unknown hosts; accept-new (default): learn unknown hosts, refuse changed
    /// keys; off: connect without checking (warns).
    #[arg(long, value_name = "MODE", value_enum)]
    pub host_key_check: Option<HostKeyCheck>,
    /// known_hosts file to check and learn into (default ~/.ssh/known_hosts).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Reach the hosts through jump hosts: `[user@]host[:port]` or host-list names, comma
    /// separated for a chain (like ssh -J). Takes the place of a jump or ProxyCommand from
    /// [defaults] or ~/.ssh/config; the hops themselves follow their own settings.
    #[arg(short = 'J', long = "jump", value_name = "HOSTS")]
    pub jump: Option<String>,
    /// OpenSSH client config to honour (default ~/.ssh/config; `none` to ignore it).
    #[arg(long, value_name = "FILE|none")]
    pub ssh_config: Option<PathBuf>,
    /// An ssh_config option, as `ssh -o` (repeatable): `-o Port=2222`, `-o "User deploy"`.
    /// Read before the ssh_config file, so it wins over it (host-list fields and flags still
    /// come first). Only options mtssh honours are accepted.
    #[arg(short = 'o', long = "ssh-option", value_name = "OPTION=VALUE", value_parser = ssh_option)]
    pub ssh_options: Vec<String>,
    /// Seconds to wait for connect + handshake + authentication. 0 = not set here: the host
    /// list's, ~/.ssh/config's ConnectTimeout or the built-in 10 s applies (a connect is
    /// always bounded, unlike OpenSSH's ConnectTimeout 0, which leaves it to TCP's minutes).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub connect_timeout: Option<Duration>,
    /// Key-exchange algorithms, as ssh_config's KexAlgorithms: `LIST` replaces the default
    /// (post-quantum mlkem768x25519-sha256 first), `+LIST` appends, `-LIST` removes, `^LIST`
    /// puts first. `-mlkem768x25519-sha256` saves a third of the CPU of opening many sessions.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, value_parser = parse_kex_list)]
    pub kex: Option<KexList>,
    /// Handshakes in flight at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FANOUT)]
    pub fanout: usize,
    /// Handshakes in flight to one host:port (OpenSSH's MaxStartups drops bursts past 10).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PER_HOST)]
    pub per_host: usize,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub hosts: HostArgs,
    /// event-loop: every session on the one thread (default). sequential: the blocking
    /// client, one session at a time. threads: one OS thread per session.
    #[arg(long, value_enum, default_value_t = Mode::EventLoop)]
    pub mode: Mode,
    /// The command to run on every host (or give it after the options:
    /// `mtssh run -H web[1-3] uptime`, `mtssh run -H x -- ls -l`).
    #[arg(
        short = 'c',
        long = "command",
        value_name = "CMD",
        conflicts_with = "words",
        required_unless_present = "words"
    )]
    pub command: Option<String>,
    /// The command, as words joined with spaces (like clush and pdsh).
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub words: Vec<String>,
    /// More on stderr: -v info, -vv debug (MTSSH_LOG overrides).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Less on stderr: no warnings, notices or progress; errors are still said.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Stream `name: line` as lines arrive, in every --mode (pdsh's format: pipe it to
    /// `dshbak -c` to fold); on a terminal the folded report follows at the end too
    /// (clush -bL).
    #[arg(long, conflicts_with = "json")]
    pub inline: bool,
    /// One JSON object per host and line, written as soon as that host is done (name,
    /// outcome, exit_status, exit_signal, stdout, stderr, stdout_dropped_bytes,
    /// stderr_dropped_bytes, error, error_kind, duration_ms, start_ms, end_ms, phases_ms).
    /// start_ms and end_ms count from the run's start; phases_ms holds the connect,
    /// authenticate, command and close phases' lengths (null: not reached). exit_signal names the signal
    /// that killed the command (TERM, KILL, ...); error_kind names the error for scripts
    /// (refused, timed-out, auth-failed, host-key-changed, ...; null without an error).
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
    /// reported as timed out. 0 = no limit, also over [defaults] command_timeout.
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub timeout: Option<Duration>,
    /// Request a PTY (for commands like sudo that need one).
    #[arg(long)]
    pub tty: bool,
    /// Send mtssh's standard input to every command's standard input.
    #[arg(long)]
    pub stdin: bool,
    /// Also write each host's whole stdout and stderr (not cut at --max-output), as it
    /// arrives, to DIR/NAME.out and DIR/NAME.err, and how it ended to
    /// DIR/NAME.rc (its exit status, `signal TERM`, or `error KIND`; empty if it never
    /// ended), made before anything connects. Characters of NAME other than letters, digits
    /// and `-_.@#` are written %XX, so every host has files of its own.
    #[arg(long, value_name = "DIR")]
    pub outdir: Option<PathBuf>,
    /// Watch the event loop: a line on stderr each time the one thread wakes up (which
    /// sessions' sockets were readable or writable, how long it was awake, the process's OS
    /// thread count), then a summary (wake-ups, events per wake-up, time awake, reads that
    /// would block). With --mode event-loop only.
    #[arg(long)]
    pub trace_events: bool,
}

/// `mtssh push` and `mtssh pull`.
#[derive(Debug, Clone, Args)]
pub struct TransferArgs {
    #[command(flatten)]
    pub hosts: HostArgs,
    /// Copy directories whole.
    #[arg(short = 'r', long = "recursive")]
    pub recursive: bool,
    /// Keep modes and modification times.
    #[arg(short = 'p', long = "preserve")]
    pub preserve: bool,
    /// Afterwards run `sha256sum` on each host over the same connection and compare it with
    /// the bytes sent or received; a difference fails the host.
    #[arg(long)]
    pub verify: bool,
    /// Hosts whose files move at once; the others wait, connected, for a free place.
    /// `all` (or 0) moves every connected host's files at once. `auto` (the default) does
    /// that too for small files and for pull; for a push of 16 MiB or more per host it
    /// moves one host's files while the other hosts' SFTP sessions start (until all have,
    /// or 1 s passed with none starting; at most 10 s after the first), then starts 8 hosts
    /// and doubles them while the bytes per second of all hosts rise by at least 10 %, or,
    /// when 16 gain less, halves them while the rate stays within 10 % of the best: the
    /// fewest hosts that move the most (tried again every 5 s). A few at a time is quicker
    /// when the hosts share a machine, a disk or a slow link.
    #[arg(long, value_name = "N|auto|all", default_value = "auto")]
    pub streams: Streams,
    /// One JSON object per host and line, written as soon as that host is done (as
    /// `mtssh run --json`; stdout holds the files and bytes moved). No progress display.
    #[arg(long)]
    pub json: bool,
    /// More on stderr: -v info, -vv debug (MTSSH_LOG overrides).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Less on stderr: no warnings, notices or progress; errors are still said.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// The sources (local for push, remote for pull), then the destination directory
    /// (remote for push, default home: `.`; local for pull).
    #[arg(value_name = "SOURCE... DEST", num_args = 2.., required = true)]
    pub paths: Vec<String>,
}

impl TransferArgs {
    /// `TransferRunOptions` for one direction.
    pub fn options(self, way: crate::batch::Way) -> crate::batch::TransferRunOptions {
        let mut paths = self.paths;
        // clap requires two or more.
        let destination = paths.pop().unwrap_or_else(|| ".".into());
        crate::batch::TransferRunOptions {
            hosts: self.hosts.into(),
            way,
            sources: paths,
            destination,
            recursive: self.recursive,
            preserve: self.preserve,
            verify: self.verify,
            streams: self.streams,
            json: self.json,
            verbosity: verbosity(self.quiet, self.verbose),
        }
    }
}

/// `-q`, nothing, `-v`, `-vv`.
fn verbosity(quiet: bool, verbose: u8) -> Verbosity {
    match (quiet, verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, 1) => Verbosity::Verbose,
        (false, _) => Verbosity::Debug,
    }
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
    pub modes: Vec<Mode>,
    #[arg(long, value_enum, default_value_t = HostKeyType::Ed25519)]
    pub host_key_type: HostKeyType,
    /// Seconds a mode may take before it is stopped (and marked capped).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
    pub time_cap: Duration,
    /// Results as JSON, each mode with its sessions (`hosts`: name, outcome, start_ms, end_ms
    /// on that run's clock, and phases_ms: connect, authenticate, command, close).
    #[arg(long)]
    pub json: bool,
    /// Also write the results as an SVG chart: wall and client CPU time, peak OS threads and
    /// peak memory per mode, side by side.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Also write an SVG timeline: one bar per session cut into its phases (connect,
    /// authenticate, command, close), one panel per mode side by side.
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
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
    /// Accepted logins, user:password pairs separated by commas (default test:123456).
    /// Every user of this machine sees them in `ps`: for a real password use --users-file
    /// or MTSSH_MOCK_USERS (same syntax) instead.
    #[arg(long, value_name = "LIST")]
    pub users: Option<String>,
    /// Accepted logins from a file, one user:password a line (# comments), readable by its
    /// owner only (chmod 600), as ssh requires of a private key.
    #[arg(long, value_name = "FILE", conflicts_with = "users")]
    pub users_file: Option<PathBuf>,
    /// OpenSSH public keys allowed to log in (enables publickey auth).
    #[arg(long, value_name = "FILE")]
    pub authorized_keys: Option<PathBuf>,
    /// Host key file (created on first start). Default: in the user data dir.
    #[arg(long, value_name = "FILE")]
    pub host_key: Option<PathBuf>,
    /// Host key type [default: ed25519; rsa with --style handout, as the handout's server].
    #[arg(long, value_enum)]
    pub host_key_type: Option<HostKeyType>,
    /// What the shell looks like: the practice shell, or the course handout's echo server
    /// (its Chinese banner, a `> ` prompt, every line echoed as `服务端收到指令：<line>`, exit
    /// leaves), so clients written from the handout work unchanged.
    #[arg(long, value_enum, default_value_t = ShellStyle::Practice)]
    pub style: ShellStyle,
    /// Milliseconds to delay each reply of the shell (not the handshake).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
    /// Seconds an unauthenticated connection may stay (like OpenSSH's LoginGraceTime).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub login_grace: u64,
    /// Sessions (shells, commands) one connection may have open at once, like OpenSSH's
    /// MaxSessions; further opens are refused with a reason.
    #[arg(long, value_name = "N", default_value_t = crate::mock::DEFAULT_MAX_SESSIONS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_sessions: usize,
    /// Write a host list (TOML) for the started hosts to this file.
    #[arg(long, value_name = "FILE")]
    pub write_hosts: Option<PathBuf>,
    /// Key-exchange algorithms offered, as sshd_config's KexAlgorithms (LIST, +LIST, -LIST,
    /// ^LIST). Default: russh's, with post-quantum mlkem768x25519-sha256.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, value_parser = parse_kex_list)]
    pub kex: Option<KexList>,
    /// Make hosts differ on purpose, for practice with the results view: HOSTS[:STATUS[:TEXT]],
    /// HOSTS host numbers and ranges (3,18-20 is mock-03 and mock-18..20). Those hosts print
    /// TEXT (default "differs on purpose") after every command and exit with STATUS (default 1).
    /// Repeatable; the last rule naming a host wins.
    #[arg(long, value_name = "SPEC")]
    pub differ: Vec<crate::mock::DifferRule>,
    /// No OSC 133 prompt marks from the practice shell (to practise without them).
    #[arg(long)]
    pub no_marks: bool,
}

/// `mtssh --help`: what it does, and the ssh_config keywords it honours, listed from the
/// parser's own table so the two cannot disagree.
fn long_about() -> String {
    let keywords: Vec<&str> = crate::config::ssh_config::supported_keywords().collect();
    format!(
        "mtssh opens every SSH session of a host list on ONE single-threaded event loop.\n\n\
        With no arguments and no host file it starts the embedded mock SSH server ({} practice \
        hosts, user {} / password {}) and opens a pane to each.\n\n\
        Host list: -f FILE (default ./hosts.toml, then the user config dir), see hosts.example.toml. \
        -H, -g and -x take node sets (web[1-9/2], @group, ^FILE, -, joined by , ! & ^ read left \
        to right); `mtssh run` wants -a before it runs on the whole default list.\n\
        Passwords never come from arguments: set MTSSH_PASSWORD (or --password-env VAR).\n\n\
        Authentication, in OpenSSH's order: ssh-agent keys (SSH_AUTH_SOCK; IdentitiesOnly from \
        ~/.ssh/config respected), identity files (--identity, identity_file, ~/.ssh/config, else \
        ~/.ssh/id_ed25519, id_ecdsa, id_rsa; an OpenSSH user certificate KEY-cert.pub beside a key \
        is offered first; encrypted keys ask their passphrase), keyboard-interactive, then password.\n\n\
        ~/.ssh/config is honoured under the host list's explicit values: {}. Other directives are \
        named in a warning, never silently ignored.\n\n\
        Environment: MTSSH_PASSWORD, the password for hosts that ask for one (another variable \
        with --password-env or password_env). MTSSH_LOG, what is logged, in tracing's filter \
        syntax (`MTSSH_LOG=debug`, `MTSSH_LOG=mtssh=debug,russh=info`; secrets are never \
        logged): `run`, `bench` and `mock` log to standard error (default warn, info for \
        `mock`), the TUI to mtssh.log in the state directory (~/.local/state/mtssh, default \
        info), never onto its screen. SSH_AUTH_SOCK, the ssh-agent to take keys from.",
        crate::front::PRACTICE_HOSTS,
        crate::mock::DEFAULT_USER,
        crate::mock::DEFAULT_PASSWORD,
        keywords.join(", ")
    )
}

/// Seconds as a duration: `1.5`, `30`; NaN, infinities, negatives and more than a year are
/// refused. What `0` means is each option's (`--timeout`: no limit; `--connect-timeout`:
/// not set, the next source applies).
fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    let duration = Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("`{text}` is not a number of seconds (0 or more)"))?;
    // Deadlines are `now + duration`: an absurd one would overflow the clock.
    if duration > MAX_SECONDS {
        return Err(format!(
            "`{text}` seconds is more than a year ({} s); is that meant?",
            MAX_SECONDS.as_secs()
        ));
    }
    Ok(duration)
}

/// A count of 1 or more (`--pick 0` would select nothing, surely not what was meant).
fn shell_integration_mode(text: &str) -> Result<ShellIntegration, String> {
    text.parse()
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a number of 1 or more")),
    }
}

/// `-o Option=value`: checked by the ssh_config parser itself.
fn ssh_option(text: &str) -> Result<String, String> {
    crate::config::ssh_config::check_command_line_option(text)
}

/// The longest timeout taken: a year.
const MAX_SECONDS: Duration = Duration::from_secs(365 * 24 * 3600);

/// A zero duration given on the command line means "not set", so the next source applies.
fn nonzero(duration: Option<Duration>) -> Option<Duration> {
    duration.filter(|d| !d.is_zero())
}

impl From<HostArgs> for HostOptions {
    fn from(args: HostArgs) -> Self {
        HostOptions {
            file: args.file,
            all: args.all,
            hosts: args.hosts,
            groups: args.groups,
            exclude: args.exclude,
            pick: args.pick,
            count: args.count,
            user: args.user,
            identity: args.identity,
            password_env: args.password_env,
            host_key_check: args.host_key_check,
            known_hosts: args.known_hosts,
            jump: args.jump,
            ssh_config: args.ssh_config,
            ssh_options: args.ssh_options,
            connect_timeout: nonzero(args.connect_timeout),
            kex: args.kex,
            fanout: args.fanout,
            per_host: args.per_host,
        }
    }
}

impl From<RunArgs> for RunOptions {
    fn from(args: RunArgs) -> Self {
        RunOptions {
            hosts: args.hosts.into(),
            mode: args.mode,
            // clap requires one of the two and refuses both.
            command: args.command.unwrap_or_else(|| args.words.join(" ")),
            inline: args.inline,
            json: args.json,
            max_output: args.max_output,
            raw: args.raw,
            // Zero stays: it means no limit, even over `[defaults] command_timeout`.
            timeout: args.timeout,
            verbosity: verbosity(args.quiet, args.verbose),
            tty: args.tty,
            stdin: args.stdin,
            outdir: args.outdir,
            trace_events: args.trace_events,
        }
    }
}

impl From<BenchArgs> for BenchOptions {
    fn from(args: BenchArgs) -> Self {
        BenchOptions {
            hosts: args.hosts.into(),
            sessions: args.sessions,
            command: args.command,
            latency_ms: args.latency,
            modes: args.modes,
            host_key_type: args.host_key_type,
            time_cap: args.time_cap,
            json: args.json,
            svg: args.svg,
            timeline: args.timeline,
        }
    }
}

impl From<MockArgs> for ServeOptions {
    fn from(args: MockArgs) -> Self {
        ServeOptions {
            port: args.port,
            bind: args.bind,
            count: args.count,
            users: args.users,
            users_file: args.users_file,
            authorized_keys: args.authorized_keys,
            host_key: args.host_key,
            host_key_type: args.host_key_type.unwrap_or(match args.style {
                ShellStyle::Handout => HostKeyType::Rsa,
                ShellStyle::Practice => HostKeyType::Ed25519,
            }),
            // `--lang` is global: set for the process by main before the options are built.
            lang: crate::lang::current(),
            latency: Duration::from_millis(args.latency),
            login_grace: Duration::from_secs(args.login_grace),
            max_sessions: args.max_sessions,
            write_hosts: args.write_hosts,
            kex: args.kex.map(|list| list.to_vec()),
            differ: args.differ,
            marks: !args.no_marks,
            style: args.style,
        }
    }
}

/// A value list for clap from a plain enum's `ALL` and `name`: the enums stay free of clap.
macro_rules! value_enum_by_name {
    ($type:ty, $name:ident) => {
        impl ValueEnum for $type {
            fn value_variants<'a>() -> &'a [Self] {
                &<$type>::ALL
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.$name()))
            }
        }
    };
}
value_enum_by_name!(Mode, name);
value_enum_by_name!(HostKeyType, name);
value_enum_by_name!(Lang, name);
value_enum_by_name!(ShellStyle, name);
value_enum_by_name!(HostKeyCheck, as_str);

#[cfg(test)]
mod tests;
