//! `tui_bench search PANES LINES`: the search across the panes (`/`, Ctrl-F) over PANES
//! panes of LINES lines of shell-like output each, a token in a few of them. The scan runs
//! in the slices the loop gives it ([`Msg::SearchSlice`], about 2 ms each); the whole
//! search's loop time is the sum of the slices, from the query to the last match found.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mtssh::app::Msg;

use super::{app_with_panes, fill};

const TOKEN: &str = "zebra-token";

pub fn search_bench(panes: usize, lines: usize) -> anyhow::Result<()> {
    let mut app = app_with_panes(200, 50, panes);
    let filled = Instant::now();
    let mut with_token = 0;
    for id in 0..panes {
        fill(&mut app, id, lines, 80, id * 7);
        // A few panes print the token, twenty lines before their end (lines of 80 columns
        // wrap in small panes: a thousand panes keep only the last 40 or so of them).
        if id % 300 == 7 || panes < 8 && id == 0 {
            let mut data = format!("error: {TOKEN} seen\r\n").into_bytes();
            let _ = app.update(Msg::Output {
                id,
                data: std::mem::take(&mut data),
            });
            fill(&mut app, id, 20, 80, id * 7 + lines);
            with_token += 1;
        }
    }
    let filled = filled.elapsed();
    let _ = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('f'),
        KeyModifiers::CONTROL,
    )));
    let _ = app.update(Msg::Paste(TOKEN.into()));
    let start = Instant::now();
    let cpu_start = thread_cpu();
    let (mut slices, mut worst, mut worst_cpu) = (0u32, Duration::ZERO, Duration::ZERO);
    while app.search_pending() {
        let slice = Instant::now();
        let slice_cpu = thread_cpu();
        let _ = app.update(Msg::SearchSlice);
        worst = worst.max(slice.elapsed());
        worst_cpu = worst_cpu.max(thread_cpu() - slice_cpu);
        slices += 1;
    }
    let total = start.elapsed();
    let cpu = thread_cpu() - cpu_start;
    let Some(search) = app.search() else {
        anyhow::bail!("the search did not open");
    };
    let scanned = search.lines_scanned;
    println!(
        "search {panes} panes x {lines} lines (filled in {:.1} s, scrollback {} lines per pane): \
         {scanned} lines kept and scanned, {} matches in {} panes (token printed in {with_token}); \
         whole search {:.1} ms of loop time ({:.1} ms CPU) in {slices} slices, worst slice \
         {:.2} ms ({:.2} ms CPU), {:.0} ns CPU per line",
        filled.as_secs_f64(),
        mtssh::app::pane::history_budget(Default::default(), panes).lines,
        search.matches.len(),
        search.panes_with_matches().len(),
        total.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        worst_cpu.as_secs_f64() * 1e3,
        cpu.as_nanos() as f64 / scanned.max(1) as f64,
    );
    Ok(())
}

/// This thread's CPU time, to the nanosecond: `getrusage` (`results::thread_cpu`) counts in
/// scheduler ticks of several milliseconds, too coarse for one slice.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
