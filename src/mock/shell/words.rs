//! Words: the environment, `$VAR` expansion, quoting and splitting a line
//! into `;`-separated commands.

use std::mem;

use super::{SHELL_PATH, Shell};

impl Shell {
    pub(super) fn env_pairs(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("USER".to_string(), self.cfg.user.clone()),
            ("HOME".to_string(), self.home()),
            ("SHELL".to_string(), SHELL_PATH.to_string()),
        ];
        let client_term = self.cfg.env.iter().any(|e| e.0 == "TERM");
        if self.cfg.pty.is_some() && !client_term {
            v.push(("TERM".to_string(), "xterm-256color".to_string()));
        }
        // Like sshd, the identity variables are the server's to set.
        for (k, val) in &self.cfg.env {
            if !matches!(k.as_str(), "USER" | "HOME" | "SHELL") {
                v.push((k.clone(), val.clone()));
            }
        }
        v
    }

    pub(super) fn home(&self) -> String {
        format!("/home/{}", self.cfg.user)
    }

    fn lookup(&self, name: &str) -> String {
        self.env_pairs()
            .into_iter()
            .find(|e| e.0 == name)
            .map(|e| e.1)
            .unwrap_or_default()
    }

    /// `$?`, `$NAME` and `${NAME}`; anything else after `$` is literal.
    /// Returns the index after what was consumed.
    fn expand_var(&self, chars: &[char], i: usize, cur: &mut String) -> usize {
        let is_start = |c: char| c == '_' || c.is_ascii_alphabetic();
        let is_name = |c: char| c == '_' || c.is_ascii_alphanumeric();
        match chars.get(i) {
            Some('?') => {
                cur.push_str(&self.last_status.to_string());
                i + 1
            }
            Some('{') => {
                let name_end = chars[i + 1..]
                    .iter()
                    .position(|&c| !is_name(c))
                    .map_or(chars.len(), |p| i + 1 + p);
                if name_end > i + 1 && chars.get(name_end) == Some(&'}') {
                    let name: String = chars[i + 1..name_end].iter().collect();
                    cur.push_str(&self.lookup(&name));
                    name_end + 1
                } else {
                    cur.push('$');
                    i
                }
            }
            Some(&c) if is_start(c) => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| !is_name(c))
                    .map_or(chars.len(), |p| i + p);
                let name: String = chars[i..end].iter().collect();
                cur.push_str(&self.lookup(&name));
                end
            }
            _ => {
                cur.push('$');
                i
            }
        }
    }

    /// Enough of sh word syntax for students' habits: whitespace splitting,
    /// single and double quotes, backslash, `$` expansion. An unterminated
    /// quote is closed at the end instead of asking for more input.
    pub(super) fn words(&self, raw: &str) -> Vec<String> {
        let chars: Vec<char> = raw.chars().collect();
        let mut words = Vec::new();
        let mut cur = String::new();
        let mut has = false;
        let mut quote = Quote::None;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match quote {
                Quote::None => match c {
                    c if c.is_whitespace() => {
                        if has {
                            words.push(mem::take(&mut cur));
                            has = false;
                        }
                    }
                    '\'' => {
                        quote = Quote::Single;
                        has = true;
                    }
                    '"' => {
                        quote = Quote::Double;
                        has = true;
                    }
                    '\\' => {
                        match chars.get(i) {
                            Some(&n) => {
                                cur.push(n);
                                i += 1;
                            }
                            None => cur.push('\\'),
                        }
                        has = true;
                    }
                    '$' => {
                        let before = cur.len();
                        i = self.expand_var(&chars, i, &mut cur);
                        // An unquoted empty expansion vanishes, as in sh.
                        has |= cur.len() > before;
                    }
                    c => {
                        cur.push(c);
                        has = true;
                    }
                },
                Quote::Single => {
                    if c == '\'' {
                        quote = Quote::None;
                    } else {
                        cur.push(c);
                    }
                }
                Quote::Double => match c {
                    '"' => quote = Quote::None,
                    '\\' => match chars.get(i) {
                        Some(&n) if matches!(n, '"' | '\\' | '$') => {
                            cur.push(n);
                            i += 1;
                        }
                        _ => cur.push('\\'),
                    },
                    '$' => i = self.expand_var(&chars, i, &mut cur),
                    c => cur.push(c),
                },
            }
        }
        if has {
            words.push(cur);
        }
        words
    }
}

#[derive(Clone, Copy)]
enum Quote {
    None,
    Single,
    Double,
}

/// Splits on unquoted `;` and newline (exec commands may carry several
/// lines). Segments keep their raw text because an unknown command is echoed
/// as typed.
pub(super) fn split_segments(line: &str) -> Vec<String> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut quote = Quote::None;
    let mut escaped = false;
    let mut push = |cur: &mut String| {
        let t = cur.trim();
        if !t.is_empty() {
            segs.push(t.to_string());
        }
        cur.clear();
    };
    for c in line.chars() {
        if escaped {
            escaped = false;
            cur.push(c);
            continue;
        }
        match (quote, c) {
            (Quote::Single, '\'') => quote = Quote::None,
            (Quote::Single, _) => {}
            (_, '\\') => escaped = true,
            (Quote::Double, '"') => quote = Quote::None,
            (Quote::Double, _) => {}
            (Quote::None, '"') => quote = Quote::Double,
            (Quote::None, '\'') => quote = Quote::Single,
            (Quote::None, ';' | '\n') => {
                push(&mut cur);
                continue;
            }
            (Quote::None, _) => {}
        }
        cur.push(c);
    }
    push(&mut cur);
    segs
}

#[cfg(test)]
mod tests {
    use crate::mock::shell::test_util::*;
    use crate::mock::shell::{Action, Lang};

    #[test]
    fn echo_quotes_and_vars() {
        assert_eq!(run(Lang::En, "echo a   b  c"), "a b c\n");
        assert_eq!(run(Lang::En, "echo \"a   b\" 'c  d'"), "a   b c  d\n");
        assert_eq!(run(Lang::En, "echo it\\'s \"x\\\"y\""), "it's x\"y\n");
        assert_eq!(
            run(Lang::En, "echo '$USER' \"$USER\" ${HOME}"),
            "$USER alice /home/alice\n"
        );
        assert_eq!(run(Lang::En, "echo $NOPE x $ 5$"), "x $ 5$\n");
        assert_eq!(run(Lang::En, "echo"), "\n");
        assert_eq!(run(Lang::En, "echo -n hi"), "hi");
        assert_eq!(run(Lang::En, "echo 'unterminated"), "unterminated\n");
        assert_eq!(run(Lang::Zh, "echo 中文 测试"), "中文 测试\n");
    }

    #[test]
    fn env_and_alias() {
        let mut sh = shell(Lang::En, true);
        sh.set_env("FOO", "bar");
        sh.set_env("USER", "mallory");
        let out = text(&feed(&mut sh, "env\r"));
        let body = out
            .strip_prefix("env\r\n")
            .and_then(|s| s.strip_suffix(P))
            .expect("framing");
        assert_eq!(
            body,
            "USER=alice\r\nHOME=/home/alice\r\nSHELL=/bin/mtssh-mock\r\nTERM=xterm-256color\r\n\
             LANG=C.UTF-8\r\nFOO=bar\r\n"
        );
        let alias = text(&feed(&mut sh, "show local env\r"));
        assert_eq!(alias.replace("show local env", "env"), out);
        // Client TERM (from pty-req) replaces the default.
        sh.set_env("TERM", "vt100");
        let out = text(&feed(&mut sh, "env\r"));
        assert!(out.contains("TERM=vt100") && !out.contains("xterm"));
        // No pty: no TERM, \n endings, Zh same content.
        let zh = run(Lang::Zh, "show   local env");
        assert_eq!(
            zh,
            "USER=alice\nHOME=/home/alice\nSHELL=/bin/mtssh-mock\nLANG=C.UTF-8\n"
        );
        assert!(run(Lang::En, "show local").starts_with("server received: show local"));
    }

    #[test]
    fn semicolons() {
        assert_eq!(
            run(Lang::En, "whoami; hostname ;; pwd"),
            "alice\nlab\n/home/alice\n"
        );
        assert_eq!(
            run(Lang::En, "echo 'a;b'; echo \"c;d\" e\\;f"),
            "a;b\nc;d e;f\n"
        );
        assert_eq!(run(Lang::En, "false; echo $?; echo $?"), "1\n0\n");
        let mut sh = shell(Lang::En, false);
        let a = feed(&mut sh, "echo a; exit 7; echo b\n");
        assert_eq!(text(&a), "a\nlogout\n");
        assert_eq!(others(&a), vec![Action::Exit(7)]);
        // The rest of a list waits for the sleep, and is dropped on Ctrl-C.
        let mut sh = shell(Lang::En, false);
        assert_eq!(text(&feed(&mut sh, "sleep 1; echo after\n")), "");
        assert_eq!(text(&sh.sleep_finished()), format!("after\n{P}"));
        feed(&mut sh, "sleep 1; echo after\n");
        assert_eq!(text(&feed(&mut sh, "\x03")), format!("^C\n{P}"));
    }
}
