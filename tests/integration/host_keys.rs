//! A server with several host keys, of which known_hosts holds one: mtssh asks for the known
//! type first, as OpenSSH does, and agrees with `ssh -o StrictHostKeyChecking=yes` on which
//! known_hosts contents let the connection through.

use std::path::{Path, PathBuf};

use crate::run_cmd::mtssh;
use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::TestEnv;

fn keygen(path: &Path, kind: &str) {
    let ok = std::process::Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", kind, "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen")
        .success();
    assert!(ok, "ssh-keygen -t {kind}");
}

/// `algo base64` of a `.pub` file.
fn public(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether OpenSSH's client logs in with `known_hosts` and strict checking.
fn ssh_accepts(env: &TestEnv, server: &Sshd, known_hosts: &Path, key: &Path) -> bool {
    let addr = server.addrs[0];
    let out = env
        .std_command("ssh")
        .args(["-F", "/dev/null", "-o", "StrictHostKeyChecking=yes", "-o"])
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i"])
        .arg(key)
        .arg("-p")
        .arg(addr.port().to_string())
        .arg(format!("{}@{}", sshd::login_user(), addr.ip()))
        .arg("true")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("ssh runs");
    out.status.success()
}

#[tokio::test]
async fn the_known_key_type_is_asked_for_first_and_a_changed_key_still_refuses() {
    if !sshd::available() || !crate::support::have("ssh") {
        return;
    }
    let env = TestEnv::new();
    let rsa = env.path("host_rsa");
    keygen(&rsa, "rsa");
    let server = Sshd::start(
        &env,
        SshdOptions {
            extra: vec![format!("HostKey {}", rsa.display())],
            ..Default::default()
        },
    );
    // A server with the RSA key alone.
    let rsa_only = Sshd::start(
        &env,
        SshdOptions {
            host_key: Some(rsa.clone()),
            ..Default::default()
        },
    );
    let other_rsa = env.path("other_rsa");
    keygen(&other_rsa, "rsa");
    let other_ed = env.path("other_ed25519");
    keygen(&other_ed, "ed25519");
    let key = env.key("client_ed25519");
    let pub_of = |p: &PathBuf| public(&PathBuf::from(format!("{}.pub", p.display())));
    let server_ed = public(&server.dir.path().join("host_key.pub"));
    // (the server, what known_hosts holds, whether the connection may go on)
    let cases = [
        // Only the RSA key is known; the server would show ed25519 first unasked.
        (&server, pub_of(&rsa), true),
        (&server, server_ed.clone(), true),
        // Another key of a type the server has: changed.
        (&server, pub_of(&other_rsa), false),
        (&server, pub_of(&other_ed), false),
        // The server lacks the known type: OpenSSH calls that changed too.
        (&rsa_only, server_ed, false),
    ];
    for (i, (server, known, accepted)) in cases.iter().enumerate() {
        let addr = server.addrs[0];
        let file = env.path(&format!("kh{i}"));
        std::fs::write(&file, format!("[{}]:{} {known}\n", addr.ip(), addr.port())).unwrap();
        assert_eq!(
            ssh_accepts(&env, server, &file, &key),
            *accepted,
            "ssh, case {i}: {known}"
        );
        let target = format!("{}@{}:{}", sshd::login_user(), addr.ip(), addr.port());
        let out = mtssh(
            &env,
            &[
                "run",
                "-H",
                &target,
                "-i",
                key.to_str().unwrap(),
                "--known-hosts",
                file.to_str().unwrap(),
                "--host-key-check",
                "strict",
                "--json",
                "-c",
                "true",
            ],
        )
        .await;
        let line: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
        if *accepted {
            assert_eq!(out.code, Some(0), "case {i}: {}{}", out.stdout, out.stderr);
        } else {
            assert_eq!(line["error_kind"], "host-key-changed", "case {i}: {line}");
        }
    }
}
