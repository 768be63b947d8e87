//! Making remote text safe: to print on the user's terminal, and to use in a file name; and
//! output as text for recordings and logs ([`capture`]).

pub mod capture;

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

/// A host name as a file name that no other name maps to (for `--outdir`): letters, digits
/// and `-_.@#` stay, every other byte becomes `%XX`, `%` included, so `app/1`, `app:1` and
/// `app_1` get files of their own, and a name always gets the same one. No separator
/// survives, so `..` cannot climb out.
pub fn unique_file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() || "-_.@#".contains(c) {
            out.push(c);
        } else {
            let mut bytes = [0u8; 4];
            for b in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    if out.chars().all(|c| c == '.') {
        // `""`, `.` and `..` would name no file or a directory: spelled out, as no other
        // name is (a kept dot stays a dot, and a `%` of a name is itself escaped).
        return if out.is_empty() {
            "%".into()
        } else {
            out.replace('.', "%2E")
        };
    }
    out
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

    #[test]
    fn unique_file_names_never_collide_and_never_climb() {
        let names = [
            "app/1", "app:1", "app_1", "app%2F1", "a b", "..", ".", "", "web01", "中",
        ];
        let files: Vec<String> = names.iter().map(|n| unique_file_name(n)).collect();
        let distinct: std::collections::HashSet<&String> = files.iter().collect();
        assert_eq!(distinct.len(), names.len(), "{files:?}");
        assert_eq!(files[0], "app%2F1");
        assert_eq!(files[2], "app_1");
        assert_eq!(files[8], "web01");
        for f in &files {
            assert!(
                !f.contains('/') && !f.is_empty() && f != "." && f != "..",
                "{f}"
            );
        }
        assert_eq!(unique_file_name("app/1"), unique_file_name("app/1"));
    }
}
