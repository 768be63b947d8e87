//! Thin binary: parse the command line, build the one-thread runtime, run a front end, turn
//! its result into the exit code.

use std::process::ExitCode;

use clap::Parser;
use mtssh::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    mtssh::lang::set(cli.language());
    // Text generated from the command line's own definition: no event loop needed.
    match &cli.command {
        Some(Command::Completions { shell }) => {
            mtssh::manual::write_completions(*shell, &mut std::io::stdout().lock());
            return ExitCode::SUCCESS;
        }
        Some(Command::ShellIntegration { shell }) => {
            let shell = shell.parse().unwrap_or_default();
            if let Some(snippet) = mtssh::ssh::shell_integration::snippet(shell) {
                println!("{snippet}");
            }
            return ExitCode::SUCCESS;
        }
        Some(Command::Man { page }) => {
            return match mtssh::manual::write_man(page.as_deref(), &mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("mtssh: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        _ => {}
    }
    mtssh::sys::raise_fd_limit();
    // Every session and the UI run on this one thread. The blocking pool (key decryption,
    // file IO, name lookups) is capped so the thread count stays honest.
    // Its park/unpark hooks mark the wake-ups `--trace-events` and the F12 view show.
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all().max_blocking_threads(8);
    let runtime = match mtssh::sys::wakeups::install(&mut builder).build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mtssh: cannot start the event loop: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Mock(args)) => mtssh::serve::run(args.into()).await,
            Some(Command::Run(args)) => mtssh::batch::run((*args).into()).await,
            Some(Command::Push(args)) => {
                mtssh::batch::run_transfer(args.options(mtssh::batch::Way::Push)).await
            }
            Some(Command::Pull(args)) => {
                mtssh::batch::run_transfer(args.options(mtssh::batch::Way::Pull)).await
            }
            Some(Command::Bench(args)) => mtssh::bench::run((*args).into()).await,
            Some(Command::Resolve(args)) => mtssh::front::print_resolution((*args).into()).await,
            Some(
                Command::Completions { .. }
                | Command::Man { .. }
                | Command::ShellIntegration { .. },
            ) => Ok(ExitCode::SUCCESS),
            None => {
                let tui = cli.tui_options();
                mtssh::front::run_tui(cli.hosts.into(), tui).await
            }
        }
    });
    match result {
        Ok(code) => code,
        // A front end that could not start (bad host list, bad option): nothing ran.
        // The message can name hosts from a host list: neutralised on a terminal.
        Err(e) => {
            use std::io::{IsTerminal, Write};
            let text = format!("mtssh: {e:#}");
            let mut stderr = std::io::stderr().lock();
            let _ = if stderr.is_terminal() {
                writeln!(stderr, "{}", mtssh::text::neutralize(text.as_bytes()))
            } else {
                writeln!(stderr, "{text}")
            };
            ExitCode::from(2)
        }
    }
}
