//! OpenSSH `known_hosts` index: loaded once, checked many times.
//!
//! Keys are handled as an algorithm name plus the raw wire blob (the
//! base64-decoded second field of a `.pub` line), so this module does not
//! depend on any SSH library.
//!
//! Loading does blocking file I/O; call [`KnownHosts::load`] from a blocking
//! thread (e.g. `spawn_blocking`), never on the event loop. Checking is pure
//! CPU work on the in-memory index and never touches the disk.
//!
//! Matching follows OpenSSH's `hostfile.c` / `match.c`:
//! * the lookup name is [`host_pattern`]: `host` for port 22, `[host]:port`
//!   otherwise, lower-cased;
//! * plain host fields are comma-separated glob patterns (`*`, `?`) matched
//!   against that whole name, so a literal `host` entry only covers port 22,
//!   while `*` covers every port and `[10.0.0.*]:2222` works as expected;
//! * `!pattern` vetoes the whole line when it matches;
//! * hashed fields `|1|salt|mac` hold HMAC-SHA1(key = salt, msg = name).
//!
//! Layout: `line` parses one line (marker, hashed or pattern host field, key
//! blob), `index` holds [`KnownHosts`] and its lookups, `writer` formats and
//! appends learned keys (creating the file and its directory if needed).

mod index;
mod line;
mod writer;

#[cfg(test)]
mod test_util;

use std::path::{Path, PathBuf};

pub use index::KnownHosts;
pub use writer::{append_entry, format_entry};

/// Result of [`KnownHosts::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// A matching line holds exactly this key.
    Known,
    /// No line matches this host/port.
    Unknown,
    /// The host is known, but with another key. `path`/`line` point at the
    /// line to show the user (1-based, as in the file).
    Changed {
        path: PathBuf,
        line: usize,
        known_algo: String,
    },
    /// The key appears on an `@revoked` line.
    Revoked { path: PathBuf, line: usize },
}

/// The name OpenSSH looks up and writes for a host: `host` for the default
/// port, `[host]:port` otherwise. Lower-cased because ssh lower-cases the
/// host name before any known_hosts work. Port 0 means "default", as in
/// OpenSSH's `put_host_port`.
pub fn host_pattern(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 || port == 0 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// Shell command that removes the stale entry, as OpenSSH suggests it.
pub fn fix_hint(path: &Path, host: &str, port: u16) -> String {
    format!(
        "ssh-keygen -f {} -R {}",
        shell_quote(&path.display().to_string()),
        shell_quote(&host_pattern(host, port))
    )
}

/// Double quotes match OpenSSH's own hint; escaping keeps a path with `"`,
/// `$` or a backtick safe to paste.
fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_util::p;

    #[test]
    fn fix_hint_format() {
        assert_eq!(
            fix_hint(&p("/x/known_hosts"), "127.0.0.5", 2222),
            r#"ssh-keygen -f "/x/known_hosts" -R "[127.0.0.5]:2222""#
        );
        assert_eq!(
            fix_hint(&p("/we\"ird $dir/kh"), "Host", 22),
            r#"ssh-keygen -f "/we\"ird \$dir/kh" -R "host""#
        );
    }
}
