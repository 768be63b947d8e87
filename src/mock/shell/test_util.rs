//! Helpers shared by the practice shell's tests.

use super::{Action, Lang, Shell, ShellConfig, run_exec};

pub(super) const P: &str = "alice@lab:~$ ";

pub(super) fn cfg(lang: Lang, pty: bool) -> ShellConfig {
    ShellConfig {
        hostname: "lab".to_string(),
        user: "alice".to_string(),
        lang,
        pty: pty.then_some((80, 24)),
        env: vec![("LANG".to_string(), "C.UTF-8".to_string())],
        started_at_unix: 1_795_796_680 - 93_784, // 1 day 2:03:04 before
        marks: false,
        differ: None,
        style: Default::default(),
    }
}

pub(super) const NOW: u64 = 1_795_796_680; // Fri Nov 27 16:24:40 UTC 2026

pub(super) fn shell(lang: Lang, pty: bool) -> Shell {
    let mut sh = Shell::new(cfg(lang, pty));
    sh.start(NOW);
    sh
}

pub(super) fn text(actions: &[Action]) -> String {
    let mut v = Vec::new();
    for a in actions {
        if let Action::Output(b) = a {
            v.extend_from_slice(b);
        }
    }
    String::from_utf8(v).expect("shell output is UTF-8")
}

pub(super) fn others(actions: &[Action]) -> Vec<Action> {
    actions
        .iter()
        .filter(|a| !matches!(a, Action::Output(_)))
        .cloned()
        .collect()
}

pub(super) fn feed(sh: &mut Shell, s: &str) -> Vec<Action> {
    sh.feed(s.as_bytes(), NOW)
}

/// Output of one command typed without a pty, minus the trailing prompt.
pub(super) fn run(lang: Lang, line: &str) -> String {
    let mut sh = shell(lang, false);
    let out = text(&feed(&mut sh, &format!("{line}\n")));
    out.strip_suffix(P).expect("ends with prompt").to_string()
}

pub(super) fn exec(line: &str) -> Vec<Action> {
    run_exec(&cfg(Lang::En, false), line, NOW)
}
