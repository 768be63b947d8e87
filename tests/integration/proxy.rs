//! ProxyCommand against sshd on loopback: the direct route is closed, so a session only
//! succeeds when the proxy carried it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mtssh::ssh::{
    Engine, EngineSettings, HostKeyCheck, HostKeyPolicy, KnownHostsStore, ProxyCommand,
    SessionEvent, SessionState, Target, Work,
};

use crate::run_cmd::{RunOutput, mtssh};
use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv, wait_for};

/// A relay to `server` in one Python process: it records its pid and arguments (the
/// expanded tokens) in the env, then copies bytes both ways until either side ends.
fn relay(env: &TestEnv, server: &Sshd) -> PathBuf {
    let path = env.path("relay.py");
    let addr = server.addrs[0];
    std::fs::write(
        &path,
        format!(
            r#"import os, selectors, socket, sys
d = "{dir}"
with open(d + "/proxy.args", "w") as f:
    f.write(" ".join(sys.argv[1:]) + "\n")
with open(d + "/proxy.pid.tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(d + "/proxy.pid.tmp", d + "/proxy.pid")
sock = socket.create_connection(("{ip}", {port}))
sel = selectors.DefaultSelector()
sel.register(0, selectors.EVENT_READ, sock.fileno())
sel.register(sock, selectors.EVENT_READ, 1)
while True:
    for key, _ in sel.select():
        data = os.read(key.fd, 65536)
        if not data:
            sys.exit(0)
        while data:
            data = data[os.write(key.data, data):]
"#,
            dir = env.home().display(),
            ip = addr.ip(),
            port = addr.port(),
        ),
    )
    .unwrap();
    path
}

/// Whether the relay can run here.
fn available() -> bool {
    sshd::available() && support::have("python3")
}

/// ~/.ssh/config where `via-proxy` names the sshd's address with a port nothing listens on,
/// reachable only through `proxy`; `direct` is the sshd itself.
fn write_config(env: &TestEnv, server: &Sshd, proxy: &str) -> u16 {
    let ip = server.addrs[0].ip();
    let closed = sshd::free_port(ip);
    let key = env.key("client_ed25519");
    std::fs::write(
        env.path(".ssh/config"),
        format!(
            "Host via-proxy\n  HostName {ip}\n  Port {closed}\n  ProxyCommand {proxy}\n\
             Host direct\n  HostName {ip}\n  Port {port}\n\
             Host *\n  User {user}\n  IdentityFile {key}\n  IdentitiesOnly yes\n",
            port = server.port(),
            user = sshd::login_user(),
            key = key.display(),
        ),
    )
    .unwrap();
    closed
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `mtssh run ARGS` learning host keys into the env's known_hosts; it must succeed.
async fn run_ok(env: &TestEnv, args: &[&str]) -> RunOutput {
    let known = env.path(".ssh/kh");
    let mut all = vec!["run", "--known-hosts", known.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = mtssh(env, &all).await;
    assert_eq!(out.code, Some(0), "{args:?}: {}{}", out.stdout, out.stderr);
    out
}

/// What the relay was started with: its expanded tokens.
fn proxy_args(env: &TestEnv) -> String {
    let args = std::fs::read_to_string(env.path("proxy.args")).expect("the relay ran");
    std::fs::remove_file(env.path("proxy.args")).unwrap();
    args.trim().to_string()
}

#[tokio::test]
async fn proxy_command_carries_the_session_where_the_direct_route_is_closed() {
    if !available() {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(&env, SshdOptions::default());
    let relay = relay(&env, &server);
    let command = format!("python3 {} %h %p %r %n", relay.display());
    let closed = write_config(&env, &server, &command);
    let (addr, user) = (server.addrs[0], sshd::login_user());
    let ip = addr.ip();
    let script = r#"set -- $SSH_CONNECTION; echo "to $3 $4""#;
    let out = run_ok(&env, &["-H", "via-proxy", "--json", "-c", script]).await;
    let host = &json_lines(&out.stdout)[0];
    assert_eq!(host["stdout"], format!("to {ip} {}\n", addr.port()));
    assert_eq!(proxy_args(&env), format!("{ip} {closed} {user} via-proxy"));
    // No warning about the directive any more.
    assert!(!out.stderr.contains("ProxyCommand"), "{}", out.stderr);

    // The same through a host list's `proxy_command` in [defaults].
    let hosts = env.path("hosts.toml");
    let key = env.path(".ssh/client_ed25519");
    let list = format!(
        "[defaults]\nuser = \"{user}\"\nidentity_file = \"{}\"\nproxy_command = \"{command}\"\n\n\
         [[hosts]]\nname = \"listed\"\nhost = \"{ip}\"\nport = {closed}\n",
        key.display(),
    );
    std::fs::write(&hosts, list).unwrap();
    run_ok(&env, &["-f", hosts.to_str().unwrap(), "-c", "true"]).await;
    // %n is the name ssh_config is matched with: the entry's `host`.
    assert_eq!(proxy_args(&env), format!("{ip} {closed} {user} {ip}"));

    // As a jump host, the hop's own ProxyCommand carries the hop.
    let out = run_ok(
        &env,
        &["-H", "direct", "-J", "via-proxy", "-c", "echo hopped"],
    )
    .await;
    assert!(out.stdout.contains("hopped"), "{}", out.stdout);
    assert_eq!(proxy_args(&env), format!("{ip} {closed} {user} via-proxy"));
}

#[tokio::test]
async fn a_failing_proxy_command_fails_its_host_with_its_stderr_and_others_succeed() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(&env, SshdOptions::default());
    write_config(&env, &server, "sh -c 'echo boom >&2; exit 3'");
    let known = env.path(".ssh/kh");
    let out = mtssh(
        &env,
        &[
            "run",
            "-H",
            "via-proxy,direct",
            "--known-hosts",
            known.to_str().unwrap(),
            "--json",
            "-c",
            "echo fine",
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    let lines = json_lines(&out.stdout);
    let by_name = |name: &str| {
        lines
            .iter()
            .find(|l| l["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {}", out.stdout))
    };
    let failed = by_name("via-proxy");
    assert_eq!(failed["error_kind"], "proxy-failed", "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains("exited with status 3") && error.contains("boom"),
        "{error}"
    );
    assert_eq!(by_name("direct")["stdout"], "fine\n");

    // The connect timeout covers a proxy that never answers.
    write_config(&env, &server, "sleep 60");
    let started = std::time::Instant::now();
    let out = mtssh(
        &env,
        &[
            "run",
            "-H",
            "via-proxy",
            "--connect-timeout",
            "1",
            "--json",
            "-c",
            "true",
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    assert_eq!(json_lines(&out.stdout)[0]["error_kind"], "timed-out");
    assert!(started.elapsed() < Duration::from_secs(20));

    // A token ssh refuses stops the run before anything connects.
    write_config(&env, &server, "nc %h %C");
    let out = mtssh(&env, &["run", "-H", "via-proxy", "-c", "true"]).await;
    assert_eq!(out.code, Some(2), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("via-proxy") && out.stderr.contains("unknown token %C"),
        "{}",
        out.stderr
    );
}

/// The pid the relay wrote once it started.
async fn proxy_pid(env: &TestEnv) -> i32 {
    let file = env.path("proxy.pid");
    wait_for("the proxy's pid", Duration::from_secs(20), async || {
        std::fs::read_to_string(&file).ok()?.trim().parse().ok()
    })
    .await
}

fn alive(pid: i32) -> bool {
    // A zombie still has its /proc entry: gone means exited and reaped.
    Path::new(&format!("/proc/{pid}")).exists()
}

async fn proxied_target(env: &TestEnv, server: &Sshd) -> Target {
    let relay = relay(env, server);
    let ip = server.addrs[0].ip();
    let known = env.path(".ssh/kh");
    let store = KnownHostsStore::load(vec![known.clone()], known).await;
    Target {
        identity_files: vec![env.key("client_ed25519")],
        proxy: Some(ProxyCommand {
            command: format!("python3 {} x", relay.display()),
        }),
        ..Target::new(
            "proxied",
            ip.to_string(),
            sshd::free_port(ip),
            sshd::login_user(),
            HostKeyPolicy::KnownHosts {
                mode: HostKeyCheck::AcceptNew,
                store: Arc::new(store),
                hash: false,
            },
        )
    }
}

async fn end_state(events: &mut tokio::sync::mpsc::Receiver<SessionEvent>) -> SessionState {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("the session ends")
            .expect("events");
        if let SessionEvent::State { state, .. } = event
            && state.is_finished()
        {
            return state;
        }
    }
}

#[tokio::test]
async fn the_proxy_is_reaped_when_the_session_ends_and_its_death_ends_the_session() {
    if !available() {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(&env, SshdOptions::default());
    let (engine, mut events) = Engine::new(EngineSettings::default());
    let exec = |command: &str| Work::Exec {
        command: command.into(),
        pty: None,
        echo: false,
    };

    let _session = engine.spawn(0, proxied_target(&env, &server).await, exec("true"));
    let pid = proxy_pid(&env).await;
    let end = end_state(&mut events).await;
    assert_eq!(
        end,
        SessionState::Closed {
            exit_status: Some(0),
            signal: None,
        },
        "{}",
        server.log()
    );
    wait_for(
        "the proxy to be reaped",
        Duration::from_secs(10),
        async || (!alive(pid)).then_some(()),
    )
    .await;

    // The proxy dying mid-session ends that session as a lost connection, promptly.
    std::fs::remove_file(env.path("proxy.pid")).unwrap();
    let _session = engine.spawn(1, proxied_target(&env, &server).await, exec("sleep 60"));
    let pid = proxy_pid(&env).await;
    loop {
        let event = events.recv().await.expect("events");
        if let SessionEvent::State {
            state: SessionState::Ready,
            ..
        } = event
        {
            break;
        }
    }
    // SAFETY: kill has no memory preconditions; pid is the proxy, this test's child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let started = std::time::Instant::now();
    let SessionState::Failed { error } = end_state(&mut events).await else {
        panic!("the session should fail")
    };
    assert_eq!(error.kind(), "connection-lost", "{error}");
    assert!(started.elapsed() < Duration::from_secs(10));
    wait_for(
        "the killed proxy to be reaped",
        Duration::from_secs(10),
        async || (!alive(pid)).then_some(()),
    )
    .await;
}
