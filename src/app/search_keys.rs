//! The search's own mode: its keys, the jumps between matches (the pane zooms and scrolls to
//! the line), and the key that makes the panes with matches the receivers.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::input::edit_key;
use super::search::{MatchKey, Phase, SLICE_BUDGET, Search};
use super::{App, Effect};
use crate::lang::{tr, trf};

impl App {
    /// Ctrl-F, or `/` on an empty broadcast line (`slash`).
    pub(super) fn open_search(&mut self, slash: bool) -> Vec<Effect> {
        if self.panes.is_empty() {
            if slash {
                self.editor.insert('/');
            }
            return Vec::new();
        }
        self.search = Some(Search::new(slash, self.zoom));
        Vec::new()
    }

    /// Whether the search has scanning to do: the loop then sends
    /// [`super::Msg::SearchSlice`] as soon as it has nothing else to do.
    pub fn search_pending(&self) -> bool {
        self.search.as_ref().is_some_and(Search::pending)
    }

    /// The search, while it is open.
    pub fn search(&self) -> Option<&Search> {
        self.search.as_ref()
    }

    pub(super) fn search_slice(&mut self) -> Vec<Effect> {
        if let Some(search) = &mut self.search {
            search.slice(&mut self.panes, SLICE_BUDGET);
            // Browsing with nothing current yet (Enter came before the first match): the
            // first one found is jumped to.
            if search.phase == Phase::Browsing && search.current.is_none() {
                return self.jump(true);
            }
        }
        Vec::new()
    }

    pub(super) fn search_key(&mut self, mut search: Search, key: KeyEvent) -> Vec<Effect> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('r' | 'R')) {
            search.regex = !search.regex;
            search.restart();
            self.search = Some(search);
            return Vec::new();
        }
        if key.code == KeyCode::Esc || (ctrl && matches!(key.code, KeyCode::Char('c' | 'C'))) {
            return self.leave_search(search);
        }
        match search.phase {
            Phase::Typing => self.search_typing_key(search, key, ctrl),
            Phase::Browsing => self.search_browsing_key(search, key, ctrl),
        }
    }

    fn search_typing_key(&mut self, mut search: Search, key: KeyEvent, ctrl: bool) -> Vec<Effect> {
        let empty = search.query.text().is_empty();
        match key.code {
            // `//`: the line was meant to start with `/`.
            KeyCode::Char('/') if search.slash && empty && !ctrl => {
                let effects = self.leave_search(search);
                self.editor.insert('/');
                return effects;
            }
            KeyCode::Enter => {
                search.phase = Phase::Browsing;
                self.search = Some(search);
                return self.jump(true);
            }
            KeyCode::Char('u' | 'U') if ctrl => {
                search.query.clear();
                search.restart();
            }
            _ if ctrl => {}
            code => {
                let before = search.query.text().to_string();
                edit_key(&mut search.query, code, false);
                if search.query.text() != before {
                    search.restart();
                }
            }
        }
        self.search = Some(search);
        Vec::new()
    }

    fn search_browsing_key(
        &mut self,
        mut search: Search,
        key: KeyEvent,
        ctrl: bool,
    ) -> Vec<Effect> {
        match key.code {
            KeyCode::Char('n') | KeyCode::Down if !ctrl => {
                self.search = Some(search);
                self.jump(true)
            }
            KeyCode::Char('N') | KeyCode::Up if !ctrl => {
                self.search = Some(search);
                self.jump(false)
            }
            KeyCode::Char('r') if !ctrl => self.matches_to_receivers(search),
            KeyCode::Enter | KeyCode::Char('/') => {
                search.phase = Phase::Typing;
                self.search = Some(search);
                Vec::new()
            }
            KeyCode::Char('f' | 'F') if ctrl => {
                search.phase = Phase::Typing;
                self.search = Some(search);
                Vec::new()
            }
            _ => {
                self.search = Some(search);
                Vec::new()
            }
        }
    }

    /// Esc: the search closes; the zoom goes back to what it was, the panes stay scrolled
    /// where the jumps left them (Shift-End: live).
    fn leave_search(&mut self, search: Search) -> Vec<Effect> {
        self.search = None;
        if self.zoom != search.zoom_before {
            self.zoom = search.zoom_before;
            return self.relayout();
        }
        Vec::new()
    }

    /// `r`: the panes with matches, and only those, become the broadcast's receivers; the
    /// search closes so the line can be typed for them.
    fn matches_to_receivers(&mut self, search: Search) -> Vec<Effect> {
        let chosen = search.panes_with_matches();
        if chosen.is_empty() {
            self.notice = Some(tr("no pane matches: the receivers stay as they were").into());
            self.search = Some(search);
            return Vec::new();
        }
        for pane in &mut self.panes {
            pane.in_broadcast = chosen.contains(&pane.id);
        }
        let count = self.panes.iter().filter(|p| p.in_broadcast).count();
        self.notice = Some(trf(
            "receivers: the {count} panes with matches",
            &[("count", &count)],
        ));
        self.leave_search(search)
    }

    /// n / N: to the next or previous match. Its pane takes the focus and zooms; when the
    /// zoom resized it (its rows may wrap anew) it is scanned again at once and the match
    /// with the same place among its matches is the one shown.
    fn jump(&mut self, forward: bool) -> Vec<Effect> {
        let Some(mut search) = self.search.take() else {
            return Vec::new();
        };
        let Some(mut key) = search.neighbour(forward) else {
            if !search.pending() {
                self.notice = Some(tr("no match").into());
            }
            self.search = Some(search);
            return Vec::new();
        };
        let Ok(index) = self.panes.binary_search_by_key(&key.0, |p| p.id) else {
            self.search = Some(search);
            return Vec::new();
        };
        let sizes: Vec<(u16, u16)> = self.panes.iter().map(|p| p.pty_size()).collect();
        self.focus = index;
        self.zoom = true;
        let effects = self.relayout();
        for (pane, size) in self.panes.iter().zip(&sizes) {
            if pane.pty_size() != *size {
                search.resized(pane.id);
            }
        }
        if self.panes[index].pty_size() != sizes[index] {
            let ordinal = search.ordinal(key);
            if let Some(found) = search.rescan_pane(&mut self.panes, index, ordinal) {
                key = found;
            }
        }
        self.show_match(&mut search, key);
        self.search = Some(search);
        effects
    }

    fn show_match(&mut self, search: &mut Search, key: MatchKey) {
        search.current = Some(key);
        if let Some(pane) = self.pane_mut(key.0) {
            pane.scroll_to_line(key.1);
        }
    }
}
