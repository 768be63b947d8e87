//! The TUI's real event loop, headless (`mtssh::tui::run_headless`): a flood of output in one
//! session must not hold back keystrokes to another, and the loop's lag gauge reports.

use std::cell::RefCell;
use std::io;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use mtssh::mock::{MockOptions, MockThread};
use mtssh::ssh::Target;
use mtssh::tui::{HeadlessFrame, TuiSetup, run_headless};

use crate::support::{self, wait_for};
use crate::tui_e2e::{has_line, mentions, pane_contents};

/// A mock server on a thread (and runtime) of its own, so that the loop under test is the
/// only thing on the test's thread. Stops when dropped.
fn threaded_mock(hosts: usize) -> MockThread {
    MockThread::start(support::mock_options(MockOptions {
        hosts,
        ..Default::default()
    }))
    .expect("mock server starts")
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(code, modifiers)))
}

fn send_key(input: &UnboundedSender<io::Result<Event>>, code: KeyCode, mods: KeyModifiers) {
    input.unbounded_send(key(code, mods)).unwrap();
}

pub(crate) fn type_text(input: &UnboundedSender<io::Result<Event>>, text: &str) {
    for c in text.chars() {
        send_key(input, KeyCode::Char(c), KeyModifiers::NONE);
    }
    send_key(input, KeyCode::Enter, KeyModifiers::NONE);
}

/// The largest number shown as a line of its own in `pane`: how far `seq` has got there.
fn seq_progress(lines: &[String]) -> u64 {
    lines
        .iter()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn keystrokes_reach_a_quiet_session_while_another_floods() {
    let _heavy = support::heavy().await;
    let mock = threaded_mock(2);
    let setup = TuiSetup::new(mock.targets().to_vec());
    let (input, input_rx) = unbounded();
    let latest = RefCell::new(HeadlessFrame::default());
    let frames = RefCell::new(0usize);
    // Frames drawn over the last one (most of a flood's) against the screen drawn afresh.
    let unlike_afresh = RefCell::new(Vec::new());
    let event_loop = run_headless(setup, 160, 40, input_rx, |frame, app| {
        *latest.borrow_mut() = frame.clone();
        *frames.borrow_mut() += 1;
        let fresh = support::drawn_afresh(app, 160, 40);
        if fresh != frame.lines {
            unlike_afresh
                .borrow_mut()
                .push((*frames.borrow(), frame.lines.clone(), fresh));
        }
    });
    let screen = || latest.borrow().lines.join("\n");

    let script = async {
        wait_for("both prompts", Duration::from_secs(20), async || {
            let panes = pane_contents(&screen());
            (mentions(&panes, "mock-01", "test@mock-01:~$")
                && mentions(&panes, "mock-02", "test@mock-02:~$"))
            .then_some(())
        })
        .await;
        // Take mock-02 out of the broadcast, then flood mock-01.
        send_key(&input, KeyCode::Tab, KeyModifiers::NONE);
        send_key(&input, KeyCode::Char('t'), KeyModifiers::ALT);
        type_text(&input, "seq 1000000");
        wait_for("the flood to start", Duration::from_secs(20), async || {
            let panes = pane_contents(&screen());
            (seq_progress(&panes["mock-01"]) > 1000).then_some(())
        })
        .await;

        // Focus mode on mock-02: a line typed there comes back while mock-01 still floods.
        send_key(&input, KeyCode::Char(']'), KeyModifiers::CONTROL);
        let sent = Instant::now();
        type_text(&input, "ping-during-flood");
        let (elapsed, progress) = wait_for(
            "the echo from mock-02",
            Duration::from_secs(30),
            async || {
                let panes = pane_contents(&screen());
                has_line(&panes, "mock-02", "server received: ping-during-flood")
                    .then(|| (sent.elapsed(), seq_progress(&panes["mock-01"])))
            },
        )
        .await;
        let still_flooding = async || {
            let panes = pane_contents(&screen());
            let now = seq_progress(&panes["mock-01"]);
            (now > progress && now < 1_000_000).then_some(now)
        };
        let later = wait_for("more flood output", Duration::from_secs(10), still_flooding).await;
        eprintln!(
            "echo from the quiet session after {elapsed:?} (mock-01 at line {progress}, \
             then {later}); {} frames; lag gauge {:?}",
            frames.borrow(),
            latest.borrow().lag
        );
        assert!(
            elapsed < Duration::from_secs(5),
            "keystroke echo took {elapsed:?} behind the flood"
        );
        assert!(
            progress < 1_000_000,
            "the flood ended before the echo came back"
        );

        // The gauge is on the status bar and has measured something by now.
        let status = screen()
            .lines()
            .find(|l| l.contains("F1 help"))
            .unwrap_or_default()
            .to_string();
        assert!(status.contains(" ms"), "no lag gauge: {status}");
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();
    let unlike = unlike_afresh.borrow();
    if let Some((frame, shown, fresh)) = unlike.first() {
        panic!(
            "{} of {} frames were not the screen drawn afresh; the first, frame {frame}:\n{}\n\
             drawn afresh:\n{}",
            unlike.len(),
            frames.borrow(),
            shown.join("\n"),
            fresh.join("\n")
        );
    }
}

#[tokio::test]
async fn lag_gauge_reports_a_stalled_loop() {
    let setup = TuiSetup::new(Vec::new());
    let (input, input_rx) = unbounded();
    let latest = RefCell::new(HeadlessFrame::default());
    let event_loop = run_headless(setup, 120, 30, input_rx, |frame, _| {
        *latest.borrow_mut() = frame.clone();
    });
    let script = async {
        wait_for(
            "a first gauge reading",
            Duration::from_secs(10),
            async || {
                latest
                    .borrow()
                    .lines
                    .iter()
                    .any(|l| l.contains("lag ") && l.contains(" ms"))
                    .then_some(())
            },
        )
        .await;
        // Block the one thread for 150 ms, as a slow synchronous step in the loop would.
        std::thread::sleep(Duration::from_millis(150));
        // Any key makes the loop redraw; the gauge shows the stall.
        send_key(&input, KeyCode::Char('x'), KeyModifiers::NONE);
        let shown = wait_for(
            "the stall on the status bar",
            Duration::from_secs(10),
            async || {
                let frame = latest.borrow();
                let status = frame.lines.iter().find(|l| l.contains("F1 help"))?;
                let after = &status[status.find("lag ")? + 4..];
                let ms: u64 = after.split_whitespace().next()?.parse().ok()?;
                (ms >= 100 && frame.lag >= Duration::from_millis(100)).then_some(ms)
            },
        )
        .await;
        assert!(shown < 10_000, "{shown} ms");
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();
}

/// The fault matrix in the TUI: a refused port, a silent listener and a server that dies
/// mid-session each turn their own pane red with the reason, while the healthy pane goes on.
#[tokio::test]
async fn failing_hosts_turn_only_their_own_pane_red() {
    let mock = threaded_mock(1);
    let good = mock.targets()[0].clone();
    let closed_ip = support::loopback();
    let closed_port = std::net::TcpListener::bind((closed_ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let silent = std::net::TcpListener::bind((support::loopback(), 0)).unwrap();
    let mut refused = good.clone();
    refused.name = "refused".into();
    refused.host = closed_ip.to_string();
    refused.port = closed_port;
    let mut mute = good.clone();
    mute.name = "mute".into();
    mute.host = silent.local_addr().unwrap().ip().to_string();
    mute.port = silent.local_addr().unwrap().port();
    mute.connect_timeout = Duration::from_secs(2);
    let setup = TuiSetup::new(vec![good, refused, mute]);
    let (input, input_rx) = unbounded();
    let latest = RefCell::new(HeadlessFrame::default());
    let event_loop = run_headless(setup, 240, 40, input_rx, |frame, _| {
        *latest.borrow_mut() = frame.clone();
    });
    // A pane's own title: from its name to the end of its top border.
    let title = |name: &str| {
        let needle = format!(" {name} ");
        latest
            .borrow()
            .lines
            .iter()
            .find_map(|l| {
                let start = l.find(&needle)?;
                let rest = &l[start..];
                let end = rest.find(['┐', '┓']).unwrap_or(rest.len());
                Some(rest[..end].to_string())
            })
            .unwrap_or_default()
    };
    let mut mock = Some(mock);
    let script = async {
        let refused_title = wait_for(
            "the refused pane to fail",
            Duration::from_secs(20),
            async || {
                let t = title("refused");
                t.contains("failed").then_some(t)
            },
        )
        .await;
        assert!(
            refused_title.to_lowercase().contains("refused"),
            "{refused_title}"
        );
        let mute_title = wait_for(
            "the silent pane to time out",
            Duration::from_secs(20),
            async || {
                let t = title("mute");
                t.contains("failed").then_some(t)
            },
        )
        .await;
        assert!(mute_title.contains("timed out"), "{mute_title}");
        // The healthy pane is untouched and still takes input.
        type_text(&input, "still-here");
        wait_for(
            "the healthy pane's echo",
            Duration::from_secs(20),
            async || {
                let panes = pane_contents(&latest.borrow().lines.join("\n"));
                has_line(&panes, "mock-01", "server received: still-here").then_some(())
            },
        )
        .await;
        // Its server dies: the pane says so instead of hanging.
        drop(mock.take());
        let lost = wait_for(
            "the lost connection on its pane",
            Duration::from_secs(20),
            async || {
                let t = title("mock-01");
                t.contains("failed").then_some(t)
            },
        )
        .await;
        assert!(lost.contains("lost"), "{lost}");
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();
    drop(silent);
}

/// Sessions opened at start-up ask for the PTY size their pane has once every pane is laid
/// out, not the size it had when it was the last one added.
#[tokio::test]
async fn every_start_up_session_gets_its_panes_size() {
    let mock = threaded_mock(1);
    let sessions = (0..3)
        .map(|i| Target {
            name: format!("p{i}"),
            ..mock.targets()[0].clone()
        })
        .collect();
    let setup = TuiSetup::new(sessions);
    let (input, input_rx) = unbounded();
    // Per pane, at the last frame: its size as `COLSxROWS` and its screen's text.
    let panes = RefCell::new(Vec::<(String, String)>::new());
    let event_loop = run_headless(setup, 120, 30, input_rx, |_, app| {
        *panes.borrow_mut() = app
            .pane_ids()
            .into_iter()
            .filter_map(|id| {
                let (cols, rows) = app.pty_size(id)?;
                Some((format!("{cols}x{rows}"), app.pane_screen_text(id)?))
            })
            .collect();
    });
    let script = async {
        wait_for("three prompts", Duration::from_secs(20), async || {
            let panes = panes.borrow();
            (panes.len() == 3 && panes.iter().all(|(_, text)| text.contains("~$"))).then_some(())
        })
        .await;
        type_text(&input, "size");
        let sizes = wait_for(
            "every pane to report its own size",
            Duration::from_secs(20),
            async || {
                let panes = panes.borrow();
                panes
                    .iter()
                    .all(|(size, text)| text.contains(&format!("\n{size}\n")))
                    .then(|| panes.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>())
            },
        )
        .await;
        assert_eq!(sizes.len(), 3);
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();
}

/// Against OpenSSH's sshd and the real shell and `tput` there: a program waiting for the
/// terminal's answers (cursor position, device attributes) gets them from the pane, and
/// DEC line drawing switched on with `tput smacs` draws boxes.
#[tokio::test]
async fn real_programs_get_their_answers_and_draw_boxes() {
    if !crate::sshd::available() || !support::have("tput") {
        return;
    }
    let env = support::TestEnv::new();
    let server = crate::sshd::Sshd::start(&env, crate::sshd::SshdOptions::default());
    let setup = TuiSetup::new(crate::run_cmd::sshd_targets(&env, &server.addrs).await);
    let (input, input_rx) = unbounded();
    let text = RefCell::new(String::new());
    let event_loop = run_headless(setup, 120, 30, input_rx, |_, app| {
        *text.borrow_mut() = app.pane_screen_text(0).unwrap_or_default();
    });
    let script = async {
        wait_for("the shell's prompt", Duration::from_secs(30), async || {
            let text = text.borrow();
            text.trim_end().ends_with(['$', '#']).then_some(())
        })
        .await;
        // `read` waits for each answer: without them the shell would hang here. (`read -s`
        // and `-d` are bash's; the login shell may be another.)
        type_text(&input, "exec bash --norc");
        type_text(
            &input,
            r#"printf 'Q\033[6n'; IFS= read -rs -d R r; printf '\033[c'; IFS= read -rs -d c d; echo "cpr=${r#*[} da=${d#*[}""#,
        );
        let line = wait_for("the answers", Duration::from_secs(20), async || {
            let text = text.borrow();
            let line = text.lines().find(|l| l.starts_with("Qcpr="))?;
            Some(line.trim_end().to_string())
        })
        .await;
        let (cpr, da) = line["Qcpr=".len()..]
            .split_once(" da=")
            .expect("both answers");
        let (row, col) = cpr.split_once(';').expect("row;col");
        assert!(row.parse::<u16>().is_ok_and(|r| r >= 1), "{line}");
        assert_eq!((col, da), ("2", "?1;2"), "{line}");

        type_text(
            &input,
            r#"tput -T xterm smacs; printf lqk; tput -T xterm rmacs; echo " lqk""#,
        );
        wait_for(
            "a box corner and line",
            Duration::from_secs(20),
            async || {
                text.borrow()
                    .lines()
                    .any(|l| l.starts_with("┌─┐ lqk"))
                    .then_some(())
            },
        )
        .await;
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();
}
