//! The issue 15 figures: 1000 sessions answering a 20-line command with the results view
//! (F9) open, and `:CMD` on 1000 sessions. The real event loop, headless (200x60), against
//! the mock on its own thread with 20 practice hosts, three of them differing on purpose
//! (`18-19:1` and `20:2:other`), so every answer falls into one of three groups.

use std::cell::RefCell;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use mtssh::app::App;
use mtssh::app::result::RunStatus;
use mtssh::mock::{HostKeySource, HostKeyType, MockOptions, MockThread};
use mtssh::ssh::{SessionId, SessionState};
use mtssh::tui::probe::LoopProbe;
use mtssh::tui::{TuiSetup, run_headless_probed};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::{ms, status_kb};

const HOSTS: usize = 20;
const GROUPS: usize = 3;
const COLS: u16 = 200;
const ROWS: u16 = 60;

/// How the line of a round is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// To the shells, the results view opened with F9 beforehand.
    Shell,
    /// As `:CMD`, an exec channel on each session's connection (opens the view itself).
    Exec,
}

/// One completed round.
struct Round {
    /// Enter to the first frame showing every host's answer (frame resolution: an upper
    /// bound).
    wall: Duration,
    /// The loop thread's CPU between the frame before and that frame: taking in the last
    /// answers, regrouping and drawing the view.
    last_frame_cpu: Duration,
    /// Drawing the up-to-date view again, nothing changed (what each later frame costs).
    redraw: Duration,
    /// Grouping the panes afresh (what the first frame after an answer adds to `redraw`).
    regroup: Duration,
    /// The last answer's chunk to the view drawn with it, as [`LoopProbe`] saw them; `None`
    /// when no single event could be named the last (see [`LastChunk`]).
    last_chunk: Option<LastChunkTimes>,
}

/// The loop's times from the round's last answering chunk to the first frame drawn after it.
#[derive(Clone, Copy)]
struct LastChunkTimes {
    /// `App::update` for that chunk returned → the draw call returned (wall clock: includes
    /// the frame clock's wait for the burst to pause).
    applied_to_drawn: Duration,
    /// The loop thread's CPU in the same span: loop time proper.
    applied_to_drawn_cpu: Duration,
    /// The chunk taken off the engine's channel → the draw call returned (wall clock).
    received_to_drawn: Duration,
    /// Other session events the loop took in between.
    events_after: usize,
}

/// Where the round's last answering chunk is, found by [`LastChunk`] as events come in.
#[derive(Default)]
struct LastChunkState {
    /// The line of the round the sets below are for.
    line: String,
    /// Panes whose last result is that line, ended.
    answered: HashSet<SessionId>,
    /// The chunk after which every pane had: when it was taken off the channel, when its
    /// update returned, the loop thread's CPU then, and events applied since.
    last: Option<(Instant, Instant, Duration, usize)>,
    /// The first frame drawn after it, as times since it.
    drawn: Option<LastChunkTimes>,
}

/// The probe: after each session event it looks at that event's pane only (one lookup, so
/// the loop's time per event barely grows) and counts the panes that have answered the
/// round's line; the event that makes the count `panes` is the last answering chunk.
struct LastChunk<'a> {
    panes: usize,
    /// The round under way (the script sets it before Enter).
    waiting: &'a RefCell<Option<(String, Instant)>>,
    state: &'a RefCell<LastChunkState>,
}

impl LoopProbe for LastChunk<'_> {
    fn event_applied(&mut self, app: &App, id: SessionId, received: Instant) {
        let applied = Instant::now();
        let waiting = self.waiting.borrow();
        let Some((line, _)) = waiting.as_ref() else {
            return;
        };
        let mut state = self.state.borrow_mut();
        if state.line != *line {
            *state = LastChunkState {
                line: line.clone(),
                ..LastChunkState::default()
            };
        }
        if let Some((_, _, _, after)) = state.last.as_mut() {
            *after += 1;
            return;
        }
        let answered = app
            .pane_last_result(id)
            .is_some_and(|r| r.line == *line && r.status != RunStatus::Running);
        if answered && state.answered.insert(id) && state.answered.len() == self.panes {
            state.last = Some((received, applied, thread_cpu(), 0));
        }
    }

    fn drawn(&mut self, _app: &App) {
        let drawn = Instant::now();
        let cpu = thread_cpu();
        let mut state = self.state.borrow_mut();
        if let (Some((received, applied, applied_cpu, events_after)), None) =
            (state.last, state.drawn)
        {
            state.drawn = Some(LastChunkTimes {
                applied_to_drawn: drawn - applied,
                applied_to_drawn_cpu: cpu.saturating_sub(applied_cpu),
                received_to_drawn: drawn - received,
                events_after,
            });
        }
    }
}

/// This thread's CPU time (user and system): on a loaded machine wall time also counts the
/// waits for a core.
pub(crate) fn thread_cpu() -> Duration {
    let (user, sys, _) = mtssh::sys::usage(libc::RUSAGE_THREAD);
    Duration::from_secs_f64(user + sys)
}

fn differing_mock() -> anyhow::Result<MockThread> {
    MockThread::start(MockOptions {
        port: 0,
        hosts: HOSTS,
        host_key: HostKeySource::Ephemeral(HostKeyType::Ed25519),
        differ: vec![
            "18-19:1".parse().map_err(anyhow::Error::msg)?,
            "20:2:other".parse().map_err(anyhow::Error::msg)?,
        ],
        ..MockOptions::default()
    })
}

/// Whether every pane answered `line` (its last command is `line` and it ended).
fn all_answered(app: &App, line: &str) -> bool {
    app.pane_ids().iter().all(|&id| {
        app.pane_last_result(id)
            .is_some_and(|r| r.line == line && r.status != RunStatus::Running)
    })
}

/// How many panes have which last result (line, status), for a round that timed out.
fn answers_summary(app: &App) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for id in app.pane_ids() {
        let key = app
            .pane_last_result(id)
            .map(|r| format!("{:?} {:?}", r.line, r.status));
        *counts.entry(key).or_insert(0) += 1;
    }
    format!("last results: {counts:?}")
}

/// The average time of drawing the whole screen (the view open) from `app` again.
fn redraw_cost(terminal: &mut Terminal<TestBackend>, app: &App) -> Duration {
    let times = 20;
    let start = Instant::now();
    for _ in 0..times {
        let _ = terminal.draw(|f| mtssh::ui::draw(f, app));
    }
    start.elapsed() / times
}

pub fn results_bench(n: usize, rounds: usize, via: Via) -> anyhow::Result<()> {
    let mock = differing_mock()?;
    mtssh::sys::raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let targets = mock.targets().to_vec();
    let mock_ref = &mock;
    let outcome = runtime.block_on(async move {
        let sessions = (0..n)
            .map(|i| mtssh::ssh::Target {
                name: format!("mock-{i:04}"),
                ..targets[i % targets.len()].clone()
            })
            .collect();
        let mut setup = TuiSetup::new(sessions);
        // Lines to many receivers ask first; the benchmark measures the answers, not that.
        setup.safety.confirm_over = usize::MAX;
        let (input, input_rx) = futures::channel::mpsc::unbounded();
        let seen = tokio::sync::Notify::new();
        let started = Instant::now();
        let ready = RefCell::new(None::<Duration>);
        // The line of the round under way and when Enter went.
        let waiting: RefCell<Option<(String, Instant)>> = RefCell::new(None);
        let done = RefCell::new(Vec::<Round>::new());
        // What the panes' last results were at the last frame, for a round that times out.
        let last_seen = RefCell::new(String::new());
        let title = format!("Results: {n} sessions in {GROUPS} groups");
        let wrong_groups = RefCell::new(None::<String>);
        let terminal = RefCell::new(Terminal::new(TestBackend::new(COLS, ROWS))?);
        // The thread's CPU when the last frame's callback ended: what the loop spent since
        // is its own work (the mock runs on another thread).
        let cpu_mark = RefCell::new(thread_cpu());
        let last_chunk = RefCell::new(LastChunkState::default());
        let mut probe = LastChunk {
            panes: n,
            waiting: &waiting,
            state: &last_chunk,
        };
        let on_frame = |frame: &mtssh::tui::HeadlessFrame, app: &App| {
            let loop_cpu = thread_cpu().saturating_sub(*cpu_mark.borrow());
            if ready.borrow().is_none() {
                let ids = app.pane_ids();
                let up = |id: SessionId| {
                    matches!(app.pane_state(id), Some(SessionState::Ready))
                        && app
                            .pane_text_at_cursor(id, 1)
                            .is_some_and(|t| t.contains(":~$"))
                };
                if ids.len() == n && ids.into_iter().all(up) {
                    *ready.borrow_mut() = Some(started.elapsed());
                    seen.notify_one();
                }
            } else {
                let mut waiting = waiting.borrow_mut();
                if let Some((line, _)) = waiting.as_ref()
                    && !all_answered(app, line)
                {
                    *last_seen.borrow_mut() = answers_summary(app);
                }
                if let Some((line, sent)) = waiting.as_ref()
                    && all_answered(app, line)
                {
                    let wall = sent.elapsed();
                    let screen = frame.lines.join("\n");
                    if !screen.contains(&title) {
                        *wrong_groups.borrow_mut() = screen
                            .lines()
                            .find(|l| l.contains("Results:"))
                            .map(str::to_string);
                    }
                    let redraw = redraw_cost(&mut terminal.borrow_mut(), app);
                    let start = Instant::now();
                    let groups = app.regroup_results().len();
                    let regroup = start.elapsed();
                    if groups != GROUPS {
                        *wrong_groups.borrow_mut() = Some(format!("{groups} groups"));
                    }
                    let state = last_chunk.borrow();
                    let last_chunk = state.drawn.filter(|_| state.line == *line);
                    done.borrow_mut().push(Round {
                        wall,
                        last_frame_cpu: loop_cpu,
                        redraw,
                        regroup,
                        last_chunk,
                    });
                    *waiting = None;
                    seen.notify_one();
                }
            }
            *cpu_mark.borrow_mut() = thread_cpu();
        };
        let event_loop = run_headless_probed(setup, COLS, ROWS, input_rx, on_frame, &mut probe);
        let key = |code, mods| Ok(Event::Key(KeyEvent::new(code, mods)));
        let connections = RefCell::new((0, 0));
        let script = async {
            if tokio::time::timeout(Duration::from_secs(180), seen.notified())
                .await
                .is_err()
            {
                eprintln!("the {n} sessions did not all show a prompt within 180 s");
                input.close_channel();
                return;
            }
            connections.borrow_mut().0 = mock_ref.connections();
            for round in 0..rounds {
                // 20 lines, another first line each round (the mock's `seq` takes one
                // argument).
                let command = format!("echo round-{round}; seq 19");
                let typed = match via {
                    Via::Shell => command.clone(),
                    Via::Exec => format!(":{command}"),
                };
                for c in typed.chars() {
                    let _ = input.unbounded_send(key(KeyCode::Char(c), KeyModifiers::NONE));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                *waiting.borrow_mut() = Some((typed, Instant::now()));
                let _ = input.unbounded_send(key(KeyCode::Enter, KeyModifiers::NONE));
                if via == Via::Shell {
                    // The view is open while the answers come (`:CMD` opens it itself).
                    let _ = input.unbounded_send(key(KeyCode::F(9), KeyModifiers::NONE));
                }
                if tokio::time::timeout(Duration::from_secs(30), seen.notified())
                    .await
                    .is_err()
                {
                    eprintln!(
                        "round {round}: not every session answered within 30 s; {}",
                        last_seen.borrow()
                    );
                    break;
                }
                // Idle frames with the view open (only the lag gauge changes), then the
                // view closes for the next line.
                tokio::time::sleep(Duration::from_millis(300)).await;
                let _ = input.unbounded_send(key(KeyCode::Esc, KeyModifiers::NONE));
            }
            connections.borrow_mut().1 = mock_ref.connections();
            input.close_channel();
        };
        let (result, ()) = tokio::join!(event_loop, script);
        result.map(|()| {
            (
                ready.into_inner(),
                done.into_inner(),
                connections.into_inner(),
                wrong_groups.into_inner(),
            )
        })
    });
    let (ready, rounds_done, (conn_before, conn_after), wrong_groups) = outcome?;
    drop(mock);
    anyhow::ensure!(!rounds_done.is_empty(), "no round completed");
    if let Some(title) = wrong_groups {
        eprintln!("the view did not show {GROUPS} groups when all had answered: {title:?}");
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        (v[v.len() / 2], v[v.len() - 1])
    };
    let (wall, wall_max) = median(rounds_done.iter().map(|r| r.wall).collect());
    let (cpu, cpu_max) = median(rounds_done.iter().map(|r| r.last_frame_cpu).collect());
    let (redraw, redraw_max) = median(rounds_done.iter().map(|r| r.redraw).collect());
    let (regroup, regroup_max) = median(rounds_done.iter().map(|r| r.regroup).collect());
    let chunks: Vec<LastChunkTimes> = rounds_done.iter().filter_map(|r| r.last_chunk).collect();
    if chunks.len() < rounds_done.len() {
        eprintln!(
            "{} of {} rounds had no single event after which every pane had answered",
            rounds_done.len() - chunks.len(),
            rounds_done.len()
        );
    }
    let what = match via {
        Via::Shell => "the shells answer a 20-line command, results view open",
        Via::Exec => "a 20-line `:CMD` on each session's connection",
    };
    println!(
        "{n} sessions, {what}; all prompts after {:.1} s; {} rounds, median (max): Enter to \
         every answer on screen {:.1} ms ({:.1}); loop CPU of that last frame {:.2} ms \
         ({:.2}); redrawing the up-to-date view {:.2} ms ({:.2}); grouping afresh {:.2} ms \
         ({:.2}); mock connections {} before, \
         {} after; peak RSS {} MiB",
        ready.map_or(0.0, |d| d.as_secs_f64()),
        rounds_done.len(),
        ms(wall),
        ms(wall_max),
        ms(cpu),
        ms(cpu_max),
        ms(redraw),
        ms(redraw_max),
        ms(regroup),
        ms(regroup_max),
        conn_before,
        conn_after,
        status_kb("VmHWM") / 1024
    );
    if !chunks.is_empty() {
        let (applied, applied_max) = median(chunks.iter().map(|c| c.applied_to_drawn).collect());
        let (cpu, cpu_max) = median(chunks.iter().map(|c| c.applied_to_drawn_cpu).collect());
        let (received, received_max) = median(chunks.iter().map(|c| c.received_to_drawn).collect());
        let mut after: Vec<usize> = chunks.iter().map(|c| c.events_after).collect();
        after.sort_unstable();
        println!(
            "last answering chunk -> view drawn with it, {} rounds, median (max): update \
             returned -> draw returned {:.3} ms ({:.3}) wall, {:.3} ms ({:.3}) loop CPU; \
             taken off the channel -> draw returned {:.3} ms ({:.3}) wall; other session \
             events in between {} ({})",
            chunks.len(),
            ms(applied),
            ms(applied_max),
            ms(cpu),
            ms(cpu_max),
            ms(received),
            ms(received_max),
            after[after.len() / 2],
            after[after.len() - 1],
        );
    }
    Ok(())
}
