//! What a shell and `man` need, generated from the one clap definition so it never drifts from
//! `--help`: completion scripts (`mtssh completions bash|zsh|fish|elvish|powershell`) and
//! manual pages in roff (`mtssh man [SUBCOMMAND]`; the repository keeps them in `docs/man/`).

use std::io::Write;

use anyhow::{Result, bail};
use clap::CommandFactory;

use crate::cli::Cli;

/// The completion script for `shell`.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "mtssh", out);
}

/// The manual page of mtssh (`page` None) or of one subcommand (`run` → mtssh-run(1)).
pub fn write_man(page: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let mut command = Cli::command();
    command.build();
    let command = match page {
        None => command,
        Some(name) => match command.find_subcommand(name) {
            Some(sub) => sub.clone().name(format!("mtssh-{name}")),
            None => bail!(
                "no manual page `{name}`: pages are {}",
                page_names().join(", ")
            ),
        },
    };
    clap_mangen::Man::new(command).render(out)?;
    Ok(())
}

/// The subcommands with pages of their own, as `mtssh man NAME` takes them.
pub fn page_names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|name| name != "help")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn man(page: Option<&str>) -> String {
        let mut out = Vec::new();
        write_man(page, &mut out).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(out).unwrap_or_default()
    }

    /// The pages in docs/man are what `mtssh man` prints: regenerate them with
    /// `for p in "" run push pull mock bench completions shell-integration man; do …` (see docs/man/README.md).
    #[test]
    fn the_manual_pages_in_docs_are_up_to_date() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/man");
        let mut pages = vec![(None, "mtssh.1".to_string())];
        pages.extend(
            page_names()
                .into_iter()
                .map(|name| (Some(name.clone()), format!("mtssh-{name}.1"))),
        );
        for (page, file) in pages {
            let kept = std::fs::read_to_string(format!("{dir}/{file}")).unwrap_or_default();
            assert!(
                kept == man(page.as_deref()),
                "docs/man/{file} is not what `mtssh man {}` prints: run scripts/gen-man.sh",
                page.as_deref().unwrap_or("")
            );
        }
    }

    #[test]
    fn pages_name_their_options_and_an_unknown_page_is_refused() {
        let run = man(Some("run"));
        assert!(run.contains("mtssh\\-run"), "{run}");
        assert!(run.contains("\\-\\-inline"), "{run}");
        let mut out = Vec::new();
        let refused = write_man(Some("nope"), &mut out).map_err(|e| e.to_string());
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("pages are run, ") && e.contains("mock")),
            "{refused:?}"
        );
    }

    #[test]
    fn completions_know_the_subcommands_and_flags() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut out = Vec::new();
            write_completions(shell, &mut out);
            let script = String::from_utf8(out).unwrap_or_default();
            for word in ["run", "mock", "bench", "inline", "hosts"] {
                assert!(script.contains(word), "{shell}: {word} missing");
            }
        }
    }
}
