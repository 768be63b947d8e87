//! The real `mtssh` binary in a real terminal (tmux) against the mock server: broadcast,
//! toggling a pane out, focus mode with line editing, F2's mock server, and the terminal
//! left as it was found after quitting.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::support::{self, TestEnv, have_all, wait_for};

pub(crate) const NAMES: [&str; 4] = ["mock-01", "mock-02", "mock-03", "mock-04"];
const WAIT: Duration = Duration::from_secs(20);

/// A tmux server of our own (its own socket), killed when dropped, even on a failed assert.
pub(crate) struct Tmux {
    socket: String,
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

impl Tmux {
    async fn output(&self, args: &[&str]) -> String {
        let out = tokio::process::Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends tmux key names (`Enter`, `C-q`, `M-t`, `Left`, ...).
    pub(crate) async fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.output(&args).await;
    }

    /// Types `text` literally.
    pub(crate) async fn type_text(&self, text: &str) {
        self.output(&["send-keys", "-t", "t", "-l", text]).await;
    }

    /// After mtssh exited in this pane: the alternate screen is off and `stty -a` (run in the
    /// pane, written to `stty_file`) shows a normal cooked terminal.
    async fn assert_terminal_restored(&self, stty_file: &std::path::Path) {
        let alternate = self
            .output(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .await;
        assert_eq!(alternate.trim(), "0", "still on the alternate screen");
        self.type_text(&format!(
            "stty -a > '{}'; echo stty-done",
            stty_file.display()
        ))
        .await;
        self.keys(&["Enter"]).await;
        self.wait_screen("stty to finish", |s| {
            s.lines().any(|l| l.trim() == "stty-done").then_some(())
        })
        .await;
        let stty = std::fs::read_to_string(stty_file).unwrap();
        let flags: Vec<&str> = stty
            .split(|c: char| c.is_whitespace() || c == ';')
            .collect();
        for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
            assert!(flags.contains(&flag), "{flag} not restored: {stty}");
        }
    }

    async fn screen(&self) -> String {
        self.output(&["capture-pane", "-p", "-t", "t"]).await
    }

    /// Polls the screen until `check` accepts it.
    pub(crate) async fn wait_screen<T>(&self, what: &str, check: impl Fn(&str) -> Option<T>) -> T {
        let mut last = String::new();
        let found = wait_for(what, WAIT, async || {
            let screen = self.screen().await;
            let found = check(&screen);
            last = screen;
            found
        });
        // Show the screen when the wait times out: the assert message alone says little.
        match tokio::time::timeout(WAIT + Duration::from_secs(5), found).await {
            Ok(value) => value,
            Err(_) => panic!("timed out waiting for {what}; screen:\n{last}"),
        }
    }
}

/// The text inside each pane's border, by the name in its title. Panes are found by their
/// top border (a corner, then the title with the name) and followed down their left edge.
pub(crate) fn pane_contents(screen: &str) -> BTreeMap<String, Vec<String>> {
    const TOP_LEFT: &[char] = &['┌', '┏', '╔', '╭'];
    const TOP_RIGHT: &[char] = &['┐', '┓', '╗', '╮'];
    const BOTTOM_LEFT: &[char] = &['└', '┗', '╚', '╰'];
    const SIDE: &[char] = &['│', '┃', '║'];
    let grid: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let mut panes = BTreeMap::new();
    for (row, line) in grid.iter().enumerate() {
        for name in NAMES {
            let text: String = line.iter().collect();
            let Some(byte) = text.find(&format!(" {name} ")) else {
                continue;
            };
            let at = text[..byte].chars().count();
            let Some(left) = line[..at].iter().rposition(|c| TOP_LEFT.contains(c)) else {
                continue;
            };
            let Some(right) = line[at..].iter().position(|c| TOP_RIGHT.contains(c)) else {
                continue;
            };
            let right = at + right;
            let mut inner = Vec::new();
            for below in &grid[row + 1..] {
                match below.get(left) {
                    Some(c) if SIDE.contains(c) => {
                        let end = right.min(below.len());
                        let cells = below.get(left + 1..end).unwrap_or_default();
                        inner.push(cells.iter().collect::<String>().trim_end().to_string());
                    }
                    Some(c) if BOTTOM_LEFT.contains(c) => break,
                    _ => break,
                }
            }
            panes.insert(name.to_string(), inner);
        }
    }
    panes
}

/// Whether `pane` shows a line that is exactly `text`: command output, not the typed command
/// (the prompt line holding the echo of `echo TOKEN` contains the token too).
pub(crate) fn has_line(panes: &BTreeMap<String, Vec<String>>, pane: &str, text: &str) -> bool {
    panes
        .get(pane)
        .is_some_and(|lines| lines.iter().any(|l| l.trim() == text))
}

pub(crate) fn mentions(panes: &BTreeMap<String, Vec<String>>, pane: &str, text: &str) -> bool {
    panes
        .get(pane)
        .is_some_and(|lines| lines.iter().any(|l| l.contains(text)))
}

pub(crate) fn token(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{:x}{:x}", std::process::id(), nanos)
}

fn status_line(screen: &str) -> Option<&str> {
    screen
        .lines()
        .find(|l| l.contains(" total") && l.contains("F1 help"))
}

/// The address F2's mock server listens on, from the status bar ("mock on ADDR (test/…").
fn mock_addr(screen: &str) -> Option<SocketAddr> {
    let status = status_line(screen)?;
    let rest = &status[status.find("mock on ")? + "mock on ".len()..];
    rest.split_whitespace().next()?.parse().ok()
}

#[tokio::test]
async fn tui_broadcasts_toggles_focuses_starts_mock_and_restores_terminal() {
    if !have_all(&["tmux", "ssh", "sshpass", "stty"]) {
        return;
    }
    let env = TestEnv::new();
    let server = support::mock(4).await;
    let stty_file = env.path("stty.txt");
    let tmux = launch_ready(&env, &server).await;

    // (a) The broadcast line reaches every pane: each shows the token as a line of output.
    let first = token("tok");
    tmux.type_text(&format!("echo {first}")).await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_screen("the first token's output in all four panes", |s| {
        let panes = pane_contents(s);
        NAMES
            .iter()
            .all(|n| has_line(&panes, n, &first))
            .then_some(())
    })
    .await;

    // (b) Tab moves the focus to mock-02, Alt-T takes it out of the broadcast (○ marker).
    tmux.keys(&["Tab"]).await;
    tmux.keys(&["M-t"]).await;
    tmux.wait_screen("mock-02 marked inactive", |s| {
        s.contains("○ mock-02").then_some(())
    })
    .await;
    let second = token("tok2");
    tmux.type_text(&format!("echo {second}")).await;
    tmux.keys(&["Enter"]).await;
    let panes = tmux
        .wait_screen("the second token in the three active panes", |s| {
            let panes = pane_contents(s);
            ["mock-01", "mock-03", "mock-04"]
                .iter()
                .all(|n| has_line(&panes, n, &second))
                .then_some(panes)
        })
        .await;
    assert!(
        !mentions(&panes, "mock-02", &second),
        "the inactive pane got the broadcast: {:?}",
        panes["mock-02"]
    );

    // (c) Focus mode on mock-03: keys go raw to that session only, and its shell edits the
    // line. Left is a CSI sequence the practice shell swallows (no "[D" leaks into the
    // line); Backspace rubs out the stray last character.
    tmux.keys(&["Tab"]).await;
    tmux.keys(&["C-]"]).await;
    tmux.wait_screen("focus mode on mock-03", |s| {
        s.contains("keys go to mock-03 only").then_some(())
    })
    .await;
    let edited = token("edit");
    tmux.type_text(&format!("{edited}X")).await;
    tmux.keys(&["Left", "BSpace", "Enter"]).await;
    let received = format!("server received: {edited}");
    let panes = tmux
        .wait_screen("the edited line echoed in mock-03", |s| {
            let panes = pane_contents(s);
            has_line(&panes, "mock-03", &received).then_some(panes)
        })
        .await;
    for other in ["mock-01", "mock-02", "mock-04"] {
        assert!(
            !mentions(&panes, other, &edited),
            "{other} saw focus-mode keys: {:?}",
            panes[other]
        );
    }
    assert!(!mentions(&panes, "mock-03", "[D"), "{:?}", panes["mock-03"]);
    tmux.keys(&["C-]"]).await;
    tmux.wait_screen("back to the broadcast line", |s| {
        s.contains("bcast»").then_some(())
    })
    .await;

    // (d) F2 starts a mock server inside mtssh; OpenSSH logs into where the status bar says.
    tmux.keys(&["F2"]).await;
    let addr = tmux
        .wait_screen("the status bar naming F2's mock server", mock_addr)
        .await;
    assert!(addr.ip().is_loopback(), "{addr}");
    let mut ssh = env.command("sshpass");
    ssh.args(["-p", "123456", "ssh"])
        .args(env.ssh_args(addr))
        .arg("hostname");
    let out = tokio::time::timeout(WAIT, ssh.output())
        .await
        .expect("ssh finishes")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "mock-01");

    // (e) Ctrl-Q asks (sessions are live), y quits; the shell gets a normal terminal back.
    tmux.keys(&["C-q"]).await;
    tmux.wait_screen("the quit confirmation", |s| {
        s.contains("Quit and close them?").then_some(())
    })
    .await;
    tmux.keys(&["y"]).await;
    tmux.wait_screen("mtssh exited 0", |s| {
        s.contains("mtssh-exited-0").then_some(())
    })
    .await;
    tmux.assert_terminal_restored(&stty_file).await;
    server.stop();
}

#[test]
fn pane_regions_parse_from_a_screen() {
    let screen = "\
┏ ● mock-01 │ ready ━┓┌ ○ mock-02 │ ready ─┐
┃tok                 ┃│$ echo tok          │
┃x                   ┃│                    │
┗━━━━━━━━━━━━━━━━━━━━┛└────────────────────┘
 4 ready 0 failed 4 total │ mock on 127.0.0.1:2222 (test/123456) │ F1 help";
    let panes = pane_contents(screen);
    assert!(has_line(&panes, "mock-01", "tok"));
    assert!(!has_line(&panes, "mock-02", "tok"));
    assert!(mentions(&panes, "mock-02", "tok"));
    assert_eq!(panes["mock-01"].len(), 2);
    assert_eq!(mock_addr(screen), Some("127.0.0.1:2222".parse().unwrap()));
}

/// [`launch`] on a host list of `server`'s four hosts, once every pane logged in and shows
/// its prompt.
pub(crate) async fn launch_ready(env: &TestEnv, server: &mtssh::mock::MockServer) -> Tmux {
    let (hosts, known_hosts) = env.mock_host_list(server);
    let tmux = launch(env, server, &hosts, &known_hosts).await;
    tmux.wait_screen("four ready panes with prompts", |s| {
        let panes = pane_contents(s);
        NAMES
            .iter()
            .all(|n| mentions(&panes, n, &format!("test@{n}:~$")))
            .then_some(())
    })
    .await;
    tmux
}

/// Runs the real binary in a fresh tmux server (200x50) on a host list for `server`; when it
/// exits, the pane prints `mtssh-exited-CODE` and keeps a shell.
async fn launch(
    env: &TestEnv,
    server: &mtssh::mock::MockServer,
    hosts: &std::path::Path,
    known_hosts: &std::path::Path,
) -> Tmux {
    let socket = format!(
        "mtssh-tui-{}-{}",
        std::process::id(),
        server.hosts()[0].addr.ip()
    );
    let command = format!(
        "'{}' -f '{}' --known-hosts '{}'; echo mtssh-exited-$?; exec sh",
        env!("CARGO_BIN_EXE_mtssh"),
        hosts.display(),
        known_hosts.display()
    );
    let mut start = env.command("tmux");
    start.args([
        "-L",
        &socket,
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "200",
        "-y",
        "50",
        "sh",
        "-c",
        &command,
    ]);
    assert!(start.status().await.unwrap().success());
    Tmux { socket }
}

/// The mtssh process [`launch`]ed on `hosts`: the one whose command line names that host list
/// and whose executable is the mtssh binary (the wrapping `sh -c` names the list too).
fn mtssh_pid(hosts: &std::path::Path) -> i32 {
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_mtssh")).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let names_list = String::from_utf8_lossy(&cmdline).contains(hosts.to_str().unwrap());
            let is_mtssh = std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == exe);
            names_list && is_mtssh
        })
        .expect("the mtssh process")
}

/// The TUI [`launch`]ed on one mock session, once that session shows its prompt: its tmux,
/// the mock server (to keep running) and mtssh's pid.
async fn one_session_at_its_prompt(env: &TestEnv) -> (Tmux, mtssh::mock::MockServer, i32) {
    let server = support::mock(1).await;
    let (hosts, known_hosts) = env.mock_host_list(&server);
    let tmux = launch(env, &server, &hosts, &known_hosts).await;
    tmux.wait_screen("the prompt", |s| {
        s.contains("test@mock-01:~$").then_some(())
    })
    .await;
    let pid = mtssh_pid(&hosts);
    (tmux, server, pid)
}

/// How often the event loop's thread has blocked so far (`voluntary_ctxt_switches` of the
/// main thread): one a wake-up.
fn loop_sleeps(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("voluntary_ctxt_switches")
}

/// An idle TUI (a session at its prompt, nothing typed) wakes about once a second, not 100
/// times (its lag probe's busy pace), and a key still gets an answer at once.
#[tokio::test]
async fn an_idle_tui_wakes_about_once_a_second_and_still_answers() {
    if !have_all(&["tmux"]) {
        return;
    }
    let env = TestEnv::new();
    let (tmux, _server, pid) = one_session_at_its_prompt(&env).await;
    // A rate needs a window of time: one-second windows until one is quiet (the probe slows
    // down 2 s after the last work), for 10 s at most.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        let before = loop_sleeps(pid);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let woke = loop_sleeps(pid) - before;
        seen.push(woke);
        if woke <= 5 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the idle loop kept waking: {seen:?} wake-ups a second"
        );
    }
    tmux.type_text("echo back-from-idle").await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_screen("the answer", |s| {
        s.matches("back-from-idle").count().ge(&2).then_some(())
    })
    .await;
}

/// The terminal is restored when the TUI is told to stop by a signal from outside, not only
/// on a clean quit. (In raw mode Ctrl-C and Ctrl-\ are keys; these come from `kill`.)
#[tokio::test]
async fn sigterm_restores_the_terminal() {
    stop_by_signal_restores_the_terminal(libc::SIGTERM).await;
}

#[tokio::test]
async fn sigint_restores_the_terminal() {
    stop_by_signal_restores_the_terminal(libc::SIGINT).await;
}

#[tokio::test]
async fn sigquit_restores_the_terminal() {
    stop_by_signal_restores_the_terminal(libc::SIGQUIT).await;
}

async fn stop_by_signal_restores_the_terminal(signal: libc::c_int) {
    if !have_all(&["tmux", "stty"]) {
        return;
    }
    let env = TestEnv::new();
    let (tmux, _server, pid) = one_session_at_its_prompt(&env).await;
    // SAFETY: signalling the process this test started.
    unsafe { libc::kill(pid, signal) };
    tmux.wait_screen("mtssh to exit", |s| {
        s.contains("mtssh-exited-").then_some(())
    })
    .await;
    tmux.assert_terminal_restored(&env.path("stty.txt")).await;
}
