//! `mtssh run --trace-events` against the mock server: a line per wake-up of the one event
//! loop naming the sessions whose sockets were ready, a summary that counts the same
//! wake-ups, and a thread count that stays small however many sessions run.

use crate::run_cmd::mtssh;
use crate::support::{self, TestEnv};

/// The `N` of `... PREFIX N ...` in `line`.
fn number_after(line: &str, prefix: &str) -> u64 {
    let rest = &line[line
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix:?} in {line}"))
        + prefix.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number after {prefix:?} in {line}"))
}

/// `mtssh run --trace-events` on `count` sessions per mock host.
async fn traced_run(
    env: &TestEnv,
    server: &mtssh::mock::MockServer,
    count: usize,
) -> crate::run_cmd::RunOutput {
    let (hosts, kh) = env.mock_host_list(server);
    let count = count.to_string();
    mtssh(
        env,
        &[
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
            "--count",
            &count,
            "--trace-events",
            "-c",
            "echo traced",
        ],
    )
    .await
}

/// The summary line of a traced run.
fn summary(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("event loop: "))
        .unwrap_or_else(|| panic!("no summary:\n{stderr}"))
}

#[tokio::test]
async fn trace_events_names_the_ready_sessions_and_counts_every_wakeup() {
    let env = TestEnv::new();
    let server = support::mock(3).await;
    // Six sessions: at most twelve events a wake-up, every one named on its line.
    let out = traced_run(&env, &server, 2).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("traced"), "{}", out.stdout);
    let wakes: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("wake #"))
        .collect();
    // Numbered 1, 2, 3, … with nothing lost between the loop and the printer thread.
    for (i, line) in wakes.iter().enumerate() {
        assert_eq!(number_after(line, "wake #"), i as u64 + 1, "{line}");
        assert!(line.contains(" ms; threads "), "{line}");
    }
    for host in ["mock-01#1", "mock-01#2", "mock-02#1", "mock-03#2"] {
        assert!(
            wakes
                .iter()
                .any(|l| l.contains(&format!("{host} readable"))),
            "no wake-up found {host}'s socket readable:\n{}",
            out.stderr
        );
    }
    // Fewer wake-ups than events: the loop serves several sockets per wake-up, as
    // select() returns several ready descriptors.
    let summary = summary(&out.stderr);
    assert_eq!(
        number_after(summary, "event loop: "),
        wakes.len() as u64,
        "{summary}"
    );
    let events = number_after(summary, "wake-ups, ");
    assert!(events > wakes.len() as u64, "{summary}");
    assert!(
        number_after(summary, "would block (EAGAIN) ") > 0,
        "{summary}"
    );
    let threads = number_after(summary, "threads at most ");
    for line in &wakes {
        assert!(number_after(line, "; threads ") <= threads, "{line}");
    }
}

#[tokio::test]
async fn sixty_traced_sessions_run_on_a_handful_of_threads() {
    let env = TestEnv::new();
    let server = support::mock(3).await;
    let out = traced_run(&env, &server, 20).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout.matches("traced").count(),
        1,
        "folded: {}",
        out.stdout
    );
    // The loop, the trace printer and the blocking pool, which main.rs caps at 8: not one
    // per session. How many pool threads a run starts is tokio's timing (a call spawned
    // just as the last one ends may get a new thread), so the bound is the cap, not a guess
    // below it (6 failed once with 5 pool threads).
    let summary = summary(&out.stderr);
    let threads = number_after(summary, "threads at most ");
    assert!((2..=2 + 8).contains(&threads), "{summary}");
}

#[tokio::test]
async fn trace_events_refuses_the_modes_without_the_one_loop() {
    let env = TestEnv::new();
    let out = mtssh(
        &env,
        &[
            "run",
            "-H",
            "127.0.0.1",
            "--mode",
            "threads",
            "--trace-events",
            "true",
        ],
    )
    .await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--mode event-loop"), "{}", out.stderr);
}
