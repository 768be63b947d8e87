//! The select-by-result flow in a real terminal (tmux) with the real binary against the mock,
//! two of its four hosts differing on purpose: the badges, the results view (F9), Enter on
//! the small group, and the next line reaching only that group.

use crate::support::{self, TestEnv, have_all};
use crate::tui_e2e::{has_line, launch_ready, mentions, pane_contents, token};

#[tokio::test]
async fn results_view_selects_the_differing_hosts_for_the_next_line() {
    if !have_all(&["tmux"]) {
        return;
    }
    let env = TestEnv::new();
    let server = support::mock_with(mtssh::mock::MockOptions {
        hosts: 4,
        differ: vec!["3-4:2:odd-one".parse().unwrap()],
        ..Default::default()
    })
    .await;
    let tmux = launch_ready(&env, &server).await;

    let first = token("res");
    tmux.type_text(&format!("echo {first}")).await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_screen("the badges", |s| {
        (s.contains("mock-01 ✓") && s.contains("mock-02 ✓"))
            .then_some(())
            .filter(|()| s.contains("mock-03 ✗ 2") && s.contains("mock-04 ✗ 2"))
    })
    .await;

    tmux.keys(&["F9"]).await;
    tmux.wait_screen("the results view with two groups", |s| {
        (s.contains("in 2 groups") && s.contains("mock-[03-04]")).then_some(())
    })
    .await;
    tmux.keys(&["Down"]).await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_screen("mock-01 and mock-02 out of the broadcast", |s| {
        (s.contains("○ mock-01 ✓") && s.contains("○ mock-02 ✓") && s.contains("→ 2/4"))
            .then_some(())
    })
    .await;

    let second = token("only");
    tmux.type_text(&format!("echo {second}")).await;
    tmux.keys(&["Enter"]).await;
    let panes = tmux
        .wait_screen("the next line in the small group", |s| {
            let panes = pane_contents(s);
            ["mock-03", "mock-04"]
                .iter()
                .all(|n| has_line(&panes, n, &second))
                .then_some(panes)
        })
        .await;
    for other in ["mock-01", "mock-02"] {
        assert!(
            !mentions(&panes, other, &second),
            "{other} got the line: {panes:?}"
        );
    }
    tmux.keys(&["C-q"]).await;
    tmux.keys(&["y"]).await;
    server.stop();
}

/// A canary broadcast in the real binary: Alt-Enter sends the line to mock-01 only, the
/// status bar says it succeeded, and Alt-Enter again sends it to the other three.
#[tokio::test]
async fn a_canary_broadcast_reaches_one_pane_then_the_rest_on_alt_enter() {
    if !have_all(&["tmux"]) {
        return;
    }
    let env = TestEnv::new();
    let server = support::mock_with(mtssh::mock::MockOptions {
        hosts: 4,
        ..Default::default()
    })
    .await;
    let tmux = launch_ready(&env, &server).await;

    let line = token("canary");
    tmux.type_text(&format!("echo {line}")).await;
    tmux.keys(&["M-Enter"]).await;
    let panes = tmux
        .wait_screen("the canary's success", |s| {
            s.contains("canary ✓ mock-01: Alt-Enter sends to the 3 others")
                .then(|| pane_contents(s))
        })
        .await;
    assert!(has_line(&panes, "mock-01", &line), "{panes:?}");
    for other in ["mock-02", "mock-03", "mock-04"] {
        assert!(
            !mentions(&panes, other, &line),
            "{other} got it early: {panes:?}"
        );
    }
    tmux.keys(&["M-Enter"]).await;
    tmux.wait_screen("the line in every pane", |s| {
        let panes = pane_contents(s);
        ["mock-01", "mock-02", "mock-03", "mock-04"]
            .iter()
            .all(|n| has_line(&panes, n, &line))
            .then_some(())
    })
    .await;
    tmux.keys(&["C-q"]).await;
    tmux.keys(&["y"]).await;
    server.stop();
}
