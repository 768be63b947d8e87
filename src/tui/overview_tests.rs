//! The overview in the real loop: a thousand practice sessions against the mock at 250x80,
//! two of its hosts failing on purpose.

use crossterm::event::{KeyCode, KeyModifiers};

use super::results_tests::{differing_mock, drive_at, press, type_line, wait_for};

/// Every whole word on screen (names are followed by a space or a badge, never run into
/// the next name), the ●/○ marks aside.
fn words(screen: &str) -> std::collections::HashSet<&str> {
    screen
        .split(|c: char| c.is_whitespace() || "●○│".contains(c))
        .filter(|w| !w.is_empty())
        .collect()
}

#[tokio::test]
async fn a_thousand_sessions_at_250x80_every_name_on_one_screen_failures_first() {
    let mock = differing_mock(1000, "500,750:1", true).await;
    drive_at(&mock, (250, 80), |input, mut seen| async move {
        wait_for(&mut seen, "1000 ready sessions", |s| s.ready == 1000).await;
        type_line(&input, "true");
        // More receivers than the confirmation threshold: it asks first.
        wait_for(&mut seen, "the confirmation", |s| {
            s.screen.contains("Send to 1000 hosts?")
        })
        .await;
        press(&input, KeyCode::Char('y'), KeyModifiers::NONE);
        wait_for(&mut seen, "1000 answers", |s| s.answered == 1000).await;
        // The frame after the last answer: the two failures sorted to the front.
        wait_for(&mut seen, "the failures first", |s| {
            let first = s.screen.lines().next().unwrap_or_default();
            first.starts_with("● mock-500 ✗ 1") && first.contains("● mock-750 ✗ 1")
        })
        .await;
        let screen = seen.borrow().screen.clone();
        let on_screen = words(&screen);
        let missing: Vec<String> = (0..1000)
            .map(crate::mock::host_name)
            .filter(|name| !on_screen.contains(name.as_str()))
            .collect();
        assert!(missing.is_empty(), "not on screen: {missing:?}\n{screen}");
        assert!(screen.contains("│ overview │"), "{screen}");
        // Enter zooms the highlighted tile (mock-01 stays focused): its pane fills the screen.
        press(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(&mut seen, "mock-01 zoomed", |s| {
            s.screen.contains("mock-01 ✓ │ ready") && s.screen.contains("zoom")
        })
        .await;
        press(&input, KeyCode::Char('m'), KeyModifiers::ALT);
        wait_for(&mut seen, "the overview again", |s| {
            s.screen.contains("│ overview │")
        })
        .await;
    })
    .await;
    mock.stop();
}
