//! Host inventory: bracket ranges, `[user@]host[:port]` specs, plain host
//! files and the TOML host file.

pub mod dedupe;
pub mod groups_command;
pub mod hosts;
pub mod hostspec;
pub mod inventory;
mod lookup;
pub mod nodeset;
pub mod options;
pub mod precedence;
pub mod range;
pub mod show;
pub mod ssh_config;

use std::path::{Path, PathBuf};

pub use hosts::{
    Defaults, HostEntry, HostFile, HostKeyCheck, Inputs, Query, SelectError, Selection,
    load_host_file, parse_host_file, select,
};
pub use hostspec::{
    HostSpec, HostSpecError, parse_host_list_arg, parse_host_spec, parse_plain_host_file,
};
pub use options::HostOptions;
pub use range::{RangeError, expand, fold, fold_to_string};

/// Errors from reading a host file, always naming the file so a user with
/// several inventories knows which one to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The io error is part of the message rather than `source()` so that
    // printing the error alone is already complete.
    #[error("{}", crate::lang::trf("{path}: cannot read: {err}", &[("path", &path.display()), ("err", &crate::ssh::error_text::os_reason(&err.to_string()))]))]
    Io { path: PathBuf, err: std::io::Error },
    /// Positions are 1-based; `col` counts characters, not bytes, so it
    /// matches what an editor shows.
    #[error("{}:{line}:{col}: {message}", path.display())]
    At {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
}

impl ConfigError {
    /// Builds an error located at byte `offset` of `text`.
    pub(crate) fn at(path: &Path, text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, col) = line_col(text, offset);
        ConfigError::At {
            path: path.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }
}

/// 1-based line and character column of byte `offset`; offsets past the end
/// or inside a multi-byte character are clamped rather than trusted.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 5), (2, 3));
        // Inside `é`: clamps back to its start.
        assert_eq!(line_col(text, 6), (2, 3));
        assert_eq!(line_col(text, 8), (3, 1));
        assert_eq!(line_col(text, 999), (3, 2));
    }
}
