//! `tui_bench history PANES LINES`: memory of `PANES` 80x24 panes each fed `LINES` lines of
//! shell-like output (kept in full: the per-pane budget is `LINES` lines), and the time of a
//! plain-text scan over every kept line of every pane, as a search does. Panes are made
//! directly (no App): the App's budget would cut the lines, and the figures are the
//! emulator's and the history's. One size per process, so VmHWM belongs to it.
//!
//! The same file runs on the code before the compact history (docs/BENCHMARKS.md): there
//! `make_pane` gives vt100 a `LINES`-line scrollback and `scan` reads `scrollback_text`.

use std::ops::ControlFlow;
use std::time::Instant;

use mtssh::app::pane::Pane;

use super::{shell_output, status_kb};

/// A pane keeping `lines` lines, its memory cap the default's share for `panes` panes.
fn make_pane(id: usize, lines: usize, panes: usize) -> Pane {
    let mut pane = Pane::new(id, format!("host-{id:04}"), lines);
    let setting = mtssh::app::pane::ScrollbackSetting {
        lines,
        ..Default::default()
    };
    pane.set_history_budget(mtssh::app::pane::history_budget(setting, panes));
    pane
}

/// Lines of `pane` containing `needle`, and lines seen.
fn scan(pane: &mut Pane, needle: &str) -> (usize, usize) {
    let (mut hits, mut seen) = (0, 0);
    let from = pane.line_span().start;
    pane.visit_lines(from, &mut |_, text| {
        seen += 1;
        if text.contains(needle) {
            hits += 1;
        }
        ControlFlow::Continue(())
    });
    (hits, seen)
}

pub fn history_bench(panes: usize, lines: usize) {
    let before = status_kb("VmRSS");
    // One output of `lines` lines (the generator writes lines of 20-119 characters).
    let mut output = shell_output(lines * 120);
    if let Some((end, _)) = output
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\r\n")
        .nth(lines.saturating_sub(1))
    {
        output.truncate(end + 2);
    }
    let fed_lines = output.windows(2).filter(|w| w == b"\r\n").count();
    let start = Instant::now();
    let mut all: Vec<Pane> = (0..panes).map(|id| make_pane(id, lines, panes)).collect();
    for pane in &mut all {
        pane.fit(80, 24);
        for chunk in output.chunks(4096) {
            pane.process(chunk);
        }
    }
    let fill = start.elapsed();
    let after = status_kb("VmRSS");
    // A needle in about one line in 25 (`file-…5.rs` of the `ls -l` lines).
    let needle = "5.rs";
    let mut best = f64::MAX;
    let (mut hits, mut seen) = (0, 0);
    for _ in 0..3 {
        let start = Instant::now();
        (hits, seen) = (0, 0);
        for pane in &mut all {
            let (h, s) = scan(pane, needle);
            hits += h;
            seen += s;
        }
        best = best.min(start.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "history {panes} panes x {fed_lines} lines fed (80x24): VmRSS {} MiB (+{} MiB), VmHWM {} \
         MiB; fill {:.1} s; scan of {seen} lines: {best:.1} ms ({hits} hits)",
        after / 1024,
        (after - before) / 1024,
        status_kb("VmHWM") / 1024,
        fill.as_secs_f64(),
    );
    drop(all);
}
