//! `mtssh` with no subcommand: resolve the hosts (or start the practice server) and open the
//! TUI on them.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::config::HostOptions;
use crate::config::inventory;
use crate::mock::MockServer;
use crate::ssh::{Engine, EngineSettings, Target};
use crate::tui::{TuiSetup, run_tui as run_loop};

/// Practice hosts opened when no host list is given: the course's four panes.
pub const PRACTICE_HOSTS: usize = 4;

/// What only the TUI is told on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TuiOptions {
    /// Where F7 saves scrollback (`None`: the state directory's `saves`).
    pub save_dir: Option<std::path::PathBuf>,
    /// Recordings and logs (`dir: None`: the state directory's `recordings`).
    pub record: crate::tui::record::RecordOptions,
    /// Bytes of input one session may hold unsent.
    pub input_limit: usize,
    pub safety: crate::app::safe::Safety,
    /// `--shell-integration`: overrides every host's own setting.
    pub shell_integration: Option<crate::ssh::shell_integration::ShellIntegration>,
    /// `--reconnect`: every pane reconnects by itself (tries as each host's list says).
    pub reconnect: bool,
    /// `--scrollback` (lines per pane) and `--scrollback-memory` (MiB for all panes):
    /// over the host list's `[defaults]`, over the built-in defaults.
    pub scrollback: Option<usize>,
    pub scrollback_memory: Option<usize>,
}

pub async fn run_tui(args: HostOptions, tui: TuiOptions) -> Result<ExitCode> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "{}",
            crate::lang::tr("the TUI needs a terminal; for scripts use `mtssh run -c CMD`")
        );
    }
    log_to_file();
    let mut scrollback = crate::app::pane::ScrollbackSetting::default();
    let (sessions, mock, stores, resolver) = if inventory::hosts_given(&args) {
        let inventory = inventory::resolve(&args).await?;
        scrollback = scrollback_setting(
            scrollback,
            inventory.scrollback,
            inventory.scrollback_memory,
        );
        for warning in &inventory.warnings {
            tracing::warn!("{warning}");
        }
        for notice in &inventory.notices {
            tracing::info!("{notice}");
        }
        let resolver = Some(inventory.resolver);
        (inventory.targets, None, inventory.stores, resolver)
    } else {
        let mock = MockServer::start_practice(PRACTICE_HOSTS).await?;
        (
            practice_sessions(&mock, args.count.unwrap_or(1)),
            Some(mock),
            Vec::new(),
            None,
        )
    };
    let scrollback = scrollback_setting(scrollback, tui.scrollback, tui.scrollback_memory);
    let mut sessions = sessions;
    if let Some(mode) = tui.shell_integration {
        for target in &mut sessions {
            target.shell_integration = mode;
        }
    }
    if tui.reconnect {
        for target in &mut sessions {
            target.reconnect.mode = crate::ssh::reconnect::ReconnectMode::Auto;
        }
    }
    let add_host_template = sessions.first().cloned();
    let (engine, events) = Engine::new(EngineSettings {
        fanout: args.fanout,
        per_host: args.per_host,
        output_credit: Some(crate::tui::OUTPUT_CREDIT),
        input_limit: tui.input_limit,
        ..Default::default()
    });
    let result = run_loop(TuiSetup {
        sessions,
        engine,
        events,
        mock,
        add_host_template,
        add_host_resolver: resolver,
        save_dir: tui.save_dir.or_else(default_save_dir),
        safety: tui.safety,
        scrollback,
        record: crate::tui::record::RecordOptions {
            dir: tui.record.dir.clone().or_else(default_record_dir),
            ..tui.record
        },
    })
    .await;
    for store in &stores {
        store.flush().await;
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// `setting` with the lines and MiB given (if given) in place of its own.
fn scrollback_setting(
    setting: crate::app::pane::ScrollbackSetting,
    lines: Option<usize>,
    memory_mib: Option<usize>,
) -> crate::app::pane::ScrollbackSetting {
    crate::app::pane::ScrollbackSetting {
        lines: lines.unwrap_or(setting.lines),
        memory_bytes: memory_mib.map_or(setting.memory_bytes, |mib| mib.saturating_mul(1 << 20)),
    }
}

/// `mtssh resolve`: every selected host's settings, as `ssh -G` prints them, blank-line
/// separated; the warnings go to stderr. Nothing connects.
pub async fn print_resolution(args: HostOptions) -> Result<ExitCode> {
    let inventory = inventory::resolve(&args).await?;
    for warning in &inventory.warnings {
        eprintln!(
            "mtssh: warning: {}",
            crate::text::neutralize(warning.as_bytes())
        );
    }
    let text: Vec<String> = inventory
        .targets
        .iter()
        .map(crate::config::show::ssh_g_lines)
        .collect();
    print!("{}", text.join("\n"));
    Ok(ExitCode::SUCCESS)
}

/// One pane per practice host; `--count N` opens N sessions spread over the hosts.
pub fn practice_sessions(mock: &MockServer, count: usize) -> Vec<Target> {
    let hosts = mock.hosts();
    let total = if count > 1 { count } else { hosts.len() };
    (0..total)
        .filter_map(|i| {
            let host = i % hosts.len().max(1);
            let name = if count > 1 {
                format!("practice-{:02}", i + 1)
            } else {
                hosts[host].name.clone()
            };
            mock.practice_target(host, name)
        })
        .collect()
}

/// The user's state directory for mtssh (`~/.local/state/mtssh`).
fn state_dir() -> Option<std::path::PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "mtssh")?;
    Some(
        dirs.state_dir()
            .unwrap_or_else(|| dirs.data_dir())
            .to_path_buf(),
    )
}

/// F7's default: a folder of the state directory, never the current directory.
fn default_save_dir() -> Option<std::path::PathBuf> {
    state_dir().map(|dir| dir.join("saves"))
}

/// Where Alt-V records without --record: a folder of the state directory.
fn default_record_dir() -> Option<std::path::PathBuf> {
    state_dir().map(|dir| dir.join("recordings"))
}

/// The TUI owns the screen: logs go to a file in the user's state dir.
fn log_to_file() {
    if let Some(dir) = state_dir() {
        crate::logging::to_file(&dir.join("mtssh.log"), "info");
    }
}
