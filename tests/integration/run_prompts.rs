//! `mtssh run` in a terminal: prompts for passwords and passphrases, the progress line, and
//! names from a host list, driven through a pseudo-terminal of the test's own.

use std::time::Duration;

use mtssh::mock::MockOptions;

use crate::pty::Pty;
use crate::run_faults::{PW, named_hosts};
use crate::support::{self, TestEnv};

/// `mtssh run ARGS` in a terminal of its own.
fn run_in_pty(env: &TestEnv, vars: &[(&str, &str)], args: &[&str]) -> Pty {
    let mut cmd = env.std_command(support::mtssh_bin());
    cmd.envs(vars.iter().copied())
        .env("TERM", "xterm")
        .arg("run")
        .args(args);
    Pty::spawn(cmd)
}

/// A host list of the mock's hosts that names no password: each login asks for one.
pub(crate) fn hosts_without_password(
    env: &TestEnv,
    server: &mtssh::mock::MockServer,
) -> std::path::PathBuf {
    let names: Vec<String> = (1..=server.hosts().len())
        .map(|i| format!("mock-0{i}"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let path = named_hosts(env, server, &names);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("password_env = \"MOCK_PW\"\n", "");
    std::fs::write(&path, text).unwrap();
    path
}

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn ctrl_c_at_a_password_prompt_ends_the_run_at_once() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let hosts = hosts_without_password(&env, &server);
    let mut pty = run_in_pty(&env, &[], &["-f", hosts.to_str().unwrap(), "-c", "echo hi"]);
    assert!(
        pty.wait_for("Password for test@mock-01:", 1, WAIT).await,
        "no prompt: {:?}",
        pty.text()
    );
    pty.type_bytes(b"\x03");
    let status = pty.wait_exit(Duration::from_secs(5)).await;
    assert!(
        status.is_some(),
        "still waiting for Enter: {:?}",
        pty.text()
    );
    assert_eq!(status.unwrap().code(), Some(130), "{:?}", pty.text());
    assert!(pty.text().contains("interrupted"), "{:?}", pty.text());
    assert!(pty.local_flags() & libc::ECHO != 0, "echo left off");
}

#[tokio::test]
async fn a_passphrase_is_asked_once_for_every_host_using_the_key() {
    let env = TestEnv::new();
    let key = env.key("client_ed25519_encrypted");
    let public =
        std::fs::read_to_string(support::fixture("keys/client_ed25519_encrypted.pub")).unwrap();
    let server = support::mock_with(MockOptions {
        hosts: 3,
        authorized_keys: mtssh::mock::parse_authorized_keys(&public).unwrap(),
        ..Default::default()
    })
    .await;
    let hosts = hosts_without_password(&env, &server);
    let mut pty = run_in_pty(
        &env,
        &[],
        &[
            "-f",
            hosts.to_str().unwrap(),
            "-i",
            key.to_str().unwrap(),
            "-c",
            "echo hi",
        ],
    );
    assert!(
        pty.wait_for("Passphrase for", 1, WAIT).await,
        "{:?}",
        pty.text()
    );
    pty.type_bytes(b"correct horse\r");
    let status = pty.wait_exit(WAIT).await;
    let text = pty.text();
    assert_eq!(
        text.matches("Passphrase for").count(),
        1,
        "asked more than once: {text:?}"
    );
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{text:?}");
    assert!(text.contains("3 hosts: 3 ok"), "{text:?}");
    assert!(
        !text.contains("correct horse"),
        "the passphrase was echoed: {text:?}"
    );
}

#[tokio::test]
async fn the_progress_line_never_covers_a_prompt() {
    let env = TestEnv::new();
    let server = support::mock(2).await;
    let hosts = hosts_without_password(&env, &server);
    let mut pty = run_in_pty(&env, &[], &["-f", hosts.to_str().unwrap(), "-c", "echo hi"]);
    assert!(
        pty.wait_for("Password for", 1, WAIT).await,
        "{:?}",
        pty.text()
    );
    let at_prompt = pty.output().len();
    // The bar is redrawn every 100 ms: a second gives it ten chances to erase the prompt.
    let _ = pty
        .wait_for("never printed", 1, Duration::from_secs(1))
        .await;
    let after = pty.output()[at_prompt..].to_vec();
    assert!(
        !String::from_utf8_lossy(&after).contains("\x1b[K"),
        "the prompt line was erased and redrawn: {:?}",
        String::from_utf8_lossy(&after)
    );
    // One answer serves both hosts (the password is remembered for the run).
    pty.type_bytes(b"123456\r");
    let status = pty.wait_exit(WAIT).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", pty.text());
    assert_eq!(
        pty.text().matches("Password for").count(),
        1,
        "{:?}",
        pty.text()
    );
}

#[tokio::test]
async fn inline_lines_never_start_after_the_progress_bar() {
    let env = TestEnv::new();
    let server = support::mock(3).await;
    let hosts = named_hosts(&env, &server, &["p1", "p2", "p3"]);
    let mut pty = run_in_pty(
        &env,
        &[PW],
        &[
            "-f",
            hosts.to_str().unwrap(),
            "--inline",
            "-c",
            "sleep 1; echo line1",
        ],
    );
    let status = pty.wait_exit(WAIT).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", pty.text());
    let text = pty.text();
    assert!(
        text.contains("hosts done"),
        "the bar was never drawn: {text:?}"
    );
    for name in ["p1", "p2", "p3"] {
        let line = format!("{name}: line1");
        let at = text
            .find(&line)
            .unwrap_or_else(|| panic!("{line} missing: {text:?}"));
        let before = &text[..at];
        assert!(
            before.ends_with('\n') || before.ends_with("\r\x1b[K"),
            "{line} glued onto: {:?}",
            &before[before.len().saturating_sub(40)..]
        );
    }
}

#[tokio::test]
async fn the_blocking_modes_count_the_whole_run_in_one_bar() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let hosts = named_hosts(&env, &server, &["p1"]);
    for mode in ["sequential", "threads"] {
        let mut pty = run_in_pty(
            &env,
            &[PW],
            &[
                "-f",
                hosts.to_str().unwrap(),
                "--mode",
                mode,
                "--count",
                "3",
                "-c",
                "sleep 0.5",
            ],
        );
        let status = pty.wait_exit(WAIT).await;
        assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", pty.text());
        let text = pty.text();
        assert!(text.contains("/3 hosts done"), "{mode}: {text:?}");
        assert!(!text.contains("/1 hosts done"), "{mode}: {text:?}");
        assert!(text.contains("3 hosts: 3 ok"), "{mode}: {text:?}");
    }
}

#[tokio::test]
async fn inline_on_a_terminal_ends_with_the_folded_report() {
    let env = TestEnv::new();
    let server = support::mock(3).await;
    let hosts = named_hosts(&env, &server, &["p1", "p2", "p3"]);
    let mut pty = run_in_pty(
        &env,
        &[PW],
        &["-f", hosts.to_str().unwrap(), "--inline", "-c", "echo same"],
    );
    let status = pty.wait_exit(WAIT).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", pty.text());
    let text = pty.text().replace("\r\n", "\n");
    let streamed = ["p1", "p2", "p3"]
        .iter()
        .map(|name| text.find(&format!("{name}: same\n")).expect("streamed"))
        .max()
        .unwrap_or_default();
    let folded = text
        .find("p[1-3] (exit 0)\n---------------\nsame\n")
        .unwrap_or_else(|| panic!("no folded report: {text:?}"));
    assert!(
        folded > streamed,
        "the fold comes after the stream: {text:?}"
    );
}

#[tokio::test]
async fn host_names_are_neutralised_on_a_terminal_like_output() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    // An 8-bit OSC (U+009D) in a host list's name (its brackets rule out ESC ] there)...
    let hosts = named_hosts(&env, &server, &["evil\u{9d}0;pwned\x07"]);
    // ...and ESC ] in a `-H` name, at a port where nobody listens: its error names it too.
    let closed_ip = support::loopback();
    let gone = format!(
        "gone\x1b]2;retitled\x07@{closed_ip}:{}",
        crate::sshd::free_port(closed_ip)
    );
    for extra in [&[][..], &["--inline"][..]] {
        let mut args = vec![
            "-f",
            hosts.to_str().unwrap(),
            "-a",
            "-H",
            &gone,
            "-c",
            "echo hi",
        ];
        args.extend_from_slice(extra);
        let mut pty = run_in_pty(&env, &[PW], &args);
        let status = pty.wait_exit(WAIT).await;
        assert_eq!(status.and_then(|s| s.code()), Some(3), "{:?}", pty.text());
        let text = pty.text();
        assert!(
            !text.contains("\x1b]") && !text.contains('\u{9d}'),
            "{extra:?}: an OSC reached the terminal: {text:?}"
        );
        assert!(text.contains("evil\\u{9d}0;pwned^G"), "{extra:?}: {text:?}");
        assert!(text.contains("gone^[]2;retitled^G@"), "{extra:?}: {text:?}");
    }
}
