//! What an ssh user expects: agent, encrypted keys, keyboard-interactive, jump hosts,
//! ssh_config, and the batch extras (--stdin, --outdir). Against sshd on loopback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mtssh::mock::MockOptions;
use mtssh::ssh::{Engine, EngineSettings, SessionEvent, SessionState, Work};

use crate::run_cmd::{mtssh, mtssh_with};
use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv, wait_for};

/// A private ssh-agent on a socket inside the env, killed on drop.
struct Agent {
    socket: PathBuf,
    child: std::process::Child,
}

impl Agent {
    fn start(env: &TestEnv) -> Agent {
        let socket = env.path("agent.sock");
        let child = env
            .std_command("ssh-agent")
            .args(["-D", "-a"])
            .arg(&socket)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("ssh-agent starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "ssh-agent socket never appeared"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Agent { socket, child }
    }

    fn add(&self, env: &TestEnv, key: &Path) {
        let out = env
            .std_command("ssh-add")
            .env("SSH_AUTH_SOCK", &self.socket)
            .arg(key)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ssh-add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A host list with no identity file: only the agent (or a password) can log in.
fn hosts_without_key(env: &TestEnv, addrs: &[SocketAddr], extra: &str) -> PathBuf {
    let mut text = format!(
        "[defaults]\nuser = \"{}\"\nknown_hosts = \"{}\"\nconnect_timeout = 60\n{extra}\n",
        sshd::login_user(),
        env.path(".ssh/known_hosts").display()
    );
    for (i, addr) in addrs.iter().enumerate() {
        text.push_str(&format!(
            "[[hosts]]\nname = \"n{}\"\nhost = \"{}\"\nport = {}\n\n",
            i + 1,
            addr.ip(),
            addr.port()
        ));
    }
    let path = env.path("agent-hosts.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn agent_keys_log_in() {
    if !sshd::available() || !support::have_all(&["ssh-agent", "ssh-add"]) {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(&env, SshdOptions::default());
    let agent = Agent::start(&env);
    agent.add(&env, &env.key("client_ed25519"));
    // The key file itself is gone from ~/.ssh: only the agent holds it.
    std::fs::remove_file(env.path(".ssh/client_ed25519")).unwrap();
    let hosts = hosts_without_key(&env, &server.addrs, "");
    let sock = agent.socket.to_str().unwrap();
    let out = mtssh_with(
        &env,
        &[("SSH_AUTH_SOCK", sock)],
        &["run", "-f", hosts.to_str().unwrap(), "-c", "echo via-agent"],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("via-agent"), "{}", out.stdout);

    // Without the agent nothing can log in, and the error says what was tried.
    let out = mtssh_with(
        &env,
        &[],
        &["run", "-f", hosts.to_str().unwrap(), "-c", "true"],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("authentication failed"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn encrypted_key_asks_its_passphrase_once_and_says_when_wrong() {
    let env = TestEnv::new();
    let key = env.key("client_ed25519_encrypted");
    let public =
        std::fs::read_to_string(support::fixture("keys/client_ed25519_encrypted.pub")).unwrap();
    let server = support::mock_with(MockOptions {
        authorized_keys: mtssh::mock::parse_authorized_keys(&public).unwrap(),
        ..Default::default()
    })
    .await;
    // A wrong passphrase is not kept; the right one is, for the process: a later session
    // with the same key file is not asked again.
    for (passphrase, should_work, asked) in [
        ("wrong horse", false, 1),
        ("correct horse", true, 1),
        ("not asked", true, 0),
    ] {
        let mut target = server.practice_target(0, "enc".into()).unwrap();
        target.password = None;
        target.identity_files = vec![key.clone()];
        let (engine, mut events) = Engine::new(EngineSettings::default());
        let _handle = engine.spawn(
            0,
            target,
            Work::Exec {
                command: "whoami".into(),
                pty: None,
                echo: true,
            },
        );
        let mut prompts = 0;
        let mut output = Vec::new();
        let end = loop {
            let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
                .await
                .unwrap()
                .unwrap();
            match event {
                SessionEvent::Prompt { prompt, .. } => {
                    if prompt.text.starts_with("Passphrase") {
                        prompts += 1;
                        assert!(!prompt.echo, "a passphrase is never echoed");
                        let _ = prompt.reply.send(Some(passphrase.to_string()));
                    } else {
                        // A password prompt after the key failed: decline it.
                        let _ = prompt.reply.send(None);
                    }
                }
                SessionEvent::Output { data, .. } => output.extend(data),
                SessionEvent::State { state, .. } if state.is_finished() => break state,
                _ => {}
            }
        };
        assert_eq!(prompts, asked, "asked once per key");
        if should_work {
            assert_eq!(
                end,
                SessionState::Closed {
                    exit_status: Some(0),
                    signal: None,
                }
            );
            assert_eq!(String::from_utf8_lossy(&output).trim(), "test");
        } else {
            let SessionState::Failed { error } = end else {
                panic!("{end:?}")
            };
            assert!(
                matches!(error, mtssh::ssh::SessionError::WrongPassphrase { .. }),
                "{error:?}"
            );
            assert_eq!(error.kind(), "wrong-passphrase");
            let reason = error.to_string();
            assert!(reason.contains("wrong passphrase?"), "{reason}");
            assert!(
                !reason.contains("wrong horse"),
                "the passphrase leaked: {reason}"
            );
        }
    }
}

#[tokio::test]
async fn a_private_key_readable_by_others_is_refused_with_the_fix() {
    let env = TestEnv::new();
    let key = env.key("client_ed25519");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let public = std::fs::read_to_string(support::fixture("keys/client_ed25519.pub")).unwrap();
    let server = support::mock_with(MockOptions {
        authorized_keys: mtssh::mock::parse_authorized_keys(&public).unwrap(),
        users: vec![mtssh::mock::Credentials {
            user: "test".into(),
            password: "unguessable".into(),
        }],
        ..Default::default()
    })
    .await;
    let mut target = server.practice_target(0, "perm".into()).unwrap();
    target.password = None;
    target.identity_files = vec![key.clone()];
    let (engine, mut events) = Engine::new(EngineSettings::default());
    let _handle = engine.spawn(
        0,
        target,
        Work::Exec {
            command: "true".into(),
            pty: None,
            echo: true,
        },
    );
    let error = wait_for(
        "the session to fail",
        Duration::from_secs(30),
        async || match events.recv().await? {
            SessionEvent::Prompt { prompt, .. } => {
                let _ = prompt.reply.send(None);
                None
            }
            SessionEvent::State {
                state: SessionState::Failed { error },
                ..
            } => Some(error),
            _ => None,
        },
    )
    .await;
    assert!(error.to_string().contains("chmod 600"), "{error}");
    // Not offered, so authentication failed, with the reason among its notes.
    let mtssh::ssh::SessionError::AuthFailed { notes, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(notes.iter().any(|n| n.contains("chmod 600")), "{notes:?}");
    assert_eq!(error.kind(), "auth-failed");
}

#[tokio::test]
async fn keyboard_interactive_only_server() {
    if !sshd::available() {
        return;
    }
    if !am_root() {
        crate::support::skip("creating its PAM user needs root");
        return;
    }
    let (user, password) = ("mtsshkbd", "kbd-Secret-42");
    sshd::ensure_user(user, password);
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            extra: vec![
                "UsePAM yes".into(),
                "KbdInteractiveAuthentication yes".into(),
                "PubkeyAuthentication no".into(),
            ],
            ..Default::default()
        },
    );
    let hosts = env.path("kbd.toml");
    std::fs::write(
        &hosts,
        format!(
            "[defaults]\nuser = \"{user}\"\nknown_hosts = \"{}\"\n\n[[hosts]]\nname = \"kbd\"\nhost = \"{}\"\nport = {}\n",
            env.path(".ssh/known_hosts").display(),
            server.addrs[0].ip(),
            server.port()
        ),
    )
    .unwrap();
    let out = mtssh_with(
        &env,
        &[("MTSSH_PASSWORD", password)],
        &["run", "-f", hosts.to_str().unwrap(), "-c", "whoami"],
    )
    .await;
    assert_eq!(
        out.code,
        Some(0),
        "{}{}\nsshd: {}",
        out.stdout,
        out.stderr,
        server.log()
    );
    assert!(out.stdout.contains(user), "{}", out.stdout);
    assert!(!out.stdout.contains(password) && !out.stderr.contains(password));
}

fn am_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[tokio::test]
async fn hosts_behind_a_jump_host_and_a_chain_of_two() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let jump1 = Sshd::start(&env, SshdOptions::default());
    let jump2 = Sshd::start(&env, SshdOptions::default());
    let inner = Sshd::start(
        &env,
        SshdOptions {
            addresses: 3,
            ..Default::default()
        },
    );
    let key = env.key("client_ed25519");
    let user = sshd::login_user();
    let hosts = env.path("jump.toml");
    let mut text = format!(
        "[defaults]\nuser = \"{user}\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\nconnect_timeout = 60\n\n\
         [[hosts]]\nname = \"j1\"\nhost = \"{}\"\nport = {}\ngroups = [\"jump\"]\n\n\
         [[hosts]]\nname = \"j2\"\nhost = \"{}\"\nport = {}\ngroups = [\"jump\"]\njump = \"j1\"\n\n",
        key.display(),
        env.path(".ssh/known_hosts").display(),
        jump1.addrs[0].ip(),
        jump1.port(),
        jump2.addrs[0].ip(),
        jump2.port(),
    );
    // Two hosts behind j1 (sharing its connection), one behind the chain j1 -> j2.
    for (i, (addr, jump)) in inner.addrs.iter().zip(["j1", "j1", "j1,j2"]).enumerate() {
        text.push_str(&format!(
            "[[hosts]]\nname = \"in{}\"\nhost = \"{}\"\nport = {}\njump = \"{jump}\"\ngroups = [\"inner\"]\n\n",
            i + 1,
            addr.ip(),
            addr.port()
        ));
    }
    std::fs::write(&hosts, text).unwrap();
    let command = r#"set -- $SSH_CONNECTION; echo "from $1 to $3""#;
    let out = mtssh(
        &env,
        &[
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "-g",
            "inner",
            "--json",
            "-c",
            command,
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let lines = support::json_by_name(&out.stdout);
    assert_eq!(lines.len(), 3);
    for (i, host) in lines.iter().enumerate() {
        // sshd on the inner host sees the connection come from the jump host's sshd, which
        // connects out from loopback: the server side is the inner address.
        let expected_to = inner.addrs[i].ip().to_string();
        let stdout = host["stdout"].as_str().unwrap();
        assert!(
            stdout.trim_end().ends_with(&format!("to {expected_to}")),
            "{stdout}"
        );
    }

    // -J on the command line reaches a host given with -H, through one hop or a chain (-J
    // names the target's route, not its hops' own).
    let target = format!("{user}@{}:{}", inner.addrs[0].ip(), inner.port());
    let jump = format!("{user}@{}:{}", jump1.addrs[0].ip(), jump1.port());
    let chain = format!("{jump},{user}@{}:{}", jump2.addrs[0].ip(), jump2.port());
    let known = env.path(".ssh/known_hosts");
    for via in [&jump, &chain] {
        let out = mtssh(
            &env,
            &[
                "run",
                "-H",
                &target,
                "-J",
                via,
                "-i",
                key.to_str().unwrap(),
                "--known-hosts",
                known.to_str().unwrap(),
                "-c",
                "echo hopped",
            ],
        )
        .await;
        assert_eq!(out.code, Some(0), "-J {via}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("hopped"));
    }
    // `[defaults] jump` with a chain: the hosts' route too, not the hops' own.
    let list = env.path("chained.toml");
    std::fs::write(
        &list,
        format!(
            "[defaults]\njump = \"{chain}\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\n\n\
             [[hosts]]\nname = \"inner\"\nhost = \"{}\"\nport = {}\nuser = \"{user}\"\n",
            key.display(),
            known.display(),
            inner.addrs[0].ip(),
            inner.port()
        ),
    )
    .unwrap();
    let out = mtssh(
        &env,
        &["run", "-f", list.to_str().unwrap(), "-c", "echo hopped"],
    )
    .await;
    assert_eq!(
        out.code,
        Some(0),
        "[defaults] jump: {}{}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("hopped"));
}

#[tokio::test]
async fn stdin_goes_to_every_command_and_outdir_keeps_files() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            addresses: 2,
            ..Default::default()
        },
    );
    let hosts = crate::run_cmd::sshd_hosts(
        &env,
        &server.addrs,
        &env.path(".ssh/known_hosts"),
        "accept-new",
    );
    let outdir = env.path("out");
    let mut cmd = env.command(env!("CARGO_BIN_EXE_mtssh"));
    cmd.args([
        "run",
        "-f",
        hosts.to_str().unwrap(),
        "--stdin",
        "--outdir",
        outdir.to_str().unwrap(),
        "-c",
        "tr a-z A-Z; echo err >&2",
    ])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"shout this\n").await.unwrap();
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["h01", "h02"] {
        assert_eq!(
            std::fs::read_to_string(outdir.join(format!("{name}.out"))).unwrap(),
            "SHOUT THIS\n"
        );
        assert_eq!(
            std::fs::read_to_string(outdir.join(format!("{name}.err"))).unwrap(),
            "err\n"
        );
    }
}

/// Writes ~/.ssh/config (and an included file) for the web-a / web-b aliases.
fn write_ssh_config(env: &TestEnv, server: &Sshd, identities_only: bool) -> PathBuf {
    let dir = env.path(".ssh/conf.d");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("web.conf"),
        format!(
            "Host web-*\n  User {}\n  Port {}\n  IdentityFile ~/.ssh/client_ed25519\n  IdentitiesOnly {}\n\n\
             Host web-a\n  HostName {}\n\nHost web-b\n  HostName {}\n\n\
             Host legacy\n  LocalForward 8080 localhost:80\n",
            sshd::login_user(),
            server.port(),
            if identities_only { "yes" } else { "no" },
            server.addrs[0].ip(),
            server.addrs[1].ip(),
        ),
    )
    .unwrap();
    let config = env.path(".ssh/config");
    std::fs::write(
        &config,
        "# main config\nInclude conf.d/*.conf\n\nHost *\n  ServerAliveInterval 30\n",
    )
    .unwrap();
    config
}

#[tokio::test]
async fn ssh_config_with_include_and_wildcards_drives_a_run() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            addresses: 2,
            ..Default::default()
        },
    );
    env.key("client_ed25519");
    write_ssh_config(&env, &server, false);
    let known = env.path(".ssh/kh");
    let command = r#"set -- $SSH_CONNECTION; echo "to $3""#;
    let out = mtssh(
        &env,
        &[
            "run",
            "-H",
            "web-a,web-b",
            "--known-hosts",
            known.to_str().unwrap(),
            "--json",
            "-c",
            command,
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let hosts = support::json_by_name(&out.stdout);
    assert_eq!(hosts.len(), 2, "{}", out.stdout);
    for (i, host) in hosts.iter().enumerate() {
        assert_eq!(
            host["stdout"],
            format!("to {}\n", server.addrs[i].ip()),
            "{host}"
        );
    }
    // The unsupported directive is named once, not once per host.
    assert_eq!(
        out.stderr.matches("LocalForward is not supported").count(),
        1,
        "{}",
        out.stderr
    );

    // --ssh-config none ignores it: the alias does not resolve to anything we can reach.
    let out = mtssh(
        &env,
        &[
            "run",
            "-H",
            "web-a",
            "--ssh-config",
            "none",
            "--connect-timeout",
            "3",
            "-c",
            "true",
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
}

#[tokio::test]
async fn identities_only_with_an_agent_holding_eight_keys() {
    if !sshd::available() || !support::have_all(&["ssh-agent", "ssh-add"]) {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            addresses: 2,
            ..Default::default()
        },
    );
    let agent = Agent::start(&env);
    for i in 0..7 {
        let path = env.path(&format!("decoy{i}"));
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-N", "", "-t", "ed25519", "-f"])
            .arg(&path)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        agent.add(&env, &path);
    }
    agent.add(&env, &env.key("client_ed25519"));
    let sock = agent.socket.to_str().unwrap();
    let known = env.path(".ssh/kh");
    let args = [
        "run",
        "-H",
        "web-a",
        "--known-hosts",
        known.to_str().unwrap(),
        "-c",
        "echo in",
    ];

    // Seven decoys first: sshd's MaxAuthTries (6) ends the login before the right key.
    write_ssh_config(&env, &server, false);
    let out = mtssh_with(&env, &[("SSH_AUTH_SOCK", sock)], &args).await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);

    write_ssh_config(&env, &server, true);
    let out = mtssh_with(&env, &[("SSH_AUTH_SOCK", sock)], &args).await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("in\n"));
}

#[tokio::test]
async fn a_user_certificate_beside_the_key_logs_in_and_tty_gives_a_pty() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let keygen = |args: &[&str]| {
        let out = std::process::Command::new("ssh-keygen")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ssh-keygen {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ca = env.path("ca");
    let key = env.path(".ssh/certified");
    keygen(&["-q", "-N", "", "-t", "ed25519", "-f", ca.to_str().unwrap()]);
    keygen(&["-q", "-N", "", "-t", "ed25519", "-f", key.to_str().unwrap()]);
    let user = sshd::login_user();
    keygen(&[
        "-q",
        "-s",
        ca.to_str().unwrap(),
        "-I",
        "mtssh-test",
        "-n",
        &user,
        "-V",
        "+1h",
        &format!("{}.pub", key.display()),
    ]);
    // The certified key is in no authorized_keys file: only the certificate can let it in.
    let server = Sshd::start(
        &env,
        SshdOptions {
            extra: vec![format!("TrustedUserCAKeys {}.pub", ca.display())],
            ..Default::default()
        },
    );
    let target = format!("{user}@{}:{}", server.addrs[0].ip(), server.port());
    let known = env.path(".ssh/known_hosts");
    let out = mtssh(
        &env,
        &[
            "run",
            "-H",
            &target,
            "-i",
            key.to_str().unwrap(),
            "--known-hosts",
            known.to_str().unwrap(),
            "--tty",
            "-c",
            "tty",
        ],
    )
    .await;
    assert_eq!(
        out.code,
        Some(0),
        "{}{}\nsshd: {}",
        out.stdout,
        out.stderr,
        server.log()
    );
    assert!(
        out.stdout.contains("/dev/pts/"),
        "--tty gives a pty: {}",
        out.stdout
    );

    // Without the certificate the same key is refused.
    std::fs::remove_file(format!("{}-cert.pub", key.display())).unwrap();
    let out = mtssh(
        &env,
        &[
            "run",
            "-H",
            &target,
            "-i",
            key.to_str().unwrap(),
            "--known-hosts",
            known.to_str().unwrap(),
            "-c",
            "true",
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
}
