//! Helpers shared by the `ssh_config` unit tests.

use std::fs;
use std::path::Path;

use super::SshConfig;

pub(super) const HOME: &str = "/home/alice";

pub(super) fn cfg(text: &str) -> SshConfig {
    SshConfig::parse(text, Path::new("/home/alice/.ssh/config"), Path::new(HOME))
}

pub(super) fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

pub(super) fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

pub(super) fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("mkdir");
    }
    fs::write(path, text).expect("write");
}
