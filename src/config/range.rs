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
    #[error("empty host pattern")]
    Empty,
    #[error("unbalanced brackets in `{pattern}`")]
    Unbalanced { pattern: String },
    #[error("empty range element in `{pattern}`")]
    EmptyElement { pattern: String },
    #[error("reversed range `{start}-{end}` in `{pattern}`")]
    Reversed {
        pattern: String,
        start: String,
        end: String,
    },
    #[error("`{element}` in `{pattern}` is not a number or `start-end[/step]` range")]
    NotNumeric { pattern: String, element: String },
    #[error(
        "bad step in `{element}` of `{pattern}`: give `start-end/step` with a step of 1 or more"
    )]
    BadStep { pattern: String, element: String },
    #[error("`{pattern}` expands to more than {limit} names")]
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
mod tests {
    use super::*;

    #[test]
    fn fold_handles_a_multi_byte_character_before_the_number() {
        // Found by fuzzing: the number's start was taken one byte past the character.
        assert_eq!(fold(&["wüb0", "wüb1", "中3"]), ["wüb[0-1]", "中3"]);
    }

    fn ex(p: &str) -> Vec<String> {
        expand(p).unwrap()
    }

    #[test]
    fn expands_padded_range() {
        let v = ex("web[01-20]");
        assert_eq!(v.len(), 20);
        assert_eq!(v[0], "web01");
        assert_eq!(v[19], "web20");
    }

    #[test]
    fn expands_lists_and_products() {
        assert_eq!(ex("db[1-3,7]"), ["db1", "db2", "db3", "db7"]);
        assert_eq!(ex("r[1-2]n[1-2]"), ["r1n1", "r1n2", "r2n1", "r2n2"]);
        assert_eq!(ex("plain.example.com"), ["plain.example.com"]);
        assert_eq!(ex("[1-2].x"), ["1.x", "2.x"]);
        assert_eq!(ex("10.0.0.[1-3]"), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    }

    #[test]
    fn steps() {
        assert_eq!(ex("web[1-10/2]"), ["web1", "web3", "web5", "web7", "web9"]);
        assert_eq!(ex("n[000-012/4]"), ["n000", "n004", "n008", "n012"]);
        assert_eq!(ex("n[1-3/5]"), ["n1"]);
        assert_eq!(ex("n[0-6/2,9]"), ["n0", "n2", "n4", "n6", "n9"]);
        assert_eq!(ex("n[1-2/1]"), ["n1", "n2"]);
        assert_eq!(
            ex("x[0-18446744073709551615/18446744073709551615]").len(),
            2
        );
        assert_eq!(ex("x[1-200000/2]").len(), 100_000);
        assert!(matches!(
            expand("x[0-200000/2]"),
            Err(RangeError::TooLarge { .. })
        ));
    }

    #[test]
    fn padding_rules() {
        assert_eq!(ex("n[8-10]"), ["n8", "n9", "n10"]);
        assert_eq!(ex("n[08-10]"), ["n08", "n09", "n10"]);
        assert_eq!(ex("n[001-2]"), ["n001", "n002"]);
        assert_eq!(ex("n[0-1]"), ["n0", "n1"]);
        assert_eq!(ex("n[007]"), ["n007"]);
    }

    #[test]
    fn errors() {
        let cases = [
            "",
            "web[1-3",
            "web1-3]",
            "web[[1-3]]",
            "web[]",
            "web[1,,2]",
            "web[5-1]",
            "web[a-c]",
            "web[1-]",
            "web[-1]",
            "web[1-2-3]",
            "web[ 1]",
            "x[0-999999999]",
            "x[0-99999999999999999999999]",
            "x[0-999]y[0-999]",
            "x[0-18446744073709551615]",
            "web[1-10/0]",
            "web[1-10/]",
            "web[1-10/x]",
            "web[5/2]",
            "web[1-4/2/2]",
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|c| format!("{c:?} => {}", expand(c).unwrap_err()))
            .collect();
        insta::assert_snapshot!(out.join("\n"));
    }

    #[test]
    fn cap_is_exact() {
        assert_eq!(ex("x[1-100000]").len(), 100_000);
        assert!(matches!(
            expand("x[0-100000]"),
            Err(RangeError::TooLarge { .. })
        ));
    }

    #[test]
    fn folds() {
        let names = ["web01", "web02", "web03", "web07", "db1"];
        assert_eq!(fold(&names), ["db1", "web[01-03,07]"]);
        assert_eq!(fold_to_string(&names), "db1,web[01-03,07]");
        assert_eq!(fold(&["web09", "web10", "web11"]), ["web[09-11]"]);
        assert_eq!(fold(&["web1", "web01"]), ["web1", "web01"]);
        assert_eq!(fold(&["web1", "web10", "web2"]), ["web[1-2,10]"]);
        assert_eq!(fold(&["a", "a", "b"]), ["a", "b"]);
        assert_eq!(fold(&["r1n1", "r1n2", "r2n1"]), ["r1n[1-2]", "r2n1"]);
        assert_eq!(fold(&["n1.x", "n2.x", "n3.y"]), ["n[1-2].x", "n3.y"]);
        assert_eq!(fold::<&str>(&[]), Vec::<String>::new());
        assert_eq!(fold(&["web08", "web9", "web100"]), ["web08", "web[9,100]"]);
        let max = ["n18446744073709551614", "n18446744073709551615"];
        assert_eq!(fold(&max), ["n[18446744073709551614-18446744073709551615]"]);
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["web10", "web2", "db1", "web02", "web1"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["db1", "web1", "web2", "web02", "web10"]);
    }

    /// Small deterministic generator; a dependency would be overkill here.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn fold_expand_round_trip() {
        let prefixes = ["web", "db", "r1n", "", "a-", "x.y"];
        let suffixes = ["", ".example.com", "-mgmt", "b"];
        let mut rng = Lcg(0x5eed);
        for _ in 0..2000 {
            let count = rng.below(30) as usize;
            let mut names = Vec::with_capacity(count);
            for _ in 0..count {
                let prefix = prefixes[rng.below(prefixes.len() as u64) as usize];
                let suffix = suffixes[rng.below(suffixes.len() as u64) as usize];
                let name = match rng.below(5) {
                    0 => format!("{prefix}{suffix}"),
                    1 => format!("{prefix}{:03}{suffix}", rng.below(1200)),
                    2 => format!("{prefix}{:02}{suffix}", rng.below(120)),
                    _ => format!("{prefix}{}{suffix}", rng.below(130)),
                };
                if !name.is_empty() {
                    names.push(name);
                }
            }
            let folded = fold(&names);
            let mut back: Vec<String> = folded
                .iter()
                .flat_map(|p| expand(p).unwrap_or_else(|e| panic!("{p}: {e}")))
                .collect();
            let mut want = names.clone();
            want.sort_by(|a, b| natural_cmp(a, b));
            want.dedup();
            let produced = back.len();
            back.sort_by(|a, b| natural_cmp(a, b));
            back.dedup();
            assert_eq!(produced, back.len(), "duplicates from {folded:?}");
            assert_eq!(back, want, "folded {names:?} into {folded:?}");
        }
    }
}

#[cfg(test)]
mod proptests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn expand_all(items: &[String]) -> BTreeSet<String> {
        items
            .iter()
            .flat_map(|item| expand(item).unwrap_or_else(|e| panic!("`{item}`: {e}")))
            .collect()
    }

    /// Host-like names: a prefix, an optional number (maybe zero-padded), a suffix.
    fn name() -> impl Strategy<Value = String> {
        (
            "[a-zé中]{0,3}[-.]?",
            prop::option::of((0u64..200, 0usize..4)),
            "([-.][a-z]{1,3})?",
        )
            .prop_map(|(prefix, number, suffix)| match number {
                Some((n, width)) => format!("{prefix}{n:0width$}{suffix}"),
                None => format!("{prefix}{suffix}"),
            })
            .prop_filter("a name", |n| !n.is_empty())
    }

    /// Patterns with one or two bracket groups of ranges and single numbers.
    fn pattern() -> impl Strategy<Value = String> {
        let element =
            (0u64..60, 0u64..8, 0usize..4, 1u64..4).prop_map(|(start, len, width, step)| {
                match (len, step) {
                    (0, _) => format!("{start:0width$}"),
                    (_, 1) => format!("{start:0width$}-{:0width$}", start + len),
                    _ => format!("{start:0width$}-{:0width$}/{step}", start + len),
                }
            });
        let group = prop::collection::vec(element, 1..4).prop_map(|e| format!("[{}]", e.join(",")));
        (
            "[a-z]{1,3}",
            group.clone(),
            "(-[a-z]{1,2})?",
            prop::option::of(group),
        )
            .prop_map(|(prefix, g1, mid, g2)| {
                format!("{prefix}{g1}{mid}{}", g2.unwrap_or_default())
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn folding_names_expands_back_to_the_same_set(names in prop::collection::vec(name(), 0..40)) {
            let folded = fold(&names);
            let want: BTreeSet<String> = names.iter().cloned().collect();
            prop_assert_eq!(expand_all(&folded), want);
            // Never more items than names; the order of the input does not matter.
            prop_assert!(folded.len() <= names.len());
            let mut reversed = names.clone();
            reversed.reverse();
            prop_assert_eq!(fold(&reversed), folded);
        }

        #[test]
        fn expanding_then_folding_round_trips(p in pattern()) {
            let names = expand(&p).unwrap();
            let set: BTreeSet<String> = names.iter().cloned().collect();
            let folded = fold(&names);
            prop_assert_eq!(expand_all(&folded), set.clone());
            prop_assert_eq!(fold(&folded.iter().flat_map(|f| expand(f).unwrap()).collect::<Vec<_>>()), folded);
        }

        #[test]
        fn expand_never_panics(s in "[a-z0-9\\[\\],/-]{0,24}|\\PC{0,24}") {
            if let Ok(names) = expand(&s) {
                prop_assert!(!names.is_empty() && names.len() as u64 <= MAX_EXPANSION);
            }
        }
    }
}
