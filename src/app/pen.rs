//! The drawing attributes of a cell: what a resize replays ([`super::reflow`]) and what the
//! compact history keeps per style run ([`super::history`]).

/// The drawing attributes of a cell or of the pen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pen {
    pub fg: vt100::Color,
    pub bg: vt100::Color,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub inverse: bool,
}

impl Pen {
    pub fn of_cell(c: &vt100::Cell) -> Pen {
        Pen {
            fg: c.fgcolor(),
            bg: c.bgcolor(),
            bold: c.bold(),
            dim: c.dim(),
            italic: c.italic(),
            underline: c.underline(),
            inverse: c.inverse(),
        }
    }

    pub fn of_screen(s: &vt100::Screen) -> Pen {
        Pen {
            fg: s.fgcolor(),
            bg: s.bgcolor(),
            bold: s.bold(),
            dim: s.dim(),
            italic: s.italic(),
            underline: s.underline(),
            inverse: s.inverse(),
        }
    }

    /// SGR setting exactly this pen (from a reset).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\x1b[0");
        for (on, code) in [
            (self.bold, &b";1"[..]),
            (self.dim, b";2"),
            (self.italic, b";3"),
            (self.underline, b";4"),
            (self.inverse, b";7"),
        ] {
            if on {
                out.extend_from_slice(code);
            }
        }
        color(out, self.fg, 30, 90, 38);
        color(out, self.bg, 40, 100, 48);
        out.push(b'm');
    }
}

fn color(out: &mut Vec<u8>, c: vt100::Color, base: u8, bright: u8, extended: u8) {
    use std::io::Write as _;
    // Writing into a Vec cannot fail.
    let _ = match c {
        vt100::Color::Default => Ok(()),
        vt100::Color::Idx(i) if i < 8 => write!(out, ";{}", base + i),
        vt100::Color::Idx(i) if i < 16 => write!(out, ";{}", bright + i - 8),
        vt100::Color::Idx(i) => write!(out, ";{extended};5;{i}"),
        vt100::Color::Rgb(r, g, b) => write!(out, ";{extended};2;{r};{g};{b}"),
    };
}
