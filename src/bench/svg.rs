//! The `--svg` chart of `mtssh bench`: time, threads and memory per mode, side by side.

use super::{BenchOptions, ModeResult};
use crate::lang::{tr, trf};

/// An advance of monospace glyphs per em (DejaVu Sans Mono and its kin: 0.602), rounded
/// up so that estimated widths err on the wide side.
const MONO_EM: f64 = 0.61;
const MARGIN: f64 = 16.0;
/// The mode names' column, then the three panels and the gap between them.
const NAME_COLUMN: f64 = 104.0;
const PANEL_GAP: f64 = 28.0;
const PANELS_TOP: f64 = 76.0;
const ROW: f64 = 50.0;
/// Between a bar's end and its label.
const LABEL_GAP: f64 = 5.0;

/// The width `text` takes at `size` px in a monospace font.
pub(super) fn text_width(text: &str, size: f64) -> f64 {
    unicode_width::UnicodeWidthStr::width(text) as f64 * size * MONO_EM
}

/// A bar's value and its label.
type Bar = (f64, String);

/// One panel: a title, a hint saying which way is better, and per mode a bar with its
/// label (and, for time, a thinner second bar for CPU).
struct Panel {
    title: &'static str,
    hint: &'static str,
    width: f64,
    /// Per mode: (value, label) of the main bar, and of the second bar if any.
    bars: Vec<(Bar, Option<Bar>)>,
}

fn panels(results: &[ModeResult]) -> [Panel; 3] {
    let time = results
        .iter()
        .map(|r| {
            let cpu = r.cpu_user_s + r.cpu_sys_s;
            let capped = if r.capped { tr(" (capped)") } else { "" };
            (
                (r.wall_s, format!("{:.2} s{capped}", r.wall_s)),
                Some((cpu, format!("CPU {cpu:.2} s"))),
            )
        })
        .collect();
    let threads = results
        .iter()
        .map(|r| ((r.peak_threads as f64, r.peak_threads.to_string()), None))
        .collect();
    let memory = results
        .iter()
        .map(|r| {
            // Whole MB as the table shows them.
            let mb = r.peak_rss_kb / 1024;
            ((mb as f64, format!("{mb} MB")), None)
        })
        .collect();
    [
        Panel {
            title: tr("wall time, client CPU (light)"),
            hint: tr("seconds; shorter is faster"),
            width: 330.0,
            bars: time,
        },
        Panel {
            title: tr("peak OS threads"),
            hint: tr("fewer is lighter"),
            width: 190.0,
            bars: threads,
        },
        Panel {
            title: tr("peak memory (RSS)"),
            hint: tr("less is lighter"),
            width: 190.0,
            bars: memory,
        },
    ]
}

/// A self-contained SVG: time, threads and memory per mode, side by side, every text
/// inside the canvas (the bars leave room for their labels).
pub fn svg_chart(results: &[ModeResult], args: &BenchOptions) -> String {
    let panels = panels(results);
    let width = MARGIN * 2.0
        + NAME_COLUMN
        + panels.iter().map(|p| p.width).sum::<f64>()
        + PANEL_GAP * (panels.len() - 1) as f64;
    let height = PANELS_TOP + 40.0 + ROW * results.len() as f64 + 8.0;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="14">
<rect width="100%" height="100%" fill="#ffffff"/>
"##
    );
    let sessions = results.first().map(|r| r.sessions).unwrap_or(0);
    let title = trf(
        "mtssh bench: {sessions} sessions, server latency {latency} ms, command {command}",
        &[
            ("sessions", &sessions),
            ("latency", &args.latency_ms),
            ("command", &format!("{:?}", args.command)),
        ],
    );
    let room = width - 2.0 * MARGIN;
    svg_text(
        &mut svg,
        MARGIN,
        28.0,
        17.0,
        r#"font-weight="bold""#,
        &fit(&title, 17.0, room),
    );
    let sub = tr("each mode in a child process of its own, measured from outside");
    svg_text(
        &mut svg,
        MARGIN,
        50.0,
        13.0,
        r##"fill="#555""##,
        &fit(sub, 13.0, room),
    );
    for (i, r) in results.iter().enumerate() {
        let y = PANELS_TOP + 40.0 + ROW * i as f64 + 15.0;
        svg_text(&mut svg, MARGIN, y, 14.0, "", r.mode.name());
    }
    let mut x = MARGIN + NAME_COLUMN;
    for panel in &panels {
        draw_panel(&mut svg, panel, x);
        x += panel.width + PANEL_GAP;
    }
    svg.push_str("</svg>\n");
    svg
}

fn draw_panel(svg: &mut String, panel: &Panel, x: f64) {
    use std::fmt::Write;
    svg_text(
        svg,
        x,
        PANELS_TOP,
        14.0,
        r#"font-weight="bold""#,
        panel.title,
    );
    let hint = fit(panel.hint, 11.0, panel.width);
    svg_text(svg, x, PANELS_TOP + 18.0, 11.0, r##"fill="#555""##, &hint);
    // The largest scale at which every bar still has room for its label in the panel.
    let scale = panel
        .bars
        .iter()
        .flat_map(|(main, second)| [Some((main, 14.0)), second.as_ref().map(|b| (b, 12.0))])
        .flatten()
        .filter(|((value, _), _)| *value > 0.0)
        .map(|((value, label), size)| {
            (panel.width - LABEL_GAP - 1.0 - text_width(label, size)).max(1.0) / value
        })
        .fold(f64::INFINITY, f64::min);
    let scale = if scale.is_finite() { scale } else { 0.0 };
    for (i, (main, second)) in panel.bars.iter().enumerate() {
        let y = PANELS_TOP + 40.0 + ROW * i as f64;
        let mut bar = |value: f64, label: &str, dy: f64, h: f64, fill: &str, size: f64| {
            let w = (value * scale).max(1.0);
            let _ = writeln!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{h}" fill="{fill}"/>"#,
                y + dy
            );
            let attrs = if size < 14.0 { r##"fill="#555""## } else { "" };
            let baseline = y + dy + h / 2.0 + size * 0.35;
            svg_text(svg, x + w + LABEL_GAP, baseline, size, attrs, label);
        };
        bar(main.0, &main.1, 0.0, 20.0, "#2b6cb0", 14.0);
        if let Some((value, label)) = second {
            bar(*value, label, 24.0, 12.0, "#90cdf4", 12.0);
        }
    }
}

/// `text` cut with an ellipsis to `room` px at `size`.
pub(super) fn fit(text: &str, size: f64, room: f64) -> String {
    if text_width(text, size) <= room {
        return text.to_string();
    }
    let mut cut = String::new();
    for c in text.chars() {
        if text_width(&format!("{cut}{c}…"), size) > room {
            break;
        }
        cut.push(c);
    }
    cut + "…"
}

pub(super) fn svg_text(svg: &mut String, x: f64, y: f64, size: f64, attrs: &str, text: &str) {
    use std::fmt::Write;
    let _ = writeln!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" {attrs}>{}</text>"#,
        xml_escape(text)
    );
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
pub(super) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::HostOptions;
    use crate::mock::HostKeyType;
    use crate::modes::Mode;

    fn attr(tag: &str, name: &str) -> Option<f64> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = tag[start..].find('"')?;
        tag[start..start + len].parse().ok()
    }

    /// Every `<text>` and `<rect>` of `svg` lies inside its canvas (text widths as a
    /// monospace font draws them), or the offending element.
    pub(in crate::bench) fn everything_inside(svg: &str) -> Result<(), String> {
        let root = &svg[..svg.find('>').unwrap_or(0)];
        let (w, h) = (attr(root, "width").unwrap(), attr(root, "height").unwrap());
        for piece in svg.split('<').skip(1) {
            let Some((tag, rest)) = piece.split_once('>') else {
                continue;
            };
            if tag.starts_with("text ") {
                let size = attr(tag, "font-size").unwrap_or(14.0);
                let (x, y) = (attr(tag, "x").unwrap(), attr(tag, "y").unwrap());
                let content = rest.replace("&amp;", "&").replace("&lt;", "<");
                let content = content.replace("&gt;", ">").replace("&quot;", "\"");
                let right = x + text_width(&content, size);
                if x < 0.0 || right > w || y - size < 0.0 || y + size * 0.3 > h {
                    return Err(format!("{content:?} at x {x}..{right:.1} y {y} in {w}x{h}"));
                }
            } else if tag.starts_with("rect x") {
                let (x, y) = (attr(tag, "x").unwrap(), attr(tag, "y").unwrap());
                let (rw, rh) = (attr(tag, "width").unwrap(), attr(tag, "height").unwrap());
                if x < 0.0 || y < 0.0 || x + rw > w || y + rh > h {
                    return Err(format!("rect {tag}"));
                }
            }
        }
        Ok(())
    }

    pub(in crate::bench) fn result(
        mode: Mode,
        wall_s: f64,
        threads: usize,
        rss_mb: u64,
        capped: bool,
    ) -> ModeResult {
        ModeResult {
            mode,
            sessions: 2000,
            ok: 2000,
            wall_s,
            cpu_user_s: wall_s * 0.4,
            cpu_sys_s: wall_s * 0.1,
            peak_threads: threads,
            peak_rss_kb: rss_mb * 1024,
            sessions_per_s: 2000.0 / wall_s,
            speedup_vs_sequential: None,
            capped,
            hosts: Vec::new(),
        }
    }

    fn options(command: &str) -> BenchOptions {
        BenchOptions {
            hosts: HostOptions::default(),
            sessions: 2000,
            command: command.into(),
            latency_ms: 20,
            modes: Vec::new(),
            host_key_type: HostKeyType::Ed25519,
            time_cap: Duration::from_secs(60),
            json: false,
            svg: None,
            timeline: None,
        }
    }

    #[test]
    fn every_text_of_the_chart_lies_inside_its_canvas() {
        let runs = [
            vec![
                result(Mode::Sequential, 1234.567, 3, 9, true),
                result(Mode::Threads, 4.3, 2004, 343, false),
                result(Mode::EventLoop, 2.9, 3, 43, false),
            ],
            vec![result(Mode::EventLoop, 0.0, 0, 0, false)],
            Vec::new(),
        ];
        let long = "for i in $(seq 1 100); do echo \"<&>\" $i; done; uname -a; cat /etc/os-release";
        for lang in crate::lang::Lang::ALL {
            for results in &runs {
                for command in ["echo hello", long] {
                    let svg = crate::lang::with(lang, || svg_chart(results, &options(command)));
                    everything_inside(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
                }
            }
        }
        let zh = crate::lang::with(crate::lang::Lang::Zh, || {
            svg_chart(&runs[0], &options("echo hello"))
        });
        for label in ["系统线程峰值", "内存峰值（RSS）", "越短越快", "（已封顶）"]
        {
            assert!(zh.contains(label), "{label}: {zh}");
        }
        // The check itself catches a label off the canvas.
        let off = "<svg width=\"100\" height=\"50\"><text x=\"60\" y=\"20\">0.123 s</text></svg>";
        assert!(everything_inside(off).is_err());
    }

    #[test]
    fn the_chart_in_assets_fits_its_canvas_and_shows_threads_and_memory() {
        let svg = include_str!("../../assets/modes.svg");
        everything_inside(svg).unwrap_or_else(|e| panic!("assets/modes.svg: {e}"));
        for needle in ["peak OS threads", "peak memory", "shorter is faster"] {
            assert!(svg.contains(needle), "assets/modes.svg lacks {needle:?}");
        }
    }
}
