//! Helpers shared by unit tests and fuzz targets: draw through the real crossterm backend into
//! memory and check what a terminal would receive. Built only for tests and with
//! `--features fuzzing`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a panic is the report"
)]

/// Draws `pane` the way the TUI does, through `CrosstermBackend`, into a `cols` x `rows`
/// screen, and checks the bytes written.
pub fn draw_and_check(pane: &crate::app::pane::Pane, cols: u16, rows: u16) {
    let bytes = draw_pane_bytes(pane, cols, rows);
    if let Err(e) = check_terminal_output(&bytes) {
        panic!("{e}: {:?}", String::from_utf8_lossy(&bytes));
    }
}

/// The bytes the crossterm backend writes to draw one pane's emulated screen full-size.
pub fn draw_pane_bytes(pane: &crate::app::pane::Pane, cols: u16, rows: u16) -> Vec<u8> {
    use ratatui::layout::Rect;
    use ratatui::widgets::Block;
    let area = Rect::new(0, 0, cols, rows);
    let (mut terminal, written) = crossterm_terminal(cols, rows);
    terminal
        .draw(|frame| {
            let widget = tui_term::widget::PseudoTerminal::new(pane.screen())
                .block(Block::bordered().title(pane.name.as_str()));
            frame.render_widget(widget, area);
        })
        .expect("drawing into memory");
    written.take()
}

/// An in-memory writer whose bytes stay readable while a backend owns it.
#[derive(Clone, Default)]
pub struct Written(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Written {
    /// Everything written so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

impl std::io::Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A ratatui terminal over the real crossterm backend writing into memory, with a fixed
/// viewport (memory has no window size to ask for), and the handle to read what it wrote.
pub fn crossterm_terminal(
    cols: u16,
    rows: u16,
) -> (
    ratatui::Terminal<ratatui::backend::CrosstermBackend<Written>>,
    Written,
) {
    use ratatui::layout::Rect;
    let written = Written::default();
    let backend = ratatui::backend::CrosstermBackend::new(written.clone());
    let terminal = ratatui::Terminal::with_options(
        backend,
        ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(Rect::new(0, 0, cols, rows)),
        },
    )
    .expect("terminal in memory");
    (terminal, written)
}

/// Checks that terminal output holds nothing but text and CSI sequences: no OSC, DCS, APC,
/// PM or SOS strings (ESC ] / ESC P / ESC _ / ESC ^ / ESC X, or their C1 forms), no other
/// escape, no BEL or other C0 control besides CR and LF, and valid UTF-8.
pub fn check_terminal_output(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\x1b' => {
                if chars.next().map(|(_, c)| c) != Some('[') {
                    return Err(format!("escape other than CSI at byte {at}"));
                }
                // Parameters and intermediates, then one final byte.
                loop {
                    match chars.next().map(|(_, c)| c) {
                        Some('\x20'..='\x3f') => {}
                        Some('\x40'..='\x7e') => break,
                        other => return Err(format!("broken CSI at byte {at}: {other:?}")),
                    }
                }
            }
            '\r' | '\n' => {}
            c if c.is_control() => {
                return Err(format!("control character {:?} at byte {at}", c));
            }
            _ => {}
        }
    }
    Ok(())
}

/// For unit tests that cross-check with an outside program (`ssh -G`, `ssh-keygen`): reports
/// the current test as skipped with one `SKIPPED <test>: <why>` line, or fails it under
/// MTSSH_REQUIRE_PEERS=1, as the integration tests do.
pub fn skip_without_peer(why: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    if std::env::var("MTSSH_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{test}: {why}, and MTSSH_REQUIRE_PEERS=1 requires it");
    }
    eprintln!("SKIPPED {test}: {why}");
}
