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

/// The values a ProxyCommand's `%` tokens stand for.
pub struct ProxyTokens<'a> {
    /// `%h`: the host name connected to.
    pub host: &'a str,
    /// `%p`.
    pub port: u16,
    /// `%r`: the remote user.
    pub user: &'a str,
    /// `%n` and `%k` (no HostKeyAlias): the name as the user gave it.
    pub alias: &'a str,
}

/// Expands the tokens OpenSSH expands in a ProxyCommand (`%h %n %p %r %k %%`, checked
/// against `ssh` 9.2); any other token is refused, as `ssh` refuses to run with it.
pub fn expand_proxy_command(template: &str, tokens: &ProxyTokens<'_>) -> Result<String, String> {
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('%' | 'h' | 'n' | 'p' | 'r' | 'k') => {}
                Some(t) => {
                    return Err(format!(
                        "unknown token %{t} (ProxyCommand takes %h, %n, %p, %r, %k and %%)"
                    ));
                }
                None => return Err("a trailing % (write %% for a literal %)".to_string()),
            }
        }
    }
    let port = tokens.port.to_string();
    Ok(expand_tokens(template, |t| match t {
        'h' => Some(tokens.host.to_string()),
        'p' => Some(port.clone()),
        'r' => Some(tokens.user.to_string()),
        'n' | 'k' => Some(tokens.alias.to_string()),
        _ => None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_command_tokens_as_ssh_expands_them() {
        let tokens = ProxyTokens {
            host: "10.0.0.1",
            port: 2222,
            user: "deploy",
            alias: "Web",
        };
        assert_eq!(
            expand_proxy_command("nc %h %p # %r@%n %k 100%%", &tokens).as_deref(),
            Ok("nc 10.0.0.1 2222 # deploy@Web Web 100%")
        );
        for (bad, why) in [("nc %h %C", "unknown token %C"), ("nc %", "trailing %")] {
            let error = expand_proxy_command(bad, &tokens).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }
}
