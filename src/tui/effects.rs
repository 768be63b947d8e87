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
use crate::config::inventory::HostResolver;
use crate::mock::MockServer;
use crate::ssh::{
    Engine, InputRefused, Prompt, SessionEvent, SessionHandle, SessionId, Target, Work, human_bytes,
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
    /// A host F6 asked for, resolved (or why it could not be).
    Host(anyhow::Result<Box<Target>>),
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
    /// Resolves F6's hosts as the host list's were; the template is the fallback.
    resolver: Option<HostResolver>,
    term: String,
    finished_tx: mpsc::UnboundedSender<Finished>,
    finished_rx: mpsc::UnboundedReceiver<Finished>,
    /// Sessions given input whose pending count the model may not know yet, with the count
    /// it last heard (see [`EffectRunner::input_progress`]).
    sending: HashMap<SessionId, usize>,
    /// Where F7 saves scrollback.
    save_dir: Option<PathBuf>,
    /// Recordings and logs, written by a thread of their own.
    recorder: super::record::Recorder,
    /// Uploads and downloads under way (Alt-F, Alt-K).
    transfers: super::transfers::Transfers,
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
            resolver: None,
            term: std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into()),
            recorder: super::record::Recorder::new(Default::default(), finished_tx.clone()),
            finished_tx,
            finished_rx,
            sending: HashMap::new(),
            save_dir: None,
            transfers: Default::default(),
        }
    }

    /// How F6 resolves hosts from now on.
    pub fn set_host_resolver(&mut self, resolver: Option<HostResolver>) {
        self.resolver = resolver;
    }

    /// What is recorded and logged from now on (set before any pane opens).
    pub fn set_record_options(&mut self, options: super::record::RecordOptions) {
        self.recorder = super::record::Recorder::new(options, self.finished_tx.clone());
    }

    /// Where F7 saves scrollback from now on.
    pub fn set_save_dir(&mut self, dir: Option<PathBuf>) {
        self.save_dir = dir;
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
                let shell_integration = target.shell_integration;
                let reconnect = target.reconnect;
                self.opening.insert(ticket, target);
                NewPane {
                    ticket,
                    name,
                    shell_integration,
                    reconnect,
                }
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

    fn handle(&self, id: SessionId) -> Option<&SessionHandle> {
        self.sessions.get(&id).map(|(_, handle)| handle)
    }

    /// Queues input for a session; what could not be queued is the user's to know.
    fn send(&mut self, app: &App, id: SessionId, bytes: bytes::Bytes) -> Option<Msg> {
        let name = app.pane_name(id).unwrap_or("?");
        let len = bytes.len();
        let refused = match self.handle(id) {
            Some(handle) => handle.input(bytes).err(),
            None => Some(InputRefused::Ended),
        };
        match refused {
            None => {
                self.sending.entry(id).or_insert(0);
                None
            }
            Some(e @ InputRefused::Full { .. }) => Some(Msg::Notice(format!(
                "{name}: input not sent (nothing of it): {e}; Alt-X discards unsent input"
            ))),
            Some(InputRefused::Ended) => Some(Msg::Notice(format!(
                "{name}: session has ended; {} of input not sent",
                human_bytes(len as u64)
            ))),
        }
    }

    /// Whether some session's input is still under way (its pane's `⇡` marker follows it).
    pub fn input_under_way(&self) -> bool {
        !self.sending.is_empty()
    }

    /// How the input of sessions that were given some moves: the pending counts that
    /// changed since the model last heard, for the panes' `⇡` markers, and a notice for a
    /// session that ended with input unsent (dropped then, and said). Cheap: only sessions
    /// with input under way are looked at.
    pub fn input_progress(&mut self) -> Vec<Msg> {
        let mut changed = Vec::new();
        let mut msgs = Vec::new();
        let mut done = Vec::new();
        for (&id, heard) in &mut self.sending {
            let Some((target, handle)) = self.sessions.get(&id) else {
                changed.push((id, 0));
                done.push(id);
                continue;
            };
            let mut pending = handle.pending_input();
            if pending > 0 && handle.has_ended() {
                handle.discard_input();
                msgs.push(Msg::Notice(format!(
                    "{}: session ended with {} of input unsent",
                    target.name,
                    human_bytes(pending as u64)
                )));
                pending = 0;
            }
            if pending != *heard {
                changed.push((id, pending));
                *heard = pending;
            }
            if pending == 0 {
                done.push(id);
            }
        }
        for id in done {
            self.sending.remove(&id);
        }
        if !changed.is_empty() {
            msgs.insert(0, Msg::InputPending(changed));
        }
        msgs
    }

    /// Alt-X: throws away the unsent input of `ids`.
    fn discard_input(&mut self, ids: &[SessionId]) -> Msg {
        let mut bytes = 0;
        let mut sessions = 0;
        for id in ids {
            if let Some(handle) = self.handle(*id) {
                let dropped = handle.discard_input();
                if dropped > 0 {
                    bytes += dropped;
                    sessions += 1;
                }
            }
        }
        if sessions == 0 {
            return Msg::Notice("no unsent input to discard".into());
        }
        Msg::Notice(format!(
            "discarded {} of unsent input in {sessions} session{}",
            human_bytes(bytes as u64),
            if sessions == 1 { "" } else { "s" }
        ))
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
                self.recorder.output(id, &data);
                Msg::Output { id, data }
            }
            SessionEvent::ExitStatus { id, status } => Msg::ExitStatus { id, status },
            SessionEvent::Exec { id, run, event } => Msg::Exec { id, run, event },
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
            Finished::Host(Ok(target)) => vec![self.open_panes(vec![*target])],
            Finished::Host(Err(e)) => vec![Msg::Notice(format!("{e:#}"))],
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
                if let Some(notice) = self.send(app, id, bytes) {
                    return Step::msg(notice);
                }
            }
            Effect::DiscardInput { ids } => return Step::msg(self.discard_input(&ids)),
            Effect::Resize { id, cols, rows } => {
                if let Some(handle) = self.handle(id) {
                    handle.resize(cols, rows);
                }
                self.recorder.resize(id, cols, rows);
            }
            Effect::Exec {
                ids,
                run,
                command,
                timeout,
            } => {
                for id in ids {
                    if let Some(handle) = self.handle(id) {
                        let command = command.clone();
                        handle.exec(crate::ssh::ExecRequest {
                            run,
                            command,
                            timeout,
                        });
                    }
                }
            }
            Effect::CancelExec { ids, run } => {
                for id in ids {
                    if let Some(handle) = self.handle(id) {
                        handle.cancel_exec(run);
                    }
                }
            }
            transfer @ (Effect::Upload { .. }
            | Effect::Download { .. }
            | Effect::CancelTransfer { .. }) => {
                let sessions = &self.sessions;
                let handle = |id| sessions.get(&id).map(|(_, handle)| handle);
                self.transfers.apply(transfer, handle, &self.finished_tx);
            }
            Effect::Close { id } => {
                // The actor closes the channel and the connection whatever it is doing.
                if let Some((_, handle)) = self.sessions.remove(&id) {
                    handle.close();
                    handle.stop_output_credit();
                }
                self.recorder.close(id);
            }
            Effect::Connect {
                ticket,
                id,
                cols,
                rows,
            } => {
                if let Some(target) = self.opening.remove(&ticket) {
                    self.recorder.start_log(id, &target.name);
                    self.connect(id, target, cols, rows);
                }
            }
            Effect::Reconnect { id } => {
                if let Some((target, old)) = self.sessions.remove(&id) {
                    old.close();
                    old.stop_output_credit();
                    let (cols, rows) = app.pty_size(id).unwrap_or((80, 24));
                    self.connect(id, target, cols, rows);
                }
            }
            Effect::AddHost(spec) => return Step::msg(self.add_host(&spec)),
            Effect::StartMock => return Step::msgs(self.start_mock()),
            Effect::SaveScrollback { id } => {
                let Some(dir) = self.save_dir.clone() else {
                    return Step::msg(Msg::Notice(
                        "nowhere to save: no state directory; start with --save-dir DIR".into(),
                    ));
                };
                if let (Some(text), Some(name)) = (app.scrollback_text(id), app.pane_name(id)) {
                    self.save(text, dir, name);
                }
            }
            Effect::AnswerPrompt { token, answer } => {
                if let Some(reply) = self.replies.remove(&token) {
                    let _ = reply.send(answer);
                }
            }
            Effect::Record { id, on, announce } => {
                if !on {
                    self.recorder.stop_cast(id, announce);
                } else if let Some(name) = app.pane_name(id) {
                    let size = app.pty_size(id).unwrap_or((80, 24));
                    if let Some(msg) = self.recorder.start_cast(id, name, size, announce) {
                        return Step::msg(msg);
                    }
                }
            }
            Effect::RecordInput { id, bytes } => self.recorder.input(id, bytes),
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
            handle.close();
            handle.stop_output_credit();
        }
        if let Some(task) = self.mock_task.take() {
            task.abort();
        }
        if let Some(mock) = &self.mock {
            mock.stop();
        }
        // Last: the sessions' final output is in; the files are complete when this returns.
        self.recorder.finish();
    }

    fn add_host(&mut self, spec: &str) -> Msg {
        // Like a `-H` host: ssh_config's HostName, Port, User, Match… apply. Resolving may
        // run `Match exec` commands: off the loop, the pane opens when it is done.
        if let Some(resolver) = self.resolver.clone() {
            let tx = self.finished_tx.clone();
            let owned = spec.to_string();
            tokio::spawn(async move {
                let resolved = resolver.resolve_spec(&owned).await.map(Box::new);
                let _ = tx.send(Finished::Host(resolved));
            });
            return Msg::Notice(format!("adding {spec}…"));
        }
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
        let index = practice_host(self.practice_panes, hosts.len());
        self.practice_panes += 1;
        let target = mock.practice_target(index, format!("practice-{}", self.practice_panes))?;
        Some(self.open_panes(vec![target]))
    }

    /// Writes a pane's scrollback to a new file in `dir`, on tokio's blocking pool; the
    /// notice of how it went comes back through [`EffectRunner::finished`].
    fn save(&self, text: String, dir: PathBuf, pane: &str) {
        let tx = self.finished_tx.clone();
        let stem = format!("mtssh-{}", crate::text::safe_file_name(pane));
        tokio::spawn(async move {
            let saved = tokio::task::spawn_blocking(move || save_new_file(&dir, &stem, &text));
            let notice = match saved.await {
                Ok(Ok(path)) => format!("saved to {}", path.display()),
                Ok(Err(e)) => format!("could not save: {e:#}"),
                Err(e) => format!("could not save: {e}"),
            };
            let _ = tx.send(Finished::Msg(Msg::Notice(notice)));
        });
    }
}

/// Writes `text` to a new file of `dir`, the first free of `STEM-1.log`, `STEM-2.log`, …
/// ([`crate::sys::create_numbered_file`]). Blocking.
fn save_new_file(dir: &std::path::Path, stem: &str, text: &str) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    use std::io::Write;
    let (path, mut file) = crate::sys::create_numbered_file(dir, |n| format!("{stem}-{n}.log"))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The mock host of the practice pane after `opened` others: practice-1 on the first host
/// (mock-01), practice-2 on the second, and round again.
fn practice_host(opened: usize, hosts: usize) -> usize {
    opened % hosts.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practice_pane_n_reaches_mock_host_n() {
        let hosts: Vec<usize> = (0..6).map(|opened| practice_host(opened, 4)).collect();
        assert_eq!(hosts, [0, 1, 2, 3, 0, 1]);
        assert_eq!(practice_host(3, 0), 0);
    }
    use crate::ssh::EngineSettings;

    fn runner() -> EffectRunner {
        let (engine, _events) = Engine::new(EngineSettings::default());
        EffectRunner::new(engine, None, None)
    }

    /// Saves the pane's scrollback with F7's effect; the notice that comes back.
    async fn save(effects: &mut EffectRunner, app: &mut App, id: SessionId) -> String {
        assert!(
            effects
                .run(app, vec![Effect::SaveScrollback { id }])
                .is_empty()
        );
        // Nothing was waited for: the notice arrives through `finished`.
        let finished = effects.finished().await;
        let msgs = effects.on_finished(finished);
        assert!(effects.deliver(app, msgs).is_empty());
        app.notice.clone().unwrap()
    }

    #[tokio::test]
    async fn each_scrollback_save_is_a_new_file_and_never_follows_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let saves = dir.path().join("saves");
        let mut app = App::new(80, 24, 1);
        let (id, _) = app.add_pane("web/01");
        let _ = app.update(Msg::Output {
            id,
            data: b"hello\r\n".to_vec(),
        });
        let mut effects = runner();
        effects.set_save_dir(Some(saves.clone()));
        let first = save(&mut effects, &mut app, id).await;
        let first = PathBuf::from(first.strip_prefix("saved to ").unwrap());
        assert_eq!(first.parent(), Some(saves.as_path()));
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "hello\n");

        // The next name is taken by a symlink to a file that must survive.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        assert_eq!(first, saves.join("mtssh-web_01-1.log"));
        std::os::unix::fs::symlink(&victim, saves.join("mtssh-web_01-2.log")).unwrap();
        let second = save(&mut effects, &mut app, id).await;
        let second = PathBuf::from(second.strip_prefix("saved to ").unwrap());
        assert_eq!(second, saves.join("mtssh-web_01-3.log"));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "hello\n");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "hello\n");
    }

    #[tokio::test]
    async fn a_save_that_cannot_be_written_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let mut app = App::new(80, 24, 1);
        let (id, _) = app.add_pane("a");
        let mut effects = runner();
        effects.set_save_dir(Some(file.join("sub")));
        let notice = save(&mut effects, &mut app, id).await;
        assert!(notice.starts_with("could not save: creating "), "{notice}");
        assert!(notice.contains("a-file/sub"), "{notice}");
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
