//! Frames to the terminal: the whole screen when its shape changed, otherwise only what
//! changed on it.
//!
//! ratatui's `Terminal::draw` draws each frame on a blank buffer and diffs every cell of it
//! against the last: at 250x80 that is 20 000 cells reset, 20 000 copied back from the pane
//! cache and 20 000 compared, ~0.3 ms however little changed (a broadcast's last reply
//! changes a few panes). Here the terminal's current buffer is kept as what the screen shows;
//! a frame of the same [`GridShape`] as the last is drawn over it, and only the areas it
//! redrew are diffed and sent. Any other frame goes the ratatui way, on a blank buffer diffed
//! whole against the screen. Same output either way: tests compare both with a frame drawn
//! afresh.

use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Position;

use super::{GridShape, PaneCache, draw_changes, draw_full, grid_shape};
use crate::app::App;

/// Draws `App`s on a terminal, frame after frame. Kept by the loop.
#[derive(Default)]
pub struct Renderer {
    cache: PaneCache,
    /// Whether the terminal's current buffer holds what the screen shows (every frame drawn
    /// here leaves it so; a clear or a resize does not).
    shown: bool,
    /// The shape of the last frame, if it had one.
    shape: Option<GridShape>,
    /// Whether the last frame was drawn over the one before.
    in_place: bool,
}

impl Renderer {
    /// Draws `app` and sends the terminal what changed.
    pub fn draw<B: Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        app: &App,
    ) -> Result<(), B::Error> {
        let before = terminal.get_frame().area();
        terminal.autoresize()?;
        let area = terminal.get_frame().area();
        if area != before {
            // Resized: the screen was cleared, and the buffer behind it with it.
            self.shown = false;
        }
        // Computed once a frame, for the shape and for the drawing.
        let pane_layout = app.layout();
        let shape = grid_shape(app, &pane_layout, area);
        self.in_place = self.shown && shape.is_some() && shape == self.shape;
        let cursor = if self.in_place {
            let cursor = draw_changes(
                &mut terminal.get_frame(),
                app,
                &pane_layout,
                &mut self.cache,
            );
            terminal
                .backend_mut()
                .draw(self.cache.redrawn().updates())?;
            cursor
        } else {
            // The buffer to draw on must be blank and the other one the screen's: after a
            // frame drawn here, swapping makes it so (ratatui resets the buffer it swaps in).
            if self.shown {
                terminal.swap_buffers();
            } else {
                terminal.current_buffer_mut().reset();
            }
            let cursor = draw_full(
                &mut terminal.get_frame(),
                app,
                &pane_layout,
                &mut self.cache,
            );
            terminal.flush()?;
            cursor
        };
        self.shown = true;
        self.shape = shape;
        show_cursor(terminal, cursor)?;
        Backend::flush(terminal.backend_mut())
    }

    /// Clears the screen: the next frame is drawn whole.
    pub fn clear<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> Result<(), B::Error> {
        terminal.clear()?;
        self.shown = false;
        Ok(())
    }

    /// The pane cache: how many panes the last frame did not draw.
    pub fn cache(&self) -> &PaneCache {
        &self.cache
    }

    /// Whether the last frame was drawn over the one before (only what changed).
    pub fn drew_in_place(&self) -> bool {
        self.in_place
    }
}

/// As ratatui does after a frame: the cursor shows where the frame put it, or is hidden.
fn show_cursor<B: Backend>(
    terminal: &mut Terminal<B>,
    cursor: Option<Position>,
) -> Result<(), B::Error> {
    match cursor {
        None => terminal.hide_cursor(),
        Some(position) => {
            terminal.show_cursor()?;
            terminal.set_cursor_position(position)
        }
    }
}
