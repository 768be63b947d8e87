//! Choosing hosts: `-a`, `-H`, `-g` and `-x` as node-set expressions (`super::super::nodeset`)
//! over the host list.
//!
//! With neither `-H` nor `-g` every host of the list is chosen; otherwise the union of what
//! they name (as clush's `-w` and `-g`), plus the whole list with `all` (`-a`). Then `-x`
//! takes hosts away, and an `-x` item that took none away is reported, not ignored.

use std::collections::HashMap;

use super::*;
use crate::config::hostspec::{HostSpecError, parse_host_list_arg};
use crate::config::nodeset::{self, Operand, Term};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("{}", crate::lang::trf("unknown group `{group}`; known groups: {known}", &[("group", group), ("known", &known_list(known))]))]
    UnknownGroup { group: String, known: Vec<String> },
    #[error("{flag} {expr}: {reason}")]
    Bad {
        flag: &'static str,
        expr: String,
        reason: String,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "(none defined)".to_owned()
    } else {
        known.join(", ")
    }
}

/// What the user asked for, as given (`-a`, `-H`, `-g`, `-x`; each item an expression).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<'a> {
    pub all: bool,
    pub hosts: &'a [String],
    pub groups: &'a [String],
    pub exclude: &'a [String],
}

impl<'a> Query<'a> {
    /// Every expression with the flag it came from.
    fn expressions(&self) -> impl Iterator<Item = (&'static str, &'a str)> {
        let tag =
            |flag: &'static str, list: &'a [String]| list.iter().map(move |e| (flag, e.as_str()));
        tag("-H", self.hosts)
            .chain(tag("-g", self.groups))
            .chain(tag("-x", self.exclude))
    }

    /// Every operand of every expression; an expression that does not parse is skipped (it
    /// is reported by [`select`]).
    pub fn operands(&self) -> Vec<Operand<'a>> {
        self.expressions()
            .filter_map(|(_, expr)| nodeset::parse(expr).ok())
            .flatten()
            .map(|t| t.operand)
            .collect()
    }

    /// Whether some expression names a group (the host list is then needed for it).
    pub fn uses_groups(&self) -> bool {
        !self.groups.is_empty()
            || self
                .operands()
                .iter()
                .any(|o| matches!(o, Operand::Group(_)))
    }

    /// Whether some expression reads standard input (`-`).
    pub fn reads_stdin(&self) -> bool {
        self.operands().contains(&Operand::Stdin)
    }

    /// The files named with `^FILE`, each once.
    pub fn files(&self) -> Vec<&'a str> {
        let mut files: Vec<&str> = Vec::new();
        for operand in self.operands() {
            if let Operand::File(path) = operand
                && !files.contains(&path)
            {
                files.push(path);
            }
        }
        files
    }
}

/// The text behind `^FILE` (by the path as written) and `-`, read before selecting.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub files: HashMap<String, String>,
    pub stdin: Option<String>,
}

/// The chosen hosts, and what the user should hear about the choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub hosts: Vec<HostEntry>,
    pub warnings: Vec<String>,
}

/// Picks the hosts a command runs on; see the module doc.
pub fn select(
    list: &[HostEntry],
    query: &Query<'_>,
    inputs: &Inputs,
) -> Result<Selection, SelectError> {
    let context = Context { list, inputs };
    let mut chosen: Vec<HostEntry> = Vec::new();
    let mut add = |hosts: Vec<HostEntry>| {
        for host in hosts {
            if !chosen.iter().any(|c| c.name == host.name) {
                chosen.push(host);
            }
        }
    };
    if query.all || (query.hosts.is_empty() && query.groups.is_empty()) {
        add(list.to_vec());
    }
    for expr in query.hosts {
        add(context.expression("-H", expr, false)?);
    }
    for expr in query.groups {
        add(context.expression("-g", expr, true)?);
    }
    let mut warnings = Vec::new();
    for expr in query.exclude {
        let terms = context.terms("-x", expr)?;
        // Each item of a union is checked on its own: `-x web1,typo` names the typo.
        for term in &terms {
            if term.op != nodeset::Op::Union {
                continue;
            }
            let members = context.operand("-x", expr, term.operand, false)?;
            if !chosen.iter().any(|c| members.iter().any(|m| same(c, m))) {
                warnings.push(format!(
                    "-x {}: matches none of the selected hosts",
                    term.operand
                ));
            }
        }
        let excluded = context.evaluate("-x", expr, &terms, false)?;
        chosen.retain(|c| !excluded.iter().any(|x| same(c, x)));
    }
    Ok(Selection {
        hosts: chosen,
        warnings,
    })
}

/// Whether `host` is the member `named` of an operand: by name, or by address for a name
/// written bare (as `-x 10.0.0.7` always matched a host's address).
fn same(host: &HostEntry, named: &HostEntry) -> bool {
    host.name == named.name || host.host == named.name
}

struct Context<'a> {
    list: &'a [HostEntry],
    inputs: &'a Inputs,
}

impl Context<'_> {
    fn bad(flag: &'static str, expr: &str, reason: impl ToString) -> SelectError {
        SelectError::Bad {
            flag,
            expr: expr.to_owned(),
            reason: reason.to_string(),
        }
    }

    fn terms<'e>(&self, flag: &'static str, expr: &'e str) -> Result<Vec<Term<'e>>, SelectError> {
        nodeset::parse(expr).map_err(|e| Self::bad(flag, expr, e))
    }

    /// `groups_only`: `-g`, whose plain words are group names (`-g web` is `-H @web`).
    fn expression(
        &self,
        flag: &'static str,
        expr: &str,
        groups_only: bool,
    ) -> Result<Vec<HostEntry>, SelectError> {
        let terms = self.terms(flag, expr)?;
        self.evaluate(flag, expr, &terms, groups_only)
    }

    fn evaluate(
        &self,
        flag: &'static str,
        expr: &str,
        terms: &[Term<'_>],
        groups_only: bool,
    ) -> Result<Vec<HostEntry>, SelectError> {
        nodeset::evaluate(
            terms,
            |operand| self.operand(flag, expr, operand, groups_only),
            |a, b| a.name == b.name,
        )
    }

    fn operand(
        &self,
        flag: &'static str,
        expr: &str,
        operand: Operand<'_>,
        groups_only: bool,
    ) -> Result<Vec<HostEntry>, SelectError> {
        match operand {
            Operand::Group(name) => self.group(name),
            Operand::Hosts(name) if groups_only => self.group(name),
            Operand::Hosts(spec) => self.hosts(spec).map_err(|e| Self::bad(flag, expr, e)),
            Operand::File(path) => {
                let text = self.inputs.files.get(path).ok_or_else(|| {
                    Self::bad(flag, expr, format!("the file `{path}` was not read"))
                })?;
                self.listed(flag, &format!("^{path}"), text)
            }
            Operand::Stdin => {
                let text = self
                    .inputs
                    .stdin
                    .as_deref()
                    .ok_or_else(|| Self::bad(flag, expr, "standard input was not read"))?;
                self.listed(flag, "- (standard input)", text)
            }
        }
    }

    fn group(&self, name: &str) -> Result<Vec<HostEntry>, SelectError> {
        let members: Vec<HostEntry> = self
            .list
            .iter()
            .filter(|h| h.groups.iter().any(|g| g == name))
            .cloned()
            .collect();
        if members.is_empty() {
            let known: BTreeSet<&str> = self
                .list
                .iter()
                .flat_map(|h| h.groups.iter().map(String::as_str))
                .collect();
            return Err(SelectError::UnknownGroup {
                group: name.to_owned(),
                known: known.into_iter().map(str::to_owned).collect(),
            });
        }
        Ok(members)
    }

    /// A `[user@]host[:port]` spec: a bare name of the list's stands for its entry (with its
    /// port, user and groups); anything else is a host of its own, as `-H` always made one.
    fn hosts(&self, spec: &str) -> Result<Vec<HostEntry>, HostSpecError> {
        Ok(parse_host_list_arg(spec)?
            .into_iter()
            .map(|spec| {
                let listed = (spec.user.is_none() && spec.port.is_none())
                    .then(|| self.list.iter().find(|h| h.name == spec.host))
                    .flatten();
                listed
                    .cloned()
                    .unwrap_or_else(|| HostEntry::from_spec(spec))
            })
            .collect())
    }

    /// The hosts of a `^FILE` or of standard input: words, each a node-set expression of
    /// host specs and groups (a file naming further files is not followed).
    fn listed(
        &self,
        flag: &'static str,
        source: &str,
        text: &str,
    ) -> Result<Vec<HostEntry>, SelectError> {
        // Errors name the list the word came from, not only the word.
        let in_source = |e: SelectError| match e {
            SelectError::Bad { expr, reason, .. } => {
                Self::bad(flag, source, format!("`{expr}`: {reason}"))
            }
            other => other,
        };
        let mut out: Vec<HostEntry> = Vec::new();
        for word in nodeset::words(text) {
            let terms = self.terms(flag, word).map_err(in_source)?;
            if terms
                .iter()
                .any(|t| matches!(t.operand, Operand::File(_) | Operand::Stdin))
            {
                return Err(Self::bad(
                    flag,
                    source,
                    format!("`{word}`: a host list does not name other lists; give host names"),
                ));
            }
            for host in self
                .evaluate(flag, word, &terms, false)
                .map_err(in_source)?
            {
                if !out.iter().any(|h| h.name == host.name) {
                    out.push(host);
                }
            }
        }
        Ok(out)
    }
}
