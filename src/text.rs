//! Making remote text safe: to print on the user's terminal, and to use in a file name.

/// Neutralises control sequences so remote output cannot retitle, recolour, move the cursor
/// of, or write to the clipboard of the user's terminal: ESC and other C0/C1 controls become
/// visible `^[`-style text. Newlines and tabs stay; invalid UTF-8 becomes U+FFFD.
pub fn neutralize(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => out.push_str("^?"),
            c if ('\u{80}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// A host or pane name made safe to use in a file name: letters, digits and `-_.@#` stay,
/// anything else (a `/`, a space, a control) becomes `_`. `..` cannot climb out: the dots
/// stay but no separator does.
pub fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.@#".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_visible_text() {
        let hostile = b"ok\x1b]0;pwned\x07\x1b]52;c;Zm9v\x07\x9b2J\r\n";
        let shown = neutralize(hostile);
        assert!(!shown.contains('\x1b') && !shown.contains('\x07'));
        assert_eq!(shown, "ok^[]0;pwned^G^[]52;c;Zm9v^G\u{fffd}2J^M\n");
        assert_eq!(neutralize("中文\ttab\n".as_bytes()), "中文\ttab\n");
        assert_eq!(neutralize("\u{9b}".as_bytes()), "\\u{9b}");
    }
}
