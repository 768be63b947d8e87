//! Search across every pane's screen and scrollback (`/` on an empty line, Ctrl-F): the
//! query, the matches, and the scan that finds them. The scan runs in slices of about
//! [`SLICE_BUDGET`] on the loop ([`super::Msg::SearchSlice`], sent while
//! [`super::App::search_pending`]), so a thousand panes never stall it. Output that arrives
//! meanwhile marks its pane: once the pass is over, that pane's new lines (and its screen,
//! which may have changed) are scanned again, and matches on lines that fell off go.
//!
//! Lines are read only through the pane line API ([`super::pane::LineNo`] and friends).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Bound, ControlFlow};
use std::time::{Duration, Instant};

use regex::{Regex, RegexBuilder};

use super::editor::LineEditor;
use super::pane::{LineNo, Pane};
use crate::ssh::SessionId;

/// How long one slice of the scan may run before the loop gets the thread back.
pub const SLICE_BUDGET: Duration = Duration::from_millis(2);
/// Matches the list keeps; past it panes with matches are still counted (for the receivers
/// key), their lines not.
pub const MAX_MATCHES: usize = 10_000;
/// Lines scanned between looks at the clock.
const CLOCK_EVERY: u32 = 64;
/// Characters of context kept before a match in the list.
const CONTEXT_BEFORE: usize = 24;
/// Characters kept in all, per match.
const CONTEXT_CHARS: usize = 120;

/// Typing the query, or moving between the matches (n / N).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Typing,
    Browsing,
}

/// Where a match sits: its pane and line. Panes are in id order, as `App::panes` is.
pub type MatchKey = (SessionId, LineNo);

/// One line that matches (the first match on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Where the match starts and how long it is, in chars of the line's text.
    pub start: usize,
    pub len: usize,
    /// The line around the match, for the list; the match starts at char `at` of it.
    pub context: String,
    pub at: usize,
}

/// The pass under way: every pane after a new query, or only the panes with new output.
#[derive(Debug, Clone)]
struct Pass {
    full: bool,
    /// The pane to go on with (the first at or after this id) and the line in it, if
    /// the pane was started.
    pane: SessionId,
    line: Option<LineNo>,
}

#[derive(Debug)]
pub struct Search {
    pub query: LineEditor,
    pub regex: bool,
    pub phase: Phase,
    /// Opened with `/`: a `/` typed on the empty query goes to the broadcast line instead
    /// (`//etc/init.d/x restart` types `/etc/init.d/x restart`).
    pub slash: bool,
    matcher: Option<Regex>,
    /// The query does not compile (regex mode): why.
    pub error: Option<String>,
    pub matches: BTreeMap<MatchKey, Match>,
    /// Panes with a match the list had no room for.
    overflow: BTreeSet<SessionId>,
    pub current: Option<MatchKey>,
    /// For each pane scanned: the end of its line span then, and its [`Geometry`].
    scanned: BTreeMap<SessionId, (LineNo, Geometry)>,
    /// Panes that had output (or a resize) since their scan.
    dirty: BTreeSet<SessionId>,
    pass: Option<Pass>,
    /// Lines looked at since the query last changed (for the benchmark and the tests).
    pub lines_scanned: u64,
    /// The zoom to go back to when the search is left.
    pub(super) zoom_before: bool,
}

impl Search {
    pub fn new(slash: bool, zoom_before: bool) -> Self {
        Search {
            query: LineEditor::default(),
            regex: false,
            phase: Phase::Typing,
            slash,
            matcher: None,
            error: None,
            matches: BTreeMap::new(),
            overflow: BTreeSet::new(),
            current: None,
            scanned: BTreeMap::new(),
            dirty: BTreeSet::new(),
            pass: None,
            lines_scanned: 0,
            zoom_before,
        }
    }

    /// Whether a slice has work to do (the prompt says "searching…").
    pub fn pending(&self) -> bool {
        self.matcher.is_some() && (self.pass.is_some() || !self.dirty.is_empty())
    }

    /// The query changed (or the regex switch): everything is found again.
    pub fn restart(&mut self) {
        self.matches.clear();
        self.overflow.clear();
        self.scanned.clear();
        self.dirty.clear();
        self.current = None;
        self.lines_scanned = 0;
        self.error = None;
        self.matcher = None;
        self.pass = None;
        let query = self.query.text();
        if query.is_empty() {
            return;
        }
        let pattern = if self.regex {
            query.to_string()
        } else {
            regex::escape(query)
        };
        // Smart case: a query with no capital letter ignores case.
        let ignore_case = !query.chars().any(char::is_uppercase);
        match RegexBuilder::new(&pattern)
            .case_insensitive(ignore_case)
            .size_limit(1 << 20)
            .build()
        {
            Ok(regex) => {
                self.matcher = Some(regex);
                self.pass = Some(Pass {
                    full: true,
                    pane: 0,
                    line: None,
                });
            }
            Err(e) => self.error = Some(e.to_string().lines().last().unwrap_or("").to_string()),
        }
    }

    /// A pane had output: its new lines, and its screen's rows (blank rows below the cursor
    /// fill without the span growing), are scanned again once the pass is over. A pane the
    /// pass is in the middle of is marked too: the rows it already looked at may change.
    pub fn output_came(&mut self, id: SessionId) {
        if self.matcher.is_some() {
            self.dirty.insert(id);
        }
    }

    /// Panes with at least one match, in order.
    pub fn panes_with_matches(&self) -> BTreeSet<SessionId> {
        let mut panes: BTreeSet<SessionId> = self.matches.keys().map(|(id, _)| *id).collect();
        panes.extend(&self.overflow);
        panes
    }

    /// The match after (`forward`) or before the current one, wrapping around; the first
    /// (or last) when none is current.
    pub fn neighbour(&self, forward: bool) -> Option<MatchKey> {
        let after = match (self.current, forward) {
            (Some(key), true) => self
                .matches
                .range((Bound::Excluded(key), Bound::Unbounded))
                .next(),
            (Some(key), false) => self.matches.range(..key).next_back(),
            (None, _) => None,
        };
        let wrapped = || {
            if forward {
                self.matches.iter().next()
            } else {
                self.matches.iter().next_back()
            }
        };
        after.or_else(wrapped).map(|(key, _)| *key)
    }

    /// A window of up to `count` matches, in order, that holds `key`: about a third of it
    /// before `key`, more when the matches after it run out.
    pub fn around(&self, key: Option<MatchKey>, count: usize) -> Vec<(MatchKey, &Match)> {
        let Some(key) = key else {
            return self
                .matches
                .iter()
                .take(count)
                .map(|(k, m)| (*k, m))
                .collect();
        };
        let after: Vec<_> = self.matches.range(key..).take(count).collect();
        let before = count.saturating_sub(after.len()).max(count / 3);
        let mut rows: Vec<_> = self.matches.range(..key).rev().take(before).collect();
        rows.reverse();
        rows.extend(after);
        let skip = rows.len().saturating_sub(count);
        // Keep the current row in view: drop from the end first, past a third of the list.
        let keep_from = skip.min(rows.iter().position(|(k, _)| **k == key).unwrap_or(0));
        rows.into_iter()
            .skip(keep_from)
            .take(count)
            .map(|(k, m)| (*k, m))
            .collect()
    }

    /// The position of `key` among the matches of its pane.
    pub(super) fn ordinal(&self, key: MatchKey) -> usize {
        self.matches.range((key.0, 0)..key).count()
    }

    /// The `ordinal`th match of pane `id` (or its last).
    fn nth_in_pane(&self, id: SessionId, ordinal: usize) -> Option<MatchKey> {
        let range = || self.matches.range((id, 0)..=(id, LineNo::MAX));
        range()
            .nth(ordinal)
            .or_else(|| range().next_back())
            .map(|(k, _)| *k)
    }

    /// Runs the scan over `panes` until it is done or `budget` has gone.
    pub fn slice(&mut self, panes: &mut [Pane], budget: Duration) {
        let deadline = Instant::now() + budget;
        // At least one step, and [`CLOCK_EVERY`] lines in it, whatever the budget: each
        // slice gets somewhere.
        loop {
            if self.pass.is_none() {
                let Some(&id) = self.dirty.iter().next() else {
                    break;
                };
                self.pass = Some(Pass {
                    full: false,
                    pane: id,
                    line: None,
                });
            }
            if !self.step(panes, deadline) || Instant::now() >= deadline {
                break;
            }
        }
    }

    /// Scans the pass's current pane until it ends or the deadline; false when out of time.
    fn step(&mut self, panes: &mut [Pane], deadline: Instant) -> bool {
        let Some(pass) = self.pass.clone() else {
            return true;
        };
        let next = if pass.line.is_some() {
            // The pane the last slice stopped in (gone: the pass goes on with the next).
            let at = panes.partition_point(|p| p.id < pass.pane);
            panes.get(at).map(|_| at)
        } else if pass.full {
            let at = panes.partition_point(|p| p.id < pass.pane);
            (at < panes.len()).then_some(at)
        } else {
            let id = self.dirty.range(pass.pane..).next().copied();
            id.and_then(|id| panes.binary_search_by_key(&id, |p| p.id).ok())
        };
        let Some(index) = next else {
            self.pass_over(panes);
            return true;
        };
        let pane = &mut panes[index];
        let id = pane.id;
        let span = pane.line_span();
        let resume = pass.line.filter(|_| id == pass.pane);
        let from = match resume {
            Some(line) => line,
            None => self.start_pane(pane, pass.full, &span),
        };
        let Some(regex) = &self.matcher else {
            return true;
        };
        let mut stopped_at = None;
        let mut since_clock = 0;
        let matches = &mut self.matches;
        let overflow = &mut self.overflow;
        let scanned_lines = &mut self.lines_scanned;
        pane.visit_lines(from, &mut |n, text| {
            since_clock += 1;
            if since_clock >= CLOCK_EVERY {
                since_clock = 0;
                if Instant::now() >= deadline {
                    stopped_at = Some(n);
                    return ControlFlow::Break(());
                }
            }
            *scanned_lines += 1;
            if let Some(found) = regex.find_iter(text).find(|m| !m.is_empty()) {
                if matches.len() < MAX_MATCHES {
                    matches.insert((id, n), match_of(text, found.start(), found.end()));
                } else {
                    overflow.insert(id);
                }
            }
            ControlFlow::Continue(())
        });
        match stopped_at {
            Some(line) => {
                self.pass = Some(Pass {
                    line: Some(line),
                    ..pass
                });
                false
            }
            None => {
                self.scanned.insert(id, (span.end, Geometry::of(pane)));
                self.pass = Some(Pass {
                    pane: id + 1,
                    line: None,
                    ..pass
                });
                true
            }
        }
    }

    /// Where a pane's scan starts: its first line on a full pass; on a refresh the lines
    /// that came since, and the screen's rows before them (they may have changed). Matches
    /// on the lines looked at again, and on lines that fell off, go.
    fn start_pane(&mut self, pane: &Pane, full: bool, span: &std::ops::Range<LineNo>) -> LineNo {
        let id = pane.id;
        self.dirty.remove(&id);
        let from = match self.scanned.get(&id) {
            Some(&(end, geometry)) if !full && geometry == Geometry::of(pane) => {
                end.saturating_sub(geometry.screen_rows()).max(span.start)
            }
            _ => span.start,
        };
        let stale: Vec<MatchKey> = self
            .matches
            .range((id, 0)..=(id, LineNo::MAX))
            .map(|(k, _)| *k)
            .filter(|(_, n)| *n >= from || *n < span.start)
            .collect();
        for key in stale {
            self.matches.remove(&key);
            if self.current == Some(key) {
                self.current = None;
            }
        }
        from
    }

    /// A pass is over: matches of panes that are gone go too.
    fn pass_over(&mut self, panes: &[Pane]) {
        self.pass = None;
        let exists = |id: &SessionId| panes.binary_search_by_key(id, |p| p.id).is_ok();
        self.matches.retain(|(id, _), _| exists(id));
        self.overflow.retain(exists);
        self.scanned.retain(|id, _| exists(id));
        self.dirty.retain(exists);
        if self.current.is_some_and(|(id, _)| !exists(&id)) {
            self.current = None;
        }
    }

    /// Scans pane `index` again from its first line, now (a jump resized it: its rows may
    /// be wrapped anew), and returns the `ordinal`th match in it.
    pub(super) fn rescan_pane(
        &mut self,
        panes: &mut [Pane],
        index: usize,
        ordinal: usize,
    ) -> Option<MatchKey> {
        let id = panes.get(index)?.id;
        self.scanned.remove(&id);
        let saved = self.pass.replace(Pass {
            full: true,
            pane: id,
            line: None,
        });
        // One pane, however long it takes: the user asked for this jump.
        let far = Instant::now() + Duration::from_secs(3600);
        self.step(&mut panes[index..=index], far);
        self.pass = saved;
        self.nth_in_pane(id, ordinal)
    }

    /// A pane changed size: it is scanned again from its start once the pass is over.
    pub fn resized(&mut self, id: SessionId) {
        if self.matcher.is_some() {
            self.dirty.insert(id);
        }
    }
}

/// A pane's PTY size and its screen's (they differ while a pane off screen has not taken
/// its new size yet). When either changed since a pane's scan, its rows may be wrapped and
/// numbered anew: it is scanned again from its first line, not from its last screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    pty: (u16, u16),
    screen: (u16, u16),
}

impl Geometry {
    fn of(pane: &Pane) -> Self {
        Geometry {
            pty: pane.pty_size(),
            screen: pane.screen().size(),
        }
    }

    /// Lines at the end of the span that output may still change: the screen's.
    fn screen_rows(&self) -> u64 {
        u64::from(self.pty.1.max(self.screen.0))
    }
}

/// The match at bytes `start..end` of `text`, with its context.
fn match_of(text: &str, start: usize, end: usize) -> Match {
    let start_char = text[..start].chars().count();
    let len = text[start..end].chars().count();
    let first = start_char.saturating_sub(CONTEXT_BEFORE);
    let context: String = text
        .chars()
        .skip(first)
        .take(CONTEXT_CHARS)
        .collect::<String>()
        .trim_end()
        .to_string();
    Match {
        start: start_char,
        len,
        context,
        at: start_char - first,
    }
}
