//! Turning crossterm key events into the bytes a real terminal would send.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the remote program asked of the terminal, which changes how some keys are encoded.
#[derive(Debug, Clone, Copy, Default)]
pub struct TermModes {
    /// DECCKM: full-screen programs (vim, less) switch arrows to SS3 sequences.
    pub application_cursor: bool,
}

/// The bytes for one key press, or `None` for keys a terminal sends nothing for.
pub fn encode_key(key: &KeyEvent, modes: TermModes) -> Option<Vec<u8>> {
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let mut bytes = match key.code {
        KeyCode::Char(c) => encode_char(c, key.modifiers),
        KeyCode::Enter => vec![b'\r'],
        KeyCode::Tab => vec![b'\t'],
        KeyCode::BackTab => b"\x1b[Z".to_vec(),
        KeyCode::Backspace => vec![0x7f],
        KeyCode::Esc => vec![0x1b],
        KeyCode::Up => cursor_key(b'A', key.modifiers, modes),
        KeyCode::Down => cursor_key(b'B', key.modifiers, modes),
        KeyCode::Right => cursor_key(b'C', key.modifiers, modes),
        KeyCode::Left => cursor_key(b'D', key.modifiers, modes),
        KeyCode::Home => cursor_key(b'H', key.modifiers, modes),
        KeyCode::End => cursor_key(b'F', key.modifiers, modes),
        KeyCode::Insert => tilde_key(2, key.modifiers),
        KeyCode::Delete => tilde_key(3, key.modifiers),
        KeyCode::PageUp => tilde_key(5, key.modifiers),
        KeyCode::PageDown => tilde_key(6, key.modifiers),
        KeyCode::F(n) => function_key(n, key.modifiers)?,
        _ => return None,
    };
    // Meta sends ESC first; modified cursor/tilde keys already carry Alt in their parameter.
    let already_modified = bytes.len() > 2 && bytes.contains(&b';');
    if alt && !already_modified {
        bytes.insert(0, 0x1b);
    }
    Some(bytes)
}

fn encode_char(c: char, mods: KeyModifiers) -> Vec<u8> {
    if mods.contains(KeyModifiers::CONTROL)
        && let Some(b) = control_byte(c)
    {
        return vec![b];
    }
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf).as_bytes().to_vec()
}

fn control_byte(c: char) -> Option<u8> {
    match c {
        'a'..='z' => Some(c as u8 - b'a' + 1),
        'A'..='Z' => Some(c as u8 - b'A' + 1),
        ' ' | '@' | '2' => Some(0),
        '[' | '3' => Some(0x1b),
        '\\' | '4' => Some(0x1c),
        ']' | '5' => Some(0x1d),
        '^' | '6' => Some(0x1e),
        '_' | '/' | '7' => Some(0x1f),
        '?' | '8' => Some(0x7f),
        _ => None,
    }
}

/// xterm's modifier parameter: 1 + shift + 2*alt + 4*ctrl; `None` when unmodified.
fn modifier_param(mods: KeyModifiers) -> Option<u8> {
    let mut p = 0;
    if mods.contains(KeyModifiers::SHIFT) {
        p += 1;
    }
    if mods.contains(KeyModifiers::ALT) {
        p += 2;
    }
    if mods.contains(KeyModifiers::CONTROL) {
        p += 4;
    }
    (p > 0).then_some(p + 1)
}

fn cursor_key(letter: u8, mods: KeyModifiers, modes: TermModes) -> Vec<u8> {
    match modifier_param(mods) {
        Some(p) => format!("\x1b[1;{p}{}", letter as char).into_bytes(),
        None if modes.application_cursor => vec![0x1b, b'O', letter],
        None => vec![0x1b, b'[', letter],
    }
}

fn tilde_key(code: u8, mods: KeyModifiers) -> Vec<u8> {
    match modifier_param(mods) {
        Some(p) => format!("\x1b[{code};{p}~").into_bytes(),
        None => format!("\x1b[{code}~").into_bytes(),
    }
}

fn function_key(n: u8, mods: KeyModifiers) -> Option<Vec<u8>> {
    let ss3 = match n {
        1 => Some(b'P'),
        2 => Some(b'Q'),
        3 => Some(b'R'),
        4 => Some(b'S'),
        _ => None,
    };
    if let Some(letter) = ss3 {
        // F1-F4 are encoded like cursor keys in application mode (SS3, or CSI 1;mods).
        let application = TermModes {
            application_cursor: true,
        };
        return Some(cursor_key(letter, mods, application));
    }
    let code = match n {
        5 => 15,
        6 => 17,
        7 => 18,
        8 => 19,
        9 => 20,
        10 => 21,
        11 => 23,
        12 => 24,
        _ => return None,
    };
    Some(tilde_key(code, mods))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(code: KeyCode, mods: KeyModifiers, app: bool) -> Vec<u8> {
        let modes = TermModes {
            application_cursor: app,
        };
        encode_key(&KeyEvent::new(code, mods), modes).unwrap_or_default()
    }

    const NONE: KeyModifiers = KeyModifiers::NONE;

    #[test]
    fn arrows_follow_application_cursor_mode() {
        assert_eq!(enc(KeyCode::Up, NONE, false), b"\x1b[A");
        assert_eq!(enc(KeyCode::Up, NONE, true), b"\x1bOA");
        assert_eq!(enc(KeyCode::Home, NONE, true), b"\x1bOH");
        assert_eq!(
            enc(KeyCode::Left, KeyModifiers::CONTROL, true),
            b"\x1b[1;5D"
        );
    }

    #[test]
    fn control_and_meta_chars() {
        assert_eq!(enc(KeyCode::Char('c'), KeyModifiers::CONTROL, false), [3]);
        assert_eq!(enc(KeyCode::Char('x'), KeyModifiers::ALT, false), b"\x1bx");
        assert_eq!(enc(KeyCode::Char('中'), NONE, false), "中".as_bytes());
        assert_eq!(enc(KeyCode::Backspace, NONE, false), [0x7f]);
        assert_eq!(enc(KeyCode::Enter, NONE, false), b"\r");
    }

    #[test]
    fn editing_and_function_keys() {
        assert_eq!(enc(KeyCode::Delete, NONE, false), b"\x1b[3~");
        assert_eq!(
            enc(KeyCode::PageUp, KeyModifiers::SHIFT, false),
            b"\x1b[5;2~"
        );
        assert_eq!(enc(KeyCode::F(1), NONE, false), b"\x1bOP");
        assert_eq!(enc(KeyCode::F(5), NONE, false), b"\x1b[15~");
        assert_eq!(
            enc(KeyCode::F(12), KeyModifiers::CONTROL, false),
            b"\x1b[24;5~"
        );
    }
}
