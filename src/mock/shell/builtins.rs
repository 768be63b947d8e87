//! Builtins: running one command, and parsing their arguments.

use super::clock::{format_date, format_uptime};
use super::texts::{HANDOUT_ECHO, clean_line, clean_text, help_text, tr};
use super::{Action, Busy, Flow, Lang, MAX_SEQ, MAX_SLEEP_MS, Out, STATUS_BAD_EXIT_ARG, Shell};

impl Shell {
    pub(super) fn run_segment(&mut self, raw: &str, out: &mut Out) -> Flow {
        if self.handout() {
            return self.run_handout_line(raw, out);
        }
        let words = self.words(raw);
        let Some(name) = words.first() else {
            return Flow::Next;
        };
        let args = &words[1..];
        let lang = self.lang();
        let mut status = 0;
        match name.as_str() {
            "help" => out.text(help_text(lang)),
            "echo" => {
                let (newline, args) = match args.first() {
                    Some(a) if a == "-n" => (false, &args[1..]),
                    _ => (true, args),
                };
                out.text(&clean_text(&args.join(" ")));
                if newline {
                    out.text("\n");
                }
            }
            "hostname" => out.text(&format!("{}\n", self.cfg.hostname)),
            "whoami" => out.text(&format!("{}\n", self.cfg.user)),
            "pwd" => out.text(&format!("{}\n", self.home())),
            "date" => out.text(&format!("{}\n", format_date(self.now_unix(), lang))),
            "uptime" => {
                let now = self.now_unix();
                let up = now.saturating_sub(self.cfg.started_at_unix);
                out.text(&format!("{}\n", format_uptime(now, up, lang)));
            }
            "env" | "printenv" => self.print_env(out),
            "show" if args.len() == 2 && args[0] == "local" && args[1] == "env" => {
                self.print_env(out)
            }
            "size" => match self.cfg.pty {
                Some((c, r)) => out.text(&format!("{c}x{r}\n")),
                None => out.text(tr(lang, "no pty\n", "no pty（未分配伪终端）\n")),
            },
            "clear" => {
                if self.crlf() {
                    out.raw(b"\x1b[H\x1b[2J");
                }
            }
            "true" => {}
            "false" => status = 1,
            "sleep" => match parse_sleep(args) {
                Ok(0) => {}
                Ok(millis) => {
                    self.last_status = 0;
                    self.busy = Busy::Sleep(millis);
                    out.action(Action::Sleep { millis });
                    return Flow::Busy;
                }
                Err(e) => {
                    out.text(&format!("sleep: {}\n", e.message(lang)));
                    status = 1;
                }
            },
            "seq" => match parse_seq(args) {
                Ok(0) => {}
                Ok(count) => {
                    self.last_status = 0;
                    self.busy = Busy::Seq;
                    out.action(Action::Seq { count });
                    return Flow::Busy;
                }
                Err(e) => {
                    out.text(&format!("seq: {}\n", e.message(lang)));
                    status = 1;
                }
            },
            "exit" | "logout" => match args {
                [] => return Flow::Exit(0),
                [a] => match a.trim().parse::<i64>() {
                    // Like sh: the status is a byte, so -1 becomes 255 and
                    // 256 becomes 0.
                    Ok(n) => return Flow::Exit((n & 0xff) as u32),
                    Err(_) => {
                        let msg = tr(lang, "numeric argument required", "需要数字参数");
                        out.text(&format!("exit: {}: {msg}\n", clean_line(a)));
                        return Flow::Exit(STATUS_BAD_EXIT_ARG);
                    }
                },
                _ => {
                    out.text(tr(lang, "exit: too many arguments\n", "exit: 参数太多\n"));
                    status = 1;
                }
            },
            _ => {
                let prefix = tr(lang, "server received: ", "服务端收到指令：");
                out.text(&format!("{prefix}{}\n", clean_text(raw.trim())));
            }
        }
        self.last_status = status;
        if let Some(d) = &self.cfg.differ {
            out.text(&format!("{}\n", d.text));
            self.last_status = d.status;
        }
        Flow::Next
    }

    /// The handout's echo server: `exit` leaves, a blank line only prompts again, anything
    /// else comes back as `服务端收到指令：<line>`.
    fn run_handout_line(&mut self, raw: &str, out: &mut Out) -> Flow {
        match raw.trim() {
            "" => {}
            "exit" => return Flow::Exit(0),
            line => out.text(&format!("{HANDOUT_ECHO}{}\n", clean_text(line))),
        }
        self.last_status = 0;
        Flow::Next
    }

    fn print_env(&self, out: &mut Out) {
        for (k, v) in self.env_pairs() {
            out.text(&format!("{}={}\n", clean_line(&k), clean_line(&v)));
        }
    }
}

enum ArgError {
    Missing,
    Extra(String),
    Invalid(String),
    BadInterval(String),
}

impl ArgError {
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ArgError::Missing, Lang::En) => "missing operand".to_string(),
            (ArgError::Missing, Lang::Zh) => "缺少操作数".to_string(),
            (ArgError::Extra(a), Lang::En) => format!("extra operand '{}'", clean_line(a)),
            (ArgError::Extra(a), Lang::Zh) => format!("多余的操作数 '{}'", clean_line(a)),
            (ArgError::Invalid(a), Lang::En) => format!("invalid number '{}'", clean_line(a)),
            (ArgError::Invalid(a), Lang::Zh) => format!("无效的数字 '{}'", clean_line(a)),
            (ArgError::BadInterval(a), Lang::En) => {
                format!("invalid time interval '{}'", clean_line(a))
            }
            (ArgError::BadInterval(a), Lang::Zh) => {
                format!("无效的时间间隔 '{}'", clean_line(a))
            }
        }
    }
}

fn single_arg(args: &[String]) -> Result<&str, ArgError> {
    match args {
        [] => Err(ArgError::Missing),
        [a] => Ok(a.as_str()),
        [_, extra, ..] => Err(ArgError::Extra(extra.clone())),
    }
}

/// Seconds with an optional fraction and an optional GNU-style unit suffix
/// (s, m, h, d). Only plain decimal digits are accepted so `inf`, `nan` and
/// exponents cannot reach the float maths. Clamped to [`MAX_SLEEP_MS`].
fn parse_sleep(args: &[String]) -> Result<u64, ArgError> {
    let a = single_arg(args)?;
    let bad = || ArgError::BadInterval(a.to_string());
    let (num, mult) = match a.as_bytes().last() {
        Some(b's') => (&a[..a.len() - 1], 1.0),
        Some(b'm') => (&a[..a.len() - 1], 60.0),
        Some(b'h') => (&a[..a.len() - 1], 3600.0),
        Some(b'd') => (&a[..a.len() - 1], 86400.0),
        _ => (a, 1.0),
    };
    let digits = num.bytes().filter(u8::is_ascii_digit).count();
    let dots = num.bytes().filter(|&b| b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != num.len() {
        return Err(bad());
    }
    let secs: f64 = num.parse().map_err(|_| bad())?;
    let ms = (secs * mult * 1000.0).round();
    if ms >= MAX_SLEEP_MS as f64 {
        Ok(MAX_SLEEP_MS)
    } else {
        // Finite, non-negative and below the cap, so the cast is exact enough.
        Ok(ms as u64)
    }
}

/// A non-negative integer, clamped to [`MAX_SEQ`]. A negative integer means
/// an empty range, as with GNU seq.
fn parse_seq(args: &[String]) -> Result<u64, ArgError> {
    let a = single_arg(args)?;
    let (neg, digits) = match a.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, a.strip_prefix('+').unwrap_or(a)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ArgError::Invalid(a.to_string()));
    }
    if neg {
        return Ok(0);
    }
    let n = digits.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    Ok(n.min(MAX_SEQ))
}

/// The lines `from\n` ..= `to\n` (with `\r\n` when `crlf`). Empty when
/// `from > to`. The runner picks the chunk bounds; output size is its
/// responsibility.
pub fn seq_chunk(from: u64, to: u64, crlf: bool) -> Vec<u8> {
    let mut v = Vec::new();
    if from > to {
        return v;
    }
    let lines = (to - from).saturating_add(1);
    v.reserve(usize::try_from(lines.saturating_mul(9)).map_or(1 << 20, |n| n.min(1 << 20)));
    let mut n = from;
    loop {
        push_decimal(&mut v, n);
        if crlf {
            v.push(b'\r');
        }
        v.push(b'\n');
        if n == to {
            break;
        }
        n += 1;
    }
    v
}

fn push_decimal(v: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    v.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::shell::Action;
    use crate::mock::shell::test_util::*;

    #[test]
    fn identity_builtins() {
        for lang in [Lang::En, Lang::Zh] {
            assert_eq!(run(lang, "hostname"), "lab\n");
            assert_eq!(run(lang, "whoami"), "alice\n");
            assert_eq!(run(lang, "pwd"), "/home/alice\n");
        }
    }

    #[test]
    fn size_pty_resize_and_none() {
        let mut sh = shell(Lang::En, true);
        assert_eq!(
            text(&feed(&mut sh, "size\r")),
            format!("size\r\n80x24\r\n{P}")
        );
        sh.resize(132, 50);
        assert!(text(&feed(&mut sh, "size\r")).contains("132x50\r\n"));
        assert_eq!(run(Lang::En, "size"), "no pty\n");
        assert!(run(Lang::Zh, "size").contains("no pty"));
        let mut sh = shell(Lang::En, false);
        sh.resize(10, 10);
        assert_eq!(text(&feed(&mut sh, "size\n")), format!("no pty\n{P}"));
    }

    #[test]
    fn true_false_and_status() {
        let mut sh = shell(Lang::En, false);
        assert_eq!(text(&feed(&mut sh, "false\n")), P);
        assert_eq!(text(&feed(&mut sh, "echo $?\n")), format!("1\n{P}"));
        feed(&mut sh, "true\n");
        assert_eq!(text(&feed(&mut sh, "echo $?\n")), format!("0\n{P}"));
        feed(&mut sh, "sleep x\n");
        assert_eq!(text(&feed(&mut sh, "echo \"$?\"\n")), format!("1\n{P}"));
        feed(&mut sh, "whatever\n");
        assert_eq!(text(&feed(&mut sh, "echo $?\n")), format!("0\n{P}"));
    }

    #[test]
    fn sleep_parsing() {
        let ok = |a: &str| parse_sleep(&[a.to_string()]).ok();
        assert_eq!(ok("1"), Some(1000));
        assert_eq!(ok("0.5"), Some(500));
        assert_eq!(ok(".25"), Some(250));
        assert_eq!(ok("2."), Some(2000));
        assert_eq!(ok("1.5s"), Some(1500));
        assert_eq!(ok("2m"), Some(120_000));
        assert_eq!(ok("0"), Some(0));
        assert_eq!(ok("99999"), Some(MAX_SLEEP_MS));
        assert_eq!(ok("1d"), Some(MAX_SLEEP_MS));
        assert_eq!(ok(&"9".repeat(400)), Some(MAX_SLEEP_MS));
        for bad in [
            "", "x", "-1", "1e3", "inf", "nan", "1.2.3", ".", "s", "0x10", " 1", "1ms",
        ] {
            assert_eq!(ok(bad), None, "{bad:?} accepted");
        }
        assert!(parse_sleep(&[]).is_err());
        assert!(parse_sleep(&["1".into(), "2".into()]).is_err());
    }

    #[test]
    fn sleep_errors_both_langs() {
        assert_eq!(
            run(Lang::En, "sleep abc"),
            "sleep: invalid time interval 'abc'\n"
        );
        assert_eq!(run(Lang::En, "sleep"), "sleep: missing operand\n");
        assert_eq!(run(Lang::En, "sleep 1 2"), "sleep: extra operand '2'\n");
        assert_eq!(run(Lang::Zh, "sleep abc"), "sleep: 无效的时间间隔 'abc'\n");
        assert_eq!(run(Lang::Zh, "sleep"), "sleep: 缺少操作数\n");
    }

    #[test]
    fn seq_parsing_and_errors() {
        let ok = |a: &str| parse_seq(&[a.to_string()]).ok();
        assert_eq!(ok("10"), Some(10));
        assert_eq!(ok("+3"), Some(3));
        assert_eq!(ok("-4"), Some(0));
        assert_eq!(ok("100000001"), Some(MAX_SEQ));
        assert_eq!(ok(&"9".repeat(100)), Some(MAX_SEQ));
        for bad in ["", "x", "1.5", "-", "1e3", "--1"] {
            assert_eq!(ok(bad), None, "{bad:?} accepted");
        }
        assert_eq!(run(Lang::En, "seq 0"), "");
        assert_eq!(run(Lang::En, "seq"), "seq: missing operand\n");
        assert_eq!(run(Lang::En, "seq abc"), "seq: invalid number 'abc'\n");
        assert_eq!(run(Lang::En, "seq 1 2"), "seq: extra operand '2'\n");
        assert_eq!(run(Lang::Zh, "seq abc"), "seq: 无效的数字 'abc'\n");
    }

    #[test]
    fn seq_chunk_lines() {
        assert_eq!(seq_chunk(1, 3, false), b"1\n2\n3\n");
        assert_eq!(seq_chunk(9, 11, true), b"9\r\n10\r\n11\r\n");
        assert!(seq_chunk(5, 4, false).is_empty());
        assert_eq!(seq_chunk(0, 0, false), b"0\n");
        let top = seq_chunk(u64::MAX - 1, u64::MAX, false);
        assert_eq!(top, format!("{}\n{}\n", u64::MAX - 1, u64::MAX).as_bytes());
    }

    #[test]
    fn exit_variants() {
        let mut sh = shell(Lang::En, true);
        let a = feed(&mut sh, "exit\r");
        assert_eq!(others(&a), vec![Action::Exit(0)]);
        assert_eq!(text(&a), "exit\r\nlogout\r\n");
        assert!(sh.has_exited());
        assert!(feed(&mut sh, "whoami\r").is_empty());
        assert!(sh.eof().is_empty());

        let code = |line: &str| {
            let mut sh = shell(Lang::En, false);
            others(&feed(&mut sh, &format!("{line}\n")))
        };
        assert_eq!(code("exit 3"), vec![Action::Exit(3)]);
        assert_eq!(code("exit 256"), vec![Action::Exit(0)]);
        assert_eq!(code("exit 257"), vec![Action::Exit(1)]);
        assert_eq!(code("exit -1"), vec![Action::Exit(255)]);
        assert_eq!(code("false; exit"), vec![Action::Exit(0)]);
        assert_eq!(code("exit abc"), vec![Action::Exit(2)]);
        assert_eq!(code("exit 1 2"), vec![]);
        assert_eq!(code("logout 4"), vec![Action::Exit(4)]);
        assert_eq!(run(Lang::En, "exit 1 2"), "exit: too many arguments\n");
        assert_eq!(run(Lang::Zh, "exit 1 2"), "exit: 参数太多\n");
        let mut sh = shell(Lang::Zh, false);
        assert_eq!(
            text(&feed(&mut sh, "exit x\n")),
            "exit: x: 需要数字参数\nlogout\n"
        );
    }
}
