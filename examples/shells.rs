//! Opens N interactive sessions (PTY + shell) to one SSH server on ONE current_thread event
//! loop, waits until every session is Ready and its first prompt has arrived, and prints the
//! client's wall time, CPU time, peak RSS and thread count.
//!
//! The server is NOT started here: point it at a server in its own process, e.g.
//!
//! ```sh
//! mtssh mock --port 0 --host-key-type ed25519     # prints: listening mock-01 127.0.0.1:PORT
//! cargo run --release --example shells -- 127.0.0.1:PORT 1000
//! ```
//!
//! Arguments: `ADDR N [PROMPT]` (PROMPT, default `$ `, is the text that ends the first
//! prompt); `SHELLS_KEX` in the environment sets the key exchange, as `mtssh --kex` does.
//! User `test`, password from MTSSH_PASSWORD (default `123456`). The host key is learned
//! on first use (accept-new) into a fresh temporary known_hosts file. Output is one
//! `key=value` line, for scripts. Exit code 0 when every session got its prompt.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtssh::config::HostKeyCheck;
use mtssh::ssh::{
    Engine, EngineSettings, HostKeyPolicy, KnownHostsStore, SessionEvent, SessionState, Target,
    Work,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: shells ADDR N [PROMPT]");
        return ExitCode::from(2);
    };
    let prompt = args.get(2).cloned().unwrap_or_else(|| "$ ".into());
    let Some((host, port)) = addr
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
    else {
        eprintln!("ADDR must be host:port");
        return ExitCode::from(2);
    };
    mtssh::sys::raise_fd_limit();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(host, port, n, prompt))
}

async fn run(host: String, port: u16, n: usize, prompt: String) -> ExitCode {
    let scratch = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("tempdir: {e}");
            return ExitCode::FAILURE;
        }
    };
    let kh = scratch.path().join("known_hosts");
    let store = Arc::new(KnownHostsStore::load(vec![kh.clone()], kh).await);
    let password = std::env::var("MTSSH_PASSWORD").unwrap_or_else(|_| "123456".into());
    let fanout = std::env::var("SHELLS_FANOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let (engine, mut events) = Engine::new(EngineSettings {
        fanout,
        per_host: fanout,
        ..EngineSettings::default()
    });
    // SHELLS_KEX: a key-exchange list as `mtssh --kex` takes it (e.g. -mlkem768x25519-sha256).
    let kex = match std::env::var("SHELLS_KEX") {
        Ok(spec) if !spec.is_empty() => match mtssh::ssh::algorithms::parse_kex(&spec) {
            Ok(list) => Some(Arc::new(list)),
            Err(e) => {
                eprintln!("SHELLS_KEX: {e}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let host_key = HostKeyPolicy::KnownHosts {
        mode: HostKeyCheck::AcceptNew,
        store: store.clone(),
        hash: false,
    };
    let target = Target {
        password: Some(password),
        connect_timeout: Duration::from_secs(60),
        identities_only: true,
        kex,
        ..Target::new("mock", host, port, mtssh::mock::DEFAULT_USER, host_key)
    };
    let start = Instant::now();
    let cpu0 = mtssh::sys::usage(libc::RUSAGE_SELF);
    let mut handles = Vec::with_capacity(n);
    for id in 0..n {
        let work = Work::Shell {
            term: "xterm".into(),
            cols: 80,
            rows: 24,
        };
        handles.push(engine.spawn(id, target.clone(), work));
    }
    // Per session: Ready seen, and the output so far until the prompt shows.
    let mut ready = vec![false; n];
    let mut seen: HashMap<usize, Vec<u8>> = HashMap::new();
    let mut prompted = vec![false; n];
    let (mut n_ready, mut n_prompted, mut n_failed) = (0usize, 0usize, 0usize);
    let mut first_failure = None;
    let deadline = tokio::time::sleep(Duration::from_secs(120));
    tokio::pin!(deadline);
    while n_prompted + n_failed < n {
        let event = tokio::select! {
            e = events.recv() => match e { Some(e) => e, None => break },
            _ = &mut deadline => { eprintln!("timed out"); break }
        };
        match event {
            SessionEvent::State { id, state } => match state {
                SessionState::Ready if !ready[id] => {
                    ready[id] = true;
                    n_ready += 1;
                }
                SessionState::Failed { error } => {
                    n_failed += 1;
                    first_failure.get_or_insert(error.to_string());
                }
                SessionState::Closed { .. } if !prompted[id] => {
                    n_failed += 1;
                    first_failure.get_or_insert_with(|| "closed before prompt".into());
                }
                _ => {}
            },
            SessionEvent::Output { id, data } if !prompted[id] => {
                let buf = seen.entry(id).or_default();
                buf.extend_from_slice(&data);
                if buf.windows(prompt.len()).any(|w| w == prompt.as_bytes()) {
                    prompted[id] = true;
                    n_prompted += 1;
                    seen.remove(&id);
                }
            }
            SessionEvent::Prompt { prompt, .. } => {
                let _ = prompt.reply.send(None);
            }
            _ => {}
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu1 = mtssh::sys::usage(libc::RUSAGE_SELF);
    let threads = mtssh::sys::thread_count();
    println!(
        "sessions={n} ready={n_ready} prompted={n_prompted} failed={n_failed} wall_s={wall:.3} \
         user_s={:.3} sys_s={:.3} peak_rss_kb={} threads={threads}",
        cpu1.0 - cpu0.0,
        cpu1.1 - cpu0.1,
        cpu1.2
    );
    if let Some(reason) = first_failure {
        eprintln!("first failure: {reason}");
    }
    for handle in &handles {
        handle.close();
    }
    if n_prompted == n {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
