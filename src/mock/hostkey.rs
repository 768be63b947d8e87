//! The mock server's host key: generated once, persisted, and reused so that clients see a
//! stable key across restarts (and their known_hosts stays valid).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, PrivateKey};

/// The two key types the course uses: ed25519 (fast, our default) and RSA-2048 (what the
/// course's original server used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyType {
    #[default]
    Ed25519,
    Rsa,
}

impl HostKeyType {
    pub const ALL: [HostKeyType; 2] = [HostKeyType::Ed25519, HostKeyType::Rsa];

    /// The name on the command line (`--host-key-type`) and in `ssh-keygen -t`.
    pub fn name(self) -> &'static str {
        match self {
            HostKeyType::Ed25519 => "ed25519",
            HostKeyType::Rsa => "rsa",
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            HostKeyType::Ed25519 => "mock_host_ed25519_key",
            HostKeyType::Rsa => "mock_host_rsa_key",
        }
    }
}

/// Where the key lives when `--host-key` is not given: the user's data dir.
pub fn default_host_key_path(kind: HostKeyType) -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "mtssh")?;
    Some(dirs.data_dir().join(kind.file_name()))
}

/// Loads the key at `path`, or generates and persists one when the file does not exist.
///
/// Blocking (file IO, RSA generation takes up to ~0.2 s): call it through `spawn_blocking`.
/// Two processes starting at once must agree on one key: each writes its own temporary file
/// and hard-links it into place, which fails if the other was first; the loser then reads
/// the winner's key. The final path therefore never holds a half-written key.
pub fn load_or_create(path: &Path, kind: HostKeyType) -> Result<PrivateKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => return parse_key(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading host key {}", path.display())),
    }
    let key = generate(kind)?;
    let pem = key
        .to_openssh(LineEnding::LF)
        .context("encoding the new host key")?;
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        std::process::id(),
        rand::random::<u32>()
    ));
    write_private_file(&tmp, pem.as_bytes())?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading host key {}", path.display()))?;
            parse_key(&text, path)
        }
        Err(e) => Err(e).with_context(|| format!("saving host key to {}", path.display())),
    }
}

/// A fresh key that is never written anywhere (tests, `--ephemeral-key`).
pub fn generate(kind: HostKeyType) -> Result<PrivateKey> {
    let mut rng = rand::rng();
    let key = match kind {
        HostKeyType::Ed25519 => PrivateKey::random(&mut rng, Algorithm::Ed25519)?,
        HostKeyType::Rsa => {
            // PrivateKey::random would make a 4096-bit key (~0.8 s); the course uses 2048.
            let pair = russh::keys::ssh_key::private::RsaKeypair::random(&mut rng, 2048)?;
            PrivateKey::new(pair.into(), "mtssh mock")?
        }
    };
    Ok(key)
}

fn parse_key(text: &str, path: &Path) -> Result<PrivateKey> {
    let key = PrivateKey::from_openssh(text).with_context(|| {
        format!(
            "{} is not an unencrypted OpenSSH private key; delete it to generate a new one",
            path.display()
        )
    })?;
    if key.is_encrypted() {
        bail!(
            "host key {} is encrypted; the mock server needs an unencrypted key",
            path.display()
        );
    }
    Ok(key)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    crate::sys::create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))
}

fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = crate::sys::open_private_file(path, crate::sys::PrivateOpen::CreateNew)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_persisted_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key");
        let first = load_or_create(&path, HostKeyType::Ed25519).unwrap();
        let again = load_or_create(&path, HostKeyType::Ed25519).unwrap();
        assert_eq!(first.public_key(), again.public_key());
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let keys: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || load_or_create(&path, HostKeyType::Ed25519).unwrap())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap().public_key().clone())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "temporary files must be cleaned up");
    }

    #[test]
    fn garbage_key_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "not a key").unwrap();
        let err = load_or_create(&path, HostKeyType::Ed25519).unwrap_err();
        assert!(format!("{err:#}").contains("delete it"), "{err:#}");
    }
}
