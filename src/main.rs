//! Thin binary: parse the command line, build the one-thread runtime, run a front end.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mtssh::cli::Cli::parse();
    mtssh::sys::raise_fd_limit();
    // Every session and the UI run on this one thread. The blocking pool (key decryption,
    // file IO, name lookups) is capped so the thread count stays honest.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mtssh: cannot start the event loop: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(mtssh::cli::dispatch(cli))
}
