//! ProxyCommand and ProxyJump as OpenSSH reads them, checked against `ssh -G`.

use std::process::Command;

use super::test_util::*;
use super::{HostConfig, SshConfig};

const CONFIG: &str = "\
Host cmd-first
  ProxyCommand nc %h %p # kept, comment and all
  ProxyJump j1
Host jump-first
  ProxyJump j2
  ProxyCommand foo
Host cmd-none
  ProxyCommand none
  ProxyJump j3
Host jump-none
  ProxyJump none
  ProxyCommand bar %r
Host jump-none-twice
  ProxyJump none
  ProxyJump j4
Host quoted
  ProxyCommand = \"quoted x\" 'y'   
Match originalhost via-match
  ProxyCommand matched %h
Host *
  ProxyCommand fallback %n
";

/// What `ssh -G` prints for the pair: `proxycommand X` or `proxyjump X`, or neither.
fn effective(h: &HostConfig) -> Vec<String> {
    let jump = h
        .proxy_jump
        .clone()
        .filter(|j| !j.eq_ignore_ascii_case("none"));
    let command = h.proxy_command.clone().filter(|c| c != "none");
    match (jump, command) {
        (Some(jump), _) => vec![format!("proxyjump {jump}")],
        (None, Some(command)) => vec![format!("proxycommand {command}")],
        (None, None) => Vec::new(),
    }
}

#[test]
fn proxy_command_and_proxy_jump_exclude_each_other_first_one_wins() {
    let c = cfg(CONFIG);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    let table = [
        ("cmd-first", "proxycommand nc %h %p # kept, comment and all"),
        ("jump-first", "proxyjump j2"),
        ("cmd-none", ""),
        ("jump-none", "proxycommand bar %r"),
        // `ProxyJump none` shuts out the later ProxyJump, not the later ProxyCommand.
        ("jump-none-twice", "proxycommand fallback %n"),
        ("quoted", "proxycommand \"quoted x\" 'y'"),
        // A ProxyCommand in a Match block carries the host like one in a Host block.
        ("via-match", "proxycommand matched %h"),
        ("other", "proxycommand fallback %n"),
    ];
    for (alias, expected) in table {
        let got = effective(&c.resolve(alias, "bob")).join("");
        assert_eq!(got, expected, "{alias}");
    }
}

#[test]
fn proxy_settings_match_ssh_g() {
    if Command::new("ssh").arg("-V").output().is_err() {
        crate::test_support::skip_without_peer("ssh not found");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("config");
    write(&path, CONFIG);
    let ours = SshConfig::load(&path, tmp.path());
    for alias in [
        "cmd-first",
        "jump-first",
        "cmd-none",
        "jump-none",
        "jump-none-twice",
        "quoted",
        "via-match",
        "other",
    ] {
        let out = Command::new("ssh")
            .arg("-G")
            .arg("-F")
            .arg(&path)
            .arg(alias)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run ssh -G");
        assert!(out.status.success(), "ssh -G {alias}: {out:?}");
        let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("proxycommand ") || l.starts_with("proxyjump "))
            .map(str::to_string)
            .collect();
        assert_eq!(effective(&ours.resolve(alias, "bob")), theirs, "{alias}");
    }
}
