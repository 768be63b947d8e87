//! TUI wiring.
pub async fn run_tui(_hosts: crate::cli::HostArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("not yet")
}
