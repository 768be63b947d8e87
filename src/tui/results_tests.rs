//! The results view and select-by-result in the real loop: sessions against the mock over
//! in-memory pipes, some of its hosts differing on purpose (`MockOptions::differ`).

use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use tokio::sync::watch;

use super::{OUTPUT_CREDIT, TuiSetup, run_headless};
use crate::app::App;
use crate::app::select::group_label;
use crate::mock::{HostKeySource, HostKeyType, MockOptions, MockServer};
use crate::ssh::{Engine, EngineSettings, SessionState};

/// The loop's terminal input, as the tests feed it.
pub(super) type KeyInput = UnboundedSender<std::io::Result<Event>>;

pub(super) const DEADLINE: Duration = Duration::from_secs(30);

/// What a frame showed: the screen, each result group (hosts, label), the live targets and
/// how many sessions are ready.
#[derive(Debug, Clone, Default)]
pub(super) struct Seen {
    pub screen: String,
    pub groups: Vec<(String, String, String)>,
    pub targets: usize,
    pub ready: usize,
    /// Panes with a last result of any kind.
    pub answered: usize,
}

fn seen(lines: &[String], app: &App) -> Seen {
    let ready = app
        .pane_ids()
        .into_iter()
        .filter(|&id| matches!(app.pane_state(id), Some(SessionState::Ready)))
        .count();
    Seen {
        screen: lines.join("\n"),
        groups: app
            .result_groups()
            .iter()
            .map(|g| (g.hosts.clone(), group_label(&g.kind), g.output.clone()))
            .collect(),
        targets: app.target_count(),
        ready,
        answered: app
            .pane_ids()
            .into_iter()
            .filter(|&id| app.pane_last_result(id).is_some())
            .count(),
    }
}

pub(super) fn press(input: &KeyInput, code: KeyCode, mods: KeyModifiers) {
    let key = Event::Key(KeyEvent::new(code, mods));
    input.unbounded_send(Ok(key)).expect("the loop is running");
}

pub(super) fn type_line(input: &KeyInput, text: &str) {
    for c in text.chars() {
        press(input, KeyCode::Char(c), KeyModifiers::NONE);
    }
    press(input, KeyCode::Enter, KeyModifiers::NONE);
}

pub(super) async fn differing_mock(hosts: usize, differ: &str, marks: bool) -> MockServer {
    MockServer::start_in_memory(MockOptions {
        host_key: HostKeySource::Ephemeral(HostKeyType::Ed25519),
        hosts,
        differ: vec![differ.parse().expect("a --differ rule")],
        marks,
        record_input: true,
        ..Default::default()
    })
    .await
    .expect("the mock starts")
}

pub(super) fn setup_for(mock: &MockServer) -> TuiSetup {
    let targets = (0..mock.hosts().len())
        .map(|i| mock.practice_target(i, crate::mock::host_name(i)))
        .collect::<Option<Vec<_>>>()
        .expect("every host");
    let (engine, events) = Engine::new(EngineSettings {
        output_credit: Some(OUTPUT_CREDIT),
        dialer: Some(mock.dialer()),
        ..Default::default()
    });
    TuiSetup {
        engine,
        events,
        ..TuiSetup::new(targets)
    }
}

pub(super) async fn wait_for(
    seen: &mut watch::Receiver<Seen>,
    what: &str,
    ok: impl Fn(&Seen) -> bool,
) {
    let outcome = tokio::time::timeout(DEADLINE, seen.wait_for(|s| ok(s)))
        .await
        .map(|r| r.is_ok());
    match outcome {
        Ok(true) => {}
        Ok(false) => panic!("the loop stopped drawing before {what}"),
        Err(_) => panic!("timed out waiting for {what}: {:#?}", *seen.borrow()),
    }
}

pub(super) fn groups(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(h, l, o)| (h.to_string(), l.to_string(), o.to_string()))
        .collect()
}

#[tokio::test]
async fn twenty_sessions_three_differ_select_the_small_group_and_only_it_gets_the_next_line() {
    let mock = differing_mock(20, "18-20:1", true).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "20 ready sessions", |s| s.ready == 20).await;
        type_line(&input, "echo first");
        let two = groups(&[
            ("mock-[01-17]", "✓ exit 0", "first\n"),
            ("mock-[18-20]", "✗ exit 1", "first\ndiffers on purpose\n"),
        ]);
        wait_for(&mut seen, "two groups", |s| s.groups == two).await;
        press(&input, KeyCode::F(9), KeyModifiers::NONE);
        wait_for(&mut seen, "the view", |s| s.screen.contains("in 2 groups")).await;
        press(&input, KeyCode::Down, KeyModifiers::NONE);
        press(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&mut seen, "3 receivers", |s| s.targets == 3).await;
        type_line(&input, "echo second");
        let after = groups(&[
            ("mock-[01-17]", "✓ exit 0", "first\n"),
            ("mock-[18-20]", "✗ exit 1", "second\ndiffers on purpose\n"),
        ]);
        wait_for(&mut seen, "the second answers", |s| s.groups == after).await;
    })
    .await;
    let mut reached: Vec<String> = mock
        .received()
        .into_iter()
        .filter(|r| String::from_utf8_lossy(&r.bytes).contains("echo second"))
        .map(|r| r.host)
        .collect();
    reached.sort();
    assert_eq!(reached, ["mock-18", "mock-19", "mock-20"]);
    mock.stop();
}

/// Runs `script` against the loop on `mock`, each frame summed up in `Seen`.
pub(super) async fn drive<F>(
    mock: &MockServer,
    script: impl FnOnce(UnboundedSender<std::io::Result<Event>>, watch::Receiver<Seen>) -> F,
) where
    F: std::future::Future<Output = ()>,
{
    drive_at(mock, (160, 50), script).await
}

/// [`drive`] on a terminal of `size` (cols, rows).
pub(super) async fn drive_at<F>(
    mock: &MockServer,
    (cols, rows): (u16, u16),
    script: impl FnOnce(UnboundedSender<std::io::Result<Event>>, watch::Receiver<Seen>) -> F,
) where
    F: std::future::Future<Output = ()>,
{
    let (input, input_rx) = unbounded();
    let (seen_tx, seen_rx) = watch::channel(Seen::default());
    let event_loop = run_headless(setup_for(mock), cols, rows, input_rx, |frame, app| {
        seen_tx.send_replace(seen(&frame.lines, app));
    });
    let (result, ()) = tokio::join!(
        async { tokio::time::timeout(DEADLINE, event_loop).await },
        script(input, seen_rx)
    );
    result
        .expect("the loop ends with its input")
        .expect("the loop runs");
}

#[tokio::test]
async fn fuzzy_folding_joins_outputs_that_differ_only_by_host_name() {
    // No host differs on purpose here: `hostname` differs by itself.
    let mock = differing_mock(5, "99", true).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "5 ready sessions", |s| s.ready == 5).await;
        type_line(&input, "hostname");
        wait_for(&mut seen, "five answers", |s| {
            s.groups.len() == 5 && s.groups.iter().all(|g| g.1 == "✓ exit 0")
        })
        .await;
        press(&input, KeyCode::F(9), KeyModifiers::NONE);
        press(&input, KeyCode::Char('f'), KeyModifiers::NONE);
        let one = groups(&[("mock-[01-05]", "✓ exit 0", "mock-01\n")]);
        wait_for(&mut seen, "one fuzzy group", |s| s.groups == one).await;
        wait_for(&mut seen, "the view says so", |s| {
            s.screen.contains("in 1 group")
        })
        .await;
    })
    .await;
    mock.stop();
}

#[tokio::test]
async fn without_marks_the_prompt_ends_the_answer_and_the_status_is_unknown() {
    let mock = differing_mock(3, "3", false).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "3 ready sessions", |s| s.ready == 3).await;
        // The prompt must be on screen before the line goes: it is learned from there.
        wait_for(&mut seen, "the prompts", |s| {
            s.screen.matches("test@mock-0").count() >= 3
        })
        .await;
        type_line(&input, "echo plain");
        let two = groups(&[
            ("mock-[01-02]", "? exit status unknown", "plain\n"),
            (
                "mock-03",
                "? exit status unknown",
                "plain\ndiffers on purpose\n",
            ),
        ]);
        wait_for(&mut seen, "two groups, status unknown", |s| s.groups == two).await;
    })
    .await;
    mock.stop();
}

#[tokio::test]
async fn colon_cmd_runs_on_the_existing_connections_with_each_hosts_status() {
    let mock = differing_mock(5, "2,4:3:odd", true).await;
    let connections = std::cell::Cell::new(0);
    drive(&mock, |input, seen| async {
        let mut seen = seen;
        wait_for(&mut seen, "5 ready sessions", |s| s.ready == 5).await;
        connections.set(mock.connections());
        type_line(&input, ":echo via-exec");
        let expected = groups(&[
            ("mock-[01,03,05]", "✓ exit 0", "via-exec\n"),
            ("mock-[02,04]", "✗ exit 3", "via-exec\nodd\n"),
        ]);
        wait_for(&mut seen, "every :CMD status", |s| s.groups == expected).await;
        // `:CMD` opened the view by itself.
        wait_for(&mut seen, "the results view", |s| {
            s.screen.contains("in 2 groups")
        })
        .await;
        press(&input, KeyCode::Esc, KeyModifiers::NONE);
        // `::` sends a leading colon to the shells.
        type_line(&input, "::colon");
        wait_for(&mut seen, "the shells' answer", |s| {
            s.screen.matches("server received: :colon").count() >= 5
        })
        .await;
        drop(input);
    })
    .await;
    assert_eq!(connections.get(), 5);
    assert_eq!(mock.connections(), 5, "`:CMD` must not open connections");
    mock.stop();
}

#[tokio::test]
async fn colon_cmd_is_cancelled_by_ctrl_c() {
    let mock = differing_mock(2, "99", true).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "2 ready sessions", |s| s.ready == 2).await;
        type_line(&input, ":sleep 30");
        wait_for(&mut seen, "the run", |s| {
            s.groups.first().is_some_and(|g| g.1 == "… still running")
        })
        .await;
        press(&input, KeyCode::Char('c'), KeyModifiers::CONTROL);
        let cancelled = groups(&[("mock-[01-02]", "⊘ cancelled", "")]);
        wait_for(&mut seen, "the cancel", |s| s.groups == cancelled).await;
    })
    .await;
    mock.stop();
}

/// The saved-group flow in the real loop: the small group picked from the results view,
/// saved with Alt-S, the receivers emptied with Alt-N, then Alt-G `@name` picks them again
/// and the next line reaches exactly those hosts.
#[tokio::test]
async fn a_saved_group_named_in_alt_g_gets_the_next_line_and_no_one_else() {
    let mock = differing_mock(8, "3,6-7:1", true).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "8 ready sessions", |s| s.ready == 8).await;
        type_line(&input, "echo first");
        wait_for(&mut seen, "two groups", |s| {
            s.groups.len() == 2 && s.answered == 8
        })
        .await;
        press(&input, KeyCode::F(9), KeyModifiers::NONE);
        press(&input, KeyCode::Down, KeyModifiers::NONE);
        press(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&mut seen, "the 3 differing receivers", |s| s.targets == 3).await;
        press(&input, KeyCode::Char('s'), KeyModifiers::ALT);
        type_line(&input, "odd");
        wait_for(&mut seen, "the save's notice", |s| {
            s.screen.contains("@odd")
        })
        .await;
        press(&input, KeyCode::Char('n'), KeyModifiers::ALT);
        wait_for(&mut seen, "no receivers", |s| s.targets == 0).await;
        press(&input, KeyCode::Char('g'), KeyModifiers::ALT);
        // The prompt starts with the focused pane's name group: replace it.
        press(&input, KeyCode::Home, KeyModifiers::NONE);
        for _ in 0..32 {
            press(&input, KeyCode::Delete, KeyModifiers::NONE);
        }
        type_line(&input, "@odd");
        wait_for(&mut seen, "the saved group's 3 receivers", |s| {
            s.targets == 3
        })
        .await;
        type_line(&input, "echo second");
        wait_for(&mut seen, "the second answers", |s| {
            s.groups
                .iter()
                .any(|g| g.0 == "mock-[03,06-07]" && g.2.starts_with("second"))
        })
        .await;
    })
    .await;
    let mut reached: Vec<String> = mock
        .received()
        .into_iter()
        .filter(|r| String::from_utf8_lossy(&r.bytes).contains("echo second"))
        .map(|r| r.host)
        .collect();
    reached.sort();
    assert_eq!(reached, ["mock-03", "mock-06", "mock-07"]);
    mock.stop();
}
