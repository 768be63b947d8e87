//! Choosing hosts by group and excluding names.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("unknown group `{group}`; known groups: {}", known_list(.known))]
    UnknownGroup { group: String, known: Vec<String> },
    #[error("bad -x pattern: {0}")]
    Exclude(#[from] RangeError),
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "(none defined)".to_owned()
    } else {
        known.join(", ")
    }
}

/// Picks the hosts a command runs on.
///
/// `groups` (from `-g`, each item possibly comma-separated) keeps hosts in
/// any listed group; empty means every host. `exclude` (from `-x`) drops
/// hosts whose name or address matches, with ranges allowed
/// (`web[02-03]`); exclusions matching nothing are ignored, as in pdsh.
pub fn select<'a>(
    hosts: &'a [HostEntry],
    groups: &[String],
    exclude: &[String],
) -> Result<Vec<&'a HostEntry>, SelectError> {
    let known: BTreeSet<&str> = hosts
        .iter()
        .flat_map(|h| h.groups.iter().map(String::as_str))
        .collect();
    let mut wanted = BTreeSet::new();
    for group in groups.iter().flat_map(|g| g.split(',')).map(str::trim) {
        if group.is_empty() {
            continue;
        }
        if !known.contains(group) {
            return Err(SelectError::UnknownGroup {
                group: group.to_owned(),
                known: known.iter().map(|g| (*g).to_owned()).collect(),
            });
        }
        wanted.insert(group);
    }

    let mut excluded = BTreeSet::new();
    for item in exclude.iter().flat_map(|x| split_top_level(x)) {
        let item = item.trim();
        if !item.is_empty() {
            excluded.extend(expand(item)?);
        }
    }

    Ok(hosts
        .iter()
        .filter(|h| wanted.is_empty() || h.groups.iter().any(|g| wanted.contains(g.as_str())))
        .filter(|h| !excluded.contains(&h.name) && !excluded.contains(&h.host))
        .collect())
}
