use std::ops::ControlFlow;

use super::*;
use crate::app::pane::Pane;

fn unlimited(lines: usize) -> Budget {
    Budget {
        lines,
        bytes: usize::MAX,
    }
}

fn row(parts: &[(&str, Pen)]) -> RowBuf {
    let mut row = RowBuf::default();
    for (text, pen) in parts {
        row.push(text, text.chars().count() as u32, *pen);
    }
    row
}

fn red() -> Pen {
    Pen {
        fg: vt100::Color::Idx(1),
        bold: true,
        ..Pen::default()
    }
}

fn texts(history: &History) -> Vec<(LineNo, String)> {
    let mut out = Vec::new();
    let _ = history.visit(0, &mut |n, text| {
        out.push((n, text.to_string()));
        ControlFlow::Continue(())
    });
    out
}

#[test]
fn styles_round_trip() {
    let mut h = History::new(unlimited(10));
    let blue_bg = Pen {
        bg: vt100::Color::Rgb(0, 0, 200),
        ..Pen::default()
    };
    h.push_row(
        &row(&[("plain ", Pen::default()), ("red", red()), (" bg", blue_bg)]),
        false,
    );
    let line = h.line(0).unwrap();
    let spans: Vec<(String, Pen)> = line.spans().map(|(t, p)| (t.to_string(), p)).collect();
    let expected = [("plain ", Pen::default()), ("red", red()), (" bg", blue_bg)];
    assert_eq!(spans, expected.map(|(t, p)| (t.to_string(), p)));
    assert_eq!(line.width, 12);
    let popped = h.pop_last().unwrap();
    assert_eq!(
        popped
            .spans()
            .map(|(t, p)| (t.to_string(), p))
            .collect::<Vec<_>>(),
        spans
    );
    assert!(h.is_empty());
}

#[test]
fn wrapped_rows_make_one_line() {
    let mut h = History::new(unlimited(10));
    h.push_row(&row(&[("abcde", red())]), true);
    assert!(h.is_open());
    h.push_row(&row(&[("fg", red()), ("hi", Pen::default())]), false);
    h.push_row(&row(&[("next", Pen::default())]), false);
    assert_eq!(texts(&h), vec![(0, "abcdefghi".into()), (1, "next".into())]);
    let line = h.line(0).unwrap();
    // The joined row's first pen is the same as the line's: one run, not two.
    assert_eq!(
        line.spans().collect::<Vec<_>>(),
        vec![("abcdefg", red()), ("hi", Pen::default())]
    );
    assert_eq!(line.rows(5), 2);
    assert_eq!(line.rows(9), 1);
    assert_eq!(line.rows(3), 3);
    let mut rows = Vec::new();
    line.layout(4, |_, glyph, row, col, _| {
        rows.push((glyph.to_string(), row, col))
    });
    assert_eq!(rows[4], ("e".to_string(), 1, 0));
}

#[test]
fn wide_glyphs_wrap_whole() {
    let mut h = History::new(unlimited(10));
    let mut r = RowBuf::default();
    for c in ["中", "文", "中"] {
        r.push(c, 2, Pen::default());
    }
    h.push_row(&r, false);
    let line = h.line(0).unwrap();
    assert_eq!(line.width, 6);
    // At 5 columns the third glyph does not fit the first row's last column.
    assert_eq!(line.rows(5), 2);
    assert_eq!(cell_column("a中b", 2), Some(3));
}

#[test]
fn the_line_budget_evicts_the_oldest_and_numbers_stay_valid() {
    let mut h = History::new(unlimited(300));
    for i in 0..1000 {
        h.push_row(&row(&[(&format!("line {i}"), Pen::default())]), false);
    }
    assert_eq!(h.len(), 300);
    assert_eq!(h.span(), 700..1000);
    for n in [700, 701, 955, 999] {
        assert_eq!(h.line(n).unwrap().text, format!("line {n}"));
    }
    assert!(h.line(699).is_none() && h.line(1000).is_none());
    let mut seen = Vec::new();
    let _ = h.visit(990, &mut |n, text| {
        seen.push((n, text.to_string()));
        if n == 992 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!(
        seen,
        (990..=992)
            .map(|n| (n, format!("line {n}")))
            .collect::<Vec<_>>()
    );
    // Taking lines off the end and putting them back gives them their numbers again.
    let last = h.pop_last().unwrap();
    assert_eq!(h.span(), 700..999);
    h.push_row(&last, false);
    assert_eq!(h.line(999).unwrap().text, "line 999");
}

#[test]
fn the_memory_cap_evicts_whole_blocks() {
    let cap = 64 * 1024;
    let mut h = History::new(Budget {
        lines: usize::MAX,
        bytes: cap,
    });
    let long = "x".repeat(100);
    for i in 0..10_000 {
        h.push_row(&row(&[(&format!("{i:05} {long}"), Pen::default())]), false);
        assert!(h.bytes() <= cap, "{} bytes at line {i}", h.bytes());
    }
    assert!(h.len() > 100, "{}", h.len());
    let span = h.span();
    assert_eq!(span.end, 10_000);
    assert!(
        h.line(span.start)
            .unwrap()
            .text
            .starts_with(&format!("{:05}", span.start))
    );
}

#[test]
fn a_pane_keeps_scrolled_off_lines_with_their_colours() {
    let mut pane = Pane::new(0, "a".into(), 1000);
    pane.fit(20, 4);
    for i in 0..50 {
        pane.process(format!("\x1b[31mred {i}\x1b[0m plain\r\n").as_bytes());
    }
    let history = pane.history();
    assert_eq!(history.len(), 47);
    let line = history.line(3).unwrap();
    assert_eq!(line.text, "red 3 plain");
    let spans: Vec<_> = line.spans().collect();
    assert_eq!(spans[0].0, "red 3");
    assert_eq!(spans[0].1.fg, vt100::Color::Idx(1));
    assert_eq!(spans[1], (" plain", Pen::default()));
    assert_eq!(pane.line_span(), 0..51);
}

#[test]
fn output_in_one_big_chunk_loses_no_row() {
    // Pieces are cut so that vt100's small scrollback never overflows between reads.
    let mut pane = Pane::new(0, "a".into(), 100_000);
    pane.fit(10, 3);
    let mut text = String::new();
    for i in 0..5000 {
        text.push_str(&format!("{i}\n\r"));
        if i % 7 == 0 {
            // A long line wrapping over several rows, and a scroll-up by a lot.
            text.push_str(&"w".repeat(45));
            text.push_str("\r\n");
        }
        if i % 1000 == 0 {
            text.push_str("\x1b[20S");
        }
    }
    pane.process(text.as_bytes());
    let mut lines = Vec::new();
    pane.visit_lines(0, &mut |_, t| {
        lines.push(t.to_string());
        ControlFlow::Continue(())
    });
    let numbers: Vec<String> = lines
        .iter()
        .filter(|l| !l.is_empty() && !l.starts_with('w'))
        .cloned()
        .collect();
    let expected: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
    assert_eq!(numbers, expected);
    assert!(lines.contains(&"w".repeat(45)));
}

#[test]
fn a_scroll_up_by_more_than_the_conduit_pushes_what_vt100_would() {
    let mut pane = Pane::new(0, "a".into(), 1000);
    pane.fit(10, 12);
    for i in 0..12 {
        pane.process(format!("\r\n{i}").as_bytes());
    }
    let before = pane.history().len();
    // vt100 scrolls at most a screen: 12 rows, blank ones after the 12 written.
    pane.process(b"\x1b[30S");
    assert_eq!(pane.history().len(), before + 12);
    assert_eq!(pane.screen_text(), "");
    let text = pane.scrollback_text();
    assert!(text.ends_with("\n9\n10\n11\n"), "{text}");
}

#[test]
fn the_alternate_screen_leaves_no_history() {
    let mut pane = Pane::new(0, "a".into(), 1000);
    pane.fit(20, 4);
    pane.process(b"one\r\ntwo\r\n");
    pane.process(b"\x1b[?104");
    pane.process(b"9h");
    for i in 0..30 {
        pane.process(format!("full screen {i}\r\n").as_bytes());
    }
    pane.process(b"\x1b[?1049l");
    for i in 0..5 {
        pane.process(format!("after {i}\r\n").as_bytes());
    }
    let text = pane.scrollback_text();
    assert!(!text.contains("full screen"), "{text}");
    assert!(text.starts_with("one\ntwo\nafter 0\n"), "{text}");
    assert_eq!(pane.scroll_offset(), 0);
}

#[test]
fn the_line_api_finds_and_shows_a_line() {
    let mut pane = Pane::new(0, "a".into(), 1000);
    pane.fit(30, 5);
    for i in 0..40 {
        pane.process(format!("row {i}\r\n").as_bytes());
    }
    let span = pane.line_span();
    let mut found = None;
    pane.visit_lines(span.start, &mut |n, text| {
        if text == "row 12" {
            found = Some(n);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    let n = found.unwrap();
    assert_eq!(pane.view_cell_of(n, 4), None);
    pane.scroll_to_line(n);
    assert!(pane.scroll_offset() > 0);
    assert_eq!(pane.view_cell_of(n, 4), Some((0, 4)));
    assert_eq!(pane.view_cell_of(n + 1, 0), Some((1, 0)));
    // A screen line: on the live view at its row.
    let live = pane.line_span().end - 2;
    pane.scroll_to_line(live);
    assert_eq!(pane.scroll_offset(), 0);
    assert_eq!(pane.view_cell_of(live, 1), Some((3, 1)));
}
