//! The results view's keys (F9) and selecting the broadcast receivers by result.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::result::RunStatus;
use std::rc::Rc;

use super::results::{GroupKind, GroupsKey, ResultGroup};
use super::{App, Effect, Overlay};
use crate::lang::{tr, trf};
use crate::ssh::SessionId;

/// Lines a PgUp / PgDn scrolls the output of the highlighted group.
const PAGE: u16 = 10;

/// Where the results view is: the highlighted group and how far its output is scrolled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultsView {
    pub selected: usize,
    pub scroll: u16,
    /// The body shows the highlighted group's diff against the largest group (`=`).
    pub diff: bool,
}

/// A rule for choosing the receivers from the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Ended with a known status other than 0.
    Failed,
    /// Not in the largest group of identical answers.
    Differs,
    Running,
    /// The session failed or closed.
    Unreachable,
}

impl Pick {
    fn describe(self) -> &'static str {
        match self {
            Pick::Failed => "exit status ≠ 0 or could not run",
            Pick::Differs => "answer differs from the largest group",
            Pick::Running => "still running",
            Pick::Unreachable => "unreachable",
        }
    }

    fn from_key(c: char) -> Option<Pick> {
        match c {
            'e' => Some(Pick::Failed),
            'd' => Some(Pick::Differs),
            'r' => Some(Pick::Running),
            'u' => Some(Pick::Unreachable),
            _ => None,
        }
    }
}

impl App {
    /// The groups the results view shows, with the current folding. Regrouped only when a
    /// pane's result or state changed, a pane came or went, or the folding was toggled
    /// since the last call: the view asks on every frame.
    pub fn result_groups(&self) -> Rc<[ResultGroup]> {
        let key = GroupsKey {
            panes: self.panes_epoch,
            results: self
                .panes
                .iter()
                .fold(0u64, |sum, p| sum.wrapping_add(p.results_generation())),
            fuzzy: self.fuzzy,
        };
        self.groups_cache.get(key, &self.panes)
    }

    /// The groups made afresh, past the cache: what the first frame after a change pays
    /// (benchmarks), and what the cache must agree with (tests).
    pub fn regroup_results(&self) -> Vec<ResultGroup> {
        super::results::group_results(&self.panes, self.fuzzy)
    }

    /// The marks fuzzy folding shows in `group`'s output (none when folding is exact).
    pub fn group_varying(&self, group: &ResultGroup) -> Vec<(usize, usize)> {
        if self.fuzzy {
            super::results::varying_tokens(&self.panes, group)
        } else {
            Vec::new()
        }
    }

    pub(super) fn open_results(&mut self) {
        self.overlay = Some(Overlay::Results(ResultsView::default()));
    }

    pub(super) fn results_key(&mut self, mut view: ResultsView, key: KeyEvent) -> Vec<Effect> {
        let groups = self.result_groups();
        let last = groups.len().saturating_sub(1);
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            let effects = self.cancel_command().unwrap_or_default();
            self.overlay = Some(Overlay::Results(view));
            return effects;
        }
        match key.code {
            // Esc leaves the diff first, then the view.
            KeyCode::Esc if view.diff => view = move_to(view.selected, false),
            KeyCode::Esc | KeyCode::F(9) | KeyCode::Char('q') => return Vec::new(),
            KeyCode::Up => view = move_to(view.selected.saturating_sub(1), view.diff),
            KeyCode::Down => view = move_to((view.selected + 1).min(last), view.diff),
            KeyCode::Char('=') => view = move_to(view.selected, !view.diff),
            KeyCode::PageUp => view.scroll = view.scroll.saturating_sub(PAGE),
            KeyCode::PageDown => view.scroll = view.scroll.saturating_add(PAGE),
            KeyCode::Home => view.scroll = 0,
            KeyCode::Char('f') => {
                self.fuzzy = !self.fuzzy;
                view = move_to(0, view.diff);
            }
            KeyCode::Enter => {
                if let Some(group) = groups.get(view.selected) {
                    let what = format!("{} ({})", group.hosts, group_label(&group.kind));
                    self.select_only(&group.ids, &what);
                    return Vec::new();
                }
            }
            KeyCode::Char('i') => self.invert_selection(),
            KeyCode::Char(c) => {
                if let Some(pick) = Pick::from_key(c) {
                    self.pick(pick, &groups);
                    return Vec::new();
                }
            }
            _ => {}
        }
        self.overlay = Some(Overlay::Results(view));
        Vec::new()
    }

    /// Alt-E / Alt-D / Alt-R / Alt-U in line mode: the same picks without the view.
    pub(super) fn pick_key(&mut self, c: char) -> bool {
        let Some(pick) = Pick::from_key(c) else {
            return false;
        };
        let groups = self.result_groups();
        self.pick(pick, &groups);
        true
    }

    fn pick(&mut self, pick: Pick, groups: &[ResultGroup]) {
        let largest = groups
            .iter()
            .find(|g| matches!(g.kind, GroupKind::Answered(_)))
            .map(|g| g.ids.clone())
            .unwrap_or_default();
        let ids: Vec<SessionId> = self
            .panes
            .iter()
            .filter(|p| {
                let status = p.last_result().map(|r| r.status);
                match pick {
                    Pick::Failed => matches!(
                        status,
                        Some(RunStatus::Exited(1..) | RunStatus::Failed | RunStatus::TimedOut)
                    ),
                    Pick::Differs => p.is_live() && !largest.contains(&p.id),
                    Pick::Running => p.is_live() && status == Some(RunStatus::Running),
                    Pick::Unreachable => p.state.is_finished(),
                }
            })
            .map(|p| p.id)
            .collect();
        self.select_only(&ids, pick.describe());
    }

    /// Makes exactly `ids` the broadcast receivers and says how many the next line reaches.
    pub(super) fn select_only(&mut self, ids: &[SessionId], what: &str) {
        for pane in &mut self.panes {
            pane.in_broadcast = ids.contains(&pane.id);
        }
        let live = self.target_count();
        let template = if live == 1 {
            "selected {count} ({what}): the next line goes to {live} session"
        } else {
            "selected {count} ({what}): the next line goes to {live} sessions"
        };
        self.notice = Some(trf(
            template,
            &[("count", &ids.len()), ("what", &tr(what)), ("live", &live)],
        ));
    }

    pub(super) fn invert_selection(&mut self) {
        for pane in &mut self.panes {
            pane.in_broadcast = !pane.in_broadcast;
        }
    }
}

fn move_to(selected: usize, diff: bool) -> ResultsView {
    ResultsView {
        selected,
        scroll: 0,
        diff,
    }
}

/// A group's status as the view and the notices name it.
pub fn group_label(kind: &GroupKind) -> String {
    match kind {
        GroupKind::Answered(RunStatus::Exited(0)) => "✓ exit 0".into(),
        GroupKind::Answered(RunStatus::Exited(s)) => format!("✗ exit {s}"),
        GroupKind::Answered(RunStatus::Finished) => "? exit status unknown".into(),
        GroupKind::Answered(RunStatus::Cancelled) => "⊘ cancelled".into(),
        GroupKind::Answered(RunStatus::TimedOut) => "⌛ timed out".into(),
        GroupKind::Answered(RunStatus::Failed) => "✗ could not run".into(),
        GroupKind::Answered(RunStatus::Running) => "… still running".into(),
        GroupKind::Running => "… still running".into(),
        GroupKind::NoAnswer => "no answer yet".into(),
        GroupKind::Disconnected(_) => "disconnected".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Msg;
    use crate::ssh::SessionState;

    fn app_with(streams: &[&str]) -> App {
        let mut app = App::new(100, 30, streams.len());
        for (i, stream) in streams.iter().enumerate() {
            let (id, _) = app.add_pane(format!("h{:02}", i + 1));
            let _ = app.update(Msg::State {
                id,
                state: SessionState::Ready,
            });
            let data = stream.as_bytes().to_vec();
            let _ = app.update(Msg::Output { id, data });
        }
        app
    }

    fn done(out: &str, status: u32) -> String {
        format!("\x1b]133;C\x07{out}\x1b]133;D;{status}\x07")
    }

    fn press(app: &mut App, code: KeyCode) {
        let _ = app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    #[test]
    fn enter_in_the_view_makes_the_group_the_receivers() {
        let ok = done("ok\r\n", 0);
        let bad = done("bad\r\n", 2);
        let mut app = app_with(&[&ok, &bad, &ok, &bad, &ok]);
        press(&mut app, KeyCode::F(9));
        assert!(matches!(app.overlay, Some(Overlay::Results(_))));
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Enter);
        assert!(app.overlay.is_none());
        assert_eq!(app.targets(), [1, 3]);
        let notice = app.notice().unwrap_or_default();
        assert!(
            notice.contains("h[02,04]") && notice.contains("2 sessions"),
            "{notice}"
        );
        press(&mut app, KeyCode::F(9));
        press(&mut app, KeyCode::Char('i'));
        assert_eq!(app.targets(), [0, 2, 4]);
    }

    #[test]
    fn picks_by_status_difference_running_and_unreachable() {
        let ok = done("ok\r\n", 0);
        let bad = done("bad\r\n", 2);
        let mut app = app_with(&[&ok, &bad, "\x1b]133;C\x07busy", &ok, ""]);
        let _ = app.update(Msg::State {
            id: 4,
            state: SessionState::Failed {
                error: crate::ssh::SessionError::Other("refused".into()),
            },
        });
        let alt = |app: &mut App, c| {
            let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT)));
        };
        alt(&mut app, 'e');
        assert_eq!(app.targets(), [1]);
        alt(&mut app, 'd');
        assert_eq!(app.targets(), [1, 2]);
        alt(&mut app, 'r');
        assert_eq!(app.targets(), [2]);
        alt(&mut app, 'u');
        assert!(app.panes[4].in_broadcast && app.panes[4].state.is_finished());
        assert_eq!(app.target_count(), 0);
        assert!(app.notice().unwrap_or_default().contains("0 sessions"));
    }

    /// The cache hands back the same groups until something they are made of changes, and
    /// then exactly what grouping afresh gives.
    #[test]
    fn groups_are_regrouped_only_when_a_result_state_or_folding_changes() {
        let mut app = app_with(&[&done("ok h01\r\n", 0), &done("ok h02\r\n", 0), ""]);
        let fresh = App::regroup_results;
        let output = |app: &mut App, id, text: &str| {
            let data = text.as_bytes().to_vec();
            let _ = app.update(Msg::Output { id, data });
        };
        let first = app.result_groups();
        assert_eq!(first.len(), 3);
        assert!(Rc::ptr_eq(&first, &app.result_groups()), "nothing changed");
        // Output between commands is no result.
        output(&mut app, 0, "motd\r\n");
        assert!(Rc::ptr_eq(&first, &app.result_groups()), "idle output");
        // A command starts on h03, prints, ends.
        for step in ["\x1b]133;C\x07", "working\r\n", "\x1b]133;D;4\x07"] {
            let before = app.result_groups();
            output(&mut app, 2, step);
            let after = app.result_groups();
            assert!(!Rc::ptr_eq(&before, &after), "after {step:?}");
            assert_eq!(*after, *fresh(&app));
        }
        let before = app.result_groups();
        let _ = app.update(Msg::State {
            id: 1,
            state: SessionState::Failed {
                error: crate::ssh::SessionError::Other("gone".into()),
            },
        });
        let after = app.result_groups();
        assert!(!Rc::ptr_eq(&before, &after));
        assert!(matches!(
            after.last().map(|g| &g.kind),
            Some(GroupKind::Disconnected(_))
        ));
        assert_eq!(*after, *fresh(&app));
        // Fuzzy folding joins h01's "ok h01" with nothing else here, but must regroup.
        press(&mut app, KeyCode::F(9));
        press(&mut app, KeyCode::Char('f'));
        let folded = app.result_groups();
        assert!(!Rc::ptr_eq(&after, &folded));
        assert_eq!(*folded, *fresh(&app));
        // A pane removed (F8 closes the focused one) regroups too.
        press(&mut app, KeyCode::Esc);
        let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::F(8), KeyModifiers::NONE)));
        assert_eq!(app.panes.len(), 2);
        assert_eq!(*app.result_groups(), *fresh(&app));
    }
}
