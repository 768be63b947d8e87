//! Snapshots of whole screens rendered to a `TestBackend`, plus emulator fixtures.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use crate::app::{App, MockStatus, Msg};
use crate::ssh::{SessionError, SessionState};

pub(super) fn render(app: &App) -> String {
    render_buffer(app).0
}

pub(super) fn render_buffer(app: &App) -> (String, Buffer) {
    let backend = TestBackend::new(app.size.0, app.size.1);
    let mut terminal = Terminal::new(backend).expect("test backend");
    terminal.draw(|f| super::draw(f, app)).expect("draw");
    let backend = terminal.backend();
    (backend.to_string(), backend.buffer().clone())
}

/// An app of `n` ready panes, each showing a prompt line.
pub(super) fn ready_app(cols: u16, rows: u16, n: usize) -> App {
    let mut app = App::new(cols, rows, n);
    for i in 0..n {
        let (id, _) = app.add_pane(format!("host{:02}", i + 1));
        let _ = app.update(Msg::State {
            id,
            state: SessionState::Ready,
        });
        let data = format!("test@host{:02}:~$ ", i + 1).into_bytes();
        let _ = app.update(Msg::Output { id, data });
    }
    app
}

pub(super) fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) {
    let _ = app.update(Msg::Key(KeyEvent::new(code, mods)));
}

#[test]
fn layout_1_pane() {
    insta::assert_snapshot!(render(&ready_app(80, 20, 1)));
}

#[test]
fn layout_4_panes() {
    insta::assert_snapshot!(render(&ready_app(100, 26, 4)));
}

#[test]
fn layout_9_panes() {
    insta::assert_snapshot!(render(&ready_app(120, 32, 9)));
}

#[test]
fn layout_16_panes() {
    insta::assert_snapshot!(render(&ready_app(160, 40, 16)));
}

#[test]
fn layout_100_panes_pages() {
    let mut app = ready_app(120, 30, 100);
    // 100 panes would page: the overview is shown unless the grid is asked for.
    assert!(app.overview_shown());
    key(&mut app, KeyCode::Char('o'), KeyModifiers::ALT);
    insta::assert_snapshot!("layout_100_page_1", render(&app));
    key(&mut app, KeyCode::PageDown, KeyModifiers::NONE);
    key(&mut app, KeyCode::PageDown, KeyModifiers::NONE);
    insta::assert_snapshot!("layout_100_page_3", render(&app));
}

#[test]
fn every_pane_state_in_titles() {
    let mut app = App::new(120, 24, 6);
    let states = [
        SessionState::Connecting,
        SessionState::Authenticating,
        SessionState::Ready,
        SessionState::Failed {
            error: SessionError::Other("connection refused".into()),
        },
        SessionState::Closed {
            exit_status: Some(130),
            signal: None,
        },
        SessionState::Closed {
            exit_status: None,
            signal: Some("TERM".into()),
        },
        SessionState::Closed {
            exit_status: None,
            signal: None,
        },
    ];
    for (i, state) in states.into_iter().enumerate() {
        let (id, _) = app.add_pane(format!("s{i}"));
        let _ = app.update(Msg::State { id, state });
    }
    // The last pane is taken out of the broadcast: its title shows ○.
    key(&mut app, KeyCode::BackTab, KeyModifiers::SHIFT);
    key(&mut app, KeyCode::Char('t'), KeyModifiers::ALT);
    key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    let (text, buf) = render_buffer(&app);
    insta::assert_snapshot!(text);
    // Colours are not in the text snapshot: check them here.
    let fg_of = |needle: &str| find_fg(&buf, needle);
    assert_eq!(fg_of("connecting"), Some(Color::Yellow));
    assert_eq!(fg_of("authenticating"), Some(Color::Yellow));
    assert_eq!(fg_of("ready ─"), Some(Color::Green));
    assert_eq!(fg_of("failed: connection r"), Some(Color::Red));
    assert_eq!(fg_of("closed: exit 130"), Some(Color::DarkGray));
    assert_eq!(fg_of("closed: signal TERM"), Some(Color::DarkGray));
}

#[test]
fn input_still_unsent_shows_in_the_pane_title() {
    let mut app = ready_app(120, 20, 2);
    let _ = app.update(Msg::InputPending(vec![(1, 1_258_291)]));
    let (text, buf) = render_buffer(&app);
    assert!(text.contains("host02 │ ready ⇡ 1.2 MB "), "{text}");
    assert!(text.contains("host01 │ ready ━"), "{text}");
    assert_eq!(text.matches('⇡').count(), 1, "{text}");
    assert_eq!(find_fg(&buf, "⇡ 1.2 MB"), Some(Color::Yellow));
    // Once the remote took it, the marker goes.
    let _ = app.update(Msg::InputPending(vec![(1, 0)]));
    assert!(!render(&app).contains('⇡'));
}

/// The cell where `needle` starts on screen.
fn find_cell<'a>(buf: &'a Buffer, needle: &str) -> Option<&'a ratatui::buffer::Cell> {
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        if let Some(byte) = row.find(needle) {
            let x = row[..byte].chars().count() as u16;
            return Some(&buf[(x, y)]);
        }
    }
    None
}

#[test]
fn a_pane_out_of_the_broadcast_has_its_body_dimmed_live_and_scrolled_back() {
    let mut app = ready_app(120, 20, 2);
    app.panes[1].in_broadcast = false;
    let dim = |buf: &Buffer, needle: &str| {
        find_cell(buf, needle)
            .unwrap_or_else(|| panic!("{needle} not on screen"))
            .modifier
            .contains(Modifier::DIM)
    };
    let (_, buf) = render_buffer(&app);
    assert!(dim(&buf, "test@host02"), "left out: dimmed");
    assert!(!dim(&buf, "test@host01"), "in the broadcast: not dimmed");
    // Scrolled back, the same.
    for id in 0..2 {
        let lines: String = (0..40).map(|i| format!("line{id}-{i}\r\n")).collect();
        let _ = app.update(Msg::Output {
            id,
            data: lines.into_bytes(),
        });
        app.panes[id].scroll_by(10);
    }
    let (text, buf) = render_buffer(&app);
    assert!(text.contains("Shift-End"), "scrolled back: {text}");
    assert!(dim(&buf, "line1-"), "left out, scrolled back: dimmed");
    assert!(
        !dim(&buf, "line0-"),
        "in the broadcast, scrolled back: not dimmed"
    );
}

/// The foreground colour of the first cell of `needle` on screen.
fn find_fg(buf: &Buffer, needle: &str) -> Option<Color> {
    find_cell(buf, needle).map(|cell| cell.fg)
}

#[test]
fn wide_chinese_text_in_a_pane() {
    let mut app = ready_app(60, 12, 1);
    let data = "\r\n$ echo 你好，世界\r\n你好，世界\r\n中a文b字c\r\n"
        .as_bytes()
        .to_vec();
    let _ = app.update(Msg::Output { id: 0, data });
    insta::assert_snapshot!(render(&app));
}

#[test]
fn help_overlay() {
    let mut app = ready_app(110, 34, 2);
    key(&mut app, KeyCode::F(1), KeyModifiers::NONE);
    insta::assert_snapshot!(render(&app));
}

#[test]
fn broadcast_bar_in_each_mode() {
    let mut app = ready_app(100, 8, 3);
    let _ = app.update(Msg::Mock(MockStatus::Listening("127.0.0.1:2222".into())));
    for c in "sudo systemctl restart nginx".chars() {
        key(&mut app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    key(&mut app, KeyCode::Char('t'), KeyModifiers::ALT);
    let bottom = |app: &App| render(app).lines().skip(6).collect::<Vec<_>>().join("\n");
    let mut shots = vec![bottom(&app)];
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('p'), KeyModifiers::ALT);
    key(&mut app, KeyCode::Char('x'), KeyModifiers::NONE);
    shots.push(bottom(&app));
    key(&mut app, KeyCode::Char('p'), KeyModifiers::ALT);
    key(&mut app, KeyCode::F(3), KeyModifiers::NONE);
    shots.push(bottom(&app));
    key(&mut app, KeyCode::Char(']'), KeyModifiers::CONTROL);
    key(&mut app, KeyCode::Char(']'), KeyModifiers::CONTROL);
    shots.push(bottom(&app));
    insta::assert_snapshot!(shots.join("\n"));
}

#[test]
fn dialogs() {
    let mut app = ready_app(80, 16, 2);
    let _ = app.update(Msg::Paste("make\nmake install\n".into()));
    insta::assert_snapshot!("dialog_paste", render(&app));
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    let text = "[sudo] password for test:".into();
    let _ = app.update(Msg::Prompt {
        id: 1,
        token: 1,
        text,
        echo: false,
    });
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    insta::assert_snapshot!("dialog_prompt_hidden", render(&app));
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('q'), KeyModifiers::CONTROL);
    insta::assert_snapshot!("dialog_quit", render(&app));
}

#[test]
fn empty_app_explains_how_to_start() {
    insta::assert_snapshot!(render(&App::new(70, 10, 0)));
}

/// A pane fed a fixture, its screen as text and its non-default styles as runs.
fn fixture_pane(bytes: &[u8]) -> String {
    let mut app = App::new(44, 12, 1);
    app.add_pane("fixture");
    let _ = app.update(Msg::Output {
        id: 0,
        data: bytes.to_vec(),
    });
    let (text, buf) = render_buffer(&app);
    format!("{text}\n{}", style_runs(&buf, 1..9))
}

/// Runs of equally styled cells that differ from the default, one line each, for rows.
fn style_runs(buf: &Buffer, rows: std::ops::Range<u16>) -> String {
    let mut out = String::new();
    for y in rows {
        let mut x = 1;
        while x < buf.area.width - 1 {
            let cell = &buf[(x, y)];
            let style = (cell.fg, cell.bg, cell.modifier);
            let start = x;
            let mut text = String::new();
            while x < buf.area.width - 1 && {
                let c = &buf[(x, y)];
                (c.fg, c.bg, c.modifier) == style
            } {
                text.push_str(buf[(x, y)].symbol());
                x += 1;
            }
            let plain = style == (Color::Reset, Color::Reset, Modifier::empty());
            if !plain {
                let (fg, bg, m) = style;
                out += &format!("row {y} col {start}: fg={fg:?} bg={bg:?} {m:?} {text:?}\n");
            }
        }
    }
    out
}

#[test]
fn fixture_colors() {
    insta::assert_snapshot!(fixture_pane(include_bytes!("fixtures/colors.bin")));
}

#[test]
fn fixture_cursor_moves() {
    insta::assert_snapshot!(fixture_pane(include_bytes!("fixtures/cursor_moves.bin")));
}

#[test]
fn fixture_cjk() {
    insta::assert_snapshot!(fixture_pane(include_bytes!("fixtures/cjk.bin")));
}

/// Remote bytes that try to reach the user's real terminal: titles, clipboard, DCS, APC,
/// PM, SOS, C1 controls (raw and UTF-8 encoded), BEL, and a bare ESC at the end.
const HOSTILE: &[u8] = b"ok\x1b]0;pwned\x07\x1b]2;pwned\x1b\\\x1b]52;c;aGVsbG8=\x07\x1bP1$qm\x1b\\\
\x1bPtmux;\x1b\x1b]0;x\x07\x1b\\\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\\x9d0;t\x9c\x90q\x9c\
\xc2\x9d0;t\xc2\x9c\xc2\x90q\xc2\x9c\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\r\n\x1b";

#[test]
fn hostile_output_never_reaches_the_real_terminal() {
    // The whole screen through the real crossterm backend, as the TUI draws it: panes fed
    // hostile output, a failure reason and a keyboard-interactive prompt that carry escapes.
    let mut app = ready_app(100, 30, 3);
    let _ = app.update(Msg::Output {
        id: 0,
        data: HOSTILE.to_vec(),
    });
    let _ = app.update(Msg::Output {
        id: 1,
        data: HOSTILE.repeat(50),
    });
    let _ = app.update(Msg::State {
        id: 2,
        state: SessionState::Failed {
            // Server text (a disconnect reason) ends up in errors.
            error: SessionError::AuthBrokeOff {
                reason: String::from_utf8_lossy(HOSTILE).into_owned(),
            },
        },
    });
    let _ = app.update(Msg::Prompt {
        id: 0,
        token: 1,
        text: String::from_utf8_lossy(HOSTILE).into_owned(),
        echo: false,
    });
    let (mut terminal, written) = crate::test_support::crossterm_terminal(app.size.0, app.size.1);
    terminal.draw(|f| super::draw(f, &app)).expect("draw");
    let bytes = written.take();
    assert!(bytes.windows(2).any(|w| w == b"ok"), "nothing drawn");
    crate::test_support::check_terminal_output(&bytes)
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&bytes)));
    for needle in [
        &b"\x1b]"[..],
        b"\x1bP",
        b"\x1b_",
        b"\x1b^",
        b"\x1bX",
        b"\x07",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{needle:?}"
        );
    }
}

#[test]
fn hostile_output_in_one_pane_at_tiny_sizes() {
    use crate::app::pane::Pane;
    let mut pane = Pane::new(0, "web01".into(), 10);
    for (cols, rows) in [(0, 0), (1, 1), (2, 1), (10, 3), (80, 24)] {
        pane.fit(cols, rows);
        pane.process(HOSTILE);
        for (w, h) in [(0, 0), (1, 1), (3, 3), (12, 5), (90, 30)] {
            crate::test_support::draw_and_check(&pane, w, h);
        }
    }
}

#[test]
fn hidden_input_and_secret_prompts_are_never_drawn() {
    let mut app = ready_app(100, 20, 2);
    key(&mut app, KeyCode::Char('p'), KeyModifiers::ALT);
    for c in "hunter2".chars() {
        key(&mut app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    let screen = render(&app);
    assert!(
        screen.contains("secret»") && !screen.contains("hunter2"),
        "{screen}"
    );
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let _ = app.update(Msg::Prompt {
        id: 1,
        token: 3,
        text: "Password:".into(),
        echo: false,
    });
    for c in "hunter4".chars() {
        key(&mut app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    let screen = render(&app);
    assert!(
        screen.contains("Password:") && !screen.contains("hunter4"),
        "{screen}"
    );
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let kept = format!(
        "{:?} {:?} {}",
        app.editor.history(),
        app.notice,
        render(&app)
    );
    assert!(!kept.contains("hunter"), "{kept}");
}

#[test]
fn a_pane_shorter_than_its_emulator_shows_the_cursors_rows() {
    // 5 rows of terminal: one row of pane inside its border, but the emulator keeps its
    // 3-row minimum. The row drawn is the cursor's, where the prompt is.
    let mut app = App::new(40, 5, 1);
    app.add_pane("tiny");
    let _ = app.update(Msg::Output {
        id: 0,
        data: b"first\r\nsecond\r\n$ typed".to_vec(),
    });
    assert_eq!(app.pty_size(0), Some((38, 3)));
    let text = render(&app);
    assert!(
        text.contains("$ typed") && !text.contains("first"),
        "{text}"
    );

    // Drawn directly: a 10-row emulator in 4 rows shows rows 6-9 when the cursor is on 9,
    // and scrolled back it shows the top of the view, down to the oldest history row.
    let mut pane = crate::app::pane::Pane::new(0, "p".into(), 100);
    pane.fit(20, 10);
    for i in 0..12 {
        pane.process(format!("\r\nline {i}").as_bytes());
    }
    let shown = |pane: &crate::app::pane::Pane| {
        let mut terminal = Terminal::new(TestBackend::new(20, 4)).unwrap();
        terminal
            .draw(|f| {
                let hidden = tui_term::widget::Cursor::default().visibility(false);
                // As draw_pane does: the history's view when scrolled back.
                if pane.scroll_offset() > 0 {
                    let view = super::pane::Scrolled::new(pane);
                    let term = tui_term::widget::PseudoTerminal::new(&view).cursor(hidden);
                    f.render_widget(term, f.area())
                } else {
                    let view = super::pane::FromRow::at_cursor(pane.screen(), 4);
                    let term = tui_term::widget::PseudoTerminal::new(&view).cursor(hidden);
                    f.render_widget(term, f.area())
                }
            })
            .unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..4)
            .map(|y| {
                let row: String = (0..20)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect();
                row.trim_end().to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shown(&pane), ["line 8", "line 9", "line 10", "line 11"]);
    pane.scroll_by(2);
    assert_eq!(shown(&pane), ["line 0", "line 1", "line 2", "line 3"]);
    pane.scroll_by(100);
    assert_eq!(shown(&pane), ["", "line 0", "line 1", "line 2"]);
    // Where the whole screen fits, the view starts at the top as before.
    use tui_term::widget::Screen;
    let view = super::pane::FromRow::at_cursor(pane.screen(), 10);
    assert_eq!(
        view.cell(0, 0).map(|c| c.contents().to_string()),
        pane.screen().cell(0, 0).map(|c| c.contents().to_string())
    );
}

#[test]
fn scrolled_back_history_rows_are_drawn_with_their_colours() {
    // Lines that left the screen long ago come back from the compact history, coloured.
    let mut app = ready_app(60, 12, 1);
    for i in 0..300 {
        let colour = 31 + i % 6;
        let data = format!("\x1b[{colour}mold line {i:03}\x1b[0m tail\r\n").into_bytes();
        let _ = app.update(Msg::Output { id: 0, data });
    }
    let (text, _) = render_buffer(&app);
    assert!(!text.contains("old line 000"), "{text}");
    // Back to the top of the history with Shift-PgUp, a page at a time.
    for _ in 0..200 {
        key(&mut app, KeyCode::PageUp, KeyModifiers::SHIFT);
    }
    assert!(app.panes[0].scroll_offset() > 0);
    let (text, buf) = render_buffer(&app);
    assert!(text.contains("old line 000 tail"), "{text}");
    assert_eq!(find_fg(&buf, "old line 000"), Some(Color::Indexed(1)));
    assert_eq!(find_fg(&buf, "old line 001"), Some(Color::Indexed(2)));
    assert_eq!(find_fg(&buf, " tail"), Some(Color::Reset));
    // Line 0 of the history is the prompt line the pane started with.
    assert!(text.contains("test@host01:~$"), "{text}");
    // Down a line: the view moves by one row, and new output keeps it on its lines.
    key(&mut app, KeyCode::Down, KeyModifiers::SHIFT);
    let data = b"\x1b[35mfresh\x1b[0m\r\n".to_vec();
    let _ = app.update(Msg::Output { id: 0, data });
    let (text, buf) = render_buffer(&app);
    let top = text.lines().nth(1).unwrap_or_default();
    assert!(top.contains("old line 001 tail"), "{text}");
    assert!(!text.contains("fresh"), "{text}");
    assert_eq!(find_fg(&buf, "old line 002"), Some(Color::Indexed(3)));
    key(&mut app, KeyCode::End, KeyModifiers::SHIFT);
    let (text, buf) = render_buffer(&app);
    assert!(
        text.contains("fresh") && !text.contains("old line 000"),
        "{text}"
    );
    assert_eq!(find_fg(&buf, "fresh"), Some(Color::Indexed(5)));
}

/// The status bar (the screen's second-last row) with the mock on, the lag gauge shown
/// and `notice` given.
fn status_bar(cols: u16, panes: usize, notice: Option<&str>) -> String {
    let mut app = ready_app(cols, 8, panes);
    let _ = app.update(Msg::Mock(MockStatus::Listening("127.0.0.1:2222".into())));
    let _ = app.update(Msg::Lag(std::time::Duration::from_millis(3)));
    if let Some(text) = notice {
        let _ = app.update(Msg::Notice(text.into()));
    }
    let screen = render(&app);
    let rows: Vec<&str> = screen.lines().collect();
    rows[rows.len() - 2].to_string()
}

const NOTICES: [Option<&str>; 4] = [
    None,
    Some("no unsent input to discard"),
    Some("host01 is still live; F8 closes it"),
    Some("saved to /home/student/.local/share/mtssh/mtssh-host01-3.txt"),
];

#[test]
fn status_bar_at_80_100_120_columns() {
    for cols in [80, 100, 120] {
        let bars: Vec<String> = NOTICES.iter().map(|n| status_bar(cols, 3, *n)).collect();
        insta::assert_snapshot!(format!("status_bar_{cols}"), bars.join("\n"));
    }
}

#[test]
fn status_bar_keeps_the_thread_message_from_80_columns() {
    for panes in [1, 12, 100] {
        let mut app = ready_app(200, 8, panes);
        let _ = app.update(Msg::Mock(MockStatus::Listening("127.0.0.1:2222".into())));
        let _ = app.update(Msg::Lag(std::time::Duration::from_millis(3)));
        let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::F(4), KeyModifiers::NONE)));
        let layout = app.layout();
        let plural = if panes == 1 { "" } else { "s" };
        let threads = format!("1 thread runs {panes} session{plural} + UI");
        for notice in NOTICES {
            app.notice = notice.map(str::to_string);
            // Only the bar is drawn, at each width: the panes do not change with it.
            for cols in 80..=200 {
                let mut terminal = Terminal::new(TestBackend::new(cols, 1)).expect("backend");
                terminal
                    .draw(|f| super::bars::draw_status(f, &app, &layout, f.area()))
                    .expect("draw");
                let bar = terminal.backend().to_string();
                for needle in [threads.as_str(), "F1 help", "LINE"] {
                    assert!(bar.contains(needle), "{cols} cols: {bar}");
                }
            }
        }
    }
}

#[test]
fn help_at_80x24_scrolls_to_its_last_row() {
    let mut app = ready_app(80, 24, 2);
    key(&mut app, KeyCode::F(1), KeyModifiers::NONE);
    let top = render(&app);
    insta::assert_snapshot!("help_80x24_top", top);
    assert!(!top.contains("Ctrl-Q"), "{top}");
    let mut seen = top.clone();
    // Row by row to the end: every row of the table is on screen at some point.
    for _ in 0..60 {
        key(&mut app, KeyCode::Down, KeyModifiers::NONE);
        seen += &render(&app);
    }
    let bottom = render(&app);
    insta::assert_snapshot!("help_80x24_bottom", bottom);
    assert!(bottom.contains("Ctrl-Q") && bottom.contains("F1 / any other key"));
    for (keys, _) in crate::app::help::KEY_HELP {
        assert!(seen.contains(keys), "{keys} never shown");
    }
    // PgUp and Home go back; End goes to the bottom at once; the wheel scrolls too.
    key(&mut app, KeyCode::PageUp, KeyModifiers::NONE);
    assert!(!render(&app).contains("Ctrl-Q"));
    key(&mut app, KeyCode::Home, KeyModifiers::NONE);
    assert_eq!(render(&app), top);
    let wheel = |app: &mut App, kind| {
        let event = crossterm::event::MouseEvent {
            kind,
            column: 40,
            row: 10,
            modifiers: KeyModifiers::NONE,
        };
        let _ = app.update(Msg::Mouse(event));
    };
    wheel(&mut app, crossterm::event::MouseEventKind::ScrollDown);
    assert_ne!(render(&app), top);
    wheel(&mut app, crossterm::event::MouseEventKind::ScrollUp);
    assert_eq!(render(&app), top);
    key(&mut app, KeyCode::End, KeyModifiers::NONE);
    assert_eq!(render(&app), bottom);
    key(&mut app, KeyCode::PageDown, KeyModifiers::NONE);
    assert_eq!(render(&app), bottom, "no scrolling past the end");
    // Any other key closes it.
    key(&mut app, KeyCode::Char('x'), KeyModifiers::NONE);
    assert!(app.overlay.is_none());
}

#[test]
fn help_and_status_bar_at_tiny_sizes_draw_without_panicking() {
    for (cols, rows) in [(1, 1), (2, 3), (12, 5), (30, 8), (79, 23)] {
        let mut app = ready_app(cols, rows, 3);
        let _ = app.update(Msg::Mock(MockStatus::Listening("127.0.0.1:2222".into())));
        key(&mut app, KeyCode::F(1), KeyModifiers::NONE);
        for code in [KeyCode::End, KeyCode::PageUp, KeyCode::Down, KeyCode::Up] {
            key(&mut app, code, KeyModifiers::NONE);
            // Set after the key, which clears it.
            app.notice = Some("web01: session ended with 1.2 MB unsent".into());
            let _ = render(&app);
        }
        assert!(matches!(
            app.overlay,
            Some(crate::app::Overlay::Help { .. })
        ));
    }
}

/// The loop draws through a [`super::Renderer`]: each frame must put on the terminal the
/// frame drawn afresh (cells, cursor and its visibility), whatever changed in between (output,
/// wide characters over narrow ones and back, a title's state or badge, focus, mode, a scroll,
/// an overlay, a resize); a frame of the same shape is drawn over the last, and panes that did
/// not change are left (or, on a full frame, copied), not drawn.
#[test]
fn a_frame_drawn_by_the_renderer_is_the_frame_drawn_afresh() {
    let mut app = ready_app(120, 32, 9);
    let mut renderer = super::Renderer::default();
    let mut shown = Terminal::new(TestBackend::new(120, 32)).expect("test backend");
    let mut check = |app: &App, step: &str, in_place: bool, copied: Option<usize>| {
        if shown.backend().buffer().area != ratatui::layout::Rect::new(0, 0, app.size.0, app.size.1)
        {
            shown.backend_mut().resize(app.size.0, app.size.1);
        }
        renderer.draw(&mut shown, app).expect("draw");
        let mut fresh =
            Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("test backend");
        fresh.draw(|f| super::draw(f, app)).expect("draw");
        assert_eq!(
            shown.backend().buffer(),
            fresh.backend().buffer(),
            "after {step}"
        );
        let cursor = |t: &Terminal<TestBackend>| {
            let b = t.backend();
            b.cursor_visible().then(|| b.cursor_position())
        };
        assert_eq!(cursor(&shown), cursor(&fresh), "the cursor after {step}");
        assert_eq!(
            renderer.drew_in_place(),
            in_place,
            "drawn in place after {step}"
        );
        if let Some(copied) = copied {
            assert_eq!(renderer.cache().copied(), copied, "panes left after {step}");
        }
    };
    check(&app, "the first frame", false, Some(0));
    check(&app, "nothing", true, Some(9));
    let _ = app.update(Msg::Output {
        id: 4,
        data: b"echo hi\r\nhi\r\n$ ".to_vec(),
    });
    check(&app, "output to one pane", true, Some(8));
    let _ = app.update(Msg::Output {
        id: 5,
        data: "\u{4f60}\u{597d}\u{4e16}\u{754c} wide".as_bytes().to_vec(),
    });
    check(&app, "wide characters", true, Some(8));
    let _ = app.update(Msg::Output {
        id: 5,
        data: b"\r\x1b[Knarrow over them".to_vec(),
    });
    check(&app, "narrow characters over wide ones", true, Some(8));
    let _ = app.update(Msg::State {
        id: 2,
        state: SessionState::Closed {
            exit_status: Some(1),
            signal: None,
        },
    });
    check(&app, "a state in one title", true, Some(8));
    key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    check(&app, "focus moved", true, Some(7));
    key(&mut app, KeyCode::Char('x'), KeyModifiers::NONE);
    check(&app, "a key in the broadcast line", true, Some(9));
    key(&mut app, KeyCode::F(3), KeyModifiers::NONE);
    check(&app, "keystroke mode", true, None);
    key(&mut app, KeyCode::Char(']'), KeyModifiers::CONTROL);
    key(&mut app, KeyCode::Char(']'), KeyModifiers::CONTROL);
    assert_eq!(app.mode(), crate::app::InputMode::Focus);
    check(&app, "focus mode", true, None);
    key(&mut app, KeyCode::Char(']'), KeyModifiers::CONTROL);
    assert_eq!(app.mode(), crate::app::InputMode::Line);
    for i in 0..40 {
        let data = format!("line {i}\r\n").into_bytes();
        let _ = app.update(Msg::Output { id: 1, data });
    }
    check(&app, "a pane scrolled its screen", true, None);
    key(&mut app, KeyCode::PageUp, KeyModifiers::SHIFT);
    check(&app, "a pane scrolled back", true, None);
    let _ = app.update(Msg::Output {
        id: 1,
        data: b"more\r\n".to_vec(),
    });
    check(&app, "output to a pane scrolled back", true, None);
    key(&mut app, KeyCode::End, KeyModifiers::SHIFT);
    check(&app, "back to live", true, None);
    key(&mut app, KeyCode::F(1), KeyModifiers::NONE);
    check(&app, "the help opened", false, None);
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    check(&app, "the help closed", false, Some(9));
    check(&app, "nothing after the help", true, Some(9));
    let _ = app.update(Msg::Resize {
        cols: 100,
        rows: 30,
    });
    check(&app, "a resize", false, None);
    check(&app, "nothing after the resize", true, None);
}

/// What the renderer sends a real terminal: frames drawn over the last reach a terminal
/// emulator (vt100, fed the crossterm backend's bytes) as the frame drawn afresh, with the
/// short runs of unchanged cells between changed ones printed again rather than jumped
/// (`pane::fill_short_gaps`), wide characters included.
#[test]
fn frames_drawn_over_the_last_reach_a_terminal_whole_with_short_gaps_printed() {
    let mut app = ready_app(120, 32, 9);
    let mut renderer = super::Renderer::default();
    let (mut terminal, written) = crate::test_support::crossterm_terminal(120, 32);
    let mut screen = vt100::Parser::new(32, 120, 0);
    let mut check = |app: &App, step: &str| -> Vec<u8> {
        renderer.draw(&mut terminal, app).expect("draw");
        let bytes = written.take();
        crate::test_support::check_terminal_output(&bytes)
            .unwrap_or_else(|e| panic!("{e} after {step}"));
        screen.process(&bytes);
        let mut fresh = Terminal::new(TestBackend::new(120, 32)).expect("test backend");
        fresh.draw(|f| super::draw(f, app)).expect("draw");
        let want: Vec<String> = super::screen_lines(fresh.backend().buffer())
            .iter()
            .map(|l| l.trim_end().to_string())
            .collect();
        let got: Vec<String> = screen
            .screen()
            .rows(0, 120)
            .map(|l| l.trim_end().to_string())
            .collect();
        assert_eq!(got, want, "the terminal's screen after {step}");
        bytes
    };
    check(&app, "the first frame");
    let output = |app: &mut App, id, data: &[u8]| {
        let _ = app.update(Msg::Output {
            id,
            data: data.to_vec(),
        });
    };
    output(&mut app, 4, b"\x1b[2J\x1b[Hone two six\r\n$ ");
    check(&app, "output to one pane");
    // The row's words change, the spaces between them do not: one row, one move.
    output(&mut app, 4, b"\x1b[Htwo six one");
    let bytes = check(&app, "a row rewritten in place");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("two six one"),
        "the spaces between changed words were jumped: {text:?}"
    );
    // A coloured gap is not printed again for free: still drawn right.
    output(&mut app, 4, b"\r\n\x1b[31ma\x1b[0m \x1b[31mb\x1b[0m c\r\n");
    check(&app, "coloured cells");
    output(&mut app, 4, b"\x1b[1A\rx\x1b[2Cy");
    check(&app, "changes either side of a coloured cell");
    output(
        &mut app,
        5,
        "\u{4f60}\u{597d} \u{4e16}\u{754c} wide".as_bytes(),
    );
    check(&app, "wide characters");
    output(&mut app, 5, "\r\u{4e16} \u{754c}\u{4f60} narrow".as_bytes());
    check(&app, "wide characters moved over wide ones");
    output(&mut app, 5, b"\r\x1b[Knarrow over them");
    check(&app, "narrow characters over wide ones");
    for i in 0..40 {
        output(&mut app, 1, format!("line {i} of many\r\n").as_bytes());
    }
    check(&app, "a pane scrolled its screen");
}
