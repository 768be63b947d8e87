//! Splitting a line into a keyword and its arguments, OpenSSH style.

/// Splits a line into a keyword and its arguments, OpenSSH style. `Ok(None)`
/// for blank and comment lines.
pub(super) fn split_line(raw: &str) -> Result<Option<(String, Vec<String>)>, &'static str> {
    let line = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let end = line
        .find(|c: char| c.is_ascii_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    if keyword.is_empty() {
        return Err("missing keyword");
    }
    // Exactly one '=' may separate keyword and value, with optional spaces.
    let mut rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
    }
    if keyword.eq_ignore_ascii_case("ProxyCommand") {
        // OpenSSH hands the rest of the line to the shell as it stands: quotes, `#` and
        // all (`ssh -G` prints it so).
        let command = (!rest.is_empty()).then(|| rest.to_string());
        return Ok(Some((keyword.to_string(), command.into_iter().collect())));
    }
    Ok(Some((keyword.to_string(), split_args(rest)?)))
}

pub(super) fn split_args(s: &str) -> Result<Vec<String>, &'static str> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == '\\' && matches!(chars.peek(), Some(&n) if n == '"' || n == '\'' || n == '\\') {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            } else if c == q {
                quote = None;
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            c if c.is_ascii_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '"' | '\'' => {
                quote = Some(c);
                in_word = true;
            }
            '\\' => {
                in_word = true;
                match chars.peek() {
                    Some(&n) if matches!(n, '"' | '\'' | '\\' | ' ') => {
                        cur.push(n);
                        chars.next();
                    }
                    _ => cur.push('\\'),
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote");
    }
    if in_word {
        args.push(cur);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::strings;
    use super::*;

    #[test]
    fn proxy_command_is_the_rest_of_the_line_unsplit() {
        for (line, command) in [
            ("ProxyCommand nc %h %p # hi", Some("nc %h %p # hi")),
            ("  proxycommand = \"quoted x\"   ", Some("\"quoted x\"")),
            (
                "ProxyCommand=sh -c 'unterminated",
                Some("sh -c 'unterminated"),
            ),
            ("ProxyCommand", None),
        ] {
            let (_, args) = split_line(line).unwrap().unwrap();
            assert_eq!(args, command.into_iter().collect::<Vec<_>>(), "{line}");
        }
    }

    #[test]
    fn split_args_quotes_escapes_and_comments() {
        assert_eq!(
            split_args(r#"a "b c" d\ e 'f"g' "h\"i" \q #x"#),
            Ok(strings(&["a", "b c", "d e", "f\"g", "h\"i", "\\q"]))
        );
    }
}
