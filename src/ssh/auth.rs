//! Authentication, in OpenSSH's order: identity files, then password.
//!
//! Agent, keyboard-interactive and jump hosts build on this (their place is marked below).

use std::path::Path;

use russh::client;
use russh::client::AuthResult;

use super::session::{ClientHandler, Prompter, humantime, with_hash};
use super::target::Target;

type Failure = String;

pub(super) async fn authenticate(
    handle: &mut client::Handle<ClientHandler>,
    target: &Target,
    prompter: &Prompter,
) -> Result<(), Failure> {
    let limit = target.connect_timeout;
    let timed =
        |what: &'static str| move |_| format!("timed out after {} during {what}", humantime(limit));
    let mut tried = Vec::new();
    let mut allowed: Option<String> = None;

    for path in &target.identity_files {
        let Some(key) = load_identity(path, prompter).await? else {
            continue;
        };
        tried.push(format!("publickey {}", path.display()));
        let key = with_hash(handle, key).await;
        let result = tokio::time::timeout(limit, handle.authenticate_publickey(&target.user, key))
            .await
            .map_err(timed("publickey authentication"))?
            .map_err(|e| format!("publickey authentication failed: {e}"))?;
        match result {
            AuthResult::Success => return Ok(()),
            AuthResult::Failure {
                remaining_methods, ..
            } => allowed = Some(method_names(&remaining_methods)),
        }
    }

    let password = match &target.password {
        Some(password) => Some(password.clone()),
        None if allows_password(allowed.as_deref()) => {
            prompter
                .ask(
                    format!("Password for {}@{}:", target.user, target.name),
                    false,
                )
                .await
        }
        None => None,
    };
    if let Some(password) = password {
        tried.push("password".to_string());
        let result =
            tokio::time::timeout(limit, handle.authenticate_password(&target.user, password))
                .await
                .map_err(timed("password authentication"))?
                .map_err(|e| format!("password authentication failed: {e}"))?;
        match result {
            AuthResult::Success => return Ok(()),
            AuthResult::Failure {
                remaining_methods, ..
            } => allowed = Some(method_names(&remaining_methods)),
        }
    }

    let tried = if tried.is_empty() {
        "nothing to try: no identity file and no password (set password_env, MTSSH_PASSWORD or identity_file)".to_string()
    } else {
        format!("tried {}", tried.join(", "))
    };
    let allowed = allowed
        .map(|m| format!("; the server accepts: {m}"))
        .unwrap_or_default();
    Err(format!(
        "authentication failed for user '{}' ({tried}){allowed}",
        target.user
    ))
}

fn allows_password(allowed: Option<&str>) -> bool {
    allowed.is_none_or(|m| m.split(',').any(|x| x == "password"))
}

fn method_names(methods: &russh::MethodSet) -> String {
    methods
        .iter()
        .map(|m| <&str>::from(m))
        .collect::<Vec<_>>()
        .join(",")
}

/// Loads a private key off the event loop. Missing default keys are skipped silently;
/// an encrypted key asks its passphrase through the front end.
async fn load_identity(
    path: &Path,
    prompter: &Prompter,
) -> Result<Option<russh::keys::PrivateKey>, Failure> {
    let owned = path.to_path_buf();
    let loaded = tokio::task::spawn_blocking(move || russh::keys::load_secret_key(&owned, None))
        .await
        .map_err(|e| format!("key loading task failed: {e}"))?;
    match loaded {
        Ok(key) => Ok(Some(key)),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let Some(passphrase) = prompter
                .ask(format!("Passphrase for {}:", path.display()), false)
                .await
            else {
                return Err(format!(
                    "{} is encrypted and no passphrase was given",
                    path.display()
                ));
            };
            let owned = path.to_path_buf();
            let loaded = tokio::task::spawn_blocking(move || {
                russh::keys::load_secret_key(&owned, Some(&passphrase))
            })
            .await
            .map_err(|e| format!("key loading task failed: {e}"))?;
            loaded
                .map(Some)
                .map_err(|_| format!("could not decrypt {} (wrong passphrase?)", path.display()))
        }
        Err(russh::keys::Error::IO(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("identity file {} does not exist", path.display()))
        }
        Err(e) => Err(format!("cannot read identity file {}: {e}", path.display())),
    }
}
