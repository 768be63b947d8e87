//! tracing setup: stderr for headless commands, a file for the TUI (never into the screen).

use std::path::Path;

use tracing_subscriber::EnvFilter;

/// `MTSSH_LOG` (tracing's filter syntax) overrides the default level.
fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env("MTSSH_LOG").unwrap_or_else(|_| EnvFilter::new(default))
}

/// Logs to stderr: colour only on a terminal (a log file or a pipe gets plain text).
pub fn to_stderr(default: &str) {
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(default))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Logs to `path` (appending); silently keeps quiet when the file cannot be opened, since a
/// TUI has nowhere else to log.
pub fn to_file(path: &Path, default: &str) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(default))
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
}
