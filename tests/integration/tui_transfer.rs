//! The TUI's Alt-F (upload to the receivers) and Alt-K (download from the focused pane)
//! against OpenSSH's sftp-server behind a private sshd, through the real event loop
//! (headless): byte-exact both ways (sha256), over the sessions' own connections.

use std::cell::RefCell;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use mtssh::ssh::{Engine, EngineSettings, HostKeyPolicy, Target};
use mtssh::tui::{OUTPUT_CREDIT, TuiSetup, run_headless};

use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv, wait_for};

const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";

/// What the script sees after each frame.
#[derive(Default)]
struct Seen {
    ready: usize,
    notice: Option<String>,
}

struct Keys(UnboundedSender<io::Result<Event>>);

impl Keys {
    fn key(&self, code: KeyCode, modifiers: KeyModifiers) {
        let event = Event::Key(KeyEvent::new(code, modifiers));
        self.0.unbounded_send(Ok(event)).unwrap();
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
}

async fn notice_with(seen: &RefCell<Seen>, text: &str) -> String {
    wait_for(text, Duration::from_secs(60), async || {
        let notice = seen.borrow().notice.clone()?;
        notice.contains(text).then_some(notice)
    })
    .await
}

fn sha_of(path: &Path) -> String {
    support::sha256(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

#[tokio::test]
async fn alt_f_and_alt_k_move_files_byte_exact_through_sshd_on_the_sessions_own_connections() {
    if !sshd::available() || !support::have_all(&[SFTP_SERVER]) {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            host_key: Some(support::fixture("keys/host_ed25519")),
            extra: vec![format!("Subsystem sftp {SFTP_SERVER}")],
            ..Default::default()
        },
    );
    let host_key = support::fixture_key("host_ed25519").public_key().clone();
    let addr = server.addrs[0];
    let targets: Vec<Target> = (0..2)
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
    // The host is this machine: a directory the login user (maybe not us) may write to.
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let remote = shared.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    std::fs::set_permissions(&remote, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::write(remote.join("payload.bin"), b"old").unwrap();
    let payload = env.path("payload.bin");
    std::fs::write(&payload, support::noise(3 * 1024 * 1024 + 123)).unwrap();
    std::fs::set_permissions(&payload, std::fs::Permissions::from_mode(0o644)).unwrap();
    let got = env.path("got");

    let (engine, events) = Engine::new(EngineSettings {
        output_credit: Some(OUTPUT_CREDIT),
        ..Default::default()
    });
    let setup = TuiSetup {
        engine,
        events,
        ..TuiSetup::new(targets)
    };
    let (input, input_rx) = unbounded();
    let seen = RefCell::new(Seen::default());
    let event_loop = run_headless(setup, 160, 40, input_rx, |_, app| {
        let mut now = seen.borrow_mut();
        now.ready = app
            .pane_ids()
            .into_iter()
            .filter(|&id| matches!(app.pane_state(id), Some(mtssh::ssh::SessionState::Ready)))
            .count();
        now.notice = app.notice().map(str::to_string);
    });
    let script = async {
        let keys = Keys(input);
        wait_for("2 ready sessions", Duration::from_secs(30), async || {
            (seen.borrow().ready == 2).then_some(())
        })
        .await;
        // Only s01 receives.
        keys.alt('t');
        keys.alt('f');
        keys.line(payload.to_str().unwrap());
        keys.line(remote.to_str().unwrap());
        let notice = notice_with(&seen, "uploaded to").await;
        assert_eq!(notice, "uploaded to 1 of 1", "{}", server.log());
        // s00 is focused: it downloads the file back into got/s00/.
        keys.alt('k');
        keys.line(remote.join("payload.bin").to_str().unwrap());
        keys.line(got.to_str().unwrap());
        let notice = notice_with(&seen, "downloaded").await;
        assert!(
            notice.starts_with("downloaded 1 file, 3.0 MB to "),
            "{notice}"
        );
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();
    let want = sha_of(&payload);
    assert_eq!(sha_of(&remote.join("payload.bin")), want);
    assert_eq!(sha_of(&got.join("s00/payload.bin")), want);
    for dir in [&remote, &got.join("s00")] {
        let names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["payload.bin"], "{}", dir.display());
    }
}

/// The real binary in a real terminal (tmux): Alt-F and Alt-K arrive as the keys they are,
/// the dialogs ask, and the files land byte-exact in the mock hosts' SFTP directories.
#[tokio::test]
async fn in_a_real_terminal_alt_f_uploads_to_the_receivers_and_alt_k_downloads() {
    use crate::tui_e2e::launch_ready;
    if !support::have_all(&["tmux"]) {
        return;
    }
    let env = TestEnv::new();
    let server = support::mock(4).await;
    let payload = env.path("site.bin");
    std::fs::write(&payload, support::noise(1024 * 1024 + 7)).unwrap();
    let back = server.sftp_dir(0).unwrap();
    std::fs::create_dir_all(&back).unwrap();
    std::fs::write(back.join("report.txt"), b"from mock-01\n").unwrap();
    let got = env.path("got");
    let tmux = launch_ready(&env, &server).await;

    // mock-02 out of the broadcast; the focus back on mock-01.
    tmux.keys(&["Tab", "M-t", "BTab"]).await;
    tmux.keys(&["M-f"]).await;
    tmux.wait_screen("the local path question", |s| {
        s.contains("Local file or directory to upload")
            .then_some(())
    })
    .await;
    tmux.type_text(payload.to_str().unwrap()).await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_screen("the remote directory question", |s| {
        s.contains("Remote directory (Enter alone").then_some(())
    })
    .await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_screen("the folded result", |s| {
        s.contains("uploaded to 3 of 3").then_some(())
    })
    .await;
    let want = sha_of(&payload);
    for host in 0..4 {
        let copy = server.sftp_dir(host).unwrap().join("site.bin");
        if host == 1 {
            assert!(!copy.exists(), "mock-02 is no receiver");
        } else {
            assert_eq!(sha_of(&copy), want, "mock-{:02}", host + 1);
        }
    }

    tmux.keys(&["M-k"]).await;
    tmux.wait_screen("the remote path question", |s| {
        s.contains("Remote file or directory on mock-01")
            .then_some(())
    })
    .await;
    tmux.type_text("report.txt").await;
    tmux.keys(&["Enter"]).await;
    tmux.type_text(got.to_str().unwrap()).await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_screen("the download's result", |s| {
        s.contains("downloaded 1 file, 13 B to").then_some(())
    })
    .await;
    assert_eq!(
        std::fs::read(got.join("mock-01/report.txt")).unwrap(),
        b"from mock-01\n"
    );
    tmux.keys(&["C-q"]).await;
    tmux.wait_screen("the quit confirmation", |s| {
        s.contains("Quit and close them?").then_some(())
    })
    .await;
    tmux.keys(&["y"]).await;
    server.stop();
}
