//! Recording panes (asciicast files written by the loop): which panes record, Alt-V, and
//! which input a recording may see. Hidden input never becomes an input event: the Alt-P
//! line and Alt-W's answer are sent without one, and so is whatever is typed while the
//! pane's cursor line looks like a password prompt.

use bytes::Bytes;

use super::{App, Effect};
use crate::ssh::SessionId;

/// What the model needs to know of `--record` and `--record-input`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordSettings {
    /// Every pane records from its start.
    pub on_open: bool,
    /// Typed input goes into recordings too.
    pub input: bool,
}

impl App {
    /// Alt-V: starts or stops recording the focused pane.
    pub(super) fn toggle_recording(&mut self) -> Vec<Effect> {
        let focus = self.focus;
        let Some(pane) = self.panes.get_mut(focus) else {
            return Vec::new();
        };
        pane.recording = !pane.recording;
        vec![Effect::Record {
            id: pane.id,
            on: pane.recording,
            announce: true,
        }]
    }

    /// Adds an input event for `bytes` sent visibly to `id`, when its pane records input.
    pub(super) fn record_typed(&self, id: SessionId, bytes: &Bytes, effects: &mut Vec<Effect>) {
        if !self.record.input {
            return;
        }
        if let Some(pane) = self.pane(id)
            && pane.recording
            && !pane.asks_password
        {
            effects.push(Effect::RecordInput {
                id,
                bytes: bytes.clone(),
            });
        }
    }

    /// The loop could not record the pane (or stopped): its marker goes, the notice says why.
    pub(super) fn recording_stopped(&mut self, id: SessionId, why: String) -> Vec<Effect> {
        if let Some(pane) = self.pane_mut(id) {
            pane.recording = false;
        }
        self.notice = Some(why);
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::app::{Msg, NewPane};
    use crate::ssh::SessionState;

    fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
        app.update(Msg::Key(KeyEvent::new(code, mods)))
    }

    fn typed(app: &mut App, text: &str) -> Vec<Effect> {
        text.chars()
            .flat_map(|c| key(app, KeyCode::Char(c), KeyModifiers::NONE))
            .collect()
    }

    fn recorded_input(effects: &[Effect]) -> Vec<(SessionId, Vec<u8>)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::RecordInput { id, bytes } => Some((*id, bytes.to_vec())),
                _ => None,
            })
            .collect()
    }

    /// Two ready panes, opened the way the loop opens them, with `settings`.
    fn app_recording(settings: RecordSettings) -> (App, Vec<Effect>) {
        let mut app = App::new(120, 40, 2);
        app.record = settings;
        let new = (0..2)
            .map(|i| NewPane {
                ticket: i,
                name: format!("web{i}"),
                shell_integration: Default::default(),
                reconnect: Default::default(),
            })
            .collect();
        let opened = app.update(Msg::OpenPanes(new));
        for id in 0..2 {
            let _ = app.update(Msg::State {
                id,
                state: SessionState::Ready,
            });
        }
        (app, opened)
    }

    #[test]
    fn with_record_every_pane_records_from_its_start() {
        let (app, opened) = app_recording(RecordSettings {
            on_open: true,
            input: false,
        });
        // The recording starts before the session: its first output is in it.
        let order: Vec<String> = opened
            .iter()
            .filter(|e| matches!(e, Effect::Record { .. } | Effect::Connect { .. }))
            .map(|e| format!("{e:?}").split(' ').next().unwrap().to_string())
            .collect();
        assert_eq!(order, ["Record", "Connect", "Record", "Connect"]);
        assert!(app.panes.iter().all(|p| p.recording));
        let (app, opened) = app_recording(RecordSettings::default());
        assert!(!opened.iter().any(|e| matches!(e, Effect::Record { .. })));
        assert!(app.panes.iter().all(|p| !p.recording));
    }

    #[test]
    fn alt_v_toggles_the_focused_pane_and_a_failure_takes_the_marker_away() {
        let (mut app, _) = app_recording(RecordSettings::default());
        let alt_v = |app: &mut App| key(app, KeyCode::Char('v'), KeyModifiers::ALT);
        let on = Effect::Record {
            id: 0,
            on: true,
            announce: true,
        };
        assert_eq!(alt_v(&mut app), std::slice::from_ref(&on));
        assert!(app.panes[0].recording && !app.panes[1].recording);
        let off = Effect::Record {
            id: 0,
            on: false,
            announce: true,
        };
        assert_eq!(alt_v(&mut app), [off]);
        assert!(!app.panes[0].recording);
        assert_eq!(alt_v(&mut app), [on]);
        let _ = app.update(Msg::RecordStopped {
            id: 0,
            why: "web0: recording stopped: disk full".into(),
        });
        assert!(!app.panes[0].recording);
        assert_eq!(
            app.notice.as_deref(),
            Some("web0: recording stopped: disk full")
        );
    }

    #[test]
    fn only_visible_input_becomes_input_events() {
        let (mut app, _) = app_recording(RecordSettings {
            on_open: true,
            input: true,
        });
        // A visible line: both panes' recordings get it.
        typed(&mut app, "ls");
        let effects = key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(
            recorded_input(&effects),
            [(0, b"ls\r".to_vec()), (1, b"ls\r".to_vec())]
        );
        // Alt-P's hidden line is sent and never recorded.
        key(&mut app, KeyCode::Char('p'), KeyModifiers::ALT);
        typed(&mut app, "hunter2");
        let effects = key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(
            effects
                .iter()
                .filter(|e| matches!(e, Effect::Send { .. }))
                .count(),
            2
        );
        assert!(recorded_input(&effects).is_empty(), "{effects:?}");
        // A pane showing a password prompt: Alt-W's answer is not recorded, nor are keys
        // typed into it in focus mode.
        let _ = app.update(Msg::Output {
            id: 0,
            data: b"[sudo] password for me: ".to_vec(),
        });
        key(&mut app, KeyCode::Char('w'), KeyModifiers::ALT);
        typed(&mut app, "s3cret");
        let effects = key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::Send { id: 0, .. }))
        );
        assert!(recorded_input(&effects).is_empty(), "{effects:?}");
        let _ = app.update(Msg::Output {
            id: 0,
            data: b"\r\n[sudo] password for me: ".to_vec(),
        });
        key(&mut app, KeyCode::Char(']'), KeyModifiers::CONTROL);
        let effects = typed(&mut app, "pw");
        assert_eq!(
            effects
                .iter()
                .filter(|e| matches!(e, Effect::Send { .. }))
                .count(),
            2
        );
        assert!(recorded_input(&effects).is_empty(), "{effects:?}");
        // Once the prompt is gone, focus-mode keys are recorded again.
        let _ = app.update(Msg::Output {
            id: 0,
            data: b"\r\n$ ".to_vec(),
        });
        assert_eq!(recorded_input(&typed(&mut app, "x")), [(0, b"x".to_vec())]);
    }

    #[test]
    fn without_record_input_nothing_typed_is_recorded() {
        let (mut app, _) = app_recording(RecordSettings {
            on_open: true,
            input: false,
        });
        typed(&mut app, "ls");
        let effects = key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(recorded_input(&effects).is_empty());
    }
}
