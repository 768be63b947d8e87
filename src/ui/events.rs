//! The F12 event view: the one thread's wake-ups, live (what `mtssh run --trace-events`
//! prints, for the TUI's own loop).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::app::events::EventView;
use crate::app::layout::centered;
use crate::lang::{tr, trf};

/// The view's fixed words; the lines with values are `trf` templates below (keys of
/// `lang/zh/events.rs`).
mod words {
    pub const TITLE: &str = " Event loop: the one thread's wake-ups (any key closes) ";
    pub const WAITING: &str = "recording… the first sample comes within a quarter second";
    /// Right-aligned like the rows below it: `+ms` and `awake ms` end where their numbers do.
    pub const HEADER: &str = "  wake         +ms  awake ms  ready sockets";
    pub const NO_EVENTS: &str = "— a timer (the 10 ms lag probe) or a channel";
}

pub(super) fn draw_events(frame: &mut Frame, view: &EventView, area: Rect) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).min(100),
        area.height.saturating_sub(2),
    );
    let block = super::overlay::dialog_block(tr(words::TITLE));
    let inner = block.inner(rect);
    let heading = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    match &view.latest {
        None => lines.push(Line::raw(tr(words::WAITING))),
        Some(sample) => {
            let t = &sample.snapshot.totals;
            let rate = |r: Option<f64>| r.map(|r| format!(" ({r:.0}/s)")).unwrap_or_default();
            let per_wake = if t.wakeups > 0 {
                t.events as f64 / t.wakeups as f64
            } else {
                0.0
            };
            lines.push(Line::raw(trf(
                "wake-ups {wakeups}{wakeup_rate}  socket events {events}{event_rate}  \
                 {per_wake} per wake-up, at most {most}",
                &[
                    ("wakeups", &t.wakeups),
                    ("wakeup_rate", &rate(view.rates.map(|r| r.wakeups))),
                    ("events", &t.events),
                    ("event_rate", &rate(view.rates.map(|r| r.events))),
                    ("per_wake", &format!("{per_wake:.1}")),
                    ("most", &t.most_events),
                ],
            )));
            let share = view.rates.map(|r| r.awake).unwrap_or_else(|| {
                let e = t.elapsed.as_secs_f64();
                if e > 0.0 {
                    t.awake.as_secs_f64() / e
                } else {
                    0.0
                }
            });
            lines.push(Line::raw(trf(
                "awake {share} % of the time  would block (EAGAIN): reads {reads}, writes {writes}",
                &[
                    ("share", &format!("{:.1}", share * 100.0)),
                    ("reads", &t.reads_would_block),
                    ("writes", &t.writes_would_block),
                ],
            )));
            let th = sample.threads;
            lines.push(Line::styled(
                trf(
                    "OS threads {total} (the loop, the terminal reader, blocking pool {pool})",
                    &[("total", &th.total), ("pool", &th.blocking_pool)],
                ),
                Style::new().fg(Color::Cyan),
            ));
            lines.push(Line::raw(""));
            lines.push(Line::styled(tr(words::HEADER), heading));
            let room = usize::from(inner.height).saturating_sub(lines.len());
            let width = usize::from(inner.width);
            for wake in sample.snapshot.recent.iter().rev().take(room) {
                let ready = if wake.events.is_empty() {
                    tr(words::NO_EVENTS).to_string()
                } else {
                    let mut text = format!("{}: ", wake.events.len());
                    for (i, e) in wake.events.iter().enumerate() {
                        let item = format!(
                            "{}{} {}",
                            if i > 0 { ", " } else { "" },
                            e.session,
                            tr(e.readiness.label())
                        );
                        if 40 + text.len() + item.len() > width {
                            let more = wake.events.len() - i;
                            text.push_str(&trf(", {more} more", &[("more", &more)]));
                            break;
                        }
                        text.push_str(&item);
                    }
                    text
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!(
                            "  #{:<6} {:>8.1} {:>9.2}  ",
                            wake.number,
                            wake.at.as_secs_f64() * 1000.0,
                            wake.awake.as_secs_f64() * 1000.0
                        ),
                        Style::new().fg(Color::DarkGray),
                    ),
                    Span::raw(crate::text::neutralize(ready.as_bytes())),
                ]));
            }
        }
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crossterm::event::{KeyCode, KeyModifiers};

    use crate::app::Msg;
    use crate::app::events::EventSample;
    use crate::sys::wakeups::{Readiness, Snapshot, SocketEvent, Threads, Totals, Wake};
    use crate::ui::tests::{key, ready_app, render};

    fn wake(number: u64, events: &[(&str, Readiness)]) -> Wake {
        Wake {
            number,
            at: Duration::from_micros(number * 10_250),
            events: events
                .iter()
                .map(|(s, r)| SocketEvent {
                    session: (*s).into(),
                    readiness: *r,
                })
                .collect(),
            awake: Duration::from_micros(40 + number * 3),
        }
    }

    fn sample(wakeups: u64, events: u64, elapsed_ms: u64) -> Box<EventSample> {
        use Readiness::*;
        Box::new(EventSample {
            snapshot: Snapshot {
                totals: Totals {
                    wakeups,
                    events,
                    most_events: 3,
                    awake: Duration::from_millis(elapsed_ms / 50),
                    elapsed: Duration::from_millis(elapsed_ms),
                    reads_would_block: 40,
                    writes_would_block: 0,
                },
                recent: vec![
                    wake(
                        41,
                        &[
                            ("host01", Readable),
                            ("host02", Readable),
                            ("host03", Writable),
                        ],
                    ),
                    wake(42, &[]),
                    wake(43, &[("host02", Readable), ("host02", Writable)]),
                ],
            },
            threads: Threads {
                total: 3,
                blocking_pool: 1,
            },
        })
    }

    #[test]
    fn f12_shows_the_wakeups_and_any_key_closes_it() {
        let mut app = ready_app(100, 24, 3);
        key(&mut app, KeyCode::F(12), KeyModifiers::NONE);
        assert!(app.event_view_open());
        let _ = app.update(Msg::EventLoop(sample(40, 90, 1000)));
        let _ = app.update(Msg::EventLoop(sample(43, 95, 1250)));
        insta::assert_snapshot!(render(&app));
        key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
        assert!(!app.event_view_open());
        // Closed, a late sample is dropped.
        let _ = app.update(Msg::EventLoop(sample(44, 96, 1500)));
        assert!(app.overlay.is_none());
    }

    #[test]
    fn the_event_view_in_chinese_keeps_its_columns() {
        crate::lang::with(crate::lang::Lang::Zh, || {
            let mut app = ready_app(100, 24, 3);
            key(&mut app, KeyCode::F(12), KeyModifiers::NONE);
            let _ = app.update(Msg::EventLoop(sample(40, 90, 1000)));
            let _ = app.update(Msg::EventLoop(sample(43, 95, 1250)));
            let screen = render(&app);
            insta::assert_snapshot!("zh_event_view_100x24", screen);
            for needle in ["事件循环", "套接字事件 95", "host02 可写", "就绪的套接字"]
            {
                assert!(screen.contains(needle), "{needle}:\n{screen}");
            }
        });
    }
}
