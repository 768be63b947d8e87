//! The terminal front end: one `tokio::select!` loop on the current thread over terminal
//! input, session events and the frame clock. The [`App`] lives inside the loop only.

mod effects;
mod event_watch;
mod frame_clock;
pub mod lag;
pub mod probe;
pub mod record;
pub mod terminal;
mod transfers;
mod woken;

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend, TestBackend};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc::Receiver;
use tokio::time::Instant;

use crate::app::{App, Effect, Msg};
use crate::mock::MockServer;
use crate::ssh::{Engine, SessionEvent, Target};
use effects::{Control, EffectRunner, Finished};
use event_watch::EventWatch;
use frame_clock::FrameClock;
use lag::{LAG_TICK, LagGauge};
use probe::LoopProbe;
use woken::WokenOnly;

/// Session events taken per wake-up before drawing and keys get a chance ...
const EVENT_BATCH: usize = 512;
/// ... or less when parsing them takes this long: a flood's chunks are large, and 512 of
/// them kept the one thread away from the keyboard for a noticeable time.
const BATCH_TIME: Duration = Duration::from_millis(4);

/// Output events one session may have queued for the loop (`EngineSettings::output_credit`):
/// a flooding session stays at most this many chunks ahead of another session's echo.
pub const OUTPUT_CREDIT: usize = 8;

/// Everything the TUI needs to run.
pub struct TuiSetup {
    /// One pane per target, in this order.
    pub sessions: Vec<Target>,
    pub engine: Engine,
    pub events: Receiver<SessionEvent>,
    /// The embedded mock server when it was started for this run (shown in the status bar,
    /// used by F2); F2 starts one otherwise.
    pub mock: Option<MockServer>,
    /// Host-key policy, identity files, user and timeout for hosts added at run time (F6);
    /// `None` disables adding hosts.
    pub add_host_template: Option<Target>,
    /// Resolves hosts added with F6 as the host list's were (ssh_config included); without
    /// it they copy `add_host_template`.
    pub add_host_resolver: Option<crate::config::inventory::HostResolver>,
    /// Where F7 saves scrollback; `None`: F7 says it has nowhere to save.
    pub save_dir: Option<std::path::PathBuf>,
    /// Canary, rolling and confirmation settings of the broadcast line.
    pub safety: crate::app::safe::Safety,
    /// Recordings (`--record`, Alt-V) and logs (`--log`).
    pub record: record::RecordOptions,
    /// How much history the panes keep.
    pub scrollback: crate::app::pane::ScrollbackSetting,
}

impl TuiSetup {
    /// `sessions` on a fresh engine with the TUI's output credit; no mock server, no adding
    /// hosts (F6). For headless runs: the front end sets fan-out, the mock and the template.
    pub fn new(sessions: Vec<Target>) -> TuiSetup {
        let (engine, events) = Engine::new(crate::ssh::EngineSettings {
            output_credit: Some(OUTPUT_CREDIT),
            ..Default::default()
        });
        TuiSetup {
            sessions,
            engine,
            events,
            mock: None,
            add_host_template: None,
            add_host_resolver: None,
            save_dir: None,
            safety: Default::default(),
            record: Default::default(),
            scrollback: Default::default(),
        }
    }
}

/// Runs the TUI until the user quits or the process gets SIGTERM/SIGHUP/SIGINT/SIGQUIT. The terminal is
/// restored on every way out, panics included.
pub async fn run_tui(setup: TuiSetup) -> anyhow::Result<()> {
    let (cols, rows) = crossterm::terminal::size()?;
    let (mut app, mut effects, mut events) = prepare(setup, cols, rows);
    let (_guard, mut terminal) = terminal::Guard::new(app.mouse_capture())?;
    let signals = Signals {
        term: signal(SignalKind::terminate())?,
        hup: signal(SignalKind::hangup())?,
        int: signal(SignalKind::interrupt())?,
        quit: signal(SignalKind::quit())?,
    };
    let io = LoopIo {
        terminal: &mut terminal,
        input: EventStream::new(),
        signals: Some(signals),
        on_frame: &mut |_: &CrosstermBackend<terminal::FrameOut>, _, _| {},
        probe: None,
    };
    event_loop(&mut app, &mut effects, &mut events, io).await
}

/// One drawn screen of the headless loop.
#[derive(Debug, Clone, Default)]
pub struct HeadlessFrame {
    /// The screen's text, one string per row (wide characters take one char).
    pub lines: Vec<String>,
    /// The event-loop lag gauge when the frame was drawn.
    pub lag: Duration,
}

/// The real event loop without a terminal, for tests and benchmarks: terminal events come
/// from `input` (the loop ends when it does, closing every session), frames are drawn on a
/// `cols` x `rows` [`TestBackend`] and each is handed to `on_frame`, with the model (to look
/// into panes that are not on screen). No signal handlers, no terminal modes, no mouse
/// capture or suspend.
pub async fn run_headless(
    setup: TuiSetup,
    cols: u16,
    rows: u16,
    input: impl Stream<Item = std::io::Result<Event>> + Unpin,
    on_frame: impl FnMut(&HeadlessFrame, &App),
) -> anyhow::Result<()> {
    headless(setup, cols, rows, input, on_frame, None).await
}

/// [`run_headless`] with `probe` told when each session event has been given to the model
/// and when each frame's draw returned, for benchmarks that time the loop's own steps.
pub async fn run_headless_probed(
    setup: TuiSetup,
    cols: u16,
    rows: u16,
    input: impl Stream<Item = std::io::Result<Event>> + Unpin,
    on_frame: impl FnMut(&HeadlessFrame, &App),
    probe: &mut dyn LoopProbe,
) -> anyhow::Result<()> {
    headless(setup, cols, rows, input, on_frame, Some(probe)).await
}

async fn headless(
    setup: TuiSetup,
    cols: u16,
    rows: u16,
    input: impl Stream<Item = std::io::Result<Event>> + Unpin,
    mut on_frame: impl FnMut(&HeadlessFrame, &App),
    probe: Option<&mut dyn LoopProbe>,
) -> anyhow::Result<()> {
    let (mut app, mut effects, mut events) = prepare(setup, cols, rows);
    let mut terminal = Terminal::new(TestBackend::new(cols, rows))?;
    let io = LoopIo {
        terminal: &mut terminal,
        input,
        signals: None,
        on_frame: &mut |backend: &TestBackend, app, lag| {
            let frame = HeadlessFrame {
                lines: crate::ui::screen_lines(backend.buffer()),
                lag,
            };
            on_frame(&frame, app)
        },
        // Shortens the probe's object lifetime to the loop's (no coercion inside `Option`).
        probe: probe.map(|probe| probe as &mut dyn LoopProbe),
    };
    let result = event_loop(&mut app, &mut effects, &mut events, io).await;
    effects.shutdown();
    result
}

fn prepare(setup: TuiSetup, cols: u16, rows: u16) -> (App, EffectRunner, Receiver<SessionEvent>) {
    let TuiSetup {
        sessions,
        engine,
        events,
        mock,
        add_host_template,
        add_host_resolver,
        save_dir,
        safety,
        record,
        scrollback,
    } = setup;
    let mut app = App::new(cols, rows, sessions.len());
    app.safety = safety;
    app.scrollback = scrollback;
    app.record = crate::app::record::RecordSettings {
        on_open: record.all,
        input: record.input,
    };
    let mut effects = EffectRunner::new(engine, mock, add_host_template);
    effects.set_record_options(record);
    effects.set_save_dir(save_dir);
    effects.set_host_resolver(add_host_resolver);
    let msgs = [
        Msg::Mock(effects.mock_status()),
        effects.open_panes(sessions),
    ];
    // Opening panes and starting sessions asks nothing of the terminal.
    let _controls = effects.deliver(&mut app, msgs);
    (app, effects, events)
}

/// The signals that stop the TUI cleanly (sessions closed, terminal restored). In raw mode
/// Ctrl-C and Ctrl-\ are keys for the sessions; SIGINT and SIGQUIT come only from outside
/// (`kill`), and their default actions would leave the terminal raw.
struct Signals {
    term: Signal,
    hup: Signal,
    int: Signal,
    quit: Signal,
}

/// What the loop talks to: a real terminal with signals, or a test backend without.
struct LoopIo<'a, B: Backend, S> {
    terminal: &'a mut Terminal<B>,
    input: S,
    /// `None` when headless: no signals and no terminal mode changes.
    signals: Option<Signals>,
    /// Called after each frame with the backend and the lag gauge.
    on_frame: &'a mut dyn FnMut(&B, &App, Duration),
    /// Benchmarks' hook; `None`: nothing is timed.
    probe: Option<&'a mut dyn LoopProbe>,
}

/// Waits for SIGTERM, SIGHUP, SIGINT or SIGQUIT; never returns when headless.
async fn stop_signal(signals: &mut Option<Signals>) {
    match signals {
        Some(s) => {
            tokio::select! {
                _ = s.term.recv() => {}
                _ = s.hup.recv() => {}
                _ = s.int.recv() => {}
                _ = s.quit.recv() => {}
            }
        }
        None => std::future::pending().await,
    }
}

/// What woke the loop.
enum Wake {
    Terminal(Option<std::io::Result<Event>>),
    Session(Option<SessionEvent>),
    Finished(Finished),
    Frame,
    Lag(Instant),
    /// Nothing else was ready, or its turn came: the search scans one slice.
    Search,
    Stop,
}

async fn event_loop<B, S>(
    app: &mut App,
    effects: &mut EffectRunner,
    events: &mut Receiver<SessionEvent>,
    io: LoopIo<'_, B, S>,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let mut clock = FrameClock::new(Instant::now());
    let mut engine_open = true;
    // Both timers live across the loop's turns and are moved, not made anew each turn: a
    // new timer earlier than the runtime's next wake-up costs a system call to re-arm it.
    let lag_tick = tokio::time::sleep_until(Instant::now() + LAG_TICK);
    let frame_timer = tokio::time::sleep_until(Instant::now());
    tokio::pin!(lag_tick, frame_timer);
    // When something other than the lag probe last woke the loop: the probe slows down
    // once nothing has for a while (`lag::next_tick`).
    let mut last_work = Instant::now();
    let mut lag = LagGauge::new(Instant::now());
    let mut watch = EventWatch::default();
    let mut renderer = crate::ui::Renderer::default();
    // Polled on every wake-up by the select below; it reaches the terminal's stream only
    // when that stream woke the loop (see `woken`).
    let mut io = LoopIo {
        terminal: io.terminal,
        input: WokenOnly::new(io.input),
        signals: io.signals,
        on_frame: io.on_frame,
        probe: io.probe,
    };
    loop {
        let frame_due = clock.next_deadline(progress_pays(app));
        if let Some(due) = frame_due
            && frame_timer.deadline() != due
        {
            frame_timer.as_mut().reset(due);
        }
        let wake = tokio::select! {
            event = io.input.next() => Wake::Terminal(event),
            event = events.recv(), if engine_open => Wake::Session(event),
            finished = effects.finished() => Wake::Finished(finished),
            () = &mut frame_timer, if frame_due.is_some() => Wake::Frame,
            () = &mut lag_tick => Wake::Lag(lag_tick.deadline()),
            _ = std::future::ready(()), if app.search_pending() => Wake::Search,
            _ = stop_signal(&mut io.signals) => Wake::Stop,
        };
        // Work comes from outside (keys, sessions, finished jobs, a search); a frame only
        // shows a change, and one the lag probe itself made (its figure moved under load)
        // must not keep the probe at its busy pace.
        if !matches!(wake, Wake::Lag(_) | Wake::Frame) {
            last_work = Instant::now();
            // Back from a quiet spell: the probe ticks at its busy pace again at once.
            if lag_tick.deadline() > last_work + LAG_TICK {
                lag_tick.as_mut().reset(last_work + LAG_TICK);
            }
        }
        let todo = match wake {
            Wake::Terminal(Some(Ok(event))) => {
                let todo = terminal_msg(event).map_or_else(Vec::new, |m| app.update(m));
                let now = Instant::now();
                if only_remote_input(app, &todo) {
                    clock.echo_sent(now);
                } else {
                    clock.changed(now);
                }
                if app.await_replies(&todo) {
                    clock.hold_for_replies(now);
                }
                todo
            }
            Wake::Terminal(Some(Err(e))) => return Err(e.into()),
            Wake::Terminal(None) => return Ok(()),
            Wake::Session(Some(event)) => {
                let todo = session_batch(app, effects, event, events, io.probe.as_deref_mut());
                clock.changed(Instant::now());
                // Let the runtime poll its timers and sockets before the next batch: within
                // one poll of this task the frame clock, the lag probe and the sessions' own
                // IO would otherwise wait while a flood keeps the channel full.
                tokio::task::yield_now().await;
                todo
            }
            Wake::Session(None) => {
                engine_open = false;
                clock.changed(Instant::now());
                Vec::new()
            }
            Wake::Finished(finished) => {
                clock.changed(Instant::now());
                let msgs = effects.on_finished(finished);
                msgs.into_iter().flat_map(|m| app.update(m)).collect()
            }
            Wake::Frame => Vec::new(),
            Wake::Search => {
                let todo = app.update(Msg::SearchSlice);
                clock.changed(Instant::now());
                // Slices back to back would keep the runtime from its timers and sockets:
                // between two of them everything else that is ready gets its turn.
                tokio::task::yield_now().await;
                todo
            }
            Wake::Lag(due) => {
                lag.record(due, Instant::now());
                let now = lag.value();
                // The panes' pending-input markers ride on the same tick: only sessions
                // with input under way are looked at.
                let mut msgs = effects.input_progress();
                // Redraw only when the shown figure (whole milliseconds) changes.
                if app.lag().map(|l| l.as_millis()) != Some(now.as_millis()) {
                    msgs.push(Msg::Lag(now));
                }
                msgs.extend(watch.follow(app.event_view_open(), Instant::now()));
                if !msgs.is_empty() {
                    clock.changed(Instant::now());
                }
                let mut todo: Vec<Effect> = msgs.into_iter().flat_map(|m| app.update(m)).collect();
                // Panes hiding output or waiting to reconnect need the clock; a tick is drawn
                // only when it let held output through, started a try or moved a countdown,
                // not 100 times a second while the panes wait.
                if app.needs_clock() {
                    let before = (app.panes_hiding(), app.retry_countdown());
                    let ticked = app.update(Msg::Tick(Instant::now().into_std()));
                    if (app.panes_hiding(), app.retry_countdown()) != before || !ticked.is_empty() {
                        clock.changed(Instant::now());
                    }
                    todo.extend(ticked);
                }
                let quiet = lag::quiet(
                    Instant::now().saturating_duration_since(last_work),
                    app.needs_clock() || effects.input_under_way() || app.event_view_open(),
                );
                lag_tick
                    .as_mut()
                    .reset(lag::next_tick(due, Instant::now(), quiet));
                todo
            }
            Wake::Stop => {
                effects.shutdown();
                return Ok(());
            }
        };
        if carry_out(app, effects, &mut io, &mut renderer, todo)?.is_break() {
            return Ok(());
        }
        if clock.holding() && !app.replies_pending() {
            clock.replies_in();
        }
        if clock.should_draw(Instant::now(), progress_pays(app)) {
            renderer.draw(io.terminal, app)?;
            clock.drawn(Instant::now());
            // Past the hold, what is still awaited (a host that does not answer) holds no
            // later frame; a frame drawn while replies come keeps waiting for the rest.
            if !clock.holding() {
                app.forget_replies();
            }
            if let Some(probe) = io.probe.as_deref_mut() {
                probe.drawn(app);
            }
            (io.on_frame)(io.terminal.backend(), app, lag.value());
        }
    }
}

/// Whether frames showing a broadcast's replies while more are awaited are worth drawing:
/// on the pane grid, a frame is drawn over the last and redraws only the panes that answered
/// (`ui::Renderer`), so each costs what they cost and leaves the last frame little to do; the overview (hundreds of sessions)
/// redraws every cell each frame (~1 ms for 1000), so there they would only delay the last.
fn progress_pays(app: &App) -> bool {
    !app.overview_shown()
}

/// Carries out the model's effects and does what they ask of the terminal; breaks on quit.
fn carry_out<B, S>(
    app: &mut App,
    effects: &mut EffectRunner,
    io: &mut LoopIo<'_, B, S>,
    renderer: &mut crate::ui::Renderer,
    todo: Vec<Effect>,
) -> anyhow::Result<ControlFlow<()>>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    let interactive = io.signals.is_some();
    let mut controls = VecDeque::from(effects.run(app, todo));
    while let Some(control) = controls.pop_front() {
        match control {
            Control::Continue => {}
            Control::Quit => return Ok(ControlFlow::Break(())),
            Control::MouseCapture(on) if interactive => terminal::set_mouse_capture(on)?,
            Control::Suspend if interactive => {
                terminal::suspend(app.mouse_capture())?;
                renderer.clear(io.terminal)?;
                // The terminal may have been resized while we were stopped.
                let (cols, rows) = crossterm::terminal::size()?;
                controls.extend(effects.deliver(app, [Msg::Resize { cols, rows }]));
            }
            Control::MouseCapture(_) | Control::Suspend => {}
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// Whether the model's answer to a terminal event was only to send bytes to sessions in a
/// mode where keys go to the remote side, so the screen has nothing new until the echo.
fn only_remote_input(app: &App, effects: &[Effect]) -> bool {
    use crate::app::InputMode;
    matches!(app.mode(), InputMode::Focus | InputMode::Keystroke)
        && !effects.is_empty()
        && effects.iter().all(|e| matches!(e, Effect::Send { .. }))
}

/// Feeds `first` and whatever else is already queued (up to a batch) to the model, so a
/// burst of output costs one frame, not one per chunk.
fn session_batch(
    app: &mut App,
    effects: &mut EffectRunner,
    first: SessionEvent,
    events: &mut Receiver<SessionEvent>,
    mut probe: Option<&mut (dyn LoopProbe + '_)>,
) -> Vec<Effect> {
    let started = std::time::Instant::now();
    let mut todo = apply_event(app, effects, first, probe.as_deref_mut());
    for _ in 0..EVENT_BATCH {
        if started.elapsed() >= BATCH_TIME {
            break;
        }
        let Ok(event) = events.try_recv() else { break };
        todo.extend(apply_event(app, effects, event, probe.as_deref_mut()));
    }
    todo
}

/// Gives one session event, just taken off the channel, to the model (and tells `probe`).
fn apply_event(
    app: &mut App,
    effects: &mut EffectRunner,
    event: SessionEvent,
    probe: Option<&mut (dyn LoopProbe + '_)>,
) -> Vec<Effect> {
    let Some(probe) = probe else {
        return app.update(effects.event_msg(event));
    };
    let received = std::time::Instant::now();
    let id = event.session_id();
    let todo = app.update(effects.event_msg(event));
    probe.event_applied(app, id, received);
    todo
}

fn terminal_msg(event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) => Some(Msg::Key(key)),
        Event::Mouse(mouse) => Some(Msg::Mouse(mouse)),
        Event::Paste(text) => Some(Msg::Paste(text)),
        Event::Resize(cols, rows) => Some(Msg::Resize { cols, rows }),
        Event::FocusGained | Event::FocusLost => None,
    }
}

#[cfg(test)]
mod duplex_tests;
#[cfg(test)]
mod overview_tests;
#[cfg(test)]
mod results_tests;
#[cfg(test)]
mod safe_tests;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
mod transfer_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::{SessionId, SessionState};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn press(app: &mut App, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
        app.update(Msg::Key(KeyEvent::new(code, mods)))
    }

    #[test]
    fn only_keys_bound_for_the_remote_skip_their_own_frame() {
        let mut app = App::new(120, 40, 2);
        for i in 0..2 {
            app.add_pane(format!("h{i}"));
            let _ = app.update(Msg::State {
                id: i,
                state: SessionState::Ready,
            });
        }
        // The broadcast line is edited locally: every key is drawn.
        let typed = press(&mut app, KeyCode::Char('a'), KeyModifiers::NONE);
        assert!(!only_remote_input(&app, &typed));
        let sent = press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(!sent.is_empty() && !only_remote_input(&app, &sent));
        // Focus mode: entering it is drawn, the keys then wait for their echo.
        let enter = press(&mut app, KeyCode::Char(']'), KeyModifiers::CONTROL);
        assert!(!only_remote_input(&app, &enter));
        let key = press(&mut app, KeyCode::Char('x'), KeyModifiers::NONE);
        assert!(matches!(key.as_slice(), [Effect::Send { .. }]));
        assert!(only_remote_input(&app, &key));
    }

    /// What a probe was told: each event's pane, and whether its chunk was in the model then.
    struct SeenEvents(Vec<(SessionId, bool)>);

    impl LoopProbe for SeenEvents {
        fn event_applied(&mut self, app: &App, id: SessionId, received: std::time::Instant) {
            assert!(received <= std::time::Instant::now());
            let chunk = format!("chunk-{id}");
            let in_model = app.pane_screen_text(id).is_some_and(|t| t.contains(&chunk));
            self.0.push((id, in_model));
        }
    }

    #[tokio::test]
    async fn a_probe_hears_of_each_session_event_after_the_model_took_it_in() {
        let mut app = App::new(120, 40, 3);
        for i in 0..3 {
            let (id, _) = app.add_pane(format!("h{i}"));
            let _ = app.update(Msg::State {
                id,
                state: SessionState::Ready,
            });
        }
        let (engine, _events) = crate::ssh::Engine::new(Default::default());
        let mut effects = EffectRunner::new(engine, None, None);
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        for id in [2, 0] {
            let data = format!("chunk-{id}\r\n").into_bytes();
            tx.try_send(SessionEvent::Output { id, data }).unwrap();
        }
        let first = rx.try_recv().unwrap();
        let mut seen = SeenEvents(Vec::new());
        let _ = session_batch(&mut app, &mut effects, first, &mut rx, Some(&mut seen));
        assert_eq!(seen.0, [(2, true), (0, true)]);
    }
}
