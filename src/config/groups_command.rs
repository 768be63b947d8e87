//! `groups_command` in `[defaults]`: groups from outside the host list, like ClusterShell's
//! group upcalls or ClusterSSH's `external_cluster_command`.
//!
//! The command (run once per invocation by `sh -c`, with a time limit) prints lines of
//! `group: host host...`; hosts may be ranges and `[user@]host[:port]` specs. A name of the
//! host list gains the group; any other becomes a host of its own, as a `-H` spec would.

use std::time::Duration;

use anyhow::{Result, bail};

use super::{HostEntry, parse_host_list_arg};

/// How long the command may take: a group lookup that hangs must not hang the run.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The most output read from it: a host list, not a log.
const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// Runs `command` and adds the groups it prints to `hosts`.
pub async fn apply(command: &str, hosts: &mut Vec<HostEntry>) -> Result<()> {
    let output = run(command).await?;
    merge(command, &output, hosts)
}

async fn run(command: &str) -> Result<String> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) => bail!("groups_command `{command}`: cannot start sh: {e}"),
    };
    let output = match tokio::time::timeout(TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => bail!("groups_command `{command}`: {e}"),
        Err(_) => bail!(
            "groups_command `{command}` did not finish within {} s; fix it or remove it from [defaults]",
            TIMEOUT.as_secs()
        ),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said = stderr.trim();
        let status = match output.status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "was killed by a signal".to_string(),
        };
        bail!(
            "groups_command `{command}` {status}{}",
            if said.is_empty() {
                String::new()
            } else {
                format!(": {said}")
            }
        );
    }
    if output.stdout.len() > MAX_OUTPUT {
        bail!("groups_command `{command}` printed more than {MAX_OUTPUT} bytes");
    }
    String::from_utf8(output.stdout)
        .map_err(|_| anyhow::anyhow!("groups_command `{command}` printed text that is not UTF-8"))
}

/// Adds the groups of `output` (the command's lines) to `hosts`.
pub fn merge(command: &str, output: &str, hosts: &mut Vec<HostEntry>) -> Result<()> {
    for (index, line) in output.lines().enumerate() {
        let content = line
            .split_once('#')
            .map_or(line, |(before, _)| before)
            .trim();
        if content.is_empty() {
            continue;
        }
        let bad = |why: String| {
            anyhow::anyhow!(
                "groups_command `{command}`, line {}: {why} (each line is `group: host host...`)",
                index + 1
            )
        };
        let Some((group, members)) = content.split_once(':') else {
            return Err(bad(format!("`{content}` has no `:`")));
        };
        let group = group.trim();
        if group.is_empty() || group.contains(char::is_whitespace) || group.starts_with('@') {
            return Err(bad(format!("`{group}` is not a group name")));
        }
        for word in members.split_whitespace() {
            let specs = parse_host_list_arg(word).map_err(|e| bad(e.to_string()))?;
            for spec in specs {
                add_to_group(hosts, group, spec);
            }
        }
    }
    Ok(())
}

fn add_to_group(hosts: &mut Vec<HostEntry>, group: &str, spec: super::HostSpec) {
    let bare = spec.user.is_none() && spec.port.is_none();
    let name = spec.to_string();
    let found = hosts
        .iter_mut()
        .find(|h| h.name == name || (bare && h.name == spec.host));
    let entry = match found {
        Some(entry) => entry,
        None => {
            hosts.push(HostEntry::from_spec(spec));
            let last = hosts.len() - 1;
            &mut hosts[last]
        }
    };
    if !entry.groups.iter().any(|g| g == group) {
        entry.groups.push(group.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(names: &[&str]) -> Vec<HostEntry> {
        names
            .iter()
            .map(|n| HostEntry {
                groups: vec!["listed".into()],
                ..HostEntry::from_spec(crate::config::parse_host_spec(n).unwrap())
            })
            .collect()
    }

    fn shown(hosts: &[HostEntry]) -> Vec<String> {
        hosts
            .iter()
            .map(|h| format!("{} {}", h.name, h.groups.join(",")))
            .collect()
    }

    #[test]
    fn lines_add_groups_and_hosts() {
        let mut hosts = listed(&["web1", "db"]);
        let out = "# from the CMDB\nweb: web[1-3]\n\ndb: db  root@db2:2222\nweb: web1\n";
        merge("cmdb", out, &mut hosts).unwrap();
        assert_eq!(
            shown(&hosts),
            [
                "web1 listed,web",
                "db listed,db",
                "web2 web",
                "web3 web",
                "root@db2:2222 db"
            ]
        );
    }

    #[test]
    fn bad_lines_name_the_command_and_line() {
        let table = [
            ("web web1", "line 1: `web web1` has no `:`"),
            ("ok: a\n: b", "line 2: `` is not a group name"),
            ("a b: x", "line 1: `a b` is not a group name"),
            ("g: web[1-", "line 1: unbalanced brackets in `web[1-`"),
            ("g: a:0", "line 1: invalid port `0` in `a:0`"),
        ];
        for (output, want) in table {
            let e = merge("lookup", output, &mut Vec::new())
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("groups_command `lookup`, ") && e.contains(want),
                "{output:?}: {e}"
            );
        }
    }

    #[tokio::test]
    async fn runs_a_real_command_and_reports_its_failure() {
        let mut hosts = Vec::new();
        apply("printf 'web: w[1-2]\\n'", &mut hosts).await.unwrap();
        assert_eq!(shown(&hosts), ["w1 web", "w2 web"]);
        let e = apply("echo no such table >&2; exit 3", &mut hosts)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "groups_command `echo no such table >&2; exit 3` exited with status 3: no such table"
        );
    }
}
