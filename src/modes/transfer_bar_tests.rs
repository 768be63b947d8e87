use std::time::{Duration, Instant};

use indicatif::{InMemoryTerm, ProgressDrawTarget, TermLike};

use super::{HostBytes, TransferBar, message};
use crate::lang::{Lang, with};
use crate::ssh::human_bytes;

fn host(name: &str, moved: u64, finished: bool) -> HostBytes<'_> {
    HostBytes {
        name,
        moved,
        finished,
    }
}

const MB: u64 = 1024 * 1024;

#[test]
fn the_message_names_the_hosts_with_the_most_left_and_the_time_left() {
    let hosts = [
        host("done-1", 10 * MB, true),
        host("fast", 8 * MB, false),
        host("slow-a", MB, false),
        host("slow-b", 2 * MB, false),
        host("slow-c", 3 * MB, false),
    ];
    with(Lang::En, || {
        // 26 MB left on the four still going (2 + 9 + 8 + 7) at 2 MB/s: 13 s.
        let text = message(&hosts, Some(10 * MB), 2.0 * MB as f64);
        assert_eq!(
            text,
            format!(
                "1/5 hosts done, {} of {}, {}/s, ETA 13s, slowest: slow-a slow-b slow-c",
                human_bytes(24 * MB),
                human_bytes(50 * MB),
                human_bytes(2 * MB),
            )
        );
    });
}

#[test]
fn without_a_known_total_the_message_has_no_eta_and_one_host_left_is_not_the_slowest() {
    let hosts = [host("a", 5 * MB, true), host("b", MB, false)];
    with(Lang::En, || {
        let text = message(&hosts, None, 1024.0);
        assert_eq!(
            text,
            format!("1/2 hosts done, {}, 1.0 KB/s", human_bytes(6 * MB))
        );
        // Nothing moving yet: no time left to guess.
        let text = message(&hosts, Some(10 * MB), 0.0);
        assert!(!text.contains("ETA"), "{text}");
    });
    with(Lang::Zh, || {
        let text = message(&[host("a", 0, false), host("b", 0, false)], Some(MB), 1e6);
        assert!(text.starts_with("已完成 0/2 台主机"), "{text}");
        assert!(
            text.contains("预计还需") && text.contains("最慢：a b"),
            "{text}"
        );
    });
}

#[test]
fn the_bar_is_drawn_with_indicatif_and_cleared_at_the_end() {
    let term = InMemoryTerm::new(4, 120);
    let mut bar = TransferBar::with_target(
        Some(4 * MB),
        2,
        ProgressDrawTarget::term_like(Box::new(term.clone())),
    );
    let start = Instant::now();
    bar.last = (start, 0);
    let hosts = [host("mock-01", 2 * MB, false), host("mock-02", MB, false)];
    with(Lang::En, || {
        bar.update_at(&hosts, start + Duration::from_secs(1));
    });
    let screen = term.contents();
    // 3 MB in 1 s; half-way overall (3 of 8 MB): the bar is partly filled.
    assert!(screen.starts_with("[###########"), "{screen}");
    assert!(
        screen.contains(&format!(
            "0/2 hosts done, {} of {}, {}/s, ETA 2s, slowest: mock-02 mock-01",
            human_bytes(3 * MB),
            human_bytes(8 * MB),
            human_bytes(3 * MB)
        )),
        "{screen}"
    );
    bar.finish();
    assert_eq!(
        term.contents().trim(),
        "",
        "the display is erased at the end"
    );
    assert_eq!(term.width(), 120);
}

#[test]
fn a_bar_that_is_not_wanted_draws_nothing() {
    let mut bar = TransferBar::new(Some(MB), 1, false);
    bar.update(&[host("a", 1, false)]);
    assert!(bar.bar.is_hidden());
}
