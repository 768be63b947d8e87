//! How `mtssh run` reports: the folded report (like dshbak -c), `--inline` lines and
//! `--json` objects, with remote control sequences neutralised on a terminal.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::lang::{tr, trf};
use crate::modes::{HostResult, Outcome, Phases, millis};

/// What `mtssh run`'s exit code means: the one text of it, for `--help`; the README says the
/// same (a test compares them).
pub const EXIT_CODES: &str = "Exit codes: 0 every host ran the command and it exited 0; 1 every \
    host ran it but some exited non-zero; 3 some host failed to connect or authenticate, lost \
    its connection, or timed out; 4 the output could not all be written, to standard output or \
    to a file of --outdir (the message names it; whatever the hosts did); 130 interrupted \
    (Ctrl-C / SIGTERM / SIGHUP); 2 bad invocation, host list or --outdir (nothing ran).";

/// Counts by outcome, and the exit code they imply.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    pub non_zero: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub interrupted: usize,
}

impl Summary {
    pub fn of(results: &[HostResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.outcome {
                Outcome::Ok => s.ok += 1,
                Outcome::NonZero => s.non_zero += 1,
                Outcome::Failed => s.failed += 1,
                Outcome::TimedOut => s.timed_out += 1,
                Outcome::Interrupted => s.interrupted += 1,
            }
        }
        s
    }

    /// The exit code of `mtssh run`, as [`EXIT_CODES`] says.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted > 0 {
            130
        } else if self.failed > 0 || self.timed_out > 0 {
            3
        } else if self.non_zero > 0 {
            1
        } else {
            0
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.ok + self.non_zero + self.failed + self.timed_out + self.interrupted;
        let template = if total == 1 {
            "{total} host: {ok} ok, {non_zero} non-zero exit, {failed} failed, {timed_out} timed out"
        } else {
            "{total} hosts: {ok} ok, {non_zero} non-zero exit, {failed} failed, {timed_out} timed out"
        };
        let counts: &[(&str, &dyn std::fmt::Display)] = &[
            ("total", &total),
            ("ok", &self.ok),
            ("non_zero", &self.non_zero),
            ("failed", &self.failed),
            ("timed_out", &self.timed_out),
            ("interrupted", &self.interrupted),
        ];
        f.write_str(&trf(template, counts))?;
        if self.interrupted > 0 {
            f.write_str(&trf(", {interrupted} interrupted", counts))?;
        }
        Ok(())
    }
}

/// Hosts with identical output, exit status and error, folded together like `dshbak -c`.
pub fn fold_results(results: &[HostResult]) -> Vec<(String, &HostResult)> {
    // Everything a reader compares: output, status, error and outcome.
    type Key<'a> = (
        &'a [u8],
        &'a [u8],
        Option<u32>,
        Option<&'a str>,
        Option<&'a str>,
        u8,
    );
    let mut groups: BTreeMap<Key<'_>, Vec<&HostResult>> = BTreeMap::new();
    for r in results {
        let key = (
            r.stdout.as_slice(),
            r.stderr.as_slice(),
            r.exit_status,
            r.signal.as_deref(),
            r.error.as_deref(),
            r.outcome as u8,
        );
        groups.entry(key).or_default().push(r);
    }
    let mut folded: Vec<(String, &HostResult)> = groups
        .into_values()
        .map(|members| {
            let names: Vec<&str> = members.iter().map(|r| r.name.as_str()).collect();
            (crate::config::fold_to_string(&names), members[0])
        })
        .collect();
    folded.sort_by(|a, b| crate::config::range::natural_cmp(&a.0, &b.0));
    folded
}

/// Shows remote bytes: neutralised for a terminal, as they are (lossy UTF-8) otherwise.
fn show(bytes: &[u8], neutralize: bool) -> std::borrow::Cow<'_, str> {
    if neutralize {
        crate::text::neutralize(bytes).into()
    } else {
        String::from_utf8_lossy(bytes)
    }
}

/// Appends `--inline` output lines, `name: text` each (pdsh's format, so `| dshbak -c`
/// folds them): neutralised for a terminal, as they are (lossy UTF-8) otherwise, like the
/// folded report. The name is neutralised too: it comes from a host list, which can hold
/// escapes as well as any output.
pub(super) fn push_inline_lines(out: &mut Vec<u8>, name: &str, lines: &[u8], neutralize: bool) {
    out.reserve(lines.len() + 16);
    let name = show(name.as_bytes(), neutralize);
    for line in lines.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        let end = line
            .iter()
            .rposition(|b| !matches!(b, b'\n' | b'\r'))
            .map_or(0, |i| i + 1);
        // Valid UTF-8 (the common case) is borrowed, not copied into a String.
        out.extend_from_slice(show(&line[..end], neutralize).as_bytes());
        out.push(b'\n');
    }
}

/// The line between a group's stdout and its stderr in the folded report.
pub const STDERR_MARK: &str = "--- stderr ---";

/// The folded report. Error text can come from the server (a disconnect reason), and names
/// from the host list, so both are neutralised like output. Stdout comes first, then stderr
/// after [`STDERR_MARK`]; output without a final newline gets one, so it never runs into the
/// next header.
pub(super) fn write_folded(
    out: &mut impl Write,
    results: &[HostResult],
    neutralize: bool,
) -> std::io::Result<()> {
    for (names, r) in fold_results(results) {
        let status = match (&r.error, &r.signal, r.exit_status) {
            (Some(error), _, _) => format!(
                "{}: {}",
                tr(r.outcome.label()),
                show(error.as_bytes(), neutralize)
            ),
            (None, Some(signal), _) => trf(
                "signal {signal}",
                &[("signal", &show(signal.as_bytes(), neutralize))],
            ),
            (None, None, Some(code)) => trf("exit {code}", &[("code", &code)]),
            (None, None, None) => tr("no exit status").into(),
        };
        let names = show(names.as_bytes(), neutralize);
        let rule = "-".repeat(names.chars().count().clamp(15, 60));
        writeln!(out, "{rule}\n{names} ({status})\n{rule}")?;
        write_ended(out, &r.stdout, neutralize)?;
        if !r.stderr.is_empty() {
            writeln!(out, "{STDERR_MARK}")?;
            write_ended(out, &r.stderr, neutralize)?;
        }
        if r.dropped.0 + r.dropped.1 > 0 {
            let text = trf(
                "[output cut: {bytes} more bytes not kept; raise --max-output]",
                &[("bytes", &(r.dropped.0 + r.dropped.1))],
            );
            writeln!(out, "{text}")?;
        }
    }
    Ok(())
}

/// Output, then a newline unless it ends with one.
fn write_ended(out: &mut impl Write, bytes: &[u8], neutralize: bool) -> std::io::Result<()> {
    out.write_all(show(bytes, neutralize).as_bytes())?;
    if bytes.last().is_some_and(|b| *b != b'\n') {
        writeln!(out)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonHost<'a> {
    name: &'a str,
    outcome: Outcome,
    exit_status: Option<u32>,
    /// The signal that killed the command (`TERM`), or null.
    exit_signal: Option<&'a str>,
    /// Output as UTF-8; bytes that are not valid UTF-8 become U+FFFD.
    stdout: std::borrow::Cow<'a, str>,
    stderr: std::borrow::Cow<'a, str>,
    stdout_dropped_bytes: u64,
    stderr_dropped_bytes: u64,
    error: Option<&'a str>,
    /// What kind of error (`refused`, `auth-failed`, `host-key-changed`, …); null with no
    /// error.
    error_kind: Option<&'a str>,
    duration_ms: u128,
    /// When the host started and ended, in milliseconds since the run began (one clock for
    /// every host, in every mode), and how long each phase took.
    start_ms: f64,
    end_ms: f64,
    phases_ms: Phases,
}

/// JSON Lines, one object per host. A failed write keeps its kind (a closed pipe is told
/// apart from a full disk).
pub(super) fn write_json(out: &mut impl Write, results: &[HostResult]) -> std::io::Result<()> {
    for r in results {
        write_json_host(out, r)?;
    }
    Ok(())
}

/// One host's JSON line.
pub(super) fn write_json_host(out: &mut impl Write, r: &HostResult) -> std::io::Result<()> {
    let host = JsonHost {
        name: &r.name,
        outcome: r.outcome,
        exit_status: r.exit_status,
        exit_signal: r.signal.as_deref(),
        stdout: String::from_utf8_lossy(&r.stdout),
        stderr: String::from_utf8_lossy(&r.stderr),
        stdout_dropped_bytes: r.dropped.0,
        stderr_dropped_bytes: r.dropped.1,
        error: r.error.as_deref(),
        error_kind: r.error_kind,
        duration_ms: r.duration.as_millis(),
        start_ms: millis(r.times.started),
        end_ms: millis(r.times.ended),
        phases_ms: r.times.phases(),
    };
    host.serialize(&mut serde_json::Serializer::with_formatter(
        &mut *out, C1Escaping,
    ))?;
    writeln!(out)
}

/// serde_json's compact output with C1 controls (U+0080–U+009F) escaped as well as C0: JSON
/// Lines end up printed on terminals, and some act on UTF-8-encoded C1 (CSI, OSC, DCS).
struct C1Escaping;

impl serde_json::ser::Formatter for C1Escaping {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if ('\u{80}'..='\u{9f}').contains(&c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_states_the_exit_codes_of_help() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .unwrap_or_default();
        let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words(&readme).contains(&words(EXIT_CODES)),
            "README.md should say, word for word: {EXIT_CODES}"
        );
    }
    use std::time::Duration;

    const HOSTILE: &[u8] = b"ok\x1b]0;pwned\x07\x1b]52;c;aGk=\x1b\\\x1bP1$q\x1b\\\x1b_x\x1b\\\x1b^y\x1b\\\xc2\x9d2;t\xc2\x9c\x9b2J\x07\r\n";

    fn result(stdout: &[u8], error: Option<&str>) -> HostResult {
        HostResult {
            name: "web01".into(),
            outcome: if error.is_some() {
                Outcome::Failed
            } else {
                Outcome::Ok
            },
            exit_status: Some(0),
            signal: None,
            stdout: stdout.to_vec(),
            stderr: stdout.to_vec(),
            dropped: (0, 0),
            error: error.map(String::from),
            error_kind: error.map(|_| "other"),
            duration: Duration::ZERO,
            times: Default::default(),
        }
    }

    #[test]
    fn run_on_a_terminal_neutralizes_remote_output_and_errors() {
        let results = [
            result(HOSTILE, None),
            result(b"", Some("disconnected: \x1b]0;pwned\x07")),
        ];
        let mut out = Vec::new();
        write_folded(&mut out, &results, true).unwrap();
        push_inline_lines(&mut out, "web01", HOSTILE, true);
        crate::test_support::check_terminal_output(&out)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&out)));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("ok^[]0;pwned^G"), "{text}");
        assert!(text.contains("web01: ok^[]0;pwned^G"), "{text}");
        assert!(
            text.contains("failed: disconnected: ^[]0;pwned^G"),
            "{text}"
        );
    }

    #[test]
    fn host_names_are_neutralised_in_headers_and_inline_prefixes() {
        let mut r = result(b"hi\n", None);
        r.name = "evil\x1b]0;pwned\x07".into();
        let mut out = Vec::new();
        write_folded(&mut out, std::slice::from_ref(&r), true).unwrap();
        push_inline_lines(&mut out, &r.name, b"hi\n", true);
        crate::test_support::check_terminal_output(&out)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&out)));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("evil^[]0;pwned^G (exit 0)"), "{text}");
        assert!(text.contains("evil^[]0;pwned^G: hi"), "{text}");
        // Into a pipe a name is data, like output.
        let mut plain = Vec::new();
        push_inline_lines(&mut plain, &r.name, b"hi\n", false);
        assert_eq!(plain, b"evil\x1b]0;pwned\x07: hi\n");
    }

    #[test]
    fn json_escapes_c0_and_c1_controls() {
        let mut out = Vec::new();
        write_json(&mut out, &[result(HOSTILE, Some("bye\u{9d}0;x\u{9c}"))]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(
            text.contains("\\u009d2;t\\u009c") && text.contains("\\u001b]0;pwned"),
            "{text}"
        );
        // Still the same strings once parsed.
        let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["stdout"], String::from_utf8_lossy(HOSTILE).as_ref());
        assert_eq!(v["error"], "bye\u{9d}0;x\u{9c}");
    }

    #[test]
    fn json_names_the_error_kind_or_null() {
        let mut refused = result(b"", Some("cannot connect to web01:22: Connection refused"));
        refused.error_kind = Some("refused");
        let mut out = Vec::new();
        write_json(&mut out, &[result(b"fine\n", None), refused]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["error"], serde_json::Value::Null);
        assert_eq!(lines[0]["error_kind"], serde_json::Value::Null);
        assert_eq!(
            lines[1]["error"],
            "cannot connect to web01:22: Connection refused"
        );
        assert_eq!(lines[1]["error_kind"], "refused");
        // Right after `error`, in the order written.
        assert!(
            text.contains(r#""error":null,"error_kind":null,"duration_ms""#),
            "{text}"
        );
        assert!(
            text.contains(r#"Connection refused","error_kind":"refused","duration_ms""#),
            "{text}"
        );
    }

    #[test]
    fn run_into_a_pipe_keeps_output_as_it_is() {
        // Not a terminal (a pipe, a file): output is data, passed on unchanged (lossy UTF-8).
        let mut out = Vec::new();
        write_folded(&mut out, &[result(b"a\x1b[1mb\tc\r\n", None)], false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("a\x1b[1mb\tc\r\n"), "{text:?}");
        let mut inline = Vec::new();
        push_inline_lines(&mut inline, "h", b"x\x1b]0;t\x07\r\n\xffy\n", false);
        assert_eq!(inline, "h: x\x1b]0;t\x07\nh: \u{fffd}y\n".as_bytes());
    }

    #[test]
    fn the_folded_report_shows_stderr_apart_and_never_glues_a_header_to_output() {
        let mut a = result(b"out without newline", None);
        a.stderr = b"err without newline".to_vec();
        let mut b = result(b"second\n", None);
        b.name = "web02".into();
        b.stderr = Vec::new();
        let mut out = Vec::new();
        write_folded(&mut out, &[a, b], false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(&format!(
                "out without newline\n{STDERR_MARK}\nerr without newline\n-"
            )),
            "{text}"
        );
        // Every header starts a line of its own.
        assert!(text.contains("\nweb02 (exit 0)\n"), "{text}");
        // No stderr, no mark.
        assert_eq!(text.matches(STDERR_MARK).count(), 1, "{text}");
    }

    #[test]
    fn a_signal_is_the_end_of_a_command_not_an_error() {
        let mut killed = result(b"before\n", None);
        killed.exit_status = None;
        killed.signal = Some("TERM".into());
        killed.outcome = Outcome::NonZero;
        let mut out = Vec::new();
        write_folded(&mut out, std::slice::from_ref(&killed), false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("web01 (signal TERM)\n"), "{text}");
        let mut json = Vec::new();
        write_json_host(&mut json, &killed).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["exit_signal"], "TERM");
        assert_eq!(v["outcome"], "non-zero");
        assert_eq!(v["error"], serde_json::Value::Null);
        assert_eq!(Summary::of(&[killed]).exit_code(), 1);
        // Same output, one killed and one not: two groups.
        let mut exited = result(b"before\n", None);
        exited.stderr = b"before\n".to_vec();
        let mut killed = exited.clone();
        killed.signal = Some("KILL".into());
        assert_eq!(fold_results(&[exited, killed]).len(), 2);
    }
}
