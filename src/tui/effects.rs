//! Carrying out the model's effects against the engine, the mock server and the disk. The
//! model is only read here: what should change in it goes back as a [`Msg`] through
//! [`App::update`], and the effects that returns are carried out in turn. Slow work (starting
//! the mock server, writing a file) runs in a task of its own and comes back through
//! [`EffectRunner::finished`], so the loop never waits for it.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::app::{App, Effect, MockStatus, Msg, NewPane};
use crate::config::hostspec::parse_host_spec;
use crate::mock::MockServer;
use crate::ssh::{
    Engine, Prompt, SessionCommand, SessionEvent, SessionHandle, SessionId, Target, Work,
};

/// What the loop must do itself after an effect: terminal changes, or stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Quit,
    Suspend,
    MouseCapture(bool),
}

/// What one effect leads to: messages for the model and what the loop must do.
#[derive(Debug)]
pub struct Step {
    pub msgs: Vec<Msg>,
    pub control: Control,
}

impl Step {
    fn none() -> Step {
        Step::msgs(Vec::new())
    }

    fn msgs(msgs: Vec<Msg>) -> Step {
        Step {
            msgs,
            control: Control::Continue,
        }
    }

    fn msg(msg: Msg) -> Step {
        Step::msgs(vec![msg])
    }

    fn control(control: Control) -> Step {
        Step {
            msgs: Vec::new(),
            control,
        }
    }
}

/// The end of work started off the loop, for [`EffectRunner::on_finished`].
pub enum Finished {
    /// Something for the model (a file saved or not).
    Msg(Msg),
    /// The mock server F2 started, or why it did not start.
    Mock(anyhow::Result<MockServer>),
}

pub struct EffectRunner {
    engine: Engine,
    sessions: HashMap<SessionId, (Target, SessionHandle)>,
    /// Reply channels of prompts the model shows, by the token the model knows them by.
    replies: HashMap<u64, oneshot::Sender<Option<String>>>,
    next_token: u64,
    /// Sessions of panes being opened, by the ticket of their [`NewPane`].
    opening: HashMap<u64, Target>,
    next_ticket: u64,
    mock: Option<MockServer>,
    /// While the mock server starts: the practice panes asked for meanwhile (F2).
    mock_waiting: Option<usize>,
    mock_task: Option<JoinHandle<()>>,
    practice_panes: usize,
    /// Host-key policy, identity files and timeout for hosts added with F6.
    template: Option<Target>,
    term: String,
    finished_tx: mpsc::UnboundedSender<Finished>,
    finished_rx: mpsc::UnboundedReceiver<Finished>,
}

impl EffectRunner {
    pub fn new(engine: Engine, mock: Option<MockServer>, template: Option<Target>) -> Self {
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        EffectRunner {
            engine,
            sessions: HashMap::new(),
            replies: HashMap::new(),
            next_token: 0,
            opening: HashMap::new(),
            next_ticket: 0,
            mock,
            mock_waiting: None,
            mock_task: None,
            practice_panes: 0,
            template,
            term: std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into()),
            finished_tx,
            finished_rx,
        }
    }

    pub fn mock_status(&self) -> MockStatus {
        match self.mock.as_ref().and_then(|m| m.hosts().first()) {
            Some(host) => MockStatus::Listening(host.addr.to_string()),
            None => MockStatus::Off,
        }
    }

    /// The message that opens a pane per target; their sessions start on the
    /// [`Effect::Connect`]s it leads to.
    pub fn open_panes(&mut self, targets: Vec<Target>) -> Msg {
        let panes = targets
            .into_iter()
            .map(|target| {
                let ticket = self.next_ticket;
                self.next_ticket += 1;
                let name = target.name.clone();
                self.opening.insert(ticket, target);
                NewPane { ticket, name }
            })
            .collect();
        Msg::OpenPanes(panes)
    }

    fn connect(&mut self, id: SessionId, target: Target, cols: u16, rows: u16) {
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

    /// Gives `msgs` to the model and carries out what they lead to ([`EffectRunner::run`]).
    pub fn deliver(&mut self, app: &mut App, msgs: impl IntoIterator<Item = Msg>) -> Vec<Control> {
        let effects = msgs.into_iter().flat_map(|msg| app.update(msg)).collect();
        self.run(app, effects)
    }

    /// Carries out `effects` in order, gives the messages they lead to to the model and
    /// carries out the effects of those too, until none is left. Returns what the loop must
    /// do itself, in order; nothing after [`Control::Quit`] is carried out.
    pub fn run(&mut self, app: &mut App, effects: Vec<Effect>) -> Vec<Control> {
        let mut queue = VecDeque::from(effects);
        let mut controls = Vec::new();
        while let Some(effect) = queue.pop_front() {
            let Step { msgs, control } = self.apply_one(app, effect);
            for msg in msgs {
                queue.extend(app.update(msg));
            }
            match control {
                Control::Continue => {}
                Control::Quit => {
                    controls.push(Control::Quit);
                    break;
                }
                other => controls.push(other),
            }
        }
        controls
    }

    /// The next piece of work started off the loop that has ended. Never ends otherwise
    /// (the runner holds a sender itself).
    pub async fn finished(&mut self) -> Finished {
        match self.finished_rx.recv().await {
            Some(finished) => finished,
            None => std::future::pending().await,
        }
    }

    /// What finished work means for the model.
    pub fn on_finished(&mut self, finished: Finished) -> Vec<Msg> {
        match finished {
            Finished::Msg(msg) => vec![msg],
            Finished::Mock(result) => {
                self.mock_task = None;
                let waiting = self.mock_waiting.take().unwrap_or(0);
                match result {
                    Ok(mock) => {
                        self.mock = Some(mock);
                        let mut msgs = vec![Msg::Mock(self.mock_status())];
                        msgs.extend((0..waiting).filter_map(|_| self.practice_pane()));
                        msgs
                    }
                    Err(e) => vec![Msg::Mock(MockStatus::Failed(format!("{e:#}")))],
                }
            }
        }
    }

    fn apply_one(&mut self, app: &App, effect: Effect) -> Step {
        match effect {
            Effect::Send { id, bytes } => {
                if !self.send(id, SessionCommand::Input(bytes)) {
                    let name = app.pane_name(id).unwrap_or("?");
                    return Step::msg(Msg::Notice(format!("{name}: input not delivered")));
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
            Effect::Connect {
                ticket,
                id,
                cols,
                rows,
            } => {
                if let Some(target) = self.opening.remove(&ticket) {
                    self.connect(id, target, cols, rows);
                }
            }
            Effect::Reconnect { id } => {
                if let Some((target, old)) = self.sessions.remove(&id) {
                    old.stop_output_credit();
                    let (cols, rows) = app.pty_size(id).unwrap_or((80, 24));
                    self.connect(id, target, cols, rows);
                }
            }
            Effect::AddHost(spec) => return Step::msg(self.add_host(&spec)),
            Effect::StartMock => return Step::msgs(self.start_mock()),
            Effect::SaveScrollback { id, path } => {
                if let Some(text) = app.scrollback_text(id) {
                    self.save(text, path);
                }
            }
            Effect::AnswerPrompt { token, answer } => {
                if let Some(reply) = self.replies.remove(&token) {
                    let _ = reply.send(answer);
                }
            }
            Effect::SetMouseCapture(on) => return Step::control(Control::MouseCapture(on)),
            Effect::Suspend => return Step::control(Control::Suspend),
            Effect::Quit => {
                self.shutdown();
                return Step::control(Control::Quit);
            }
        }
        Step::none()
    }

    /// Closes every session and stops the mock server (and its start, if under way).
    pub fn shutdown(&mut self) {
        for (_, handle) in self.sessions.values() {
            handle.send(SessionCommand::Close);
            handle.stop_output_credit();
        }
        if let Some(task) = self.mock_task.take() {
            task.abort();
        }
        if let Some(mock) = &self.mock {
            mock.stop();
        }
    }

    fn add_host(&mut self, spec: &str) -> Msg {
        let Some(template) = self.template.clone() else {
            return Msg::Notice("adding hosts needs a host list at start-up".into());
        };
        let parsed = match parse_host_spec(spec) {
            Ok(parsed) => parsed,
            Err(e) => return Msg::Notice(format!("{spec}: {e}")),
        };
        let target = Target {
            name: spec.to_string(),
            host: parsed.host,
            port: parsed.port.unwrap_or(22),
            user: parsed.user.unwrap_or(template.user.clone()),
            password: None,
            ..template
        };
        self.open_panes(vec![target])
    }

    /// F2: starts the mock server on first use (in a task: its result comes back through
    /// [`EffectRunner::finished`]), then opens one more pane on it.
    fn start_mock(&mut self) -> Vec<Msg> {
        if self.mock.is_some() {
            return self.practice_pane().into_iter().collect();
        }
        if let Some(waiting) = &mut self.mock_waiting {
            *waiting += 1;
            return Vec::new();
        }
        self.mock_waiting = Some(1);
        let tx = self.finished_tx.clone();
        self.mock_task = Some(tokio::spawn(async move {
            let _ = tx.send(Finished::Mock(MockServer::start_practice(1).await));
        }));
        vec![Msg::Mock(MockStatus::Starting)]
    }

    /// One more pane on the running mock server, spreading practice panes over its hosts.
    fn practice_pane(&mut self) -> Option<Msg> {
        let mock = self.mock.as_ref()?;
        let hosts = mock.hosts();
        self.practice_panes += 1;
        let index = self.practice_panes % hosts.len().max(1);
        let target = mock.practice_target(index, format!("practice-{}", self.practice_panes))?;
        Some(self.open_panes(vec![target]))
    }

    /// Writes a pane's scrollback in a task (on tokio's blocking pool); the notice of how
    /// it went comes back through [`EffectRunner::finished`].
    fn save(&self, text: String, path: PathBuf) {
        let tx = self.finished_tx.clone();
        tokio::spawn(async move {
            let notice = match tokio::fs::write(&path, text).await {
                Ok(()) => format!("saved to {}", path.display()),
                Err(e) => format!("could not save {}: {e}", path.display()),
            };
            let _ = tx.send(Finished::Msg(Msg::Notice(notice)));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::EngineSettings;

    fn runner() -> EffectRunner {
        let (engine, _events) = Engine::new(EngineSettings::default());
        EffectRunner::new(engine, None, None)
    }

    #[tokio::test]
    async fn a_scrollback_save_comes_back_as_a_notice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pane.log");
        let mut app = App::new(80, 24, 1);
        let (id, _) = app.add_pane("a");
        let _ = app.update(Msg::Output {
            id,
            data: b"hello\r\n".to_vec(),
        });
        let mut effects = runner();
        let save = Effect::SaveScrollback {
            id,
            path: path.clone(),
        };
        assert!(effects.run(&mut app, vec![save]).is_empty());
        // Nothing was waited for: the notice arrives through `finished`.
        assert_eq!(app.notice, None);
        let finished = effects.finished().await;
        let msgs = effects.on_finished(finished);
        let controls = effects.deliver(&mut app, msgs);
        assert!(controls.is_empty());
        let notice = format!("saved to {}", path.display());
        assert_eq!(app.notice.as_deref(), Some(notice.as_str()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello\n");
    }

    #[tokio::test]
    async fn f2_while_the_mock_starts_opens_its_pane_once_it_listens() {
        let mut app = App::new(120, 40, 0);
        let mut effects = runner();
        assert!(effects.run(&mut app, vec![Effect::StartMock]).is_empty());
        assert_eq!(app.mock, MockStatus::Starting);
        // A second F2 while it starts waits for it too.
        assert!(effects.run(&mut app, vec![Effect::StartMock]).is_empty());
        assert!(app.pane_ids().is_empty());
        let finished = effects.finished().await;
        let msgs = effects.on_finished(finished);
        assert!(effects.deliver(&mut app, msgs).is_empty());
        assert!(
            matches!(app.mock, MockStatus::Listening(_)),
            "{:?}",
            app.mock
        );
        let names: Vec<_> = app
            .pane_ids()
            .into_iter()
            .filter_map(|id| app.pane_name(id).map(str::to_string))
            .collect();
        assert_eq!(names, ["practice-1", "practice-2"]);
        // Both sessions were started (their tickets were taken).
        assert!(effects.opening.is_empty());
        assert_eq!(effects.sessions.len(), 2);
        assert_eq!(
            effects.run(&mut app, vec![Effect::Quit]),
            vec![Control::Quit]
        );
    }
}
