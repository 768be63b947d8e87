//! Host ranges in the bracket notation that pdsh and clush users already know.
//!
//! `web[01-03]` expands to `web01 web02 web03`, `web[1-9/2]` to every second one; [`fold`]
//! is the inverse that reports use to print long host lists compactly.
//!
//! Why our own code and not the `nodeset` crate (0.6.0, MIT/Apache-2.0, a port of
//! ClusterShell's NodeSet, checked Dec 2026): its sets are folded name sets, so the
//! `user@` and `:port` parts of a `-H` spec have no place in them (`@` starts a group and
//! `:` a group source in its grammar), IPv6 literals are not host names to it, and the
//! order the user wrote hosts in is lost; it reads ClusterShell's group configuration files
//! and brings clap, nom, serde_yaml, rust-ini and a CLI binary with it. Our ranges keep
//! duplicates and order, our padding rule (a leading zero on the start), and the
//! `[user@]host[:port]` specs; the set algebra over them is small (`super::nodeset`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Upper bound on the number of names one pattern may expand to.
///
/// A typo such as `x[0-999999999]` would otherwise allocate gigabytes before
/// anything could complain; no real fleet is this large.
pub const MAX_EXPANSION: u64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("{}", crate::lang::tr("empty host pattern"))]
    Empty,
    #[error("{}", crate::lang::trf("unbalanced brackets in `{pattern}`", &[("pattern", pattern)]))]
    Unbalanced { pattern: String },
    #[error("{}", crate::lang::trf("empty range element in `{pattern}`", &[("pattern", pattern)]))]
    EmptyElement { pattern: String },
    #[error("{}", crate::lang::trf("reversed range `{start}-{end}` in `{pattern}`", &[("start", start), ("end", end), ("pattern", pattern)]))]
    Reversed {
        pattern: String,
        start: String,
        end: String,
    },
    #[error("{}", crate::lang::trf("`{element}` in `{pattern}` is not a number or `start-end[/step]` range", &[("element", element), ("pattern", pattern)]))]
    NotNumeric { pattern: String, element: String },
    #[error("{}", crate::lang::trf(
        "bad step in `{element}` of `{pattern}`: give `start-end/step` with a step of 1 or more",
        &[("element", element), ("pattern", pattern)],
    ))]
    BadStep { pattern: String, element: String },
    #[error("{}", crate::lang::trf("`{pattern}` expands to more than {limit} names", &[("pattern", pattern), ("limit", limit)]))]
    TooLarge { pattern: String, limit: u64 },
}

/// One comma-separated element inside brackets, already validated.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    end: u64,
    /// `a-b/step`: every step-th number from `a`, as ClusterShell writes it; 1 otherwise.
    step: u64,
    width: usize,
}

impl Span {
    /// `None` only for the full `0-18446744073709551615` range.
    fn count(self) -> Option<u64> {
        ((self.end - self.start) / self.step).checked_add(1)
    }

    fn numbers(self) -> impl Iterator<Item = u64> {
        // `step_by` takes a usize; a step past it reaches only the start anyway.
        let step = usize::try_from(self.step).unwrap_or(usize::MAX);
        (self.start..=self.end).step_by(step)
    }
}

enum Piece<'a> {
    Text(&'a str),
    Group(Vec<Span>),
}

/// Expands every bracket group in `pattern`; several groups multiply, with
/// the leftmost group varying slowest. Order follows the pattern as written
/// and duplicates (`[1-3,2]`) are kept, so callers decide how to treat them.
pub fn expand(pattern: &str) -> Result<Vec<String>, RangeError> {
    if pattern.is_empty() {
        return Err(RangeError::Empty);
    }
    let pieces = parse(pattern)?;

    let mut total: u64 = 1;
    for piece in &pieces {
        if let Piece::Group(spans) = piece {
            let count = spans
                .iter()
                .try_fold(0u64, |acc, s| acc.checked_add(s.count()?));
            total = count
                .and_then(|c| total.checked_mul(c))
                .filter(|t| *t <= MAX_EXPANSION)
                .ok_or_else(|| RangeError::TooLarge {
                    pattern: pattern.to_owned(),
                    limit: MAX_EXPANSION,
                })?;
        }
    }

    let mut out = vec![String::new()];
    for piece in &pieces {
        match piece {
            Piece::Text(text) => out.iter_mut().for_each(|s| s.push_str(text)),
            Piece::Group(spans) => {
                let mut next = Vec::with_capacity(out.len().saturating_mul(spans.len()));
                for prefix in &out {
                    for span in spans {
                        for n in span.numbers() {
                            next.push(format!("{prefix}{n:0width$}", width = span.width));
                        }
                    }
                }
                out = next;
            }
        }
    }
    Ok(out)
}

fn parse(pattern: &str) -> Result<Vec<Piece<'_>>, RangeError> {
    let unbalanced = || RangeError::Unbalanced {
        pattern: pattern.to_owned(),
    };
    let mut pieces = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let open = rest.find(['[', ']']);
        match open {
            None => {
                pieces.push(Piece::Text(rest));
                break;
            }
            Some(i) if rest[i..].starts_with(']') => return Err(unbalanced()),
            Some(i) => {
                if i > 0 {
                    pieces.push(Piece::Text(&rest[..i]));
                }
                let after = &rest[i + 1..];
                let close = after.find(['[', ']']).ok_or_else(unbalanced)?;
                if after[close..].starts_with('[') {
                    return Err(unbalanced());
                }
                pieces.push(Piece::Group(parse_group(pattern, &after[..close])?));
                rest = &after[close + 1..];
            }
        }
    }
    Ok(pieces)
}

fn parse_group(pattern: &str, body: &str) -> Result<Vec<Span>, RangeError> {
    body.split(',')
        .map(|element| parse_element(pattern, element))
        .collect()
}

fn parse_element(pattern: &str, element: &str) -> Result<Span, RangeError> {
    if element.is_empty() {
        return Err(RangeError::EmptyElement {
            pattern: pattern.to_owned(),
        });
    }
    let not_numeric = || RangeError::NotNumeric {
        pattern: pattern.to_owned(),
        element: element.to_owned(),
    };
    let number = |s: &str| -> Result<u64, RangeError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_numeric());
        }
        s.parse().map_err(|_| not_numeric())
    };
    let (range, step) = match element.split_once('/') {
        Some((range, step)) if range.contains('-') => {
            let bad_step = || RangeError::BadStep {
                pattern: pattern.to_owned(),
                element: element.to_owned(),
            };
            let step = number(step).map_err(|_| bad_step())?;
            (range, Some(step).filter(|s| *s > 0).ok_or_else(bad_step)?)
        }
        Some(_) => {
            return Err(RangeError::BadStep {
                pattern: pattern.to_owned(),
                element: element.to_owned(),
            });
        }
        None => (element, 1),
    };
    let (lo, hi) = range.split_once('-').unwrap_or((range, range));
    let (start, end) = (number(lo)?, number(hi)?);
    if start > end {
        return Err(RangeError::Reversed {
            pattern: pattern.to_owned(),
            start: lo.to_owned(),
            end: hi.to_owned(),
        });
    }
    // Padding is opt-in through a leading zero on the start, so `[1-10]`
    // stays unpadded while `[01-10]` and `[001-5]` pad to the wider bound.
    let width = if is_padded(lo) {
        lo.len().max(hi.len())
    } else {
        0
    };
    Ok(Span {
        start,
        end,
        step,
        width,
    })
}

fn is_padded(digits: &str) -> bool {
    digits.len() > 1 && digits.starts_with('0')
}

/// Compresses host names into bracket patterns, e.g. `web01,web02,web07`
/// into `web[01-02,07]`.
///
/// Names group by the text around their last number. A number written with
/// leading zeros only joins names of the same width (an unpadded number of
/// exactly that width, like `10` next to `09`, joins too, since padding
/// cannot change it). Duplicates collapse, single names stay plain, and the
/// result is in natural order. `expand` of every returned item yields the
/// input set back.
pub fn fold<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    // Key: (prefix, suffix); value: numbers per padded width (0 = unpadded).
    type Widths = BTreeMap<usize, Vec<(u64, usize)>>;
    let mut groups: BTreeMap<(&str, &str), Widths> = BTreeMap::new();
    let mut plain: Vec<&str> = Vec::new();

    for name in names {
        let name = name.as_ref();
        match split_last_number(name) {
            Some((prefix, digits, suffix)) => match digits.parse::<u64>() {
                Ok(n) => {
                    let width = if is_padded(digits) { digits.len() } else { 0 };
                    groups
                        .entry((prefix, suffix))
                        .or_default()
                        .entry(width)
                        .or_default()
                        .push((n, digits.len()));
                }
                // Absurdly long digit runs cannot be ranged; keep them as is.
                Err(_) => plain.push(name),
            },
            None => plain.push(name),
        }
    }

    // Each item is (first name it stands for, text) so groups sort among plain
    // names by where their members would sort, not by the bracket syntax.
    let mut out: Vec<(String, String)> = plain
        .into_iter()
        .map(|n| (n.to_owned(), n.to_owned()))
        .collect();
    for ((prefix, suffix), mut widths) in groups {
        // Move unpadded numbers whose natural width equals an existing padded
        // width into that group, so web09 and web10 fold as web[09-10].
        if let Some(unpadded) = widths.remove(&0) {
            let mut rest = Vec::new();
            for (n, len) in unpadded {
                match widths.get_mut(&len) {
                    Some(group) => group.push((n, len)),
                    None => rest.push((n, len)),
                }
            }
            if !rest.is_empty() {
                widths.insert(0, rest);
            }
        }
        for (width, numbers) in widths {
            let mut values: Vec<u64> = numbers.into_iter().map(|(n, _)| n).collect();
            values.sort_unstable();
            values.dedup();
            let first = values.first().map_or(0, |n| *n);
            out.push((
                format!("{prefix}{first:0width$}{suffix}"),
                render_group(prefix, suffix, width, &values),
            ));
        }
    }
    out.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    out.dedup();
    out.into_iter().map(|(_, text)| text).collect()
}

/// [`fold`] joined with `,`, the form shown in summaries.
pub fn fold_to_string<S: AsRef<str>>(names: &[S]) -> String {
    fold(names).join(",")
}

fn render_group(prefix: &str, suffix: &str, width: usize, values: &[u64]) -> String {
    let fmt = |n: u64| format!("{n:0width$}");
    if let [only] = values {
        return format!("{prefix}{}{suffix}", fmt(*only));
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let start = values[i];
        let mut end = start;
        while i + 1 < values.len() && end.checked_add(1) == Some(values[i + 1]) {
            end = values[i + 1];
            i += 1;
        }
        if start == end {
            parts.push(fmt(start));
        } else {
            parts.push(format!("{}-{}", fmt(start), fmt(end)));
        }
        i += 1;
    }
    format!("{prefix}[{}]{suffix}", parts.join(","))
}

fn split_last_number(name: &str) -> Option<(&str, &str, &str)> {
    let end = name.rfind(|c: char| c.is_ascii_digit())? + 1;
    // Past the last non-digit, which may be a multi-byte character (`wüb0`).
    let start = name[..end]
        .char_indices()
        .rfind(|(_, c)| !c.is_ascii_digit())
        .map_or(0, |(i, c)| i + c.len_utf8());
    Some((&name[..start], &name[start..end], &name[end..]))
}

/// Orders `web2` before `web10`; digit runs compare by value, then by length
/// so that `01` and `1` still have a stable, total order.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (ca, ra) = take_chunk(a);
        let (cb, rb) = take_chunk(b);
        let a_digits = ca.starts_with(|c: char| c.is_ascii_digit());
        let b_digits = cb.starts_with(|c: char| c.is_ascii_digit());
        let ord = if a_digits && b_digits {
            let ta = ca.trim_start_matches('0');
            let tb = cb.trim_start_matches('0');
            ta.len()
                .cmp(&tb.len())
                .then_with(|| ta.cmp(tb))
                .then_with(|| ca.len().cmp(&cb.len()))
        } else {
            ca.cmp(cb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        a = ra;
        b = rb;
    }
}

fn take_chunk(s: &str) -> (&str, &str) {
    let digits = s.starts_with(|c: char| c.is_ascii_digit());
    let end = s
        .find(|c: char| c.is_ascii_digit() != digits)
        .unwrap_or(s.len());
    s.split_at(end)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
