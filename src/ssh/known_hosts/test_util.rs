//! Keys and helpers shared by the `known_hosts` unit tests.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{HostKeyStatus, KnownHosts};

// Generated with `ssh-keygen -t <type> -N '' -C testN` for these tests.
pub(super) const ED1: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+TdT630ux4i3+jZ87+sp3JKv6Uwm6s7QqXET//LP4o test1";
pub(super) const ED2: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIZbFCsPlU5IkfjCK8AxXi+95k5Vky+jvhWLOPVxYT07 test2";
pub(super) const EC1: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPf5xt/V5lVoEMkn2UQRob/sqRGbyRWJSiIRWf2mY7ZdSIvbzt0CWeBQtHKIKzh9Xh9YVrsowvFAUFxyxXbsJBk= test3";
pub(super) const RSA1: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC1TnwA5NHjnfwl6qsab9O7iZk8j78DpuzY3gDtkn148WqAyugwt9FXxJU/2K7PiImO37rx7CnrQTgISEa5il4mPcD3a7pKOffDaC22Rd6+gyg6sSAvOfV60dtup651WDl0fJs2nMswjdE5jn6qk46LaVk8XzVYYSWOYCfKVZt48Q== test4";

// `ssh-keygen -H` output for `example.com` and `[127.0.0.5]:2222`, ED1.
pub(super) const HASHED_BY_OPENSSH: &str = "\
|1|ma3fckOMW3NuELd8pFSVn2hf9sA=|gwPIx+QzgPelIXMJScPueZyC7ds= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+TdT630ux4i3+jZ87+sp3JKv6Uwm6s7QqXET//LP4o
|1|gZKNTXNRiTYoTjaASCk03J8+oQ8=|eZtjVQY0XN2LOmOtcCDaTOdfLnI= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+TdT630ux4i3+jZ87+sp3JKv6Uwm6s7QqXET//LP4o
";

/// (algo, blob, "algo base64") of a `.pub` line.
pub(super) fn key(publine: &str) -> (String, Vec<u8>, String) {
    let mut it = publine.split(' ');
    let algo = it.next().unwrap_or_default().to_string();
    let b64 = it.next().unwrap_or_default();
    let blob = STANDARD.decode(b64).unwrap();
    (algo.clone(), blob, format!("{algo} {b64}"))
}

pub(super) fn p(s: &str) -> PathBuf {
    PathBuf::from(s)
}

pub(super) fn check(kh: &KnownHosts, host: &str, port: u16, publine: &str) -> HostKeyStatus {
    let (algo, blob, _) = key(publine);
    kh.check(host, port, &algo, &blob)
}

/// Runs `ssh-keygen -F name -f file`; `None` when ssh-keygen is missing.
pub(super) fn keygen_find(file: &Path, name: &str) -> Option<(bool, String)> {
    match std::process::Command::new("ssh-keygen")
        .arg("-F")
        .arg(name)
        .arg("-f")
        .arg(file)
        .output()
    {
        Ok(out) => Some((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )),
        Err(e) => {
            crate::test_support::skip_without_peer(&format!("ssh-keygen not found ({e})"));
            None
        }
    }
}
