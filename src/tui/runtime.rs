//! Carrying out the model's effects against the engine, the mock server and the disk.

use std::collections::HashMap;

use tokio::sync::oneshot;

use crate::app::{App, Effect, MockStatus, Msg};
use crate::config::hostspec::parse_host_spec;
use crate::mock::MockServer;
use crate::ssh::{
    Engine, Prompt, SessionCommand, SessionEvent, SessionHandle, SessionId, Target, Work,
};

/// What the loop should do after an effect.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
    Suspend,
    MouseCapture(bool),
}

pub struct Runtime {
    engine: Engine,
    sessions: HashMap<SessionId, (Target, SessionHandle)>,
    /// Reply channels of prompts the model shows, by the token the model knows them by.
    replies: HashMap<u64, oneshot::Sender<Option<String>>>,
    next_token: u64,
    mock: Option<MockServer>,
    practice_panes: usize,
    /// Host-key policy, identity files and timeout for hosts added with F6.
    template: Option<Target>,
    term: String,
}

impl Runtime {
    pub fn new(engine: Engine, mock: Option<MockServer>, template: Option<Target>) -> Self {
        Runtime {
            engine,
            sessions: HashMap::new(),
            replies: HashMap::new(),
            next_token: 0,
            mock,
            practice_panes: 0,
            template,
            term: std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into()),
        }
    }

    pub fn mock_status(&self) -> MockStatus {
        match self.mock.as_ref().and_then(|m| m.hosts().first()) {
            Some(host) => MockStatus::Listening(host.addr.to_string()),
            None => MockStatus::Off,
        }
    }

    /// Opens a pane for `target` and starts its session at the pane's size.
    pub fn open(&mut self, app: &mut App, target: Target) -> Vec<Effect> {
        let (id, effects) = app.add_pane(target.name.clone());
        self.connect(app, id, target);
        effects
    }

    /// Opens the start-up panes: all of them first, then their sessions, so each session
    /// asks for the size its pane has once the layout holds them all (adding a pane shrinks
    /// the others on its page).
    pub fn open_all(&mut self, app: &mut App, targets: Vec<Target>) {
        let ids: Vec<SessionId> = targets
            .iter()
            .map(|t| app.add_pane(t.name.clone()).0)
            .collect();
        for (id, target) in ids.into_iter().zip(targets) {
            self.connect(app, id, target);
        }
    }

    fn connect(&mut self, app: &App, id: SessionId, target: Target) {
        let (cols, rows) = app.pty_size(id).unwrap_or((80, 24));
        let term = self.term.clone();
        let work = Work::Shell { term, cols, rows };
        let handle = self.engine.spawn(id, target.clone(), work);
        self.sessions.insert(id, (target, handle));
    }

    fn send(&self, id: SessionId, command: SessionCommand) -> bool {
        self.sessions.get(&id).is_some_and(|(_, h)| h.send(command))
    }

    /// Turns an engine event into a model message, keeping prompt reply channels here.
    pub fn event_msg(&mut self, event: SessionEvent) -> Msg {
        if matches!(
            event,
            SessionEvent::Output { .. } | SessionEvent::Stderr { .. }
        ) && let Some((_, handle)) = self.sessions.get(&event.session_id())
        {
            // Parsed right after this, on the same turn of the loop.
            handle.output_consumed();
        }
        match event {
            SessionEvent::State { id, state } => Msg::State { id, state },
            SessionEvent::Output { id, data } | SessionEvent::Stderr { id, data } => {
                Msg::Output { id, data }
            }
            SessionEvent::ExitStatus { id, status } => Msg::ExitStatus { id, status },
            SessionEvent::Prompt { id, prompt } => {
                let Prompt { text, echo, reply } = prompt;
                let token = self.next_token;
                self.next_token += 1;
                self.replies.insert(token, reply);
                Msg::Prompt {
                    id,
                    token,
                    text,
                    echo,
                }
            }
        }
    }

    /// Applies one effect; follow-up effects (resizes after adding a pane) are applied too.
    pub async fn apply(&mut self, app: &mut App, effect: Effect) -> Flow {
        let mut queue = vec![effect];
        let mut flow = Flow::Continue;
        while let Some(effect) = queue.pop() {
            match self.apply_one(app, effect).await {
                Ok(more) => queue.extend(more),
                Err(other) => flow = other,
            }
        }
        flow
    }

    async fn apply_one(&mut self, app: &mut App, effect: Effect) -> Result<Vec<Effect>, Flow> {
        match effect {
            Effect::Send { id, bytes } => {
                if !self.send(id, SessionCommand::Input(bytes)) {
                    let name = app.pane_name(id).unwrap_or("?").to_string();
                    app.update(Msg::Notice(format!("{name}: input not delivered")));
                }
            }
            Effect::Resize { id, cols, rows } => {
                self.send(id, SessionCommand::Resize { cols, rows });
            }
            Effect::Close { id } => {
                self.send(id, SessionCommand::Close);
                if let Some((_, handle)) = self.sessions.remove(&id) {
                    handle.stop_output_credit();
                }
            }
            Effect::Reconnect { id } => {
                if let Some((target, old)) = self.sessions.remove(&id) {
                    old.stop_output_credit();
                    self.connect(app, id, target);
                }
            }
            Effect::AddHost(spec) => return Ok(self.add_host(app, &spec)),
            Effect::StartMock => return Ok(self.practice_pane(app).await),
            Effect::SaveScrollback { id, path } => save(app, id, &path).await,
            Effect::AnswerPrompt { token, answer } => {
                if let Some(reply) = self.replies.remove(&token) {
                    let _ = reply.send(answer);
                }
            }
            Effect::SetMouseCapture(on) => return Err(Flow::MouseCapture(on)),
            Effect::Suspend => return Err(Flow::Suspend),
            Effect::Quit => {
                for (_, handle) in self.sessions.values() {
                    handle.send(SessionCommand::Close);
                    handle.stop_output_credit();
                }
                if let Some(mock) = &self.mock {
                    mock.stop();
                }
                return Err(Flow::Quit);
            }
        }
        Ok(Vec::new())
    }

    fn add_host(&mut self, app: &mut App, spec: &str) -> Vec<Effect> {
        let Some(template) = self.template.clone() else {
            app.update(Msg::Notice(
                "adding hosts needs a host list at start-up".into(),
            ));
            return Vec::new();
        };
        let parsed = match parse_host_spec(spec) {
            Ok(parsed) => parsed,
            Err(e) => {
                app.update(Msg::Notice(format!("{spec}: {e}")));
                return Vec::new();
            }
        };
        let target = Target {
            name: spec.to_string(),
            host: parsed.host,
            port: parsed.port.unwrap_or(22),
            user: parsed.user.unwrap_or(template.user.clone()),
            password: None,
            ..template
        };
        self.open(app, target)
    }

    /// F2: starts the mock server on first use, then opens one more pane on it, spreading
    /// practice panes over its hosts.
    async fn practice_pane(&mut self, app: &mut App) -> Vec<Effect> {
        if self.mock.is_none() {
            app.update(Msg::Mock(MockStatus::Starting));
            match MockServer::start_practice(1).await {
                Ok(mock) => self.mock = Some(mock),
                Err(e) => {
                    app.update(Msg::Mock(MockStatus::Failed(format!("{e:#}"))));
                    return Vec::new();
                }
            }
            app.update(Msg::Mock(self.mock_status()));
        }
        let Some(mock) = &self.mock else {
            return Vec::new();
        };
        let hosts = mock.hosts();
        self.practice_panes += 1;
        let index = self.practice_panes % hosts.len().max(1);
        let Some(target) = mock.practice_target(index, format!("practice-{}", self.practice_panes))
        else {
            return Vec::new();
        };
        self.open(app, target)
    }
}

/// Writes a pane's scrollback on tokio's blocking pool: the sessions keep running on the loop
/// thread meanwhile (the UI waits for the write, a few milliseconds).
async fn save(app: &mut App, id: SessionId, path: &std::path::Path) {
    let Some(text) = app.scrollback_text(id) else {
        return;
    };
    let notice = match tokio::fs::write(path, text).await {
        Ok(()) => format!("saved to {}", path.display()),
        Err(e) => format!("could not save {}: {e}", path.display()),
    };
    app.update(Msg::Notice(notice));
}
