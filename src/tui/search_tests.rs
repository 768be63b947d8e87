//! The search across the panes in the real loop: 50 sessions on the mock over in-memory
//! pipes, three of which print a token (`MockOptions::differ`); the loop runs the scan's
//! slices between its other work.

use crossterm::event::{Event, KeyCode, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use tokio::sync::watch;

use super::results_tests::{DEADLINE, KeyInput, differing_mock, press, setup_for, type_line};
use super::run_headless;
use crate::app::App;
use crate::mock::MockServer;
use crate::ssh::SessionState;

const TOKEN: &str = "zebra-token";
/// The three hosts (1-based, as in `mock-07`) that print it after each command.
const WITH_TOKEN: &str = "7,23,41";
const NAMES: [&str; 3] = ["mock-07", "mock-23", "mock-41"];

#[derive(Debug, Clone, Default)]
struct Seen {
    ready: usize,
    targets: Vec<String>,
    /// The pane of each match, in order.
    matches: Vec<String>,
    pending: bool,
    open: bool,
    /// The current match's pane, whether it is the focused, zoomed pane, and the text of
    /// the view row the match shows on (`None`: not in view).
    current: Option<String>,
    zoomed_on_current: bool,
    shown_row: Option<String>,
    /// Every match names a kept line whose context has the token.
    consistent: bool,
    /// Panes whose screen shows what `echo after` printed (after `seq`'s flood).
    seq_done: usize,
    prompt: String,
    /// For a failure's message: the panes whose kept lines have the token but no match,
    /// with their span and the token's lines.
    missed: Vec<String>,
}

fn seen(lines: &[String], app: &App) -> Seen {
    let names = |ids: &mut dyn Iterator<Item = usize>| -> Vec<String> {
        ids.map(|id| app.pane_name(id).unwrap_or("?").to_string())
            .collect()
    };
    let ready = app
        .pane_ids()
        .into_iter()
        .filter(|&id| matches!(app.pane_state(id), Some(SessionState::Ready)))
        .count();
    let mut seen = Seen {
        ready,
        targets: names(&mut app.targets().into_iter()),
        prompt: lines.last().cloned().unwrap_or_default(),
        seq_done: app
            .pane_ids()
            .into_iter()
            .filter(|&id| {
                app.pane_screen_text(id)
                    .is_some_and(|t| t.contains("\nafter\n"))
            })
            .count(),
        ..Default::default()
    };
    let Some(search) = app.search() else {
        return seen;
    };
    seen.open = true;
    for name in NAMES {
        let Some(pane) = app.panes.iter().find(|p| p.name == name) else {
            continue;
        };
        let text = pane.scrollback_text();
        let has = search.matches.keys().any(|(id, _)| *id == pane.id);
        if !has {
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            seen.missed.push(format!("{name} ends {tail:?}"));
        }
        if text.contains(TOKEN) && !has {
            let at: Vec<usize> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| l.contains(TOKEN))
                .map(|(i, _)| i)
                .collect();
            seen.missed.push(format!(
                "{name}: span {:?}, token at rows {at:?} of {}, pty {:?}, screen {:?}",
                pane.line_span(),
                text.lines().count(),
                pane.pty_size(),
                pane.screen().size()
            ));
        }
    }
    seen.pending = search.pending();
    seen.matches = names(&mut search.matches.keys().map(|(id, _)| *id));
    seen.consistent = search.matches.iter().all(|((id, n), m)| {
        app.pane(*id)
            .is_some_and(|p| p.line_span().contains(n) && m.context.contains(TOKEN))
    });
    if let Some((id, line)) = search.current {
        let pane = app.pane(id).expect("the current match's pane");
        seen.current = Some(pane.name.clone());
        seen.zoomed_on_current = app.zoom && app.focused().map(|p| p.id) == Some(id);
        let start = search.matches[&(id, line)].start;
        seen.shown_row = pane
            .view_cell_of(line, start)
            .and_then(|(row, _)| pane.view_row_text(row));
    }
    seen
}

async fn wait_for(seen: &mut watch::Receiver<Seen>, what: &str, ok: impl Fn(&Seen) -> bool) {
    let outcome = tokio::time::timeout(DEADLINE, seen.wait_for(|s| ok(s)))
        .await
        .map(|r| r.is_ok());
    match outcome {
        Ok(true) => {}
        Ok(false) => panic!("the loop stopped drawing before {what}"),
        Err(_) => panic!("timed out waiting for {what}: {:#?}", *seen.borrow()),
    }
}

async fn drive<F>(mock: &MockServer, script: impl FnOnce(KeyInput, watch::Receiver<Seen>) -> F)
where
    F: std::future::Future<Output = ()>,
{
    let (input, input_rx): (UnboundedSender<std::io::Result<Event>>, _) = unbounded();
    let (seen_tx, seen_rx) = watch::channel(Seen::default());
    // 1000 lines of history a pane, so a 2000-line flood scrolls the first lines out.
    let setup = crate::tui::TuiSetup {
        scrollback: crate::app::pane::ScrollbackSetting {
            lines: 1000,
            ..Default::default()
        },
        ..setup_for(mock)
    };
    let event_loop = run_headless(setup, 160, 50, input_rx, |frame, app| {
        seen_tx.send_replace(seen(&frame.lines, app));
    });
    let (result, ()) = tokio::join!(
        async { tokio::time::timeout(DEADLINE * 2, event_loop).await },
        script(input, seen_rx)
    );
    result
        .expect("the loop ends with its input")
        .expect("the loop runs");
}

fn type_text(input: &KeyInput, text: &str) {
    for c in text.chars() {
        press(input, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn the_three(s: &Seen) -> bool {
    !s.pending && s.matches == NAMES && s.consistent
}

#[tokio::test]
async fn a_token_printed_by_3_of_50_sessions_is_found_jumped_to_and_selected() {
    let mock = differing_mock(50, &format!("{WITH_TOKEN}:0:{TOKEN}"), false).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "50 ready sessions", |s| s.ready == 50).await;
        type_line(&input, "echo hello");
        press(&input, KeyCode::Char('f'), KeyModifiers::CONTROL);
        type_text(&input, "zebra");
        wait_for(&mut seen, "the three panes' matches", the_three).await;
        wait_for(&mut seen, "the count in the prompt", |s| {
            s.prompt.contains("find» zebra  3 matches in 3 panes")
        })
        .await;
        press(&input, KeyCode::Enter, KeyModifiers::NONE);
        for name in NAMES {
            wait_for(
                &mut seen,
                &format!("{name} zoomed, the match in view"),
                |s| {
                    s.current.as_deref() == Some(name)
                        && s.zoomed_on_current
                        && s.shown_row.as_deref().is_some_and(|r| r.contains(TOKEN))
                },
            )
            .await;
            press(&input, KeyCode::Char('n'), KeyModifiers::NONE);
        }
        // Around to the first, and N back to the last.
        wait_for(&mut seen, "back at the first", |s| {
            s.current.as_deref() == Some(NAMES[0])
        })
        .await;
        press(&input, KeyCode::Char('N'), KeyModifiers::NONE);
        wait_for(&mut seen, "the last", |s| {
            s.current.as_deref() == Some(NAMES[2])
        })
        .await;
        press(&input, KeyCode::Char('r'), KeyModifiers::NONE);
        wait_for(&mut seen, "exactly the three as receivers", |s| {
            !s.open && s.targets == NAMES
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn regex_search_in_the_loop() {
    let mock = differing_mock(50, &format!("{WITH_TOKEN}:0:{TOKEN}"), false).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "50 ready sessions", |s| s.ready == 50).await;
        type_line(&input, "echo hello");
        press(&input, KeyCode::Char('/'), KeyModifiers::NONE);
        press(&input, KeyCode::Char('r'), KeyModifiers::CONTROL);
        // As plain text this finds nothing; as a regex, the token.
        type_text(&input, "ze[b]+ra-t.ken$");
        wait_for(&mut seen, "the three by regex", the_three).await;
        wait_for(&mut seen, "the regex prompt", |s| {
            s.prompt.starts_with("regex» ze[b]+ra")
        })
        .await;
        press(&input, KeyCode::Char('r'), KeyModifiers::CONTROL);
        wait_for(&mut seen, "nothing as plain text", |s| {
            !s.pending && s.open && s.matches.is_empty()
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn a_search_while_output_arrives_finds_the_new_lines_and_drops_the_lost_ones() {
    let mock = differing_mock(50, &format!("{WITH_TOKEN}:0:{TOKEN}"), false).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "50 ready sessions", |s| s.ready == 50).await;
        type_line(&input, "echo first");
        // The search starts while 50 sessions print 2000 lines each (the history keeps 1000); the token comes
        // again after the flood, and the first one scrolls out of the history.
        type_line(&input, "seq 2000");
        // Typed ahead: runs once the flood is over (`seq` itself prints no token).
        type_line(&input, "echo after");
        press(&input, KeyCode::Char('f'), KeyModifiers::CONTROL);
        type_text(&input, TOKEN);
        wait_for(&mut seen, "the search open during the flood", |s| s.open).await;
        wait_for(&mut seen, "the flood over", |s| s.seq_done == 50).await;
        wait_for(&mut seen, "only the token after the flood", the_three).await;
        press(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&mut seen, "the first match in view", |s| {
            s.current.as_deref() == Some(NAMES[0])
                && s.shown_row.as_deref().is_some_and(|r| r.contains(TOKEN))
        })
        .await;
    })
    .await;
}
