//! `mtssh push` in a terminal: the indicatif progress display, out of the way of a password
//! prompt and erased before the report; driven through a pseudo-terminal of the test's own.

use std::time::Duration;

use crate::pty::Pty;
use crate::run_prompts::hosts_without_password;
use crate::support::{self, TestEnv};

const WAIT: Duration = Duration::from_secs(60);

/// The display's text (its message starts with the hosts count).
const BAR: &str = "/3 hosts done";

#[tokio::test]
async fn push_shows_one_progress_display_that_spares_the_prompt_and_is_erased_at_the_end() {
    let env = TestEnv::new();
    let server = support::mock(3).await;
    let hosts = hosts_without_password(&env, &server);
    // Big enough to take several of the loop's 200 ms progress ticks.
    let payload = env.path("payload.bin");
    let block: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    std::fs::write(&payload, block.repeat(48)).unwrap();
    let mut cmd = env.std_command(support::mtssh_bin());
    cmd.env("TERM", "xterm").args([
        "push",
        "-f",
        hosts.to_str().unwrap(),
        payload.to_str().unwrap(),
        ".",
    ]);
    let mut pty = Pty::spawn(cmd);
    assert!(
        pty.wait_for("Password for", 1, WAIT).await,
        "{:?}",
        pty.text()
    );
    let at_prompt = pty.output().len();
    // The loop ticks every 200 ms: a second gives the display five chances to draw over it.
    let _ = pty
        .wait_for("never printed", 1, Duration::from_secs(1))
        .await;
    let waiting = String::from_utf8_lossy(&pty.output()[at_prompt..]).into_owned();
    assert!(
        !waiting.contains(BAR) && !waiting.contains("\x1b[2K"),
        "the display drew over the prompt: {waiting:?}"
    );
    // One answer serves every host (the password is remembered for the run).
    pty.type_bytes(b"123456\r");
    let status = pty.wait_exit(WAIT).await;
    let text = pty.text();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{text:?}");
    assert_eq!(text.matches("Password for").count(), 1, "{text:?}");
    assert!(
        !text.contains("123456"),
        "the password was echoed: {text:?}"
    );
    let after_prompt = &text[at_prompt..];
    // Drawn again once the prompt was answered, as indicatif's bar with the total.
    assert!(after_prompt.contains(BAR), "no display: {text:?}");
    assert!(after_prompt.contains(" of 144.0 MB"), "{text:?}");
    assert!(after_prompt.contains("[#"), "no bar: {text:?}");
    for host in 0..3 {
        let got = std::fs::read(server.sftp_dir(host).unwrap().join("payload.bin")).unwrap();
        assert_eq!(got.len(), 48 * 1024 * 1024, "mock-0{}", host + 1);
    }
    // Erased before the report: the report's lines come after the last draw and an erase,
    // and none of them carries the display's text.
    let last_draw = text.rfind(BAR).unwrap();
    let report = text.find("mock-[01-03]").expect("no folded report");
    assert!(
        report > last_draw,
        "the report came before the display's end: {text:?}"
    );
    assert!(
        text[last_draw..report].contains("\r\x1b[2K"),
        "not erased: {text:?}"
    );
    let summary = text
        .lines()
        .find(|l| l.contains("3 hosts: 3 ok"))
        .unwrap_or_else(|| panic!("no summary: {text:?}"));
    assert!(!summary.contains("hosts done"), "{summary:?}");
}
