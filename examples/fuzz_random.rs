//! The random fuzz harness (no libFuzzer, stable Rust): `cargo run --features fuzzing --example fuzz_random --
//! SECONDS [TARGET...]`. Mutates each target's corpus for SECONDS, prints executions and
//! crashes, saves crashing inputs under `fuzz/artifacts/<target>/`, and exits 1 on a crash.
//! `scripts/fuzz.sh` uses it when cargo-fuzz cannot run.

use std::process::ExitCode;
use std::time::Duration;

use mtssh::fuzzing;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut names: Vec<String> = args.collect();
    if names.is_empty() {
        names = fuzzing::TARGETS
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut failed = false;
    for name in &names {
        let Some(target) = fuzzing::target(name) else {
            eprintln!("unknown target {name}");
            return ExitCode::from(2);
        };
        let report =
            fuzzing::run_random(name, target, seed, Duration::from_secs(seconds), u64::MAX);
        println!(
            "{name}: {} executions in {seconds}s (seed {seed:#x}), {} crashes",
            report.executions,
            report.crashes.len()
        );
        for (i, (input, message)) in report.crashes.iter().enumerate() {
            failed = true;
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fuzz/artifacts")
                .join(name);
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("crash-{seed:x}-{i}"));
            let _ = std::fs::write(&path, input);
            println!("  crash: {message}\n  input saved to {}", path.display());
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
