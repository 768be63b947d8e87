//! `mtssh run` as a user runs it: the real binary, against sshd and the mock server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv};

pub struct RunOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the mtssh binary in the test env (async, so an in-process mock keeps serving).
pub async fn mtssh(env: &TestEnv, args: &[&str]) -> RunOutput {
    mtssh_with(env, &[], args).await
}

/// [`mtssh`] with extra environment variables (a password variable, SSH_AUTH_SOCK).
pub async fn mtssh_with(env: &TestEnv, vars: &[(&str, &str)], args: &[&str]) -> RunOutput {
    run_mtssh(env, vars, args, None, None).await
}

/// [`mtssh`] with `input` written to its standard input while it runs (`--stdin`).
pub async fn mtssh_fed(env: &TestEnv, args: &[&str], input: Vec<u8>) -> RunOutput {
    run_mtssh(env, &[], args, Some(input), None).await
}

/// [`mtssh_with`] in the directory `cwd` (where `./hosts.toml` is the default host list).
pub async fn mtssh_in(
    env: &TestEnv,
    cwd: &Path,
    vars: &[(&str, &str)],
    args: &[&str],
) -> RunOutput {
    run_mtssh(env, vars, args, None, Some(cwd)).await
}

async fn run_mtssh(
    env: &TestEnv,
    vars: &[(&str, &str)],
    args: &[&str],
    input: Option<Vec<u8>>,
    cwd: Option<&Path>,
) -> RunOutput {
    let mut cmd = env.command(support::mtssh_bin());
    cmd.envs(vars.iter().copied()).args(args);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let stdin = match input {
        Some(_) => std::process::Stdio::piped(),
        None => std::process::Stdio::null(),
    };
    cmd.stdin(stdin)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("mtssh runs");
    // Fed meanwhile: a command that stops reading must not wedge the test (the write just
    // fails when mtssh exits).
    let feed = input.map(|input| {
        let mut stdin = child.stdin.take().expect("piped stdin");
        tokio::spawn(async move {
            let _ = tokio::io::AsyncWriteExt::write_all(&mut stdin, &input).await;
        })
    });
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("mtssh finishes")
        .expect("mtssh runs");
    if let Some(feed) = feed {
        let _ = feed.await;
    }
    RunOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A host list for sshd hosts, logging in with the fixture client key.
pub fn sshd_hosts(env: &TestEnv, addrs: &[SocketAddr], known_hosts: &Path, check: &str) -> PathBuf {
    let key = env.key("client_ed25519");
    let mut text = format!(
        "[defaults]\nuser = \"{}\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\nhost_key_check = \"{check}\"\nconnect_timeout = 60\n\n",
        sshd::login_user(),
        key.display(),
        known_hosts.display()
    );
    for (i, addr) in addrs.iter().enumerate() {
        text.push_str(&format!(
            "[[hosts]]\nname = \"h{:02}\"\nhost = \"{}\"\nport = {}\n\n",
            i + 1,
            addr.ip(),
            addr.port()
        ));
    }
    let path = env.path(&format!("hosts-{}.toml", rand_suffix()));
    std::fs::write(&path, text).unwrap();
    path
}

/// The targets of [`sshd_hosts`] (host keys accepted on first use), resolved as the TUI and
/// `run` resolve a host list.
pub async fn sshd_targets(env: &TestEnv, addrs: &[SocketAddr]) -> Vec<mtssh::ssh::Target> {
    let known = env.path(".ssh/known_hosts");
    let hosts = sshd_hosts(env, addrs, &known, "accept-new");
    mtssh::config::inventory::resolve(&mtssh::config::HostOptions {
        file: Some(hosts),
        ..Default::default()
    })
    .await
    .expect("the host list resolves")
    .targets
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn run_on_52_sshd_hosts_reports_every_host_right() {
    if !sshd::available() {
        return;
    }
    let _heavy = support::heavy().await;
    let env = TestEnv::new();
    let servers: Vec<Sshd> = (0..4)
        .map(|_| {
            Sshd::start(
                &env,
                SshdOptions {
                    addresses: 13,
                    ..Default::default()
                },
            )
        })
        .collect();
    let addrs: Vec<SocketAddr> = servers.iter().flat_map(|s| s.addrs.clone()).collect();
    assert_eq!(addrs.len(), 52);
    let known = env.path(".ssh/known_hosts");
    let hosts = sshd_hosts(&env, &addrs, &known, "accept-new");

    // Output and exit status differ by host: the server address, and its last octet mod 3.
    let command = r#"set -- $SSH_CONNECTION; echo "addr $3"; o=${3##*.}; exit $((o % 3))"#;
    let out = mtssh(
        &env,
        &[
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "--json",
            "-c",
            command,
        ],
    )
    .await;
    let mut seen = 0;
    let mut any_nonzero = false;
    for line in out.stdout.lines() {
        let host: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        let name = host["name"].as_str().unwrap();
        let index: usize = name[1..].parse().unwrap();
        let addr = addrs[index - 1];
        let octet = match addr.ip() {
            std::net::IpAddr::V4(v4) => v4.octets()[3],
            std::net::IpAddr::V6(_) => unreachable!(),
        };
        assert_eq!(host["stdout"], format!("addr {}\n", addr.ip()), "{line}");
        assert_eq!(host["exit_status"], u64::from(octet % 3), "{line}");
        any_nonzero |= octet % 3 != 0;
        seen += 1;
    }
    assert_eq!(
        seen,
        52,
        "stderr: {}\nsshd: {}",
        out.stderr,
        servers[0].log()
    );
    assert_eq!(
        out.code,
        Some(if any_nonzero { 1 } else { 0 }),
        "{}",
        out.stderr
    );

    // Folded: hosts with the same output and status share one block.
    let command = r#"set -- $SSH_CONNECTION; o=${3##*.}; echo "group $((o % 2))"; exit $((o % 2))"#;
    let out = mtssh(&env, &["run", "-f", hosts.to_str().unwrap(), "-c", command]).await;
    let even: Vec<String> = (0..52)
        .filter(|i| match addrs[*i].ip() {
            std::net::IpAddr::V4(v4) => v4.octets()[3] % 2 == 0,
            std::net::IpAddr::V6(_) => false,
        })
        .map(|i| format!("h{:02}", i + 1))
        .collect();
    let folded_even = mtssh::config::fold_to_string(&even);
    assert!(
        out.stdout.contains(&format!("{folded_even} (exit 0)\n")),
        "expected a block for {folded_even}:\n{}",
        out.stdout
    );
    assert_eq!(out.stdout.matches(" (exit ").count(), 2, "{}", out.stdout);
    assert!(out.stderr.contains("52 hosts:"), "{}", out.stderr);
}

#[tokio::test]
async fn host_keys_strict_accept_new_and_changed() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let ip = support::loopback();
    let port = sshd::free_port(ip);
    let known = env.path(".ssh/known_hosts");
    // Earlier lines the user already has must survive every write.
    let earlier = "# my hosts\nexample.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJpxSDS9UHBy+6tST8C8kMk7steOpXMpvqo6l09Jbzig\n";
    std::fs::write(&known, earlier).unwrap();

    let server = Sshd::start_on(&env, &[ip], port, SshdOptions::default());
    let strict = sshd_hosts(&env, &server.addrs, &known, "strict");
    let accept_new = sshd_hosts(&env, &server.addrs, &known, "accept-new");

    let out = mtssh(
        &env,
        &["run", "-f", strict.to_str().unwrap(), "-c", "echo hi"],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("not in known_hosts"), "{}", out.stdout);

    let out = mtssh(
        &env,
        &["run", "-f", accept_new.to_str().unwrap(), "-c", "echo hi"],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let learned = std::fs::read_to_string(&known).unwrap();
    assert!(learned.starts_with(earlier), "{learned}");
    assert!(
        learned.contains(&format!("[{ip}]:{port} ssh-ed25519 ")),
        "{learned}"
    );

    let out = mtssh(
        &env,
        &["run", "-f", strict.to_str().unwrap(), "-c", "echo hi"],
    )
    .await;
    assert_eq!(
        out.code,
        Some(0),
        "strict accepts a learned key: {}{}",
        out.stdout,
        out.stderr
    );

    // Same address, new key of the same type: refused by accept-new and strict.
    drop(server);
    let server = Sshd::start_on(&env, &[ip], port, SshdOptions::default());
    for file in [&accept_new, &strict] {
        let out = mtssh(
            &env,
            &["run", "-f", file.to_str().unwrap(), "-c", "echo hi"],
        )
        .await;
        assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("HOST KEY CHANGED"), "{}", out.stdout);
        // The true line number: line 3 (after a comment and the example.org line).
        assert!(
            out.stdout.contains(&format!("{}:3 ", known.display())),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("ssh-keygen -f"), "{}", out.stdout);
    }
    // The same failure as JSON names its kind next to the unchanged sentence.
    let out = mtssh(
        &env,
        &[
            "run",
            "-f",
            strict.to_str().unwrap(),
            "--json",
            "-c",
            "echo hi",
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["error_kind"], "host-key-changed", "{}", out.stdout);
    assert!(
        v["error"].as_str().unwrap().contains("HOST KEY CHANGED"),
        "{}",
        out.stdout
    );

    // A key of another type is a changed key too.
    drop(server);
    let _server = Sshd::start_on(
        &env,
        &[ip],
        port,
        SshdOptions {
            host_key: Some(support::fixture("keys/host_rsa")),
            ..Default::default()
        },
    );
    let out = mtssh(
        &env,
        &["run", "-f", accept_new.to_str().unwrap(), "-c", "echo hi"],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("HOST KEY CHANGED"), "{}", out.stdout);
    let after = std::fs::read_to_string(&known).unwrap();
    assert_eq!(after, learned, "a refused key is never written");
}

#[tokio::test]
async fn failures_are_per_host_and_within_the_connect_timeout() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            addresses: 2,
            password_auth: true,
            ..Default::default()
        },
    );
    let closed_ip = support::loopback();
    let closed_port = sshd::free_port(closed_ip);
    // Accepts TCP (the kernel completes the handshake) and never speaks.
    let silent_ip = support::loopback();
    let silent = std::net::TcpListener::bind((silent_ip, 0)).unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let key = env.key("client_ed25519");
    let hosts = env.path("mixed.toml");
    std::fs::write(
        &hosts,
        format!(
            "[defaults]\nuser = \"{user}\"\nknown_hosts = \"{kh}\"\nconnect_timeout = 3\n\n\
             [[hosts]]\nname = \"good\"\nhost = \"{a}\"\nport = {p}\nidentity_file = \"{key}\"\n\n\
             [[hosts]]\nname = \"badpass\"\nhost = \"{b}\"\nport = {p}\npassword_env = \"WRONG_PW\"\n\n\
             [[hosts]]\nname = \"closed\"\nhost = \"{closed_ip}\"\nport = {closed_port}\n\n\
             [[hosts]]\nname = \"silent\"\nhost = \"{silent_ip}\"\nport = {silent_port}\n",
            user = sshd::login_user(),
            kh = env.path(".ssh/known_hosts").display(),
            a = server.addrs[0].ip(),
            b = server.addrs[1].ip(),
            p = server.port(),
            key = key.display(),
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = mtssh_with(
        &env,
        &[("WRONG_PW", "not-the-password")],
        &[
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "--json",
            "-c",
            "echo fine",
        ],
    )
    .await;
    let took = started.elapsed();
    let stdout = &out.stdout;
    let by_name: std::collections::HashMap<String, serde_json::Value> = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["name"].as_str().unwrap().to_string(), v)
        })
        .collect();
    assert_eq!(by_name["good"]["stdout"], "fine\n", "{stdout}");
    assert_eq!(by_name["good"]["exit_status"], 0);
    assert_eq!(by_name["good"]["error"], serde_json::Value::Null);
    assert_eq!(by_name["good"]["error_kind"], serde_json::Value::Null);
    // Each failure's kind, for scripts that must not parse sentences.
    for (name, kind) in [
        ("badpass", "auth-failed"),
        ("closed", "refused"),
        ("silent", "timed-out"),
    ] {
        assert_eq!(by_name[name]["error_kind"], kind, "{name}: {stdout}");
    }
    let error = |name: &str| {
        by_name[name]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        error("badpass").contains("authentication failed"),
        "{}",
        error("badpass")
    );
    assert!(
        !error("badpass").contains("not-the-password"),
        "the password leaked"
    );
    assert!(
        error("closed").contains("connection refused")
            || error("closed").contains("Connection refused"),
        "{}",
        error("closed")
    );
    assert!(
        error("silent").contains("timed out after 3s"),
        "{}",
        error("silent")
    );
    assert_eq!(out.code, Some(3));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    drop(silent);
}

#[tokio::test]
async fn broken_host_lists_start_nothing_and_say_where() {
    let env = TestEnv::new();
    let bad = env.path("bad.toml");
    std::fs::write(&bad, "[defaults]\nusr = \"x\"\n\n[[hosts]]\nname = \"a\"\n").unwrap();
    let out = mtssh(&env, &["run", "-f", bad.to_str().unwrap(), "-c", "true"]).await;
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("bad.toml:2:1"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `user`"), "{}", out.stderr);

    let out = mtssh(&env, &["run", "-H", "web[3-1]", "-c", "true"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);

    let out = mtssh(&env, &["run", "-c", "true"]).await;
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("-f FILE"), "{}", out.stderr);
}

#[tokio::test]
async fn run_against_the_mock_folds_ranges_and_counts_sessions() {
    let env = TestEnv::new();
    let server = support::mock(4).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let args = [
        "run",
        "-f",
        hosts.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
    ];
    let out = mtssh(&env, &[&args[..], &["-c", "echo same"]].concat()).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-[01-04] (exit 0)\n"),
        "{}",
        out.stdout
    );

    let out = mtssh(
        &env,
        &[
            &args[..],
            &["-c", "echo hi; exit 4", "--count", "3", "-x", "mock-0[2-4]"],
        ]
        .concat(),
    )
    .await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-01#[1-3] (exit 4)\n"),
        "{}",
        out.stdout
    );

    let out = mtssh(&env, &[&args[..], &["-c", "seq 3", "--inline"]].concat()).await;
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("mock-02: "))
            .count(),
        3,
        "{}",
        out.stdout
    );
}

#[test]
fn the_example_host_list_parses_and_reaches_the_mock_ports() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hosts.example.toml");
    let file = mtssh::config::load_host_file(&path).expect("hosts.example.toml is valid");
    let practice: Vec<_> = file
        .hosts
        .iter()
        .filter(|h| h.groups.contains(&"practice".to_string()))
        .collect();
    let ports: Vec<_> = practice.iter().map(|h| (h.name.as_str(), h.port)).collect();
    assert_eq!(
        ports,
        [
            ("mock-01", Some(2222)),
            ("mock-02", Some(2223)),
            ("mock-03", Some(2224)),
            ("mock-04", Some(2225))
        ]
    );
    assert_eq!(file.hosts.len(), 4 + 3 + 3);
}

#[tokio::test]
async fn sequential_and_threads_modes_give_the_same_results() {
    let env = TestEnv::new();
    let server = support::mock(2).await;
    let (hosts, kh) = env.mock_host_list(&server);
    for mode in ["sequential", "threads", "event-loop"] {
        let out = mtssh(
            &env,
            &[
                "run",
                "-f",
                hosts.to_str().unwrap(),
                "--known-hosts",
                kh.to_str().unwrap(),
                "--mode",
                mode,
                "--count",
                "3",
                "--json",
                "-c",
                "hostname",
            ],
        )
        .await;
        assert_eq!(out.code, Some(0), "{mode}: {}", out.stderr);
        let names: Vec<String> = support::json_by_name(&out.stdout)
            .iter()
            .map(|v| {
                format!(
                    "{}={}",
                    v["name"].as_str().unwrap(),
                    v["stdout"].as_str().unwrap().trim()
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                "mock-01#1=mock-01",
                "mock-01#2=mock-01",
                "mock-01#3=mock-01",
                "mock-02#1=mock-02",
                "mock-02#2=mock-02",
                "mock-02#3=mock-02"
            ],
            "{mode}"
        );
    }
}

#[tokio::test]
async fn bench_runs_out_of_the_box() {
    let env = TestEnv::new();
    let svg = env.path("chart.svg");
    let out = mtssh(
        &env,
        &[
            "bench",
            "--sessions",
            "6",
            "--latency",
            "20",
            "--json",
            "--svg",
            svg.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let results: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let modes: Vec<&str> = results
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["sequential", "threads", "event-loop"]);
    for r in &results {
        assert_eq!(r["ok"], 6, "{r}");
        assert!(r["peak_threads"].as_u64().unwrap() >= 1, "{r}");
    }
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains("event-loop"));
}

#[tokio::test]
async fn key_exchange_follows_kex_from_the_flag_the_host_list_and_ssh_config() {
    // The server offers only the classical curve25519-sha256.
    let env = TestEnv::new();
    let server = support::mock_with(mtssh::mock::MockOptions {
        kex: Some(vec![mtssh::ssh::algorithms::CURVE25519]),
        ..Default::default()
    })
    .await;
    let (hosts, kh) = env.mock_host_list(&server);
    let base = [
        "run",
        "-f",
        hosts.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
        "--ssh-config",
        "none",
        "-c",
        "hostname",
    ];
    let run = |extra: Vec<String>, ssh_config: Option<PathBuf>| {
        let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        if let Some(path) = ssh_config {
            args[6] = path.display().to_string();
        }
        args.extend(extra);
        let env = &env;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            mtssh(env, &args).await
        }
    };

    // Default (post-quantum first) falls back to what the server has.
    let out = run(vec![], None).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("mock-01 (exit 0)"), "{}", out.stdout);

    // Without curve25519: no common algorithm, said per host, exit 3 (connection failures).
    // (`-LIST` is a value, not a flag.)
    let out = run(vec!["--kex".into(), "-curve25519-sha256".into()], None).await;
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .to_lowercase()
            .contains("no common kex algorithm"),
        "{}",
        out.stdout
    );

    // ssh_config KexAlgorithms is honoured (and `-LIST` removes from the default).
    let config = env.path("ssh_config");
    std::fs::write(&config, "Host *\n  KexAlgorithms -curve25519-sha256\n").unwrap();
    let out = run(vec![], Some(config.clone())).await;
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    // ...under the command line, which wins.
    let out = run(
        vec!["--kex".into(), "^curve25519-sha256".into()],
        Some(config),
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    // Unknown names are refused before anything starts, with the known ones listed.
    let out = run(vec!["--kex".into(), "curve25519".into()], None).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("unknown key exchange algorithm `curve25519`")
            && out.stderr.contains("curve25519-sha256"),
        "{}",
        out.stderr
    );
    let toml = env.path("kex.toml");
    std::fs::write(&toml, "[defaults]\nkex_algorithms = \"+nope\"\n").unwrap();
    let out = mtssh(&env, &["run", "-f", toml.to_str().unwrap(), "-c", "true"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains(":2:") && out.stderr.contains("`nope`"),
        "{}",
        out.stderr
    );
}
