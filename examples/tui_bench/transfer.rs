//! `tui_bench transfer N MB`: Alt-F's upload of one MB-megabyte file to N receivers through
//! the real event loop (headless), over the sessions' own connections, side by side with
//! `mtssh push`'s engine (`modes::execute_transfers`, new connections) sending the same file
//! to the same N mock hosts in the same process. For each: the wall time, the aggregate
//! rate, the client thread's CPU; for the TUI also the loop's lag gauge (worst late firing
//! of its 10 ms probe timer) idle and during the upload.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use mtssh::mock::{MockOptions, MockThread};
use mtssh::modes::{HostResult, RunObserver, Stream, Streams, TransferOptions, execute_transfers};
use mtssh::ssh::SessionState;
use mtssh::ssh::sftp::{Direction, TransferSpec};
use mtssh::tui::{TuiSetup, run_headless};

fn thread_cpu() -> f64 {
    let (user, sys, _) = mtssh::sys::usage(libc::RUSAGE_THREAD);
    user + sys
}

/// Deterministic bytes that do not compress (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

struct Quiet;

impl RunObserver for Quiet {
    fn takes_lines(&self) -> bool {
        false
    }
    fn lines(&mut self, _: &str, _: Stream, _: &[u8]) {}
    fn finished(&mut self, _: usize, _: &HostResult) {}
}

struct Measured {
    wall: Duration,
    cpu: f64,
    lag_idle: Option<Duration>,
    lag_during: Option<Duration>,
}

pub fn transfer_bench(n: usize, megabytes: usize) -> anyhow::Result<()> {
    let mock = MockThread::start(MockOptions {
        hosts: n,
        ..super::practice_mock()
    })?;
    mtssh::sys::raise_fd_limit();
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("payload.bin");
    std::fs::write(&file, noise(megabytes << 20))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let targets = mock.targets().to_vec();
    let tui = runtime.block_on(tui_upload(targets.clone(), &file))?;
    let push = runtime.block_on(push_upload(targets, &file))?;
    let total = (n * megabytes) as f64;
    for (what, m) in [
        ("TUI Alt-F (existing connections)", &tui),
        ("push engine (new connections)", &push),
    ] {
        println!(
            "{what}: {n} x {megabytes} MB in {:.2} s = {:.1} MB/s, client thread CPU {:.2} s",
            m.wall.as_secs_f64(),
            total / m.wall.as_secs_f64(),
            m.cpu
        );
    }
    if let (Some(idle), Some(during)) = (tui.lag_idle, tui.lag_during) {
        println!(
            "TUI loop lag (worst 10 ms probe lateness): idle {:.2} ms, during the upload {:.2} ms",
            idle.as_secs_f64() * 1000.0,
            during.as_secs_f64() * 1000.0
        );
    }
    println!(
        "ratio wall TUI / push: {:.2}",
        tui.wall.as_secs_f64() / push.wall.as_secs_f64()
    );
    Ok(())
}

async fn tui_upload(
    targets: Vec<mtssh::ssh::Target>,
    file: &std::path::Path,
) -> anyhow::Result<Measured> {
    let n = targets.len();
    let setup = TuiSetup::new(targets);
    let (input, input_rx) = futures::channel::mpsc::unbounded();
    let ready = RefCell::new(0usize);
    let notice = RefCell::new(String::new());
    // The worst lag reading since the last reset.
    let lag = RefCell::new(None::<Duration>);
    let changed = tokio::sync::Notify::new();
    let event_loop = run_headless(setup, 200, 60, input_rx, |_, app| {
        *ready.borrow_mut() = app
            .pane_ids()
            .into_iter()
            .filter(|&id| matches!(app.pane_state(id), Some(SessionState::Ready)))
            .count();
        *notice.borrow_mut() = app.notice().unwrap_or_default().to_string();
        if let Some(now) = app.lag() {
            let mut worst = lag.borrow_mut();
            *worst = Some(worst.map_or(now, |w| w.max(now)));
        }
        changed.notify_one();
    });
    let key = |code, mods| {
        let _ = input.unbounded_send(Ok(Event::Key(KeyEvent::new(code, mods))));
    };
    let script = async {
        while *ready.borrow() < n {
            changed.notified().await;
        }
        // A second of the idle loop, for its lag (the gauge keeps the worst of about a
        // second).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let lag_idle = lag.borrow_mut().take();
        key(KeyCode::Char('f'), KeyModifiers::ALT);
        for c in file.display().to_string().chars() {
            key(KeyCode::Char(c), KeyModifiers::NONE);
        }
        key(KeyCode::Enter, KeyModifiers::NONE);
        let cpu = thread_cpu();
        let started = Instant::now();
        key(KeyCode::Enter, KeyModifiers::NONE);
        while !notice.borrow().contains("uploaded to") {
            changed.notified().await;
        }
        let wall = started.elapsed();
        let cpu = thread_cpu() - cpu;
        let said = notice.borrow().clone();
        if !said.contains(&format!("uploaded to {n} of {n}")) {
            eprintln!("the upload did not succeed everywhere: {said}");
        }
        input.close_channel();
        Measured {
            wall,
            cpu,
            lag_idle,
            lag_during: lag.borrow_mut().take(),
        }
    };
    let (result, measured) = tokio::join!(event_loop, script);
    result?;
    Ok(measured)
}

async fn push_upload(
    targets: Vec<mtssh::ssh::Target>,
    file: &std::path::Path,
) -> anyhow::Result<Measured> {
    let n = targets.len();
    let spec = TransferSpec {
        direction: Direction::Push {
            locals: vec![file.to_path_buf()],
            remote_dir: ".".into(),
        },
        recursive: false,
        preserve: false,
        hash: false,
        // As `mtssh push` reads: once for every host.
        shared_reads: Some(mtssh::ssh::sftp::SharedReads::new(n)),
    };
    let jobs = targets.into_iter().map(|t| (t, spec.clone())).collect();
    let opts = TransferOptions {
        streams: Streams::All,
        fanout: n.max(1),
        per_host: n.max(1),
        verify: false,
        show_progress: false,
        bytes_per_host: None,
    };
    let cpu = thread_cpu();
    let started = Instant::now();
    let results =
        execute_transfers(jobs, &opts, &mut Quiet, Box::pin(std::future::pending())).await;
    let wall = started.elapsed();
    let cpu = thread_cpu() - cpu;
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    if failed > 0 {
        eprintln!("push: {failed} hosts failed");
    }
    Ok(Measured {
        wall,
        cpu,
        lag_idle: None,
        lag_during: None,
    })
}
