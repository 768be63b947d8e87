//! The TUI: status bar, input line, pane titles, dialogs and notices.

pub(super) const TEXTS: &[(&str, &str)] = &[
    ("F1 help", "F1 帮助"),
];
