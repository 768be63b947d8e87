//! Named groups of receivers and the "broadcast to:" prompt.
//!
//! Alt-S saves the current receivers under a name for this run. Alt-G opens a prompt
//! prefilled with `@<the focused pane's group>` (so Alt-G Enter selects that group, as the
//! key always did) where a node-set expression over the panes picks the receivers: `@name`
//! (a saved group first, else the panes whose name group is `name`: web01 → `@web`), pane
//! names with ranges (`mock-[01-03]`, matched against the whole name or its host part), and
//! the operators `,` `!` `&` `^` read left to right (src/config/nodeset.rs).

use crossterm::event::{KeyCode, KeyEvent};

use super::editor::LineEditor;
use super::results::short_host;
use super::{App, Effect, Overlay};
use crate::config::expand;
use crate::config::nodeset::{self, Operand};
use crate::lang::{tr, trf};
use crate::ssh::SessionId;

/// How many group names the prompt's hint and its errors list before `…`.
const NAMES_SHOWN: usize = 8;

/// A one-line input and the error its last Enter gave (the dialog stays open to fix it).
#[derive(Debug, Default)]
pub struct ExprDialog {
    pub input: LineEditor,
    pub error: Option<String>,
}

/// The receivers saved under a name (Alt-S) for this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedGroup {
    pub name: String,
    pub ids: Vec<SessionId>,
}

impl App {
    /// Alt-S: asks the name to save the current receivers under.
    pub(super) fn open_save_group(&mut self) {
        if !self.panes.iter().any(|p| p.in_broadcast) {
            self.notice = Some(tr("no receivers to save: select some first").into());
            return;
        }
        self.overlay = Some(Overlay::SaveGroup(ExprDialog::default()));
    }

    /// Alt-G: the "broadcast to:" prompt, prefilled with the focused pane's group.
    pub(super) fn open_broadcast_to(&mut self) {
        let mut dialog = ExprDialog::default();
        if let Some(pane) = self.focused() {
            dialog.input.insert_str(&format!("@{}", pane.group()));
        }
        self.overlay = Some(Overlay::BroadcastTo(dialog));
    }

    pub(super) fn save_group_key(&mut self, mut dialog: ExprDialog, key: KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Esc => {}
            KeyCode::Enter => {
                let name = dialog
                    .input
                    .text()
                    .trim()
                    .trim_start_matches('@')
                    .to_string();
                match valid_name(&name) {
                    Ok(()) => self.save_group(name),
                    Err(error) => {
                        dialog.error = Some(error);
                        self.overlay = Some(Overlay::SaveGroup(dialog));
                    }
                }
            }
            code => {
                super::input::edit_key(&mut dialog.input, code, false);
                dialog.error = None;
                self.overlay = Some(Overlay::SaveGroup(dialog));
            }
        }
        Vec::new()
    }

    fn save_group(&mut self, name: String) {
        let ids: Vec<SessionId> = self
            .panes
            .iter()
            .filter(|p| p.in_broadcast)
            .map(|p| p.id)
            .collect();
        let template = if ids.len() == 1 {
            "saved {count} receiver as @{name} (Alt-G: @{name})"
        } else {
            "saved {count} receivers as @{name} (Alt-G: @{name})"
        };
        self.notice = Some(trf(template, &[("count", &ids.len()), ("name", &name)]));
        self.saved_groups.retain(|g| g.name != name);
        self.saved_groups.push(SavedGroup { name, ids });
    }

    pub(super) fn broadcast_to_key(
        &mut self,
        mut dialog: ExprDialog,
        key: KeyEvent,
    ) -> Vec<Effect> {
        match key.code {
            KeyCode::Esc => {}
            KeyCode::Enter => {
                let expr = dialog.input.text().trim().to_string();
                match self.resolve_receivers(&expr) {
                    Ok(ids) => self.select_only(&ids, &expr),
                    Err(error) => {
                        dialog.error = Some(error);
                        self.overlay = Some(Overlay::BroadcastTo(dialog));
                    }
                }
            }
            code => {
                super::input::edit_key(&mut dialog.input, code, false);
                dialog.error = None;
                self.overlay = Some(Overlay::BroadcastTo(dialog));
            }
        }
        Vec::new()
    }

    /// The panes a node-set expression names (see the module docs), in pane order.
    pub fn resolve_receivers(&self, expr: &str) -> Result<Vec<SessionId>, String> {
        let terms = nodeset::parse(expr).map_err(|e| e.to_string())?;
        if terms.is_empty() {
            return Err("empty: type @group, pane names (ranges allowed) or both".into());
        }
        let mut ids = nodeset::evaluate(&terms, |o| self.operand_ids(o), |a, b| a == b)?;
        ids.sort_unstable();
        Ok(ids)
    }

    fn operand_ids(&self, operand: Operand<'_>) -> Result<Vec<SessionId>, String> {
        match operand {
            Operand::Group(name) => {
                let ids: Vec<SessionId> = match self.saved_groups.iter().find(|g| g.name == name) {
                    // Panes closed since the save drop out.
                    Some(saved) => self
                        .panes
                        .iter()
                        .filter(|p| saved.ids.contains(&p.id))
                        .map(|p| p.id)
                        .collect(),
                    None => self
                        .panes
                        .iter()
                        .filter(|p| p.group() == name)
                        .map(|p| p.id)
                        .collect(),
                };
                if ids.is_empty() && !self.saved_groups.iter().any(|g| g.name == name) {
                    return Err(format!(
                        "no group @{name}; known: {}",
                        self.group_names_hint()
                    ));
                }
                Ok(ids)
            }
            Operand::Hosts(spec) => {
                let names = expand(spec).map_err(|e| format!("{spec}: {e}"))?;
                let ids: Vec<SessionId> = self
                    .panes
                    .iter()
                    .filter(|p| {
                        let host = short_host(&p.name);
                        names.iter().any(|n| *n == p.name || n == host)
                    })
                    .map(|p| p.id)
                    .collect();
                if ids.is_empty() {
                    return Err(format!("no pane named {spec}"));
                }
                Ok(ids)
            }
            Operand::File(_) | Operand::Stdin => {
                Err("^FILE and - work on the command line only; here use @group or names".into())
            }
        }
    }

    /// `@name` for every saved group, then every pane name group, each once, cut after a few.
    pub fn group_names_hint(&self) -> String {
        let mut names: Vec<&str> = self.saved_groups.iter().map(|g| g.name.as_str()).collect();
        for pane in &self.panes {
            if names.len() > NAMES_SHOWN {
                break;
            }
            if !names.contains(&pane.group()) {
                names.push(pane.group());
            }
        }
        let mut hint: Vec<String> = names
            .iter()
            .take(NAMES_SHOWN)
            .map(|n| format!("@{n}"))
            .collect();
        if names.len() > NAMES_SHOWN {
            hint.push("…".into());
        }
        if hint.is_empty() {
            "none".into()
        } else {
            hint.join(" ")
        }
    }
}

/// A group name must read as one `@name` operand.
fn valid_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("type a name (letters, digits, - _ .)".into());
    }
    match name
        .chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        Some(c) => Err(format!(
            "`{c}` cannot be in a group name (letters, digits, - _ .)"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use crate::app::{App, Msg, Overlay};
    use crate::ssh::SessionState;

    fn app_with(names: &[&str]) -> App {
        let mut app = App::new(100, 30, names.len());
        for name in names {
            let (id, _) = app.add_pane(*name);
            let _ = app.update(Msg::State {
                id,
                state: SessionState::Ready,
            });
        }
        app
    }

    fn press(app: &mut App, code: KeyCode, modifiers: KeyModifiers) {
        let _ = app.update(Msg::Key(KeyEvent::new(code, modifiers)));
    }

    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            press(app, KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    const NAMES: &[&str] = &["web01", "web02", "web03", "db01", "test@mock-01:2222"];

    #[test]
    fn expressions_pick_name_groups_ranges_and_operators() {
        let app = app_with(NAMES);
        assert_eq!(app.resolve_receivers("@web"), Ok(vec![0, 1, 2]));
        assert_eq!(app.resolve_receivers("@web!web02"), Ok(vec![0, 2]));
        assert_eq!(app.resolve_receivers("web[02-03],db01"), Ok(vec![1, 2, 3]));
        assert_eq!(app.resolve_receivers("@web&web[03-09]"), Ok(vec![2]));
        assert_eq!(app.resolve_receivers("web01^@web"), Ok(vec![1, 2]));
        // The host part of a `user@host:port` pane name names it too.
        assert_eq!(app.resolve_receivers("mock-[01-02]"), Ok(vec![4]));
        let unknown = app.resolve_receivers("@nope").unwrap_err();
        assert!(
            unknown.contains("@nope") && unknown.contains("@web") && unknown.contains("@db"),
            "{unknown}"
        );
        assert!(app.resolve_receivers("web09").is_err());
        assert!(app.resolve_receivers("@web!").is_err());
        assert!(app.resolve_receivers("^hosts.txt").is_err());
        assert!(app.resolve_receivers("  ").is_err());
    }

    #[test]
    fn alt_s_saves_the_receivers_and_alt_g_selects_them_by_name() {
        let mut app = app_with(NAMES);
        let _ = app
            .resolve_receivers("web02,db01")
            .map(|ids| app.select_only(&ids, "test"));
        press(&mut app, KeyCode::Char('s'), KeyModifiers::ALT);
        assert!(matches!(app.overlay, Some(Overlay::SaveGroup(_))));
        type_text(&mut app, "odd one");
        press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        let Some(Overlay::SaveGroup(dialog)) = &app.overlay else {
            panic!("a bad name keeps the dialog open");
        };
        assert!(dialog.error.as_deref().unwrap_or_default().contains("` `"));
        for _ in 0.." one".len() {
            press(&mut app, KeyCode::Backspace, KeyModifiers::NONE);
        }
        press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(app.overlay.is_none());
        assert!(app.notice().unwrap_or_default().contains("@odd"));

        // Alt-G alone then Enter: the focused pane's name group, as before.
        press(&mut app, KeyCode::Char('g'), KeyModifiers::ALT);
        let Some(Overlay::BroadcastTo(dialog)) = &app.overlay else {
            panic!("no prompt");
        };
        assert_eq!(dialog.input.text(), "@web");
        assert!(app.group_names_hint().starts_with("@odd @web @db"));
        press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(app.targets(), [0, 1, 2]);

        press(&mut app, KeyCode::Char('g'), KeyModifiers::ALT);
        press(&mut app, KeyCode::Home, KeyModifiers::NONE);
        for _ in 0.."@web".len() {
            press(&mut app, KeyCode::Delete, KeyModifiers::NONE);
        }
        type_text(&mut app, "@odd,@nope");
        press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        let Some(Overlay::BroadcastTo(dialog)) = &app.overlay else {
            panic!("an error keeps the prompt open");
        };
        assert!(dialog.error.as_deref().unwrap_or_default().contains("@odd"));
        for _ in 0..",@nope".len() {
            press(&mut app, KeyCode::Backspace, KeyModifiers::NONE);
        }
        press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(app.overlay.is_none());
        assert_eq!(app.targets(), [1, 3]);
        assert!(app.notice().unwrap_or_default().contains("2 sessions"));
    }
}
