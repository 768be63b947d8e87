//! Canary, rolling and confirmed broadcasts in the real loop against the mock, some of its
//! hosts failing on purpose (`MockOptions::differ`).

use crossterm::event::{KeyCode, KeyModifiers};

use super::results_tests::{differing_mock, drive, groups, press, type_line, wait_for};
use crate::mock::MockServer;

/// The hosts whose shells were sent a line containing `text`, sorted.
fn reached(mock: &MockServer, text: &str) -> Vec<String> {
    let mut hosts: Vec<String> = mock
        .received()
        .into_iter()
        .filter(|r| String::from_utf8_lossy(&r.bytes).contains(text))
        .map(|r| r.host)
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

fn type_only(input: &super::results_tests::KeyInput, text: &str) {
    for c in text.chars() {
        press(input, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

#[tokio::test]
async fn a_failing_canary_stops_the_rest() {
    let mock = differing_mock(10, "1:1", true).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "10 ready sessions", |s| s.ready == 10).await;
        type_only(&input, "echo canary");
        press(&input, KeyCode::Enter, KeyModifiers::ALT);
        wait_for(&mut seen, "the canary's failure said", |s| {
            s.screen
                .contains("canary mock-01 failed (exit 1): echo canary not sent to the 9 others")
        })
        .await;
        // Alt-Enter again has nothing staged: it sends the (empty) line as a new canary,
        // never the old one.
        assert_eq!(seen.borrow().answered, 1);
    })
    .await;
    assert_eq!(reached(&mock, "echo canary"), ["mock-01"]);
    mock.stop();
}

#[tokio::test]
async fn a_good_canary_lets_the_rest_go_with_one_key() {
    let mock = differing_mock(10, "99", true).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "10 ready sessions", |s| s.ready == 10).await;
        type_only(&input, "echo canary");
        press(&input, KeyCode::Enter, KeyModifiers::ALT);
        wait_for(&mut seen, "the canary's success", |s| {
            s.screen
                .contains("canary ✓ mock-01: Alt-Enter sends to the 9 others, Esc drops")
        })
        .await;
        assert_eq!(seen.borrow().answered, 1);
        press(&input, KeyCode::Enter, KeyModifiers::ALT);
        let all = groups(&[("mock-[01-10]", "✓ exit 0", "canary\n")]);
        wait_for(&mut seen, "every answer", |s| s.groups == all).await;
    })
    .await;
    assert_eq!(reached(&mock, "echo canary").len(), 10);
    mock.stop();
}

#[tokio::test]
async fn a_rolling_cmd_in_batches_of_five_stops_at_the_first_failing_batch() {
    let mock = differing_mock(20, "8:2", true).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "20 ready sessions", |s| s.ready == 20).await;
        type_only(&input, ":echo roll");
        press(&input, KeyCode::Char('b'), KeyModifiers::ALT);
        wait_for(&mut seen, "the stop said", |s| {
            s.screen
                .contains("stopped: mock-08 failed (exit 2); 10 of 20 sessions got :echo roll")
        })
        .await;
        let mut stopped = groups(&[
            ("mock-[01-07,09-10]", "✓ exit 0", "roll\n"),
            ("mock-08", "✗ exit 2", "roll\ndiffers on purpose\n"),
            ("mock-[11-20]", "no answer yet", ""),
        ]);
        stopped.sort();
        wait_for(&mut seen, "ten answers, ten untouched", |s| {
            let mut shown = s.groups.clone();
            shown.sort();
            shown == stopped
        })
        .await;
    })
    .await;
    mock.stop();
}

#[tokio::test]
async fn a_destructive_line_waits_for_confirmation_and_says_how_many_hosts() {
    let mock = differing_mock(3, "99", true).await;
    drive(&mock, |input, mut seen| async move {
        wait_for(&mut seen, "3 ready sessions", |s| s.ready == 3).await;
        type_line(&input, "rm -rf /tmp/nothing-here");
        wait_for(&mut seen, "the confirmation", |s| {
            s.screen.contains("Send to 3 hosts? [y/n]")
                && s.screen.contains("mock-[01-03]")
                && s.screen.contains("it contains `rm -rf`")
        })
        .await;
        assert_eq!(seen.borrow().answered, 0, "nothing goes before the yes");
        press(&input, KeyCode::Char('y'), KeyModifiers::NONE);
        wait_for(&mut seen, "three answers", |s| {
            s.answered == 3 && !s.screen.contains("[y/n]")
        })
        .await;
    })
    .await;
    assert_eq!(reached(&mock, "rm -rf /tmp/nothing-here").len(), 3);
    mock.stop();
}
