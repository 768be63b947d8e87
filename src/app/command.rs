//! `:CMD` in the broadcast line: CMD runs on a new exec channel of each receiver's existing
//! connection (no new handshake; the shells go on), giving exact stdout, stderr and exit
//! status per host. `::` at the start sends a line beginning with `:` to the shells instead.

use std::time::Duration;

use super::result::RunStatus;
use super::{App, Effect};
use crate::lang::{tr, trf};
use crate::ssh::SessionId;

/// How long a `:CMD` may take on each host before its channel is closed.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// What the broadcast line asks for.
pub(super) enum LineKind {
    /// Text for the shells (a leading `::` already turned into `:`).
    Shell(String),
    /// `:CMD`, trimmed.
    Command(String),
}

pub(super) fn classify(line: String) -> LineKind {
    if let Some(rest) = line.strip_prefix("::") {
        return LineKind::Shell(format!(":{rest}"));
    }
    match line.strip_prefix(':') {
        Some(command) => LineKind::Command(command.trim().to_string()),
        None => LineKind::Shell(line),
    }
}

impl App {
    /// Starts a `:CMD` run on every receiver and opens the results view on it.
    pub(super) fn run_command(&mut self, command: String) -> Vec<Effect> {
        if command.is_empty() {
            self.notice = Some(tr(":CMD runs CMD on each receiver's connection; :: sends a leading colon to the shells").into());
            return Vec::new();
        }
        let ids = self.targets();
        if ids.is_empty() {
            self.notice = Some(tr("no active session to run it on (Alt-A selects all)").into());
            return Vec::new();
        }
        self.exec_on(ids, command, true)
    }

    /// Starts a `:CMD` run on `ids`; `open_view` opens the results view on it (a staged
    /// send leaves the status bar in sight instead).
    pub(super) fn exec_on(
        &mut self,
        ids: Vec<SessionId>,
        command: String,
        open_view: bool,
    ) -> Vec<Effect> {
        self.exec_run += 1;
        let run = self.exec_run;
        let line = format!(":{command}");
        for pane in self.panes.iter_mut().filter(|p| ids.contains(&p.id)) {
            pane.exec_started(run, &line);
        }
        if open_view {
            self.notice = Some(trf(
                "running {line} on {count} sessions (Ctrl-C cancels; {secs}s timeout)",
                &[
                    ("line", &line),
                    ("count", &ids.len()),
                    ("secs", &EXEC_TIMEOUT.as_secs()),
                ],
            ));
            self.open_results();
        }
        vec![Effect::Exec {
            ids,
            run,
            command,
            timeout: EXEC_TIMEOUT,
        }]
    }

    /// Ctrl-C while the last `:CMD` still runs somewhere: cancels it there.
    pub(super) fn cancel_command(&mut self) -> Option<Vec<Effect>> {
        let run = self.exec_run;
        let ids: Vec<SessionId> = self
            .panes
            .iter()
            .filter(|p| {
                p.exec_run() == Some(run)
                    && p.last_result()
                        .is_some_and(|r| r.status == RunStatus::Running)
            })
            .map(|p| p.id)
            .collect();
        if run == 0 || ids.is_empty() {
            return None;
        }
        self.notice = Some(trf(
            "cancelling :CMD on {count} sessions",
            &[("count", &ids.len())],
        ));
        Some(vec![Effect::CancelExec { ids, run }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colon_runs_a_command_and_two_send_one() {
        let kind = |line: &str| match classify(line.to_string()) {
            LineKind::Shell(s) => format!("shell {s}"),
            LineKind::Command(c) => format!("cmd {c}"),
        };
        assert_eq!(kind(":uptime "), "cmd uptime");
        assert_eq!(kind("::wq"), "shell :wq");
        assert_eq!(kind("ls :x"), "shell ls :x");
        assert_eq!(kind(":"), "cmd ");
    }

    #[test]
    fn exec_events_of_an_older_run_are_ignored_and_ctrl_c_cancels_the_current() {
        use crate::app::Msg;
        use crate::ssh::{ExecEnd, ExecEvent, SessionState};
        let mut app = App::new(80, 24, 2);
        for name in ["a", "b"] {
            let (id, _) = app.add_pane(name);
            let _ = app.update(Msg::State {
                id,
                state: SessionState::Ready,
            });
        }
        let effects = app.run_command("true".into());
        assert!(matches!(&effects[..], [Effect::Exec { ids, run: 1, .. }] if ids == &[0, 1]));
        let old = Msg::Exec {
            id: 0,
            run: 0,
            event: ExecEvent::End(ExecEnd::Exited(9)),
        };
        let _ = app.update(old);
        let _ = app.update(Msg::Exec {
            id: 1,
            run: 1,
            event: ExecEvent::End(ExecEnd::Exited(0)),
        });
        let status = |app: &App, i: usize| app.panes[i].last_result().map(|r| r.status);
        assert_eq!(status(&app, 0), Some(RunStatus::Running));
        assert_eq!(status(&app, 1), Some(RunStatus::Exited(0)));
        let cancel = app.cancel_command();
        assert_eq!(
            cancel,
            Some(vec![Effect::CancelExec {
                ids: vec![0],
                run: 1
            }])
        );
        // The session ending under a run ends the run.
        let _ = app.update(Msg::State {
            id: 0,
            state: SessionState::Closed {
                exit_status: None,
                signal: None,
            },
        });
        assert_eq!(status(&app, 0), Some(RunStatus::Failed));
        assert_eq!(app.cancel_command(), None);
    }
}
