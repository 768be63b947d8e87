//! The headless TUI loop driving real sessions against the mock over in-memory pipes
//! (`MockServer::dialer`): no TCP port, no terminal.

use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use tokio::sync::watch;

use super::{OUTPUT_CREDIT, TuiSetup, run_headless};
use crate::mock::{HostKeySource, HostKeyType, MockOptions, MockServer};
use crate::ssh::{Engine, EngineSettings};

const DEADLINE: Duration = Duration::from_secs(20);

fn type_line(input: &UnboundedSender<std::io::Result<Event>>, text: &str) {
    let codes = text.chars().map(KeyCode::Char).chain([KeyCode::Enter]);
    for code in codes {
        let key = Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
        input.unbounded_send(Ok(key)).expect("the loop is running");
    }
}

#[tokio::test]
async fn a_typed_line_comes_back_in_the_pane() {
    let mock = MockServer::start_in_memory(MockOptions {
        host_key: HostKeySource::Ephemeral(HostKeyType::Ed25519),
        ..Default::default()
    })
    .await
    .expect("the mock starts");
    let target = mock
        .practice_target(0, crate::mock::host_name(0))
        .expect("host 0");
    let (engine, events) = Engine::new(EngineSettings {
        output_credit: Some(OUTPUT_CREDIT),
        dialer: Some(mock.dialer()),
        ..Default::default()
    });
    let setup = TuiSetup {
        engine,
        events,
        ..TuiSetup::new(vec![target])
    };
    let (input, input_rx) = unbounded();
    let (screen_tx, mut screen) = watch::channel(String::new());
    let event_loop = run_headless(setup, 120, 30, input_rx, |frame, _| {
        screen_tx.send_replace(frame.lines.join("\n"));
    });
    let script = async {
        let mut wait = async |what: &str, needle: &str| {
            let seen = tokio::time::timeout(DEADLINE, screen.wait_for(|s| s.contains(needle)))
                .await
                .map(|drawn| drawn.is_ok());
            match seen {
                Ok(true) => {}
                Ok(false) => panic!("the loop stopped drawing before {what}"),
                Err(_) => panic!("timed out waiting for {what}: {}", *screen.borrow()),
            }
        };
        wait("the prompt", "test@mock-01:~$").await;
        type_line(&input, "ping-tui");
        wait("the echo", "server received: ping-tui").await;
        drop(input);
    };
    let (result, ()) = tokio::join!(
        async { tokio::time::timeout(DEADLINE, event_loop).await },
        script
    );
    result
        .expect("the loop ends with its input")
        .expect("the loop runs");
    mock.stop();
}

/// Per frame, each pane's PTY size and whole text (scrollback and screen).
type Panes = Vec<((u16, u16), String)>;

fn snapshot(app: &crate::app::App) -> Panes {
    app.pane_ids()
        .into_iter()
        .map(|id| {
            let size = app.pty_size(id).unwrap_or_default();
            (size, app.scrollback_text(id).unwrap_or_default())
        })
        .collect()
}

/// Whether `wanted` occur in `text` as whole lines, in this order.
fn lines_in_order(text: &str, wanted: &[String]) -> bool {
    let mut lines = text.lines();
    wanted.iter().all(|w| lines.any(|l| l.trim_end() == w))
}

#[tokio::test]
async fn zoom_unzoom_and_resizes_keep_every_line_of_every_pane() {
    let mock = MockServer::start_in_memory(MockOptions {
        host_key: HostKeySource::Ephemeral(HostKeyType::Ed25519),
        hosts: 2,
        ..Default::default()
    })
    .await
    .expect("the mock starts");
    let targets = (0..2)
        .map(|i| mock.practice_target(i, crate::mock::host_name(i)))
        .collect::<Option<Vec<_>>>()
        .expect("two hosts");
    let (engine, events) = Engine::new(EngineSettings {
        output_credit: Some(OUTPUT_CREDIT),
        dialer: Some(mock.dialer()),
        ..Default::default()
    });
    let setup = TuiSetup {
        engine,
        events,
        ..TuiSetup::new(targets)
    };
    let (input, input_rx) = unbounded();
    let (panes_tx, mut panes) = watch::channel(Panes::new());
    let event_loop = run_headless(setup, 80, 40, input_rx, |_, app| {
        panes_tx.send_replace(snapshot(app));
    });
    let send = |event: Event| {
        input
            .unbounded_send(Ok(event))
            .expect("the loop is running")
    };
    let alt_m = || {
        send(Event::Key(KeyEvent::new(
            KeyCode::Char('m'),
            KeyModifiers::ALT,
        )))
    };
    let script = async {
        let mut wait = async |what: &str, ok: &dyn Fn(&Panes) -> bool| -> Panes {
            let seen = tokio::time::timeout(DEADLINE, panes.wait_for(|p| p.len() == 2 && ok(p)))
                .await
                .map(|p| p.map(|p| p.clone()));
            match seen {
                Ok(Ok(p)) => p,
                Ok(Err(_)) => panic!("the loop stopped drawing before {what}"),
                Err(_) => panic!("timed out waiting for {what}: {:#?}", *panes.borrow()),
            }
        };
        let prompt = |i: usize| format!("test@mock-0{}:~$", i + 1);
        let settled = |p: &Panes| (0..2).all(|i| p[i].1.trim_end().ends_with(&prompt(i)));
        wait("the prompts", &settled).await;
        type_line(&input, "seq 40");
        let numbers: Vec<String> = (1..=40).map(|n| n.to_string()).collect();
        let seq_done = |p: &Panes| settled(p) && (0..2).all(|i| lines_in_order(&p[i].1, &numbers));
        let start = wait("seq in both panes", &seq_done).await;
        let small = start[0].0;

        // The panes are stacked: zooming the focused one makes it taller and wider. Print
        // its size there (as `stty size` would), then unzoom: it gets shorter again.
        alt_m();
        let zoomed = wait("the zoom", &|p| p[0].0 != small).await[0].0;
        type_line(&input, "size");
        let sizes = [
            format!("{}x{}", zoomed.0, zoomed.1),
            format!("{}x{}", start[1].0.0, start[1].0.1),
        ];
        let printed =
            |p: &Panes| settled(p) && (0..2).all(|i| lines_in_order(&p[i].1, &[sizes[i].clone()]));
        wait("the sizes", &printed).await;
        alt_m();
        let unzoomed = wait("the unzoom", &|p| p[0].0 == small && printed(p)).await;
        for (i, (_, text)) in unzoomed.iter().enumerate() {
            let mut all = numbers.clone();
            all.extend([prompt(i) + " size", sizes[i].clone(), prompt(i)]);
            assert!(lines_in_order(text, &all), "pane {i} lost lines: {text}");
        }

        // The terminal shrinks until each pane is 20x5 inside, then grows back.
        send(Event::Resize(44, 9));
        let shrunk = wait("20x5 panes", &|p| p.iter().all(|(s, _)| *s == (20, 5))).await;
        send(Event::Resize(80, 40));
        let grown = wait("the old sizes", &|p| p[0].0 == small).await;
        for i in 0..2 {
            let (before, small_text, after) = (&unzoomed[i].1, &shrunk[i].1, &grown[i].1);
            // At 20 columns the prompt lines wrap (and the text of each row is trimmed):
            // without the breaks and blanks the characters are the same.
            let chars = |t: &str| t.split_whitespace().collect::<String>();
            assert_eq!(chars(small_text), chars(before), "pane {i}");
            assert_eq!(after, before, "pane {i} after growing back");
        }
        // The loop ends with its input.
        input.close_channel();
    };
    let (result, ()) = tokio::join!(
        async { tokio::time::timeout(DEADLINE, event_loop).await },
        script
    );
    result
        .expect("the loop ends with its input")
        .expect("the loop runs");
    mock.stop();
}
