//! The `--timeline` chart of `mtssh bench`: one bar per session, cut into its phases
//! (connect, authenticate, command, close), one panel per mode side by side. Sequential is a
//! staircase (each session waits for the one before), threads and the event loop overlap.

use std::fmt::Write;

use super::ModeResult;
use super::svg::{fit, svg_text, text_width};
use crate::lang::{tr, trf};

const MARGIN: f64 = 16.0;
const PANEL_WIDTH: f64 = 300.0;
const PANEL_GAP: f64 = 28.0;
const PANELS_TOP: f64 = 96.0;
/// The rows' area: sessions share it, each row at most `MAX_ROW` high.
const ROWS_HEIGHT: f64 = 320.0;
const MAX_ROW: f64 = 12.0;
/// More sessions than this: every k-th is drawn, and the panel says so.
const MAX_BARS: usize = 160;

/// The phases' colours, in their order.
const PHASE_COLOURS: [&str; 4] = ["#ed8936", "#805ad5", "#2b6cb0", "#a0aec0"];

/// A self-contained SVG: a panel of session bars per mode, every text inside the canvas.
pub fn svg_timeline(results: &[ModeResult], latency_ms: u64) -> String {
    let panels = results.len().max(1) as f64;
    let width = MARGIN * 2.0 + PANEL_WIDTH * panels + PANEL_GAP * (panels - 1.0);
    let height = PANELS_TOP + 24.0 + ROWS_HEIGHT + 40.0;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="14">
<rect width="100%" height="100%" fill="#ffffff"/>
"##
    );
    let room = width - 2.0 * MARGIN;
    let sessions = results.first().map(|r| r.sessions).unwrap_or(0);
    let title = trf(
        "mtssh bench timeline: {sessions} sessions, server latency {latency} ms",
        &[("sessions", &sessions), ("latency", &latency_ms)],
    );
    let bold = r#"font-weight="bold""#;
    svg_text(&mut svg, MARGIN, 28.0, 17.0, bold, &fit(&title, 17.0, room));
    let grey = r##"fill="#555""##;
    let sub =
        tr("one bar per session; each panel on its own time scale, from its first session's start");
    let sub = fit(sub, 13.0, room);
    svg_text(&mut svg, MARGIN, 48.0, 13.0, grey, &sub);
    legend(&mut svg, MARGIN, 70.0, room);
    for (i, result) in results.iter().enumerate() {
        let x = MARGIN + (PANEL_WIDTH + PANEL_GAP) * i as f64;
        panel(&mut svg, result, x);
    }
    svg.push_str("</svg>\n");
    svg
}

/// The phases' colour keys on one line, as many as fit.
fn legend(svg: &mut String, x: f64, y: f64, room: f64) {
    let mut at = x;
    let names = ["connect", "authenticate", "command", "close"];
    for (name, colour) in names.iter().zip(PHASE_COLOURS) {
        let name = tr(name);
        let need = 14.0 + text_width(name, 12.0) + 18.0;
        if at + need > x + room {
            break;
        }
        let _ = writeln!(
            svg,
            r#"<rect x="{at:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/>"#,
            y - 9.0
        );
        svg_text(svg, at + 14.0, y, 12.0, "", name);
        at += need;
    }
}

fn panel(svg: &mut String, result: &ModeResult, x: f64) {
    let heading = format!("{} {:.2} s", result.mode.name(), result.wall_s);
    let bold = r#"font-weight="bold""#;
    svg_text(
        svg,
        x,
        PANELS_TOP,
        14.0,
        bold,
        &fit(&heading, 14.0, PANEL_WIDTH),
    );
    let top = PANELS_TOP + 24.0;
    let grey = r##"fill="#555""##;
    let hosts = &result.hosts;
    let Some(origin) = hosts.iter().map(|h| h.start_ms).reduce(f64::min) else {
        svg_text(svg, x, top + 14.0, 12.0, grey, tr("no session times"));
        return;
    };
    let span = hosts
        .iter()
        .map(|h| h.end_ms - origin)
        .fold(0.0, f64::max)
        .max(0.001);
    let step = hosts.len().div_ceil(MAX_BARS).max(1);
    let shown = hosts.len().div_ceil(step);
    let row = (ROWS_HEIGHT / shown as f64).min(MAX_ROW);
    let scale = PANEL_WIDTH / span;
    let _ = writeln!(
        svg,
        r##"<rect x="{x:.1}" y="{top:.1}" width="{PANEL_WIDTH}" height="{ROWS_HEIGHT}" fill="#f7fafc"/>"##
    );
    for (i, host) in hosts.iter().step_by(step).enumerate() {
        let y = top + row * i as f64;
        let mut at = host.start_ms - origin;
        for ((_, length), colour) in host.phases_ms.named().iter().zip(PHASE_COLOURS) {
            let Some(length) = length else { continue };
            let w = (length * scale).min(PANEL_WIDTH - at * scale);
            if w >= 0.05 {
                let _ = writeln!(
                    svg,
                    r#"<rect x="{:.2}" y="{y:.2}" width="{w:.2}" height="{:.2}" fill="{colour}"/>"#,
                    x + at * scale,
                    (row * 0.8).max(0.5)
                );
            }
            at += length;
        }
    }
    let axis = top + ROWS_HEIGHT + 16.0;
    svg_text(svg, x, axis, 12.0, grey, "0");
    let end = format!("{span:.0} ms");
    svg_text(
        svg,
        x + PANEL_WIDTH - text_width(&end, 12.0),
        axis,
        12.0,
        grey,
        &end,
    );
    if step > 1 {
        let note = trf("every {step}th session shown", &[("step", &step)]);
        let note = fit(&note, 11.0, PANEL_WIDTH);
        svg_text(svg, x, axis + 16.0, 11.0, grey, &note);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::SessionTimes;
    use crate::bench::svg::tests::{everything_inside, result};
    use crate::modes::{Mode, Phases};

    fn host(start_ms: f64, phases: [f64; 4]) -> SessionTimes {
        SessionTimes {
            name: "mock-01#1".into(),
            outcome: "ok".into(),
            start_ms,
            end_ms: start_ms + phases.iter().sum::<f64>(),
            phases_ms: Phases {
                connect: Some(phases[0]),
                authenticate: Some(phases[1]),
                command: Some(phases[2]),
                close: Some(phases[3]),
            },
        }
    }

    fn with_hosts(mode: Mode, hosts: Vec<SessionTimes>) -> ModeResult {
        ModeResult {
            sessions: hosts.len(),
            hosts,
            ..result(mode, 1.5, 3, 40, false)
        }
    }

    #[test]
    fn every_text_and_bar_of_the_timeline_lies_inside_its_canvas() {
        let staircase = (0..20)
            .map(|i| host(i as f64 * 30.0, [5.0, 4.0, 20.0, 1.0]))
            .collect();
        let overlapping = (0..2000)
            .map(|i| host(i as f64 * 0.01, [50.0, 40.0, 20.0, 0.5]))
            .collect();
        let refused = vec![SessionTimes {
            phases_ms: Phases {
                connect: Some(2.0),
                ..Default::default()
            },
            ..host(3.0, [2.0, 0.0, 0.0, 0.0])
        }];
        let runs = [
            vec![
                with_hosts(Mode::Sequential, staircase),
                with_hosts(Mode::Threads, overlapping),
                with_hosts(Mode::EventLoop, refused),
            ],
            vec![with_hosts(Mode::EventLoop, Vec::new())],
            Vec::new(),
        ];
        for results in &runs {
            let svg = svg_timeline(results, 20);
            everything_inside(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        }
        let svg = svg_timeline(&runs[0], 20);
        // 2000 sessions: every 13th drawn, and said.
        assert!(svg.contains("every 13th session shown"), "{svg}");
        assert_eq!(svg.matches("fill=\"#2b6cb0\"").count(), 20 + 154 + 1);
    }

    #[test]
    fn the_timeline_in_assets_fits_its_canvas_and_shows_the_three_modes() {
        let svg = include_str!("../../assets/timeline.svg");
        everything_inside(svg).unwrap_or_else(|e| panic!("assets/timeline.svg: {e}"));
        for needle in ["sequential", "threads", "event-loop", "authenticate"] {
            assert!(svg.contains(needle), "assets/timeline.svg lacks {needle:?}");
        }
    }

    #[test]
    fn the_timeline_in_chinese_fits_its_canvas_too() {
        let hosts = (0..400)
            .map(|i| host(i as f64, [5.0, 4.0, 20.0, 1.0]))
            .collect();
        let results = [with_hosts(Mode::EventLoop, hosts)];
        let svg = crate::lang::with(crate::lang::Lang::Zh, || svg_timeline(&results, 20));
        everything_inside(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        for needle in ["时间线：400 个", "认证", "每 3 个会话显示 1 个"] {
            assert!(svg.contains(needle), "{needle}:\n{svg}");
        }
    }
}
