//! Security properties seen from outside: secrets stay out of every output, the mock server
//! binds loopback and bounds auth attempts. (Terminal-escape and fuzz tests are unit tests:
//! src/ui/tests.rs, src/batch.rs, src/fuzzing.rs.)

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use mtssh::mock::{Credentials, MockOptions, MockServer};

use crate::run_cmd::{RunOutput, mtssh, mtssh_with};
use crate::support::{self, TestEnv};

const SECRET: &str = "s3cret-Pa55-7f3a9c";
const WRONG: &str = "wr0ng-Pa55-0b1d2e";

fn assert_no_secret(what: &str, out: &RunOutput) {
    for secret in [SECRET, WRONG] {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "{what}: a password leaked\nstdout:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
    }
}

async fn secret_mock() -> MockServer {
    support::mock_with(MockOptions {
        users: vec![Credentials {
            user: "test".into(),
            password: SECRET.into(),
        }],
        ..Default::default()
    })
    .await
}

/// A host list for the mock, with `password` in the file when given.
fn host_file(env: &TestEnv, server: &MockServer, name: &str, password: Option<&str>) -> String {
    let addr = server.hosts()[0].addr;
    let mut text = format!(
        "[defaults]\nuser = \"test\"\nknown_hosts = \"{}\"\n\n[[hosts]]\nname = \"m1\"\nhost = \"{}\"\nport = {}\n",
        env.path("kh").display(),
        addr.ip(),
        addr.port()
    );
    if let Some(p) = password {
        text.push_str(&format!("password = \"{p}\"\n"));
    }
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test]
async fn passwords_never_appear_in_output_json_errors_or_trace_logs() {
    let env = TestEnv::new();
    let server = secret_mock().await;
    let trace = [("MTSSH_LOG", "trace")];

    // A password in a host file others can read: it works, with a warning, and never shows.
    let file = host_file(&env, &server, "open.toml", Some(SECRET));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    for extra in [&[][..], &["--json"], &["--inline"]] {
        let args = [&["run", "-f", &file, "-c", "echo hi"][..], extra].concat();
        let out = mtssh_with(&env, &trace, &args).await;
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert!(out.stdout.contains("hi"), "{}", out.stdout);
        assert!(
            out.stderr.contains("readable by other users"),
            "no warning about the open host file: {}",
            out.stderr
        );
        assert_no_secret("right password in the host file", &out);
    }

    // The same file made private: no warning.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = mtssh(&env, &["run", "-f", &file, "-c", "true"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        !out.stderr.contains("readable by other users"),
        "{}",
        out.stderr
    );

    // A wrong password, from the file and from MTSSH_PASSWORD, with error text and JSON.
    let wrong = host_file(&env, &server, "wrong.toml", Some(WRONG));
    std::fs::set_permissions(&wrong, std::fs::Permissions::from_mode(0o600)).unwrap();
    for extra in [&[][..], &["--json"]] {
        let args = [&["run", "-f", &wrong, "-c", "true"][..], extra].concat();
        let out = mtssh_with(&env, &trace, &args).await;
        assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
        assert_no_secret("wrong password in the host file", &out);
    }
    let bare = host_file(&env, &server, "bare.toml", None);
    for (password, code) in [(WRONG, 3), (SECRET, 0)] {
        let vars = [("MTSSH_LOG", "trace"), ("MTSSH_PASSWORD", password)];
        let args = ["run", "-f", &bare, "-c", "true", "--json"];
        let out = mtssh_with(&env, &vars, &args).await;
        assert_eq!(out.code, Some(code), "{}\n{}", out.stdout, out.stderr);
        assert_no_secret("MTSSH_PASSWORD", &out);
    }
}

#[tokio::test]
async fn the_mock_server_logs_no_password_at_trace_level() {
    let env = TestEnv::new();
    let ip = support::loopback().to_string();
    let users = format!("test:{SECRET}");
    let mut mock = env.command(env!("CARGO_BIN_EXE_mtssh"));
    mock.args(["mock", "--bind", &ip, "--port", "0", "--users", &users])
        .env("MTSSH_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = mock.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let addr: std::net::SocketAddr = line.rsplit(' ').next().unwrap().parse().unwrap();
    let server_path = env.path("m.toml");
    std::fs::write(
        &server_path,
        format!(
            "[[hosts]]\nname = \"m\"\nhost = \"{}\"\nport = {}\nuser = \"test\"\n",
            addr.ip(),
            addr.port()
        ),
    )
    .unwrap();
    let file = server_path.to_str().unwrap();
    for (password, code) in [(WRONG, 3), (SECRET, 0)] {
        let vars = [("MTSSH_PASSWORD", password)];
        let out = mtssh_with(&env, &vars, &["run", "-f", file, "-c", "true"]).await;
        assert_eq!(out.code, Some(code), "{}", out.stderr);
    }
    child.start_kill().unwrap();
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wrong password"), "{stderr}");
    assert!(
        !stderr.contains(SECRET) && !stderr.contains(WRONG),
        "{stderr}"
    );
}

#[test]
fn the_mock_binds_loopback_by_default() {
    assert_eq!(
        MockOptions::default().bind,
        std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
    );
    let env = TestEnv::new();
    let (stdout, stderr) = first_line_of_mock(&env, &[]);
    assert!(
        stdout.starts_with("listening mock-01 127.0.0.1:"),
        "{stdout}"
    );
    assert!(!stderr.contains("WARNING"), "{stderr}");
}

#[test]
fn a_non_loopback_bind_warns() {
    let env = TestEnv::new();
    let (stdout, stderr) = first_line_of_mock(&env, &["--bind", "0.0.0.0"]);
    assert!(stdout.starts_with("listening mock-01 0.0.0.0:"), "{stdout}");
    assert!(
        stderr.contains("WARNING") && stderr.contains("reachable from other machines"),
        "{stderr}"
    );
}

/// Starts `mtssh mock --port 0 ARGS`, takes its first stdout line, kills it at once and
/// returns that line and everything it wrote on stderr.
fn first_line_of_mock(env: &TestEnv, args: &[&str]) -> (String, String) {
    let mut child = env
        .std_command(env!("CARGO_BIN_EXE_mtssh"))
        .args(["mock", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = std::io::BufReader::new(stdout)
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    (line, String::from_utf8_lossy(&out.stderr).into_owned())
}

struct AnyKey;

impl russh::client::Handler for AnyKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

#[tokio::test]
async fn the_mock_disconnects_after_too_many_auth_attempts() {
    let server = secret_mock().await;
    let limit = MockOptions::default().max_auth_attempts;
    assert_eq!(limit, 6);
    let addr = server.hosts()[0].addr;
    let config = Arc::new(russh::client::Config::default());
    let mut session = russh::client::connect(config, addr, AnyKey).await.unwrap();
    let mut failures = 0;
    let mut cut_off = false;
    for _ in 0..limit + 4 {
        match session.authenticate_password("test", WRONG).await {
            Ok(result) => {
                assert!(!result.success(), "a wrong password was accepted");
                failures += 1;
            }
            Err(_) => {
                cut_off = true;
                break;
            }
        }
    }
    assert!(cut_off, "still connected after {failures} wrong passwords");
    assert!(
        failures <= limit,
        "{failures} wrong passwords before the cut"
    );
    // The right password does not help once cut off.
    assert!(session.authenticate_password("test", SECRET).await.is_err());
}

/// With host key checking off (`--host-key-check off`, or ssh_config's
/// `StrictHostKeyChecking no`) a host whose key CHANGED still gets no password, as OpenSSH
/// refuses password and keyboard-interactive authentication then; the right key lets the
/// same password in, so it is the changed key that withheld it.
#[tokio::test]
async fn a_changed_host_key_gets_no_password_even_with_checking_off() {
    let env = TestEnv::new();
    let server = secret_mock().await;
    let hosts = host_file(&env, &server, "changed.toml", None);
    let addr = server.hosts()[0].addr;
    let impostor = support::fixture_key("host_rsa")
        .public_key()
        .to_openssh()
        .unwrap();
    std::fs::write(
        env.path("kh"),
        format!("[{}]:{} {impostor}\n", addr.ip(), addr.port()),
    )
    .unwrap();
    let ssh_config = env.path("ssh_config");
    std::fs::write(&ssh_config, "Host *\n  StrictHostKeyChecking no\n").unwrap();
    let vars = [("MTSSH_PASSWORD", SECRET)];
    for check in [
        vec!["--host-key-check", "off"],
        vec!["--ssh-config", ssh_config.to_str().unwrap()],
    ] {
        let mut args = vec!["run", "-f", &hosts, "--json", "-c", "echo in"];
        args.extend(check.iter().copied());
        let out = mtssh_with(&env, &vars, &args).await;
        assert_eq!(out.code, Some(3), "{check:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains("\"auth-failed\""),
            "{check:?}: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains("the host key has changed"),
            "{check:?}: {}",
            out.stdout
        );
        assert!(
            out.stderr.contains("has CHANGED"),
            "{check:?}: {}",
            out.stderr
        );
        assert_no_secret("changed host key", &out);
    }
    // The right key: the same password logs in.
    let real = server.host_key().to_openssh().unwrap();
    std::fs::write(
        env.path("kh"),
        format!("[{}]:{} {real}\n", addr.ip(), addr.port()),
    )
    .unwrap();
    let out = mtssh_with(
        &env,
        &vars,
        &[
            "run",
            "-f",
            &hosts,
            "--host-key-check",
            "off",
            "-c",
            "echo in",
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
}
