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
