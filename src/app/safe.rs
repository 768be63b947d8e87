//! Broadcasting safely: a canary send (one receiver, or k, first; the rest on one key once
//! it succeeded), rolling sends in batches that stop at the first failure, and a
//! confirmation when a line goes to many receivers or looks destructive.

use super::result::RunStatus;
use super::{App, Effect, Overlay};
use crate::config::fold_to_string;
use crate::lang::{tr, trf};
use crate::ssh::SessionId;

/// Receivers past which a line asks for confirmation first.
pub const DEFAULT_CONFIRM_OVER: usize = 50;
/// Commands that are hard to take back; a line containing one asks first.
pub const DEFAULT_DESTRUCTIVE: &[&str] = &[
    "rm -rf", "rm -fr", "reboot", "shutdown", "halt", "poweroff", "mkfs", "dd if=", ":(){",
];
/// Text on a pane's cursor line that means it waits for a password (case does not matter;
/// the line must end with `:` or `?`).
pub const DEFAULT_PASSWORD_PROMPTS: &[&str] = &["[sudo] password for", "password:", "passphrase"];

/// How careful the broadcast line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Safety {
    pub confirm_over: usize,
    /// Substrings of a line (spaces collapsed) that make it ask first.
    pub destructive: Vec<String>,
    /// Receivers a canary send (Alt-Enter) goes to first.
    pub canary: usize,
    /// Receivers per batch of a rolling send (Alt-B).
    pub batch: usize,
    /// Lower-cased substrings of a cursor line that mark a password prompt.
    pub password_prompts: Vec<String>,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            confirm_over: DEFAULT_CONFIRM_OVER,
            destructive: DEFAULT_DESTRUCTIVE.iter().map(|s| s.to_string()).collect(),
            canary: 1,
            batch: 5,
            password_prompts: DEFAULT_PASSWORD_PROMPTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl Safety {
    /// The destructive pattern `line` contains, if any.
    pub fn destructive_in(&self, line: &str) -> Option<&str> {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        self.destructive
            .iter()
            .find(|p| !p.is_empty() && collapsed.contains(p.as_str()))
            .map(String::as_str)
    }

    /// A line asks for a password when it names one and ends asking (with `:` or `?`):
    /// once answered, the shell's prompt follows on the same line and it no longer does.
    pub fn is_password_prompt(&self, cursor_line: &str) -> bool {
        if !cursor_line.trim_end().ends_with([':', '?']) {
            return false;
        }
        let line = cursor_line.to_lowercase();
        self.password_prompts
            .iter()
            .any(|p| !p.is_empty() && line.contains(&p.to_lowercase()))
    }
}

/// What the broadcast line sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A line for the shells (without its Enter).
    Line(String),
    /// A hidden line (Alt-P): sent like a line, never shown or recorded.
    Secret(String),
    /// `:CMD` on an exec channel.
    Command(String),
}

impl Outgoing {
    pub fn shown(&self) -> String {
        match self {
            Outgoing::Line(line) => line.clone(),
            Outgoing::Secret(_) => "(hidden line)".into(),
            Outgoing::Command(command) => format!(":{command}"),
        }
    }
}

/// How a send reaches its receivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendHow {
    All,
    /// The first few, then the rest on a key once they succeeded.
    Canary,
    /// Batches, each once the one before ended well; stops at the first failure.
    Rolling,
}

/// A send going out in steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    pub what: Outgoing,
    pub how: SendHow,
    /// Got it and have not answered yet (or, when `ready`, all answered well).
    pub batch: Vec<SessionId>,
    /// Still to get it.
    pub rest: Vec<SessionId>,
    /// How many got it so far.
    pub reached: usize,
    /// The canary succeeded: the next Alt-Enter sends to the rest.
    pub ready: bool,
}

/// A send held until the user says yes.
#[derive(Debug)]
pub struct SendConfirm {
    pub what: Outgoing,
    pub how: SendHow,
    pub targets: Vec<SessionId>,
    /// Why it asks: the destructive pattern, or the receiver count.
    pub reason: String,
}

/// How a receiver's copy of a staged send ended.
enum Answer {
    Waiting,
    Good,
    Bad(String),
}

impl App {
    /// Enter, Alt-Enter, Alt-B: sends the line now, or asks first when it is risky.
    pub(super) fn send_guarded(&mut self, what: Outgoing, how: SendHow) -> Vec<Effect> {
        let targets = self.targets();
        if targets.is_empty() {
            self.notice = Some(tr("no active session to send to (Alt-A selects all)").into());
            return Vec::new();
        }
        let text = match &what {
            Outgoing::Line(line) | Outgoing::Secret(line) | Outgoing::Command(line) => line,
        };
        let reason = match self.safety.destructive_in(text) {
            // An empty Enter (a prompt nudged) is never worth asking about.
            _ if text.trim().is_empty() => None,
            Some(pattern) => Some(trf("it contains `{pattern}`", &[("pattern", &pattern)])),
            None if targets.len() > self.safety.confirm_over => Some(trf(
                "more than {count} receivers",
                &[("count", &self.safety.confirm_over)],
            )),
            None => None,
        };
        if let Some(reason) = reason {
            self.overlay = Some(Overlay::SendConfirm(SendConfirm {
                what,
                how,
                targets,
                reason,
            }));
            return Vec::new();
        }
        self.send_how(what, how, targets)
    }

    pub(super) fn send_how(
        &mut self,
        what: Outgoing,
        how: SendHow,
        mut targets: Vec<SessionId>,
    ) -> Vec<Effect> {
        let first = match how {
            SendHow::All => return self.send_to(&what, &targets, true),
            SendHow::Canary => self.safety.canary,
            SendHow::Rolling => self.safety.batch,
        }
        .clamp(1, targets.len().max(1));
        let rest = targets.split_off(first);
        let effects = self.send_to(&what, &targets, false);
        self.staged = Some(Staged {
            what,
            how,
            reached: targets.len(),
            batch: targets,
            rest,
            ready: false,
        });
        effects
    }

    /// Sends `what` to exactly `ids`; a `:CMD` to all of them opens the results view.
    fn send_to(&mut self, what: &Outgoing, ids: &[SessionId], whole: bool) -> Vec<Effect> {
        match what {
            Outgoing::Command(command) => self.exec_on(ids.to_vec(), command.clone(), whole),
            Outgoing::Line(line) | Outgoing::Secret(line) => {
                let secret = matches!(what, Outgoing::Secret(_));
                let bytes = bytes::Bytes::from(format!("{line}\r").into_bytes());
                let mut effects = Vec::new();
                for &id in ids {
                    let Some(pane) = self.pane_mut(id) else {
                        continue;
                    };
                    // A hidden line is not kept, not even to find its output by its echo.
                    if !secret && !line.trim().is_empty() {
                        pane.command_sent(line);
                    }
                    pane.scroll_to_live();
                    effects.push(Effect::Send {
                        id,
                        bytes: bytes.clone(),
                    });
                    if !secret {
                        self.record_typed(id, &bytes, &mut effects);
                    }
                }
                effects
            }
        }
    }

    /// Alt-Enter with a canary waiting: the rest get it once it succeeded.
    pub(super) fn canary_key(&mut self) -> Option<Vec<Effect>> {
        let staged = self.staged.take()?;
        if !staged.ready {
            self.notice = Some(tr("the canary has not answered yet (Esc drops the send)").into());
            self.staged = Some(staged);
            return Some(Vec::new());
        }
        let count = staged.rest.len();
        self.notice = Some(trf(
            "sent {what} to the {count} others",
            &[("what", &staged.what.shown()), ("count", &count)],
        ));
        Some(self.send_to(&staged.what, &staged.rest, false))
    }

    /// Esc in the line: a staged send is given up on.
    pub(super) fn drop_staged(&mut self) -> bool {
        let Some(staged) = self.staged.take() else {
            return false;
        };
        self.notice = Some(trf(
            "dropped {what}: {reached} of {total} sessions got it",
            &[
                ("what", &staged.what.shown()),
                ("reached", &staged.reached),
                ("total", &(staged.reached + staged.rest.len())),
            ],
        ));
        true
    }

    fn answer_of(&self, id: SessionId) -> Answer {
        let Some(pane) = self.pane(id) else {
            return Answer::Bad("closed".into());
        };
        match pane.last_result().map(|r| r.status) {
            Some(RunStatus::Exited(0) | RunStatus::Finished) => Answer::Good,
            Some(RunStatus::Running) | None if pane.is_live() => Answer::Waiting,
            Some(RunStatus::Exited(code)) => Answer::Bad(format!("exit {code}")),
            Some(RunStatus::Cancelled) => Answer::Bad("cancelled".into()),
            Some(RunStatus::TimedOut) => Answer::Bad("timed out".into()),
            Some(RunStatus::Failed) => Answer::Bad("failed".into()),
            Some(RunStatus::Running) | None => Answer::Bad("session ended".into()),
        }
    }

    /// After each message: a staged send whose receivers all answered moves on (or stops).
    pub(super) fn advance_staged(&mut self) -> Vec<Effect> {
        let Some(staged) = &self.staged else {
            return Vec::new();
        };
        if staged.ready {
            return Vec::new();
        }
        let mut failed = None;
        for &id in &staged.batch {
            match self.answer_of(id) {
                Answer::Waiting => return Vec::new(),
                Answer::Good => {}
                Answer::Bad(why) => {
                    failed.get_or_insert((id, why));
                }
            }
        }
        let Some(mut staged) = self.staged.take() else {
            return Vec::new();
        };
        let total = staged.reached + staged.rest.len();
        let what = staged.what.shown();
        if let Some((id, why)) = failed {
            let name = self.pane_name(id).unwrap_or("?").to_string();
            self.notice = Some(match staged.how {
                SendHow::Canary => trf(
                    "canary {name} failed ({why}): {what} not sent to the {others} others",
                    &[
                        ("name", &name),
                        ("why", &why),
                        ("what", &what),
                        ("others", &staged.rest.len()),
                    ],
                ),
                _ => trf(
                    "stopped: {name} failed ({why}); {reached} of {total} sessions got {what}",
                    &[
                        ("name", &name),
                        ("why", &why),
                        ("reached", &staged.reached),
                        ("total", &total),
                        ("what", &what),
                    ],
                ),
            });
            return Vec::new();
        }
        if staged.rest.is_empty() {
            self.notice = Some(trf(
                "{what} went to all {total} sessions",
                &[("what", &what), ("total", &total)],
            ));
            return Vec::new();
        }
        match staged.how {
            SendHow::Canary => {
                staged.ready = true;
                self.staged = Some(staged);
                Vec::new()
            }
            _ => {
                let take = self.safety.batch.clamp(1, staged.rest.len());
                let next: Vec<SessionId> = staged.rest.drain(..take).collect();
                let effects = self.send_to(&staged.what, &next, false);
                staged.reached += next.len();
                staged.batch = next;
                self.staged = Some(staged);
                effects
            }
        }
    }

    /// The status bar's account of a staged send.
    pub fn staged_status(&self) -> Option<String> {
        let staged = self.staged.as_ref()?;
        let names: Vec<&str> = staged
            .batch
            .iter()
            .filter_map(|&id| self.pane_name(id))
            .collect();
        let hosts = fold_to_string(&names);
        let total = staged.reached + staged.rest.len();
        Some(match (staged.how, staged.ready) {
            (SendHow::Canary, true) => trf(
                "canary ✓ {hosts}: Alt-Enter sends to the {others} others, Esc drops",
                &[("hosts", &hosts), ("others", &staged.rest.len())],
            ),
            (SendHow::Canary, false) => trf(
                "canary: waiting for {hosts} ({others} more after it; Esc drops)",
                &[("hosts", &hosts), ("others", &staged.rest.len())],
            ),
            _ => trf(
                "rolling: {reached}/{total} sent, waiting for {hosts} (Esc stops)",
                &[
                    ("reached", &staged.reached),
                    ("total", &total),
                    ("hosts", &hosts),
                ],
            ),
        })
    }

    /// The confirmation's text: what, to how many hosts (folded), and why it asks.
    pub fn confirm_text(&self, confirm: &SendConfirm) -> String {
        let names: Vec<&str> = confirm
            .targets
            .iter()
            .filter_map(|&id| self.pane_name(id))
            .collect();
        let how = match confirm.how {
            SendHow::All => String::new(),
            SendHow::Canary => trf(
                " (canary: {count} first)",
                &[("count", &self.safety.canary)],
            ),
            SendHow::Rolling => trf(" (in batches of {count})", &[("count", &self.safety.batch)]),
        };
        trf(
            "Send to {count} hosts{how}? [y/n]\n{hosts}\n\n{what}\n\nAsking because {reason}.",
            &[
                ("count", &confirm.targets.len()),
                ("how", &how),
                ("hosts", &fold_to_string(&names)),
                ("what", &confirm.what.shown()),
                ("reason", &confirm.reason),
            ],
        )
    }
}

#[cfg(test)]
mod tests;
