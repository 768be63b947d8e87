//! The key bindings, as shown by F1 (and kept in one table so the docs cannot drift).

/// (keys, what they do), grouped by heading rows whose action is empty.
pub const KEY_HELP: &[(&str, &str)] = &[
    ("Line mode (default)", ""),
    (
        "Enter (:CMD, ::)",
        "send the line to active (●) sessions; :CMD runs CMD via SSH exec",
    ),
    ("←/→ Home/End Bksp Del", "edit the line; ↑/↓ browse history"),
    (
        "Ctrl-C / Ctrl-D / Alt-Z",
        "send ^C / ^D / ^Z to active sessions",
    ),
    (
        "Alt-P",
        "hidden input for the next line (passwords: not shown, not kept)",
    ),
    (
        "Alt-Enter",
        "canary: to the first receiver(s); Alt-Enter again sends the rest",
    ),
    (
        "Alt-B / Esc",
        "send in batches (--batch), stops at a failure / Esc drops it",
    ),
    (
        "Alt-W",
        "answer the panes showing a password prompt (⚿), once, hidden",
    ),
    ("Ctrl-U", "clear the line"),
    (
        "Alt-X",
        "discard input not yet sent (a pane's title shows it: ⇡ 1.2 MB)",
    ),
    ("Selection", ""),
    (
        "Tab / Shift-Tab, Alt-arrows",
        "move the focus between panes; click a pane too",
    ),
    ("PgUp / PgDn", "previous / next page of panes"),
    (
        "Alt-T",
        "toggle the focused pane in or out of the broadcast",
    ),
    ("Alt-A / Alt-N / Alt-I", "broadcast to all / none / invert"),
    (
        "Alt-G",
        "broadcast to a node set: @group, web[01-03], , ! & ^ (web01 → @web)",
    ),
    (
        "Alt-S",
        "save the receivers as a named group (@name) for this run",
    ),
    (
        "Alt-E / D / R / U",
        "receivers: last command failed / differs / runs / unreachable",
    ),
    ("Alt-M", "zoom the focused pane / back to the grid"),
    (
        "Alt-O",
        "overview ↔ grid (overview: one tile per session, failures first)",
    ),
    (
        "Overview: ←/→ Enter",
        "line empty: move the highlight (Alt-arrows too) / zoom it",
    ),
    (
        "Shift-↑/↓ PgUp/PgDn, wheel",
        "scroll back; Shift-End back to live",
    ),
    (
        "F9",
        "results view: grouped answers; Enter sends to one; f fuzzy; = diff",
    ),
    ("Search", ""),
    (
        "/ (empty line), Ctrl-F",
        "search all panes and their scrollback; // types a leading /",
    ),
    (
        "Ctrl-R / Enter / Esc",
        "in the search: regex on/off; Enter: to the matches; Esc leaves",
    ),
    (
        "n / N (↓ / ↑)",
        "matches: next / previous (the pane zooms and scrolls to the line)",
    ),
    ("r", "matches: the panes with matches become the receivers"),
    ("Modes", ""),
    (
        "Ctrl-]",
        "focus mode: every key to the focused session; Ctrl-] returns",
    ),
    (
        "F3",
        "keystroke broadcast: every key to all active; Ctrl-] returns",
    ),
    ("Sessions and program", ""),
    (
        "F2",
        "start the mock server (if needed) and add a practice pane",
    ),
    (
        "F5 / Shift-F5 / F8",
        "reconnect the focused / every failed or closed pane / close it",
    ),
    ("F6", "add a host: user@host:port"),
    (
        "F7",
        "save the focused pane's scrollback to a new file (--save-dir)",
    ),
    (
        "Alt-V",
        "record the focused pane (asciicast, ● REC) / stop; --record DIR",
    ),
    (
        "Alt-F",
        "upload a file or directory to the receivers (⇡ 42%); again: cancel",
    ),
    (
        "Alt-K",
        "download from the focused pane's host into DIR/HOST/; again: cancel",
    ),
    (
        "F12",
        "event view: the loop's wake-ups, ready sockets, threads, live",
    ),
    (
        "F4",
        "mouse capture on/off (off: the terminal's own text selection)",
    ),
    ("Ctrl-Z", "suspend mtssh (fg resumes)"),
    ("Ctrl-Q", "quit (asks while sessions are live)"),
    (
        "F1 / any other key",
        "this help / close it (↑/↓ PgUp/PgDn Home/End scroll it)",
    ),
];

#[cfg(test)]
mod tests {
    use super::KEY_HELP;
    use crate::lang::{Lang, tr, with};

    /// A new row needs its Chinese too: add it to src/lang/zh/help.rs.
    #[test]
    fn every_row_of_the_help_has_a_chinese_text() {
        with(Lang::Zh, || {
            for (keys, action) in KEY_HELP {
                let text = if action.is_empty() { keys } else { action };
                assert_ne!(
                    tr(text),
                    *text,
                    "no Chinese for {text:?} in src/lang/zh/help.rs"
                );
            }
        });
    }
}
