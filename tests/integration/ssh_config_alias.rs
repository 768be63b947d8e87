//! ssh_config aliases against a real sshd: every way of naming a host (`alias`,
//! `user@alias`, `alias:port`, `user@alias:port`, a plain host file line, a TOML entry's
//! `host`, a `-J alias` hop) reaches the alias's HostName, and `ssh -G` resolves each form
//! to the same host name, port and user as mtssh (in process and through `mtssh resolve`).
//! The aliases never resolve: the engine's resolver refuses every name that is not an IP.

use std::path::Path;
use std::time::Duration;

use mtssh::config::{HostOptions, inventory};
use mtssh::ssh::{Engine, EngineSettings, SessionEvent, SessionState, Target, Work};

use crate::run_cmd::{mtssh, mtssh_with};
use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, Queried, TestEnv};

/// Runs `command` in a session to each target on an engine whose resolver never asks DNS;
/// the final state of each, and the names resolved.
pub async fn run_all(targets: Vec<Target>, command: &str) -> (Vec<SessionState>, Queried) {
    let (resolver, queried) = support::no_dns();
    let (engine, mut events) = Engine::new(EngineSettings {
        resolver,
        ..Default::default()
    });
    let count = targets.len();
    let _handles: Vec<_> = targets
        .into_iter()
        .enumerate()
        .map(|(id, mut target)| {
            no_agent(&mut target);
            let work = Work::Exec {
                command: command.into(),
                pty: None,
                echo: true,
            };
            engine.spawn(id, target, work)
        })
        .collect();
    let mut ends: Vec<Option<SessionState>> = vec![None; count];
    while ends.iter().any(Option::is_none) {
        let event = tokio::time::timeout(Duration::from_secs(60), events.recv())
            .await
            .expect("sessions end in time")
            .expect("engine alive");
        if let SessionEvent::State { id, state } = event
            && state.is_finished()
        {
            ends[id] = Some(state);
        }
    }
    (ends.into_iter().flatten().collect(), queried)
}

/// The test process may have an agent: only the configured key may log in.
fn no_agent(target: &mut Target) {
    target.use_agent = false;
    if let Some(jump) = target.jump.as_deref_mut() {
        no_agent(jump);
    }
}

/// `hostname`, `port` and `user` of `ssh -G -F config ARGS`.
pub fn ssh_g(config: &Path, args: &[&str]) -> (String, String, String) {
    let out = std::process::Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(config)
        .args(args)
        .output()
        .expect("ssh -G runs");
    assert!(out.status.success(), "ssh -G {args:?}: {out:?}");
    fields(&String::from_utf8_lossy(&out.stdout))
}

/// `hostname`, `port` and `user` of `ssh -G`-style lines.
fn fields(text: &str) -> (String, String, String) {
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
            .unwrap_or_default()
            .to_string()
    };
    (get("hostname"), get("port"), get("user"))
}

fn of(target: &Target) -> (String, String, String) {
    (
        target.host.clone(),
        target.port.to_string(),
        target.user.clone(),
    )
}

/// One way of naming the host: mtssh's arguments, `ssh -G`'s for the target, and for a
/// jump hop `ssh -G`'s for the hop.
struct Form {
    name: &'static str,
    mtssh: Vec<String>,
    ssh: Vec<String>,
    hop: Option<Vec<String>>,
}

#[tokio::test]
async fn every_alias_form_connects_to_the_host_name_and_agrees_with_ssh_g() {
    if !sshd::available() || !support::have("ssh") {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(&env, SshdOptions::default());
    let (ip, port) = (server.addrs[0].ip(), server.port());
    let login = sshd::login_user();
    let key = env.key("client_ed25519");
    let config = env.path("ssh_config");
    // web03's Port and web04's User are wrong: the spec's own must win over them.
    let block = |alias: &str, port: &str, user: &str| {
        format!(
            "Host {alias}\n  HostName {ip}\n  Port {port}\n  User {user}\n  IdentityFile {}\n  IdentitiesOnly yes\n",
            key.display()
        )
    };
    let text = [
        block("web02", &port.to_string(), &login),
        block("web03", "1", &login),
        block("web04", &port.to_string(), "nosuchuser-mtssh"),
    ]
    .concat();
    std::fs::write(&config, text).unwrap();
    let plain = env.path("hosts.txt");
    std::fs::write(&plain, format!("web03:{port}\n")).unwrap();
    let toml = env.path("hosts.toml");
    std::fs::write(&toml, "[[hosts]]\nname = \"frontend\"\nhost = \"web02\"\n").unwrap();
    let p = port.to_string();
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let at = |alias: &str| format!("{login}@{alias}");
    let forms = [
        Form {
            name: "alias",
            mtssh: words(&["-H", "web02"]),
            ssh: words(&["web02"]),
            hop: None,
        },
        Form {
            name: "user@alias",
            mtssh: vec!["-H".into(), at("web04")],
            ssh: vec![at("web04")],
            hop: None,
        },
        Form {
            name: "alias:port",
            mtssh: vec!["-H".into(), format!("web03:{p}")],
            ssh: words(&["-p", &p, "web03"]),
            hop: None,
        },
        Form {
            name: "user@alias:port",
            mtssh: vec!["-H".into(), format!("{}:{p}", at("web04"))],
            ssh: vec!["-p".into(), p.clone(), at("web04")],
            hop: None,
        },
        Form {
            name: "plain host file line",
            mtssh: vec!["-f".into(), plain.display().to_string()],
            ssh: words(&["-p", &p, "web03"]),
            hop: None,
        },
        Form {
            name: "TOML entry host",
            mtssh: vec!["-f".into(), toml.display().to_string()],
            ssh: words(&["web02"]),
            hop: None,
        },
        Form {
            name: "-J alias hop",
            mtssh: vec!["-H".into(), at("web04"), "-J".into(), "web02".into()],
            ssh: vec!["-J".into(), "web02".into(), at("web04")],
            hop: Some(words(&["web02"])),
        },
        Form {
            name: "-J user@alias:port hop",
            mtssh: vec![
                "-H".into(),
                "web02".into(),
                "-J".into(),
                format!("{}:{p}", at("web03")),
            ],
            ssh: words(&["web02"]),
            hop: Some(vec!["-p".into(), p.clone(), at("web03")]),
        },
    ];
    let kh = env.path("kh");
    for form in &forms {
        let mut args = form.mtssh.clone();
        args.extend(words(&["--ssh-config", config.to_str().unwrap()]));
        args.extend(words(&["--known-hosts", kh.to_str().unwrap()]));
        let opts = host_options(&args);
        let inventory = inventory::resolve(&opts).await.expect("resolves");
        assert_eq!(inventory.targets.len(), 1, "{}", form.name);
        let target = inventory.targets[0].clone();
        let ssh: Vec<&str> = form.ssh.iter().map(String::as_str).collect();
        assert_eq!(of(&target), ssh_g(&config, &ssh), "{}", form.name);
        if let Some(hop) = &form.hop {
            let hop: Vec<&str> = hop.iter().map(String::as_str).collect();
            let jump = target.jump.as_deref().expect("a jump host");
            assert_eq!(of(jump), ssh_g(&config, &hop), "{} (hop)", form.name);
        }
        // The command line's view is the same.
        let mut cli = vec!["resolve"];
        cli.extend(args.iter().map(String::as_str));
        let shown = mtssh(&env, &cli).await;
        assert_eq!(shown.code, Some(0), "{}: {}", form.name, shown.stderr);
        assert_eq!(fields(&shown.stdout), of(&target), "{}", form.name);

        let queried = echo_ok(inventory.targets, form.name, &server).await;
        let queried = queried.lock().unwrap().clone();
        assert!(
            queried
                .iter()
                .all(|h| h.parse::<std::net::IpAddr>().is_ok())
                && !queried.is_empty(),
            "{}: resolved {queried:?}",
            form.name
        );
        for store in &inventory.stores {
            store.flush().await;
        }
    }
}

/// Runs `echo ok` through each target and insists that every one ends with exit 0; the
/// names the engine was asked to resolve.
async fn echo_ok(targets: Vec<Target>, what: &str, server: &Sshd) -> Queried {
    let count = targets.len();
    let (ends, queried) = run_all(targets, "echo ok").await;
    let ok = SessionState::Closed {
        exit_status: Some(0),
        signal: None,
    };
    assert_eq!(ends, vec![ok; count], "{what}: {}", server.log());
    queried
}

/// The command line's parser, as `mtssh` would see `ARGS`.
fn host_options(args: &[String]) -> HostOptions {
    use clap::Parser;
    let argv = std::iter::once("mtssh".to_string()).chain(args.iter().cloned());
    let cli = mtssh::cli::Cli::try_parse_from(argv).expect("arguments parse");
    cli.hosts.into()
}

#[tokio::test]
async fn match_blocks_route_hosts_to_sshd_as_ssh_g_resolves_them() {
    if !sshd::available() || !support::have("ssh") {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(&env, SshdOptions::default());
    let (ip, port) = (server.addrs[0].ip(), server.port());
    let login = sshd::login_user();
    let key = env.key("client_ed25519");
    // Each m-* name reaches sshd only through its Match block: originalhost, `Match all`
    // then Include (a file OpenSSH reads only because the block matches), exec, and a
    // negated localuser.
    let route = format!("  HostName {ip}\n  Port {port}\n  User {login}\n");
    let extra = env.path("extra.conf");
    std::fs::write(&extra, format!("Host m-incl\n{route}")).unwrap();
    let config = env.path("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host m-*\n  IdentityFile {key}\n  IdentitiesOnly yes\n\
             Match originalhost m-orig\n{route}\
             Match all\n  Include {extra}\n\
             Match exec \"test %n = m-exec\"\n{route}\
             Match originalhost m-neg !localuser nosuchlocal-mtssh\n{route}",
            key = key.display(),
            extra = extra.display(),
        ),
    )
    .unwrap();
    let kh = env.path("kh");
    for alias in ["m-orig", "m-incl", "m-exec", "m-neg"] {
        let args: Vec<String> = [
            "-H",
            alias,
            "--ssh-config",
            config.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let inventory = inventory::resolve(&host_options(&args))
            .await
            .expect("resolves");
        assert!(
            inventory.warnings.is_empty(),
            "{alias}: {:?}",
            inventory.warnings
        );
        let target = inventory.targets[0].clone();
        assert_eq!(of(&target), ssh_g(&config, &[alias]), "{alias}");
        assert_eq!(target.host, ip.to_string(), "{alias}");
        echo_ok(inventory.targets, alias, &server).await;
        for store in &inventory.stores {
            store.flush().await;
        }
    }
}

#[tokio::test]
async fn an_invalid_port_in_ssh_config_fails_that_host_only_and_says_where() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(&env, SshdOptions::default());
    let key = env.key("client_ed25519");
    let config = env.path("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host bad0\n  Port 0\nHost bad1\n  Port 70000\nHost bad2\n  Port abc\n\
             Host *\n  HostName {}\n  Port {}\n  User {}\n  IdentityFile {}\n",
            server.addrs[0].ip(),
            server.port(),
            sshd::login_user(),
            key.display()
        ),
    )
    .unwrap();
    let kh = env.path("kh");
    let out = mtssh_with(
        &env,
        &[],
        &[
            "run",
            "-H",
            "good,bad0,bad1,bad2",
            "--ssh-config",
            config.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
            "--json",
            "-c",
            "echo ok",
        ],
    )
    .await;
    let rows: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {}", out.stdout))
    };
    assert_eq!(row("good")["stdout"], "ok\n", "{}", out.stderr);
    for (name, line, value) in [("bad0", 2, "0"), ("bad1", 4, "70000"), ("bad2", 6, "abc")] {
        let r = row(name);
        assert_eq!(r["error_kind"], "misconfigured", "{r}");
        let error = r["error"].as_str().unwrap();
        assert!(
            error.contains(&format!(
                "ssh_config:{line}: invalid Port value \"{value}\""
            )),
            "{error}"
        );
    }
    assert!(
        out.stderr.contains("hosts it applies to are not connected"),
        "{}",
        out.stderr
    );
    assert_ne!(out.code, Some(0));
}

#[tokio::test]
async fn hash_known_hosts_writes_hashed_entries_that_openssh_finds_and_trusts() {
    if !sshd::available() || !support::have_all(&["ssh", "ssh-keygen"]) {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(&env, SshdOptions::default());
    let (ip, port) = (server.addrs[0].ip(), server.port());
    let key = env.key("client_ed25519");
    let config = env.path("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host web02\n  HostName {ip}\n  Port {port}\n  User {}\n  IdentityFile {}\n  HashKnownHosts yes\n",
            sshd::login_user(),
            key.display()
        ),
    )
    .unwrap();
    let kh = env.path("kh");
    let out = mtssh(
        &env,
        &[
            "run",
            "-H",
            "web02",
            "--ssh-config",
            config.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
            "-c",
            "echo ok",
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let learned = std::fs::read_to_string(&kh).unwrap();
    assert!(learned.starts_with("|1|"), "{learned}");
    assert!(!learned.contains(&ip.to_string()), "{learned}");
    let pattern = format!("[{ip}]:{port}");
    let found = std::process::Command::new("ssh-keygen")
        .args(["-F", &pattern, "-f"])
        .arg(&kh)
        .output()
        .unwrap();
    assert!(found.status.success(), "ssh-keygen -F {pattern}: {found:?}");
    // OpenSSH trusts the file as it is: strict checking, nothing learned.
    let status = env
        .std_command("ssh")
        .args(["-F", "/dev/null", "-o", "StrictHostKeyChecking=yes", "-o"])
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i"])
        .arg(&key)
        .args(["-p", &port.to_string()])
        .arg(format!("{}@{ip}", sshd::login_user()))
        .arg("true")
        .output()
        .unwrap();
    assert!(status.status.success(), "ssh refused: {status:?}");
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), learned);
}

/// F6 in the TUI: a host typed as `user@alias` is resolved like `-H` (ssh_config's HostName,
/// Port and IdentityFile apply), not copied from the first pane.
#[tokio::test]
async fn f6_resolves_a_typed_alias_through_ssh_config() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use mtssh::mock::{MockOptions, MockThread};
    use mtssh::tui::{HeadlessFrame, TuiSetup, run_headless};

    let env = TestEnv::new();
    let key = env.key("client_ed25519");
    let client = support::fixture_key("client_ed25519").public_key().clone();
    let mock = MockThread::start(support::mock_options(MockOptions {
        hosts: 2,
        authorized_keys: vec![client],
        ..Default::default()
    }))
    .expect("mock starts");
    let block = |alias: &str, t: &Target| {
        format!(
            "Host {alias}\n  HostName {}\n  Port {}\n  IdentityFile {}\n  IdentitiesOnly yes\n",
            t.host,
            t.port,
            key.display()
        )
    };
    let config = env.path("ssh_config");
    let text = [
        block("web01", &mock.targets()[0]),
        block("web02", &mock.targets()[1]),
    ]
    .concat();
    std::fs::write(&config, text).unwrap();
    let args = [
        "-H",
        "test@web01",
        "--ssh-config",
        config.to_str().unwrap(),
        "--known-hosts",
        env.path("kh").to_str().unwrap(),
    ]
    .map(String::from);
    let inventory = inventory::resolve(&host_options(&args))
        .await
        .expect("resolves");
    let (resolver, _) = support::no_dns();
    let (engine, events) = Engine::new(EngineSettings {
        resolver,
        output_credit: Some(mtssh::tui::OUTPUT_CREDIT),
        ..Default::default()
    });
    let setup = TuiSetup {
        engine,
        events,
        add_host_resolver: Some(inventory.resolver),
        ..TuiSetup::new(inventory.targets)
    };
    let (input, input_rx) = futures::channel::mpsc::unbounded();
    let press = |input: &futures::channel::mpsc::UnboundedSender<_>, code: KeyCode| {
        let event = Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
        input
            .unbounded_send(Ok::<_, std::io::Error>(event))
            .unwrap();
    };
    let latest = std::cell::RefCell::new(HeadlessFrame::default());
    let event_loop = run_headless(setup, 160, 40, input_rx, |frame, _| {
        *latest.borrow_mut() = frame.clone();
    });
    let screen = || latest.borrow().lines.join("\n");
    let script = async {
        support::wait_for("the first pane", Duration::from_secs(20), async || {
            let shown = screen();
            (shown.contains(" test@web01 ") && shown.contains("test@mock-01:~$")).then_some(())
        })
        .await;
        press(&input, KeyCode::F(6));
        for c in "test@web02".chars() {
            press(&input, KeyCode::Char(c));
        }
        press(&input, KeyCode::Enter);
        // mock-02 answers only at web02's HostName and Port, with the key only ssh_config
        // names: the first pane's host would answer mock-01.
        support::wait_for("the added pane", Duration::from_secs(20), async || {
            let shown = screen();
            (shown.contains(" test@web02 ") && shown.contains("test@mock-02:~$")).then_some(())
        })
        .await;
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();
}
