//! Churn: rounds of opening and closing many shell sessions against a mock server in its own
//! process, printing this process's open file descriptors and RSS after each round. Open
//! descriptors must return exactly to the baseline and RSS must plateau.
//!
//! cargo run --release --example churn -- [SESSIONS=1000] [ROUNDS=10]

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mtssh::ssh::{
    Engine, EngineSettings, HostKeyPolicy, KnownHostsStore, SessionEvent, SessionState, Target,
    Work,
};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let sessions: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    mtssh::sys::raise_fd_limit();
    let scratch = tempfile::tempdir()?;
    let exe = std::env::current_exe()?
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("mtssh"))
        .ok_or_else(|| anyhow::anyhow!("cannot find the mtssh binary next to the example"))?;
    let mut mock = Command::new(exe)
        .args(["mock", "--port", "0", "--host-key"])
        .arg(scratch.path().join("key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    std::io::BufReader::new(
        mock.stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?,
    )
    .read_line(&mut line)?;
    let addr: std::net::SocketAddr = line
        .split_whitespace()
        .nth(2)
        .ok_or_else(|| anyhow::anyhow!("mock did not start: {line:?}"))?
        .parse()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let kh = scratch.path().join("known_hosts");
        let store = std::sync::Arc::new(KnownHostsStore::load(vec![kh.clone()], kh).await);
        let host_key = HostKeyPolicy::KnownHosts {
            mode: mtssh::config::HostKeyCheck::AcceptNew,
            store,
            hash: false,
        };
        let target = Target {
            password: Some(mtssh::mock::DEFAULT_PASSWORD.into()),
            connect_timeout: Duration::from_secs(30),
            ..Target::new(
                "churn",
                addr.ip().to_string(),
                addr.port(),
                mtssh::mock::DEFAULT_USER,
                host_key,
            )
        };
        let baseline = open_fds();
        println!("baseline: {baseline} open fds, RSS {} KB", rss_kb());
        println!("round  open+close s   fds  RSS KB");
        for round in 1..=rounds {
            let started = Instant::now();
            let (engine, mut events) = Engine::new(EngineSettings {
                per_host: 64,
                ..Default::default()
            });
            let handles: Vec<_> = (0..sessions)
                .map(|i| {
                    let work = Work::Shell {
                        term: "xterm".into(),
                        cols: 80,
                        rows: 24,
                    };
                    engine.spawn(i, target.clone(), work)
                })
                .collect();
            let mut finished = 0;
            while finished < sessions {
                match events.recv().await {
                    Some(SessionEvent::State {
                        id,
                        state: SessionState::Ready,
                    }) => {
                        handles[id].close();
                    }
                    Some(SessionEvent::State { state, .. }) if state.is_finished() => {
                        if let SessionState::Failed { error } = &state {
                            eprintln!("failed: {error}");
                        }
                        finished += 1;
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            drop(handles);
            drop(engine);
            drop(events);
            // Let the closed sessions' tasks finish unwinding.
            for _ in 0..100 {
                tokio::task::yield_now().await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            println!(
                "{round:>5}  {:>12.2}  {:>4}  {:>6}",
                started.elapsed().as_secs_f64(),
                open_fds(),
                rss_kb()
            );
        }
        anyhow::Ok(())
    });
    let _ = mock.kill();
    let _ = mock.wait();
    result
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
