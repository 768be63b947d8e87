//! TUI numbers for docs/BENCHMARKS.md (a benchmark, not a test):
//!
//! ```sh
//! cargo run --release --example tui_bench -- draw        # frame draw time, 16 and 100 panes
//! cargo run --release --example tui_bench -- round 100 250x80  # a broadcast round's frame
//! cargo run --release --example tui_bench -- round 100 250x80 10  # ... with 10 panes changed
//! cargo run --release --example tui_bench -- echo 0      # keystroke-to-echo, focus mode, mock
//! cargo run --release --example tui_bench -- echo 50     # the same, 50 ms between keys
//! cargo run --release --example tui_bench -- rss 100     # memory, 100 panes, full scrollback
//! cargo run --release --example tui_bench -- rss 1000
//! cargo run --release --example tui_bench -- history 1000 1000  # memory + scan of the history
//! cargo run --release --example tui_bench -- history 100 10000
//! cargo run --release --example tui_bench -- broadcast 1000 5   # Enter to echo in 1000 panes
//! cargo run --release --example tui_bench -- resize 1000  # reflowing resizes of 1000 panes
//! cargo run --release --example tui_bench -- parse        # pane emulator MB/s vs bare vt100
//! cargo run --release --example tui_bench -- results 1000 5  # 20-line answers, F9 view open
//! cargo run --release --example tui_bench -- exec 1000 5     # `:CMD` on 1000 sessions
//! cargo run --release --example tui_bench -- transfer 5 50   # Alt-F: 50 MB to 5, vs push
//! cargo run --release --example tui_bench -- search 1000 1000  # search 1000 panes x 1000 lines
//! ```
//!
//! `rss` runs one size per process so the peak (VmHWM) belongs to that size alone.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use mtssh::app::{App, Msg};
use mtssh::mock::{HostKeySource, HostKeyType, MockOptions, MockThread};
use mtssh::ssh::{SessionId, SessionState};
use mtssh::tui::{TuiSetup, run_headless};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

mod history;
mod results;
mod search;
mod transfer;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("draw") => draw_bench(),
        Some("round") => {
            let panes = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(100);
            round_bench(
                panes,
                args.get(2).map_or("250x80", String::as_str),
                args.get(3).and_then(|n| n.parse().ok()).unwrap_or(panes),
            )
        }
        Some("echo") => echo_bench(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(0)),
        Some("broadcast") => broadcast_bench(
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000),
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(5),
        ),
        Some("resize") => {
            resize_bench(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000));
            Ok(())
        }
        Some(which @ ("results" | "exec")) => results::results_bench(
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000),
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(5),
            if which == "exec" {
                results::Via::Exec
            } else {
                results::Via::Shell
            },
        ),
        Some("transfer") => transfer::transfer_bench(
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(5),
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(50),
        ),
        Some("search") => search::search_bench(
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000),
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000),
        ),
        Some("parse") => {
            parse_bench();
            Ok(())
        }
        Some("history") => {
            history::history_bench(
                args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000),
                args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000),
            );
            Ok(())
        }
        Some("rss") => {
            let panes = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(100);
            rss_bench(panes);
            Ok(())
        }
        _ => anyhow::bail!(
            "usage: tui_bench draw | echo [MS] | rss N | history [PANES [LINES]] | broadcast [N [ROUNDS]] | resize [N] | parse \
             | results [N [ROUNDS]] | exec [N [ROUNDS]] | transfer [N [MB]] | search [PANES [LINES]]"
        ),
    }
}

/// A model with `n` ready panes on a `cols` x `rows` terminal.
fn app_with_panes(cols: u16, rows: u16, n: usize) -> App {
    let mut app = App::new(cols, rows, n);
    for i in 0..n {
        let (id, _) = app.add_pane(format!("host-{i:04}"));
        let _ = app.update(Msg::State {
            id,
            state: SessionState::Ready,
        });
    }
    app
}

/// Writes `lines` lines of `width` characters of shell-like output (some colour) to pane `id`.
fn fill(app: &mut App, id: usize, lines: usize, width: usize, seed: usize) {
    let mut data = Vec::with_capacity(lines * (width + 16));
    for l in 0..lines {
        let n = seed + l;
        data.extend_from_slice(format!("\x1b[3{}m{n:>6}\x1b[0m ", n % 8).as_bytes());
        for c in 0..width.saturating_sub(8) {
            data.push(b'a' + ((n + c) % 26) as u8);
        }
        data.extend_from_slice(b"\r\n");
    }
    let _ = app.update(Msg::Output { id, data });
}

fn draw_bench() -> anyhow::Result<()> {
    for (panes, cols, rows) in [(16, 200, 50), (100, 200, 50), (100, 320, 100)] {
        let mut app = app_with_panes(cols, rows, panes);
        for id in 0..panes {
            fill(&mut app, id, 200, usize::from(cols), id);
        }
        let mut terminal = Terminal::new(TestBackend::new(cols, rows))?;
        let visible = app.layout().visible.len();
        // Unchanged screens: the widget rendering and diffing every frame pays.
        let frames = 300;
        terminal.draw(|f| mtssh::ui::draw(f, &app))?;
        let start = Instant::now();
        for _ in 0..frames {
            terminal.draw(|f| mtssh::ui::draw(f, &app))?;
        }
        let still = start.elapsed() / frames;
        // Every visible pane got a new line since the last frame (scrolling output).
        let mut busy = Duration::ZERO;
        for frame in 0..frames {
            for id in 0..panes {
                fill(&mut app, id, 1, usize::from(cols), 1000 + frame as usize);
            }
            let start = Instant::now();
            terminal.draw(|f| mtssh::ui::draw(f, &app))?;
            busy += start.elapsed();
        }
        let busy = busy / frames;
        println!(
            "draw {panes} panes ({visible} visible) on {cols}x{rows}: unchanged {:.3} ms/frame, \
             all scrolling {:.3} ms/frame",
            ms(still),
            ms(busy)
        );
    }
    Ok(())
}

/// Counts what a frame writes to the terminal, like the TUI's own buffered stdout.
#[derive(Default, Clone)]
struct Counted(std::rc::Rc<std::cell::Cell<(usize, usize)>>);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (bytes, writes) = self.0.get();
        self.0.set((bytes + buf.len(), writes + 1));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One broadcast round as the sshd benchmark (scripts/bench-broadcast-tmux.sh) sees it, in
/// keystroke mode: every pane has a bash prompt with the typed line, then gets Enter's echo,
/// the command's output and the next prompt; one frame shows it. Drawn through the real
/// backend (crossterm) into a counter: the time of the draw call and the bytes it wrote.
fn round_bench(panes: usize, size: &str, changed: usize) -> anyhow::Result<()> {
    let (cols, rows) = size
        .split_once('x')
        .and_then(|(c, r)| Some((c.parse().ok()?, r.parse().ok()?)))
        .unwrap_or((250, 80));
    let mut app = app_with_panes(cols, rows, panes);
    // As the loop draws: a frame of the same shape as the last only redraws what changed.
    let mut renderer = mtssh::ui::Renderer::default();
    let counted = Counted::default();
    let out = std::io::BufWriter::with_capacity(64 * 1024, counted.clone());
    // No terminal to ask for its size: the viewport is fixed.
    let viewport = ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, cols, rows));
    let mut terminal = Terminal::with_options(
        ratatui::backend::CrosstermBackend::new(out),
        ratatui::TerminalOptions { viewport },
    )?;
    // The benchmark's line, 21 columns with the prompt (a 23-column pane does not wrap it).
    let typed = |k: usize| format!("echo mark$(({}))x", k + 1000);
    for id in 0..panes {
        let _ = app.update(Msg::Output {
            id,
            data: format!("$ {}", typed(0)).into_bytes(),
        });
    }
    renderer.draw(&mut terminal, &app)?;
    let rounds = 300;
    let (mut took, mut bytes, mut writes) = (Duration::ZERO, 0, 0);
    let counter = |_: &mut Terminal<_>| counted.0.get();
    for k in 0..rounds {
        for id in (0..panes).filter(|id| (id + k) % panes < changed) {
            let data = format!("\r\nmark{}x\r\n$ {}", k + 1000, typed(k + 1)).into_bytes();
            let _ = app.update(Msg::Output { id, data });
        }
        let (b0, w0) = counter(&mut terminal);
        let start = Instant::now();
        renderer.draw(&mut terminal, &app)?;
        took += start.elapsed();
        let (b1, w1) = counter(&mut terminal);
        bytes += b1 - b0;
        writes += w1 - w0;
    }
    let visible = app.layout().visible.len();
    println!(
        "round: {panes} panes ({visible} visible, {changed} changed) on {cols}x{rows}: {:.3} ms/frame, {} bytes \
         and {} writes per frame",
        ms(took / rounds as u32),
        bytes / rounds,
        writes / rounds
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Keystroke to visible echo through the real event loop (headless), focus mode, against
/// the mock server on its own thread. One key at a time, waiting for each echo.
fn echo_bench(pause_ms: u64) -> anyhow::Result<()> {
    let mock = MockThread::start(practice_mock())?;
    let target = mock.targets()[0].clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let samples = runtime.block_on(async move {
        let setup = TuiSetup::new(vec![target]);
        let (input, input_rx) = futures::channel::mpsc::unbounded();
        // What the screen must show next, when the key was sent, and the results.
        let waiting: RefCell<Option<(String, Instant)>> = RefCell::new(None);
        let seen = tokio::sync::Notify::new();
        let samples = RefCell::new(Vec::new());
        let ready = RefCell::new(false);
        let last = RefCell::new(String::new());
        let event_loop = run_headless(setup, 120, 40, input_rx, |frame, _| {
            let text = frame.lines.join("\n");
            *last.borrow_mut() = text.clone();
            if !*ready.borrow() && text.contains("test@mock-01:~$") {
                *ready.borrow_mut() = true;
                seen.notify_one();
            }
            let mut waiting = waiting.borrow_mut();
            if let Some((expect, sent)) = waiting.as_ref()
                && shows(&text, expect)
            {
                samples.borrow_mut().push(sent.elapsed());
                *waiting = None;
                seen.notify_one();
            }
        });
        let key = |code| Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        let script = async {
            seen.notified().await;
            let _ = input.unbounded_send(Ok(Event::Key(KeyEvent::new(
                KeyCode::Char(']'),
                KeyModifiers::CONTROL,
            ))));
            let mut typed = String::new();
            for i in 0..400 {
                let c = char::from(b'a' + (i % 26) as u8);
                typed.push(c);
                // With a pause the loop is idle when the key comes (a typist, not a paste);
                // without, each key lands right after the last frame and waits for the
                // next one (the 16 ms frame clock).
                tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                // The prompt line with everything typed so far (then the cursor).
                *waiting.borrow_mut() = Some((format!(":~$ {typed}"), Instant::now()));
                let _ = input.unbounded_send(key(KeyCode::Char(c)));
                if tokio::time::timeout(Duration::from_secs(5), seen.notified())
                    .await
                    .is_err()
                {
                    eprintln!("no echo of {typed:?}; screen:\n{}", last.borrow());
                    break;
                }
                if typed.len() == 40 {
                    *waiting.borrow_mut() =
                        Some((format!("server received: {typed}"), Instant::now()));
                    let _ = input.unbounded_send(key(KeyCode::Enter));
                    seen.notified().await;
                    samples.borrow_mut().pop();
                    typed.clear();
                    // Let the new prompt settle so the next key starts from an idle loop.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            input.close_channel();
        };
        let (result, ()) = tokio::join!(event_loop, script);
        result.map(|()| samples.into_inner())
    })?;
    drop(mock);
    let mut sorted = samples.clone();
    sorted.sort();
    let pct = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    println!(
        "keystroke to echo on screen (focus mode, mock on its own thread, {} keys, {pause_ms} ms \
         apart): median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        sorted.len(),
        ms(pct(0.5)),
        ms(pct(0.9)),
        ms(pct(0.99)),
        ms(pct(1.0))
    );
    Ok(())
}

/// One practice host with a throwaway key, for the mock's own thread.
pub(crate) fn practice_mock() -> MockOptions {
    MockOptions {
        port: 0,
        host_key: HostKeySource::Ephemeral(HostKeyType::Ed25519),
        ..MockOptions::default()
    }
}

/// A broadcast line typed once, sent with Enter to `n` sessions (the real event loop,
/// headless, 200x60), until every pane's emulator shows the echo. Checked at each frame, so
/// the figure is an upper bound (frames come at most every 16 ms) and includes the check.
fn broadcast_bench(n: usize, rounds: usize) -> anyhow::Result<()> {
    let mock = MockThread::start(practice_mock())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    mtssh::sys::raise_fd_limit();
    let template = mock.targets()[0].clone();
    let results = runtime.block_on(async move {
        let sessions = (0..n)
            .map(|i| mtssh::ssh::Target {
                name: format!("mock-{i:04}"),
                ..template.clone()
            })
            .collect();
        let mut setup = TuiSetup::new(sessions);
        // A line to more than 50 receivers asks first (since the safety settings came): the
        // benchmark measures the echo, not the question.
        setup.safety.confirm_over = usize::MAX;
        let (input, input_rx) = futures::channel::mpsc::unbounded();
        // The text every pane must show, when Enter was sent, and the panes still missing
        // it (only those are looked at again, so the check costs less as echoes arrive).
        let waiting: RefCell<Option<(String, Instant, Vec<SessionId>)>> = RefCell::new(None);
        // The client thread's CPU (user+sys) per round, from Enter to the last frame.
        let cpu = RefCell::new((0.0, Vec::new()));
        // Frames drawn per round, from Enter to the one that shows every echo.
        let frames = RefCell::new((0usize, Vec::new()));
        let thread_cpu = || {
            let (user, sys, _) = mtssh::sys::usage(libc::RUSAGE_THREAD);
            user + sys
        };
        let seen = tokio::sync::Notify::new();
        let results = RefCell::new(Vec::new());
        let started = Instant::now();
        let ready = RefCell::new(None::<Duration>);
        let event_loop = run_headless(setup, 200, 60, input_rx, |_, app| {
            let shows = |id: SessionId, needle: &str| {
                app.pane_screen_text(id).is_some_and(|t| t.contains(needle))
            };
            if ready.borrow().is_none() {
                let ids = app.pane_ids();
                if ids.len() == n && ids.iter().all(|id| shows(*id, "test@mock-01:~$")) {
                    *ready.borrow_mut() = Some(started.elapsed());
                    seen.notify_one();
                }
                return;
            }
            // While the model still waits for some pane's reply (its prompt after the line
            // end), that pane cannot show the echo yet: the check, which runs on the loop's
            // thread and reads up to every pane's cursor rows, is left for the frames that
            // may be complete (frames drawn while replies come would pay for it otherwise).
            let mut waiting = waiting.borrow_mut();
            if waiting.is_some() {
                frames.borrow_mut().0 += 1;
            }
            if app.replies_pending() {
                return;
            }
            if let Some((needle, sent, pending)) = waiting.as_mut() {
                // The frame was drawn from emulators that already held what it shows: its
                // time, not the check's end, is when they got there.
                let drawn = sent.elapsed();
                if pending.is_empty() {
                    *pending = app.pane_ids();
                }
                pending.retain(|id| {
                    !app.pane_text_at_cursor(*id, 2)
                        .is_some_and(|t| t.contains(needle.as_str()))
                });
                if pending.is_empty() {
                    results.borrow_mut().push(drawn);
                    let mut cpu = cpu.borrow_mut();
                    let spent = thread_cpu() - cpu.0;
                    cpu.1.push(spent);
                    let mut frames = frames.borrow_mut();
                    let drawn = std::mem::take(&mut frames.0);
                    frames.1.push(drawn);
                    *waiting = None;
                    seen.notify_one();
                }
            }
        });
        let key = |code| Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        let script = async {
            if tokio::time::timeout(Duration::from_secs(120), seen.notified())
                .await
                .is_err()
            {
                eprintln!("the {n} sessions did not all show a prompt within 120 s");
                input.close_channel();
                return;
            }
            for round in 0..rounds {
                let word = format!("mark{round:03}x");
                for c in format!("echo {word}").chars() {
                    let _ = input.unbounded_send(key(KeyCode::Char(c)));
                }
                // Let the typed line be drawn; the clock starts at Enter.
                tokio::time::sleep(Duration::from_millis(50)).await;
                cpu.borrow_mut().0 = thread_cpu();
                *waiting.borrow_mut() = Some((format!("{word}\n"), Instant::now(), Vec::new()));
                let _ = input.unbounded_send(key(KeyCode::Enter));
                if tokio::time::timeout(Duration::from_secs(10), seen.notified())
                    .await
                    .is_err()
                {
                    let missing = waiting.borrow().as_ref().map_or(0, |w| w.2.len());
                    eprintln!("round {round}: {missing} panes never showed the echo");
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            input.close_channel();
        };
        let (result, ()) = tokio::join!(event_loop, script);
        let frames = frames.into_inner().1;
        result.map(|()| {
            (
                ready.into_inner(),
                results.into_inner(),
                cpu.into_inner().1,
                frames,
            )
        })
    });
    drop(mock);
    let (ready, mut samples, mut cpu, mut frames) = results?;
    cpu.sort_by(f64::total_cmp);
    frames.sort();
    anyhow::ensure!(!samples.is_empty(), "no broadcast completed");
    samples.sort();
    println!(
        "broadcast to {n} sessions (headless TUI, 200x60, mock on its own thread): all prompts \
         after {:.2} s; Enter to every pane's emulator showing the echo, {} rounds: median \
         {:.1} ms, max {:.1} ms; client thread CPU per round median {:.1} ms; frames per \
         round median {}; peak RSS {} MiB",
        ready.map_or(0.0, |d| d.as_secs_f64()),
        samples.len(),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1]),
        cpu.get(cpu.len() / 2).copied().unwrap_or(0.0) * 1000.0,
        frames.get(frames.len() / 2).copied().unwrap_or(0),
        status_kb("VmHWM") / 1024
    );
    Ok(())
}

/// Whether `text` holds `expect` not followed by another letter (the line typed so far, not
/// a longer one from before).
fn shows(text: &str, expect: &str) -> bool {
    text.match_indices(expect).any(|(i, _)| {
        !text[i + expect.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
    })
}

/// Resident memory with `panes` panes whose scrollback is full.
fn rss_bench(panes: usize) {
    let (cols, rows) = (200, 50);
    let before = status_kb("VmRSS");
    let mut app = app_with_panes(cols, rows, panes);
    let scrollback = mtssh::app::pane::history_budget(app.scrollback, panes).lines;
    let mut width = 0;
    for id in 0..panes {
        let (pane_cols, pane_rows) = app.pty_size(id).unwrap_or((80, 24));
        width = usize::from(pane_cols);
        // The screen's rows plus a full scrollback, in chunks like real output.
        let total = scrollback + usize::from(pane_rows);
        for chunk in (0..total).step_by(500) {
            fill(&mut app, id, 500.min(total - chunk), width, chunk);
        }
    }
    let after = status_kb("VmRSS");
    println!(
        "rss {panes} panes ({width} cols, {scrollback} lines of scrollback each, {cols}x{rows} \
         terminal): VmRSS {} MiB (before {} MiB, +{} MiB), VmHWM {} MiB",
        after / 1024,
        before / 1024,
        (after - before) / 1024,
        status_kb("VmHWM") / 1024
    );
    drop(app);
}

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Shell-like output of about `bytes` bytes: coloured prompts, `ls -l` lines, plain lines of
/// 20-119 characters (so some wrap at 80 columns).
fn shell_output(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 200);
    let mut i = 0usize;
    while out.len() < bytes {
        let line = match i % 4 {
            0 => format!(
                "\x1b[1;32muser@host-{:04}\x1b[0m:\x1b[1;34m~/src\x1b[0m$ ls -l",
                i % 1000
            ),
            1 => format!(
                "-rw-r--r-- 1 user user {:>8} Nov 27 12:{:02} \x1b[0;32mfile-{i}.rs\x1b[0m",
                i * 37 % 100_000,
                i % 60
            ),
            2 => format!("drwxr-xr-x 2 user user     4096 Nov 27 12:00 \x1b[1;34mdir-{i}\x1b[0m"),
            _ => (0..20 + (i * 13) % 100)
                .map(|k| char::from(b'a' + ((i + k) % 26) as u8))
                .collect(),
        };
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
        i += 1;
    }
    out
}

/// `seq`-like output: one number a line.
fn seq_output(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 20);
    let mut i = 1u64;
    while out.len() < bytes {
        out.extend_from_slice(format!("{i}\r\n").as_bytes());
        i += 1;
    }
    out
}

/// The pane's emulator (charset filter, query replies, vt100) against bare vt100 on the same
/// bytes, 4 KiB chunks, alternating, best of 5 by the thread's CPU time (the machine is
/// shared: wall time would measure the neighbours).
fn parse_bench() {
    use mtssh::app::pane::Pane;
    let cpu = || {
        let (user, sys, _) = mtssh::sys::usage(libc::RUSAGE_THREAD);
        user + sys
    };
    for (what, data) in [
        ("shell", shell_output(64 << 20)),
        ("seq", seq_output(64 << 20)),
    ] {
        let mut bare = f64::MAX;
        let mut pane_best = f64::MAX;
        for _ in 0..5 {
            let mut parser = vt100::Parser::new(24, 80, 1000);
            let start = cpu();
            for chunk in data.chunks(4096) {
                parser.process(chunk);
            }
            bare = bare.min(cpu() - start);
            let mut pane = Pane::new(0, "p".into(), 1000);
            let start = cpu();
            for chunk in data.chunks(4096) {
                std::hint::black_box(pane.process(chunk));
            }
            pane_best = pane_best.min(cpu() - start);
        }
        let mb = data.len() as f64 / 1e6;
        println!(
            "parse {what} ({} MiB, CPU time): bare vt100 {:.1} MB/s, pane emulator {:.1} MB/s \
             ({:.2}x)",
            data.len() >> 20,
            mb / bare,
            mb / pane_best,
            bare / pane_best
        );
    }
}

/// Resizes that reflow: `n` panes of 80x24 with 200 lines of scrollback, full, shrunk to
/// 60x20 and grown back; then the model's own resize (every pane refitted) of `n` panes on a
/// 200x60 terminal going to 160x50 and back.
fn resize_bench(n: usize) {
    use mtssh::app::pane::Pane;
    let fill = shell_output(300 * 60);
    let mut panes: Vec<Pane> = (0..n)
        .map(|i| {
            let mut pane = Pane::new(i, format!("p{i}"), 200);
            pane.process(&fill);
            pane
        })
        .collect();
    let before: Vec<String> = panes.iter().map(Pane::scrollback_text).collect();
    let start = Instant::now();
    for pane in &mut panes {
        pane.fit(60, 20);
    }
    let shrink = start.elapsed();
    let start = Instant::now();
    for pane in &mut panes {
        pane.fit(80, 24);
    }
    let grow = start.elapsed();
    let same = panes
        .iter()
        .zip(&before)
        .filter(|(p, b)| p.scrollback_text() == **b)
        .count();
    println!(
        "resize {n} panes 80x24 (200 lines of scrollback, full) -> 60x20: {:.1} ms, back: \
         {:.1} ms; {same}/{n} panes hold the same text after",
        ms(shrink),
        ms(grow)
    );

    let mut app = app_with_panes(200, 60, n);
    for id in 0..n {
        let _ = app.update(Msg::Output {
            id,
            data: fill.clone(),
        });
    }
    let start = Instant::now();
    let effects = app.update(Msg::Resize {
        cols: 160,
        rows: 50,
    });
    let shrink = start.elapsed();
    let start = Instant::now();
    let back = app.update(Msg::Resize {
        cols: 200,
        rows: 60,
    });
    let grow = start.elapsed();
    println!(
        "model resize, {n} panes on 200x60 -> 160x50: {:.1} ms ({} PTY resizes), back: {:.1} ms \
         ({})",
        ms(shrink),
        effects.len(),
        ms(grow),
        back.len()
    );
}
