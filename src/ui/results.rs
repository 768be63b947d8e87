//! The results view (F9): one line per group of hosts that answered alike, and the
//! highlighted group's output (or whole failure reason) below, scrollable.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use crate::app::App;
use crate::app::result::RunStatus;
use crate::app::results::{GroupKind, ResultGroup};
use crate::app::results_diff::{DiffTag, ResultDiff, diff_against_largest};
use crate::app::select::{ResultsView, group_label};
use crate::lang::{tr, trf};

const KEYS: &str = " Enter to these · e failed · d differs · r runs · u unreachable · i invert · = diff · ↑↓ PgUp/Dn ";
const DIFF_KEYS: &str = " = or Esc: back to the output · ↑↓ other group · PgUp/PgDn scroll ";

pub fn draw_results(frame: &mut Frame, app: &App, view: &ResultsView, area: Rect) {
    let groups = app.result_groups();
    let rect = area;
    frame.render_widget(Clear, rect);
    let folding = if app.fuzzy {
        tr("fuzzy (f: exact)")
    } else {
        tr("exact (f: fuzzy)")
    };
    let title = trf(
        " Results: {sessions} in {groups} · {folding} ",
        &[
            ("sessions", &plural(app.panes.len(), "session")),
            ("groups", &plural(groups.len(), "group")),
            ("folding", &folding),
        ],
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(Color::Cyan))
        .title(Span::styled(
            title,
            Style::new().add_modifier(Modifier::BOLD),
        ))
        .title_bottom(
            Line::from(tr(if view.diff { DIFF_KEYS } else { KEYS }))
                .style(Style::new().fg(Color::DarkGray)),
        );
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if groups.is_empty() {
        frame.render_widget(Paragraph::new(tr("No sessions.")), inner);
        return;
    }
    let list_height = (groups.len() as u16).min(inner.height / 3).max(1);
    let [list, rule, body] = Layout::vertical([
        Constraint::Length(list_height),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    let selected = view.selected.min(groups.len() - 1);
    // Keep the highlighted group in the list's window.
    let first = (selected + 1).saturating_sub(usize::from(list_height));
    let lines: Vec<Line> = groups
        .iter()
        .enumerate()
        .skip(first)
        .take(usize::from(list_height))
        .map(|(i, g)| group_line(g, i == selected))
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    frame.render_widget(
        Paragraph::new("─".repeat(usize::from(rule.width))).style(Style::new().fg(Color::DarkGray)),
        rule,
    );
    if view.diff {
        draw_diff(frame, &groups, selected, view.scroll, body);
    } else if let Some(group) = groups.get(selected) {
        let varying = app.group_varying(group);
        draw_body(frame, group, &varying, view.scroll, body);
    }
}

fn status_color(kind: &GroupKind) -> Color {
    match kind {
        GroupKind::Answered(RunStatus::Exited(0)) => Color::Green,
        GroupKind::Answered(RunStatus::Exited(_) | RunStatus::Failed | RunStatus::TimedOut)
        | GroupKind::Disconnected(_) => Color::Red,
        GroupKind::Running => Color::Yellow,
        GroupKind::Answered(_) | GroupKind::NoAnswer => Color::Gray,
    }
}

fn group_line(group: &ResultGroup, selected: bool) -> Line<'static> {
    let marker = if selected { "▶ " } else { "  " };
    let mut line = Line::from(vec![
        Span::raw(marker),
        Span::styled(
            format!("{:>5}  ", group.count()),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!("{:<22}", group_label(&group.kind)),
            Style::new().fg(status_color(&group.kind)),
        ),
        Span::raw(group.hosts.clone()),
    ]);
    if selected {
        line = line.style(Style::new().bg(Color::DarkGray));
    }
    line
}

fn draw_body(
    frame: &mut Frame,
    group: &ResultGroup,
    varying: &[(usize, usize)],
    scroll: u16,
    area: Rect,
) {
    let mut lines = vec![Line::styled(
        format!(
            "{} · {} · {}",
            group.hosts,
            group_label(&group.kind),
            plural(group.count(), "host")
        ),
        Style::new().fg(Color::Cyan),
    )];
    match &group.kind {
        GroupKind::Disconnected(reason) => lines.push(Line::raw(reason.clone())),
        GroupKind::NoAnswer => lines.push(Line::raw(tr("(no command result seen yet)"))),
        _ => lines.extend(output_lines(group, varying)),
    }
    if !group.stderr.is_empty() {
        let red = Style::new().fg(Color::Red);
        lines.push(Line::styled("stderr:", red.add_modifier(Modifier::BOLD)));
        lines.extend(
            group
                .stderr
                .lines()
                .map(|l| Line::styled(l.to_string(), red)),
        );
    }
    if !group.note.is_empty() {
        lines.push(Line::styled(
            group.note.clone(),
            Style::new().fg(Color::Red),
        ));
    }
    if group.truncated {
        lines.push(Line::styled(
            tr("(output cut: only its start is kept)"),
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    let body = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0));
    frame.render_widget(body, area);
}

/// The output's lines, the tokens that vary inside the group (fuzzy folding) marked.
fn output_lines(group: &ResultGroup, varying: &[(usize, usize)]) -> Vec<Line<'static>> {
    let marked = Style::new()
        .fg(Color::Yellow)
        .add_modifier(Modifier::REVERSED);
    let mut lines = Vec::new();
    let mut start = 0;
    for text in group.output.split_inclusive('\n') {
        let end = start + text.len();
        let body_end = start + text.trim_end_matches('\n').len();
        let mut spans = Vec::new();
        let mut at = start;
        for &(a, b) in varying
            .iter()
            .filter(|(a, _)| (start..body_end).contains(a))
        {
            if a < at {
                continue;
            }
            let b = b.min(body_end);
            if a > at {
                spans.push(Span::raw(group.output[at..a].to_string()));
            }
            spans.push(Span::styled(group.output[a..b].to_string(), marked));
            at = b;
        }
        if at < body_end {
            spans.push(Span::raw(group.output[at..body_end].to_string()));
        }
        lines.push(Line::from(spans));
        start = end;
    }
    lines
}

/// The highlighted group's output as a unified diff against the largest group's.
fn draw_diff(frame: &mut Frame, groups: &[ResultGroup], selected: usize, scroll: u16, area: Rect) {
    let hosts = groups.get(selected).map_or("", |g| g.hosts.as_str());
    let cyan = Style::new().fg(Color::Cyan);
    let lines = match diff_against_largest(groups, selected) {
        ResultDiff::IsLargest => vec![Line::styled(
            trf(
                "{hosts} is the largest group: the others are diffed against it",
                &[("hosts", &hosts)],
            ),
            cyan,
        )],
        ResultDiff::Nothing(why) => vec![Line::styled(format!("{hosts}: {why}"), cyan)],
        ResultDiff::Lines { base_hosts, lines } => {
            let mut out = vec![
                Line::styled(
                    trf("--- {hosts} (largest group)", &[("hosts", &base_hosts)]),
                    Style::new().fg(Color::Red),
                ),
                Line::styled(format!("+++ {hosts}"), Style::new().fg(Color::Green)),
            ];
            if lines.is_empty() {
                out.push(Line::raw(tr("(same output; the exit status differs)")));
            }
            out.extend(lines.into_iter().map(|line| {
                let (prefix, style) = match line.tag {
                    DiffTag::Hunk => ("", cyan),
                    DiffTag::Same => (" ", Style::new()),
                    DiffTag::Removed => ("-", Style::new().fg(Color::Red)),
                    DiffTag::Added => ("+", Style::new().fg(Color::Green)),
                };
                Line::styled(format!("{prefix}{}", line.text), style)
            }));
            out
        }
    };
    let body = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0));
    frame.render_widget(body, area);
}

/// "1 host", "3 hosts", in the current language ("3 台主机").
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        trf(&format!("1 {what}"), &[])
    } else {
        trf(&format!("{{n}} {what}s"), &[("n", &n)])
    }
}
