//! The pane line API over vt100 (`Pane::line_span` and the rest): numbers that stay as
//! rows fall off, visits that leave the view alone, and where a line shows.

use super::*;

fn kept_lines(pane: &mut Pane, from: LineNo) -> Vec<(LineNo, String)> {
    let mut lines = Vec::new();
    pane.visit_lines(from, &mut |n, text| {
        lines.push((n, text.to_string()));
        std::ops::ControlFlow::Continue(())
    });
    lines
}

#[test]
fn line_numbers_stay_as_old_lines_fall_off() {
    let mut pane = Pane::new(0, "a".into(), 5);
    pane.fit(20, 3);
    for i in 0..4 {
        pane.process(format!("line {i}\r\n").as_bytes());
    }
    // Two rows scrolled into the history, three on the screen (the last one empty).
    assert_eq!(pane.line_span(), 0..5);
    let lines = kept_lines(&mut pane, 0);
    assert_eq!(lines[1], (1, "line 1".to_string()));
    assert_eq!(lines[4], (4, String::new()));
    for i in 4..20 {
        pane.process(format!("line {i}\r\n").as_bytes());
    }
    // 18 rows scrolled in, 5 kept: lines 13..18 in the history.
    assert_eq!(pane.line_span(), 13..21);
    let lines = kept_lines(&mut pane, 15);
    assert_eq!(lines[0], (15, "line 15".to_string()));
    assert_eq!(lines[4], (19, "line 19".to_string()));
    // Everything at once, more than the history holds, and a view scrolled back.
    pane.scroll_by(2);
    let flood: String = (20..40).map(|i| format!("line {i}\r\n")).collect();
    pane.process(flood.as_bytes());
    let span = pane.line_span();
    let lines = kept_lines(&mut pane, 0);
    assert_eq!(lines[0].0, span.start);
    assert_eq!(lines.last().unwrap().0 + 1, span.end);
    // The last three are the screen's: line 38, line 39 and the empty one.
    for (n, text) in &lines[..lines.len() - 1] {
        assert_eq!(text, &format!("line {n}"), "line {n}");
    }
}

#[test]
fn visiting_stops_early_and_leaves_the_view() {
    let mut pane = Pane::new(0, "a".into(), 50);
    pane.fit(20, 4);
    for i in 0..30 {
        pane.process(format!("row {i}\r\n").as_bytes());
    }
    pane.scroll_by(3);
    let mut seen = Vec::new();
    pane.visit_lines(10, &mut |n, text| {
        seen.push((n, text.to_string()));
        if n == 12 {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    });
    assert_eq!(
        seen,
        [
            (10, "row 10".into()),
            (11, "row 11".into()),
            (12, "row 12".into())
        ]
    );
    assert_eq!(pane.scroll_offset(), 3);
}

#[test]
fn a_line_scrolled_to_shows_where_the_view_says() {
    let mut pane = Pane::new(0, "a".into(), 50);
    pane.fit(20, 4);
    for i in 0..30 {
        pane.process(format!("row {i} 中x\r\n").as_bytes());
    }
    pane.scroll_to_line(5);
    let (row, col) = pane.view_cell_of(5, 7).expect("line 5 shows");
    assert_eq!(pane.view_row_text(row).unwrap(), "row 5 中x");
    // "row 5 " is six columns, the wide character two more.
    assert_eq!(col, 8);
    assert_eq!(pane.view_cell_of(29, 0), None);
    // The live screen: offset 0.
    pane.scroll_to_line(29);
    assert_eq!(pane.scroll_offset(), 0);
    assert!(pane.view_cell_of(29, 0).is_some());
}
