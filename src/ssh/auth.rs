//! Authentication, in OpenSSH's order: ssh-agent keys, identity files, keyboard-interactive,
//! then password. Every failure names what was tried and what the server accepts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use russh::client::{self, AuthResult, KeyboardInteractiveAuthResponse};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};

use super::connect::ClientHandler;
use super::error::{SessionError, TimeoutPhase};
use super::session::Prompter;
use super::target::Target;

type Failure = SessionError;

/// Rounds of keyboard-interactive questions before giving up (servers may ask forever).
const MAX_KBD_ROUNDS: usize = 6;

/// What one authentication run has learned so far.
struct Attempt<'a> {
    handle: &'a mut client::Handle<ClientHandler>,
    target: &'a Target,
    prompter: &'a Prompter,
    tried: Vec<String>,
    notes: Vec<String>,
    /// Methods the server still accepts (from its last failure answer).
    allowed: Vec<String>,
    secrets: Secrets,
    /// The RSA signature hash the server prefers, asked once (russh may wait for the
    /// server's extension info to answer).
    rsa_hash: Option<Option<HashAlg>>,
}

/// Whether passwords and keyboard-interactive answers may be sent to this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Secrets {
    Allowed,
    /// Its host key changed and checking is off: it may be an impostor (OpenSSH withholds
    /// them too, and still offers public keys, which reveal nothing).
    Withheld,
}

pub(super) async fn authenticate(
    handle: &mut client::Handle<ClientHandler>,
    target: &Target,
    prompter: &Prompter,
    secrets: Secrets,
) -> Result<(), Failure> {
    let mut attempt = Attempt {
        handle,
        target,
        prompter,
        secrets,
        tried: Vec::new(),
        notes: Vec::new(),
        allowed: Vec::new(),
        rsa_hash: None,
    };
    if attempt.run().await? {
        return Ok(());
    }
    Err(SessionError::AuthFailed {
        user: target.user.clone(),
        tried: attempt.tried,
        allowed: attempt.allowed,
        notes: attempt.notes,
    })
}

impl Attempt<'_> {
    /// True once authenticated.
    async fn run(&mut self) -> Result<bool, Failure> {
        let limit = self.target.connect_timeout;
        // The `none` probe: some servers let us in, and every server tells which methods
        // it accepts, so nothing is offered that cannot work.
        let probe = self.handle.authenticate_none(&self.target.user);
        let result = timed(limit, probe).await?;
        if self.judge(result) {
            return Ok(true);
        }
        if self.allows("publickey") && self.target.use_agent && self.by_agent().await? {
            return Ok(true);
        }
        if self.allows("publickey") && self.by_identity_files().await? {
            return Ok(true);
        }
        if self.secrets == Secrets::Withheld {
            if self.allows("keyboard-interactive") || self.allows("password") {
                self.notes.push(
                    "password and keyboard-interactive authentication are disabled: the host \
                     key has changed (host key checking is off)"
                        .into(),
                );
            }
            return Ok(false);
        }
        if self.allows("keyboard-interactive") && self.by_keyboard().await? {
            return Ok(true);
        }
        if self.allows("password") && self.by_password().await? {
            return Ok(true);
        }
        Ok(false)
    }

    fn allows(&self, method: &str) -> bool {
        self.allowed.iter().any(|m| m == method)
    }

    /// Records the server's answer; true on success.
    fn judge(&mut self, result: AuthResult) -> bool {
        match result {
            AuthResult::Success => true,
            AuthResult::Failure {
                remaining_methods, ..
            } => {
                self.remember(&remaining_methods);
                false
            }
        }
    }

    fn remember(&mut self, remaining_methods: &russh::MethodSet) {
        self.allowed = remaining_methods
            .iter()
            .map(|m| <&str>::from(m).to_string())
            .collect();
    }

    async fn rsa_hash(&mut self) -> Option<HashAlg> {
        if self.rsa_hash.is_none() {
            let hash = self.handle.best_supported_rsa_hash().await;
            self.rsa_hash = Some(hash.ok().flatten().flatten());
        }
        self.rsa_hash.flatten()
    }

    /// The public halves of the configured identity files, for IdentitiesOnly.
    async fn wanted_keys(&self) -> Vec<PublicKey> {
        if !self.target.identities_only || self.target.identity_files.is_empty() {
            return Vec::new();
        }
        let paths = self.target.identity_files.clone();
        tokio::task::spawn_blocking(move || {
            paths
                .iter()
                .filter_map(|path| {
                    let mut public = path.as_os_str().to_owned();
                    public.push(".pub");
                    russh::keys::load_public_key(PathBuf::from(public)).ok()
                })
                .collect()
        })
        .await
        .unwrap_or_default()
    }

    async fn by_agent(&mut self) -> Result<bool, Failure> {
        let limit = self.target.connect_timeout;
        let Ok(mut agent) = AgentClient::connect_env().await else {
            return Ok(false);
        };
        let wanted = self.wanted_keys().await;
        let Ok(identities) = agent.request_identities().await else {
            self.notes
                .push("the ssh-agent did not list its keys".into());
            return Ok(false);
        };
        for identity in identities {
            let AgentIdentity::PublicKey { key, comment } = identity else {
                continue;
            };
            if self.target.identities_only && !wanted.iter().any(|w| w.key_data() == key.key_data())
            {
                continue;
            }
            self.tried
                .push(format!("agent key {}", describe(&key, &comment)));
            let hash = self.rsa_hash().await;
            let step =
                self.handle
                    .authenticate_publickey_with(&self.target.user, key, hash, &mut agent);
            let result = timed(limit, step).await?;
            if self.judge(result) {
                return Ok(true);
            }
            if !self.allows("publickey") {
                break;
            }
        }
        Ok(false)
    }

    async fn by_identity_files(&mut self) -> Result<bool, Failure> {
        let limit = self.target.connect_timeout;
        for path in self.target.identity_files.clone() {
            let Some(key) = self.load_identity(&path).await? else {
                continue;
            };
            let key = Arc::new(key);
            // OpenSSH offers `KEY-cert.pub` beside a key as a user certificate first.
            if let Some(cert) = certificate_beside(&path).await {
                self.tried
                    .push(format!("certificate {}-cert.pub", path.display()));
                let step =
                    self.handle
                        .authenticate_openssh_cert(&self.target.user, key.clone(), cert);
                let result = timed(limit, step).await?;
                if self.judge(result) {
                    return Ok(true);
                }
            }
            self.tried.push(format!("publickey {}", path.display()));
            let key = PrivateKeyWithHashAlg::new(key, self.rsa_hash().await);
            let step = self.handle.authenticate_publickey(&self.target.user, key);
            let result = timed(limit, step).await?;
            if self.judge(result) {
                return Ok(true);
            }
            if !self.allows("publickey") {
                break;
            }
        }
        Ok(false)
    }

    async fn by_keyboard(&mut self) -> Result<bool, Failure> {
        let limit = self.target.connect_timeout;
        self.tried.push("keyboard-interactive".into());
        let step = self
            .handle
            .authenticate_keyboard_interactive_start(&self.target.user, None::<String>);
        let mut response = timed(limit, step).await?;
        // The configured password answers the first hidden question (that is what
        // PAM-backed servers ask); anything else goes to the person.
        let mut password = self.target.password.clone();
        for _ in 0..MAX_KBD_ROUNDS {
            match response {
                KeyboardInteractiveAuthResponse::Success => return Ok(true),
                KeyboardInteractiveAuthResponse::Failure {
                    remaining_methods, ..
                } => {
                    self.remember(&remaining_methods);
                    return Ok(false);
                }
                KeyboardInteractiveAuthResponse::InfoRequest {
                    name,
                    instructions,
                    prompts,
                } => {
                    let mut answers = Vec::with_capacity(prompts.len());
                    for prompt in prompts {
                        let answer = match password.take() {
                            Some(pw) if !prompt.echo => pw,
                            other => {
                                password = other;
                                let text =
                                    [name.as_str(), instructions.as_str(), prompt.prompt.as_str()]
                                        .iter()
                                        .filter(|s| !s.trim().is_empty())
                                        .map(|s| s.trim())
                                        .collect::<Vec<_>>()
                                        .join(" ");
                                let text =
                                    format!("{} ({}): {text}", self.target.name, self.target.user);
                                match self.ask(text, prompt.echo, "keyboard-interactive").await {
                                    Some(answer) => answer,
                                    None => return Ok(false),
                                }
                            }
                        };
                        answers.push(answer);
                    }
                    let step = self
                        .handle
                        .authenticate_keyboard_interactive_respond(answers);
                    response = timed(limit, step).await?;
                }
            }
        }
        Ok(false)
    }

    async fn by_password(&mut self) -> Result<bool, Failure> {
        let limit = self.target.connect_timeout;
        let password = match &self.target.password {
            Some(password) => password.clone(),
            None => {
                let text = password_prompt(self.target);
                match self.ask(text, false, "password").await {
                    Some(password) => password,
                    None => return Ok(false),
                }
            }
        };
        self.tried.push("password".into());
        let step = self
            .handle
            .authenticate_password(&self.target.user, password);
        let result = timed(limit, step).await?;
        Ok(self.judge(result))
    }

    /// Loads a private key off the event loop. A key readable by others is refused as
    /// OpenSSH refuses it; an encrypted key asks its passphrase through the front end, once
    /// for the process (see [`UNLOCKED`]).
    async fn load_identity(&mut self, path: &Path) -> Result<Option<PrivateKey>, Failure> {
        let owned = path.to_path_buf();
        // The permission check is file IO too: both off the loop. The read is capped: an
        // identity file of `/dev/zero` must not eat memory.
        let loaded = tokio::task::spawn_blocking(move || match loose_permissions(&owned) {
            Some(mode) => Err(mode),
            None => Ok(crate::sys::read_file_capped(
                &owned,
                crate::sys::MAX_KEY_FILE,
            )),
        })
        .await
        .map_err(|e| SessionError::Other(format!("key loading task failed: {e}")))?;
        let text = match loaded {
            Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                self.notes
                    .push(format!("identity file {} does not exist", path.display()));
                return Ok(None);
            }
            Ok(Err(e)) => {
                self.notes
                    .push(format!("cannot read identity file {}: {e}", path.display()));
                return Ok(None);
            }
            Err(mode) => {
                self.notes.push(format!(
                    "{} was not used: permissions {mode:04o} are too open (others can read it); fix with `chmod 600 {}`",
                    path.display(),
                    path.display()
                ));
                return Ok(None);
            }
        };
        match russh::keys::decode_secret_key(&text, None) {
            Ok(key) => Ok(Some(key)),
            Err(russh::keys::Error::KeyIsEncrypted) => self.decrypt(path, text).await,
            Err(e) => {
                self.notes
                    .push(format!("cannot read identity file {}: {e}", path.display()));
                Ok(None)
            }
        }
    }

    /// Unlocks an encrypted key: from [`UNLOCKED`] when this process already has (the same
    /// file's contents), else by asking its passphrase. Sessions that need the same key wait
    /// for the one asking, so a run over many hosts asks once, not once per host.
    /// Under BatchMode nobody is asked: the key is skipped with a note, as OpenSSH does.
    async fn decrypt(&mut self, path: &Path, text: String) -> Result<Option<PrivateKey>, Failure> {
        let slot = unlocked_slot(path);
        let mut unlocked = slot.lock().await;
        if let Some((known, key)) = unlocked.as_ref()
            && *known == text
        {
            return Ok(Some(key.clone()));
        }
        if self.target.batch_mode {
            self.notes.push(format!(
                "{} is encrypted and BatchMode forbids asking its passphrase",
                path.display()
            ));
            return Ok(None);
        }
        let Some(passphrase) = self
            .prompter
            .ask(format!("Passphrase for {}:", path.display()), false)
            .await
        else {
            return Err(SessionError::PassphraseMissing {
                path: path.to_path_buf(),
            });
        };
        let encrypted = text.clone();
        // ~0.1-0.5 s of key derivation: never on the event loop.
        let key = tokio::task::spawn_blocking(move || {
            russh::keys::decode_secret_key(&encrypted, Some(&passphrase))
        })
        .await
        .map_err(|e| SessionError::Other(format!("key loading task failed: {e}")))?
        .map_err(|_| SessionError::WrongPassphrase {
            path: path.to_path_buf(),
        })?;
        *unlocked = Some((text, key.clone()));
        Ok(Some(key))
    }

    /// Asks the person through the front end, unless BatchMode forbids asking anyone: then
    /// `None`, with a note that says why (`what` names the prompt not shown).
    async fn ask(&mut self, text: String, echo: bool, what: &str) -> Option<String> {
        if self.target.batch_mode {
            let note = format!(
                "BatchMode is on, so no {what} prompt (give a password with password_env or MTSSH_PASSWORD, or use a key)"
            );
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
            return None;
        }
        self.prompter.ask(text, echo).await
    }
}

/// Keys unlocked with a passphrase in this process, by path, with the file's text they were
/// decoded from (a changed file is asked for again). Every session of a run, the blocking
/// modes' threads and a TUI's reconnects share it: the passphrase is asked once per key. A
/// wrong passphrase is not kept, so the next session asks again, as OpenSSH does.
static UNLOCKED: LazyLock<std::sync::Mutex<HashMap<PathBuf, Arc<UnlockedSlot>>>> =
    LazyLock::new(Default::default);

type UnlockedSlot = tokio::sync::Mutex<Option<(String, PrivateKey)>>;

fn unlocked_slot(path: &Path) -> Arc<UnlockedSlot> {
    match UNLOCKED.lock() {
        Ok(mut slots) => slots.entry(path.to_path_buf()).or_default().clone(),
        // A poisoned map (a panic elsewhere while holding it) only loses the cache.
        Err(_) => Arc::default(),
    }
}

/// One authentication step, bounded by the connect timeout.
async fn timed<T, E: std::fmt::Display>(
    limit: std::time::Duration,
    step: impl Future<Output = Result<T, E>>,
) -> Result<T, Failure> {
    tokio::time::timeout(limit, step)
        .await
        .map_err(|_| SessionError::TimedOut {
            after: limit,
            phase: TimeoutPhase::Authentication,
        })?
        .map_err(|e| SessionError::AuthBrokeOff {
            reason: e.to_string(),
        })
}

/// The user certificate `KEY-cert.pub` next to an identity file, when there is one.
async fn certificate_beside(key: &Path) -> Option<russh::keys::Certificate> {
    let mut name = key.as_os_str().to_owned();
    name.push("-cert.pub");
    let path = PathBuf::from(name);
    // A missing file fails to load like an unreadable one: no separate `exists` check.
    tokio::task::spawn_blocking(move || russh::keys::load_openssh_certificate(&path).ok())
        .await
        .ok()
        .flatten()
}

fn describe(key: &PublicKey, comment: &str) -> String {
    let fingerprint = key.fingerprint(russh::keys::HashAlg::Sha256);
    if comment.is_empty() {
        format!("{fingerprint}")
    } else {
        format!("{comment} ({fingerprint})")
    }
}

/// The file's mode when group or others may read or write it.
fn loose_permissions(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// "Password for test@mock-01:": the user, then the host's name, which already starts with
/// the user when it came from `-H test@127.0.0.1:2222` (not `test@test@…`).
fn password_prompt(target: &Target) -> String {
    let prefix = format!("{}@", target.user);
    if target.name.starts_with(&prefix) {
        format!("Password for {}:", target.name)
    } else {
        format!("Password for {prefix}{}:", target.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::HostKeyPolicy;

    #[test]
    fn the_password_prompt_names_the_user_once() {
        let key =
            PublicKey::from_openssh(include_str!("../../tests/fixtures/keys/host_ed25519.pub"))
                .unwrap();
        let target = |name: &str| {
            let pinned = HostKeyPolicy::Pinned(key.clone());
            Target::new(name, "127.0.0.1", 2222, "test", pinned)
        };
        assert_eq!(
            password_prompt(&target("test@127.0.0.1:2222#1")),
            "Password for test@127.0.0.1:2222#1:"
        );
        assert_eq!(
            password_prompt(&target("mock-01")),
            "Password for test@mock-01:"
        );
        // Another user's name in the spec is not this user's.
        assert_eq!(
            password_prompt(&target("tester@h")),
            "Password for test@tester@h:"
        );
    }
}
