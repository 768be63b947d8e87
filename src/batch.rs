//! `mtssh run`.
pub async fn run(_args: crate::cli::RunArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("not yet")
}
