//! The terminal front end: one `tokio::select!` loop on the current thread over terminal
//! input, session events and the frame clock. The [`App`] lives inside the loop only.

mod runtime;
pub mod terminal;

use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::Receiver;
use tokio::time::Instant;

use crate::app::{App, Effect, Msg};
use crate::mock::MockServer;
use crate::ssh::{Engine, SessionEvent, Target};
use runtime::{Flow, Runtime};
use terminal::Term;

/// At most ~60 frames a second however fast output arrives.
const FRAME: Duration = Duration::from_millis(16);
/// Session events taken per wake-up before drawing gets a chance.
const EVENT_BATCH: usize = 512;

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
}

/// Runs the TUI until the user quits or the process gets SIGTERM/SIGHUP. The terminal is
/// restored on every way out, panics included.
pub async fn run_tui(setup: TuiSetup) -> anyhow::Result<()> {
    let TuiSetup {
        sessions,
        engine,
        mut events,
        mock,
        add_host_template,
    } = setup;
    let (cols, rows) = crossterm::terminal::size()?;
    let mut app = App::new(cols, rows, sessions.len());
    let mut rt = Runtime::new(engine, mock, add_host_template);
    app.update(Msg::Mock(rt.mock_status()));
    for target in sessions {
        // Resizes of earlier panes are moot: their sessions have not connected yet.
        rt.open(&mut app, target);
    }
    let (_guard, mut terminal) = terminal::Guard::new(app.mouse_capture())?;
    event_loop(&mut app, &mut rt, &mut terminal, &mut events).await
}

async fn event_loop(
    app: &mut App,
    rt: &mut Runtime,
    terminal: &mut Term,
    events: &mut Receiver<SessionEvent>,
) -> anyhow::Result<()> {
    let mut input = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut engine_open = true;
    loop {
        let effects = tokio::select! {
            event = input.next() => match event {
                Some(Ok(event)) => terminal_msg(event).map_or_else(Vec::new, |m| app.update(m)),
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            event = events.recv(), if engine_open => match event {
                Some(event) => session_batch(app, rt, event, events),
                None => {
                    engine_open = false;
                    Vec::new()
                }
            },
            _ = tokio::time::sleep_until(last_draw + FRAME), if dirty => {
                terminal.draw(|frame| crate::ui::draw(frame, app))?;
                last_draw = Instant::now();
                dirty = false;
                continue;
            },
            _ = sigterm.recv() => return quit(app, rt).await,
            _ = sighup.recv() => return quit(app, rt).await,
        };
        dirty = true;
        for effect in effects {
            match rt.apply(app, effect).await {
                Flow::Continue => {}
                Flow::Quit => return Ok(()),
                Flow::MouseCapture(on) => terminal::set_mouse_capture(on)?,
                Flow::Suspend => {
                    terminal::suspend(terminal, app.mouse_capture())?;
                    // The terminal may have been resized while we were stopped.
                    let (cols, rows) = crossterm::terminal::size()?;
                    let resizes = app.update(Msg::Resize { cols, rows });
                    for resize in resizes {
                        rt.apply(app, resize).await;
                    }
                }
            }
        }
    }
}

/// Feeds `first` and whatever else is already queued (up to a batch) to the model, so a
/// burst of output costs one frame, not one per chunk.
fn session_batch(
    app: &mut App,
    rt: &mut Runtime,
    first: SessionEvent,
    events: &mut Receiver<SessionEvent>,
) -> Vec<Effect> {
    let mut effects = app.update(rt.event_msg(first));
    for _ in 0..EVENT_BATCH {
        let Ok(event) = events.try_recv() else { break };
        effects.extend(app.update(rt.event_msg(event)));
    }
    effects
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

async fn quit(app: &mut App, rt: &mut Runtime) -> anyhow::Result<()> {
    rt.apply(app, Effect::Quit).await;
    Ok(())
}
