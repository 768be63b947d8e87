//! A session error in the user's language. English is the error's own `Display`; Chinese
//! covers the failures people meet most (no such host, nothing listening, no answer, a wrong
//! password, an unknown or changed host key, a dropped connection) and falls back to the
//! English sentence for the rest. The operating system's reason (`Connection refused (os
//! error 111)`) is translated when it is a common one.

use crate::lang::{Lang, current, tr, trf};

use super::error::{SessionError, TimeoutPhase};
use super::session::humantime;

impl SessionError {
    /// The user-facing sentence in the current language (see the module docs).
    pub fn localized(&self) -> String {
        if current() == Lang::En {
            return self.to_string();
        }
        match self {
            SessionError::Resolve { host, reason } => trf(
                "cannot resolve {host}: {reason}",
                &[("host", host), ("reason", &os_reason(reason))],
            ),
            SessionError::Refused { address, reason }
            | SessionError::ConnectFailed { address, reason } => trf(
                "cannot connect to {address}: {reason}",
                &[("address", address), ("reason", &os_reason(reason))],
            ),
            SessionError::TimedOut { after, phase } => {
                let after = humantime(*after);
                let phase = match phase {
                    TimeoutPhase::Connect { address } => {
                        return trf(
                            "timed out after {after} connecting to {address} (no SSH answer); check the host and port, or raise --connect-timeout",
                            &[("after", &after), ("address", address)],
                        );
                    }
                    TimeoutPhase::Request { request } => trf(
                        "waiting for the server to answer the {request} request",
                        &[("request", request)],
                    ),
                    other => tr(&other.to_string()).to_string(),
                };
                trf(
                    "timed out after {after} {phase}",
                    &[("after", &after), ("phase", &phase)],
                )
            }
            SessionError::AuthFailed {
                user,
                tried,
                allowed,
                ..
            } => {
                let tried = if tried.is_empty() {
                    tr("nothing to try: no agent key, no identity file and no password (set password_env, MTSSH_PASSWORD or identity_file)").to_string()
                } else {
                    trf("tried {methods}", &[("methods", &tried.join(", "))])
                };
                let mut text = trf(
                    "authentication failed for user '{user}' ({tried})",
                    &[("user", user), ("tried", &tried)],
                );
                if !allowed.is_empty() {
                    text.push_str(&trf(
                        "; the server accepts: {methods}",
                        &[("methods", &allowed.join(","))],
                    ));
                }
                text
            }
            SessionError::HostKeyChanged {
                pattern,
                key,
                path,
                line,
                fix,
                ..
            } => trf(
                "HOST KEY CHANGED for {pattern}: the server offered {key}, but {path}:{line} holds a different key. Someone may be intercepting the connection, or the host was reinstalled. If you trust the new key, remove the old one with: {fix}",
                &[
                    ("pattern", pattern),
                    ("key", key),
                    ("path", &path.display()),
                    ("line", line),
                    ("fix", fix),
                ],
            ),
            SessionError::HostKeyUnknown { pattern, key, .. } => trf(
                "host key for {pattern} is not in known_hosts ({key}) and host_key_check is strict; check the fingerprint and add it, or use --host-key-check accept-new",
                &[("pattern", pattern), ("key", key)],
            ),
            SessionError::Handshake { address, reason } => trf(
                "SSH handshake with {address} failed: {reason}",
                &[("address", address), ("reason", &os_reason(reason))],
            ),
            SessionError::ConnectionLost {
                address,
                while_sending: None,
            } => trf(
                "connection to {address} lost (the server closed it or went away)",
                &[("address", address)],
            ),
            SessionError::ConnectionLost {
                while_sending: Some(why),
                ..
            } => trf(
                "connection lost while sending: {why}",
                &[("why", &os_reason(why))],
            ),
            SessionError::Jump { jump, source } => trf(
                "jump host {jump}: {error}",
                &[("jump", jump), ("error", &source.localized())],
            ),
            other => other.to_string(),
        }
    }
}

/// An operating system's error text in the current language when it is a common one; the
/// `(os error N)` stays, for a search.
pub(crate) fn os_reason(reason: &str) -> String {
    let (text, code) = match reason.find(" (os error ") {
        Some(at) => reason.split_at(at),
        None => (reason, ""),
    };
    format!("{}{code}", tr(text))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::lang::with;

    #[test]
    fn common_failures_read_in_chinese_and_english_stays_the_display() {
        let refused = SessionError::Refused {
            address: "127.0.0.1:2222".into(),
            reason: "Connection refused (os error 111)".into(),
        };
        with(Lang::En, || {
            assert_eq!(refused.localized(), refused.to_string())
        });
        with(Lang::Zh, || {
            assert_eq!(
                refused.localized(),
                "无法连接 127.0.0.1:2222：连接被拒绝 (os error 111)"
            );
            let auth = SessionError::AuthFailed {
                user: "test".into(),
                tried: vec!["password".into()],
                allowed: vec!["password".into(), "publickey".into()],
                notes: Vec::new(),
            };
            let text = auth.localized();
            assert!(text.contains("用户 'test' 认证失败"), "{text}");
            assert!(text.contains("password,publickey"), "{text}");
            let timeout = SessionError::TimedOut {
                after: Duration::from_secs(10),
                phase: TimeoutPhase::Authentication,
            };
            assert_eq!(timeout.localized(), "认证过程中超时（10s）");
            // Not translated yet: the English sentence, never nothing.
            let other = SessionError::Other("odd".into());
            assert_eq!(other.localized(), "odd");
        });
    }
}
