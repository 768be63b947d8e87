//! `%` tokens, `~` and `${VAR}` in option values.

use std::path::Path;

/// Rejects `%` tokens outside `allowed` so that expansion later cannot leave
/// a half-expanded value behind.
pub(super) fn check_tokens(s: &str, allowed: &str) -> Result<(), String> {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('%') => {}
            Some(t) if allowed.contains(t) => {}
            Some(t @ ('C' | 'i' | 'L' | 'l')) => {
                return Err(format!("token %{t} is not supported by mtssh"));
            }
            Some(t) => return Err(format!("unknown token %{t}")),
            None => return Err("trailing %".to_string()),
        }
    }
    Ok(())
}

pub(super) fn expand_tokens(s: &str, lookup: impl Fn(char) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match lookup(t) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push('%');
                    out.push(t);
                }
            },
            None => out.push('%'),
        }
    }
    out
}

pub(super) fn expand_tilde(s: &str, home: &Path) -> Result<String, String> {
    let Some(rest) = s.strip_prefix('~') else {
        return Ok(s.to_string());
    };
    let home = home.to_string_lossy();
    if rest.is_empty() {
        return Ok(home.into_owned());
    }
    match rest.strip_prefix('/') {
        Some(tail) => Ok(format!("{}/{}", home.trim_end_matches('/'), tail)),
        None => Err("~user paths are not supported by mtssh".to_string()),
    }
}

/// Expands `${NAME}` from the environment, as OpenSSH does for path options.
pub(super) fn expand_env(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("unterminated ${".to_string());
        };
        let name = &after[..end];
        match std::env::var(name) {
            Ok(v) => out.push_str(&v),
            Err(_) => return Err(format!("environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
