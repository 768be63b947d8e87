//! Nothing typed or pasted is lost: pastes through the TUI's real event loop (headless) reach
//! sshd and the mock byte for byte, while the sessions keep answering; a session whose remote
//! never reads holds its input within the bound, slows nobody else, and closes for good.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use mtssh::mock::{MockOptions, MockThread};
use mtssh::ssh::{Engine, EngineSettings, HostKeyPolicy, Target};
use mtssh::tui::{OUTPUT_CREDIT, TuiSetup, run_headless};

use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv, wait_for};

/// What the test script sees of the model after each frame.
#[derive(Default, Clone)]
struct Seen {
    /// Each pane's live screen text, by name.
    screens: BTreeMap<String, String>,
    pending: BTreeMap<String, usize>,
    states: BTreeMap<String, String>,
    /// Each pane's whole scrollback, taken only while `want_scrollback` is set (costly).
    scrollbacks: BTreeMap<String, String>,
    want_scrollback: bool,
    notice: Option<String>,
}

impl Seen {
    fn all_show(&self, text: &str) -> bool {
        !self.screens.is_empty() && self.screens.values().all(|s| s.contains(text))
    }
}

struct Keys(UnboundedSender<io::Result<Event>>);

impl Keys {
    fn key(&self, code: KeyCode, modifiers: KeyModifiers) {
        let event = Event::Key(KeyEvent::new(code, modifiers));
        self.0.unbounded_send(Ok(event)).unwrap();
    }

    fn ctrl(&self, c: char) {
        self.key(KeyCode::Char(c), KeyModifiers::CONTROL);
    }

    fn alt(&self, c: char) {
        self.key(KeyCode::Char(c), KeyModifiers::ALT);
    }

    fn line(&self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c), KeyModifiers::NONE);
        }
        self.key(KeyCode::Enter, KeyModifiers::NONE);
    }

    fn paste(&self, text: &str) {
        self.0
            .unbounded_send(Ok(Event::Paste(text.into())))
            .unwrap();
    }
}

/// About `bytes` bytes of base64 in lines (76 characters and a newline each) of deterministic noise.
fn paste_text(bytes: usize) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(support::noise(bytes * 3 / 4));
    let mut text = String::with_capacity(encoded.len() + encoded.len() / 76 + 1);
    for chunk in encoded.as_bytes().chunks(76) {
        text.push_str(std::str::from_utf8(chunk).unwrap());
        text.push('\n');
    }
    text
}

/// sshd with the fixture host key (pinned by the targets) and a folder its login user may
/// write pastes into.
pub(crate) fn sshd_and_targets(env: &TestEnv, sessions: usize) -> (Sshd, Vec<Target>, PathBuf) {
    let server = Sshd::start(
        env,
        SshdOptions {
            host_key: Some(support::fixture("keys/host_ed25519")),
            ..Default::default()
        },
    );
    let host_key = support::fixture_key("host_ed25519").public_key().clone();
    let addr = server.addrs[0];
    let targets = (0..sessions)
        .map(|i| Target {
            identity_files: vec![env.key("client_ed25519")],
            ..Target::new(
                format!("s{i:02}"),
                addr.ip().to_string(),
                addr.port(),
                sshd::login_user(),
                HostKeyPolicy::Pinned(host_key.clone()),
            )
        })
        .collect();
    let drop_dir = env.path("pastes");
    std::fs::create_dir_all(&drop_dir).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.home(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&drop_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    (server, targets, drop_dir)
}

fn setup_with_limit(targets: Vec<Target>, input_limit: usize) -> TuiSetup {
    let (engine, events) = Engine::new(EngineSettings {
        output_credit: Some(OUTPUT_CREDIT),
        input_limit,
        ..Default::default()
    });
    TuiSetup {
        engine,
        events,
        ..TuiSetup::new(targets)
    }
}

/// Runs the headless TUI (`cols` x `rows`) with `script`, which gets the keyboard and what
/// the model shows; the loop ends when the script drops the keyboard.
async fn with_tui(
    setup: TuiSetup,
    cols: u16,
    rows: u16,
    script: impl AsyncFnOnce(Keys, &RefCell<Seen>),
) {
    let (input, input_rx) = unbounded();
    let seen = RefCell::new(Seen::default());
    let event_loop = run_headless(setup, cols, rows, input_rx, |_, app| {
        let mut now = seen.borrow_mut();
        for id in app.pane_ids() {
            let name = app.pane_name(id).unwrap_or_default().to_string();
            let screen = app.pane_screen_text(id).unwrap_or_default();
            now.pending
                .insert(name.clone(), app.pane_pending_input(id).unwrap_or(0));
            now.states
                .insert(name.clone(), format!("{:?}", app.pane_state(id)));
            if now.want_scrollback {
                let text = app.scrollback_text(id).unwrap_or_default();
                now.scrollbacks.insert(name.clone(), text);
            }
            now.screens.insert(name, screen);
        }
        now.notice = app.notice().map(str::to_string);
    });
    let script = script(Keys(input), &seen);
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();
}

/// Waits until every pane's screen shows `text` (typed as a command whose output differs
/// from its own echo, so the echo alone does not count).
async fn all_show(seen: &RefCell<Seen>, text: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !seen.borrow().all_show(text) {
        if Instant::now() > deadline {
            let seen = seen.borrow();
            let missing: Vec<String> = seen
                .screens
                .iter()
                .filter(|(_, screen)| !screen.contains(text))
                .map(|(name, screen)| {
                    format!(
                        "{name} (pending {}, {}):\n{screen}",
                        seen.pending[name], seen.states[name]
                    )
                })
                .collect();
            panic!(
                "timed out waiting for {text} in every pane (notice {:?}); not in:\n{}",
                seen.notice,
                missing.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `count` sessions' shells wrote `text` to their `alive.PID` files in `dir`.
async fn answers(dir: &Path, count: usize, text: &str) {
    wait_for(
        "the sessions to answer",
        Duration::from_secs(60),
        async || {
            let alive: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|e| {
                    let path = e.ok()?.path();
                    path.file_name()?
                        .to_str()?
                        .starts_with("alive.")
                        .then_some(path)
                })
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect();
            (alive.len() == count && alive.iter().all(|a| a == text)).then_some(())
        },
    )
    .await;
}

/// Waits until `path` holds `len` bytes, then returns them.
async fn file_of_len(path: &Path, len: usize, limit: Duration) -> Vec<u8> {
    let what = format!("{} to reach {len} bytes", path.display());
    wait_for(&what, limit, async || {
        let got = std::fs::metadata(path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        (got >= len).then_some(())
    })
    .await;
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn a_5_mb_paste_reaches_sshd_whole_in_focus_mode_and_broadcast_to_20() {
    if !sshd::available() {
        return;
    }
    let _heavy = support::heavy().await;
    let env = TestEnv::new();
    let (_server, targets, drop_dir) = sshd_and_targets(&env, 20);
    let paste = paste_text(5 * 1024 * 1024);
    let want = support::sha256(paste.as_bytes());
    let setup = setup_with_limit(targets, mtssh::ssh::DEFAULT_INPUT_LIMIT);
    with_tui(setup, 200, 60, async |keys, seen| {
        keys.line("echo READY-$((40+2))");
        all_show(seen, "READY-42", Duration::from_secs(30)).await;

        // Focus mode on the first pane: the PTY echoes the whole paste back meanwhile.
        let single = drop_dir.join("single");
        keys.ctrl(']');
        keys.line(&format!(
            "sh -c 'echo CAT-$((6*7)); exec cat > {}'",
            single.display()
        ));
        wait_for("cat to start", Duration::from_secs(20), async || {
            seen.borrow().screens["s00"]
                .contains("CAT-42")
                .then_some(())
        })
        .await;
        let started = Instant::now();
        keys.paste(&paste);
        keys.ctrl('d');
        let got = file_of_len(&single, paste.len(), Duration::from_secs(120)).await;
        eprintln!(
            "focus-mode paste of {} bytes arrived in {:?}",
            paste.len(),
            started.elapsed()
        );
        assert_eq!(got.len(), paste.len());
        assert_eq!(support::sha256(&got), want, "the paste arrived changed");
        // And the session still answers. (Seen in a file: the kernel echoes typeahead when
        // the terminal's output has room, so the tail of the paste's echo may come after
        // the answer and push it out of the scrollback.)
        keys.line(&format!(
            "echo ALIVE-$((5+5)) > {}/alive.$$",
            drop_dir.display()
        ));
        answers(&drop_dir, 1, "ALIVE-10\n").await;

        // Back to the broadcast line: the same paste to all 20, after the confirmation.
        keys.ctrl(']');
        keys.line(&format!(
            "sh -c 'echo CAT-$((7*7)); exec cat > \"$(mktemp {}/many.XXXXXX)\"'",
            drop_dir.display()
        ));
        all_show(seen, "CAT-49", Duration::from_secs(30)).await;
        let started = Instant::now();
        // Several lines to several sessions: sent once the user says yes.
        keys.paste(&paste);
        keys.key(KeyCode::Char('y'), KeyModifiers::NONE);
        keys.ctrl('d');
        let files: Vec<PathBuf> = wait_for("20 paste files", Duration::from_secs(30), async || {
            let files: Vec<PathBuf> = std::fs::read_dir(&drop_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("many.")
                })
                .collect();
            (files.len() == 20).then_some(files)
        })
        .await;
        for file in &files {
            let got = file_of_len(file, paste.len(), Duration::from_secs(300)).await;
            assert_eq!(got.len(), paste.len(), "{}", file.display());
            assert_eq!(
                support::sha256(&got),
                want,
                "{} arrived changed",
                file.display()
            );
        }
        eprintln!(
            "broadcast paste of {} bytes to 20 sessions arrived in {:?}",
            paste.len(),
            started.elapsed()
        );
        let asked = Instant::now();
        keys.line(&format!(
            "echo ALIVE-$((6+6)) > {}/alive.$$",
            drop_dir.display()
        ));
        answers(&drop_dir, 20, "ALIVE-12\n").await;
        eprintln!(
            "all 20 answered {:?} after the files were complete",
            asked.elapsed()
        );
        drop(keys);
    })
    .await;
}

/// Established TCP connections from this machine to `addr` (from /proc/net/tcp).
fn connections_to(addr: SocketAddr) -> usize {
    let SocketAddr::V4(v4) = addr else {
        return 0;
    };
    let ip = u32::from_le_bytes(v4.ip().octets());
    let remote = format!("{ip:08X}:{:04X}", v4.port());
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3 && fields[2] == remote && fields[3] == "01"
        })
        .count()
}

/// Processes whose command line is exactly `args`.
fn processes(args: &[&str]) -> usize {
    let want: Vec<u8> = args
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|cmdline| *cmdline == want)
        .count()
}

fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test]
async fn a_remote_that_never_reads_holds_its_input_in_bounds_slows_nobody_and_closes() {
    if !sshd::available() {
        return;
    }
    let _heavy = support::heavy().await;
    let env = TestEnv::new();
    let (server, targets, _drop_dir) = sshd_and_targets(&env, 4);
    let limit = 16 * 1024 * 1024;
    let paste = paste_text(12 * 1024 * 1024);
    let setup = setup_with_limit(targets, limit);
    let sleeper = ["sleep", "601.25"];
    with_tui(setup, 200, 50, async |keys, seen| {
        keys.line("echo READY-$((40+2))");
        all_show(seen, "READY-42", Duration::from_secs(30)).await;
        assert_eq!(connections_to(server.addrs[0]), 4);
        let rss_before = rss_bytes();

        // s00 runs a command that never reads its terminal; the paste piles up for it.
        keys.ctrl(']');
        keys.line(&format!("{} {}", sleeper[0], sleeper[1]));
        wait_for("the sleeper", Duration::from_secs(10), async || {
            (processes(&sleeper) == 1).then_some(())
        })
        .await;
        keys.paste(&paste);
        let pending = wait_for("input pending on s00", Duration::from_secs(30), async || {
            let pending = seen.borrow().pending["s00"];
            (pending > 4 * 1024 * 1024).then_some(pending)
        })
        .await;
        assert!(pending <= limit, "{pending} bytes pending over the {limit} bound");
        // One more paste would go over the bound: refused whole, and the user is told.
        keys.paste(&paste);
        let notice = wait_for("the refusal", Duration::from_secs(10), async || {
            seen.borrow().notice.clone().filter(|n| n.contains("input not sent"))
        })
        .await;
        assert!(notice.contains("s00") && notice.contains("16.0 MB"), "{notice}");
        assert!(seen.borrow().pending["s00"] <= limit);

        // The others answer a broadcast at once.
        keys.ctrl(']');
        keys.alt('t'); // s00 (focused) out of the broadcast
        let sent = Instant::now();
        keys.line("echo PING-$((3*3))");
        wait_for("the others' echo", Duration::from_secs(10), async || {
            let seen = seen.borrow();
            ["s01", "s02", "s03"]
                .iter()
                .all(|n| seen.screens[*n].contains("PING-9"))
                .then_some(())
        })
        .await;
        let echo = sent.elapsed();
        let grown = rss_bytes().saturating_sub(rss_before);
        eprintln!("echo from the other sessions after {echo:?}; RSS grew {grown} bytes with {pending} pending");
        assert!(echo < Duration::from_millis(1000), "the others waited {echo:?}");
        // The paste text (held by the test), the queued copy, and room for the screens.
        assert!(grown < 2 * paste.len() + 32 * 1024 * 1024, "RSS grew {grown} bytes");
        assert!(seen.borrow().pending["s00"] > 0, "the sleeper took its input?");

        // F8 closes the wedged pane: its connection and its remote command go.
        keys.key(KeyCode::F(8), KeyModifiers::NONE);
        wait_for("s00's connection to close", Duration::from_secs(10), async || {
            (connections_to(server.addrs[0]) == 3).then_some(())
        })
        .await;
        wait_for("the sleeper to end", Duration::from_secs(10), async || {
            (processes(&sleeper) == 0).then_some(())
        })
        .await;
        drop(keys);
    })
    .await;
}

#[tokio::test]
async fn a_10_mb_focus_mode_paste_reaches_the_mock_whole() {
    let _heavy = support::heavy().await;
    let mock = MockThread::start(support::mock_options(MockOptions {
        record_input: true,
        ..Default::default()
    }))
    .expect("mock server starts");
    let paste = paste_text(10 * 1024 * 1024);
    // What a terminal sends for it: line breaks as CR.
    let sent = paste.replace('\n', "\r");
    let setup = TuiSetup::new(mock.targets().to_vec());
    with_tui(setup, 120, 40, async |keys, seen| {
        wait_for("the prompt", Duration::from_secs(20), async || {
            seen.borrow().all_show("test@mock-01:~$").then_some(())
        })
        .await;
        keys.ctrl(']');
        let started = Instant::now();
        keys.paste(&paste);
        let received = wait_for("the whole paste", Duration::from_secs(120), async || {
            let received = mock.received();
            (received.first()?.len >= sent.len() as u64).then_some(received)
        })
        .await;
        eprintln!(
            "{} bytes reached the mock in {:?}",
            sent.len(),
            started.elapsed()
        );
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].len, sent.len() as u64);
        assert!(
            received[0].bytes == sent.as_bytes(),
            "the paste arrived changed"
        );
        keys.line("echo alive-after-paste");
        wait_for(
            "the session to answer",
            Duration::from_secs(60),
            async || {
                seen.borrow().screens["mock-01"]
                    .contains("\nalive-after-paste")
                    .then_some(())
            },
        )
        .await;
        drop(keys);
    })
    .await;
}
