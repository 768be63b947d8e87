//! The results view's model: the panes grouped by what their last command answered.
//!
//! Hosts with identical output and status form a group, largest first; then the hosts still
//! running, those with no answer yet, and the disconnected ones (one group per failure
//! reason, the whole reason kept). With fuzzy folding, outputs that differ only by the host's
//! own name, by numbers or by timestamps (digits are what differ in a timestamp) fold
//! together, and the tokens that differ inside a group are marked.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::pane::Pane;
use super::result::RunStatus;
use crate::config::fold_to_string;
use crate::ssh::SessionId;

/// What a group's hosts have in common.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// The last command ended: `RunStatus::Exited` or `RunStatus::Finished`.
    Answered(RunStatus),
    Running,
    /// Live, but no command result seen yet.
    NoAnswer,
    /// The session failed or closed; the reason, whole.
    Disconnected(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultGroup {
    pub kind: GroupKind,
    pub ids: Vec<SessionId>,
    /// The hosts folded (`web[01-18,20]`).
    pub hosts: String,
    /// The first host's output (the partial output of a running one).
    pub output: String,
    /// The first host's stderr (`:CMD` only) and why its run ended without a status.
    pub stderr: String,
    pub note: String,
    /// Some host's output was cut at [`super::result::MAX_OUTPUT`].
    pub truncated: bool,
}

impl ResultGroup {
    pub fn count(&self) -> usize {
        self.ids.len()
    }
}

/// Everything the grouping needs of one pane.
struct Member<'a> {
    id: SessionId,
    name: &'a str,
    output: String,
    stderr: String,
    note: String,
    truncated: bool,
}

/// What a grouping was made from: equal keys, equal groups. `panes` is the model's count of
/// pane additions, removals and state changes; `results` the sum of the panes' result
/// generations (each only grows, so any change moves the sum; a removal is in `panes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GroupsKey {
    pub panes: u64,
    pub results: u64,
    pub fuzzy: bool,
}

/// The last grouping and what it was made from: the view is drawn every frame, the panes'
/// results change far less often (a frame after the last answer came costs the regrouping
/// once, not on every frame after).
#[derive(Default)]
pub(crate) struct GroupsCache(RefCell<Option<(GroupsKey, Rc<[ResultGroup]>)>>);

impl GroupsCache {
    /// The groups for `key`, regrouping `panes` only when the key is not the last one.
    pub fn get(&self, key: GroupsKey, panes: &[Pane]) -> Rc<[ResultGroup]> {
        let mut cached = self.0.borrow_mut();
        match cached.as_ref() {
            Some((k, groups)) if *k == key => groups.clone(),
            _ => {
                let groups: Rc<[ResultGroup]> = group_results(panes, key.fuzzy).into();
                *cached = Some((key, groups.clone()));
                groups
            }
        }
    }
}

/// Groups `panes` by their last command's result (see the module docs).
pub fn group_results(panes: &[Pane], fuzzy: bool) -> Vec<ResultGroup> {
    let mut answered: Vec<(RunStatus, Vec<Member>)> = Vec::new();
    let mut index: HashMap<(RunStatus, String), usize> = HashMap::new();
    let mut running = Vec::new();
    let mut no_answer = Vec::new();
    let mut disconnected: Vec<(String, Vec<Member>)> = Vec::new();
    for pane in panes {
        let member = |output: String, truncated| Member {
            id: pane.id,
            name: &pane.name,
            output,
            stderr: String::new(),
            note: String::new(),
            truncated,
        };
        if pane.state.is_finished() {
            let reason = pane.state.to_string();
            let member = member(String::new(), false);
            match disconnected.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, members)) => members.push(member),
                None => disconnected.push((reason, vec![member])),
            }
            continue;
        }
        let Some(result) = pane.last_result() else {
            no_answer.push(member(String::new(), false));
            continue;
        };
        if result.status == RunStatus::Running {
            running.push(member(pane.partial_output(), false));
            continue;
        }
        let text = format!(
            "{}\u{2}{}\u{2}{}",
            result.output, result.stderr, result.note
        );
        let key = if fuzzy {
            fuzzy_key(&text, &pane.name)
        } else {
            text
        };
        let slot = *index.entry((result.status, key)).or_insert_with(|| {
            answered.push((result.status, Vec::new()));
            answered.len() - 1
        });
        if let Some((_, members)) = answered.get_mut(slot) {
            members.push(Member {
                stderr: result.stderr.clone(),
                note: result.note.clone(),
                ..member(result.output.clone(), result.truncated)
            });
        }
    }
    // Largest first; among equals, the one whose first host comes first.
    answered.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    let mut groups: Vec<ResultGroup> = answered
        .into_iter()
        .map(|(status, members)| group(GroupKind::Answered(status), members))
        .collect();
    for (kind, members) in [
        (GroupKind::Running, running),
        (GroupKind::NoAnswer, no_answer),
    ] {
        if !members.is_empty() {
            groups.push(group(kind, members));
        }
    }
    for (reason, members) in disconnected {
        groups.push(group(GroupKind::Disconnected(reason), members));
    }
    groups
}

fn group(kind: GroupKind, members: Vec<Member>) -> ResultGroup {
    let names: Vec<&str> = members.iter().map(|m| m.name).collect();
    ResultGroup {
        kind,
        hosts: fold_to_string(&names),
        truncated: members.iter().any(|m| m.truncated),
        output: members
            .first()
            .map(|m| m.output.clone())
            .unwrap_or_default(),
        stderr: members
            .first()
            .map(|m| m.stderr.clone())
            .unwrap_or_default(),
        note: members.first().map(|m| m.note.clone()).unwrap_or_default(),
        ids: members.iter().map(|m| m.id).collect(),
    }
}

/// Splits text into words (letters, digits, `-`, `_`, `.`) and single other characters, so
/// that a host name or a number is one token and `16:24:40` is five. Lazy: fuzzy folding
/// runs over every pane's output whenever the view is drawn.
fn tokens(text: &str) -> Tokens<'_> {
    Tokens { text, at: 0 }
}

struct Tokens<'a> {
    text: &'a str,
    at: usize,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let start = self.at;
        let rest = self.text.get(start..)?;
        let first = rest.chars().next()?;
        let len = if is_word(first) {
            rest.find(|c: char| !is_word(c)).unwrap_or(rest.len())
        } else {
            first.len_utf8()
        };
        self.at = start + len;
        Some((start, &rest[..len]))
    }
}

/// The host part of a pane name (`user@web1:22` → `web1`).
pub(super) fn short_host(name: &str) -> &str {
    let host = name.rsplit_once('@').map_or(name, |(_, h)| h);
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    }
}

/// One token as fuzzy folding compares it, appended to `key`: the host's own name becomes one
/// placeholder and every run of digits another.
fn push_fuzzy_token(key: &mut String, token: &str, names: (&str, &str)) {
    if token.eq_ignore_ascii_case(names.0) || token.eq_ignore_ascii_case(names.1) {
        key.push_str("\u{0}host");
        return;
    }
    let mut in_digits = false;
    for c in token.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                key.push('\u{0}');
            }
            in_digits = true;
        } else {
            key.push(c);
            in_digits = false;
        }
    }
}

/// What fuzzy folding groups by: the tokens, each folded, in one string (one allocation:
/// this runs for every pane whenever the view is drawn).
fn fuzzy_key(output: &str, name: &str) -> String {
    let names = (name, short_host(name));
    let mut key = String::with_capacity(output.len() + 16);
    for (_, token) in tokens(output) {
        push_fuzzy_token(&mut key, token, names);
        key.push('\u{1}');
    }
    key
}

/// The byte ranges of `group.output` (its first host's) whose token is not the same in
/// every host of the group: the marks of fuzzy folding. Computed for the group shown only,
/// not for every group on every frame.
pub fn varying_tokens(panes: &[Pane], group: &ResultGroup) -> Vec<(usize, usize)> {
    let outputs: Vec<&str> = group
        .ids
        .iter()
        .skip(1)
        .filter_map(|&id| {
            let index = panes.binary_search_by_key(&id, |p| p.id).ok()?;
            Some(panes.get(index)?.last_result()?.output.as_str())
        })
        .collect();
    let others: Vec<Vec<(usize, &str)>> = outputs.iter().map(|o| tokens(o).collect()).collect();
    tokens(&group.output)
        .enumerate()
        .filter(|(i, (_, t))| {
            others
                .iter()
                .any(|o| o.get(*i).is_some_and(|(_, other)| other != t))
        })
        .map(|(_, (start, t))| (start, start + t.len()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::{SessionError, SessionState};

    fn pane(id: SessionId, name: &str, stream: &str) -> Pane {
        let mut pane = Pane::new(id, name.into(), 10);
        pane.state = SessionState::Ready;
        pane.process(stream.as_bytes());
        pane
    }

    fn answered(output: &str, status: u32) -> String {
        format!("\x1b]133;C\x07{output}\x1b]133;D;{status}\x07")
    }

    #[test]
    fn identical_answers_group_largest_first_then_the_rest() {
        let mut panes = vec![
            pane(0, "web1", &answered("ok\r\n", 0)),
            pane(1, "web2", &answered("bad\r\n", 1)),
            pane(2, "web3", &answered("ok\r\n", 0)),
            pane(3, "web4", "\x1b]133;C\x07work"),
            pane(4, "web5", ""),
            pane(5, "web6", ""),
        ];
        panes[5].state = SessionState::Failed {
            error: SessionError::Other("connection refused by 10.0.0.6:22".into()),
        };
        let groups = group_results(&panes, false);
        let summary: Vec<(GroupKind, &str, &str)> = groups
            .iter()
            .map(|g| (g.kind.clone(), g.hosts.as_str(), g.output.as_str()))
            .collect();
        let reason = panes[5].state.to_string();
        assert!(
            reason.contains("connection refused by 10.0.0.6:22"),
            "{reason}"
        );
        assert_eq!(
            summary,
            [
                (
                    GroupKind::Answered(RunStatus::Exited(0)),
                    "web[1,3]",
                    "ok\n"
                ),
                (GroupKind::Answered(RunStatus::Exited(1)), "web2", "bad\n"),
                (GroupKind::Running, "web4", "work"),
                (GroupKind::NoAnswer, "web5", ""),
                (GroupKind::Disconnected(reason), "web6", ""),
            ]
        );
    }

    #[test]
    fn fuzzy_folding_joins_host_names_numbers_and_times_and_marks_them() {
        let panes = vec![
            pane(0, "alpha", &answered("alpha up 3 days, 10:01:02\r\n", 0)),
            pane(
                1,
                "test@beta:22",
                &answered("beta up 12 days, 10:01:09\r\n", 0),
            ),
            pane(2, "gamma", &answered("gamma is down\r\n", 0)),
        ];
        assert_eq!(group_results(&panes, false).len(), 3);
        let groups = group_results(&panes, true);
        assert_eq!(groups.len(), 2, "{groups:#?}");
        let first = &groups[0];
        assert_eq!(
            (first.count(), first.hosts.as_str()),
            (2, "alpha,test@beta:22")
        );
        let marked: Vec<&str> = varying_tokens(&panes, first)
            .iter()
            .map(|&(a, b)| &first.output[a..b])
            .collect();
        assert_eq!(marked, ["alpha", "3", "02"]);
        // A status difference is never folded away.
        let panes = vec![
            pane(0, "a1", &answered("x 1\r\n", 0)),
            pane(1, "a2", &answered("x 2\r\n", 1)),
        ];
        assert_eq!(group_results(&panes, true).len(), 2);
    }

    /// The figure: 1000 sessions answering a 20-line command. Run with
    /// `cargo test --release measure_grouping -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn measure_grouping_1000_panes_of_20_lines() {
        let lines: String = (1..=20)
            .map(|i| format!("line {i} of the answer\r\n"))
            .collect();
        let panes: Vec<Pane> = (0..1000)
            .map(|i| {
                let status = u32::from(i % 50 == 0);
                pane(i, &format!("web{i:04}"), &answered(&lines, status))
            })
            .collect();
        for fuzzy in [false, true] {
            let start = std::time::Instant::now();
            let groups = group_results(&panes, fuzzy);
            let took = start.elapsed();
            assert_eq!(groups.len(), 2);
            println!("group_results, 1000 panes x 20 lines, fuzzy {fuzzy}: {took:?}");
        }
    }
}
